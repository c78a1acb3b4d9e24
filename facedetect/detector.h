// Face detection on frames and photos. An abstract Detector made by one factory, implementation
// hidden per backend (OpenCV's FaceDetectorYN is the model):
//
//   facesr::DetectorOptions options;                   // HOG, faces >= 20 px
//   options.backend = facesr::DetectorBackend::Cascade;  // Haar: finds 16-24 px faces
//   auto detector = facesr::Detector::create(options);   // throws std::invalid_argument / runtime_error
//   std::vector<facesr::Detection> faces = detector->detect({data, width, height, stride, facesr::PixelFormat::RGB8});
//
// Backends:
//   Hog      dlib's frontal HOG detector. Finds faces from about 55 px wide; each `upsample` step doubles
//            the image first (like dlib's pyramid_up), halving the smallest face (about 28 px at 1) for
//            about 4x the time. score = SVM margin (0 = dlib's default threshold).
//   Cascade  an OpenCV Haar or LBP cascade (package opencv-data). Finds faces from about 16-24 px.
//            score = number of merged neighbouring hits (3 = OpenCV's default minNeighbors).
//   BlazeFace MediaPipe's BlazeFace CNN (ONNX, OpenCV DNN; scripts/fetch-detector-models.sh fetches it)
//            on 128x128 tiles of the frame and of a pyramid of halved frames (detector_blazeface.cpp).
//            Finds faces from min_face_size (12 px and up: the frame is enlarged so that a face of
//            min_face_size is 16 px for the network). score = probability (0.5 = MediaPipe's threshold).
//   External boxes supplied by the caller through supply() (the element feeds upstream
//            GstVideoRegionOfInterestMeta through it); detect() applies the same filters to them.
//
// Input: a view of packed 8-bit pixels with a row stride (gray, RGB, BGR, RGBx, BGRx), never copied
// just to be detected: it is converted to gray once (directly into the downscaled size when
// `detection_scale` < 1), and a region of interest is a view. Output: boxes in the input's pixel
// coordinates, sorted by score (highest first), at most max_faces of them, each within
// [min_face_size, max_face_size] wide.
//
// Threading: one Detector per thread; detect() is not reentrant.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detection.h"

namespace facesr {

enum class PixelFormat { Gray8, RGB8, BGR8, RGBX8, BGRX8 };

struct ImageRef {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  std::size_t stride = 0;  // bytes between rows
  PixelFormat format = PixelFormat::RGB8;
};

enum class DetectorBackend { Hog, Cascade, BlazeFace, External };

// The cascades Debian's opencv-data installs; Cascade uses kDefaultCascade unless told otherwise.
extern const char* const kDefaultCascade;     // Haar frontalface_alt2
extern const char* const kLbpCascade;         // LBP frontalface_improved

// The BlazeFace ONNX file BlazeFace uses unless told otherwise: $FACESR_BLAZEFACE_MODEL when set, else
// the first that exists of <build>/../out/models (where scripts/fetch-detector-models.sh puts it in a
// source checkout) and <prefix>/share/facesr (installed); else the installed path.
std::string default_blazeface_model();

struct DetectorOptions {
  DetectorBackend backend = DetectorBackend::Hog;
  int upsample = 0;                // Hog: doublings of the image before detection, 0..3
  std::string cascade_path = kDefaultCascade;  // Cascade: a Haar or LBP cascade XML
  std::string model_path;          // BlazeFace: the ONNX file; empty = default_blazeface_model()
  int min_face_size = 20;          // frame pixels; smaller faces are not reported
  int max_face_size = 0;           // frame pixels; 0 = no limit
  int max_faces = 0;               // 0 = no limit; else the highest-scoring ones
  double score_threshold = 0.0;    // Hog: SVM margin; Cascade: minimum neighbours (values < 1 mean 3);
                                   // BlazeFace: probability in [0, 1) (values <= 0 mean 0.65)
  double detection_scale = 1.0;    // (0, 1]: detect on the frame scaled by this, map boxes back
  double cascade_scale_step = 1.1;  // Cascade: pyramid step between window sizes, > 1 (larger: faster, coarser)
  bool equalize_histogram = true;   // Cascade: equalize the gray image first (helps dark footage; costs time)
  // BlazeFace: a tile that looks as it did at the previous detect() (same frame size) keeps the faces
  // found there then instead of running the network again (video from a still camera).
  bool reuse_still_regions = true;
  // BlazeFace: the size, in pixels of the network's 128x128 tile, that a face of min_face_size is
  // enlarged (or shrunk) to; 0 = the default (detector_blazeface.cpp). Larger finds more of the real
  // faces near min_face_size, at about the square of the ratio in time; 0 or 12..48.
  int blazeface_face_px = 0;
  // Region of interest in frame pixels; width or height 0 = whole frame.
  int roi_x = 0, roi_y = 0, roi_width = 0, roi_height = 0;
};

// Largest image, after detection_scale and upsampling, that detect() accepts (4096 x 4096).
constexpr double kMaxDetectionPixels = 4096.0 * 4096.0;

class Detector {
 public:
  // Throws std::invalid_argument for bad options and std::runtime_error when a model file (cascade)
  // cannot be loaded, each with a message that says what to change.
  static std::unique_ptr<Detector> create(const DetectorOptions& options);
  virtual ~Detector() = default;

  // Throws std::invalid_argument for an unusable image (null, empty, short stride, too large).
  virtual std::vector<Detection> detect(const ImageRef& image) = 0;

  // External backend: the boxes the next detect() call returns (after filtering). Other backends
  // throw std::logic_error.
  virtual void supply(std::vector<Detection> boxes);

  const DetectorOptions& options() const { return options_; }

 protected:
  explicit Detector(const DetectorOptions& options) : options_(options) {}
  DetectorOptions options_;
};

std::string to_string(DetectorBackend backend);
DetectorBackend detector_backend_from_string(const std::string& name);  // hog | cascade | blazeface | external

}  // namespace facesr
