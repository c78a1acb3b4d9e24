#include "landmarks.h"

#include <filesystem>
#include <stdexcept>

#include <dlib/image_processing/shape_predictor.h>
#include <dlib/opencv/cv_image.h>
#include <opencv2/imgproc.hpp>

#include "detector_internal.h"

namespace facesr {

const char* const kDefaultLandmarkModel = "/usr/share/dlib/shape_predictor_68_face_landmarks.dat";

struct LandmarkPredictor::Impl {
  dlib::shape_predictor predictor;
};

LandmarkPredictor::LandmarkPredictor() : impl_(std::make_unique<Impl>()) {}
LandmarkPredictor::~LandmarkPredictor() = default;

std::unique_ptr<LandmarkPredictor> LandmarkPredictor::open(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw std::runtime_error("landmark model " + path +
                             " does not exist: install Debian's libdlib-data (scripts/install-deps.sh) or pass "
                             "the path of a dlib 68-point shape predictor");
  std::unique_ptr<LandmarkPredictor> result(new LandmarkPredictor());
  try {
    dlib::deserialize(path) >> result->impl_->predictor;
  } catch (const std::exception& e) {
    throw std::runtime_error("landmark model " + path + " is not a dlib shape predictor: " + e.what());
  }
  if (result->impl_->predictor.num_parts() != kLandmarkCount)
    throw std::runtime_error("landmark model " + path + " predicts " +
                             std::to_string(result->impl_->predictor.num_parts()) + " points, facesr needs 68");
  return result;
}

std::vector<cv::Point2f> LandmarkPredictor::predict(const ImageRef& image, const FaceBox& box) const {
  DetectorOptions whole_frame;
  const detail::GrayView view = detail::make_gray_view(image, whole_frame, 1.0);
  const dlib::cv_image<unsigned char> gray(view.gray);
  const dlib::rectangle rect(static_cast<long>(box.x), static_cast<long>(box.y),
                             static_cast<long>(box.x + box.width), static_cast<long>(box.y + box.height));
  const dlib::full_object_detection shape = impl_->predictor(gray, rect);
  std::vector<cv::Point2f> points;
  for (unsigned long i = 0; i < shape.num_parts(); ++i)
    points.emplace_back(static_cast<float>(shape.part(i).x()), static_cast<float>(shape.part(i).y()));
  return points;
}

cv::Mat face_mask_from_landmarks(const std::vector<cv::Point2f>& landmarks, const CropRegion& region, int size) {
  if (landmarks.size() != kLandmarkCount)
    throw std::invalid_argument("face_mask_from_landmarks needs 68 points, got " + std::to_string(landmarks.size()));
  std::vector<cv::Point2f> points;
  for (const auto& p : landmarks) {
    const cv::Point2d c = frame_to_crop(region, size, p);
    points.emplace_back(static_cast<float>(c.x), static_cast<float>(c.y));
  }
  // Forehead: raise the brow points (17-26) along the chin -> nose-bridge direction.
  const cv::Point2f up = points[27] - points[8];
  for (int i = 17; i <= 26; ++i) points.push_back(points[i] + up * static_cast<float>(kForeheadRaise));
  std::vector<cv::Point2f> hull;
  cv::convexHull(points, hull);
  std::vector<cv::Point> polygon;
  for (const auto& p : hull) polygon.emplace_back(cvRound(p.x), cvRound(p.y));
  cv::Mat mask = cv::Mat::zeros(size, size, CV_8UC1);
  cv::fillConvexPoly(mask, polygon, cv::Scalar(255), cv::LINE_AA);
  return mask;
}

cv::Mat face_mask_ellipse(const FaceBox& box, const CropRegion& region, int size) {
  const cv::Point2d centre = frame_to_crop(region, size, {box.x + box.width / 2, box.y + box.height * 0.45});
  const double scale = static_cast<double>(size) / region.side;
  cv::Mat mask = cv::Mat::zeros(size, size, CV_8UC1);
  cv::ellipse(mask, cv::Point(cvRound(centre.x), cvRound(centre.y)),
              cv::Size(cvRound(0.55 * box.width * scale), cvRound(0.7 * box.height * scale)), 0, 0, 360,
              cv::Scalar(255), cv::FILLED, cv::LINE_AA);
  return mask;
}

}  // namespace facesr
