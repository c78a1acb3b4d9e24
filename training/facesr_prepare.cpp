// facesr-prepare: face photos -> packed training dataset (training/dataset.h).
//
//   facesr-prepare --out faces.safetensors /path/to/photos more.jpg ...
//
// For each photo (JPEG/PNG/BMP/WebP, folders searched recursively, in sorted order): detect faces
// (dlib HOG with one upsampling step), skip faces narrower than --min-face native pixels (too small
// for an honest 256x256 ground truth), cut each kept face with the shared crop rule
// (facedetect/crop_rule.h), resize to 256x256 (area averaging, or bicubic when enlarging), and
// compute its face mask from dlib's 68 landmarks (convex hull + forehead; --no-landmarks: ellipse).
// Photos are split into train / validation / test by photo (never one photo on two sides), shuffled
// with --seed. Unreadable photos are skipped with a message naming them; the run goes on and the
// summary (printed, and stored in the dataset) counts what was skipped and why.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <set>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "crop_rule.h"
#include "dataset.h"
#include "detector.h"
#include "image_io.h"
#include "landmarks.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::vector<std::string> list_photos(const std::vector<std::string>& inputs) {
  static const std::set<std::string> extensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".JPG", ".JPEG", ".PNG"};
  std::vector<std::string> photos;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      for (const auto& entry : fs::recursive_directory_iterator(input))
        if (entry.is_regular_file() && extensions.count(entry.path().extension().string()))
          photos.push_back(entry.path().string());
    } else {
      photos.push_back(input);  // named explicitly: tried whatever its extension (and reported if unreadable)
    }
  }
  std::sort(photos.begin(), photos.end());
  photos.erase(std::unique(photos.begin(), photos.end()), photos.end());
  return photos;
}

// Photo -> split, by shuffling the photo list with `seed`.
std::map<std::string, facesr::Split> split_photos(const std::vector<std::string>& photos, double val, double test,
                                                  unsigned seed) {
  std::vector<std::string> order = photos;
  std::mt19937 rng(seed);
  std::shuffle(order.begin(), order.end(), rng);
  const auto n = order.size();
  std::size_t n_val = static_cast<std::size_t>(std::lround(val * n)), n_test = static_cast<std::size_t>(std::lround(test * n));
  if (val > 0 && n_val == 0 && n >= 2) n_val = 1;
  if (test > 0 && n_test == 0 && n >= 3) n_test = 1;
  std::map<std::string, facesr::Split> split;
  for (std::size_t i = 0; i < n; ++i)
    split[order[i]] = i < n_val ? facesr::Split::Validation
                                : (i < n_val + n_test ? facesr::Split::Test : facesr::Split::Train);
  return split;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Detect, crop and pack face photos into a facesr training dataset."};
  std::vector<std::string> inputs;
  std::string out;
  int min_face = 128, upsample = 1;
  double val = 0.1, test = 0.0;
  unsigned seed = 1;
  bool no_landmarks = false;
  facesr::CropRule crop;
  app.add_option("inputs", inputs, "photos and folders of photos")->required();
  app.add_option("--out", out, "dataset file to write (.safetensors)")->required();
  app.add_option("--min-face", min_face, "skip faces narrower than this, in native pixels (honest 256x256 ground truth)")
      ->check(CLI::Range(16, 4096));
  app.add_option("--val", val, "fraction of photos for validation")->check(CLI::Range(0.0, 0.9));
  app.add_option("--test", test, "fraction of photos for test")->check(CLI::Range(0.0, 0.9));
  app.add_option("--seed", seed, "seed of the train/validation/test split");
  app.add_option("--upsample", upsample, "HOG detector: image doublings before detection (0-2)")->check(CLI::Range(0, 2));
  app.add_flag("--no-landmarks", no_landmarks, "ellipse masks instead of 68-landmark hulls");
  app.add_option("--crop-side-scale", crop.side_scale, "crop rule: crop side / face box side")->check(CLI::Range(1.0, 4.0));
  app.add_option("--crop-center-dy", crop.center_dy, "crop rule: centre shift down, in face heights")->check(CLI::Range(-1.0, 1.0));
  CLI11_PARSE(app, argc, argv);
  if (val + test >= 1.0) {
    std::fprintf(stderr, "facesr-prepare: --val + --test must leave photos for training\n");
    return 2;
  }

  const auto photos = list_photos(inputs);
  if (photos.empty()) {
    std::fprintf(stderr, "facesr-prepare: no photos found in the inputs (JPEG, PNG, BMP, WebP)\n");
    return 2;
  }
  const auto split = split_photos(photos, val, test, seed);

  facesr::DetectorOptions detect_options;
  detect_options.upsample = upsample;
  detect_options.min_face_size = 16;  // find everything; size is judged below so the summary can count it
  std::unique_ptr<facesr::Detector> detector;
  std::unique_ptr<facesr::LandmarkPredictor> landmarks;
  try {
    detector = facesr::Detector::create(detect_options);
    if (!no_landmarks) landmarks = facesr::LandmarkPredictor::open();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: %s\n", e.what());
    return 2;
  }

  std::vector<uint8_t> images, masks;
  std::vector<facesr::FaceRecord> faces;
  json skipped_photos = json::array();
  int found = 0, too_small = 0, photos_read = 0;
  std::map<std::string, int> per_split;
  for (std::size_t p = 0; p < photos.size(); ++p) {
    const auto& path = photos[p];
    cv::Mat bgr;
    try {
      bgr = facesr::read_image_bgr(path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "facesr-prepare: skipped %s\n", e.what());
      skipped_photos.push_back({{"file", path}, {"reason", e.what()}});
      continue;
    }
    ++photos_read;
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    const facesr::ImageRef ref{rgb.data, rgb.cols, rgb.rows, rgb.step, facesr::PixelFormat::RGB8};
    for (const auto& detection : detector->detect(ref)) {
      ++found;
      if (std::max(detection.box.width, detection.box.height) < min_face) {
        ++too_small;
        continue;
      }
      const auto region = facesr::crop_region_for_face(detection.box, crop);
      const cv::Mat face = facesr::extract_crop(rgb, region, facesr::kDatasetSide);
      cv::Mat mask;
      facesr::FaceRecord record;
      if (landmarks) {
        mask = facesr::face_mask_from_landmarks(landmarks->predict(ref, detection.box), region, facesr::kDatasetSide);
        record.mask_kind = "landmarks";
      } else {
        mask = facesr::face_mask_ellipse(detection.box, region, facesr::kDatasetSide);
      }
      images.insert(images.end(), face.data, face.data + face.total() * 3);
      masks.insert(masks.end(), mask.data, mask.data + mask.total());
      record.source = path;
      record.box[0] = detection.box.x, record.box[1] = detection.box.y;
      record.box[2] = detection.box.width, record.box[3] = detection.box.height;
      record.split = split.at(path);
      ++per_split[facesr::to_string(record.split)];
      faces.push_back(record);
    }
    if (isatty(STDERR_FILENO))
      std::fprintf(stderr, "\rfacesr-prepare: %zu/%zu photos, %zu faces kept", p + 1, photos.size(), faces.size());
  }
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");

  const json summary = {{"photos", photos.size()},
                        {"photos_read", photos_read},
                        {"photos_skipped", skipped_photos},
                        {"faces_found", found},
                        {"faces_too_small", too_small},
                        {"faces_kept", faces.size()},
                        {"min_face_px", min_face},
                        {"per_split", per_split},
                        {"split_seed", seed},
                        {"detector", "dlib HOG, upsample " + std::to_string(upsample)},
                        {"masks", no_landmarks ? "ellipse" : "dlib 68 landmarks, convex hull + forehead"}};
  std::printf("%s\n", summary.dump(2).c_str());
  if (faces.empty()) {
    std::fprintf(stderr, "facesr-prepare: no face of at least %d px found; nothing written (lower --min-face?)\n", min_face);
    return 1;
  }
  try {
    facesr::write_dataset(out, images, masks, faces, crop, summary.dump());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "facesr-prepare: wrote %zu faces to %s (faces narrower than %d px skipped: %d; unreadable photos: %zu)\n",
               faces.size(), out.c_str(), min_face, too_small, skipped_photos.size());
  return 0;
}
