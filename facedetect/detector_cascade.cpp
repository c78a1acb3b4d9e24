// The OpenCV cascade backend (Haar or LBP).
#include <filesystem>
#include <stdexcept>

#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>

#include "detector_internal.h"

namespace facesr::detail {
namespace {

constexpr int kDefaultNeighbours = 3;

class CascadeDetector : public Detector {
 public:
  explicit CascadeDetector(const DetectorOptions& options) : Detector(options) {
    if (!std::filesystem::exists(options.cascade_path))
      throw std::runtime_error("cascade file " + options.cascade_path +
                               " does not exist: install Debian's opencv-data (scripts/install-deps.sh) or "
                               "pass the path of a Haar/LBP cascade XML");
    try {
      if (!cascade_.load(options.cascade_path)) throw std::runtime_error("not a cascade");
    } catch (const std::exception&) {
      throw std::runtime_error("cascade file " + options.cascade_path +
                               " is not a readable OpenCV Haar/LBP cascade XML");
    }
  }

  std::vector<Detection> detect(const ImageRef& image) override {
    const GrayView view = make_gray_view(image, options_, options_.detection_scale);
    std::vector<Detection> found;
    if (view.gray.empty()) return found;
    cv::Mat equalized = view.gray;
    if (options_.equalize_histogram) cv::equalizeHist(view.gray, equalized);
    const int neighbours = options_.score_threshold >= 1.0 ? static_cast<int>(options_.score_threshold)
                                                           : kDefaultNeighbours;
    const int min_side = std::max(1, static_cast<int>(options_.min_face_size * view.scale));
    const int max_side = options_.max_face_size > 0 ? static_cast<int>(options_.max_face_size * view.scale) + 1 : 0;
    std::vector<cv::Rect> rects;
    std::vector<int> counts;
    cascade_.detectMultiScale(equalized, rects, counts, options_.cascade_scale_step, neighbours, 0,
                              cv::Size(min_side, min_side), cv::Size(max_side, max_side));
    for (std::size_t i = 0; i < rects.size(); ++i)
      found.push_back({view.to_frame(rects[i].x, rects[i].y, rects[i].width, rects[i].height),
                       static_cast<double>(counts[i])});
    return finish(std::move(found), options_, 0.0);
  }

 private:
  cv::CascadeClassifier cascade_;
};

}  // namespace

std::unique_ptr<Detector> make_cascade_detector(const DetectorOptions& options) {
  return std::make_unique<CascadeDetector>(options);
}

}  // namespace facesr::detail
