// Shared by the detector backends (not installed): input checks, the gray working image, filtering.
#pragma once

#include <opencv2/core.hpp>

#include "detector.h"

namespace facesr::detail {

// The working image of one detect() call: the region of interest of the input, in gray, resized by
// `scale`. Boxes found on it map back with to_frame().
struct GrayView {
  cv::Mat gray;
  double scale = 1.0;
  int offset_x = 0, offset_y = 0;
  FaceBox to_frame(double x, double y, double w, double h) const {
    return {offset_x + x / scale, offset_y + y / scale, w / scale, h / scale};
  }
};

// Throws std::invalid_argument for a null or empty image or a short stride.
void check_image(const ImageRef& image);

// Checks the image and options and builds the working image (throws std::invalid_argument).
// `scale` is the total factor: detection_scale x 2^upsample.
GrayView make_gray_view(const ImageRef& image, const DetectorOptions& options, double scale);

// Applies min/max size, score threshold, the sort by score and max_faces.
std::vector<Detection> finish(std::vector<Detection> found, const DetectorOptions& options,
                              double score_threshold);

std::unique_ptr<Detector> make_hog_detector(const DetectorOptions& options);
std::unique_ptr<Detector> make_cascade_detector(const DetectorOptions& options);
std::unique_ptr<Detector> make_blazeface_detector(const DetectorOptions& options);

}  // namespace facesr::detail
