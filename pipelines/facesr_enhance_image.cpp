// facesr-enhance-image: enhance the faces of a still image with the facesr engine and write a
// comparison sheet, one row per face: input crop (32x32 shown 8x, nearest) | bicubic 8x | facesr.
//
//   facesr-enhance-image --model M.safetensors --box 274,181,52,53 --box 55,156,44,44 photo.jpg sheet.png
//
// Faces are given as boxes (x,y,width,height in image pixels); each is framed by the model's crop
// rule (facedetect/crop_rule.h) exactly as the element and the training tools frame faces.
#include <cstdio>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "crop_rule.h"
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

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Enhance the faces of a still image with facesr and write a comparison sheet "
               "(input | bicubic | facesr per face)."};
  std::string model_path, image_path, output_path, device = "auto";
  std::vector<std::string> box_texts;
  int threads = 0;
  app.add_option("--model", model_path, "facesr weights file (.safetensors)")->required()->check(CLI::ExistingFile);
  app.add_option("--box", box_texts, "a face box x,y,width,height in image pixels (repeat for more faces)")->required();
  app.add_option("--device", device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("image", image_path, "input image (JPEG, PNG, ...)")->required()->check(CLI::ExistingFile);
  app.add_option("output", output_path, "comparison sheet to write (.png)")->required();
  CLI11_PARSE(app, argc, argv);

  try {
    std::vector<facesr::FaceBox> boxes;
    for (const auto& text : box_texts) boxes.push_back(parse_box(text));
    const cv::Mat image = cv::imread(image_path, cv::IMREAD_COLOR);
    if (image.empty()) {
      std::fprintf(stderr, "facesr-enhance-image: %s: not a readable image (corrupt, or a format OpenCV cannot decode)\n",
                   image_path.c_str());
      return 1;
    }
    cv::Mat rgb;
    cv::cvtColor(image, rgb, cv::COLOR_BGR2RGB);

    facesr::EngineOptions options;
    options.device = facesr::device_from_string(device);
    options.threads = threads;
    auto engine = facesr::Engine::open(model_path, options);
    std::fprintf(stderr, "facesr-enhance-image: model %s on %s\n", model_path.c_str(),
                 engine->device_description().c_str());

    const int n = static_cast<int>(boxes.size());
    std::vector<cv::Mat> crops, results;
    std::vector<facesr::ImageView> in;
    std::vector<facesr::MutableImageView> out;
    for (const auto& box : boxes) {
      const auto region = facesr::crop_region_for_face(box, engine->metadata().crop_rule);
      crops.push_back(facesr::extract_crop(rgb, region, facesr::kCropSize));
      results.emplace_back(facesr::kResultSize, facesr::kResultSize, CV_8UC3);
    }
    for (int i = 0; i < n; ++i) {
      in.push_back({crops[i].data, crops[i].cols, crops[i].rows, crops[i].step});
      out.push_back({results[i].data, results[i].cols, results[i].rows, results[i].step});
    }
    engine->enhance(in.data(), out.data(), in.size());

    const int s = facesr::kResultSize;
    cv::Mat sheet(n * s, 3 * s, CV_8UC3);
    for (int i = 0; i < n; ++i) {
      cv::resize(crops[i], sheet(cv::Rect(0, i * s, s, s)), cv::Size(s, s), 0, 0, cv::INTER_NEAREST);
      cv::resize(crops[i], sheet(cv::Rect(s, i * s, s, s)), cv::Size(s, s), 0, 0, cv::INTER_CUBIC);
      results[i].copyTo(sheet(cv::Rect(2 * s, i * s, s, s)));
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
