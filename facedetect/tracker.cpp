#include "tracker.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace facesr {

namespace {

constexpr double kPi = 3.14159265358979323846;
constexpr double kMinPredictedSide = 1.0;  // px
// A pair matched by distance alone weighs this x iou_threshold x (1 - distance / gate): below any
// overlapping pair, so overlap decides wherever it can.
constexpr double kJumpWeight = 1e-3;

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("tracker options: " + message);
}

// Rows assigned to distinct columns so that the summed cost is minimal; requires rows <= columns.
// Hungarian algorithm with potentials, O(rows^2 * columns). Returns the column of each row.
std::vector<int> min_cost_assignment(const std::vector<std::vector<double>>& cost) {
  const int rows = static_cast<int>(cost.size());
  const int cols = rows ? static_cast<int>(cost[0].size()) : 0;
  const double inf = std::numeric_limits<double>::infinity();
  // 1-based: column 0 is a virtual start; row_of[j] is the row on column j (0 = free).
  std::vector<double> row_potential(rows + 1, 0.0), col_potential(cols + 1, 0.0);
  std::vector<int> row_of(cols + 1, 0), previous(cols + 1, 0);
  for (int row = 1; row <= rows; ++row) {
    row_of[0] = row;
    int col = 0;
    std::vector<double> slack(cols + 1, inf);
    std::vector<char> visited(cols + 1, false);
    do {  // grow a shortest augmenting path until it reaches a free column
      visited[col] = true;
      const int r = row_of[col];
      double delta = inf;
      int next = 0;
      for (int j = 1; j <= cols; ++j) {
        if (visited[j]) continue;
        const double reduced = cost[r - 1][j - 1] - row_potential[r] - col_potential[j];
        if (reduced < slack[j]) {
          slack[j] = reduced;
          previous[j] = col;
        }
        if (slack[j] < delta) {
          delta = slack[j];
          next = j;
        }
      }
      for (int j = 0; j <= cols; ++j) {
        if (visited[j]) {
          row_potential[row_of[j]] += delta;
          col_potential[j] -= delta;
        } else {
          slack[j] -= delta;
        }
      }
      col = next;
    } while (row_of[col] != 0);
    do {  // flip the path
      const int prev = previous[col];
      row_of[col] = row_of[prev];
      col = prev;
    } while (col != 0);
  }
  std::vector<int> col_of_row(rows, -1);
  for (int j = 1; j <= cols; ++j)
    if (row_of[j]) col_of_row[row_of[j] - 1] = j - 1;
  return col_of_row;
}

// The detection matched to each track (-1: none): maximal summed IoU over pairs at or above the
// threshold. Pairs below it weigh 0, which is the same as leaving both unmatched.
std::vector<int> match(const std::vector<Track>& tracks, const std::vector<Detection>& detections,
                       double iou_threshold, double max_jump) {
  std::vector<int> detection_of(tracks.size(), -1);
  if (tracks.empty() || detections.empty()) return detection_of;
  std::vector<std::vector<double>> weight(tracks.size(), std::vector<double>(detections.size()));
  for (size_t t = 0; t < tracks.size(); ++t)
    for (size_t d = 0; d < detections.size(); ++d) {
      const FaceBox& a = tracks[t].box;
      const FaceBox& b = detections[d].box;
      const double overlap = iou(a, b);
      weight[t][d] = overlap >= iou_threshold ? overlap : 0.0;
      // Only for a track seen at the last look: a lost one drifting on its old velocity must not hand
      // its id (and the element's smoothing history) to a new face that appears near it.
      if (weight[t][d] > 0 || max_jump <= 0 || tracks[t].missed > 0) continue;
      // Not overlapping enough: a near, similar-sized detection still matches, below any overlap.
      const double side = std::max(a.width, a.height), other = std::max(b.width, b.height);
      if (std::max(side, other) > 1.5 * std::min(side, other)) continue;
      const double gate = std::min(2.0, max_jump * std::max(1, tracks[t].frames_since_detection)) * side;
      const double distance = std::hypot(a.x + a.width / 2 - b.x - b.width / 2, a.y + a.height / 2 - b.y - b.height / 2);
      if (distance < gate) weight[t][d] = kJumpWeight * iou_threshold * (1.0 - distance / gate);
    }
  const bool by_track = tracks.size() <= detections.size();
  const size_t rows = by_track ? tracks.size() : detections.size();
  const size_t cols = by_track ? detections.size() : tracks.size();
  std::vector<std::vector<double>> cost(rows, std::vector<double>(cols));
  for (size_t r = 0; r < rows; ++r)
    for (size_t c = 0; c < cols; ++c) cost[r][c] = -(by_track ? weight[r][c] : weight[c][r]);
  const std::vector<int> col_of_row = min_cost_assignment(cost);
  for (size_t r = 0; r < rows; ++r) {
    const int t = by_track ? static_cast<int>(r) : col_of_row[r];
    const int d = by_track ? col_of_row[r] : static_cast<int>(r);
    if (weight[t][d] > 0) detection_of[t] = d;
  }
  return detection_of;
}

// One-Euro smoothing factor for a cutoff (cycles per frame) over dt frames.
double smoothing_factor(double cutoff, double dt) {
  const double tau = 1.0 / (2 * kPi * cutoff);
  return 1.0 / (1.0 + tau / dt);
}

// One filter step for one coordinate. `value` holds the prior (the estimate at the last detection
// advanced by `rate` over dt frames); both are updated towards `measured`.
void filter(double& value, double& rate, double measured, double dt, const TrackerOptions& options) {
  const double cutoff = options.min_cutoff + options.beta * std::abs(rate);
  const double step = smoothing_factor(cutoff, dt) * (measured - value);
  value += step;
  // The estimate moved by rate * dt + step since the last detection.
  const double change_per_frame = rate + step / dt;
  rate += smoothing_factor(options.d_cutoff, dt) * (change_per_frame - rate);
}

void check_box(const FaceBox& box) {
  const bool finite = std::isfinite(box.x) && std::isfinite(box.y) && std::isfinite(box.width) &&
                      std::isfinite(box.height);
  if (!finite || !(box.width > 0) || !(box.height > 0))
    throw std::invalid_argument("tracker: detection box must be finite with positive size");
}

Track start_track(int id, const Detection& detection) {
  Track track;
  track.id = id;
  track.box = detection.box;
  track.score = detection.score;
  track.hits = 1;
  track.detected = true;
  return track;
}

void correct(Track& track, const Detection& detection, const TrackerOptions& options) {
  const double dt = track.frames_since_detection;
  double cx = track.box.x + track.box.width / 2, cy = track.box.y + track.box.height / 2;
  double width = track.box.width, height = track.box.height;
  const FaceBox& z = detection.box;
  filter(cx, track.velocity.cx, z.x + z.width / 2, dt, options);
  filter(cy, track.velocity.cy, z.y + z.height / 2, dt, options);
  filter(width, track.velocity.width, z.width, dt, options);
  filter(height, track.velocity.height, z.height, dt, options);
  track.box = {cx - width / 2, cy - height / 2, width, height};
  track.score = detection.score;
  ++track.hits;
  track.missed = 0;
  track.detected = true;
  track.frames_since_detection = 0;
}

}  // namespace

void validate(const TrackerOptions& o) {
  require(o.iou_threshold > 0 && o.iou_threshold <= 1, "iou_threshold must be in (0, 1]");
  require(o.max_missed >= 0, "max_missed must be >= 0");
  require(o.max_jump >= 0 && std::isfinite(o.max_jump), "max_jump must be >= 0 and finite");
  require(o.min_cutoff > 0 && std::isfinite(o.min_cutoff), "min_cutoff must be positive and finite");
  require(o.beta >= 0 && std::isfinite(o.beta), "beta must be >= 0 and finite");
  require(o.d_cutoff > 0 && std::isfinite(o.d_cutoff), "d_cutoff must be positive and finite");
}

double iou(const FaceBox& a, const FaceBox& b) {
  if (!(a.width > 0 && a.height > 0 && b.width > 0 && b.height > 0)) return 0.0;
  const double w = std::min(a.x + a.width, b.x + b.width) - std::max(a.x, b.x);
  const double h = std::min(a.y + a.height, b.y + b.height) - std::max(a.y, b.y);
  if (w <= 0 || h <= 0) return 0.0;
  const double intersection = w * h;
  return intersection / (a.width * a.height + b.width * b.height - intersection);
}

Tracker::Tracker(TrackerOptions options) : options_(options) { validate(options_); }

const std::vector<Track>& Tracker::update(const std::vector<Detection>& detections) {
  for (const Detection& detection : detections) check_box(detection.box);
  advance();
  const std::vector<int> detection_of = match(tracks_, detections, options_.iou_threshold, options_.max_jump);
  std::vector<bool> claimed(detections.size(), false);
  for (size_t t = 0; t < tracks_.size(); ++t) {
    if (detection_of[t] < 0) {
      ++tracks_[t].missed;
    } else {
      correct(tracks_[t], detections[detection_of[t]], options_);
      claimed[detection_of[t]] = true;
    }
  }
  tracks_.erase(std::remove_if(tracks_.begin(), tracks_.end(),
                               [&](const Track& t) { return t.missed > options_.max_missed; }),
                tracks_.end());
  for (size_t d = 0; d < detections.size(); ++d)
    if (!claimed[d]) tracks_.push_back(start_track(next_id_++, detections[d]));
  return tracks_;
}

const std::vector<Track>& Tracker::predict() {
  advance();
  return tracks_;
}

void Tracker::reset() { tracks_.clear(); }

void Tracker::advance() {
  for (Track& track : tracks_) {
    const BoxVelocity& v = track.velocity;
    const double width = std::max(kMinPredictedSide, track.box.width + v.width);
    const double height = std::max(kMinPredictedSide, track.box.height + v.height);
    const double cx = track.box.x + track.box.width / 2 + v.cx;
    const double cy = track.box.y + track.box.height / 2 + v.cy;
    track.box = {cx - width / 2, cy - height / 2, width, height};
    track.detected = false;
    ++track.frames_since_detection;
  }
}

}  // namespace facesr
