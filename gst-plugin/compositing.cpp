#include "compositing.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "engine.h"     // kResultSize
#include "landmarks.h"  // face_mask_ellipse

namespace facesr {
namespace {

uint8_t clamp_u8(double v) { return static_cast<uint8_t>(std::clamp(std::lround(v), 0L, 255L)); }

// Y'CbCr <-> R'G'B' for one matrix and range, on 8-bit codes.
class YuvCoder {
 public:
  explicit YuvCoder(const YuvMatrix& m) : kr_(m.kr), kb_(m.kb), kg_(1.0 - m.kr - m.kb), full_(m.full_range) {}

  void to_yuv(double r, double g, double b, double& y, double& u, double& v) const {
    const double luma = (kr_ * r + kg_ * g + kb_ * b) / 255.0;
    const double pb = (b / 255.0 - luma) / (2.0 * (1.0 - kb_));
    const double pr = (r / 255.0 - luma) / (2.0 * (1.0 - kr_));
    y = full_ ? 255.0 * luma : 16.0 + 219.0 * luma;
    u = 128.0 + (full_ ? 255.0 : 224.0) * pb;
    v = 128.0 + (full_ ? 255.0 : 224.0) * pr;
  }

  void to_rgb(int y, int u, int v, uint8_t* rgb) const {
    const double luma = full_ ? y / 255.0 : (y - 16) / 219.0;
    const double pb = (u - 128) / (full_ ? 255.0 : 224.0);
    const double pr = (v - 128) / (full_ ? 255.0 : 224.0);
    const double r = luma + 2.0 * (1.0 - kr_) * pr;
    const double b = luma + 2.0 * (1.0 - kb_) * pb;
    const double g = (luma - kr_ * r - kb_ * b) / kg_;
    rgb[0] = clamp_u8(255.0 * r);
    rgb[1] = clamp_u8(255.0 * g);
    rgb[2] = clamp_u8(255.0 * b);
  }

 private:
  double kr_, kb_, kg_;
  bool full_;
};

uint8_t* luma_at(const FramePlanes& f, int x, int y) {
  return f.data[0] + static_cast<std::size_t>(f.origin_y + y) * f.stride[0] + (f.origin_x + x);
}

uint8_t* packed_at(const FramePlanes& f, int x, int y) {
  return f.data[0] + static_cast<std::size_t>(f.origin_y + y) * f.stride[0] +
         static_cast<std::size_t>(f.origin_x + x) * f.pixel_bytes;
}

// U and V of the chroma sample covering frame pixel (x, y).
void chroma_at(const FramePlanes& f, int x, int y, uint8_t** u, uint8_t** v) {
  const int cx = (f.origin_x + x) / 2, cy = (f.origin_y + y) / 2;
  if (f.layout == FrameLayout::I420) {
    *u = f.data[1] + static_cast<std::size_t>(cy) * f.stride[1] + cx;
    *v = f.data[2] + static_cast<std::size_t>(cy) * f.stride[2] + cx;
  } else {
    *u = f.data[1] + static_cast<std::size_t>(cy) * f.stride[1] + 2 * cx;
    *v = *u + 1;
  }
}

void check_rect(const FramePlanes& frame, const cv::Rect& rect, const char* what) {
  if ((rect & cv::Rect(0, 0, frame.width, frame.height)) != rect)
    throw std::invalid_argument(std::string(what) + ": rectangle outside the frame");
}

void blend_packed(FramePlanes& f, const cv::Rect& rect, const cv::Mat& rgb, const cv::Mat& alpha) {
  for (int y = 0; y < rect.height; ++y) {
    const uint8_t* src = rgb.ptr<uint8_t>(y);
    const float* a = alpha.ptr<float>(y);
    for (int x = 0; x < rect.width; ++x) {
      if (a[x] <= 0.0f) continue;
      uint8_t* p = packed_at(f, rect.x + x, rect.y + y);
      const float w = std::min(a[x], 1.0f);
      p[f.r] = clamp_u8(w * src[3 * x] + (1.0f - w) * p[f.r]);
      p[f.g] = clamp_u8(w * src[3 * x + 1] + (1.0f - w) * p[f.g]);
      p[f.b] = clamp_u8(w * src[3 * x + 2] + (1.0f - w) * p[f.b]);
    }
  }
}

void blend_yuv(FramePlanes& f, const cv::Rect& rect, const cv::Mat& rgb, const cv::Mat& alpha) {
  const YuvCoder coder(f.matrix);
  // Luma per pixel.
  for (int y = 0; y < rect.height; ++y) {
    const uint8_t* src = rgb.ptr<uint8_t>(y);
    const float* a = alpha.ptr<float>(y);
    for (int x = 0; x < rect.width; ++x) {
      if (a[x] <= 0.0f) continue;
      double ny, nu, nv;
      coder.to_yuv(src[3 * x], src[3 * x + 1], src[3 * x + 2], ny, nu, nv);
      uint8_t* p = luma_at(f, rect.x + x, rect.y + y);
      const float w = std::min(a[x], 1.0f);
      *p = clamp_u8(w * ny + (1.0f - w) * *p);
    }
  }
  // Chroma per 2x2 block (in absolute plane coordinates, so sub-frames stay aligned).
  const int ax0 = f.origin_x + rect.x, ay0 = f.origin_y + rect.y;
  const int ax1 = ax0 + rect.width, ay1 = ay0 + rect.height;  // exclusive
  for (int cy = ay0 / 2; cy <= (ay1 - 1) / 2; ++cy) {
    for (int cx = ax0 / 2; cx <= (ax1 - 1) / 2; ++cx) {
      double sum_a = 0, sum_u = 0, sum_v = 0;
      int block_pixels = 0;
      for (int dy = 0; dy < 2; ++dy) {
        for (int dx = 0; dx < 2; ++dx) {
          const int px = 2 * cx + dx - f.origin_x, py = 2 * cy + dy - f.origin_y;
          if (px < 0 || py < 0 || px >= f.width || py >= f.height) continue;
          ++block_pixels;
          const int rx = px - rect.x, ry = py - rect.y;
          if (rx < 0 || ry < 0 || rx >= rect.width || ry >= rect.height) continue;
          const float a = std::min(alpha.at<float>(ry, rx), 1.0f);
          if (a <= 0.0f) continue;
          const uint8_t* s = rgb.ptr<uint8_t>(ry) + 3 * rx;
          double ny, nu, nv;
          coder.to_yuv(s[0], s[1], s[2], ny, nu, nv);
          sum_a += a;
          sum_u += a * nu;
          sum_v += a * nv;
        }
      }
      if (sum_a <= 0.0 || block_pixels == 0) continue;
      const double w = sum_a / block_pixels;
      uint8_t *u, *v;
      chroma_at(f, 2 * cx - f.origin_x, 2 * cy - f.origin_y, &u, &v);
      *u = clamp_u8(w * (sum_u / sum_a) + (1.0 - w) * *u);
      *v = clamp_u8(w * (sum_v / sum_a) + (1.0 - w) * *v);
    }
  }
}

// The rectangle of chroma samples (in chroma-plane coordinates) a sub-frame covers.
cv::Rect chroma_rect(const FramePlanes& f) {
  const int x0 = f.origin_x / 2, y0 = f.origin_y / 2;
  const int x1 = (f.origin_x + f.width - 1) / 2, y1 = (f.origin_y + f.height - 1) / 2;
  return {x0, y0, x1 - x0 + 1, y1 - y0 + 1};
}

cv::Mat plane_mat(const FramePlanes& f, int plane, int type, const cv::Rect& rect) {
  return cv::Mat(rect.y + rect.height, rect.x + rect.width, type, f.data[plane], f.stride[plane])(rect);
}

void resize_plane(const cv::Mat& src, cv::Mat dst) {
  const bool shrinking = dst.cols < src.cols || dst.rows < src.rows;
  cv::resize(src, dst, dst.size(), 0, 0, shrinking ? cv::INTER_AREA : cv::INTER_CUBIC);
}

}  // namespace

FramePlanes sub_frame(const FramePlanes& frame, const cv::Rect& rect) {
  const cv::Rect r = rect & cv::Rect(0, 0, frame.width, frame.height);
  FramePlanes sub = frame;
  sub.origin_x += r.x;
  sub.origin_y += r.y;
  sub.width = r.width;
  sub.height = r.height;
  return sub;
}

cv::Mat read_rgb(const FramePlanes& frame, const cv::Rect& rect) {
  check_rect(frame, rect, "read_rgb");
  cv::Mat rgb(rect.size(), CV_8UC3);
  if (frame.layout == FrameLayout::Packed) {
    for (int y = 0; y < rect.height; ++y) {
      uint8_t* dst = rgb.ptr<uint8_t>(y);
      for (int x = 0; x < rect.width; ++x) {
        const uint8_t* p = packed_at(frame, rect.x + x, rect.y + y);
        dst[3 * x] = p[frame.r];
        dst[3 * x + 1] = p[frame.g];
        dst[3 * x + 2] = p[frame.b];
      }
    }
    return rgb;
  }
  const YuvCoder coder(frame.matrix);
  for (int y = 0; y < rect.height; ++y) {
    uint8_t* dst = rgb.ptr<uint8_t>(y);
    for (int x = 0; x < rect.width; ++x) {
      uint8_t *u, *v;
      chroma_at(frame, rect.x + x, rect.y + y, &u, &v);
      coder.to_rgb(*luma_at(frame, rect.x + x, rect.y + y), *u, *v, dst + 3 * x);
    }
  }
  return rgb;
}

void blend_rgb(FramePlanes& frame, const cv::Rect& rect, const cv::Mat& rgb, const cv::Mat& alpha) {
  check_rect(frame, rect, "blend_rgb");
  if (rgb.type() != CV_8UC3 || rgb.size() != rect.size() || alpha.type() != CV_32FC1 || alpha.size() != rect.size())
    throw std::invalid_argument("blend_rgb: rgb must be CV_8UC3 and alpha CV_32FC1, both the rectangle's size");
  if (rect.empty()) return;
  if (frame.layout == FrameLayout::Packed)
    blend_packed(frame, rect, rgb, alpha);
  else
    blend_yuv(frame, rect, rgb, alpha);
}

void fill_rgb(FramePlanes& frame, const cv::Rect& rect, const cv::Scalar& rgb) {
  const cv::Rect r = rect & cv::Rect(0, 0, frame.width, frame.height);
  if (r.empty()) return;
  blend_rgb(frame, r, cv::Mat(r.size(), CV_8UC3, rgb), cv::Mat(r.size(), CV_32FC1, cv::Scalar(1.0)));
}

cv::Mat luma(const FramePlanes& frame) {
  const cv::Rect whole(frame.origin_x, frame.origin_y, frame.width, frame.height);
  if (frame.layout != FrameLayout::Packed) return plane_mat(frame, 0, CV_8UC1, whole);
  const cv::Mat pixels(frame.origin_y + frame.height, frame.origin_x + frame.width, CV_8UC(frame.pixel_bytes),
                       frame.data[0], frame.stride[0]);
  cv::Mat weights = cv::Mat::zeros(1, frame.pixel_bytes, CV_32F);
  weights.at<float>(0, frame.r) = 0.299f;
  weights.at<float>(0, frame.g) = 0.587f;
  weights.at<float>(0, frame.b) = 0.114f;
  cv::Mat gray;
  cv::transform(pixels(whole), gray, weights);
  return gray;
}

cv::Mat luma_thumbnail(const FramePlanes& frame, cv::Size size) {
  const cv::Rect whole(frame.origin_x, frame.origin_y, frame.width, frame.height);
  cv::Mat small;
  if (frame.layout != FrameLayout::Packed) {
    cv::resize(plane_mat(frame, 0, CV_8UC1, whole), small, size, 0, 0, cv::INTER_AREA);
    return small;
  }
  cv::resize(plane_mat(frame, 0, CV_8UC(frame.pixel_bytes), whole), small, size, 0, 0, cv::INTER_AREA);
  cv::Mat weights = cv::Mat::zeros(1, frame.pixel_bytes, CV_32F);
  weights.at<float>(0, frame.r) = 0.299f;
  weights.at<float>(0, frame.g) = 0.587f;
  weights.at<float>(0, frame.b) = 0.114f;
  cv::Mat gray;
  cv::transform(small, gray, weights);
  return gray;
}

cv::Mat detection_rgb(const FramePlanes& frame) {
  const cv::Rect whole(frame.origin_x, frame.origin_y, frame.width, frame.height);
  cv::Mat rgb(frame.height, frame.width, CV_8UC3);
  if (frame.layout == FrameLayout::Packed) {
    const cv::Mat pixels = plane_mat(frame, 0, CV_8UC(frame.pixel_bytes), whole);
    const int from_to[] = {frame.r, 0, frame.g, 1, frame.b, 2};
    cv::mixChannels(&pixels, 1, &rgb, 1, from_to, 3);
    return rgb;
  }
  // Chroma upsampled bilinearly, then OpenCV's Y'CrCb (BT.601, full range) conversion; limited-range
  // codes are stretched first. BT.709 frames come out with slightly other colours: a detector does not
  // mind, and OpenCV's vectorised passes beat read_rgb's exact per-pixel path (the element at 1080p
  // with BlazeFace: 17.1 -> 18.6 fps, bench-speed).
  cv::Mat y = plane_mat(frame, 0, CV_8UC1, whole), u, v;
  const cv::Rect chroma = chroma_rect(frame);
  if (frame.layout == FrameLayout::I420) {
    u = plane_mat(frame, 1, CV_8UC1, chroma);
    v = plane_mat(frame, 2, CV_8UC1, chroma);
  } else {
    cv::Mat planes[2];
    cv::split(plane_mat(frame, 1, CV_8UC2, chroma), planes);
    u = planes[0];
    v = planes[1];
  }
  cv::Mat channels[3];
  if (frame.matrix.full_range) {
    channels[0] = y;
  } else {
    y.convertTo(channels[0], CV_8U, 255.0 / 219.0, -16.0 * 255.0 / 219.0);
  }
  const double c_gain = frame.matrix.full_range ? 1.0 : 255.0 / 224.0;
  for (auto [plane, index] : {std::pair{&v, 1}, std::pair{&u, 2}}) {
    cv::Mat stretched;
    plane->convertTo(stretched, CV_8U, c_gain, 128.0 * (1.0 - c_gain));
    cv::resize(stretched, channels[index], whole.size(), 0, 0, cv::INTER_LINEAR);
  }
  cv::Mat ycrcb;
  cv::merge(channels, 3, ycrcb);
  cv::cvtColor(ycrcb, rgb, cv::COLOR_YCrCb2RGB);
  return rgb;
}

void resize_frame(const FramePlanes& source, FramePlanes& target) {
  if (source.layout != target.layout) throw std::invalid_argument("resize_frame: layouts differ");
  if (source.width < 1 || source.height < 1 || target.width < 1 || target.height < 1) return;
  const cv::Rect src_whole(source.origin_x, source.origin_y, source.width, source.height);
  const cv::Rect dst_whole(target.origin_x, target.origin_y, target.width, target.height);
  if (source.layout == FrameLayout::Packed) {
    resize_plane(plane_mat(source, 0, CV_8UC(source.pixel_bytes), src_whole),
                 plane_mat(target, 0, CV_8UC(target.pixel_bytes), dst_whole));
    return;
  }
  resize_plane(plane_mat(source, 0, CV_8UC1, src_whole), plane_mat(target, 0, CV_8UC1, dst_whole));
  const cv::Rect src_chroma = chroma_rect(source), dst_chroma = chroma_rect(target);
  if (source.layout == FrameLayout::I420) {
    for (int plane = 1; plane <= 2; ++plane)
      resize_plane(plane_mat(source, plane, CV_8UC1, src_chroma), plane_mat(target, plane, CV_8UC1, dst_chroma));
  } else {
    // NV12: UV pairs as two-channel pixels.
    resize_plane(plane_mat(source, 1, CV_8UC2, src_chroma), plane_mat(target, 1, CV_8UC2, dst_chroma));
  }
}

cv::Mat feathered_face_mask(const FaceBox& face, const CropRegion& region) {
  // Built at most at the result's own size and resized from there: the mask is smooth (a blur of 5 %
  // of the side), so nothing is lost, and the cost follows the output pixels linearly. Built at full
  // size, the blur's kernel grew with the face: a frame-filling face at output-scale 4 took 93 s.
  const int side = std::min(region.side, kResultSize);
  cv::Mat mask;
  face_mask_ellipse(face, region, side).convertTo(mask, CV_32F, 1.0 / 255.0);
  const double sigma = std::max(1.0, 0.05 * side);
  cv::GaussianBlur(mask, mask, cv::Size(0, 0), sigma);
  // Fade to zero over the outer ramp of the square, whatever the ellipse and blur left there.
  const double ramp = std::max(2.0, 0.1 * side);
  for (int y = 0; y < side; ++y) {
    float* m = mask.ptr<float>(y);
    const double dy = std::min(y + 0.5, side - y - 0.5);
    for (int x = 0; x < side; ++x) {
      const double d = std::min(dy, std::min(x + 0.5, side - x - 0.5));
      const double t = std::clamp(d / ramp, 0.0, 1.0);
      m[x] *= static_cast<float>(t * t * (3.0 - 2.0 * t));  // smoothstep
    }
  }
  if (side < region.side) cv::resize(mask, mask, cv::Size(region.side, region.side), 0, 0, cv::INTER_LINEAR);
  return mask;
}

void match_colour(cv::Mat& enhanced, const cv::Mat& original, const cv::Mat& weights) {
  const double total = cv::sum(weights)[0];
  if (total < 1e-3) return;
  std::vector<cv::Mat> e, o;
  cv::split(enhanced, e);
  cv::split(original, o);
  for (std::size_t c = 0; c < e.size(); ++c) {
    const double mean_e = cv::sum(e[c].mul(weights))[0] / total;
    const double mean_o = cv::sum(o[c].mul(weights))[0] / total;
    cv::Mat de = e[c] - mean_e, dor = o[c] - mean_o;
    const double std_e = std::sqrt(cv::sum(de.mul(de).mul(weights))[0] / total);
    const double std_o = std::sqrt(cv::sum(dor.mul(dor).mul(weights))[0] / total);
    const double gain = std_e > 1e-3 ? std::clamp(std_o / std_e, 0.5, 2.0) : 1.0;
    e[c] = de * gain + mean_o;
  }
  cv::merge(e, enhanced);
}

void paste_face(FramePlanes& target, const CropRegion& region, const FaceBox& face, const cv::Mat& result) {
  const ClippedRegion clip = clip_region(region, target.size());
  if (clip.in_frame.empty()) return;
  cv::Mat resized;
  cv::resize(result, resized, cv::Size(region.side, region.side), 0, 0,
             region.side < result.cols ? cv::INTER_AREA : cv::INTER_CUBIC);
  cv::Mat enhanced, original;
  resized(clip.in_region).convertTo(enhanced, CV_32FC3);
  read_rgb(target, clip.in_frame).convertTo(original, CV_32FC3);
  const cv::Mat mask = feathered_face_mask(face, region)(clip.in_region).clone();
  match_colour(enhanced, original, mask);
  cv::Mat pixels;
  enhanced.convertTo(pixels, CV_8UC3);
  blend_rgb(target, clip.in_frame, pixels, mask);
}

void draw_outline(FramePlanes& frame, const cv::Rect& box, int thickness, const cv::Scalar& rgb) {
  const int t = std::max(1, thickness);
  const cv::Rect outer(box.x - t, box.y - t, box.width + 2 * t, box.height + 2 * t);
  fill_rgb(frame, {outer.x, outer.y, outer.width, t}, rgb);
  fill_rgb(frame, {outer.x, box.br().y, outer.width, t}, rgb);
  fill_rgb(frame, {outer.x, box.y, t, box.height}, rgb);
  fill_rgb(frame, {box.br().x, box.y, t, box.height}, rgb);
}

std::vector<cv::Rect> place_insets(cv::Size frame, const std::vector<cv::Rect>& faces, const std::vector<int>& sides) {
  constexpr int kGap = 4, kMinSide = 24;
  const cv::Rect whole(0, 0, frame.width, frame.height);
  std::vector<cv::Rect> taken(faces.begin(), faces.end()), insets;
  auto free = [&](const cv::Rect& r) {
    if ((r & whole) != r) return false;
    for (const auto& t : taken)
      if ((r & t).area() > 0) return false;
    return true;
  };
  for (std::size_t i = 0; i < sides.size(); ++i) {
    const cv::Rect& face = faces[i];
    cv::Rect chosen;
    for (int side = std::min({sides[i], frame.width, frame.height}); side >= kMinSide && chosen.empty();
         side = side * 3 / 4) {
      std::vector<cv::Rect> candidates = {
          {face.br().x + kGap, face.y, side, side},                 // right of the face
          {face.x - kGap - side, face.y, side, side},               // left
          {face.x, face.br().y + kGap, side, side},                 // below
          {face.x, face.y - kGap - side, side, side}};              // above
      for (int x = 0; x + side <= frame.width; x += side + kGap) {  // the gallery: bottom and top edges
        candidates.push_back({x, frame.height - side, side, side});
        candidates.push_back({x, 0, side, side});
      }
      for (int y = 0; y + side <= frame.height; y += side + kGap) {  // right and left edges
        candidates.push_back({frame.width - side, y, side, side});
        candidates.push_back({0, y, side, side});
      }
      for (const auto& c : candidates)
        if (free(c)) {
          chosen = c;
          break;
        }
    }
    insets.push_back(chosen);
    if (!chosen.empty()) taken.push_back(chosen);
  }
  return insets;
}

void draw_inset(FramePlanes& frame, const cv::Rect& inset, const cv::Mat& result) {
  constexpr int kBorder = 2;
  const cv::Rect picture(inset.x + kBorder, inset.y + kBorder, inset.width - 2 * kBorder, inset.height - 2 * kBorder);
  if (picture.width < 8 || picture.height < 8) return;
  fill_rgb(frame, inset, cv::Scalar(255, 255, 255));
  cv::Mat resized;
  cv::resize(result, resized, picture.size(), 0, 0, picture.width < result.cols ? cv::INTER_AREA : cv::INTER_CUBIC);
  blend_rgb(frame, picture, resized, cv::Mat(picture.size(), CV_32FC1, cv::Scalar(1.0)));
}

}  // namespace facesr
