// facesr-detect: find faces in photos; JSON out, annotated PNGs on request.
//
//   facesr-detect --backend hog --upsample 1 --landmarks photo1.jpg photo2.png > faces.json
//   facesr-detect --backend cascade --min-size 16 --annotate out/ *.jpg
//   facesr-detect --backend blazeface --min-size 12 frame.png       # small faces (scripts/fetch-detector-models.sh)
//
// Output: a JSON array, one object per input: {"file", "width", "height", "faces": [{"x", "y",
// "width", "height", "score", "landmarks": [[x, y] x 68] (with --landmarks)}]}, or {"file", "error"}
// for a file that could not be read (the others are still processed; the exit status is then 1).
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "detector.h"
#include "image_io.h"
#include "landmarks.h"

int main(int argc, char** argv) {
  CLI::App app{"Find faces in photos (facesr's detectors); prints JSON."};
  std::vector<std::string> images;
  std::string backend = "hog", cascade, annotate_dir, landmark_model;
  facesr::DetectorOptions options;
  bool landmarks = false;
  app.add_option("images", images, "photos to search (JPEG, PNG, ...)")->required();
  app.add_option("--backend", backend, "hog (dlib HOG, faces >= ~55 px, ~28 px with --upsample 1) | "
                                       "cascade (OpenCV Haar/LBP, faces >= ~20 px) | blazeface (CNN, faces >= --min-size, 12 px and up)")
      ->check(CLI::IsMember({"hog", "cascade", "blazeface"}));
  app.add_option("--upsample", options.upsample, "hog: double the image this many times first (0-3)")
      ->check(CLI::Range(0, 3));
  app.add_option("--cascade", cascade, "cascade: Haar/LBP XML (default: opencv-data's frontalface_alt2)");
  app.add_option("--model", options.model_path, "blazeface: the ONNX file (default: " + facesr::default_blazeface_model() + ")");
  app.add_option("--min-size", options.min_face_size, "smallest face to report, pixels")->check(CLI::NonNegativeNumber);
  app.add_option("--max-size", options.max_face_size, "largest face to report, pixels (0 = no limit)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--max-faces", options.max_faces, "report at most this many faces per image (0 = all)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--scale", options.detection_scale, "detect on the image scaled by this factor, (0, 1]")
      ->check(CLI::Range(0.01, 1.0));
  app.add_option("--threshold", options.score_threshold, "hog: SVM margin (0 = dlib default); cascade: min neighbours; blazeface: probability (0 = 0.65)");
  app.add_flag("--landmarks", landmarks, "also give dlib's 68 landmarks per face");
  app.add_option("--landmark-model", landmark_model, "dlib 68-point shape predictor (default: libdlib-data's)");
  app.add_option("--annotate", annotate_dir, "write <dir>/<name>.png with boxes (and landmarks) drawn");
  CLI11_PARSE(app, argc, argv);

  std::unique_ptr<facesr::Detector> detector;
  std::unique_ptr<facesr::LandmarkPredictor> predictor;
  try {
    options.backend = facesr::detector_backend_from_string(backend);
    if (!cascade.empty()) options.cascade_path = cascade;
    options.reuse_still_regions = false;  // independent photos: none keeps another's faces
    detector = facesr::Detector::create(options);
    if (landmarks) predictor = facesr::LandmarkPredictor::open(landmark_model.empty() ? facesr::kDefaultLandmarkModel : landmark_model);
    if (!annotate_dir.empty()) std::filesystem::create_directories(annotate_dir);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-detect: %s\n", e.what());
    return 2;
  }

  int status = 0;
  nlohmann::json out = nlohmann::json::array();
  for (const auto& path : images) {
    nlohmann::json entry = {{"file", path}};
    try {
      cv::Mat image = facesr::read_image_bgr(path);
      const facesr::ImageRef ref{image.data, image.cols, image.rows, image.step, facesr::PixelFormat::BGR8};
      entry["width"] = image.cols;
      entry["height"] = image.rows;
      entry["faces"] = nlohmann::json::array();
      for (const auto& face : detector->detect(ref)) {
        nlohmann::json f = {{"x", face.box.x}, {"y", face.box.y}, {"width", face.box.width},
                            {"height", face.box.height}, {"score", face.score}};
        const cv::Rect rect(cvRound(face.box.x), cvRound(face.box.y), cvRound(face.box.width), cvRound(face.box.height));
        if (!annotate_dir.empty()) cv::rectangle(image, rect, cv::Scalar(0, 255, 0), 2);
        if (predictor) {
          f["landmarks"] = nlohmann::json::array();
          for (const auto& p : predictor->predict(ref, face.box)) {
            f["landmarks"].push_back({p.x, p.y});
            if (!annotate_dir.empty()) cv::circle(image, p, 1, cv::Scalar(0, 0, 255), cv::FILLED);
          }
        }
        entry["faces"].push_back(f);
      }
      if (!annotate_dir.empty()) {
        const auto target = std::filesystem::path(annotate_dir) / (std::filesystem::path(path).stem().string() + ".png");
        if (!cv::imwrite(target.string(), image)) throw std::runtime_error("cannot write " + target.string());
      }
    } catch (const std::exception& e) {
      std::fprintf(stderr, "facesr-detect: %s\n", e.what());
      entry = {{"file", path}, {"error", e.what()}};
      status = 1;
    }
    out.push_back(entry);
  }
  std::cout << out.dump(2) << "\n";
  return status;
}
