// The crop rule: region for a face box, extraction with replicated padding, exact inverse mapping.
#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "crop_rule.h"

using namespace facesr;

namespace {
// A frame whose pixel (x, y) holds (x mod 256, y mod 256, 7): where a crop pixel came from is readable.
cv::Mat coordinate_frame(int w, int h) {
  cv::Mat frame(h, w, CV_8UC3);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x) frame.at<cv::Vec3b>(y, x) = cv::Vec3b(x % 256, y % 256, 7);
  return frame;
}
}  // namespace

TEST(CropRule, RegionFollowsTheRule) {
  CropRule rule{0.1, -0.2, 1.5};
  const auto r = crop_region_for_face({100, 50, 40, 30}, rule);
  EXPECT_EQ(r.side, 60);                              // 1.5 x max(40, 30)
  EXPECT_EQ(r.x, static_cast<int>(std::lround(100 + 20 + 4 - 30)));  // centre x 124
  EXPECT_EQ(r.y, static_cast<int>(std::lround(50 + 15 - 6 - 30)));   // centre y 59
  EXPECT_THROW(crop_region_for_face({0, 0, 0, 10}, rule), std::invalid_argument);
  EXPECT_THROW(crop_region_for_face({0, 0, 10, 10}, {0, 0, 0}), std::invalid_argument);
}

TEST(CropRule, ExtractThenInverseLandsOnTheSamePixels) {
  const cv::Mat frame = coordinate_frame(200, 150);
  const CropRegion region{37, 21, 64};
  const cv::Mat crop = extract_crop(frame, region, 64);  // 1:1: pixels copied
  for (int v = 0; v < 64; ++v)
    for (int u = 0; u < 64; ++u) {
      const cv::Point2d p = crop_to_frame(region, 64, {u + 0.5, v + 0.5});
      const auto px = crop.at<cv::Vec3b>(v, u);
      ASSERT_EQ(px[0], static_cast<int>(std::floor(p.x)));
      ASSERT_EQ(px[1], static_cast<int>(std::floor(p.y)));
    }
  // Resampled to 32x32 (area averaging of 2x2 blocks): each crop pixel's centre maps into the frame
  // at the mean of its source pixels, within half a pixel.
  const cv::Mat small = extract_crop(frame, region, 32);
  for (int v = 0; v < 32; ++v)
    for (int u = 0; u < 32; ++u) {
      const cv::Point2d p = crop_to_frame(region, 32, {u + 0.5, v + 0.5});
      const auto px = small.at<cv::Vec3b>(v, u);
      EXPECT_NEAR(px[0] + 0.5, p.x, 0.5 + 1e-9);
      EXPECT_NEAR(px[1] + 0.5, p.y, 0.5 + 1e-9);
    }
  // Round trip of coordinates.
  for (cv::Point2d p : {cv::Point2d(40.25, 30.75), cv::Point2d(99.0, 80.5)}) {
    const cv::Point2d back = crop_to_frame(region, 256, frame_to_crop(region, 256, p));
    EXPECT_NEAR(back.x, p.x, 1e-9);
    EXPECT_NEAR(back.y, p.y, 1e-9);
  }
}

TEST(CropRule, OffFrameCropsReplicateTheEdge) {
  const cv::Mat frame = coordinate_frame(100, 80);
  const CropRegion region{-10, 60, 40};  // 10 px off the left, 20 px off the bottom
  const cv::Mat crop = extract_crop(frame, region, 40);
  for (int v = 0; v < 40; ++v)
    for (int u = 0; u < 40; ++u) {
      const int fx = std::clamp(region.x + u, 0, 99), fy = std::clamp(region.y + v, 0, 79);
      ASSERT_EQ(crop.at<cv::Vec3b>(v, u), frame.at<cv::Vec3b>(fy, fx)) << u << "," << v;
    }
  const auto clip = clip_region(region, frame.size());
  EXPECT_EQ(clip.in_frame, cv::Rect(0, 60, 30, 20));
  EXPECT_EQ(clip.in_region, cv::Rect(10, 0, 30, 20));
  // Entirely off-frame: filled with the nearest frame pixel, never an exception.
  const cv::Mat far = extract_crop(frame, {500, 500, 20}, 8);
  EXPECT_EQ(far.at<cv::Vec3b>(4, 4), frame.at<cv::Vec3b>(79, 99));
  EXPECT_TRUE(clip_region({500, 500, 20}, frame.size()).in_frame.empty());
}

// Issue 36: a face goes to the model with the smallest input that holds its crop without shrinking
// it; a 40 px face is never shrunk into the 8x model's 32x32 when a 4x model is loaded.
TEST(CropRule, EachFaceToTheSmallestModelThatHoldsItsCrop) {
  const facesr::CropRule rule{0, 0, 1.25};
  const std::vector<int> all = {32, 64, 128};
  const std::vector<facesr::CropRule> rules(3, rule);
  auto model = [&](double side, const std::vector<int>& sides) {
    return facesr::model_for_face({10, 10, side, side}, sides, std::vector<facesr::CropRule>(sides.size(), rule));
  };
  EXPECT_EQ(facesr::model_for_face({0, 0, 16, 16}, all, rules), 0u);
  EXPECT_EQ(model(25, all), 0u);   // crop 31 <= 32
  EXPECT_EQ(model(27, all), 1u);   // crop 34 > 32: the 4x model, not shrunk
  EXPECT_EQ(model(40, all), 1u);   // crop 50
  EXPECT_EQ(model(51, all), 1u);   // crop 64
  EXPECT_EQ(model(52, all), 2u);   // crop 65
  EXPECT_EQ(model(80, all), 2u);   // crop 100
  EXPECT_EQ(model(150, all), 2u);  // larger than every model: the largest (the size limit decides)
  EXPECT_EQ(model(40, {32, 128}), 1u) << "without the 4x model a 40 px face goes up, not down";
  EXPECT_EQ(model(40, {32}), 0u);
  // Each model's own rule: a wider rule for the 4x model sends a 40 px face to the 2x one.
  EXPECT_EQ(facesr::model_for_face({0, 0, 40, 40}, all, {rule, {0, 0, 2.0}, rule}), 2u);
}
