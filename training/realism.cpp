#include "realism.h"

#include <cstdio>

#include "metrics.h"

namespace facesr {
namespace {

void append(std::vector<double>& to, const torch::Tensor& values) {
  const auto v = values.to(torch::kCPU, torch::kFloat64).contiguous();
  to.insert(to.end(), v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
}

constexpr const char* kSharpnessMethod =
    "mean square of the 3x3 Laplacian of Y (BT.601), result over ground truth: 1.0 = as much fine detail as the "
    "truth, smooth results below 1, noise or ringing can exceed 1";
constexpr const char* kBrisqueMethod =
    "BRISQUE (Mittal et al. 2012), OpenCV contrib quality with opencv-data's LIVE model, 8-bit images: lower = more "
    "natural";
constexpr const char* kLandmarkMethod =
    "dlib's 68-point shape predictor on result and ground truth with the crop rule's face box; mean point distance "
    "over the ground truth's outer-eye-corner distance";

}  // namespace

Rgb8Image to_rgb8(const torch::Tensor& images, int64_t i) {
  const auto img = ((images[i].detach().to(torch::kCPU, torch::kFloat32) + 1.0) * 127.5)
                       .round()
                       .clamp(0, 255)
                       .to(torch::kUInt8)
                       .permute({1, 2, 0})
                       .contiguous();
  Rgb8Image out;
  out.height = static_cast<int>(img.size(0));
  out.width = static_cast<int>(img.size(1));
  out.pixels.assign(img.data_ptr<uint8_t>(), img.data_ptr<uint8_t>() + img.numel());
  return out;
}

ImageBox face_box_in_crop(const CropRule& rule, int side) {
  // crop_rule.h: side = side_scale * w, centre = box centre + (center_dx, center_dy) * w.
  const double w = side / rule.side_scale;
  const double cx = side / 2.0 - rule.center_dx * w, cy = side / 2.0 - rule.center_dy * w;
  return {cx - w / 2, cy - w / 2, w, w};
}

void RealismScores::add(const EnhancedBatch& b, const ImageQuality* quality, const ImageBox& box) {
  append(sharpness, sharpness_ratio(b.sharp, b.hr));
  append(bicubic_sharpness, sharpness_ratio(b.bicubic, b.hr));
  if (!quality) return;
  for (int64_t i = 0; i < b.hr.size(0); ++i) {
    const Rgb8Image truth = to_rgb8(b.hr, i), model = to_rgb8(b.sharp, i), bicubic = to_rgb8(b.bicubic, i);
    brisque.push_back(quality->brisque(model));
    bicubic_brisque.push_back(quality->brisque(bicubic));
    truth_brisque.push_back(quality->brisque(truth));
    landmarks.push_back(quality->landmark_distance(model, truth, box));
    bicubic_landmarks.push_back(quality->landmark_distance(bicubic, truth, box));
  }
}

double RealismScores::mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? 0 : s / static_cast<double>(v.size());
}

nlohmann::json RealismScores::summary() const {
  nlohmann::json j = {{"sharpness", mean(sharpness)},
                      {"bicubic_sharpness", mean(bicubic_sharpness)},
                      {"sharpness_method", kSharpnessMethod}};
  if (image_measures()) {
    j["brisque"] = mean(brisque);
    j["bicubic_brisque"] = mean(bicubic_brisque);
    j["truth_brisque"] = mean(truth_brisque);
    j["brisque_method"] = kBrisqueMethod;
    j["landmark_distance"] = mean(landmarks);
    j["bicubic_landmark_distance"] = mean(bicubic_landmarks);
    j["landmark_method"] = kLandmarkMethod;
  }
  return j;
}

void RealismScores::add_row_fields(std::size_t i, nlohmann::json& row) const {
  row["sharpness"] = sharpness[i];
  row["bicubic_sharpness"] = bicubic_sharpness[i];
  if (!image_measures()) return;
  row["brisque"] = brisque[i];
  row["bicubic_brisque"] = bicubic_brisque[i];
  row["truth_brisque"] = truth_brisque[i];
  row["landmark_distance"] = landmarks[i];
  row["bicubic_landmark_distance"] = bicubic_landmarks[i];
}

void RealismScores::print() const {
  std::printf("\nsharpness: model %.3f, bicubic %.3f\n  (%s)\n", mean(sharpness), mean(bicubic_sharpness),
              kSharpnessMethod);
  if (!image_measures()) {
    std::printf("BRISQUE and landmark distance not computed: pass --realism\n");
    return;
  }
  std::printf("BRISQUE: model %.2f, bicubic %.2f, ground truth %.2f\n  (%s)\n", mean(brisque), mean(bicubic_brisque),
              mean(truth_brisque), kBrisqueMethod);
  std::printf("landmark distance: model %.4f, bicubic %.4f\n  (%s)\n", mean(landmarks), mean(bicubic_landmarks),
              kLandmarkMethod);
}

}  // namespace facesr
