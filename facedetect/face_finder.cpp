#include "face_finder.h"

#include <algorithm>
#include <cmath>
#include <optional>

namespace facesr {
namespace {

constexpr int kHogUpsampleBelow = 40;  // HOG misses faces under ~55 px without one 2x upsampling
// The Haar cascade's window is 20 px; faces from 24 px are found reliably (bench-detect).
constexpr double kCascadeSmallestFace = 24.0;

// Whether a detector made with `b` looks for what `a` asks. max_faces is not compared: the finder
// applies it to what the detector returns, so a change of the element's max-faces does not rebuild
// the detector (BlazeFace loads one network per thread and forgets its still tiles).
bool same_filters(const DetectorOptions& a, const DetectorOptions& b) {
  return a.min_face_size == b.min_face_size && a.max_face_size == b.max_face_size && a.upsample == b.upsample &&
         a.detection_scale == b.detection_scale && a.blazeface_face_px == b.blazeface_face_px;
}

}  // namespace

int blazeface_face_px(int min_face_size) {
  constexpr double kNetworkSmallest = 16.0;
  const double m = std::max(1, min_face_size);
  return static_cast<int>(std::lround(kNetworkSmallest * std::max(1.0, kNetworkSmallest / m)));
}

int smallest_face(FaceSource source, const FinderSettings& settings) {
  if (source != FaceSource::BlazeFace) return settings.min_face_size;
  return std::max(1, static_cast<int>(std::lround(kBlazeFaceBoxSlack * settings.min_face_size)));
}

DetectorOptions detector_options(FaceSource source, const FinderSettings& settings, int frame_width,
                                 int frame_height) {
  DetectorOptions options;
  switch (source) {
    case FaceSource::Hog:
      options.backend = DetectorBackend::Hog;
      options.upsample = settings.min_face_size < kHogUpsampleBelow ? 1 : 0;
      break;
    case FaceSource::Haar:
      options.backend = DetectorBackend::Cascade;
      // bench-detect ("haar fast"): without histogram equalization and with a 1.2 pyramid step the
      // cascade ran 2x faster than with the library defaults (equalize, 1.1) and had equal or higher
      // recall on faces >= 24 px; Haar features are normalized per window already.
      options.equalize_histogram = false;
      options.cascade_scale_step = 1.2;
      // Faces smaller than min_face_size are not wanted: detect on the frame scaled so that the
      // smallest wanted face is 24 px there. OpenCV's pyramid skips the small windows anyway, so the
      // gain is the first levels' resizing: min-face-size 48 on 854x480 took 5.4 instead of 7.9 ms.
      // At the default 16 px the frame is not scaled.
      options.detection_scale = std::min(1.0, kCascadeSmallestFace / std::max(1, settings.min_face_size));
      break;
    case FaceSource::BlazeFace:
      // The detector enlarges (or shrinks) the frame itself so that its smallest face (here
      // kBlazeFaceBoxSlack x min_face_size) is blazeface_face_px for the network (at most x2), and
      // keeps the enlarged frame within kMaxDetectionPixels. At min-face-size 16: 14 px -> 16, x1.14
      // (about 1.3x the tiles of x1, before the issue 38 change); min-face-size 12: 10 px -> 21, x2.
      options.backend = DetectorBackend::BlazeFace;
      options.score_threshold = kBlazeFaceThreshold;
      options.blazeface_face_px = settings.blazeface_face_px > 0
                                      ? settings.blazeface_face_px
                                      : std::min(48, blazeface_face_px(settings.min_face_size));
      break;
    case FaceSource::Upstream: options.backend = DetectorBackend::External; break;
  }
  // The detector looks for faces from min_face_size up (what it skips below is what saves time) and
  // reports them: the finder applies max_face_size and max_faces itself, so that a face left alone
  // can be reported with the reason. Upstream boxes are all taken, for the same reason.
  options.min_face_size = source == FaceSource::Upstream ? 1 : smallest_face(source, settings);
  // Every face found is tracked and reported (those over max_faces with the reason max-faces), up to
  // kMaxTrackedFaces, a bound on the tracker's matching, which grows with the cube of the count.
  options.max_faces = kMaxTrackedFaces;
  // A frame too large for the detector at that scale (8K with haar, UHD with hog's upsampling) is
  // looked at smaller instead: the smallest faces found grow by the same factor, which beats
  // stopping the stream. Nothing changes at the sizes the detector takes.
  const double pixels = static_cast<double>(frame_width) * frame_height;
  const double upsampled = options.detection_scale * static_cast<double>(1 << options.upsample);
  if (pixels > 0 && pixels * upsampled * upsampled > kMaxDetectionPixels)
    options.detection_scale *= std::sqrt(kMaxDetectionPixels / pixels) / upsampled * 0.999;
  return options;
}

TrackerOptions finder_tracker_options() {
  TrackerOptions options;
  options.min_cutoff = 0.3;
  return options;
}

FaceFinder::FaceFinder(FaceSource source, TrackerOptions tracker)
    : source_(source), detector_(Detector::create(detector_options(source, FinderSettings{}))), tracker_(tracker) {}

void FaceFinder::reset() {
  tracker_.reset();
  frame_count_ = 0;
}

void FaceFinder::restart_detection() { frame_count_ = 0; }

bool FaceFinder::will_detect(const FinderSettings& settings) const {
  return frame_count_ % std::max(1, settings.detect_interval) == 0;
}

std::vector<const Track*> FaceFinder::find(const ImageRef& image, const std::vector<Detection>& upstream,
                                           const FinderSettings& settings, std::vector<SkippedFace>* skipped) {
  const std::vector<Track>* tracks = nullptr;
  const bool detect = will_detect(settings);
  ++frame_count_;
  if (detect) {
    const DetectorOptions wanted = detector_options(source_, settings, image.width, image.height);
    if (!same_filters(wanted, detector_->options())) detector_ = Detector::create(wanted);
    if (source_ == FaceSource::Upstream) detector_->supply(upstream);
    std::vector<Detection> found = detector_->detect(image);  // best first
    // A box that is not finite, has no area, or lies outside the frame is dropped, never fatal (a
    // crafted BlazeFace model's inf box stopped the stream; upstream metas are outside data).
    const auto dropped = std::remove_if(found.begin(), found.end(), [&](const Detection& d) {
      const FaceBox& b = d.box;
      const bool finite = std::isfinite(b.x) && std::isfinite(b.y) && std::isfinite(b.width) &&
                          std::isfinite(b.height) && std::isfinite(d.score);
      return !finite || !(b.width > 0) || !(b.height > 0) || b.x >= image.width || b.y >= image.height ||
             b.x + b.width <= 0 || b.y + b.height <= 0;
    });
    dropped_detections_ += static_cast<uint64_t>(found.end() - dropped);
    found.erase(dropped, found.end());
    if (found.size() > static_cast<std::size_t>(kMaxTrackedFaces)) found.resize(kMaxTrackedFaces);
    tracks = &tracker_.update(found);
  } else {
    tracks = &tracker_.predict();
  }

  auto in_frame = [&](const Track& t) {
    return t.box.x < image.width && t.box.y < image.height && t.box.x + t.box.width > 0 && t.box.y + t.box.height > 0;
  };
  // Only faces the detector saw the last time it looked: a track it missed then (the person left, the
  // scene changed) is not shown until a detection matches it again, so no face is synthesized where
  // the last look found none. (Showing tracks missed once, as before, raised recall on bench-detect's
  // video but kept five made-up faces on 10 frames of SMPTE bars after a cut.)
  std::vector<const Track*> candidates;
  for (const Track& t : *tracks)
    if (t.missed == 0 && in_frame(t)) candidates.push_back(&t);
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Track* a, const Track* b) { return a->score > b->score; });
  std::vector<const Track*> faces;
  const int smallest = smallest_face(source_, settings);
  for (const Track* t : candidates) {
    const double side = std::max(t->box.width, t->box.height);
    std::optional<SkipReason> reason;
    if (side < smallest) reason = SkipReason::TooSmall;
    else if (settings.max_face_size > 0 && side > settings.max_face_size) reason = SkipReason::TooLarge;
    else if (settings.max_faces > 0 && faces.size() >= static_cast<std::size_t>(settings.max_faces)) reason = SkipReason::Cap;
    if (!reason) faces.push_back(t);
    else if (skipped) skipped->push_back({t, *reason});
  }
  return faces;
}

std::string to_string(FaceSource source) {
  switch (source) {
    case FaceSource::Hog: return "hog";
    case FaceSource::Haar: return "haar";
    case FaceSource::BlazeFace: return "blazeface";
    case FaceSource::Upstream: return "upstream";
  }
  return "?";
}

std::string to_string(SkipReason reason) {
  switch (reason) {
    case SkipReason::TooSmall: return "too-small";
    case SkipReason::TooLarge: return "too-large";
    case SkipReason::Cap: return "max-faces";
  }
  return "?";
}

}  // namespace facesr
