// Reading photos for detection and dataset preparation, with errors that say what is wrong.
#pragma once

#include <string>

#include <opencv2/core.hpp>

namespace facesr {

// Reads a JPEG/PNG/... photo as 8-bit BGR (gray images are expanded). Throws std::runtime_error
// naming the file when it is missing, empty, truncated (a JPEG without its end marker), not an image
// OpenCV can decode, or larger than 20000 px on a side.
cv::Mat read_image_bgr(const std::string& path);

}  // namespace facesr
