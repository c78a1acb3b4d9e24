#include "face_enhancer.h"

#include <algorithm>
#include <chrono>
#include <cmath>

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

CropRegion scaled(const CropRegion& r, int scale) { return {r.x * scale, r.y * scale, r.side * scale}; }
FaceBox scaled(const FaceBox& b, int scale) { return {b.x * scale, b.y * scale, b.width * scale, b.height * scale}; }
cv::Rect to_rect(const FaceBox& b) {
  return {cvRound(b.x), cvRound(b.y), std::max(1, cvRound(b.width)), std::max(1, cvRound(b.height))};
}

// The 32x32 RGB crop of `region`: only the part of the region inside the frame is converted to RGB,
// and extract_crop replicates its edges where the region leaves the frame.
cv::Mat crop_face(const FramePlanes& source, const CropRegion& region) {
  const ClippedRegion clip = clip_region(region, source.size());
  if (clip.in_frame.empty()) {
    const cv::Rect nearest(std::clamp(region.x + region.side / 2, 0, source.width - 1),
                           std::clamp(region.y + region.side / 2, 0, source.height - 1), 1, 1);
    return extract_crop(read_rgb(source, nearest), {0, 0, 1}, kCropSize);
  }
  const cv::Mat inside = read_rgb(source, clip.in_frame);
  const CropRegion relative{region.x - clip.in_frame.x, region.y - clip.in_frame.y, region.side};
  return extract_crop(inside, relative, kCropSize);
}

}  // namespace

std::unique_ptr<FaceEnhancer> FaceEnhancer::create(const EnhancerConfig& config) {
  std::unique_ptr<FaceEnhancer> enhancer(new FaceEnhancer());
  enhancer->config_ = config;
  EngineOptions options;
  options.device = config.device;
  options.precision = config.precision;
  options.threads = config.threads;
  try {
    enhancer->engine_ = Engine::open(config.model_path, options);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {  // e.g. std::bad_alloc: still the model's failure, by name
    throw Error(Error::Kind::ModelFile, config.model_path + ": cannot load: " + e.what());
  }
  enhancer->finder_ = std::make_unique<FaceFinder>(config.source);

  // One face through the warmed-up engine: the start-up estimate of the element's latency.
  cv::Mat crop(kCropSize, kCropSize, CV_8UC3, cv::Scalar(128, 128, 128));
  cv::Mat result(kResultSize, kResultSize, CV_8UC3);
  const ImageView in{crop.data, crop.cols, crop.rows, crop.step};
  const MutableImageView out{result.data, result.cols, result.rows, result.step};
  const auto t0 = std::chrono::steady_clock::now();
  enhancer->engine_->enhance(&in, &out, 1);
  enhancer->face_ms_ = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return enhancer;
}

FaceEnhancer::~FaceEnhancer() = default;

void FaceEnhancer::reset() {
  finder_->reset();
  previous_.clear();
}

std::string FaceEnhancer::device_description() const { return engine_->device_description(); }

std::string FaceEnhancer::model_name() const {
  const std::string& path = engine_->weights_path();
  const auto slash = path.find_last_of('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
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
    if (hann_.empty()) cv::createHanningWindow(hann_, now.crop.size(), CV_32F);
    double response = 0.0;
    const cv::Point2d shift = cv::phaseCorrelate(previous->second.crop, now.crop, hann_, &response);
    const double scale = static_cast<double>(kResultSize) / kCropSize;
    if (response >= kMinCorrelation && std::hypot(shift.x, shift.y) <= kMaxShift) {
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

const CropRule& FaceEnhancer::crop_rule() const {
  // The model's rule for this detector's boxes (haar frames a face ~1.2x wider than hog).
  return crop_rule_for(engine_->metadata(), to_string(finder_->source()));
}

int FaceEnhancer::auto_max_face_size() const {
  return static_cast<int>(std::floor(kCropSize / crop_rule().side_scale));
}

std::vector<FaceReport> FaceEnhancer::process(const FramePlanes& source, FramePlanes& target, int scale,
                                              const std::vector<Detection>& upstream,
                                              const FrameSettings& frame_settings) {
  FrameSettings settings = frame_settings;
  if (settings.max_face_size == kAutoMaxFaceSize) {
    const int limit = auto_max_face_size();
    settings.max_face_size = limit < settings.min_face_size ? 0 : limit;
  }
  std::vector<SkippedFace> skipped;
  const std::vector<const Track*> faces = find_faces(source, upstream, settings, &skipped);

  // All faces of the frame in one batch; crops are all taken before anything is pasted.
  const CropRule& rule = crop_rule();
  std::vector<CropRegion> regions;
  std::vector<ImageView> in;
  std::vector<MutableImageView> out;
  crops_.resize(faces.size());
  results_.resize(faces.size());
  for (std::size_t i = 0; i < faces.size(); ++i) {
    regions.push_back(crop_region_for_face(faces[i]->box, rule));
    crops_[i] = crop_face(source, regions.back());
    results_[i].create(kResultSize, kResultSize, CV_8UC3);
    in.push_back({crops_[i].data, crops_[i].cols, crops_[i].rows, crops_[i].step});
    out.push_back({results_[i].data, results_[i].cols, results_[i].rows, results_[i].step});
  }
  if (!faces.empty()) {
    EnhanceParams params;
    params.noise = settings.noise;
    params.flip_ensemble = settings.flip_ensemble;
    engine_->enhance(in.data(), out.data(), faces.size(), params);
  }

  std::map<int, Smoothed> kept;
  std::vector<FaceReport> reports;
  for (std::size_t i = 0; i < faces.size(); ++i) {
    smooth(faces[i]->id, crops_[i], results_[i], settings.temporal_smoothing);
    if (auto previous = previous_.find(faces[i]->id); previous != previous_.end())
      kept[faces[i]->id] = previous->second;
    paste_face(target, scaled(regions[i], scale), scaled(faces[i]->box, scale), results_[i]);
    reports.push_back({faces[i]->id, scaled(faces[i]->box, scale), faces[i]->score, faces[i]->detected, true, ""});
  }
  previous_ = std::move(kept);  // tracks not shown this frame start afresh

  for (std::size_t i = 0; i < faces.size(); ++i) {
    const cv::Rect box = to_rect(reports[i].box);
    if (settings.mode == CompositeMode::Inset)
      draw_inset(target, box, results_[i], std::clamp(2 * std::max(box.width, box.height), 48, kResultSize));
    if (settings.annotate) draw_outline(target, box, std::max(1, scale), cv::Scalar(0, 255, 0));
  }
  for (const SkippedFace& f : skipped)
    reports.push_back({f.track->id, scaled(f.track->box, scale), f.track->score, f.track->detected, false,
                       to_string(f.reason)});
  return reports;
}

}  // namespace facesr
