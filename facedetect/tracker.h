// Face tracking: associates face detections across video frames, so each face keeps one id and a
// steady box while the detector runs only every N frames.
//
// Per frame the caller makes exactly one call:
//   update(detections)  on a frame where the detector ran (an empty list is a frame where it ran
//                       and found nothing). Every track is first advanced by its velocity to this
//                       frame; detections are then matched to tracks by an optimal assignment
//                       (Hungarian algorithm) that maximises the summed IoU over pairs whose IoU is
//                       at least `iou_threshold`, so two crossing faces keep their ids. A pair that
//                       does not overlap that much may still match, at a far lower weight than any
//                       overlapping pair, when the boxes' sizes agree within 1.5x and their centres
//                       are within `max_jump` x the box side x the frames since the track's last
//                       detection (at most 2 sides), if the track was matched at its last look: a
//                       small fast face seen every 5th frame moves farther than its own width
//                       between two looks. A matched
//                       track filters its box towards the detection; an unmatched detection starts a
//                       track with a fresh id; an unmatched track counts a miss and is dropped once
//                       it has missed more than `max_missed` consecutive detector frames.
//   predict()           on a frame where the detector did not run: tracks advance by their velocity,
//                       nothing counts as a miss (nothing looked), and no track is `detected`.
// Ids start at 1, increase by one per new track and are never reused, not even after reset().
// Tracks are returned in id order. Time is counted in frames; velocities are pixels per frame.
//
// Smoothing: a One-Euro filter (Casiez et al., CHI 2012) on each of centre x, centre y, width and
// height, with its prior advanced by the track velocity, so steady motion is followed without lag.
// On a detection z after dt frames (dt = frames since the track's last detection), per coordinate:
//   prior    p = estimate at the last detection + v * dt        (what the track showed this frame)
//   cutoff   f = min_cutoff + beta * |v|                        (cycles per frame)
//   estimate x = p + a(f, dt) * (z - p),   a(f, dt) = 1 / (1 + 1 / (2 pi f dt))
//   velocity v += a(d_cutoff, dt) * ((x - estimate at the last detection) / dt - v)
// A slow face is smoothed hard (low cutoff), a fast one follows its detections closely. Under
// prediction, widths and heights never shrink below 1 px.
#pragma once

#include <vector>

#include "detection.h"

namespace facesr {

struct TrackerOptions {
  // A detection and a track may match only when their IoU is at least this; in (0, 1].
  double iou_threshold = 0.3;
  // Centre distance, in box sides per frame since the track's last detection, within which a
  // non-overlapping detection of a similar size may still match (see above); >= 0, 0 = IoU only.
  double max_jump = 0.35;
  // A track survives this many consecutive detector frames without a match and is dropped on the
  // next one; >= 0. Frames handled by predict() do not count.
  int max_missed = 5;
  // One-Euro filter (see above): cutoff at rest, in cycles per frame (0.05 is 1.25 Hz at 25 fps);
  // > 0. Lower smooths more.
  double min_cutoff = 0.05;
  // Cutoff increase per pixel-per-frame of speed; >= 0. Higher follows fast faces more closely.
  double beta = 0.01;
  // Cutoff of the velocity smoothing, in cycles per frame; > 0.
  double d_cutoff = 0.1;
};

// Throws std::invalid_argument naming the bad field (NaN and infinities are bad everywhere).
void validate(const TrackerOptions& options);

// Rate of change of a box, in pixels per frame.
struct BoxVelocity {
  double cx = 0, cy = 0, width = 0, height = 0;
};

struct Track {
  int id = 0;
  FaceBox box;                     // filtered box on the current frame
  double score = 0.0;              // score of the last matched detection
  int hits = 0;                    // detections matched so far, including the first
  int missed = 0;                  // consecutive detector frames without a match
  bool detected = false;           // matched a detection on the current frame
  BoxVelocity velocity;            // 0 until the second detection
  int frames_since_detection = 0;  // frames (update or predict) since the last match
};

class Tracker {
 public:
  explicit Tracker(TrackerOptions options = {});  // validates the options

  // A frame where the detector ran. Throws std::invalid_argument, before changing any state, for a
  // detection box with a non-finite coordinate or a non-positive width or height.
  const std::vector<Track>& update(const std::vector<Detection>& detections);
  // A frame where the detector did not run.
  const std::vector<Track>& predict();
  // Drops every track (e.g. after a seek); ids keep counting.
  void reset();

  const std::vector<Track>& tracks() const { return tracks_; }
  const TrackerOptions& options() const { return options_; }

 private:
  void advance();

  TrackerOptions options_;
  std::vector<Track> tracks_;  // ascending id
  int next_id_ = 1;
};

}  // namespace facesr
