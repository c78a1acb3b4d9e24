#include "detector.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "detector_internal.h"

namespace facesr {

const char* const kDefaultCascade = "/usr/share/opencv4/haarcascades/haarcascade_frontalface_alt2.xml";
const char* const kLbpCascade = "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface_improved.xml";

namespace detail {
namespace {

int channels_of(PixelFormat format) {
  switch (format) {
    case PixelFormat::Gray8: return 1;
    case PixelFormat::RGB8:
    case PixelFormat::BGR8: return 3;
    case PixelFormat::RGBX8:
    case PixelFormat::BGRX8: return 4;
  }
  return 0;
}

int gray_conversion(PixelFormat format) {
  switch (format) {
    case PixelFormat::RGB8: return cv::COLOR_RGB2GRAY;
    case PixelFormat::BGR8: return cv::COLOR_BGR2GRAY;
    case PixelFormat::RGBX8: return cv::COLOR_RGBA2GRAY;
    case PixelFormat::BGRX8: return cv::COLOR_BGRA2GRAY;
    case PixelFormat::Gray8: break;
  }
  return -1;
}

}  // namespace

void check_image(const ImageRef& image) {
  if (image.data == nullptr) throw std::invalid_argument("detect: image data is null");
  if (image.width < 1 || image.height < 1)
    throw std::invalid_argument("detect: image is " + std::to_string(image.width) + "x" +
                                std::to_string(image.height) + "; it needs at least 1x1 pixels");
  const int channels = channels_of(image.format);
  if (image.stride < static_cast<std::size_t>(image.width) * channels)
    throw std::invalid_argument("detect: stride " + std::to_string(image.stride) + " is less than width x " +
                                std::to_string(channels) + " bytes");
}

GrayView make_gray_view(const ImageRef& image, const DetectorOptions& options, double scale) {
  check_image(image);
  const int channels = channels_of(image.format);
  const double pixels = static_cast<double>(image.width) * image.height * scale * scale;
  if (pixels > kMaxDetectionPixels)
    throw std::invalid_argument(
        "detect: a " + std::to_string(image.width) + "x" + std::to_string(image.height) +
        " image at detection scale x upsampling " + std::to_string(scale) + " is " +
        std::to_string(static_cast<long long>(pixels / 1e6)) +
        " Mpixel; detection works on at most 16.7 Mpixel: lower detection_scale or upsample");

  const cv::Mat whole(image.height, image.width, CV_8UC(channels), const_cast<uint8_t*>(image.data), image.stride);
  cv::Rect roi(0, 0, image.width, image.height);
  if (options.roi_width > 0 && options.roi_height > 0)
    roi &= cv::Rect(options.roi_x, options.roi_y, options.roi_width, options.roi_height);
  GrayView view;
  view.scale = scale;
  view.offset_x = roi.x;
  view.offset_y = roi.y;
  if (roi.empty()) return view;  // region of interest outside the image: nothing to find
  const cv::Mat source = whole(roi);  // a view, no copy
  cv::Mat gray;
  if (image.format == PixelFormat::Gray8) {
    gray = source;
  } else if (scale < 1.0) {
    // Shrink first, convert the smaller image: the colour conversion is the costly pass.
    cv::Mat small;
    cv::resize(source, small, cv::Size(), scale, scale, cv::INTER_AREA);
    cv::cvtColor(small, view.gray, gray_conversion(image.format));
    return view;
  } else {
    cv::cvtColor(source, gray, gray_conversion(image.format));
  }
  if (scale == 1.0) {
    view.gray = gray;
  } else {
    cv::resize(gray, view.gray, cv::Size(), scale, scale, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  return view;
}

std::vector<Detection> finish(std::vector<Detection> found, const DetectorOptions& options,
                              double score_threshold) {
  std::vector<Detection> kept;
  for (const auto& d : found) {
    const double side = std::max(d.box.width, d.box.height);
    if (side < options.min_face_size) continue;
    if (options.max_face_size > 0 && side > options.max_face_size) continue;
    if (d.score < score_threshold) continue;
    kept.push_back(d);
  }
  std::stable_sort(kept.begin(), kept.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
  if (options.max_faces > 0 && kept.size() > static_cast<std::size_t>(options.max_faces)) kept.resize(options.max_faces);
  return kept;
}

}  // namespace detail

namespace {

class ExternalDetector : public Detector {
 public:
  explicit ExternalDetector(const DetectorOptions& options) : Detector(options) {}
  std::vector<Detection> detect(const ImageRef& image) override {
    if (image.width < 1 || image.height < 1)
      throw std::invalid_argument("detect: image is " + std::to_string(image.width) + "x" +
                                  std::to_string(image.height));
    std::vector<Detection> inside;
    const FaceBox frame{0, 0, static_cast<double>(image.width), static_cast<double>(image.height)};
    for (const auto& d : supplied_) {
      if (iou(d.box, frame) <= 0.0) continue;  // entirely off-frame
      if (options_.roi_width > 0 && options_.roi_height > 0) {
        const double cx = d.box.x + d.box.width / 2, cy = d.box.y + d.box.height / 2;
        if (cx < options_.roi_x || cy < options_.roi_y || cx >= options_.roi_x + options_.roi_width ||
            cy >= options_.roi_y + options_.roi_height)
          continue;
      }
      inside.push_back(d);
    }
    supplied_.clear();
    return detail::finish(std::move(inside), options_, -std::numeric_limits<double>::infinity());
  }
  void supply(std::vector<Detection> boxes) override { supplied_ = std::move(boxes); }

 private:
  std::vector<Detection> supplied_;
};

void validate(const DetectorOptions& o) {
  auto bad = [](const std::string& what) { throw std::invalid_argument("detector options: " + what); };
  if (o.upsample < 0 || o.upsample > 3) bad("upsample must be 0..3, got " + std::to_string(o.upsample));
  if (o.min_face_size < 0) bad("min_face_size must be >= 0");
  if (o.max_face_size < 0 || (o.max_face_size > 0 && o.max_face_size < o.min_face_size))
    bad("max_face_size must be 0 (no limit) or >= min_face_size");
  if (o.max_faces < 0) bad("max_faces must be >= 0");
  if (!(o.detection_scale > 0.0 && o.detection_scale <= 1.0))
    bad("detection_scale must be in (0, 1], got " + std::to_string(o.detection_scale));
  if (o.roi_width < 0 || o.roi_height < 0) bad("region of interest width and height must be >= 0");
  if (!(o.cascade_scale_step > 1.0 && o.cascade_scale_step <= 2.0))
    bad("cascade_scale_step must be in (1, 2], got " + std::to_string(o.cascade_scale_step));
  if (o.backend != DetectorBackend::Hog && o.upsample != 0) bad("upsample applies to the hog backend only");
  if (o.blazeface_face_px != 0 && (o.blazeface_face_px < 12 || o.blazeface_face_px > 48))
    bad("blazeface_face_px must be 0 (the default) or 12..48, got " + std::to_string(o.blazeface_face_px));
  if (o.backend == DetectorBackend::BlazeFace && !(o.score_threshold < 1.0))
    bad("the blazeface score threshold is a probability below 1, got " + std::to_string(o.score_threshold));
}

}  // namespace

std::unique_ptr<Detector> Detector::create(const DetectorOptions& options) {
  validate(options);
  switch (options.backend) {
    case DetectorBackend::Hog: return detail::make_hog_detector(options);
    case DetectorBackend::Cascade: return detail::make_cascade_detector(options);
    case DetectorBackend::BlazeFace: return detail::make_blazeface_detector(options);
    case DetectorBackend::External: return std::make_unique<ExternalDetector>(options);
  }
  throw std::invalid_argument("unknown detector backend");
}

void Detector::supply(std::vector<Detection>) {
  throw std::logic_error("supply() is for the external detector backend; this is " + to_string(options_.backend));
}

std::string to_string(DetectorBackend backend) {
  switch (backend) {
    case DetectorBackend::Hog: return "hog";
    case DetectorBackend::Cascade: return "cascade";
    case DetectorBackend::BlazeFace: return "blazeface";
    case DetectorBackend::External: return "external";
  }
  return "?";
}

DetectorBackend detector_backend_from_string(const std::string& name) {
  for (auto b : {DetectorBackend::Hog, DetectorBackend::Cascade, DetectorBackend::BlazeFace, DetectorBackend::External})
    if (to_string(b) == name) return b;
  throw std::invalid_argument("unknown detector backend '" + name + "' (expected hog, cascade, blazeface or external)");
}

}  // namespace facesr
