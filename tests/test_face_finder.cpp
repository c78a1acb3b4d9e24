// FaceFinder: the detector on every Nth frame, tracking in between, and the element's filters. Boxes
// come from the upstream source, so each frame's "detections" are known exactly.
#include <gtest/gtest.h>

#include <filesystem>
#include <limits>
#include <vector>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dlib_faces.h"
#include "face_finder.h"

using facesr::Detection;
using facesr::FaceFinder;
using facesr::FaceSource;
using facesr::FinderSettings;
using facesr::ImageRef;
using facesr::Track;

namespace {

// A 200x100 frame's size; the upstream source never reads the pixels.
const uint8_t kPixel = 0;
const ImageRef kFrame{&kPixel, 200, 100, 200, facesr::PixelFormat::Gray8};

Detection box(double x, double y, double side, double score = 3) { return {{x, y, side, side}, score}; }

}  // namespace

TEST(FaceFinder, DetectsOnEveryNthFrameAndTracksInBetween) {
  FaceFinder finder(FaceSource::Upstream);
  FinderSettings settings;
  settings.detect_interval = 3;
  std::vector<bool> looked;
  for (int frame = 0; frame < 7; ++frame) {
    looked.push_back(finder.will_detect(settings));
    // The face moves 4 px a frame; frames the detector skips must ignore what upstream says.
    const auto faces = finder.find(kFrame, {box(20 + 4 * frame, 30, 40)}, settings);
    ASSERT_EQ(faces.size(), 1u) << frame;
    EXPECT_EQ(faces[0]->detected, looked.back()) << frame;
    EXPECT_EQ(faces[0]->id, 1) << "one track throughout";
  }
  EXPECT_EQ(looked, (std::vector<bool>{true, false, false, true, false, false, true}));

  // Nothing upstream on a predicted frame: the track is still shown (predicted), not dropped.
  FaceFinder quiet(FaceSource::Upstream);
  settings.detect_interval = 2;
  quiet.find(kFrame, {box(20, 30, 40)}, settings);
  EXPECT_EQ(quiet.find(kFrame, {}, settings).size(), 1u);
  // Nothing on a detector frame: the track is not shown from then on, not even on the frames the
  // detector skips (issue 37: five made-up faces stayed on SMPTE bars for the detect interval after a
  // cut), though the tracker keeps it: seen again, it keeps its id.
  EXPECT_TRUE(quiet.find(kFrame, {}, settings).empty());
  EXPECT_TRUE(quiet.find(kFrame, {}, settings).empty());
  quiet.find(kFrame, {}, settings);
  quiet.find(kFrame, {}, settings);
  const auto back = quiet.find(kFrame, {box(20, 30, 40)}, settings);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0]->id, 1);
  // reset() forgets the track, and the next call looks at the frame again.
  quiet.reset();
  EXPECT_TRUE(quiet.will_detect(settings));
  EXPECT_TRUE(quiet.find(kFrame, {}, settings).empty());
}

TEST(FaceFinder, ShowsOnlyTracksTheLastDetectionSaw) {
  // A face that turns back: the detection lands beside the old track's prediction (IoU < 0.3, so a
  // new track), and the old track, missed, is not shown.
  FaceFinder finder(FaceSource::Upstream);
  FinderSettings settings;
  finder.find(kFrame, {box(100, 30, 40)}, settings);
  const auto faces = finder.find(kFrame, {box(128, 30, 40)}, settings);
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_EQ(faces[0]->id, 2);
  EXPECT_TRUE(faces[0]->detected);
  // A missed track far from any seen one is not shown either (it used to be, once): only the new one.
  const auto apart = finder.find(kFrame, {box(20, 30, 40)}, settings);
  ASSERT_EQ(apart.size(), 1u);
  EXPECT_EQ(apart[0]->id, 3);
}

// Issue 37: a detection that is not finite, has no area or lies off the frame is dropped (and
// counted), never fatal: a crafted BlazeFace model's inf box ended the stream in the tracker.
TEST(FaceFinder, DropsUnusableDetectionsInsteadOfFailing) {
  FaceFinder finder(FaceSource::Upstream);
  const double inf = std::numeric_limits<double>::infinity(), nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<Detection> upstream = {
      {{inf, 10, 20, 20}, 1}, {{10, nan, 20, 20}, 1}, {{10, 10, inf, 20}, 1}, {{10, 10, 20, 20}, nan},
      {{10, 10, 0, 20}, 1},   {{10, 10, 20, -4}, 1},  {{500, 10, 20, 20}, 1}, {{10, -90, 20, 20}, 1},
      box(60, 30, 30)};
  std::vector<const Track*> faces;
  ASSERT_NO_THROW(faces = finder.find(kFrame, upstream, {}));
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_DOUBLE_EQ(faces[0]->box.x, 60);
  // The backend drops some itself (off-frame, too small); the non-finite ones reach the finder's check.
  EXPECT_GE(finder.dropped_detections(), 2u);
}

// Issue 37: every face found is reported, those over max_faces with the reason (a 41-face mosaic with
// max-faces=N reported 4 N faces: the detector's list was cut to 4 x max_faces).
TEST(FaceFinder, ReportsEveryFaceFoundBeyondMaxFaces) {
  const uint8_t pixel = 0;
  const ImageRef big{&pixel, 2000, 2000, 2000, facesr::PixelFormat::Gray8};
  std::vector<Detection> upstream;
  for (int i = 0; i < 41; ++i) upstream.push_back(box(40.0 * (i % 10) + 5, 40.0 * (i / 10) + 5, 30, 1 + i));
  for (int cap : {1, 8}) {
    FaceFinder finder(FaceSource::Upstream);
    FinderSettings settings;
    settings.max_faces = cap;
    std::vector<facesr::SkippedFace> skipped;
    const auto faces = finder.find(big, upstream, settings, &skipped);
    EXPECT_EQ(faces.size(), static_cast<std::size_t>(cap));
    ASSERT_EQ(faces.size() + skipped.size(), 41u) << "max-faces " << cap;
    for (const auto& f : skipped) EXPECT_EQ(f.reason, facesr::SkipReason::Cap);
  }
}

TEST(FaceFinder, KeepsFacesWithinTheSizeLimitsInsideTheFrameBestFirst) {
  FaceFinder finder(FaceSource::Upstream);
  FinderSettings settings;
  settings.min_face_size = 20;
  settings.max_face_size = 60;
  const std::vector<Detection> upstream = {box(10, 10, 12, 9),    // too small
                                           box(30, 10, 80, 9),    // too large
                                           box(120, 20, 30, 2),   // kept, lower score
                                           box(60, 40, 40, 5),    // kept, best
                                           box(150, 60, 24, 4)};  // kept
  auto faces = finder.find(kFrame, upstream, settings);
  ASSERT_EQ(faces.size(), 3u);
  EXPECT_DOUBLE_EQ(faces[0]->score, 5);
  EXPECT_DOUBLE_EQ(faces[1]->score, 4);
  EXPECT_DOUBLE_EQ(faces[2]->score, 2);
  settings.max_faces = 2;
  faces = finder.find(kFrame, upstream, settings);
  ASSERT_EQ(faces.size(), 2u);
  EXPECT_DOUBLE_EQ(faces[1]->score, 4);

  // A track that moves out of the frame stops being reported.
  FaceFinder leaving(FaceSource::Upstream);
  settings = {};
  settings.detect_interval = 100;
  for (int frame = 0; frame < 8; ++frame)
    ASSERT_EQ(leaving.find(kFrame, {box(100 + 6 * frame, 20, 60)}, {}).size(), 1u) << frame;
  int shown = 0;
  for (int frame = 0; frame < 30; ++frame) shown += static_cast<int>(leaving.find(kFrame, {}, settings).size());
  EXPECT_LT(shown, 30) << "a face moving 6 px a frame to the right must leave a 200 px frame";
  EXPECT_GT(shown, 0) << "it was inside the frame at first";
}

TEST(FaceFinder, HaarFindsARealFaceAndRejectsABadFrame) {
  // One of dlib's 150 px "johns" chips (face about 108 px) in the middle of a gray 320x240 frame.
  cv::Mat chip;
  for (const auto& entry : std::filesystem::directory_iterator(facesr::test_data::kDlibJohns + "/John_Simm")) {
    chip = cv::imread(entry.path().string(), cv::IMREAD_GRAYSCALE);
    break;
  }
  ASSERT_FALSE(chip.empty()) << "dlib's johns chips missing: install libdlib-dev";
  cv::Mat frame(240, 320, CV_8UC1, cv::Scalar(120));
  chip.copyTo(frame(cv::Rect(85, 45, chip.cols, chip.rows)));
  FaceFinder finder(FaceSource::Haar);
  FinderSettings settings;
  settings.detect_interval = 5;
  const auto faces = finder.find({frame.data, frame.cols, frame.rows, frame.step, facesr::PixelFormat::Gray8}, {}, settings);
  ASSERT_EQ(faces.size(), 1u);
  EXPECT_NEAR(faces[0]->box.x + faces[0]->box.width / 2, 160, 15);
  EXPECT_NEAR(faces[0]->box.width, 125, 35);  // the cascade's box is larger than dlib's 108 px

  // With a larger minimum face the cascade looks at a smaller copy of the frame, and still finds it.
  FinderSettings large;
  large.min_face_size = 48;
  EXPECT_DOUBLE_EQ(facesr::detector_options(FaceSource::Haar, large).detection_scale, 0.5);
  EXPECT_DOUBLE_EQ(facesr::detector_options(FaceSource::Haar, settings).detection_scale, 1.0);
  FaceFinder coarse(FaceSource::Haar);
  const auto found = coarse.find({frame.data, frame.cols, frame.rows, frame.step, facesr::PixelFormat::Gray8}, {}, large);
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NEAR(found[0]->box.x + found[0]->box.width / 2, 160, 15);

  FaceFinder fresh(FaceSource::Haar);
  EXPECT_THROW(fresh.find({nullptr, 640, 480, 640, facesr::PixelFormat::Gray8}, {}, {}), std::invalid_argument);
}
