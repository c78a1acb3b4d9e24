// Face detection on real photographs at small face sizes (issue 38): recall, precision and ms per
// frame of every backend and of the element's own face finder, per face size.
//
// Photos: dlib's annotated example photos (tests/dlib_faces.h: training.xml + testing.xml, 9 PASCAL
// VOC street and party photos, 43 faces annotated 37-109 px). Each photo is resized so that the
// median width of its annotated boxes comes out at 12, 14, 16, 18, 20, 24, 32, 48 and 64 px: area
// averaging (cv::INTER_AREA) when that shrinks it, bilinear when it enlarges it (the 37-45 px faces
// of most photos at 48 and 64 px: softer than a real face of that size). Then the same once more as
// CCTV-like footage: Gaussian sensor noise (sigma 4 levels per channel, fixed seed) and JPEG quality 40.
//
// Matching: greedy one-to-one; a detection matches an annotation when IoU >= 0.3, or when its centre
// lies inside the annotated box and its width is within 2x of the annotated width (box sizes differ
// by detector: measured and printed at the end; BlazeFace's are as wide as dlib's on average, 0.84-1.17x
// at the 5th-95th percentile for faces of 12-20 px; Haar's 1.13x and higher up). Faces a row does not look
// for (annotated width below its min_face_size) are "don't care": not counted in its recall, and a
// detection on one is neither a hit nor a false face.
//
// Rows: BlazeFace with the detector's own defaults at min_face_size 12 (what facesr-detect --min-size 12
// does), Haar and HOG as the element sets them up (facedetect/face_finder.cpp detector_options,
// min_face_size 12), and the element's finder
// (facesr::FaceFinder, FaceSource::BlazeFace, detect_interval 1, reset before every photo: stills)
// at its default min_face_size 16 and at 12. Still-tile reuse: frames come size by size, photo by
// photo, so consecutive frames differ and no tile is reused (the clean and noisy copies of a photo are
// a whole pass apart).
//
//   build/tests/bench/bench-detect-real [--face-px N]... [--min N]
//     --face-px N  extra blazeface detector rows with DetectorOptions::blazeface_face_px = N (the
//                  network-pixel size a face of min_face_size is enlarged to), for choosing it
//     --min N      min_face_size of those extra rows (default 16)
//     --want N     count only annotated faces from N px in those rows (default: their --min)
//     --threshold P  score_threshold of those rows (default 0: the detector's)
//     --tsv FILE   every detection of every row: row, condition, size, hit|false|dontcare, score, width,
//                  annotated width, x, y; and per frame a "truth" line with the number of faces counted
//     --dump DIR   write every false face and missed face of every row as a PNG crop into DIR
//     --no-finder  leave out the finder rows; --only-extra: only the --face-px rows
//     --cost       only the time per detector frame at 854x480 and 1920x1080, before/now (run_cost)
// Timing: wall clock per detect()/find() call, mean over the frames of that size and condition.
// On a shared machine timings drift: compare rows of one run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detector.h"
#include "dlib_faces.h"
#include "face_finder.h"
#include "image_io.h"

using namespace facesr;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kSizes[] = {12, 14, 16, 18, 20, 24, 32, 48, 64};
constexpr int kNumSizes = static_cast<int>(std::size(kSizes));
constexpr double kMinIou = 0.3;
constexpr double kNoiseSigma = 4.0;
constexpr int kJpegQuality = 40;

struct Frame {
  cv::Mat bgr;
  std::vector<FaceBox> truth;
  int size_index = 0;
  bool noisy = false;
};

double median_width(const std::vector<FaceBox>& faces) {
  std::vector<double> w;
  for (const auto& f : faces) w.push_back(f.width);
  std::sort(w.begin(), w.end());
  const std::size_t n = w.size();
  return n % 2 ? w[n / 2] : (w[n / 2 - 1] + w[n / 2]) / 2;
}

cv::Mat cctv(const cv::Mat& clean, std::mt19937& rng) {
  cv::Mat noise(clean.size(), CV_32FC3), noisy;
  cv::theRNG().state = rng();
  cv::randn(noise, 0.0, kNoiseSigma);
  clean.convertTo(noisy, CV_32FC3);
  noisy += noise;
  noisy.convertTo(noisy, CV_8UC3);  // saturates
  std::vector<uint8_t> jpeg;
  cv::imencode(".jpg", noisy, jpeg, {cv::IMWRITE_JPEG_QUALITY, kJpegQuality});
  return cv::imdecode(jpeg, cv::IMREAD_COLOR);
}

// Clean frames first (size by size, photo by photo), then the noisy ones in the same order.
std::vector<Frame> make_frames(const std::vector<test_data::AnnotatedImage>& images) {
  std::vector<Frame> frames;
  std::mt19937 rng(38);
  for (const bool noisy : {false, true})
    for (int si = 0; si < kNumSizes; ++si)
      for (const auto& image : images) {
        const cv::Mat photo = read_image_bgr(image.path);
        const double scale = kSizes[si] / median_width(image.faces);
        Frame f;
        const cv::Size size(std::max(1, static_cast<int>(std::lround(photo.cols * scale))),
                            std::max(1, static_cast<int>(std::lround(photo.rows * scale))));
        cv::resize(photo, f.bgr, size, 0, 0, scale < 1 ? cv::INTER_AREA : cv::INTER_LINEAR);
        const double sx = double(size.width) / photo.cols, sy = double(size.height) / photo.rows;
        for (const auto& b : image.faces) f.truth.push_back({b.x * sx, b.y * sy, b.width * sx, b.height * sy});
        if (noisy) f.bgr = cctv(f.bgr, rng);
        f.size_index = si;
        f.noisy = noisy;
        frames.push_back(std::move(f));
      }
  return frames;
}

bool matches(const FaceBox& truth, const FaceBox& d) {
  if (iou(truth, d) >= kMinIou) return true;
  const double cx = d.x + d.width / 2, cy = d.y + d.height / 2;
  const bool inside = cx >= truth.x && cx <= truth.x + truth.width && cy >= truth.y && cy <= truth.y + truth.height;
  const double ratio = d.width / truth.width;
  return inside && ratio >= 0.5 && ratio <= 2.0;
}

struct Cell {
  int truth = 0, hits = 0, found = 0, false_faces = 0, frames = 0;
  double ms = 0;
  double recall() const { return truth ? double(hits) / truth : 0; }
  double precision() const { return hits + false_faces > 0 ? double(hits) / (hits + false_faces) : 1; }
};

struct BoxStats {
  int n = 0;
  double width_ratio = 0, height_ratio = 0, dx = 0, dy = 0;  // sums: det / truth, centre offset / truth width
};

// Scores one frame's detections against its annotations; `min_face` marks smaller annotations "don't care".
// Returns per detection the annotation it matched (-1: a false face).
std::vector<int> score(Cell& cell, BoxStats& stats, const Frame& frame, const std::vector<Detection>& dets, int min_face) {
  std::vector<FaceBox> found;
  for (const auto& d : dets) found.push_back(d.box);
  std::vector<int> owner(found.size(), -1);  // annotation index a detection is matched to
  cell.found += found.size();
  for (std::size_t t = 0; t < frame.truth.size(); ++t) {
    const FaceBox& truth = frame.truth[t];
    int best = -1;
    double best_key = -1;
    for (std::size_t i = 0; i < found.size(); ++i) {
      if (owner[i] >= 0 || !matches(truth, found[i])) continue;
      const double key = iou(truth, found[i]);
      if (key > best_key) best = static_cast<int>(i), best_key = key;
    }
    const bool wanted = truth.width >= min_face;
    if (wanted) ++cell.truth;
    if (best < 0) continue;
    owner[best] = static_cast<int>(t);
    if (!wanted) continue;
    ++cell.hits;
    const FaceBox& d = found[best];
    ++stats.n;
    stats.width_ratio += d.width / truth.width;
    stats.height_ratio += d.height / truth.height;
    stats.dx += (d.x + d.width / 2 - truth.x - truth.width / 2) / truth.width;
    stats.dy += (d.y + d.height / 2 - truth.y - truth.height / 2) / truth.width;
  }
  for (std::size_t i = 0; i < found.size(); ++i)
    if (owner[i] < 0) ++cell.false_faces;
  return owner;
}

struct Row {
  std::string name;
  int min_face = 12;
  std::function<std::vector<Detection>(const Frame&)> find;
  Cell cells[2][kNumSizes];
  BoxStats stats;
};

ImageRef ref(const cv::Mat& m) { return {m.data, m.cols, m.rows, m.step, PixelFormat::BGR8}; }

Row detector_row(const std::string& name, const DetectorOptions& options) {
  auto detector = std::shared_ptr<Detector>(Detector::create(options));
  return {name, options.min_face_size, [detector](const Frame& f) { return detector->detect(ref(f.bgr)); }, {}, {}};
}

Row finder_row(const std::string& name, int min_face_size) {
  auto finder = std::make_shared<FaceFinder>(FaceSource::BlazeFace);
  FinderSettings settings;  // the element's defaults
  settings.detect_interval = 1;
  settings.min_face_size = min_face_size;
  return {name, min_face_size,
          [finder, settings](const Frame& f) {
            finder->reset();  // an independent still
            std::vector<Detection> found;
            for (const Track* t : finder->find(ref(f.bgr), {}, settings)) found.push_back({t->box, t->score});
            return found;
          },
          {}, {}};
}

// --dump DIR: every false face and every missed wanted face as a PNG crop (3x the box, enlarged to
// 96 px), named row_condition_size_kind_width_score_index.png.
void dump_faces(const std::string& dir, const std::string& row, const Frame& f, const std::vector<Detection>& found,
                const std::vector<int>& owner, int min_face) {
  static int counter = 0;
  auto save = [&](const FaceBox& b, const std::string& kind, double score) {
    const double side = std::max(b.width, b.height) * 3;
    const cv::Rect r = cv::Rect(static_cast<int>(b.x + b.width / 2 - side / 2), static_cast<int>(b.y + b.height / 2 - side / 2),
                                static_cast<int>(side), static_cast<int>(side)) & cv::Rect(0, 0, f.bgr.cols, f.bgr.rows);
    if (r.empty()) return;
    cv::Mat crop;
    cv::resize(f.bgr(r), crop, cv::Size(), 96.0 / side, 96.0 / side, cv::INTER_NEAREST);
    std::string name = row;
    std::replace(name.begin(), name.end(), ' ', '-');
    char file[512];
    std::snprintf(file, sizeof file, "%s/%s_%s_%02d_%s_w%.0f_s%.2f_%04d.png", dir.c_str(), name.c_str(),
                  f.noisy ? "noisy" : "clean", kSizes[f.size_index], kind.c_str(), b.width, score, counter++);
    cv::imwrite(file, crop);
  };
  for (std::size_t i = 0; i < found.size(); ++i)
    if (owner[i] < 0) save(found[i].box, "false", found[i].score);
  for (std::size_t t = 0; t < f.truth.size(); ++t)
    if (f.truth[t].width >= min_face && std::find(owner.begin(), owner.end(), static_cast<int>(t)) == owner.end())
      save(f.truth[t], "missed", 0);
}

// --cost: BlazeFace's time per detector frame at 854x480 and 1920x1080 (each photo stretched to the
// frame, every tile run: no still-tile reuse, as on a moving camera), before issue 38 (min_face_size 16
// = 16 px for the network, threshold 0.65) and the element's finder options now (detector_options),
// plus --face-px variants of the latter; faces found per frame beside it. One process, interleaved.
int run_cost(const std::vector<test_data::AnnotatedImage>& images, const std::vector<int>& face_px) {
  std::vector<std::pair<std::string, DetectorOptions>> settings;
  DetectorOptions before;
  before.backend = DetectorBackend::BlazeFace;
  before.min_face_size = 16;
  before.max_faces = kMaxTrackedFaces;
  settings.push_back({"before: min 16 -> 16 px, p >= 0.65", before});
  const FinderSettings defaults;
  settings.push_back({"now: element finder defaults", detector_options(FaceSource::BlazeFace, defaults)});
  for (const int px : face_px) {
    FinderSettings s;
    s.blazeface_face_px = px;
    settings.push_back({"now, blazeface_face_px " + std::to_string(px), detector_options(FaceSource::BlazeFace, s)});
  }
  std::printf("BlazeFace ms per detector frame (every tile run), %zu photos stretched to the frame, OpenCV threads %d\n",
              images.size(), cv::getNumThreads());
  for (const auto& [w, h] : {std::pair{854, 480}, std::pair{1920, 1080}}) {
    std::vector<cv::Mat> frames;
    for (const auto& image : images) {
      cv::Mat f;
      cv::resize(read_image_bgr(image.path), f, cv::Size(w, h), 0, 0, cv::INTER_LINEAR);
      frames.push_back(f);
    }
    std::vector<std::unique_ptr<Detector>> detectors;
    for (auto [name, o] : settings) {
      o.reuse_still_regions = false;
      detectors.push_back(Detector::create(o));
      detectors.back()->detect(ref(frames[0]));  // warm-up
    }
    std::vector<double> ms(settings.size(), 0);
    std::vector<int> faces(settings.size(), 0);
    for (const cv::Mat& f : frames)
      for (std::size_t k = 0; k < detectors.size(); ++k) {  // interleaved: the same load for each
        const auto start = Clock::now();
        faces[k] += static_cast<int>(detectors[k]->detect(ref(f)).size());
        ms[k] += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      }
    for (std::size_t k = 0; k < settings.size(); ++k)
      std::printf("  %dx%-5d %-40s %7.1f ms  (%.1f faces/frame; every 5th frame: %.1f ms/frame)\n", w, h,
                  settings[k].first.c_str(), ms[k] / frames.size(), double(faces[k]) / frames.size(),
                  ms[k] / frames.size() / 5);
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> face_px;
  int extra_min = 16, extra_want = 0;
  std::string dump, tsv_path;
  double extra_threshold = 0;
  bool finder_rows = true, only_extra = false, cost = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--face-px" && i + 1 < argc) face_px.push_back(std::atoi(argv[++i]));
    else if (a == "--min" && i + 1 < argc) extra_min = std::atoi(argv[++i]);
    else if (a == "--want" && i + 1 < argc) extra_want = std::atoi(argv[++i]);
    else if (a == "--dump" && i + 1 < argc) dump = argv[++i];
    else if (a == "--tsv" && i + 1 < argc) tsv_path = argv[++i];
    else if (a == "--threshold" && i + 1 < argc) extra_threshold = std::atof(argv[++i]);
    else if (a == "--no-finder") finder_rows = false;
    else if (a == "--cost") cost = true;
    else if (a == "--only-extra") only_extra = true, finder_rows = false;
    else {
      std::fprintf(stderr, "usage: %s [--face-px N]... [--min N] [--want N] [--threshold P] [--tsv FILE] [--dump DIR] [--no-finder] [--only-extra] [--cost]\n", argv[0]);
      return 2;
    }
  }
  std::vector<test_data::AnnotatedImage> images;
  for (const char* xml : {"/training.xml", "/testing.xml"})
    for (auto& image : test_data::read_dlib_xml(test_data::kDlibFaces + xml)) images.push_back(image);
  int faces = 0;
  for (const auto& image : images) faces += static_cast<int>(image.faces.size());
  if (images.empty()) {
    std::fprintf(stderr, "dlib's annotated photos missing (%s): install libdlib-dev\n", test_data::kDlibFaces.c_str());
    return 77;
  }
  if (cost) return run_cost(images, face_px);
  const std::vector<Frame> frames = make_frames(images);

  std::vector<Row> rows;
  bool blazeface = true;
  try {
    if (!only_extra) {
      DetectorOptions blaze;
      blaze.backend = DetectorBackend::BlazeFace;
      blaze.min_face_size = 12;
      rows.push_back(detector_row("blazeface min12 (detector defaults)", blaze));
    }
  } catch (const std::exception& e) {
    std::printf("blazeface rows left out: %s\n", e.what());
    blazeface = false;
  }
  if (!only_extra) {
    FinderSettings s12;
    s12.min_face_size = 12;
    rows.push_back(detector_row("haar min12 (element's setup)", detector_options(FaceSource::Haar, s12)));
    rows.push_back(detector_row("hog min12 (element's setup, up1)", detector_options(FaceSource::Hog, s12)));
  }
  if (blazeface) {
    if (finder_rows) {
      rows.push_back(finder_row("element finder blazeface min16", 16));
      rows.push_back(finder_row("element finder blazeface min12", 12));
    }
    for (const int px : face_px) {
      FinderSettings s;
      s.min_face_size = extra_min;
      DetectorOptions o = detector_options(FaceSource::BlazeFace, s);
      o.blazeface_face_px = px;
      o.score_threshold = extra_threshold;
      rows.push_back(detector_row("blazeface min" + std::to_string(extra_min) + " face-px " + std::to_string(px), o));
      if (extra_want > 0) rows.back().min_face = extra_want, rows.back().name += " want" + std::to_string(extra_want);
    }
  }
  FILE* tsv = tsv_path.empty() ? nullptr : std::fopen(tsv_path.c_str(), "w");
  for (auto& row : rows) {
    // Stills: blazeface's reuse of still tiles never applies (see the top), so the options stay as
    // set; one warm-up call on a frame from the middle.
    row.find(frames[frames.size() / 2]);
    for (const Frame& f : frames) {
      const auto start = Clock::now();
      const std::vector<Detection> found = row.find(f);
      Cell& cell = row.cells[f.noisy][f.size_index];
      cell.ms += std::chrono::duration<double, std::milli>(Clock::now() - start).count();
      ++cell.frames;
      const std::vector<int> owner = score(cell, row.stats, f, found, row.min_face);
      if (!dump.empty()) dump_faces(dump, row.name, f, found, owner, row.min_face);
      if (tsv != nullptr) {
        int wanted = 0;
        for (const auto& t : f.truth) wanted += t.width >= row.min_face;
        std::fprintf(tsv, "%s\t%s\t%d\ttruth\t%d\t0\t0\t0\t0\n", row.name.c_str(), f.noisy ? "noisy" : "clean",
                     kSizes[f.size_index], wanted);
      }
      if (tsv != nullptr)
        for (std::size_t i = 0; i < found.size(); ++i) {
          const int t = owner[i];
          const char* kind = t < 0 ? "false" : f.truth[t].width >= row.min_face ? "hit" : "dontcare";
          std::fprintf(tsv, "%s\t%s\t%d\t%s\t%.4f\t%.1f\t%.1f\t%.1f\t%.1f\n", row.name.c_str(), f.noisy ? "noisy" : "clean",
                       kSizes[f.size_index], kind, found[i].score, found[i].box.width, t < 0 ? 0.0 : f.truth[t].width,
                       found[i].box.x, found[i].box.y);
        }
    }
  }

  std::printf("Real photos: dlib's %zu annotated photos (%d faces), resized so the median face is N px;\n"
              "match: IoU >= %.1f or centre inside and width within 2x; faces below a row's min size: don't care.\n"
              "noisy = + Gaussian noise sigma %.0f + JPEG q%d. OpenCV threads %d.\n",
              images.size(), faces, kMinIou, kNoiseSigma, kJpegQuality, cv::getNumThreads());
  for (const bool noisy : {false, true}) {
    std::printf("\n%s%-44s", noisy ? "NOISY " : "CLEAN ", "  recall / precision / ms per frame");
    for (int s : kSizes) std::printf(" %6d", s);
    std::printf("\n");
    for (const auto& row : rows) {
      const auto& cells = row.cells[noisy];
      std::printf("%-38s recall   ", row.name.c_str());
      for (const auto& c : cells)
        if (c.truth) std::printf(" %6.2f", c.recall());
        else std::printf(" %6s", "-");
      std::printf("\n%-38s precision", "");
      for (const auto& c : cells) std::printf(" %6.2f", c.precision());
      std::printf("\n%-38s ms       ", "");
      for (const auto& c : cells) std::printf(" %6.1f", c.ms / std::max(1, c.frames));
      std::printf("\n%-38s hits     ", "");
      for (const auto& c : cells) std::printf(" %2d/%-3d", c.hits, c.truth);
      std::printf("  false:");
      for (const auto& c : cells) std::printf(" %d", c.false_faces);
      std::printf("\n");
    }
  }
  if (tsv != nullptr) std::fclose(tsv);
  std::printf("\nBox vs dlib's annotation (matched faces, all sizes): width ratio, height ratio, centre offset x, y\n"
              "(in annotated widths; + = right, down)\n");
  for (const auto& row : rows)
    if (row.stats.n)
      std::printf("  %-38s %.2f  %.2f  %+.2f  %+.2f  (%d faces)\n", row.name.c_str(), row.stats.width_ratio / row.stats.n,
                  row.stats.height_ratio / row.stats.n, row.stats.dx / row.stats.n, row.stats.dy / row.stats.n, row.stats.n);
  return 0;
}
