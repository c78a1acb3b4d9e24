// The face tracker on synthetic sequences: faces moving at constant velocity, seen by a detector
// with +-1 px jitter, sometimes not at all.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>
#include <set>
#include <stdexcept>

#include "tracker.h"

using facesr::Detection;
using facesr::FaceBox;
using facesr::Track;
using facesr::Tracker;
using facesr::TrackerOptions;

namespace {

// A square face moving at constant velocity; frame t shows it centred at (cx + vx t, cy + vy t).
struct Face {
  double cx, cy, vx, vy, side;
  double cx_at(int t) const { return cx + vx * t; }
  double cy_at(int t) const { return cy + vy * t; }
  FaceBox box_at(int t) const { return {cx_at(t) - side / 2, cy_at(t) - side / 2, side, side}; }
};

// Uniform in [-1, 1], the same sequence on every platform.
class Jitter {
 public:
  double operator()() { return static_cast<double>(rng_()) / std::mt19937::max() * 2 - 1; }

 private:
  std::mt19937 rng_{20240611};
};

Detection detect(const Face& face, int t, Jitter& jitter) {
  const FaceBox b = face.box_at(t);
  return {{b.x + jitter(), b.y + jitter(), b.width + jitter(), b.height + jitter()}, 0.9};
}

double centre_error(const FaceBox& box, const Face& face, int t) {
  return std::hypot(box.x + box.width / 2 - face.cx_at(t), box.y + box.height / 2 - face.cy_at(t));
}

const Track* find(const std::vector<Track>& tracks, int id) {
  for (const Track& track : tracks)
    if (track.id == id) return &track;
  return nullptr;
}

// The track whose centre is nearest to the face's on frame t.
int nearest_id(const std::vector<Track>& tracks, const Face& face, int t) {
  int id = 0;
  double best = std::numeric_limits<double>::infinity();
  for (const Track& track : tracks)
    if (centre_error(track.box, face, t) < best) {
      best = centre_error(track.box, face, t);
      id = track.id;
    }
  return id;
}

// Default options with one field changed.
template <typename T>
TrackerOptions with(T TrackerOptions::*field, T value) {
  TrackerOptions options;
  options.*field = value;
  return options;
}

}  // namespace

TEST(Tracker, IdsStableAndBoxesSmootherThanDetections) {
  const std::vector<Face> faces = {{100, 100, 2.0, 0.5, 64}, {400, 150, -1.5, 1.0, 56},
                                   {250, 350, 0.5, -2.0, 48}};
  Tracker tracker;
  Jitter jitter;
  std::vector<int> ids;
  double raw_sq = 0, smoothed_sq = 0;
  int samples = 0;
  for (int t = 0; t < 60; ++t) {
    std::vector<Detection> raw;
    for (const Face& face : faces) raw.push_back(detect(face, t, jitter));
    std::vector<Detection> detections = raw;
    if (t % 2) std::swap(detections.front(), detections.back());  // order must not matter
    const std::vector<Track>& tracks = tracker.update(detections);
    ASSERT_EQ(tracks.size(), faces.size()) << "frame " << t;
    for (size_t f = 0; f < faces.size(); ++f) {
      if (t == 0) ids.push_back(nearest_id(tracks, faces[f], t));
      const Track* track = find(tracks, ids[f]);
      ASSERT_NE(track, nullptr) << "face " << f << " lost its id on frame " << t;
      EXPECT_TRUE(track->detected);
      EXPECT_LT(centre_error(track->box, faces[f], t), 4.0) << "face " << f << " frame " << t;
      if (t >= 20) {  // velocity learned
        const double detected = centre_error(raw[f].box, faces[f], t);
        const double smoothed = centre_error(track->box, faces[f], t);
        raw_sq += detected * detected;
        smoothed_sq += smoothed * smoothed;
        ++samples;
      }
    }
  }
  EXPECT_EQ(ids, (std::vector<int>{1, 2, 3}));
  const double raw_rms = std::sqrt(raw_sq / samples), smoothed_rms = std::sqrt(smoothed_sq / samples);
  std::printf("centre jitter rms: detections %.3f px, tracks %.3f px\n", raw_rms, smoothed_rms);
  EXPECT_LT(smoothed_rms, 0.7 * raw_rms);
}

TEST(Tracker, CrossingFacesKeepTheirIds) {
  // 40 px boxes on the same row, closing at 6 px/frame: they overlap from frame 27 to 39.
  const Face right_mover{100, 200, 3.0, 0, 40}, left_mover{300, 200, -3.0, 0, 40};
  Tracker tracker;
  Jitter jitter;
  int right_id = 0, left_id = 0;
  double worst_error = 0;
  for (int t = 0; t < 70; ++t) {
    const std::vector<Track>& tracks =
        tracker.update({detect(right_mover, t, jitter), detect(left_mover, t, jitter)});
    ASSERT_EQ(tracks.size(), 2u) << "frame " << t;
    if (t == 0) {
      right_id = nearest_id(tracks, right_mover, t);
      left_id = nearest_id(tracks, left_mover, t);
    }
    const Track* right = find(tracks, right_id);
    const Track* left = find(tracks, left_id);
    ASSERT_TRUE(right && left) << "an id was lost on frame " << t;
    if (t < 10) continue;  // velocity still being learned
    worst_error = std::max({worst_error, centre_error(right->box, right_mover, t),
                            centre_error(left->box, left_mover, t)});
  }
  std::printf("worst centre error from frame 10, crossing: %.3f px\n", worst_error);
  EXPECT_LT(worst_error, 3.0) << "a track jumped to the other face";
  EXPECT_NE(right_id, left_id);
}

TEST(Tracker, AssignmentIsOptimalNotGreedy) {
  // Greedy matching would take the best pair (track 1, second detection: IoU 0.82), leaving track 2
  // with the first detection (IoU 0.11, below the threshold). The optimal assignment keeps both.
  Tracker tracker;
  tracker.update({{{0, 0, 40, 40}, 0.9}, {{20, 0, 40, 40}, 0.9}});
  const std::vector<Track>& tracks = tracker.update({{{-12, 0, 40, 40}, 0.9}, {{4, 0, 40, 40}, 0.9}});
  ASSERT_EQ(tracks.size(), 2u);
  EXPECT_EQ(tracks[0].id, 1);
  EXPECT_EQ(tracks[1].id, 2);
  EXPECT_TRUE(tracks[0].detected && tracks[1].detected);
  EXPECT_LT(tracks[0].box.x, 0);  // moved towards x = -12
  EXPECT_LT(tracks[1].box.x, 20);  // moved towards x = 4
}

TEST(Tracker, SurvivesMissesThenIsDroppedAfterMaxMissed) {
  const Face face{200, 200, 2.0, 1.0, 64};
  Tracker tracker;  // max_missed 5
  Jitter jitter;
  int t = 0;
  for (; t < 20; ++t) tracker.update({detect(face, t, jitter)});
  for (int miss = 1; miss <= 3; ++miss, ++t) {
    const std::vector<Track>& tracks = tracker.update({});
    ASSERT_EQ(tracks.size(), 1u);
    EXPECT_EQ(tracks[0].missed, miss);
    EXPECT_FALSE(tracks[0].detected);
    EXPECT_LT(centre_error(tracks[0].box, face, t), 3.0) << "coasting track left the face";
  }
  const std::vector<Track>& back = tracker.update({detect(face, t++, jitter)});
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].id, 1);
  EXPECT_EQ(back[0].missed, 0);
  EXPECT_TRUE(back[0].detected);
  for (int miss = 1; miss <= tracker.options().max_missed; ++miss)
    ASSERT_EQ(tracker.update({}).size(), 1u) << "dropped after only " << miss << " misses";
  EXPECT_TRUE(tracker.update({}).empty()) << "kept after max_missed + 1 misses";
}

TEST(Tracker, PredictionFollowsMotionBetweenDetections) {
  // Detector on every 4th frame; predict() on the others.
  const std::vector<Face> faces = {{150, 120, 2.5, 1.0, 50}, {500, 300, -2.0, 1.5, 50}};
  Tracker tracker;
  Jitter jitter;
  double worst_error = 0;
  for (int t = 0; t < 100; ++t) {
    const bool detector_frame = t % 4 == 0;
    std::vector<Detection> detections;
    for (const Face& face : faces) detections.push_back(detect(face, t, jitter));
    const std::vector<Track>& tracks = detector_frame ? tracker.update(detections) : tracker.predict();
    ASSERT_EQ(tracks.size(), faces.size()) << "tracks blinked on frame " << t;
    for (size_t f = 0; f < faces.size(); ++f) {
      const Track& track = tracks[f];
      EXPECT_EQ(track.id, static_cast<int>(f) + 1);
      EXPECT_EQ(track.detected, detector_frame);
      EXPECT_EQ(track.missed, 0) << "predict() counted a miss";
      if (t >= 24) worst_error = std::max(worst_error, centre_error(track.box, faces[f], t));
    }
  }
  std::printf("worst centre error from frame 24, detector every 4th frame: %.3f px\n", worst_error);
  EXPECT_LT(worst_error, 3.0);
}

TEST(Tracker, SmallFastFaceSeenEveryFifthFrameKeepsOneTrack) {
  // A 12 px face moving 3 px a frame, detected every 5th frame: it is 15 px (more than its width)
  // from where its track was at each look, so IoU alone never matches; max_jump does.
  const Face small{100, 100, 3.0, 0.0, 12};
  for (const double max_jump : {0.0, TrackerOptions{}.max_jump}) {
    Tracker tracker(with(&TrackerOptions::max_jump, max_jump));
    Jitter jitter;
    std::set<int> ids;
    for (int t = 0; t < 60; ++t) {
      const auto& tracks = t % 5 == 0 ? tracker.update({detect(small, t, jitter)}) : tracker.predict();
      for (const Track& track : tracks)
        if (track.detected) ids.insert(track.id);
    }
    if (max_jump == 0.0) {
      EXPECT_GT(ids.size(), 6u) << "IoU only: a new track at every look";
    } else {
      EXPECT_EQ(ids.size(), 1u) << "one face, one track";
      const Track& track = tracker.tracks().back();
      EXPECT_NEAR(track.velocity.cx, 3.0, 0.5) << "its speed learnt";
    }
  }
  // A face of another size, or farther than the gate, is not taken for it.
  Tracker tracker;
  tracker.update({{{100, 100, 12, 12}, 0.9}});
  for (int i = 0; i < 4; ++i) tracker.predict();
  EXPECT_EQ(tracker.update({{{118, 100, 30, 30}, 0.9}}).back().id, 2) << "2.5x larger: another face";
  // A track missed at its last look does not take a new face near it (it would hand that face its id).
  Tracker lost;
  lost.update({{{100, 100, 12, 12}, 0.9}});
  lost.update({});  // missed
  EXPECT_EQ(lost.update({{{108, 100, 12, 12}, 0.9}}).back().id, 2) << "a lost track took a new face";
  Tracker far;
  far.update({{{100, 100, 12, 12}, 0.9}});
  EXPECT_EQ(far.update({{{120, 100, 12, 12}, 0.9}}).back().id, 2) << "20 px after 1 frame: beyond 0.35 x 12 px";
}

TEST(Tracker, NewFacesGetNewIdsAndIdsAreNeverReused) {
  const Face first{100, 100, 0, 0, 60}, second{400, 100, 0, 0, 60};
  Tracker tracker;
  Jitter jitter;
  int t = 0;
  for (; t < 5; ++t) tracker.update({detect(first, t, jitter)});
  const std::vector<Track>& both = tracker.update({detect(second, t, jitter), detect(first, t, jitter)});
  ++t;
  ASSERT_EQ(both.size(), 2u);
  EXPECT_EQ(both[0].id, 1);
  EXPECT_EQ(both[1].id, 2);
  EXPECT_EQ(both[1].hits, 1);
  // The first face leaves; its track dies after max_missed + 1 misses.
  for (int miss = 0; miss <= tracker.options().max_missed; ++miss)
    tracker.update({detect(second, t++, jitter)});
  ASSERT_EQ(tracker.tracks().size(), 1u);
  EXPECT_EQ(tracker.tracks()[0].id, 2);
  // It comes back at the same place: a new id, listed after the older track.
  const std::vector<Track>& again = tracker.update({detect(first, t, jitter), detect(second, t, jitter)});
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[0].id, 2);
  EXPECT_EQ(again[1].id, 3);
  // reset() drops the tracks but not the id counter.
  tracker.reset();
  EXPECT_TRUE(tracker.tracks().empty());
  EXPECT_EQ(tracker.update({detect(first, t, jitter)})[0].id, 4);
}

TEST(Tracker, RejectsBadOptionsAndBoxes) {
  EXPECT_THROW(Tracker(with(&TrackerOptions::max_jump, -1.0)), std::invalid_argument);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  for (double bad : {0.0, -0.1, 1.01, nan})
    EXPECT_THROW(Tracker(with(&TrackerOptions::iou_threshold, bad)), std::invalid_argument) << bad;
  EXPECT_THROW(Tracker(with(&TrackerOptions::max_missed, -1)), std::invalid_argument);
  for (double bad : {0.0, -1.0, nan, inf}) {
    EXPECT_THROW(Tracker(with(&TrackerOptions::min_cutoff, bad)), std::invalid_argument) << bad;
    EXPECT_THROW(Tracker(with(&TrackerOptions::d_cutoff, bad)), std::invalid_argument) << bad;
  }
  for (double bad : {-0.01, nan, inf})
    EXPECT_THROW(Tracker(with(&TrackerOptions::beta, bad)), std::invalid_argument) << bad;
  EXPECT_NO_THROW(Tracker(with(&TrackerOptions::iou_threshold, 1.0)));
  EXPECT_NO_THROW(Tracker(with(&TrackerOptions::max_missed, 0)));
  EXPECT_NO_THROW(Tracker(with(&TrackerOptions::beta, 0.0)));

  Tracker tracker;
  tracker.update({{{10, 10, 40, 40}, 0.9}});
  EXPECT_THROW(tracker.update({{{10, 10, 0, 40}, 0.9}}), std::invalid_argument);
  EXPECT_THROW(tracker.update({{{nan, 10, 40, 40}, 0.9}}), std::invalid_argument);
  ASSERT_EQ(tracker.tracks().size(), 1u);
  EXPECT_EQ(tracker.tracks()[0].missed, 0) << "a rejected frame changed the tracks";
}

TEST(Tracker, Iou) {
  EXPECT_DOUBLE_EQ(facesr::iou({0, 0, 10, 10}, {0, 0, 10, 10}), 1.0);
  EXPECT_DOUBLE_EQ(facesr::iou({0, 0, 10, 10}, {5, 0, 10, 10}), 50.0 / 150.0);
  EXPECT_DOUBLE_EQ(facesr::iou({0, 0, 10, 10}, {10, 0, 10, 10}), 0.0);
  EXPECT_DOUBLE_EQ(facesr::iou({0, 0, 0, 10}, {0, 0, 10, 10}), 0.0);
}
