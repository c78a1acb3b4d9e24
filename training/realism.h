// facesr-eval's realism and fidelity measures beyond PSNR / SSIM (issue 39), per face, for the model's
// output, for bicubic and (BRISQUE) for the ground truth itself:
//   sharpness  high-frequency energy relative to the ground truth's (metrics.h; 1.0 = as detailed)
//   BRISQUE    no-reference naturalness, lower = more natural (image_quality.h)
//   landmarks  68-point landmark distance to the ground truth, normalized by its eye distance
// Sharpness is always computed; BRISQUE and landmarks when an ImageQuality is given (--realism).
// The Frechet distance on face-descriptor features and identity live with --identity (facesr_eval.cpp).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "evaluate.h"
#include "image_quality.h"
#include "metadata.h"

namespace facesr {

struct RealismScores {
  std::vector<double> sharpness, bicubic_sharpness;                 // every face
  std::vector<double> brisque, bicubic_brisque, truth_brisque;      // with an ImageQuality
  std::vector<double> landmarks, bicubic_landmarks;                 // with an ImageQuality
  bool image_measures() const { return !brisque.empty(); }

  // Scores one batch (images N x 3 x 256 x 256 in [-1, 1]); `box` is the face box inside a crop.
  void add(const EnhancedBatch& batch, const ImageQuality* quality, const ImageBox& box);
  static double mean(const std::vector<double>& v);
  // {"sharpness": ..., "bicubic_sharpness": ..., "brisque": ... (when measured), "method": ...}
  nlohmann::json summary() const;
  // Row i's fields for the JSON rows.
  void add_row_fields(std::size_t i, nlohmann::json& row) const;
  void print() const;
};

// The face box inside a side x side crop cut by `rule` (crop_region_for_face's inverse for a square
// face box): where dlib's shape predictor is told the face is.
ImageBox face_box_in_crop(const CropRule& rule, int side);

// Image i of an N x 3 x H x W tensor in [-1, 1], rounded to 8 bits as a saved image would be.
Rgb8Image to_rgb8(const torch::Tensor& images, int64_t i);

}  // namespace facesr
