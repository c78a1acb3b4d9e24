#include "image_io.h"

#include <fstream>
#include <iterator>
#include <stdexcept>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace facesr {
namespace {
constexpr int kMaxSide = 20000;
}

cv::Mat read_image_bgr(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open (missing file or no permission)");
  const std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (bytes.empty()) throw std::runtime_error(path + ": empty file");
  const bool jpeg = bytes.size() >= 3 && bytes[0] == 0xFF && bytes[1] == 0xD8 && bytes[2] == 0xFF;
  if (jpeg) {
    // libjpeg decodes a cut-off file with a grey bottom and only a warning: refuse it instead.
    bool has_end = false;
    for (std::size_t i = bytes.size() - 1; i > 0 && i + 64 > bytes.size(); --i)
      if (bytes[i - 1] == 0xFF && bytes[i] == 0xD9) has_end = true;
    if (!has_end) throw std::runtime_error(path + ": truncated JPEG (no end-of-image marker)");
  }
  cv::Mat image;
  try {
    image = cv::imdecode(bytes, cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    throw std::runtime_error(path + ": cannot decode: " + e.what());
  }
  if (image.empty()) throw std::runtime_error(path + ": not an image OpenCV can decode (corrupt, truncated, or another format)");
  if (image.cols > kMaxSide || image.rows > kMaxSide)
    throw std::runtime_error(path + ": " + std::to_string(image.cols) + "x" + std::to_string(image.rows) +
                             " is larger than 20000 px on a side; downscale it first");
  return image;
}

}  // namespace facesr
