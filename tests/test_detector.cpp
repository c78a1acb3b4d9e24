// Detectors: accuracy on dlib's annotated test photos, recall on small pasted faces, options, bad input,
// landmarks and masks. Figures asserted are the measured ones minus a small margin, so a regression
// fails; the measured values are printed (see the closing notes / README for the tables).
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detector.h"
#include "dlib_faces.h"
#include "face_finder.h"
#include "image_io.h"
#include "landmarks.h"

using namespace facesr;
namespace fs = std::filesystem;

namespace {

struct Setting {
  std::string name;
  DetectorOptions options;
};

std::vector<Setting> settings() {
  DetectorOptions hog0, hog1, haar, lbp;
  hog1.upsample = 1;
  haar.backend = lbp.backend = DetectorBackend::Cascade;
  lbp.cascade_path = kLbpCascade;
  for (auto* o : {&hog0, &hog1, &haar, &lbp}) o->min_face_size = 12;
  return {{"hog", hog0}, {"hog-up1", hog1}, {"haar-alt2", haar}, {"lbp", lbp}};
}

ImageRef ref(const cv::Mat& bgr) { return {bgr.data, bgr.cols, bgr.rows, bgr.step, PixelFormat::BGR8}; }

struct Score {
  int truth = 0, found = 0, hits = 0;
  double recall() const { return truth ? double(hits) / truth : 0; }
  double precision() const { return found ? double(hits) / found : 1; }
};

// Greedy one-to-one matching at IoU >= 0.5.
void count(Score& s, const std::vector<FaceBox>& truth, const std::vector<Detection>& found, double min_iou = 0.5) {
  s.truth += truth.size();
  s.found += found.size();
  std::vector<bool> used(found.size(), false);
  for (const auto& t : truth) {
    int best = -1;
    double best_iou = min_iou;
    for (std::size_t i = 0; i < found.size(); ++i)
      if (!used[i] && iou(t, found[i].box) >= best_iou) best = i, best_iou = iou(t, found[i].box);
    if (best >= 0) used[best] = true, ++s.hits;
  }
}

// The first n of dlib's "johns" face chips (150x150, HOG box = the centre 108 px).
std::vector<cv::Mat> johns_chips(std::size_t n) {
  std::vector<cv::Mat> chips;
  for (const auto& person : fs::directory_iterator(test_data::kDlibJohns))
    for (const auto& file : fs::directory_iterator(person.path()))
      if (chips.size() < n) chips.push_back(read_image_bgr(file.path().string()));
  return chips;
}

// All of `chips` pasted as faces `width` px wide (HOG's box) into 854x480 frames of blurred noise, in a
// grid with random offsets, as many a frame as fit; fn(frame, truth boxes) for each frame.
template <typename Fn>
void for_each_pasted_frame(const std::vector<cv::Mat>& chips, int width, std::mt19937& rng, Fn&& fn) {
  const int chip_side = static_cast<int>(std::lround(width * 150.0 / 108.0));
  const int cell = chip_side + 24;
  std::size_t next = 0;
  while (next < chips.size()) {
    cv::Mat frame(480, 854, CV_8UC3);
    cv::randn(frame, cv::Scalar(110, 120, 125), cv::Scalar(12, 12, 12));
    cv::GaussianBlur(frame, frame, cv::Size(5, 5), 2);
    std::vector<FaceBox> truth;
    for (int y = 12; y + cell <= 480 && next < chips.size(); y += cell)
      for (int x = 12; x + cell <= 854 && next < chips.size(); x += cell) {
        cv::Mat chip;
        cv::resize(chips[next++], chip, cv::Size(chip_side, chip_side), 0, 0, cv::INTER_AREA);
        const int ox = x + static_cast<int>(rng() % 12), oy = y + static_cast<int>(rng() % 12);
        chip.copyTo(frame(cv::Rect(ox, oy, chip_side, chip_side)));
        const double m = (chip_side - width) / 2.0;
        truth.push_back({ox + m, oy + m, double(width), double(width)});
      }
    fn(frame, truth);
  }
}

}  // namespace

TEST(DetectorAccuracy, DlibTestingXml) {
  const auto images = test_data::read_dlib_xml(test_data::kDlibFaces + "/testing.xml");
  ASSERT_EQ(images.size(), 5u) << "dlib's examples/faces/testing.xml missing: install libdlib-dev";
  // Measured recall / precision (IoU >= 0.5) minus a margin.
  // Measured 2026-11-25: hog 0.20/1.00, hog-up1 1.00/1.00, haar-alt2 0.96/0.857, lbp 0.12/1.00
  // (the faces are 37-109 px; plain HOG and LBP miss the many 37-44 px ones). Margin: 2 faces.
  const std::map<std::string, std::pair<double, double>> floor = {
      {"hog", {0.12, 0.9}}, {"hog-up1", {0.92, 0.9}}, {"haar-alt2", {0.88, 0.78}}, {"lbp", {0.04, 0.9}}};
  for (const auto& setting : settings()) {
    auto detector = Detector::create(setting.options);
    Score score;
    for (const auto& image : images) count(score, image.faces, detector->detect(ref(read_image_bgr(image.path))));
    std::printf("testing.xml %-10s recall %.3f (%d/%d) precision %.3f (%d found)\n", setting.name.c_str(),
                score.recall(), score.hits, score.truth, score.precision(), score.found);
    EXPECT_GE(score.recall(), floor.at(setting.name).first) << setting.name;
    EXPECT_GE(score.precision(), floor.at(setting.name).second) << setting.name;
  }
}

// Real faces (dlib's "johns" face chips) pasted at given widths into 854x480 frames.
TEST(DetectorAccuracy, SmallFacesBySize) {
  const std::vector<cv::Mat> chips = johns_chips(24);
  ASSERT_GE(chips.size(), 20u) << "dlib's examples/johns missing: install libdlib-dev";
  const int widths[] = {16, 20, 24, 32, 48, 64, 96};
  std::mt19937 rng(5);
  std::printf("small faces, recall by face width (IoU >= 0.4):\n%-10s", "backend");
  for (int w : widths) std::printf(" %5d", w);
  std::printf("\n");
  // Measured recall minus a margin, per backend, per width.
  // Measured 2026-11-25 (24 faces per width):
  //              16    20    24    32    48    64    96
  //   hog       0.00  0.00  0.00  0.00  0.79  1.00  1.00
  //   hog-up1   0.00  0.00  0.17  0.96  1.00  1.00  1.00
  //   haar-alt2 0.29  0.54  0.50  0.88  0.92  0.92  0.92
  //   lbp       0.00  0.00  0.00  0.00  0.88  0.96  1.00
  // Floors: measured minus about 2 faces (0.09).
  const std::map<std::string, std::vector<double>> floor = {
      {"hog", {0, 0, 0, 0, 0.70, 0.91, 0.91}}, {"hog-up1", {0, 0, 0.08, 0.87, 0.91, 0.91, 0.91}},
      {"haar-alt2", {0.2, 0.45, 0.41, 0.79, 0.83, 0.83, 0.83}}, {"lbp", {0, 0, 0, 0, 0.79, 0.87, 0.91}}};
  for (const auto& setting : settings()) {
    auto detector = Detector::create(setting.options);
    std::printf("%-10s", setting.name.c_str());
    for (std::size_t wi = 0; wi < std::size(widths); ++wi) {
      const int w = widths[wi];
      Score score;
      for_each_pasted_frame(chips, w, rng, [&](const cv::Mat& frame, const std::vector<FaceBox>& truth) {
        count(score, truth, detector->detect(ref(frame)), 0.4);
      });
      std::printf(" %5.2f", score.recall());
      EXPECT_GE(score.recall(), floor.at(setting.name)[wi]) << setting.name << " at " << w << " px";
    }
    std::printf("\n");
  }
}

// BlazeFace (detector=blazeface, the element's default through detector=auto) needs its model,
// fetched by scripts/fetch-detector-models.sh (tests/run.sh runs it); without it these tests skip.
DetectorOptions blazeface_options(int min_face_size) {
  DetectorOptions options;
  options.backend = DetectorBackend::BlazeFace;
  options.min_face_size = min_face_size;
  return options;
}

#define SKIP_WITHOUT_BLAZEFACE()                                                             \
  if (!fs::exists(default_blazeface_model()))                                                \
  GTEST_SKIP() << "no BlazeFace model at " << default_blazeface_model()                     \
               << ": run scripts/fetch-detector-models.sh"

TEST(BlazeFace, FindsSmallFacesBySizeWithoutFalseOnes) {
  SKIP_WITHOUT_BLAZEFACE();
  const std::vector<cv::Mat> chips = johns_chips(24);
  ASSERT_GE(chips.size(), 20u) << "dlib's examples/johns missing: install libdlib-dev";
  // Measured 2026-11-30 (24 faces per width): 0.88 at 12 px, 1.00 from 16 px, no false face (gray
  // input: 0.12 at 12 px, 0.88 at 16 px). Haar finds none at 12 px.
  const int widths[] = {12, 16, 20, 24, 32, 48, 64, 96};
  auto detector = Detector::create(blazeface_options(12));
  // The same frames through a detector that never reuses a still tile: pictures this alike (the same
  // grid, faces a few pixels from the previous frame's) must not let reuse hide a face.
  DetectorOptions fresh_options = blazeface_options(12);
  fresh_options.reuse_still_regions = false;
  auto fresh = Detector::create(fresh_options);
  std::mt19937 rng(5);
  std::printf("blazeface recall by face width (IoU >= 0.4):");
  for (const int w : widths) {
    Score score, gray_score, fresh_score;
    for_each_pasted_frame(chips, w, rng, [&](const cv::Mat& frame, const std::vector<FaceBox>& truth) {
      count(score, truth, detector->detect(ref(frame)), 0.4);
      count(fresh_score, truth, fresh->detect(ref(frame)), 0.4);
      cv::Mat gray;  // the element hands it BGRx/RGB; gray input works too (replicated to RGB)
      cv::cvtColor(frame, gray, cv::COLOR_BGR2GRAY);
      count(gray_score, truth, detector->detect({gray.data, gray.cols, gray.rows, gray.step, PixelFormat::Gray8}), 0.4);
    });
    std::printf(" %d px %.2f (precision %.2f, gray %.2f)", w, score.recall(), score.precision(), gray_score.recall());
    EXPECT_GE(score.recall(), w == 12 ? 0.8 : 0.9) << w << " px";
    // At most one face apart: a borderline 12 px face (score or IoU at the limit) can come and go with
    // OpenCV's thread scheduling (0.83 once in a run on a loaded machine, 0.88 otherwise).
    EXPECT_LE(std::abs(score.hits - fresh_score.hits), 1) << w << " px: reusing still tiles changed what was found";
    EXPECT_GE(score.precision(), 0.95) << w << " px";
    // Gray input loses faces at 12 px: the element hands it colour.
    if (w >= 16) {
      EXPECT_GE(gray_score.recall(), 0.8) << w << " px, gray input";
    }
  }
  std::printf("\n");
}

TEST(BlazeFace, RealPhotosFewFalseFaces) {
  SKIP_WITHOUT_BLAZEFACE();
  // dlib's annotated street and party photos (training.xml + testing.xml: 43 faces, 9 photos),
  // looking for faces from 12 px: textures (foliage, clothes, crowds) are where false faces come from.
  // Measured 2026-11-30: recall 1.00, precision 0.93 (3 false faces; 27 with MediaPipe's 0.5).
  auto detector = Detector::create(blazeface_options(12));
  Score s;
  for (const char* xml : {"/training.xml", "/testing.xml"})
    for (const auto& image : test_data::read_dlib_xml(test_data::kDlibFaces + xml))
      count(s, image.faces, detector->detect(ref(read_image_bgr(image.path))), 0.3);
  std::printf("blazeface on dlib's photos: recall %.3f, precision %.3f (%d faces, %d found)\n", s.recall(),
              s.precision(), s.truth, s.found);
  EXPECT_GE(s.recall(), 0.95);
  EXPECT_GE(s.precision(), 0.9);
}

// Issue 38: real faces near the element's default min-face-size (16 px), found by the element's own
// face finder at its defaults. dlib's testing photos (5 street and party photos, 25 faces annotated
// 37-109 px) shrunk by area averaging so that their median face is 16, 17 and 18 px, clean and as
// CCTV-like footage (Gaussian noise sigma 4, JPEG quality 40). Faces annotated from 16 px count
// (smaller ones are not asked for: a box on one is neither a hit nor a false face); matched at
// IoU >= 0.3, or centre inside and width within 2x, as in bench-detect-real.
// Measured 2026-12-08: clean 55/60 (0.917) before issue 38's change (min-face-size = the network's
// 16 px, boxes under 16 px dropped: BlazeFace's box of a 16 px face is often 14-15 px), 58/60 (0.967)
// after (x1.14, boxes from 14 px, p >= 0.7). Noisy: 40/60, 0 false before; 33/60, 2 false after (a hand
// on a gold costume and a wall clock, p 0.70-0.76): on noisy faces of 16-20 px every setting tried
// trades found faces for false ones on about one curve (bench-detect-real), so only a floor is kept.
TEST(BlazeFace, RealFacesAtTheDefaultMinimumSize) {
  SKIP_WITHOUT_BLAZEFACE();
  const auto images = test_data::read_dlib_xml(test_data::kDlibFaces + "/testing.xml");
  ASSERT_EQ(images.size(), 5u) << "dlib's examples/faces/testing.xml missing: install libdlib-dev";
  FaceFinder finder(FaceSource::BlazeFace);
  const FinderSettings settings;  // the element's defaults: min-face-size 16
  ASSERT_EQ(settings.min_face_size, 16);
  struct Tally {
    int wanted = 0, hits = 0, false_faces = 0;
  } tally[2];
  for (const bool noisy : {false, true})
    for (const int median : {16, 17, 18})
      for (const auto& image : images) {
        const cv::Mat photo = read_image_bgr(image.path);
        std::vector<double> widths;
        for (const auto& f : image.faces) widths.push_back(f.width);
        std::sort(widths.begin(), widths.end());
        const double scale = median / widths[widths.size() / 2];
        cv::Mat small;
        cv::resize(photo, small, cv::Size(), scale, scale, cv::INTER_AREA);
        if (noisy) {
          cv::Mat noise(small.size(), CV_32FC3), sum;
          cv::theRNG().state = 38 + median;
          cv::randn(noise, 0.0, 4.0);
          small.convertTo(sum, CV_32FC3);
          sum += noise;
          sum.convertTo(small, CV_8UC3);
          std::vector<uint8_t> jpeg;
          cv::imencode(".jpg", small, jpeg, {cv::IMWRITE_JPEG_QUALITY, 40});
          small = cv::imdecode(jpeg, cv::IMREAD_COLOR);
        }
        const double sx = double(small.cols) / photo.cols, sy = double(small.rows) / photo.rows;
        finder.reset();  // independent stills
        std::vector<FaceBox> found;
        for (const Track* t : finder.find(ref(small), {}, settings)) found.push_back(t->box);
        std::vector<int> owner(found.size(), -1);
        Tally& n = tally[noisy];
        for (std::size_t a = 0; a < image.faces.size(); ++a) {
          const FaceBox& f = image.faces[a];
          const FaceBox truth{f.x * sx, f.y * sy, f.width * sx, f.height * sy};
          int best = -1;
          double best_iou = -1;
          for (std::size_t i = 0; i < found.size(); ++i) {
            const FaceBox& d = found[i];
            const double cx = d.x + d.width / 2, cy = d.y + d.height / 2, ratio = d.width / truth.width;
            const bool centred = cx >= truth.x && cx <= truth.x + truth.width && cy >= truth.y &&
                                 cy <= truth.y + truth.height && ratio >= 0.5 && ratio <= 2.0;
            if (owner[i] < 0 && (iou(truth, d) >= 0.3 || centred) && iou(truth, d) > best_iou)
              best = static_cast<int>(i), best_iou = iou(truth, d);
          }
          if (best >= 0) owner[best] = static_cast<int>(a);
          if (truth.width >= settings.min_face_size) ++n.wanted, n.hits += best >= 0;
        }
        n.false_faces += static_cast<int>(std::count(owner.begin(), owner.end(), -1));
      }
  for (const bool noisy : {false, true}) {
    const Tally& n = tally[noisy];
    std::printf("real faces at 16-18 px (%s), element finder defaults: recall %.3f (%d/%d), %d false faces\n",
                noisy ? "noise + JPEG 40" : "clean", double(n.hits) / n.wanted, n.hits, n.wanted, n.false_faces);
  }
  EXPECT_GE(double(tally[0].hits) / tally[0].wanted, 0.95) << "clean";
  EXPECT_EQ(tally[0].false_faces, 0) << "clean";
  EXPECT_GE(double(tally[1].hits) / tally[1].wanted, 0.45) << "noise + JPEG";
  EXPECT_LE(tally[1].false_faces, 3) << "noise + JPEG";
}

// Issue 38: what the element's finder asks BlazeFace for (no model needed).
TEST(BlazeFace, FinderLooksSlightlyBelowMinFaceSize) {
  FinderSettings settings;  // min-face-size 16
  DetectorOptions o = detector_options(FaceSource::BlazeFace, settings);
  EXPECT_EQ(o.min_face_size, 14) << "boxes from 0.85 x 16";
  EXPECT_EQ(smallest_face(FaceSource::BlazeFace, settings), 14);
  EXPECT_EQ(o.blazeface_face_px, 16) << "14 px -> 16: x1.14";
  EXPECT_DOUBLE_EQ(o.score_threshold, kBlazeFaceThreshold);
  settings.min_face_size = 12;
  o = detector_options(FaceSource::BlazeFace, settings);
  EXPECT_EQ(o.min_face_size, 10);
  EXPECT_EQ(o.blazeface_face_px, 21) << "below 16 px: enlarged in proportion (x2, the limit)";
  settings.min_face_size = 64;
  EXPECT_EQ(detector_options(FaceSource::BlazeFace, settings).blazeface_face_px, 16);
  settings.blazeface_face_px = 28;  // the trade-off knob
  EXPECT_EQ(detector_options(FaceSource::BlazeFace, settings).blazeface_face_px, 28);
  // Other sources keep min-face-size exactly.
  settings = {};
  EXPECT_EQ(smallest_face(FaceSource::Upstream, settings), 16);
  EXPECT_EQ(smallest_face(FaceSource::Haar, settings), 16);
  EXPECT_EQ(detector_options(FaceSource::Haar, settings).min_face_size, 16);
  DetectorOptions bad = blazeface_options(16);
  bad.blazeface_face_px = 100;
  EXPECT_THROW(Detector::create(bad), std::invalid_argument);
}

TEST(BlazeFace, SizeFiltersAndRegionOfInterestMapBack) {
  SKIP_WITHOUT_BLAZEFACE();
  const auto images = test_data::read_dlib_xml(test_data::kDlibFaces + "/testing.xml");
  const cv::Mat photo = read_image_bgr(images[0].path);  // 6 faces, 37-53 px
  auto all = Detector::create(blazeface_options(20))->detect(ref(photo));
  Score s;
  count(s, images[0].faces, all, 0.3);
  EXPECT_GE(s.hits, 5) << "of 6 annotated faces";
  for (const auto& d : all) EXPECT_GT(d.score, 0.5);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i - 1].score, all[i].score) << "sorted by score";
  // The right half as a region of interest: boxes come back in frame pixels, all in that half.
  DetectorOptions half = blazeface_options(20);
  half.roi_x = photo.cols / 2;
  half.roi_width = photo.cols - half.roi_x;
  half.roi_height = photo.rows;
  const auto right = Detector::create(half)->detect(ref(photo));
  EXPECT_FALSE(right.empty());
  for (const auto& d : right) {
    EXPECT_GE(d.box.x + d.box.width / 2, half.roi_x);
    double best = 0;
    for (const auto& a : all) best = std::max(best, iou(a.box, d.box));
    EXPECT_GT(best, 0.5) << "the same face as on the whole frame";
  }
  // max_face_size / max_faces filter.
  DetectorOptions capped = blazeface_options(20);
  capped.max_faces = 2;
  EXPECT_EQ(Detector::create(capped)->detect(ref(photo)).size(), 2u);
  capped = blazeface_options(20);
  capped.max_face_size = 25;
  EXPECT_TRUE(Detector::create(capped)->detect(ref(photo)).empty()) << "all faces are wider than 25 px";
}

TEST(BlazeFace, StillRegionsReuseTheirFacesButSeeEveryChange) {
  SKIP_WITHOUT_BLAZEFACE();
  // A still camera: the same background frame after frame, faces coming and going. Tiles that did not
  // change keep their last faces; every change must still be seen.
  const std::vector<cv::Mat> chips = johns_chips(3);
  ASSERT_EQ(chips.size(), 3u);
  cv::Mat background(480, 854, CV_8UC3);
  cv::randn(background, cv::Scalar(110, 120, 125), cv::Scalar(12, 12, 12));
  cv::GaussianBlur(background, background, cv::Size(5, 5), 2);
  auto with_faces = [&](const std::vector<cv::Point>& at, int face) {
    cv::Mat frame = background.clone();
    const int side = static_cast<int>(std::lround(face * 150.0 / 108.0));
    for (std::size_t i = 0; i < at.size(); ++i) {
      cv::Mat chip;
      cv::resize(chips[i], chip, cv::Size(side, side), 0, 0, cv::INTER_AREA);
      chip.copyTo(frame(cv::Rect(at[i].x, at[i].y, side, side)));
    }
    // Fresh sensor noise on every frame: still, but never identical.
    cv::Mat noise(frame.size(), CV_16SC3);
    cv::randn(noise, 0, 3);
    cv::Mat noisy;
    frame.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(frame, CV_8UC3);
    return frame;
  };
  auto reusing = Detector::create(blazeface_options(16));
  DetectorOptions fresh_options = blazeface_options(16);
  fresh_options.reuse_still_regions = false;
  auto fresh = Detector::create(fresh_options);
  const std::vector<std::vector<cv::Point>> scenes = {
      {{100, 100}},                          // one face
      {{100, 100}},                          // the same, still
      {{100, 100}, {500, 300}},              // a second one appears far away
      {{100, 100}, {500, 300}},              // still
      {{500, 300}},                          // the first leaves
      {{503, 302}},                          // the other moves 3 px
      {{503, 302}, {300, 200}, {700, 50}}};  // two more
  for (std::size_t i = 0; i < scenes.size(); ++i) {
    const cv::Mat frame = with_faces(scenes[i], 20);
    const auto a = reusing->detect(ref(frame));
    const auto b = fresh->detect(ref(frame));
    EXPECT_EQ(a.size(), scenes[i].size()) << "scene " << i;
    ASSERT_EQ(a.size(), b.size()) << "scene " << i << ": reuse changed what was found";
    for (const auto& d : a) {
      double best = 0;
      for (const auto& e : b) best = std::max(best, iou(d.box, e.box));
      EXPECT_GT(best, 0.8) << "scene " << i;
    }
  }
}

TEST(BlazeFace, ModelProblemsSayWhatToDo) {
  auto message_of = [](const std::string& path) -> std::string {
    DetectorOptions options = blazeface_options(16);
    options.model_path = path;
    try {
      Detector::create(options);
    } catch (const std::runtime_error& e) {
      return e.what();
    }
    return "(no error)";
  };
  DetectorOptions certain = blazeface_options(16);
  certain.score_threshold = 1.0;  // would find nothing, silently
  EXPECT_THROW(Detector::create(certain), std::invalid_argument);
  const std::string missing = message_of("/nonexistent/blazeface.onnx");
  EXPECT_NE(missing.find("missing"), std::string::npos) << missing;
  EXPECT_NE(missing.find("scripts/fetch-detector-models.sh"), std::string::npos) << missing;
  // Issue 37: a directory or a FIFO is named as what it is, not "missing".
  const std::string directory = message_of(::testing::TempDir());
  EXPECT_NE(directory.find("is a directory"), std::string::npos) << directory;
  const std::string fifo = ::testing::TempDir() + "blazeface-fifo.onnx";
  fs::remove(fifo);
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string fifo_message = message_of(fifo);
  EXPECT_NE(fifo_message.find("is a FIFO"), std::string::npos) << fifo_message;
  fs::remove(fifo);
  const std::string garbage = ::testing::TempDir() + "garbage.onnx";
  std::ofstream(garbage) << "this is not an ONNX file";
  const std::string corrupt = message_of(garbage);
  EXPECT_NE(corrupt.find(garbage), std::string::npos) << corrupt;
  EXPECT_NE(corrupt.find("fetch-detector-models"), std::string::npos) << corrupt;
  if (fs::exists(default_blazeface_model())) {
    // The real file cut in half: a truncated download.
    std::ifstream in(default_blazeface_model(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const std::string half = ::testing::TempDir() + "half.onnx";
    std::ofstream(half, std::ios::binary) << bytes.substr(0, bytes.size() / 2);
    const std::string truncated = message_of(half);
    EXPECT_NE(truncated.find(half), std::string::npos) << truncated;
    EXPECT_EQ(truncated.find("(no error)"), std::string::npos);
  }
}

TEST(Detector, OptionsFilterAndMapBack) {
  const auto images = test_data::read_dlib_xml(test_data::kDlibFaces + "/testing.xml");
  const cv::Mat photo = read_image_bgr(images[0].path);  // 6 faces, 37-53 px
  DetectorOptions options;
  options.backend = DetectorBackend::Cascade;
  const auto all = Detector::create(options)->detect(ref(photo));
  ASSERT_GE(all.size(), 4u);
  for (std::size_t i = 1; i < all.size(); ++i) EXPECT_GE(all[i - 1].score, all[i].score) << "sorted by score";

  options.max_faces = 2;
  EXPECT_EQ(Detector::create(options)->detect(ref(photo)).size(), 2u);
  options.max_faces = 0;
  options.min_face_size = 48;
  for (const auto& d : Detector::create(options)->detect(ref(photo))) EXPECT_GE(std::max(d.box.width, d.box.height), 48);
  options.min_face_size = 20;
  options.max_face_size = 45;
  for (const auto& d : Detector::create(options)->detect(ref(photo))) EXPECT_LE(std::max(d.box.width, d.box.height), 45);
  options.max_face_size = 0;

  // Region of interest: only faces inside it, in frame coordinates.
  options.roi_x = 250, options.roi_y = 150, options.roi_width = 250, options.roi_height = 182;
  const auto in_roi = Detector::create(options)->detect(ref(photo));
  ASSERT_GE(in_roi.size(), 1u);
  for (const auto& d : in_roi) EXPECT_GE(d.box.x, 250);
  options.roi_width = options.roi_height = 0;

  // Detection on a 2x upscaled photo at detection_scale 0.5 finds the same boxes, mapped back.
  cv::Mat big;
  cv::resize(photo, big, cv::Size(), 2.0, 2.0, cv::INTER_CUBIC);
  options.detection_scale = 0.5;
  const auto scaled = Detector::create(options)->detect(ref(big));
  options.detection_scale = 1.0;
  Score s;
  std::vector<FaceBox> doubled;
  for (const auto& d : all) doubled.push_back({d.box.x * 2, d.box.y * 2, d.box.width * 2, d.box.height * 2});
  count(s, doubled, scaled);
  EXPECT_GE(s.recall(), 0.75) << "boxes found at detection_scale 0.5 do not map back onto the frame";

  // Gray and BGRx inputs with padded strides give the same faces as BGR.
  cv::Mat gray, bgrx;
  cv::cvtColor(photo, gray, cv::COLOR_BGR2GRAY);
  cv::cvtColor(photo, bgrx, cv::COLOR_BGR2BGRA);
  cv::Mat padded(gray.rows, gray.cols + 9, CV_8UC1, cv::Scalar(0));
  gray.copyTo(padded(cv::Rect(0, 0, gray.cols, gray.rows)));
  auto cascade = Detector::create(options);
  EXPECT_EQ(cascade->detect({padded.data, gray.cols, gray.rows, padded.step, PixelFormat::Gray8}).size(), all.size());
  EXPECT_EQ(cascade->detect({bgrx.data, bgrx.cols, bgrx.rows, bgrx.step, PixelFormat::BGRX8}).size(), all.size());
}

TEST(Detector, ExternalBackendUsesSuppliedBoxes) {
  DetectorOptions options;
  options.backend = DetectorBackend::External;
  options.min_face_size = 20;
  auto detector = Detector::create(options);
  std::vector<uint8_t> pixels(100 * 80 * 3, 0);
  const ImageRef image{pixels.data(), 100, 80, 300, PixelFormat::RGB8};
  detector->supply({{{10, 10, 30, 30}, 0.9}, {{50, 10, 10, 10}, 0.8}, {{500, 500, 30, 30}, 0.7}, {{40, 40, 25, 25}, 0.95}});
  const auto found = detector->detect(image);
  ASSERT_EQ(found.size(), 2u) << "too small and off-frame boxes are dropped";
  EXPECT_DOUBLE_EQ(found[0].score, 0.95);
  EXPECT_DOUBLE_EQ(found[1].box.x, 10);
  EXPECT_TRUE(detector->detect(image).empty()) << "supplied boxes are for one frame";
  DetectorOptions hog;
  EXPECT_THROW(Detector::create(hog)->supply({}), std::logic_error);
}

TEST(Detector, BadInputGivesClearErrors) {
  DetectorOptions options;
  std::vector<DetectorBackend> backends = {DetectorBackend::Hog, DetectorBackend::Cascade};
  if (fs::exists(default_blazeface_model())) backends.push_back(DetectorBackend::BlazeFace);
  for (auto backend : backends) {
    options.backend = backend;
    auto detector = Detector::create(options);
    std::vector<uint8_t> pixel(4, 0);
    auto message_of = [&](const ImageRef& image) -> std::string {
      try {
        detector->detect(image);
      } catch (const std::invalid_argument& e) {
        return e.what();
      }
      return "";
    };
    EXPECT_NE(message_of({pixel.data(), 0, 0, 0, PixelFormat::RGB8}).find("0x0"), std::string::npos);
    EXPECT_NE(message_of({nullptr, 10, 10, 30, PixelFormat::RGB8}).find("null"), std::string::npos);
    EXPECT_NE(message_of({pixel.data(), 10, 10, 20, PixelFormat::RGB8}).find("stride"), std::string::npos);
    EXPECT_TRUE(detector->detect({pixel.data(), 1, 1, 3, PixelFormat::RGB8}).empty()) << "1x1: no face, no crash";
    EXPECT_TRUE(detector->detect({pixel.data(), 1, 1, 1, PixelFormat::Gray8}).empty());
    if (backend == DetectorBackend::BlazeFace) continue;  // it looks at huge frames smaller instead
    // 10000 x 10000: refused before any allocation, with what to change.
    const auto huge = message_of({pixel.data(), 10000, 10000, 30000, PixelFormat::RGB8});
    EXPECT_NE(huge.find("lower detection_scale"), std::string::npos) << huge;
  }
  DetectorOptions bad;
  bad.detection_scale = 0;
  EXPECT_THROW(Detector::create(bad), std::invalid_argument);
  bad = {};
  bad.backend = DetectorBackend::Cascade;
  bad.cascade_path = "/nonexistent.xml";
  try {
    Detector::create(bad);
    FAIL();
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("opencv-data"), std::string::npos) << e.what();
  }
}

TEST(ImageIo, BadFilesGiveClearErrors) {
  const auto dir = fs::temp_directory_path() / "facesr-test-images";
  fs::create_directories(dir);
  const auto images = test_data::read_dlib_xml(test_data::kDlibFaces + "/testing.xml");
  std::ifstream in(images[0].path, std::ios::binary);
  std::string jpeg((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::ofstream(dir / "truncated.jpg", std::ios::binary) << jpeg.substr(0, jpeg.size() / 2);
  std::ofstream(dir / "text.jpg") << "hello, not a picture";
  std::ofstream(dir / "empty.png");
  cv::Mat png(10, 10, CV_8UC3, cv::Scalar(1, 2, 3));
  std::vector<uint8_t> encoded;
  cv::imencode(".png", png, encoded);
  std::ofstream(dir / "cut.png", std::ios::binary).write(reinterpret_cast<char*>(encoded.data()), encoded.size() / 2);
  const std::map<std::string, std::string> expected = {{"truncated.jpg", "truncated JPEG"},
                                                       {"text.jpg", "not an image"},
                                                       {"empty.png", "empty file"},
                                                       {"cut.png", "not an image"},
                                                       {"missing.jpg", "cannot open"}};
  for (const auto& [name, needle] : expected) {
    try {
      read_image_bgr((dir / name).string());
      ADD_FAILURE() << name << " was accepted";
    } catch (const std::runtime_error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << name << ": " << e.what();
      EXPECT_NE(std::string(e.what()).find(name), std::string::npos) << "the message names the file";
    }
  }
  cv::Mat gray(20, 30, CV_8UC1, cv::Scalar(9));
  cv::imwrite((dir / "gray.png").string(), gray);
  EXPECT_EQ(read_image_bgr((dir / "gray.png").string()).type(), CV_8UC3) << "gray photos are expanded";
  fs::remove_all(dir);
}

TEST(Landmarks, MasksCoverAllLandmarksAndStayInsideTheCrop) {
  auto predictor = LandmarkPredictor::open();
  const auto images = test_data::read_dlib_xml(test_data::kDlibFaces + "/testing.xml");
  int faces = 0;
  for (const auto& image : images) {
    const cv::Mat photo = read_image_bgr(image.path);
    for (const auto& box : image.faces) {
      const auto points = predictor->predict(ref(photo), box);
      ASSERT_EQ(points.size(), 68u);
      const CropRegion region = crop_region_for_face(box, {0.0, -0.1, 1.8});
      const cv::Mat mask = face_mask_from_landmarks(points, region, 256);
      ASSERT_EQ(mask.size(), cv::Size(256, 256));
      for (const auto& p : points) {
        const cv::Point2d c = frame_to_crop(region, 256, p);
        if (c.x < 0 || c.y < 0 || c.x >= 256 || c.y >= 256) continue;  // landmark outside the crop region
        EXPECT_GT(mask.at<uint8_t>(cvRound(std::min(c.y, 255.0)), cvRound(std::min(c.x, 255.0))), 0) << image.path;
      }
      const double coverage = cv::countNonZero(mask) / (256.0 * 256.0);
      EXPECT_GT(coverage, 0.1);
      EXPECT_LT(coverage, 0.9) << "the mask must not fill the whole crop";
      ++faces;
    }
  }
  EXPECT_EQ(faces, 25);
  const cv::Mat ellipse = face_mask_ellipse({100, 100, 50, 50}, crop_region_for_face({100, 100, 50, 50}, {}), 64);
  EXPECT_EQ(ellipse.at<uint8_t>(32, 32), 255);
  EXPECT_EQ(ellipse.at<uint8_t>(0, 0), 0);
  EXPECT_THROW(LandmarkPredictor::open("/nonexistent.dat"), std::runtime_error);
}
