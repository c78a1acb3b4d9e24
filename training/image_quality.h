// Measures of a face image that need OpenCV's contrib `quality` module and dlib, kept out of the
// LibTorch side (facesr-eval --realism): BRISQUE naturalness and the 68-landmark distance between a
// result and its ground truth. Built where facedetect/ is (OpenCV + dlib); elsewhere image_quality_
// unavailable.cpp stands in and open() says what the build lacks.
//
//   BRISQUE (Mittal, Moorthy, Bovik, "No-Reference Image Quality Assessment in the Spatial Domain",
//   IEEE TIP 2012) as cv::quality::QualityBRISQUE computes it with the LIVE model and range files of
//   Debian's opencv-data (/usr/share/opencv4/quality/): a no-reference score, lower = more natural
//   (about 0-100 on photographs; blur and noise raise it).
//
//   Landmark distance: dlib's 68-point shape predictor (libdlib-data) run on the result and on the
//   ground truth with the same face box; the mean of the 68 point distances divided by the ground
//   truth's outer-eye-corner distance (points 36 and 45): the normalized mean error of face-alignment
//   papers. 0 = the same face geometry; 0.05 is a few pixels at 256x256.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace facesr {

// Packed 8-bit RGB rows (width * 3 bytes each).
struct Rgb8Image {
  int width = 0, height = 0;
  std::vector<uint8_t> pixels;
};

struct ImageBox {
  double x = 0, y = 0, width = 0, height = 0;  // pixels of the image
};

constexpr const char* kBrisqueModelDir = "/usr/share/opencv4/quality";  // Debian's opencv-data

class ImageQuality {
 public:
  // Loads BRISQUE's brisque_model_live.yml / brisque_range_live.yml from `brisque_dir` and the 68-point
  // shape predictor (empty: /usr/share/dlib/shape_predictor_68_face_landmarks.dat). Throws
  // std::runtime_error naming the missing file and the Debian package that has it, or what the build
  // lacks.
  static std::unique_ptr<ImageQuality> open(const std::string& brisque_dir = kBrisqueModelDir,
                                            const std::string& landmark_model = "");
  ~ImageQuality();

  // BRISQUE score of one image (lower = more natural). Throws std::invalid_argument on an empty image.
  double brisque(const Rgb8Image& image) const;

  // Normalized landmark distance of `result` from `truth` (same size), both with the face in `box`.
  double landmark_distance(const Rgb8Image& result, const Rgb8Image& truth, const ImageBox& box) const;

 private:
  ImageQuality();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace facesr
