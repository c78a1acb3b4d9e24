// Compositing without the element: where mode=inset puts each enlarged face (issue 36: an inset was
// drawn over the neighbouring faces of a group).
#include <gtest/gtest.h>

#include "compositing.h"

namespace {

bool overlaps_any(const cv::Rect& r, const std::vector<cv::Rect>& others) {
  for (const auto& o : others)
    if ((r & o).area() > 0) return true;
  return false;
}

}  // namespace

TEST(Insets, CoverNoFaceAndNoOtherInset) {
  const cv::Size frame(854, 480);
  // A row of five faces side by side, as in a group photo, and one alone.
  std::vector<cv::Rect> faces;
  for (int i = 0; i < 5; ++i) faces.push_back({200 + 45 * i, 200, 40, 40});
  faces.push_back({700, 60, 30, 30});
  const std::vector<int> sides(faces.size(), 80);
  const auto insets = facesr::place_insets(frame, faces, sides);
  ASSERT_EQ(insets.size(), faces.size());
  std::vector<cv::Rect> placed;
  for (std::size_t i = 0; i < insets.size(); ++i) {
    SCOPED_TRACE(i);
    ASSERT_FALSE(insets[i].empty());
    EXPECT_EQ((insets[i] & cv::Rect(0, 0, frame.width, frame.height)), insets[i]) << "inside the frame";
    EXPECT_FALSE(overlaps_any(insets[i], faces)) << "covers a face";
    EXPECT_FALSE(overlaps_any(insets[i], placed)) << "covers another inset";
    EXPECT_GE(insets[i].width, 24);
    placed.push_back(insets[i]);
  }
  // The lone face gets its inset right beside it, at full size.
  EXPECT_EQ(insets[5], cv::Rect(734, 60, 80, 80));
}

TEST(Insets, ShrinkOrGiveUpWhenTheFrameIsFull) {
  // Faces everywhere but one 40 px corner: the inset shrinks to fit it; in a frame with no room, none.
  const cv::Size frame(200, 100);
  std::vector<cv::Rect> faces = {{0, 0, 160, 100}, {160, 40, 40, 60}};
  const auto insets = facesr::place_insets(frame, faces, {80});
  ASSERT_EQ(insets.size(), 1u);
  ASSERT_FALSE(insets[0].empty());
  EXPECT_LE(insets[0].width, 40);
  EXPECT_FALSE(overlaps_any(insets[0], faces));
  const auto none = facesr::place_insets(frame, {{0, 0, 200, 100}}, {80});
  EXPECT_TRUE(none[0].empty());
}
