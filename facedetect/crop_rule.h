// The crop rule: which square of a frame is fed to the network for a detected face, and how a
// 256x256 result maps back onto the frame. One implementation, used by facesr-prepare when it cuts
// training faces and by the element when it cuts faces from video, with the parameters stored in
// the model's metadata (model/metadata.h CropRule), so a model always sees faces framed as in training.
//
// Region: centre = (x + w/2 + center_dx * w, y + h/2 + center_dy * h), side = side_scale * max(w, h),
// rounded to whole pixels (so the forward and inverse mappings are exact integer rectangles).
// Off-frame: a region that runs off the frame is padded by replicating the nearest edge pixel
// (cv::BORDER_REPLICATE), which keeps skin and background colours continuous instead of adding black
// bars the network never saw. paste_region() clips to the frame.
#pragma once

#include <opencv2/core.hpp>

#include <vector>

#include "metadata.h"  // facesr::CropRule (model/)

namespace facesr {

struct FaceBox {
  double x = 0, y = 0, width = 0, height = 0;  // frame pixels
};

struct CropRegion {
  int x = 0, y = 0;  // top-left corner in frame pixels; may be negative or run past the frame
  int side = 0;      // > 0
  cv::Rect rect() const { return {x, y, side, side}; }
};

// Throws std::invalid_argument for an empty box or a non-positive side_scale.
CropRegion crop_region_for_face(const FaceBox& face, const CropRule& rule);

// Which of several models (input sides `sides`, ascending, each with its crop rule `rules[k]`) a face
// goes to: the first whose crop region for `face` fits its input without shrinking (region side <=
// input side); when none does, the last (largest). What the element and facesr-enhance-image do.
std::size_t model_for_face(const FaceBox& face, const std::vector<int>& sides, const std::vector<CropRule>& rules);

// The region resampled to size x size (area averaging when shrinking, bicubic when enlarging), with
// replicated edges where it leaves the frame. `frame`: any type OpenCV can resize (8UC3, 8UC1 ...).
cv::Mat extract_crop(const cv::Mat& frame, const CropRegion& region, int size);

// Frame coordinates of a point given in crop pixels of a size x size crop of `region`, and back.
cv::Point2d crop_to_frame(const CropRegion& region, int size, cv::Point2d crop_point);
cv::Point2d frame_to_crop(const CropRegion& region, int size, cv::Point2d frame_point);

// The part of `region` that lies inside a frame of `frame_size`, and the matching rectangle inside
// a region-sized image (both empty when the region is fully off-frame).
struct ClippedRegion {
  cv::Rect in_frame;
  cv::Rect in_region;
};
ClippedRegion clip_region(const CropRegion& region, cv::Size frame_size);

}  // namespace facesr
