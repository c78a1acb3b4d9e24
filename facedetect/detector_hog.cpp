// The dlib HOG backend. Note: dlib's detector(img, dets, adjust_threshold) takes a score threshold as
// its last argument, not an upsampling count; upsampling is done on the gray view beforehand.
#include <dlib/image_processing/frontal_face_detector.h>
#include <dlib/opencv/cv_image.h>

#include "detector_internal.h"

namespace facesr::detail {
namespace {

class HogDetector : public Detector {
 public:
  explicit HogDetector(const DetectorOptions& options)
      : Detector(options), detector_(dlib::get_frontal_face_detector()) {}

  std::vector<Detection> detect(const ImageRef& image) override {
    const double scale = options_.detection_scale * static_cast<double>(1 << options_.upsample);
    const GrayView view = make_gray_view(image, options_, scale);
    std::vector<Detection> found;
    if (view.gray.empty() || view.gray.cols < 2 || view.gray.rows < 2) return found;
    const dlib::cv_image<unsigned char> gray(view.gray);  // wraps, no copy
    std::vector<dlib::rect_detection> hits;
    detector_(gray, hits, std::min(options_.score_threshold, 0.0));
    for (const auto& hit : hits) {
      const auto& r = hit.rect;
      found.push_back({view.to_frame(r.left(), r.top(), r.width(), r.height()), hit.detection_confidence});
    }
    return finish(std::move(found), options_, options_.score_threshold);
  }

 private:
  dlib::frontal_face_detector detector_;
};

}  // namespace

std::unique_ptr<Detector> make_hog_detector(const DetectorOptions& options) {
  return std::make_unique<HogDetector>(options);
}

}  // namespace facesr::detail
