// facesr-enhance-image: enhance the faces of still images with the facesr engine and write a
// comparison sheet, one row per face: input crop (the model's input size, shown at 256, nearest) | bicubic | facesr.
//
//   facesr-enhance-image --model M.safetensors --box 274,181,52,53 --box 55,156,44,44 photo.jpg sheet.png
//   facesr-enhance-image --model M.safetensors --detect haar --min-face 20 frame1.png frame2.png sheet.png
//
// Faces are given as boxes (x,y,width,height in image pixels; one image only), or found with
// facesr's detector (--detect blazeface|haar|hog, as the element's `detector` property; any number of images).
// Each is framed by the model's crop rule (facedetect/crop_rule.h) exactly as the element and the
// training tools frame faces. The sheet has a header naming the columns; each row names its image
// and the face's width.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "crop_rule.h"
#include "face_finder.h"
#include "detector.h"
#include "engine.h"

namespace {

facesr::FaceBox parse_box(const std::string& text) {
  facesr::FaceBox box;
  char extra = 0;
  if (std::sscanf(text.c_str(), "%lf,%lf,%lf,%lf%c", &box.x, &box.y, &box.width, &box.height, &extra) != 4 ||
      box.width <= 0 || box.height <= 0)
    throw CLI::ValidationError("--box", "'" + text + "' is not x,y,width,height with positive width and height");
  return box;
}

struct Face {
  std::size_t image = 0;  // index into the images
  facesr::FaceBox box;
};

// The faces of each image as the element's detector finds them, left to right within an image.
std::vector<Face> detect_faces(const std::vector<cv::Mat>& images, const std::string& backend, int min_face,
                               int max_face) {
  // The detector exactly as the element sets it up (facedetect/face_finder.h).
  facesr::FinderSettings settings;
  settings.min_face_size = min_face;
  const facesr::FaceSource source = backend == "hog"         ? facesr::FaceSource::Hog
                                    : backend == "blazeface" ? facesr::FaceSource::BlazeFace
                                                             : facesr::FaceSource::Haar;
  facesr::DetectorOptions options = facesr::detector_options(source, settings);
  options.max_face_size = max_face;
  auto detector = facesr::Detector::create(options);
  std::vector<Face> faces;
  for (std::size_t i = 0; i < images.size(); ++i) {
    const cv::Mat& m = images[i];
    auto found = detector->detect({m.data, m.cols, m.rows, m.step, facesr::PixelFormat::BGR8});
    std::sort(found.begin(), found.end(), [](const auto& a, const auto& b) { return a.box.x < b.box.x; });
    for (const auto& d : found) faces.push_back({i, d.box});
  }
  return faces;
}

void put_label(cv::Mat& image, const std::string& text, cv::Point origin, double size) {
  cv::putText(image, text, origin, cv::FONT_HERSHEY_SIMPLEX, size, cv::Scalar(0, 0, 0), 3, cv::LINE_AA);
  cv::putText(image, text, origin, cv::FONT_HERSHEY_SIMPLEX, size, cv::Scalar(255, 255, 255), 1, cv::LINE_AA);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Enhance the faces of still images with facesr and write a comparison sheet "
               "(input | bicubic | facesr per face)."};
  std::string model_path, device = "auto", detect;
  std::vector<std::string> box_texts, files;
  int threads = 0, min_face = 20, max_face = 0, max_faces = 0;
  bool companions = true;
  app.add_option("--model", model_path,
                 "facesr weights file (.safetensors); with the companions its metadata names (the default's 4x "
                 "and 2x models), each face goes to the model with the smallest input that holds it, as in the element")
      ->required()->check(CLI::ExistingFile);
  app.add_flag("--companions,!--no-companions", companions,
               "also load the companion models the weights file names (default); --no-companions: that file alone");
  auto* box_option = app.add_option("--box", box_texts,
                                    "a face box x,y,width,height in image pixels (repeat for more faces; one image only)")
                         ->allow_extra_args(false);  // one box per --box: the images follow
  auto* detect_option = app.add_option("--detect", detect, "find the faces instead: blazeface (CNN, faces from 12 "
                                       "px; the element's default when its model is there), haar (OpenCV cascade) or hog (dlib)")
                            ->check(CLI::IsMember({"blazeface", "haar", "hog"}));
  box_option->excludes(detect_option);
  app.add_option("--min-face", min_face, "--detect: smallest face width, pixels (default 20)")->check(CLI::Range(8, 4096));
  app.add_option("--max-face", max_face, "--detect: largest face width, pixels (0 = no limit)")->check(CLI::NonNegativeNumber);
  app.add_option("--max-faces", max_faces, "at most this many rows, the first found (0 = all)")->check(CLI::NonNegativeNumber);
  app.add_option("--device", device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("files", files, "input image(s) (JPEG, PNG, ...) followed by the comparison sheet to write (.png)")
      ->required()->expected(2, -1);
  CLI11_PARSE(app, argc, argv);
  const std::string output_path = files.back();
  files.pop_back();
  if (box_texts.empty() == detect.empty()) {
    std::fprintf(stderr, "facesr-enhance-image: give the faces with --box, or --detect blazeface|haar|hog to find them\n");
    return 2;
  }
  if (!box_texts.empty() && files.size() != 1) {
    std::fprintf(stderr, "facesr-enhance-image: --box takes one input image (%zu given); use --detect for several\n",
                 files.size());
    return 2;
  }

  try {
    std::vector<cv::Mat> images, rgb_images;
    for (const auto& path : files) {
      try {
        images.push_back(cv::imread(path, cv::IMREAD_COLOR));
      } catch (const cv::Exception& e) {
        // OpenCV refuses images over CV_IO_MAX_IMAGE_PIXELS (2^30 by default) with an assertion text
        // that names neither the file nor the limit.
        std::fprintf(stderr, "facesr-enhance-image: %s: cannot decode: its header claims an image OpenCV will not "
                     "read (larger than OpenCV's limit of 2^30 pixels, set by the environment variable "
                     "OPENCV_IO_MAX_IMAGE_PIXELS, or a corrupt header): %s\n", path.c_str(), e.err.c_str());
        return 1;
      }
      if (images.back().empty()) {
        std::fprintf(stderr, "facesr-enhance-image: %s: not a readable image (missing, corrupt, or a format "
                     "OpenCV cannot decode)\n", path.c_str());
        return 1;
      }
      rgb_images.emplace_back();
      cv::cvtColor(images.back(), rgb_images.back(), cv::COLOR_BGR2RGB);
    }
    std::vector<Face> faces;
    for (const auto& text : box_texts) faces.push_back({0, parse_box(text)});
    if (!detect.empty()) faces = detect_faces(images, detect, min_face, max_face);
    if (max_faces > 0 && faces.size() > static_cast<std::size_t>(max_faces)) faces.resize(max_faces);
    if (faces.empty()) {
      std::fprintf(stderr, "facesr-enhance-image: no face found (--detect %s, faces %d px and wider)\n",
                   detect.c_str(), min_face);
      return 1;
    }

    facesr::EngineOptions options;
    options.device = facesr::device_from_string(device);
    options.threads = threads;
    // The model and its companions, smallest input first (the element's choice per face).
    std::vector<std::unique_ptr<facesr::Engine>> engines;
    engines.push_back(facesr::Engine::open(model_path, options));
    if (companions)
      for (const auto& path : facesr::companion_paths(model_path, engines.front()->metadata())) {
        if (!std::filesystem::is_regular_file(path)) {
          std::fprintf(stderr, "facesr-enhance-image: warning: companion %s is missing; its faces go to the other "
                       "models\n", path.c_str());
          continue;
        }
        engines.push_back(facesr::Engine::open(path, options));
      }
    std::sort(engines.begin(), engines.end(), [](const auto& a, const auto& b) { return a->input_size() < b->input_size(); });
    std::fprintf(stderr, "facesr-enhance-image: model %s (%zu scale(s)) on %s\n", model_path.c_str(), engines.size(),
                 engines.front()->device_description().c_str());

    const int n = static_cast<int>(faces.size());
    std::vector<cv::Mat> crops, results;
    std::vector<std::size_t> model_of;
    // Each model's rule for the boxes' source, as the element picks it ("haar" and "hog" may have
    // their own; given boxes take the rule itself).
    std::vector<int> sides;
    std::vector<facesr::CropRule> rules;
    for (const auto& engine : engines) {
      sides.push_back(engine->input_size());
      rules.push_back(facesr::crop_rule_for(engine->metadata(), detect.empty() ? "upstream" : detect));
    }
    for (const auto& face : faces) {
      model_of.push_back(facesr::model_for_face(face.box, sides, rules));
      const auto region = facesr::crop_region_for_face(face.box, rules[model_of.back()]);
      crops.push_back(facesr::extract_crop(rgb_images[face.image], region, sides[model_of.back()]));
      results.emplace_back(facesr::kResultSize, facesr::kResultSize, CV_8UC3);
    }
    for (std::size_t k = 0; k < engines.size(); ++k) {
      std::vector<facesr::ImageView> in;
      std::vector<facesr::MutableImageView> out;
      for (int i = 0; i < n; ++i)
        if (model_of[i] == k) {
          in.push_back({crops[i].data, crops[i].cols, crops[i].rows, crops[i].step});
          out.push_back({results[i].data, results[i].cols, results[i].rows, results[i].step});
        }
      if (!in.empty()) engines[k]->enhance(in.data(), out.data(), in.size());
    }

    const int s = facesr::kResultSize, header = 28;
    cv::Mat sheet(header + n * s, 3 * s, CV_8UC3, cv::Scalar(40, 40, 40));
    const std::string titles[] = {"input crop (nearest)", "bicubic", "facesr"};
    for (int c = 0; c < 3; ++c) put_label(sheet, titles[c], {c * s + 8, 19}, 0.55);
    for (int i = 0; i < n; ++i) {
      const int y = header + i * s;
      cv::resize(crops[i], sheet(cv::Rect(0, y, s, s)), cv::Size(s, s), 0, 0, cv::INTER_NEAREST);
      cv::resize(crops[i], sheet(cv::Rect(s, y, s, s)), cv::Size(s, s), 0, 0, cv::INTER_CUBIC);
      results[i].copyTo(sheet(cv::Rect(2 * s, y, s, s)));
      char label[160];
      const facesr::Engine& engine = *engines[model_of[i]];
      std::snprintf(label, sizeof label, "%s: face %.0f px, %dx%d in, %dx",
                    std::filesystem::path(files[faces[i].image]).filename().c_str(), faces[i].box.width,
                    engine.input_size(), engine.input_size(), engine.scale());
      put_label(sheet, label, {6, y + s - 8}, 0.45);
    }
    cv::cvtColor(sheet, sheet, cv::COLOR_RGB2BGR);
    if (!cv::imwrite(output_path, sheet)) {
      std::fprintf(stderr, "facesr-enhance-image: cannot write %s (does its folder exist? is the extension an image format?)\n",
                   output_path.c_str());
      return 1;
    }
    std::printf("%s: %d face(s): input | bicubic | facesr\n", output_path.c_str(), n);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-enhance-image: %s\n", e.what());
    return 1;
  }
  return 0;
}
