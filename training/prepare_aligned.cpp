#include "prepare_aligned.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <map>
#include <numeric>
#include <optional>
#include <random>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dataset.h"
#include "detector.h"
#include "face_finder.h"
#include "image_decode.h"
#include "image_io.h"
#include "landmarks.h"

namespace facesr {
namespace {

using nlohmann::json;

constexpr int kSide = static_cast<int>(kDatasetSide);
constexpr int kPad = kSide / 4;  // the face fills the image: detectors need a margin around it

// One detector's boxes on the images where it found a face, as crop-rule samples.
struct RuleSamples {
  std::vector<double> side_scale, center_dx, center_dy;
  void add(const FaceBox& box) {
    const double side = std::max(box.width, box.height);
    side_scale.push_back(kSide / side);
    center_dx.push_back((kSide / 2.0 - (box.x + box.width / 2)) / box.width);
    center_dy.push_back((kSide / 2.0 - (box.y + box.height / 2)) / box.height);
  }
};

double quantile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(std::lround(q * (v.size() - 1)))];
}

CropRule median_rule(const RuleSamples& s) {
  CropRule r;
  r.side_scale = quantile(s.side_scale, 0.5);
  r.center_dx = quantile(s.center_dx, 0.5);
  r.center_dy = quantile(s.center_dy, 0.5);
  return r;
}

json rule_report(const RuleSamples& s, std::size_t images) {
  if (s.side_scale.empty()) return {{"faces_found", 0}};
  const CropRule r = median_rule(s);
  return {{"faces_found", s.side_scale.size()},
          {"of_images", images},
          {"side_scale", r.side_scale},
          {"side_scale_quartiles", {quantile(s.side_scale, 0.25), quantile(s.side_scale, 0.75)}},
          {"center_dx", r.center_dx},
          {"center_dy", r.center_dy},
          {"center_dy_quartiles", {quantile(s.center_dy, 0.25), quantile(s.center_dy, 0.75)}}};
}

std::vector<uint8_t> file_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The largest face `detector` finds on the padded image, in image pixels.
std::optional<FaceBox> largest_face(Detector& detector, const cv::Mat& padded_rgb) {
  std::optional<FaceBox> best;
  const ImageRef ref{padded_rgb.data, padded_rgb.cols, padded_rgb.rows, padded_rgb.step, PixelFormat::RGB8};
  for (const auto& d : detector.detect(ref))
    if (!best || d.box.width * d.box.height > best->width * best->height) best = d.box;
  if (best) best->x -= kPad, best->y -= kPad;
  return best;
}

// Validation and test images: a random fraction, by image.
std::vector<Split> random_splits(std::size_t n, double val, double test, unsigned seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::mt19937 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const auto n_val = static_cast<std::size_t>(std::lround(val * n));
  const auto n_test = static_cast<std::size_t>(std::lround(test * n));
  std::vector<Split> splits(n, Split::Train);
  for (std::size_t i = 0; i < n; ++i)
    if (i < n_val) splits[order[i]] = Split::Validation;
    else if (i < n_val + n_test) splits[order[i]] = Split::Test;
  return splits;
}

}  // namespace

int prepare_aligned(const AlignedPrepareOptions& o) {
  DetectorOptions hog_options;  // HOG at its own scale: these faces are ~200 px
  hog_options.min_face_size = 40;
  FinderSettings settings;  // the element's Haar cascade and BlazeFace, as FaceFinder configures them
  settings.min_face_size = 40;
  auto hog = Detector::create(hog_options);
  auto haar = Detector::create(detector_options(FaceSource::Haar, settings));
  // BlazeFace's rule too when its model is here (scripts/fetch-detector-models.sh): the element's
  // small-face detector frames faces differently again.
  std::unique_ptr<Detector> blazeface;
  try {
    blazeface = Detector::create(detector_options(FaceSource::BlazeFace, settings));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: no BlazeFace crop rule measured: %s\n", e.what());
  }
  std::unique_ptr<LandmarkPredictor> landmarks;
  if (!o.no_landmarks) landmarks = LandmarkPredictor::open();

  const std::vector<Split> splits = random_splits(o.images.size(), o.val, o.test, o.seed);
  std::vector<std::vector<uint8_t>> jpegs;
  std::vector<uint8_t> masks;
  std::vector<FaceRecord> faces;
  std::vector<std::optional<FaceBox>> hog_boxes, haar_boxes;
  RuleSamples hog_samples, haar_samples, blazeface_samples;
  json skipped = json::array();
  std::map<std::string, int> per_split, mask_kinds;
  std::vector<uint8_t> decoded(kSide * kSide * 3);

  for (std::size_t i = 0; i < o.images.size(); ++i) {
    const std::string& path = o.images[i];
    auto skip = [&](const std::string& reason) {
      std::fprintf(stderr, "facesr-prepare: skipped %s: %s\n", path.c_str(), reason.c_str());
      skipped.push_back({{"file", path}, {"reason", reason}});
    };
    cv::Mat bgr;
    try {
      bgr = read_image_bgr(path);
    } catch (const std::exception& e) {
      skip(e.what());
      continue;
    }
    if (bgr.cols != kSide || bgr.rows != kSide) {
      skip(std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) + ", not " + std::to_string(kSide) + "x" +
           std::to_string(kSide) + " (aligned crops are stored as they are: resize them first)");
      continue;
    }
    std::vector<uint8_t> bytes = file_bytes(path);
    // The trainer decodes with stb_image, not OpenCV: it must read this file too.
    if (const std::string error = decode_rgb_image(bytes.data(), bytes.size(), kSide, decoded.data()); !error.empty()) {
      skip("the trainer's decoder cannot read it: " + error);
      continue;
    }
    cv::Mat rgb, padded;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    cv::copyMakeBorder(rgb, padded, kPad, kPad, kPad, kPad, cv::BORDER_CONSTANT, cv::Scalar(128, 128, 128));
    const auto hog_box = largest_face(*hog, padded);
    const auto haar_box = largest_face(*haar, padded);
    if (hog_box) hog_samples.add(*hog_box);
    if (haar_box) haar_samples.add(*haar_box);
    if (blazeface)
      if (const auto box = largest_face(*blazeface, padded)) blazeface_samples.add(*box);

    FaceRecord record;
    record.source = path;
    record.split = splits[i];
    const CropRegion whole{0, 0, kSide};
    cv::Mat mask;
    if (hog_box && landmarks) {
      const ImageRef ref{padded.data, padded.cols, padded.rows, padded.step, PixelFormat::RGB8};
      auto points = landmarks->predict(ref, {hog_box->x + kPad, hog_box->y + kPad, hog_box->width, hog_box->height});
      for (auto& p : points) p -= cv::Point2f(kPad, kPad);
      mask = face_mask_from_landmarks(points, whole, static_cast<int>(kJpegMaskSide));
      record.mask_kind = "landmarks";
    }
    const std::optional<FaceBox> box = hog_box ? hog_box : haar_box;
    if (box) {
      record.box[0] = box->x;
      record.box[1] = box->y;
      record.box[2] = box->width;
      record.box[3] = box->height;
    }
    jpegs.push_back(std::move(bytes));
    hog_boxes.push_back(hog_box);
    haar_boxes.push_back(haar_box);
    faces.push_back(record);
    if (!mask.empty()) masks.insert(masks.end(), mask.data, mask.data + mask.total());
    else masks.resize(masks.size() + kJpegMaskSide * kJpegMaskSide, 0);  // filled below, once the rule is known
    ++per_split[to_string(record.split)];
    if (isatty(STDERR_FILENO) && (i % 50 == 0 || i + 1 == o.images.size()))
      std::fprintf(stderr, "\rfacesr-prepare: %zu/%zu images, %zu kept", i + 1, o.images.size(), faces.size());
  }
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");
  if (faces.empty() || hog_samples.side_scale.empty()) {
    std::fprintf(stderr, "facesr-prepare: %s; nothing written\n",
                 faces.empty() ? "no readable 256x256 image" : "HOG found no face in any image: are these face crops?");
    return 1;
  }

  DatasetCropRules rules;
  rules.rule = median_rule(hog_samples);
  rules.by_detector["hog"] = rules.rule;
  if (!haar_samples.side_scale.empty()) rules.by_detector["haar"] = median_rule(haar_samples);
  if (!blazeface_samples.side_scale.empty()) rules.by_detector["blazeface"] = median_rule(blazeface_samples);

  // Masks still missing: an ellipse over the face box the hog rule implies (or the Haar box).
  const double typical_side = kSide / rules.rule.side_scale;
  const FaceBox typical{kSide / 2.0 - rules.rule.center_dx * typical_side - typical_side / 2,
                        kSide / 2.0 - rules.rule.center_dy * typical_side - typical_side / 2, typical_side, typical_side};
  for (std::size_t i = 0; i < faces.size(); ++i) {
    if (faces[i].mask_kind == "landmarks") {
      ++mask_kinds["landmarks (hog box)"];
      continue;
    }
    const FaceBox box = haar_boxes[i] ? *haar_boxes[i] : typical;
    const cv::Mat mask = face_mask_ellipse(box, {0, 0, kSide}, static_cast<int>(kJpegMaskSide));
    std::copy(mask.data, mask.data + mask.total(), masks.begin() + i * kJpegMaskSide * kJpegMaskSide);
    faces[i].mask_kind = "ellipse";
    ++mask_kinds[haar_boxes[i] ? "ellipse (haar box)" : "ellipse (typical box of the hog rule)"];
  }

  const json summary = {
      {"layout", "aligned face crops, 256x256, one face filling each image, stored as their JPEG files"},
      {"images", o.images.size()},
      {"faces_kept", faces.size()},
      {"images_skipped", skipped},
      {"per_split", per_split},
      {"split_seed", o.seed},
      {"split_by", "image, at random (no identity labels: one person may be on both sides)"},
      {"crop_rule_measured",
       {{"how", "median over the images of 256 / box side and of the box centre's offset from the image centre "
                "(in box widths / heights), each image padded by 64 px for detection"},
        {"hog", rule_report(hog_samples, faces.size())},
        {"haar", rule_report(haar_samples, faces.size())},
        {"blazeface", blazeface ? rule_report(blazeface_samples, faces.size()) : json("not measured: no model")}}},
      {"masks", mask_kinds},
      {"mask_side", kJpegMaskSide}};
  std::printf("%s\n", summary.dump(2).c_str());
  try {
    write_jpeg_dataset(o.out, jpegs, masks, faces, rules, summary.dump());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "facesr-prepare: wrote %zu aligned faces to %s (skipped images: %zu)\n", faces.size(),
               o.out.c_str(), skipped.size());
  return 0;
}

int repack_jpeg_dataset(const std::string& in, const std::string& out, int quality) {
  const auto dataset = Dataset::open(in);
  if (!dataset->jpeg_storage())
    throw std::runtime_error(in + " stores raw pixels: --repack re-encodes the JPEG files of an --aligned dataset");
  const int64_t n = dataset->size();
  const std::size_t mask_bytes = kJpegMaskSide * kJpegMaskSide;  // what the jpeg storage holds
  std::vector<std::vector<uint8_t>> jpegs(static_cast<std::size_t>(n));
  std::vector<uint8_t> masks;
  masks.reserve(static_cast<std::size_t>(n) * mask_bytes);
  std::vector<uint8_t> before(kSide * kSide * 3), after(kSide * kSide * 3);
  double bytes_before = 0, bytes_after = 0, squared_error = 0;
  const std::vector<int> params{cv::IMWRITE_JPEG_QUALITY, quality};
  for (int64_t k = 0; k < n; ++k) {
    const auto [data, size] = dataset->jpeg_file(k);
    const std::string source = dataset->faces()[k].source;
    if (const std::string e = decode_rgb_image(data, size, kSide, before.data()); !e.empty())
      throw std::runtime_error(in + ": face " + std::to_string(k) + " (" + source + "): " + e);
    const cv::Mat rgb(kSide, kSide, CV_8UC3, before.data()), decoded(kSide, kSide, CV_8UC3, after.data());
    cv::Mat bgr;
    cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
    if (!cv::imencode(".jpg", bgr, jpegs[k], params))
      throw std::runtime_error("cannot encode face " + std::to_string(k) + " (" + source + ") as JPEG");
    if (const std::string e = decode_rgb_image(jpegs[k].data(), jpegs[k].size(), kSide, after.data()); !e.empty())
      throw std::runtime_error("the re-encoded face " + std::to_string(k) + " does not decode: " + e);
    squared_error += cv::norm(rgb, decoded, cv::NORM_L2SQR);
    bytes_before += static_cast<double>(size);
    bytes_after += static_cast<double>(jpegs[k].size());
    masks.insert(masks.end(), dataset->mask_bytes(k), dataset->mask_bytes(k) + mask_bytes);
  }
  const double mse = squared_error / (static_cast<double>(n) * kSide * kSide * 3);
  json summary = json::parse(dataset->summary_json(), nullptr, false);
  if (!summary.is_object()) summary = json::object();
  summary["repacked"] = {
      {"from", in},
      {"jpeg_quality", quality},
      {"bytes_before", bytes_before},
      {"bytes_after", bytes_after},
      {"psnr_vs_stored_db", mse > 0 ? 10 * std::log10(255.0 * 255.0 / mse) : 99.0},
      {"note", "every face re-encoded (OpenCV, 4:2:0): the ground truth carries this JPEG loss too"}};
  std::printf("%s\n", summary["repacked"].dump(2).c_str());
  write_jpeg_dataset(out, jpegs, masks, dataset->faces(), dataset->crop_rules(), summary.dump());
  std::fprintf(stderr, "facesr-prepare: repacked %lld faces into %s: %.1f MB -> %.1f MB at JPEG quality %d\n",
               static_cast<long long>(n), out.c_str(), bytes_before / 1e6, bytes_after / 1e6, quality);
  return 0;
}

}  // namespace facesr
