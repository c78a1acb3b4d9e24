// temporal-smoothing (issue 20): the previous result of a track is moved by the shift between the two
// frames' crops before it is blended, so a face box that jitters by a pixel or two (8 result pixels
// per crop pixel) does not ghost. With the shipped model (the random test model's results do not move
// with their input).
#include <algorithm>
#include <filesystem>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "../dlib_faces.h"
#include "element_fixture.h"

using namespace facesr_test;
namespace fs = std::filesystem;

namespace {

class Temporal : public ElementTest {
 protected:
  // A 200x150 BGRx frame: a face chip (HOG box 24 px at (80, 50)) on a flat background; the first
  // photo of dlib's `person`-th john (in name order).
  static cv::Mat frame(int person = 0) {
    std::vector<fs::path> people;
    for (const auto& p : fs::directory_iterator(facesr::test_data::kDlibJohns)) people.push_back(p.path());
    std::sort(people.begin(), people.end());
    std::string path;
    for (const auto& file : fs::directory_iterator(people.at(static_cast<std::size_t>(person))))
      if (path.empty() || file.path().string() < path) path = file.path().string();
    cv::Mat chip = cv::imread(path);
    cv::resize(chip, chip, cv::Size(33, 33), 0, 0, cv::INTER_AREA);
    cv::Mat bgr(150, 200, CV_8UC3, cv::Scalar(90, 110, 130));
    chip.copyTo(bgr(cv::Rect(76, 46, 33, 33)));
    cv::Mat bgrx;
    cv::cvtColor(bgr, bgrx, cv::COLOR_BGR2BGRA);
    return bgrx;
  }

  // The element's output for the same picture twice, the face box given by upstream moved by
  // (dx, dy) on the second frame; returns the second output frame.
  cv::Mat second_output(const std::string& props, int dx, int dy) { return second_output(props, dx, dy, frame(), frame()); }
  cv::Mat second_output(const std::string& props, int dx, int dy, const cv::Mat& first, const cv::Mat& second) {
    GstHarness* h = start("max-face-size=0 model=" + std::string(kShippedModel) + " " + props, "BGRx", 200, 150);
    cv::Mat result;
    for (int i = 0; i < 2; ++i) {
      const cv::Mat& picture = i == 0 ? first : second;
      GstBuffer* in = gst_buffer_new_allocate(nullptr, picture.total() * 4, nullptr);
      gst_buffer_fill(in, 0, picture.data, picture.total() * 4);
      add_faces(in, {{80 + i * dx, 50 + i * dy, 24, 24}});
      GstBuffer* out = gst_harness_push_and_pull(h, in);
      EXPECT_EQ(enhanced_metas(out).size(), 1u);
      result = cv::Mat(150, 200, CV_8UC4);
      gst_buffer_extract(out, 0, result.data, result.total() * 4);
      gst_buffer_unref(out);
    }
    stop();
    return result;
  }

  static constexpr const char* kShippedModel = FACESR_SOURCE_ROOT "/model/weights/facesr-default.safetensors";
};

double face_mad(const cv::Mat& a, const cv::Mat& b) {
  const cv::Rect face(74, 44, 40, 40);
  cv::Mat diff;
  cv::absdiff(a(face), b(face), diff);
  const cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3.0;
}

TEST_F(Temporal, SmoothingFollowsAJitteringBoxWithoutGhosting) {
  if (!fs::exists(kShippedModel)) GTEST_SKIP() << "no shipped model at " << kShippedModel;
  // A still face whose box jumps 2 px right and 1 px down: a 2-crop-pixel shift, 16 result pixels.
  const cv::Mat plain = second_output("temporal-smoothing=0", 2, 1);
  const cv::Mat smoothed = second_output("temporal-smoothing=0.5", 2, 1);
  const cv::Mat still = second_output("temporal-smoothing=0.5", 0, 0);
  const cv::Mat still_plain = second_output("temporal-smoothing=0", 0, 0);
  // Measured 2026-11-30: 1.2 levels with the shift compensated (0.37 once blending was gated by
  // agreement); 4.4 when the previous result was blended where it was (the face doubled).
  const double jitter = face_mad(plain, smoothed);
  std::printf("face region, smoothed vs not after a 2x1 px box jump: %.2f levels (still box: %.2f)\n", jitter,
              face_mad(still, still_plain));
  EXPECT_LT(jitter, 2.5) << "the previous result was blended unaligned: a ghost";
  EXPECT_LT(face_mad(still, still_plain), 1.0) << "a still face and box: smoothing changes nothing";
}

// The previous result is blended only where it agrees with the current one: a face that changes
// (here: another person at the same place) comes through nearly as it is, while noise between two
// frames of the same face is still smoothed.
TEST_F(Temporal, SmoothingKeepsChangeAndSteadiesNoise) {
  if (!fs::exists(kShippedModel)) GTEST_SKIP() << "no shipped model at " << kShippedModel;
  const cv::Mat a = frame(0), b = frame(1);
  const cv::Mat b_alone = second_output("temporal-smoothing=0", 0, 0, b, b);
  const double a_to_b = face_mad(second_output("temporal-smoothing=0", 0, 0, a, a), b_alone);
  const double dragged = face_mad(second_output("temporal-smoothing=0.5", 0, 0, a, b), b_alone);
  std::printf("another face on frame 2: %.2f levels from its own result (the two results differ by %.2f; a "
              "blend of every pixel at 0.5 would be ~%.2f)\n", dragged, a_to_b, a_to_b / 2);
  EXPECT_LT(dragged, 0.25 * a_to_b) << "the previous face was blended into a different one";

  cv::Mat noisy = a.clone(), noise(a.size(), CV_16SC4);
  cv::randn(noise, 0, 6);
  noise.col(0).setTo(0);
  cv::Mat sum;
  cv::add(a, noise, sum, cv::noArray(), CV_16SC4);
  sum.convertTo(noisy, CV_8UC4);
  const cv::Mat clean = second_output("temporal-smoothing=0", 0, 0, a, a);
  const double plain = face_mad(second_output("temporal-smoothing=0", 0, 0, a, noisy), clean);
  const double smoothed = face_mad(second_output("temporal-smoothing=0.5", 0, 0, a, noisy), clean);
  std::printf("noise (sigma 6) on frame 2: result %.2f levels from the noiseless one unsmoothed, %.2f smoothed\n",
              plain, smoothed);
  // Measured 2026-11-30: 4.23 -> 3.70 (the network turns much of the noise into differences beyond
  // the agreement band, which are left alone).
  EXPECT_LT(smoothed, 0.95 * plain) << "smoothing no longer steadies noise";
}

}  // namespace
