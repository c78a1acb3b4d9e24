#include "crop_rule.h"

#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

namespace facesr {

std::size_t model_for_face(const FaceBox& face, const std::vector<int>& sides, const std::vector<CropRule>& rules) {
  for (std::size_t k = 0; k < sides.size() && k < rules.size(); ++k)
    if (crop_region_for_face(face, rules[k]).side <= sides[k]) return k;
  return sides.empty() ? 0 : sides.size() - 1;
}

CropRegion crop_region_for_face(const FaceBox& face, const CropRule& rule) {
  if (!(face.width > 0) || !(face.height > 0))
    throw std::invalid_argument("face box has no area (" + std::to_string(face.width) + "x" +
                                std::to_string(face.height) + ")");
  if (!(rule.side_scale > 0)) throw std::invalid_argument("crop rule side_scale must be positive");
  const double cx = face.x + face.width / 2 + rule.center_dx * face.width;
  const double cy = face.y + face.height / 2 + rule.center_dy * face.height;
  CropRegion region;
  region.side = std::max(1, static_cast<int>(std::lround(rule.side_scale * std::max(face.width, face.height))));
  region.x = static_cast<int>(std::lround(cx - region.side / 2.0));
  region.y = static_cast<int>(std::lround(cy - region.side / 2.0));
  return region;
}

ClippedRegion clip_region(const CropRegion& region, cv::Size frame_size) {
  const cv::Rect in_frame = region.rect() & cv::Rect(0, 0, frame_size.width, frame_size.height);
  if (in_frame.empty()) return {};
  return {in_frame, cv::Rect(in_frame.x - region.x, in_frame.y - region.y, in_frame.width, in_frame.height)};
}

cv::Mat extract_crop(const cv::Mat& frame, const CropRegion& region, int size) {
  if (frame.empty()) throw std::invalid_argument("extract_crop: empty frame");
  if (size < 1 || region.side < 1) throw std::invalid_argument("extract_crop: empty crop");
  const ClippedRegion clip = clip_region(region, frame.size());
  cv::Mat square;
  if (clip.in_frame.empty()) {
    // Fully off-frame: replicate the nearest frame pixel, as the padding rule says.
    const int px = std::clamp(region.x + region.side / 2, 0, frame.cols - 1);
    const int py = std::clamp(region.y + region.side / 2, 0, frame.rows - 1);
    cv::repeat(frame(cv::Rect(px, py, 1, 1)), region.side, region.side, square);
  } else if (clip.in_region == cv::Rect(0, 0, region.side, region.side)) {
    square = frame(clip.in_frame);  // inside the frame: a view, no copy
  } else {
    cv::copyMakeBorder(frame(clip.in_frame), square, clip.in_region.y,
                       region.side - clip.in_region.br().y, clip.in_region.x,
                       region.side - clip.in_region.br().x, cv::BORDER_REPLICATE);
  }
  cv::Mat crop;
  cv::resize(square, crop, cv::Size(size, size), 0, 0, size < region.side ? cv::INTER_AREA : cv::INTER_CUBIC);
  return crop;
}

cv::Point2d crop_to_frame(const CropRegion& region, int size, cv::Point2d p) {
  const double scale = static_cast<double>(region.side) / size;
  return {region.x + p.x * scale, region.y + p.y * scale};
}

cv::Point2d frame_to_crop(const CropRegion& region, int size, cv::Point2d p) {
  const double scale = static_cast<double>(size) / region.side;
  return {(p.x - region.x) * scale, (p.y - region.y) * scale};
}

}  // namespace facesr
