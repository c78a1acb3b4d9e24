// Compositing for the facesr element: reading and writing the pixels of a video frame laid out as
// GStreamer lays it out (packed RGB variants, I420, NV12, each plane with its own stride), and
// pasting an enhanced 256x256 face back through the inverse crop mapping with a feathered mask and
// colour matching, so that no seam or box edge shows.
//
// Plain C++ (OpenCV, no GObject types): gstfacesr.cpp describes a mapped GstVideoFrame as a
// FramePlanes and everything below works on that description, never copying a whole frame.
//
// Colour: faces are handled in 8-bit RGB. YUV frames are converted per pixel with the frame's own
// matrix (Kr, Kb from its colorimetry) and range, only over the rectangles a face touches; chroma
// is read by nearest neighbour and written back as the mean of each 2x2 block.
#pragma once

#include <cstddef>
#include <cstdint>

#include <opencv2/core.hpp>

#include "crop_rule.h"  // CropRegion, FaceBox (facedetect/)

namespace facesr {

enum class FrameLayout {
  Packed,  // one plane; pixel_bytes per pixel, R, G, B at byte offsets r, g, b (alpha/padding kept)
  I420,    // Y, U, V planes; U and V subsampled 2x2
  NV12,    // Y plane and one interleaved UV plane subsampled 2x2
};

// Y'CbCr coding of a YUV frame: luma weights of R and B (BT.601: 0.299, 0.114; BT.709: 0.2126,
// 0.0722) and whether the codes span 0-255 (full) or 16-235 / 16-240 (limited).
struct YuvMatrix {
  double kr = 0.299;
  double kb = 0.114;
  bool full_range = false;
};

// Where a frame's pixels are. A view: it owns nothing. `origin_x/y` place a sub-frame (for
// side-by-side output) inside the planes; width and height are the sub-frame's.
struct FramePlanes {
  FrameLayout layout = FrameLayout::Packed;
  int width = 0;
  int height = 0;
  uint8_t* data[3] = {nullptr, nullptr, nullptr};
  std::size_t stride[3] = {0, 0, 0};
  int pixel_bytes = 3;        // Packed: 3 or 4
  int r = 0, g = 1, b = 2;    // Packed: byte offset of each colour inside a pixel
  YuvMatrix matrix;           // I420, NV12
  int origin_x = 0, origin_y = 0;

  cv::Size size() const { return {width, height}; }
};

// The part of `frame` inside `rect` (clipped to the frame) as a sub-frame view.
FramePlanes sub_frame(const FramePlanes& frame, const cv::Rect& rect);

// An RGB8 copy (CV_8UC3) of `rect`, which must lie inside the frame.
cv::Mat read_rgb(const FramePlanes& frame, const cv::Rect& rect);

// Blends `rgb` (CV_8UC3, rect-sized) into `rect` of the frame with weights `alpha` (CV_32FC1 in
// [0, 1], rect-sized): out = alpha * rgb + (1 - alpha) * frame. Pixels with alpha 0 keep their exact
// bytes; padding and alpha bytes of packed pixels are never written.
void blend_rgb(FramePlanes& frame, const cv::Rect& rect, const cv::Mat& rgb, const cv::Mat& alpha);

// Fills `rect` with a solid RGB colour (used for outlines and inset borders).
void fill_rgb(FramePlanes& frame, const cv::Rect& rect, const cv::Scalar& rgb);

// Luma of the whole frame for face detection: a view of the Y plane (no copy) for YUV, computed
// for packed formats.
cv::Mat luma(const FramePlanes& frame);

// The frame's luma shrunk to `size` by area averaging (CV_8UC1), cheaply: packed pixels are shrunk
// before their luma is computed. For telling scene cuts (FaceEnhancer).
cv::Mat luma_thumbnail(const FramePlanes& frame, cv::Size size);

// RGB8 (CV_8UC3) of the whole frame for a colour face detector: exact for packed formats, BT.601
// full-range arithmetic on bilinearly upsampled chroma for YUV (a detector's view, not for output).
cv::Mat detection_rgb(const FramePlanes& frame);

// Resamples all of `source` into all of `target` (same layout): area averaging when shrinking,
// bicubic when enlarging. Used for output-scale and side-by-side (the faces that are not replaced
// are only ever resized this way).
void resize_frame(const FramePlanes& source, FramePlanes& target);

// Feathered face mask (CV_32FC1 in [0, 1], side x side) for pasting a result over `region`: an
// ellipse over the face box (face_mask_ellipse), blurred, and faded to 0 towards the region's
// edges so that the square's border never shows.
cv::Mat feathered_face_mask(const FaceBox& face, const CropRegion& region);

// Per channel, shifts and scales `enhanced` (CV_32FC3) so that its mean and standard deviation
// inside `weights` match those of `original` (CV_32FC3): the result keeps the face's brightness and
// colour while keeping the enhanced detail. The gain is limited to [0.5, 2].
void match_colour(cv::Mat& enhanced, const cv::Mat& original, const cv::Mat& weights);

// Pastes one enhanced face: `result` (CV_8UC3 RGB, kResultSize square) is resized to `region`
// (already in `target`'s pixel coordinates), colour-matched to what the frame shows there, and
// blended in with feathered_face_mask(face, region). Parts of the region off the frame are skipped.
void paste_face(FramePlanes& target, const CropRegion& region, const FaceBox& face, const cv::Mat& result);

// Draws an outline `thickness` pixels wide just outside `box` (clipped to the frame).
void draw_outline(FramePlanes& frame, const cv::Rect& box, int thickness, const cv::Scalar& rgb);

// Where mode=inset shows each face enlarged: for face i a square of about sides[i] pixels (border
// included) that covers no face of `faces` (all found, enhanced or not) and no inset placed before it,
// inside the frame: beside the face (right, left, below, above) where there is room, else in a
// gallery along the frame's edges (bottom, top, right, left); where none is free at that size, the
// same at 3/4 of it, down to 24 px; an empty rect when nothing fits (the face is still enhanced, only
// not shown enlarged). insets[i] belongs to faces[i] for i < sides.size() (the enhanced faces come
// first in `faces`).
std::vector<cv::Rect> place_insets(cv::Size frame, const std::vector<cv::Rect>& faces, const std::vector<int>& sides);

// Draws `result` into `inset` (a rect from place_insets: border included, 2 px white).
void draw_inset(FramePlanes& frame, const cv::Rect& inset, const cv::Mat& result);

}  // namespace facesr
