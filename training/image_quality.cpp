#include "image_quality.h"

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/quality/qualitybrisque.hpp>

#include "landmarks.h"

namespace facesr {
namespace {

namespace fs = std::filesystem;

cv::Mat as_mat(const Rgb8Image& image) {
  if (image.width <= 0 || image.height <= 0 ||
      image.pixels.size() != static_cast<std::size_t>(image.width) * static_cast<std::size_t>(image.height) * 3)
    throw std::invalid_argument("image quality: an RGB image of " + std::to_string(image.width) + "x" +
                                std::to_string(image.height) + " with " + std::to_string(image.pixels.size()) +
                                " bytes");
  return cv::Mat(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.pixels.data()));
}

ImageRef as_ref(const Rgb8Image& image) {
  as_mat(image);  // checks the size
  return {image.pixels.data(), image.width, image.height, static_cast<std::size_t>(image.width) * 3, PixelFormat::RGB8};
}

}  // namespace

struct ImageQuality::Impl {
  cv::Ptr<cv::quality::QualityBRISQUE> brisque;
  std::unique_ptr<LandmarkPredictor> landmarks;
};

ImageQuality::ImageQuality() : impl_(std::make_unique<Impl>()) {}
ImageQuality::~ImageQuality() = default;

std::unique_ptr<ImageQuality> ImageQuality::open(const std::string& brisque_dir, const std::string& landmark_model) {
  const fs::path model = fs::path(brisque_dir) / "brisque_model_live.yml";
  const fs::path range = fs::path(brisque_dir) / "brisque_range_live.yml";
  for (const auto& file : {model, range})
    if (!fs::is_regular_file(file))
      throw std::runtime_error("BRISQUE needs " + file.string() +
                               ": install Debian's opencv-data (scripts/install-deps.sh does)");
  std::unique_ptr<ImageQuality> q(new ImageQuality());
  try {
    q->impl_->brisque = cv::quality::QualityBRISQUE::create(model.string(), range.string());
  } catch (const cv::Exception& e) {
    throw std::runtime_error("BRISQUE: cannot load " + model.string() + ": " + e.what());
  }
  q->impl_->landmarks = LandmarkPredictor::open(landmark_model.empty() ? kDefaultLandmarkModel : landmark_model);
  return q;
}

double ImageQuality::brisque(const Rgb8Image& image) const {
  cv::Mat bgr;
  cv::cvtColor(as_mat(image), bgr, cv::COLOR_RGB2BGR);
  return impl_->brisque->compute(bgr)[0];
}

double ImageQuality::landmark_distance(const Rgb8Image& result, const Rgb8Image& truth, const ImageBox& box) const {
  if (result.width != truth.width || result.height != truth.height)
    throw std::invalid_argument("landmark distance: the result and the ground truth differ in size");
  const FaceBox face{box.x, box.y, box.width, box.height};
  const auto a = impl_->landmarks->predict(as_ref(result), face);
  const auto b = impl_->landmarks->predict(as_ref(truth), face);
  const double eyes = std::hypot(b[45].x - b[36].x, b[45].y - b[36].y);
  if (!(eyes > 1.0)) throw std::runtime_error("landmark distance: no eyes found in the ground truth's face box");
  double sum = 0;
  for (int i = 0; i < kLandmarkCount; ++i) sum += std::hypot(a[i].x - b[i].x, a[i].y - b[i].y);
  return sum / kLandmarkCount / eyes;
}

}  // namespace facesr
