#include "face_enhancer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

#include <unistd.h>

#include <opencv2/imgproc.hpp>

namespace facesr {
namespace {

// Temporal smoothing's motion compensation (FaceEnhancer::smooth): the previous result is blended
// only when the two crops correlate at least this well (phase correlation peak, 0..1) and moved by at
// most this many crop pixels.
constexpr double kMinCorrelation = 0.2;
constexpr double kMaxShift = 4.0;
// ... and per pixel with the weight temporal-smoothing x exp(-(d / kSmoothingAgreement)^2), d the
// luma difference of the two results in 8-bit levels, Gaussian-blurred (sigma kSmoothingAgreementBlur
// result pixels, half a crop pixel): full where they agree, ~1/3 at 12 levels, ~0 beyond 25.
// bench-flicker (tests/bench/flicker.sh), 20 px faces, flicker vs the input's / distance to the
// clean clip, at output-scale 1 and 2: one weight of 0.2 for every pixel: 1.015 / 3.40 at 1; gated
// per pixel without the blur, 0.5: 0.985 / 3.35 at 1, 1.084 / 4.56 at 2; blurred by 4: 0.969 / 3.36,
// 1.044 / 4.49; by 8: 0.959 / 3.46 (farther from the clean clip than no smoothing, 3.42), 1.024 / 4.43.
constexpr double kSmoothingAgreement = 12.0;
constexpr double kSmoothingAgreementBlur = 4.0;

// Scene cuts: the frame's luma, shrunk to kCutThumbnail, differs from the previous frame's by more
// than kSceneCutLevels (8-bit levels, mean absolute difference): the tracks and the smoothed results
// are dropped and the detector looks at once, so no face is carried over a cut onto another scene.
const cv::Size kCutThumbnail(64, 36);
constexpr double kSceneCutLevels = 30.0;

CropRegion scaled(const CropRegion& r, int scale) { return {r.x * scale, r.y * scale, r.side * scale}; }
FaceBox scaled(const FaceBox& b, int scale) { return {b.x * scale, b.y * scale, b.width * scale, b.height * scale}; }
cv::Rect to_rect(const FaceBox& b) {
  return {cvRound(b.x), cvRound(b.y), std::max(1, cvRound(b.width)), std::max(1, cvRound(b.height))};
}

// The side x side RGB crop of `region`: only the part of the region inside the frame is converted to
// RGB, and extract_crop replicates its edges where the region leaves the frame.
cv::Mat crop_face(const FramePlanes& source, const CropRegion& region, int side) {
  const ClippedRegion clip = clip_region(region, source.size());
  if (clip.in_frame.empty()) {
    const cv::Rect nearest(std::clamp(region.x + region.side / 2, 0, source.width - 1),
                           std::clamp(region.y + region.side / 2, 0, source.height - 1), 1, 1);
    return extract_crop(read_rgb(source, nearest), {0, 0, 1}, side);
  }
  const cv::Mat inside = read_rgb(source, clip.in_frame);
  const CropRegion relative{region.x - clip.in_frame.x, region.y - clip.in_frame.y, region.side};
  return extract_crop(inside, relative, side);
}

std::string file_name(const std::string& path) {
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// The weights files to load: the comma-separated list, or a single file and its companions.
std::vector<std::string> model_paths(const EnhancerConfig& config) {
  std::vector<std::string> paths;
  std::size_t begin = 0;
  while (begin <= config.model_path.size()) {
    std::size_t end = config.model_path.find(',', begin);
    if (end == std::string::npos) end = config.model_path.size();
    std::string path = config.model_path.substr(begin, end - begin);
    path.erase(0, path.find_first_not_of(" \t"));
    path.erase(path.find_last_not_of(" \t") + 1);
    if (!path.empty()) paths.push_back(path);
    begin = end + 1;
  }
  if (paths.empty()) throw Error(Error::Kind::ModelFile, "no model file given");
  return paths;
}

}  // namespace

std::unique_ptr<FaceEnhancer> FaceEnhancer::create(const EnhancerConfig& config) {
  std::unique_ptr<FaceEnhancer> enhancer(new FaceEnhancer());
  enhancer->config_ = config;
  EngineOptions options;
  options.device = config.device;
  options.precision = config.precision;
  options.threads = config.threads;
  auto open = [&](const std::string& path) {
    try {
      enhancer->engines_.push_back(Engine::open(path, options));
    } catch (const Error&) {
      throw;
    } catch (const std::exception& e) {  // e.g. std::bad_alloc: still the model's failure, by name
      throw Error(Error::Kind::ModelFile, path + ": cannot load: " + e.what());
    }
  };
  const std::vector<std::string> paths = model_paths(config);
  for (const auto& path : paths) open(path);
  if (paths.size() == 1 && config.companions)
    for (const auto& path : companion_paths(paths.front(), enhancer->engines_.front()->metadata())) {
      if (access(path.c_str(), R_OK) != 0) {
        enhancer->warnings_.push_back(file_name(paths.front()) + " names the companion model " + path +
                                      ", which is missing or unreadable: faces of its size are not enhanced. "
                                      "Install it beside " + file_name(paths.front()) +
                                      ", or set companion-models=false to silence this");
        continue;
      }
      open(path);
    }
  std::stable_sort(enhancer->engines_.begin(), enhancer->engines_.end(),
                   [](const auto& a, const auto& b) { return a->input_size() < b->input_size(); });
  for (std::size_t k = 1; k < enhancer->engines_.size(); ++k)
    if (enhancer->engines_[k]->input_size() == enhancer->engines_[k - 1]->input_size())
      throw Error(Error::Kind::ModelFile,
                  "two models of the same scale (" + std::to_string(enhancer->engines_[k]->scale()) + "x): " +
                      enhancer->engines_[k - 1]->weights_path() + " and " + enhancer->engines_[k]->weights_path() +
                      "; give one file per scale");
  enhancer->finder_ = std::make_unique<FaceFinder>(config.source);

  // One face through each warmed-up engine: the start-up estimate of the element's latency.
  for (const auto& engine : enhancer->engines_) {
    cv::Mat crop(engine->input_size(), engine->input_size(), CV_8UC3, cv::Scalar(128, 128, 128));
    cv::Mat result(kResultSize, kResultSize, CV_8UC3);
    const ImageView in{crop.data, crop.cols, crop.rows, crop.step};
    const MutableImageView out{result.data, result.cols, result.rows, result.step};
    const auto t0 = std::chrono::steady_clock::now();
    engine->enhance(&in, &out, 1);
    enhancer->face_ms_ = std::max(
        enhancer->face_ms_, std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  return enhancer;
}

FaceEnhancer::~FaceEnhancer() = default;

void FaceEnhancer::reset() {
  finder_->reset();
  previous_.clear();
  last_thumbnail_.release();
}

bool FaceEnhancer::scene_cut(const FramePlanes& source) {
  if (source.width < 1 || source.height < 1) return false;
  cv::Mat thumbnail = luma_thumbnail(source, kCutThumbnail);
  const bool cut = !last_thumbnail_.empty() && cv::mean(cv::abs(thumbnail - last_thumbnail_))[0] > kSceneCutLevels;
  last_thumbnail_ = std::move(thumbnail);
  return cut;
}

std::string FaceEnhancer::device_description() const { return engines_.front()->device_description(); }

std::string FaceEnhancer::model_name() const {
  std::string names;
  for (const auto& engine : engines_) names += (names.empty() ? "" : ",") + file_name(engine->weights_path());
  return names;
}

std::vector<int> FaceEnhancer::scales() const {
  std::vector<int> out;
  for (const auto& engine : engines_) out.push_back(engine->scale());
  return out;
}

std::vector<const Track*> FaceEnhancer::find_faces(const FramePlanes& source, const std::vector<Detection>& upstream,
                                                   const FrameSettings& settings, std::vector<SkippedFace>* skipped) {
  // The finder reads pixels only on detector frames, and never for upstream boxes: otherwise it is
  // given a view that only carries the frame's size.
  ImageRef image{source.data[0], source.width, source.height, static_cast<std::size_t>(source.width),
                 PixelFormat::Gray8};
  cv::Mat pixels;
  if (finder_->source() == FaceSource::BlazeFace && finder_->will_detect(settings)) {
    // The CNN sees colour: on gray frames it found 0.12 of the 12 px faces, 0.88 in colour
    // (tests/test_detector.cpp).
    pixels = detection_rgb(source);
    image = {pixels.data, pixels.cols, pixels.rows, pixels.step, PixelFormat::RGB8};
  } else if (finder_->source() != FaceSource::Upstream && finder_->will_detect(settings)) {
    pixels = luma(source);
    image = {pixels.data, pixels.cols, pixels.rows, pixels.step, PixelFormat::Gray8};
  }
  return finder_->find(image, upstream, settings, skipped);
}

void FaceEnhancer::smooth(int track_id, const cv::Mat& crop, cv::Mat& result, double weight) {
  if (weight <= 0.0) {  // smoothing off: no float copy of every face on every frame
    previous_.erase(track_id);
    return;
  }
  Smoothed now;
  result.convertTo(now.result, CV_32FC3);
  cv::Mat gray;
  cv::cvtColor(crop, gray, cv::COLOR_RGB2GRAY);
  gray.convertTo(now.crop, CV_32F);
  auto previous = previous_.find(track_id);
  if (previous != previous_.end()) {
    // Motion compensation: a face box jitters by a pixel or so from frame to frame (detections, the
    // tracker's corrections), which moves the face by 8 result pixels per crop pixel. The shift between
    // the two 32x32 crops (phase correlation, sub-pixel) moves the previous result onto the current
    // one before they are blended; blended unaligned, they ghosted and flickered more than no
    // smoothing at all (bench-flicker). Crops that do not correlate (a turn, an occlusion) are not
    // blended.
    // A face that moved to another model (another crop size) is not blended.
    cv::Mat& hann = hann_[now.crop.cols];
    if (hann.empty()) cv::createHanningWindow(hann, now.crop.size(), CV_32F);
    double response = 0.0;
    const bool same_size = previous->second.crop.size() == now.crop.size();
    const cv::Point2d shift =
        same_size ? cv::phaseCorrelate(previous->second.crop, now.crop, hann, &response) : cv::Point2d();
    const double scale = static_cast<double>(kResultSize) / now.crop.cols;
    // kMaxShift is in 8x crop pixels (32 px): the same distance in the face at every scale.
    const double max_shift = kMaxShift * now.crop.cols / kCropSize;
    if (same_size && response >= kMinCorrelation && std::hypot(shift.x, shift.y) <= max_shift) {
      const cv::Matx23d move(1, 0, shift.x * scale, 0, 1, shift.y * scale);
      cv::Mat aligned;
      cv::warpAffine(previous->second.result, aligned, move, now.result.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
      // Per pixel: the full weight where the two results agree to within noise, less where they
      // differ (the face changed: a blink, a turn), so that smoothing steadies what the network
      // invents anew from each noisy input without dragging real change behind. The difference is
      // low-passed first: invented detail that differs pixel by pixel averages out, a real change
      // does not.
      cv::Mat difference, gray, w, w3;
      cv::subtract(now.result, aligned, difference);
      cv::cvtColor(difference, gray, cv::COLOR_RGB2GRAY);
      cv::GaussianBlur(gray, gray, cv::Size(), kSmoothingAgreementBlur);
      cv::multiply(gray, gray, gray, -1.0 / (kSmoothingAgreement * kSmoothingAgreement));
      cv::exp(gray, w);
      cv::cvtColor(w * weight, w3, cv::COLOR_GRAY2RGB);
      now.result += w3.mul(aligned - now.result);
      now.result.convertTo(result, CV_8UC3);
    }
  }
  previous_[track_id] = std::move(now);
}

const CropRule& FaceEnhancer::crop_rule(std::size_t model) const {
  // The model's rule for this detector's boxes (haar frames a face ~1.2x wider than hog).
  return crop_rule_for(engines_[model]->metadata(), to_string(finder_->source()));
}

int FaceEnhancer::auto_max_face_size() const {
  const std::size_t largest = engines_.size() - 1;
  return static_cast<int>(std::floor(engines_[largest]->input_size() / crop_rule(largest).side_scale));
}

std::vector<FaceReport> FaceEnhancer::process(const FramePlanes& source, FramePlanes& target, int scale,
                                              const std::vector<Detection>& upstream,
                                              const FrameSettings& frame_settings) {
  FrameSettings settings = frame_settings;
  if (settings.max_face_size == kAutoMaxFaceSize) {
    const int limit = auto_max_face_size();
    settings.max_face_size = limit < settings.min_face_size ? 0 : limit;
  }
  if (scene_cut(source)) {
    finder_->reset();
    previous_.clear();
    ++scene_cuts_;
  }
  std::vector<SkippedFace> skipped;
  const std::vector<const Track*> faces = find_faces(source, upstream, settings, &skipped);

  // Each face to its model; each model's faces in one batch; crops are all taken before anything is
  // pasted.
  std::vector<int> sides;
  std::vector<CropRule> rules;
  for (std::size_t k = 0; k < engines_.size(); ++k) {
    sides.push_back(engines_[k]->input_size());
    rules.push_back(crop_rule(k));
  }
  std::vector<CropRegion> regions;
  std::vector<std::size_t> model_of;
  crops_.resize(faces.size());
  results_.resize(faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    model_of.push_back(model_for_face(faces[i]->box, sides, rules));
    regions.push_back(crop_region_for_face(faces[i]->box, rules[model_of.back()]));
    crops_[i] = crop_face(source, regions.back(), sides[model_of.back()]);
    results_[i].create(kResultSize, kResultSize, CV_8UC3);
  }
  EnhanceParams params;
  params.noise = settings.noise;
  params.flip_ensemble = settings.flip_ensemble;
  for (std::size_t k = 0; k < engines_.size(); ++k) {
    std::vector<ImageView> in;
    std::vector<MutableImageView> out;
    for (std::size_t i = 0; i < faces.size(); ++i)
      if (model_of[i] == k) {
        in.push_back({crops_[i].data, crops_[i].cols, crops_[i].rows, crops_[i].step});
        out.push_back({results_[i].data, results_[i].cols, results_[i].rows, results_[i].step});
      }
    if (!in.empty()) engines_[k]->enhance(in.data(), out.data(), in.size(), params);
  }

  std::map<int, Smoothed> kept;
  std::vector<FaceReport> reports;
  for (std::size_t i = 0; i < faces.size(); ++i) {
    smooth(faces[i]->id, crops_[i], results_[i], settings.temporal_smoothing);
    if (auto previous = previous_.find(faces[i]->id); previous != previous_.end())
      kept[faces[i]->id] = previous->second;
    paste_face(target, scaled(regions[i], scale), scaled(faces[i]->box, scale), results_[i]);
    const Engine& engine = *engines_[model_of[i]];
    reports.push_back({faces[i]->id, scaled(faces[i]->box, scale), faces[i]->score, faces[i]->detected, true, "",
                       engine.scale(), file_name(engine.weights_path())});
  }
  previous_ = std::move(kept);  // tracks not shown this frame start afresh

  std::vector<cv::Rect> boxes;  // target pixels: the enhanced faces first, then the others
  for (const FaceReport& r : reports) boxes.push_back(to_rect(r.box));
  for (const SkippedFace& f : skipped) boxes.push_back(to_rect(scaled(f.track->box, scale)));
  if (settings.mode == CompositeMode::Inset) {
    std::vector<int> sides;
    for (std::size_t i = 0; i < faces.size(); ++i)
      sides.push_back(std::clamp(2 * std::max(boxes[i].width, boxes[i].height), 48, kResultSize));
    const std::vector<cv::Rect> insets = place_insets(target.size(), boxes, sides);
    for (std::size_t i = 0; i < faces.size(); ++i)
      if (!insets[i].empty()) draw_inset(target, insets[i], results_[i]);
  }
  if (settings.annotate)
    for (std::size_t i = 0; i < faces.size(); ++i) draw_outline(target, boxes[i], std::max(1, scale), cv::Scalar(0, 255, 0));
  for (const SkippedFace& f : skipped)
    reports.push_back({f.track->id, scaled(f.track->box, scale), f.track->score, f.track->detected, false,
                       to_string(f.reason), 0, ""});
  return reports;
}

}  // namespace facesr
