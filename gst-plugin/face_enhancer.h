// The facesr element's processing, as a plain C++ class kept behind an opaque pointer by
// gstfacesr.cpp (as gst-plugins-bad's onnx element keeps its client): detector + tracker + engine +
// compositing. No GObject types here, no LibTorch types either (engine.h hides them).
//
//   facesr::EnhancerConfig config;
//   config.model_path = "facesr-default.safetensors";
//   auto enhancer = facesr::FaceEnhancer::create(config);   // throws; see create()
//   per frame:
//     std::vector<facesr::FaceReport> faces = enhancer->process(source, target, 1, {}, settings);
//
// Models: one engine per scale (8x: 32x32 input, 4x: 64x64, 2x: 128x128), from the files given
// and, for a single file, the companions its metadata names (metadata.h). Each face goes to the
// model with the smallest input that holds its crop region without shrinking it (model_for_face), so a
// 20 px face gets the 8x model, a 40 px one the 4x, an 80 px one the 2x.
//
// Per frame: on a scene cut (the frame's luma far from the previous frame's) forget the tracks and the
// smoothed results; find faces (FaceFinder: the detector every `detect_interval` frames, the tracker's
// prediction in between; those inside [min_face_size, max_face_size], at most max_faces; the others
// are reported, not enhanced, with the reason), crop each by its model's crop rule to that model's
// input size, run each model's faces as one batch, optionally blend each track's result with its
// previous one, and paste the results into the target (compositing.h).
// Threading: one thread at a time (the element's streaming thread).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "compositing.h"
#include "engine.h"
#include "face_finder.h"

namespace facesr {

enum class CompositeMode {
  Replace,     // enhanced faces replace the originals
  Inset,       // ... and each is also shown enlarged beside it
  SideBySide,  // the element shows the original and the enhanced frame next to each other
};

// Fixed from start() to stop().
struct EnhancerConfig {
  // One weights file, or several separated by commas (one per scale).
  std::string model_path;
  // With a single file: also load the companions its metadata names (missing ones: a warning).
  bool companions = true;
  Device device = Device::Auto;
  Precision precision = Precision::Auto;
  int threads = 0;  // 0 = all cores
  FaceSource source = FaceSource::Haar;
};

// May change between frames. The finder's part: detect_interval, min/max_face_size (source pixels),
// max_faces (face_finder.h).
// max_face_size here may also be kAutoMaxFaceSize (auto_max_face_size()).
constexpr int kAutoMaxFaceSize = -1;

struct FrameSettings : FinderSettings {
  double temporal_smoothing = 0.0;  // [0, 1): weight of a track's previous result
  float noise = 0.0f;       // the paper's w/N strength; 0 = deterministic
  bool annotate = false;    // outline each enhanced face
  bool flip_ensemble = false;  // EnhanceParams::flip_ensemble
  CompositeMode mode = CompositeMode::Replace;
};

struct FaceReport {
  int track_id = 0;
  FaceBox box;            // target pixels
  double score = 0.0;     // of the last matching detection
  bool detected = false;  // matched a detection on this frame (false: predicted by the tracker)
  bool enhanced = false;  // its pixels were replaced by the model's result
  std::string reason;     // why not, when not: "too-small", "too-large", "max-faces" (SkipReason)
  int scale = 0;          // the scale of the model that enhanced it (8, 4, 2); 0 when not enhanced
  std::string model;      // that model's file name; empty when not enhanced
};


class FaceEnhancer {
 public:
  // Opens the engine (throws facesr::Error: Kind::ModelFile for a missing/corrupt model, Kind::Device
  // for CUDA requested without CUDA) and creates the detector (throws std::runtime_error when the
  // Haar cascade file is missing).
  static std::unique_ptr<FaceEnhancer> create(const EnhancerConfig& config);
  ~FaceEnhancer();

  // One frame. Faces are found and cropped in `source`; results are pasted into `target`, which is
  // either the same picture (in place) or `scale` times larger (already filled with the resized
  // source). `upstream`: the faces given with this frame (source pixels), used with
  // FaceSource::Upstream. Throws facesr::Error or std::exception on failure.
  std::vector<FaceReport> process(const FramePlanes& source, FramePlanes& target, int scale,
                                  const std::vector<Detection>& upstream, const FrameSettings& settings);

  void reset();  // forgets tracks and previous results (after a flush, seek or new caps)

  // The largest face (source pixels) whose crop region the largest model's input holds without
  // shrinking: its input side / its crop rule's side scale for this detector (8x model alone: 32 /
  // 1.25 = 25 px; with the 2x model: 128 / 1.25 = 102 px). The face-size benchmark
  // (tests/bench/face-size.sh) measured faces above a model's size made worse than a plain resize;
  // max_face_size = kAutoMaxFaceSize uses it (or no limit when min_face_size is above it).
  int auto_max_face_size() const;

  std::string device_description() const;
  std::string model_name() const;  // the weights files' names, smallest input first, comma-separated
  std::vector<int> scales() const;  // the loaded models' scales, smallest input first (8, 4, 2)
  // Said once after create(): companions named but not found, and the like.
  const std::vector<std::string>& warnings() const { return warnings_; }
  double face_ms() const { return face_ms_; }  // one face through each engine, the slowest, in create()
  // Scene cuts seen (each reset the tracks and the smoothing), and detector boxes dropped as unusable.
  uint64_t scene_cuts() const { return scene_cuts_; }
  uint64_t dropped_detections() const { return finder_->dropped_detections(); }

 private:
  FaceEnhancer() = default;
  std::vector<const Track*> find_faces(const FramePlanes& source, const std::vector<Detection>& upstream,
                                       const FrameSettings& settings, std::vector<SkippedFace>* skipped);
  // temporal_smoothing: blends the track's previous result, moved by the shift between the two
  // frames' crops, into `result` where the two agree (crop: this frame's RGB input; a track whose
  // face moved to another model starts afresh).
  void smooth(int track_id, const cv::Mat& crop, cv::Mat& result, double weight);
  const CropRule& crop_rule(std::size_t model) const;  // model's rule for this detector's boxes
  // Whether `source` starts a new scene (see kSceneCutLevels); remembers its thumbnail.
  bool scene_cut(const FramePlanes& source);

  EnhancerConfig config_;
  std::vector<std::unique_ptr<Engine>> engines_;  // smallest input first
  std::vector<std::string> warnings_;
  std::unique_ptr<FaceFinder> finder_;
  double face_ms_ = 0.0;
  std::vector<cv::Mat> crops_, results_;     // reused per frame
  struct Smoothed {
    cv::Mat result;  // CV_32FC3, 256x256: what was shown
    cv::Mat crop;    // CV_32F gray, the model's input size: what the network saw
  };
  std::map<int, Smoothed> previous_;  // track id -> last frame's, for temporal smoothing
  std::map<int, cv::Mat> hann_;       // phase correlation window per crop side
  cv::Mat last_thumbnail_;            // the previous frame's luma, shrunk (scene_cut)
  uint64_t scene_cuts_ = 0;
};

}  // namespace facesr
