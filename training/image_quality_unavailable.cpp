// image_quality.h for a build without facedetect/ (OpenCV + dlib): open() says so.
#include "image_quality.h"

#include <stdexcept>

namespace facesr {

struct ImageQuality::Impl {};

ImageQuality::ImageQuality() = default;
ImageQuality::~ImageQuality() = default;

std::unique_ptr<ImageQuality> ImageQuality::open(const std::string&, const std::string&) {
  throw std::runtime_error("BRISQUE and the landmark distance need OpenCV's contrib quality module and dlib; this "
                           "build has no facedetect/ (meson setup -Dfacedetect=enabled with libopencv-dev and "
                           "libdlib-dev installed)");
}

double ImageQuality::brisque(const Rgb8Image&) const { return 0; }
double ImageQuality::landmark_distance(const Rgb8Image&, const Rgb8Image&, const ImageBox&) const { return 0; }

}  // namespace facesr
