// Finding the faces of a video, frame after frame: a Detector run on every Nth frame and a Tracker
// that carries the faces through the frames in between. The facesr element finds its faces with
// this class (gst-plugin/face_enhancer.cpp), and bench-detect times the same code against
// gst-plugins-bad's facedetect.
//
//   facesr::FaceFinder finder(facesr::FaceSource::Haar);          // throws like Detector::create
//   per frame:
//     for (const facesr::Track* face : finder.find(image, {}, settings)) ...
//
// Per call: on the 1st, (N+1)th, (2N+1)th ... call (N = detect_interval) the detector looks at the
// frame and the tracker matches its boxes (Tracker::update); on the others the tracker predicts
// (Tracker::predict) and the frame is not looked at. Detections that are not finite, have no area or
// lie outside the frame are dropped (dropped_detections() counts them). Returned: the tracks the
// detector matched the last time it looked (a track it missed is not returned until it is matched
// again); of those, the ones whose larger side is within [min_face_size, max_face_size] and which
// overlap the frame, highest score first, at most max_faces; the others that overlap the frame, with
// the reason, in `skipped` when asked (every face found, up to kMaxTrackedFaces); for BlazeFace the
// lower bound is kBlazeFaceBoxSlack x min_face_size (see there). The pointers stay
// valid until the next call.
// Threading: one thread at a time.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detector.h"
#include "tracker.h"

namespace facesr {

enum class FaceSource {
  Hog,       // dlib HOG (one 2x upsampling when min_face_size < 40 px)
  Haar,      // OpenCV Haar cascade (opencv-data), without histogram equalization, pyramid step 1.2
  BlazeFace, // MediaPipe BlazeFace on tiles (scripts/fetch-detector-models.sh): faces from 12 px;
             // boxes from kBlazeFaceBoxSlack x min_face_size count as min_face_size
  Upstream,  // boxes given with each frame (the element: GstVideoRegionOfInterestMeta "face")
};

// May change between calls.
struct FinderSettings {
  int detect_interval = 1;  // >= 1: run the detector on every Nth frame, predict in between
  int min_face_size = 16;   // frame pixels, larger side of the face box
  int max_face_size = 0;    // frame pixels; 0 = no limit
  int max_faces = 0;        // 0 = no limit
  // BlazeFace: DetectorOptions::blazeface_face_px for the detector (the network-pixel size its
  // smallest face, kBlazeFaceBoxSlack x min_face_size, is enlarged to, at most 2x); 0 = the finder's
  // choice, blazeface_face_px(min_face_size). Larger costs about the square of the ratio in time; on
  // real photos it found no more faces from 16 px (see face_finder.cpp); 0 or 12..48.
  int blazeface_face_px = 0;
};

// BlazeFace's box of a face is 0.84-1.17x as wide as dlib's annotation of it (5th-95th percentile on
// real faces of 12-20 px, bench-detect-real; 1.00 on average), so a face of min_face_size often gets
// a smaller box. The finder keeps BlazeFace boxes from kBlazeFaceBoxSlack x min_face_size (rounded):
// before, about half of the faces AT min-face-size were dropped (real photos, clean, 16 px: 0.83).
constexpr double kBlazeFaceBoxSlack = 0.85;
// The BlazeFace probability the finder asks for. Keeping the slightly smaller boxes admits small false
// faces (hands, folds, textures score up to 0.8); at 0.7 instead of the detector's 0.65 the finder's
// precision stayed >= 0.9 at every face size on bench-detect-real's photos, clean and noisy.
constexpr double kBlazeFaceThreshold = 0.7;
// The DetectorOptions::blazeface_face_px the finder uses when FinderSettings leaves it 0: 16 (the
// network's smallest face) for min_face_size >= 16: min-face-size 16 asks the detector for 14 px, so the
// frame is enlarged x1.14 and a face of 16 px is 18.3 px for the network; below 16 px more in
// proportion, 16 x 16 / min_face_size (min-face-size 12: 21 for 10 px, x2, the detector's limit): real
// 12 px faces need it (bench-detect-real, clean: 0.86 found at x2, 0.76 at x1.6), real 16 px ones do
// not (1.00 at x1.14, no more at x1.4-2).
int blazeface_face_px(int min_face_size);

// Why a face that was found is not returned for enhancement.
enum class SkipReason {
  TooSmall,  // larger side below smallest_face() (reported for upstream boxes; detectors do not look)
  TooLarge,  // larger side above max_face_size
  Cap,       // max_faces faces with higher scores were returned
};
std::string to_string(SkipReason reason);  // "too-small" | "too-large" | "max-faces"
std::string to_string(FaceSource source);  // "hog" | "haar" | "blazeface" | "upstream" (model crop-rule keys)

// Most faces tracked (and reported) per frame: the tracker's optimal matching grows with the cube of
// the count (256 faces: ~17 M steps on a detector frame).
constexpr int kMaxTrackedFaces = 256;

struct SkippedFace {
  const Track* track;
  SkipReason reason;
};

// The detector options `source` uses with `settings`' size filters on a frame of that size (0 x 0:
// size unknown). A frame that would exceed kMaxDetectionPixels after scaling and upsampling gets a
// smaller detection_scale instead, so the detector always runs (its smallest face grows by as much).
DetectorOptions detector_options(FaceSource source, const FinderSettings& settings, int frame_width = 0,
                                 int frame_height = 0);

// The smallest larger side of a box that find() returns for `source` (min_face_size, or the BlazeFace
// slack of it); smaller ones are skipped as too small.
int smallest_face(FaceSource source, const FinderSettings& settings);


// The finder's tracker: Tracker's defaults but a 0.3 cycles/frame rest cutoff instead of 0.05, i.e.
// less smoothing. With the detector on every 5th frame, a heavily smoothed box lags a moving face
// (and the face is pasted beside it); on bench-detect's video (faces moving 0.5-3 px a frame) this
// raised the element's recall from 0.714 to 0.745 and its precision from 0.889 to 0.927.
TrackerOptions finder_tracker_options();

class FaceFinder {
 public:
  // Throws std::runtime_error when the Haar cascade file (package opencv-data) or the BlazeFace model
  // (scripts/fetch-detector-models.sh) is missing or unreadable.
  explicit FaceFinder(FaceSource source, TrackerOptions tracker = finder_tracker_options());

  // `image`: the frame (gray is cheapest: the detector converts anything else to gray first). Its
  // pixels are read only when will_detect() (and never for FaceSource::Upstream), so a caller may
  // pass a view that only has the frame's size otherwise. `upstream`: this frame's boxes for
  // FaceSource::Upstream, ignored otherwise. Throws std::invalid_argument for an unusable image
  // on a detector frame.
  // `skipped` (optional): the faces found but not returned, each with why.
  std::vector<const Track*> find(const ImageRef& image, const std::vector<Detection>& upstream,
                                 const FinderSettings& settings, std::vector<SkippedFace>* skipped = nullptr);

  // Whether the next find() with these settings runs the detector.
  bool will_detect(const FinderSettings& settings) const;

  // Forgets the tracks (after a flush, seek, new caps or a scene cut); the next call runs the detector.
  void reset();
  // The next call runs the detector; the tracks are kept.
  void restart_detection();
  // Detector boxes dropped as unusable (not finite, no area, outside the frame) since creation.
  uint64_t dropped_detections() const { return dropped_detections_; }

  FaceSource source() const { return source_; }

 private:
  FaceSource source_;
  std::unique_ptr<Detector> detector_;
  Tracker tracker_;
  int64_t frame_count_ = 0;
  uint64_t dropped_detections_ = 0;
};

}  // namespace facesr
