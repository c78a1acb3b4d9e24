// facesr-eval --realism's image measures (training/image_quality.h) on dlib's example photos with their
// annotated face boxes: BRISQUE scores a sharp photo as more natural than its blurred or noisy copy,
// and the landmark distance is 0 for the same face and grows with a shift of the face.
#include <gtest/gtest.h>

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dlib_faces.h"
#include "image_quality.h"

namespace {

facesr::Rgb8Image from_mat(const cv::Mat& bgr) {
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  facesr::Rgb8Image out;
  out.width = rgb.cols;
  out.height = rgb.rows;
  out.pixels.assign(rgb.data, rgb.data + rgb.total() * 3);
  return out;
}

std::vector<facesr::test_data::AnnotatedImage> annotated() {
  return facesr::test_data::read_dlib_xml(facesr::test_data::kDlibFaces + "/training.xml");
}

}  // namespace

TEST(ImageQuality, BrisqueScoresASharpPhotoMoreNaturalThanItsBlurredOrNoisyCopy) {
  const auto quality = facesr::ImageQuality::open();
  const auto images = annotated();
  ASSERT_GE(images.size(), 3u) << "dlib's example faces (libdlib19.1)";
  int checked = 0;
  for (const auto& image : images) {
    const cv::Mat photo = cv::imread(image.path);
    ASSERT_FALSE(photo.empty()) << image.path;
    cv::Mat blurred, noisy = photo.clone();
    cv::GaussianBlur(photo, blurred, {0, 0}, 3.0);
    cv::Mat noise(photo.size(), CV_16SC3);
    cv::randn(noise, 0, 25);
    photo.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(noisy, CV_8UC3);
    const double sharp = quality->brisque(from_mat(photo)), soft = quality->brisque(from_mat(blurred)),
                 grainy = quality->brisque(from_mat(noisy));
    std::printf("%s: BRISQUE sharp %.1f, blurred %.1f, noisy %.1f\n", image.path.c_str(), sharp, soft, grainy);
    EXPECT_LT(sharp, soft) << image.path;
    EXPECT_LT(sharp, grainy) << image.path;
    if (++checked == 3) break;
  }
  EXPECT_THROW(quality->brisque(facesr::Rgb8Image{}), std::invalid_argument);
}

TEST(ImageQuality, LandmarkDistanceIsZeroForTheSameFaceAndGrowsWithAShift) {
  const auto quality = facesr::ImageQuality::open();
  const auto images = annotated();
  ASSERT_FALSE(images.empty());
  const auto& image = images.front();
  ASSERT_FALSE(image.faces.empty());
  const cv::Mat photo = cv::imread(image.path);
  const auto& f = image.faces.front();
  const facesr::ImageBox box{f.x, f.y, f.width, f.height};
  const auto truth = from_mat(photo);
  EXPECT_DOUBLE_EQ(quality->landmark_distance(truth, truth, box), 0.0);
  auto shifted = [&](double dx) {
    cv::Mat out;
    cv::warpAffine(photo, out, cv::Mat_<double>({2, 3}, {1, 0, dx, 0, 1, 0}), photo.size(), cv::INTER_LINEAR,
                   cv::BORDER_REPLICATE);
    return quality->landmark_distance(from_mat(out), truth, box);
  };
  const double small = shifted(0.05 * f.width), large = shifted(0.15 * f.width);
  std::printf("landmark distance: shifted by 5 %% of the box %.4f, by 15 %% %.4f\n", small, large);
  EXPECT_GT(small, 0.01);
  EXPECT_GT(large, small);
  facesr::Rgb8Image other = truth;
  other.width /= 2;
  EXPECT_THROW(quality->landmark_distance(other, truth, box), std::invalid_argument);
}

TEST(ImageQuality, MissingModelFilesNameThePackage) {
  try {
    facesr::ImageQuality::open("/nonexistent/quality");
    FAIL() << "opened without BRISQUE's files";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("opencv-data"), std::string::npos) << e.what();
  }
}
