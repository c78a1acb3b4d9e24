// 68-point facial landmarks (dlib's shape predictor, iBUG 300-W numbering: 0-16 jaw, 17-26 brows,
// 27-35 nose, 36-47 eyes, 48-67 mouth) and face-region masks for the local discriminator, the
// training data and feathered compositing.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "crop_rule.h"
#include "detector.h"

namespace facesr {

// From Debian's libdlib-data.
extern const char* const kDefaultLandmarkModel;  // /usr/share/dlib/shape_predictor_68_face_landmarks.dat

constexpr int kLandmarkCount = 68;

class LandmarkPredictor {
 public:
  // Loads a dlib shape predictor (about 1 s for the 68-point file). Throws std::runtime_error with a
  // message naming the file when it is missing or not a shape predictor.
  static std::unique_ptr<LandmarkPredictor> open(const std::string& path = kDefaultLandmarkModel);
  ~LandmarkPredictor();

  // The 68 points (frame pixels) of the face in `box`. Throws std::invalid_argument on a bad image.
  std::vector<cv::Point2f> predict(const ImageRef& image, const FaceBox& box) const;

 private:
  LandmarkPredictor();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Face-region mask of a size x size crop of `region`: the convex hull of the 68 landmarks extended
// over the forehead (the brow points raised by kForeheadRaise x the nose-bridge-to-chin distance),
// 255 inside, 0 outside (CV_8UC1).
constexpr double kForeheadRaise = 0.45;
cv::Mat face_mask_from_landmarks(const std::vector<cv::Point2f>& landmarks, const CropRegion& region, int size);

// Fallback without landmarks: an upright ellipse over the face box (0.55 w by 0.7 h semi-axes,
// centre raised by 0.05 h to cover the forehead), 255 inside (CV_8UC1).
cv::Mat face_mask_ellipse(const FaceBox& box, const CropRegion& region, int size);

}  // namespace facesr
