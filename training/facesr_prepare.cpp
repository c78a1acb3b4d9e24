// facesr-prepare: face photos -> packed training dataset (training/dataset.h).
//
//   facesr-prepare --out faces.safetensors /path/to/photos more.jpg ...
//   facesr-prepare --out celeba.safetensors --celeba-hq CelebAMask-HQ --identities identity_CelebA.txt
//                  --val 0.04 --test 0.04                                      # (one command line)
//
// Photos (JPEG/PNG/BMP/WebP, folders searched recursively, in sorted order): detect faces (dlib HOG
// with one upsampling step), skip faces narrower than --min-face native pixels (too small for an
// honest 256x256 ground truth), cut each kept face with the shared crop rule
// (facedetect/crop_rule.h), resize to 256x256 (area averaging, or bicubic when enlarging), and
// compute its face mask from dlib's 68 landmarks (convex hull + forehead; --no-landmarks: ellipse).
// Photos are split into train / validation / test by photo (never one photo on two sides), shuffled
// with --seed.
//
// --celeba-hq DIR reads CelebAMask-HQ's layout instead (training/celeba_hq.h): one aligned face per
// image N.jpg. The face is found with HOG on the image shrunk to at most 512 px (CelebA-HQ faces are
// hundreds of pixels wide; --upsample defaults to 0 here) and the largest detection is cut with the
// crop rule, as for photos, so the faces are framed as the element frames faces in video. When
// nothing is detected the whole image (its centred square) is resized to 256x256 instead: such faces
// are counted in the summary and listed under "whole_image" (their box is that square). The mask is
// the union of the image's CelebAMask-HQ face-part PNGs (skin, nose, eyes, glasses, brows, mouth,
// lips; not hair, ears, neck, clothes) cut by the same region; without part PNGs, the landmark (or
// ellipse) mask. With --identities identity_CelebA.txt (CelebA's; images are mapped to CelebA files by
// DIR/CelebA-HQ-to-CelebA-mapping.txt, or --celeba-mapping) the split is by identity: all faces of one
// person on one side, identities shuffled with --seed, --val / --test fractions of identities; images
// without an identity are skipped and counted. Without --identities the split is by image, and one
// person may appear on both sides (said in the summary).
//
// --aligned reads folders of aligned face crops instead (training/prepare_aligned.h): stored as their
// JPEG files, crop rule measured against the element's detectors.
//
// Either way, unreadable images are skipped with a message naming them; the run goes on and the
// summary (printed, and stored in the dataset) counts what was skipped and why.
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <optional>
#include <random>
#include <set>

#include <unistd.h>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "celeba_hq.h"
#include "crop_rule.h"
#include "dataset.h"
#include "detector.h"
#include "image_io.h"
#include "landmarks.h"
#include "prepare_aligned.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

constexpr int kCelebADetectionSide = 512;  // CelebA-HQ images are shrunk to this for detection

struct PrepareCli {
  std::vector<std::string> inputs;
  std::string out, celeba_hq, identities, celeba_mapping, repack;
  bool aligned = false;
  int jpeg_quality = 0;
  int min_face = 128, upsample = 1;
  double val = 0.1, test = 0.0;
  unsigned seed = 1;
  bool no_landmarks = false;
  facesr::CropRule crop;
};

// One source image and the group that decides its split (the photo itself, or a person).
struct SourceImage {
  std::string path;
  std::string group;
  int celeba_index = -1;  // N of CelebA-HQ's N.jpg; -1 for photos
};

// Everything the summary counts.
struct Tally {
  int found = 0, too_small = 0, read = 0, no_identity = 0;
  int masks_given = 0, masks_computed = 0;
  json skipped = json::array();      // unreadable images, images without identity
  json whole_image = json::array();  // CelebA-HQ images cut whole (no detection)
  std::map<std::string, int> per_split;
  std::map<std::string, std::set<std::string>> groups_per_split;
};

// The packed faces.
struct Packed {
  std::vector<uint8_t> images, masks;
  std::vector<facesr::FaceRecord> faces;
  void add(const cv::Mat& face, const cv::Mat& mask, facesr::FaceRecord record) {
    images.insert(images.end(), face.data, face.data + face.total() * 3);
    masks.insert(masks.end(), mask.data, mask.data + mask.total());
    faces.push_back(std::move(record));
  }
};

// The photos under `inputs` (folders searched recursively). A symbolic link that loops or points
// nowhere is skipped with a message naming it, and listed in `broken` (file, reason) when given.
std::vector<std::string> list_photos(const std::vector<std::string>& inputs, json* broken = nullptr) {
  static const std::set<std::string> extensions = {".jpg", ".jpeg", ".png", ".bmp", ".webp", ".JPG", ".JPEG", ".PNG"};
  std::vector<std::string> photos;
  for (const auto& input : inputs) {
    if (fs::is_directory(input)) {
      for (const auto& entry : fs::recursive_directory_iterator(input)) {
        std::error_code ec;
        const bool regular = entry.is_regular_file(ec);
        if (entry.is_symlink() && (ec || !fs::exists(entry.status(ec)))) {
          const std::string reason =
              !ec || ec == std::errc::no_such_file_or_directory ? "a dangling symbolic link (its target does not exist)"
              : ec == std::errc::too_many_symbolic_link_levels ? "a symbolic link loop (it leads back to itself)"
                                                                : "a symbolic link that cannot be followed (" + ec.message() + ")";
          std::fprintf(stderr, "facesr-prepare: skipped %s: %s\n", entry.path().c_str(), reason.c_str());
          if (broken) broken->push_back({{"file", entry.path().string()}, {"reason", reason}});
          continue;
        }
        if (regular && extensions.count(entry.path().extension().string()))
          photos.push_back(entry.path().string());
      }
    } else {
      photos.push_back(input);  // named explicitly: tried whatever its extension (and reported if unreadable)
    }
  }
  std::sort(photos.begin(), photos.end());
  photos.erase(std::unique(photos.begin(), photos.end()), photos.end());
  return photos;
}

// Group -> split, by shuffling the groups (in their order of first appearance) with `seed`.
std::map<std::string, facesr::Split> split_groups(const std::vector<SourceImage>& sources, double val, double test,
                                                  unsigned seed) {
  std::vector<std::string> order;
  std::set<std::string> seen;
  for (const auto& s : sources)
    if (seen.insert(s.group).second) order.push_back(s.group);
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

// CelebA-HQ images with their identity as group (or themselves without --identities). Images without
// an identity are skipped into `tally`.
std::vector<SourceImage> celeba_sources(const PrepareCli& cli, Tally& tally) {
  std::vector<std::string> ignored;
  const auto images = facesr::list_celeba_hq_images(cli.celeba_hq, &ignored);
  for (const auto& path : ignored)
    std::fprintf(stderr, "facesr-prepare: ignored %s (not a CelebA-HQ <N>.jpg name)\n", path.c_str());
  std::map<int, std::string> mapping;
  std::map<std::string, std::string> identities;
  if (!cli.identities.empty()) {
    const std::string mapping_path = cli.celeba_mapping.empty()
                                         ? (fs::path(cli.celeba_hq) / "CelebA-HQ-to-CelebA-mapping.txt").string()
                                         : cli.celeba_mapping;
    mapping = facesr::read_celeba_hq_mapping(mapping_path);
    identities = facesr::read_celeba_identities(cli.identities);
  }
  std::vector<SourceImage> sources;
  for (const auto& image : images) {
    SourceImage source{image.path, image.path, image.index};
    if (!cli.identities.empty()) {
      const auto file = mapping.find(image.index);
      const auto identity = file == mapping.end() ? identities.end() : identities.find(file->second);
      if (identity == identities.end()) {
        const std::string reason = file == mapping.end() ? "not in the CelebA-HQ-to-CelebA mapping"
                                                         : file->second + " has no identity in " + cli.identities;
        std::fprintf(stderr, "facesr-prepare: skipped %s: %s\n", image.path.c_str(), reason.c_str());
        tally.skipped.push_back({{"file", image.path}, {"reason", reason}});
        ++tally.no_identity;
        continue;
      }
      source.group = "identity " + identity->second;
    }
    sources.push_back(source);
  }
  return sources;
}

struct Tools {
  std::unique_ptr<facesr::Detector> detector;
  std::unique_ptr<facesr::LandmarkPredictor> landmarks;
};

facesr::ImageRef image_ref(const cv::Mat& rgb) {
  return {rgb.data, rgb.cols, rgb.rows, rgb.step, facesr::PixelFormat::RGB8};
}

// The landmark mask (or ellipse without landmarks) of a detected face, and its kind.
cv::Mat computed_mask(const Tools& tools, const cv::Mat& rgb, const facesr::FaceBox& box,
                      const facesr::CropRegion& region, std::string* kind) {
  if (tools.landmarks) {
    *kind = "landmarks";
    return facesr::face_mask_from_landmarks(tools.landmarks->predict(image_ref(rgb), box), region, facesr::kDatasetSide);
  }
  *kind = "ellipse";
  return facesr::face_mask_ellipse(box, region, facesr::kDatasetSide);
}

facesr::FaceRecord record_for(const SourceImage& source, const facesr::FaceBox& box, facesr::Split split) {
  facesr::FaceRecord record;
  record.source = source.path;
  record.box[0] = box.x, record.box[1] = box.y, record.box[2] = box.width, record.box[3] = box.height;
  record.split = split;
  return record;
}

// Every face of a photo at least --min-face wide.
void add_photo_faces(const PrepareCli& cli, const Tools& tools, const SourceImage& source, const cv::Mat& rgb,
                     facesr::Split split, Packed& packed, Tally& tally) {
  for (const auto& detection : tools.detector->detect(image_ref(rgb))) {
    ++tally.found;
    if (std::max(detection.box.width, detection.box.height) < cli.min_face) {
      ++tally.too_small;
      continue;
    }
    const auto region = facesr::crop_region_for_face(detection.box, cli.crop);
    auto record = record_for(source, detection.box, split);
    const cv::Mat mask = computed_mask(tools, rgb, detection.box, region, &record.mask_kind);
    ++tally.masks_computed;
    packed.add(facesr::extract_crop(rgb, region, facesr::kDatasetSide), mask, std::move(record));
  }
}

// The largest face HOG finds on the image shrunk to kCelebADetectionSide, in full-size pixels.
std::optional<facesr::FaceBox> largest_face(const Tools& tools, const cv::Mat& rgb) {
  const double scale = std::min(1.0, static_cast<double>(kCelebADetectionSide) / std::max(rgb.cols, rgb.rows));
  cv::Mat small = rgb;
  if (scale < 1.0) cv::resize(rgb, small, cv::Size(), scale, scale, cv::INTER_AREA);
  std::optional<facesr::FaceBox> best;
  for (const auto& d : tools.detector->detect(image_ref(small)))
    if (!best || d.box.width * d.box.height > best->width * best->height) best = d.box;
  if (best) best = facesr::FaceBox{best->x / scale, best->y / scale, best->width / scale, best->height / scale};
  return best;
}

// The one aligned face of a CelebA-HQ image (see the top of this file).
void add_celeba_face(const PrepareCli& cli, const Tools& tools, const SourceImage& source, const cv::Mat& rgb,
                     facesr::Split split, Packed& packed, Tally& tally) {
  const auto face = largest_face(tools, rgb);
  facesr::CropRegion region;
  facesr::FaceBox box;
  if (face) {
    ++tally.found;
    if (std::max(face->width, face->height) < cli.min_face) {
      ++tally.too_small;
      return;
    }
    box = *face;
    region = facesr::crop_region_for_face(box, cli.crop);
  } else {
    const int side = std::min(rgb.cols, rgb.rows);
    region = {(rgb.cols - side) / 2, (rgb.rows - side) / 2, side};
    box = {static_cast<double>(region.x), static_cast<double>(region.y), static_cast<double>(side),
           static_cast<double>(side)};
    tally.whole_image.push_back(source.path);
  }
  auto record = record_for(source, box, split);
  cv::Mat mask;
  try {
    const cv::Mat parts = facesr::celeba_hq_face_mask(cli.celeba_hq, source.celeba_index, rgb.size());
    if (!parts.empty()) {
      mask = facesr::extract_crop(parts, region, facesr::kDatasetSide) > 127;
      record.mask_kind = "given";
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: %s; computing the mask instead\n", e.what());
  }
  if (mask.empty()) {
    if (face) {
      mask = computed_mask(tools, rgb, box, region, &record.mask_kind);
    } else {  // no detection, no landmarks: an ellipse over the middle of the aligned face
      const double side = region.side;
      mask = facesr::face_mask_ellipse({region.x + 0.25 * side, region.y + 0.2 * side, 0.5 * side, 0.6 * side}, region,
                                       facesr::kDatasetSide);
      record.mask_kind = "ellipse";
    }
    ++tally.masks_computed;
  } else {
    ++tally.masks_given;
  }
  packed.add(facesr::extract_crop(rgb, region, facesr::kDatasetSide), mask, std::move(record));
}

json summary_json(const PrepareCli& cli, std::size_t images, const Tally& t, std::size_t kept) {
  json groups_per_split = json::object();
  for (const auto& [split, groups] : t.groups_per_split) groups_per_split[split] = groups.size();
  const bool celeba = !cli.celeba_hq.empty();
  const std::string mask_fallback = cli.no_landmarks ? "ellipse" : "dlib 68 landmarks, convex hull + forehead";
  json s = {{"photos", images},
            {"photos_read", t.read},
            {"photos_skipped", t.skipped},
            {"faces_found", t.found},
            {"faces_too_small", t.too_small},
            {"faces_kept", kept},
            {"min_face_px", cli.min_face},
            {"per_split", t.per_split},
            {"split_seed", cli.seed},
            {"detector", "dlib HOG, upsample " + std::to_string(cli.upsample) +
                             (celeba ? ", on the image shrunk to at most 512 px" : "")},
            {"masks", celeba ? "CelebAMask-HQ face parts (skin, nose, eyes, eyeglasses, brows, mouth, lips) where "
                               "given, else " + mask_fallback
                             : mask_fallback}};
  if (celeba) {
    s["layout"] = "CelebA-HQ (CelebAMask-HQ folders) " + cli.celeba_hq;
    s["split_by"] = cli.identities.empty() ? "image (no --identities: one person may be on several sides)"
                                           : "CelebA identity (" + cli.identities + ")";
    s["groups_per_split"] = groups_per_split;
    s["masks_given"] = t.masks_given;
    s["masks_computed"] = t.masks_computed;
    s["whole_image"] = t.whole_image;
  } else {
    s["split_by"] = "photo";
  }
  return s;
}

int run(const PrepareCli& cli) {
  Tally tally;
  std::vector<SourceImage> sources;
  if (!cli.celeba_hq.empty()) {
    sources = celeba_sources(cli, tally);
  } else {
    for (const auto& path : list_photos(cli.inputs, &tally.skipped)) sources.push_back({path, path, -1});
  }
  if (sources.empty()) {
    std::fprintf(stderr, "facesr-prepare: no photos found in the inputs (JPEG, PNG, BMP, WebP)\n");
    return 2;
  }
  const auto split = split_groups(sources, cli.val, cli.test, cli.seed);

  facesr::DetectorOptions detect_options;
  detect_options.upsample = cli.upsample;
  detect_options.min_face_size = 16;  // find everything; size is judged below so the summary can count it
  Tools tools;
  tools.detector = facesr::Detector::create(detect_options);
  if (!cli.no_landmarks) tools.landmarks = facesr::LandmarkPredictor::open();

  Packed packed;
  for (std::size_t p = 0; p < sources.size(); ++p) {
    const auto& source = sources[p];
    cv::Mat bgr;
    try {
      bgr = facesr::read_image_bgr(source.path);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "facesr-prepare: skipped %s\n", e.what());
      tally.skipped.push_back({{"file", source.path}, {"reason", e.what()}});
      continue;
    }
    ++tally.read;
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    const facesr::Split side = split.at(source.group);
    const std::size_t before = packed.faces.size();
    if (source.celeba_index >= 0) add_celeba_face(cli, tools, source, rgb, side, packed, tally);
    else add_photo_faces(cli, tools, source, rgb, side, packed, tally);
    if (packed.faces.size() > before) {
      tally.per_split[facesr::to_string(side)] += static_cast<int>(packed.faces.size() - before);
      tally.groups_per_split[facesr::to_string(side)].insert(source.group);
    }
    if (isatty(STDERR_FILENO))
      std::fprintf(stderr, "\rfacesr-prepare: %zu/%zu photos, %zu faces kept", p + 1, sources.size(), packed.faces.size());
  }
  if (isatty(STDERR_FILENO)) std::fprintf(stderr, "\n");

  const json summary = summary_json(cli, sources.size() + static_cast<std::size_t>(tally.no_identity), tally,
                                    packed.faces.size());
  std::printf("%s\n", summary.dump(2).c_str());
  if (packed.faces.empty()) {
    std::fprintf(stderr, "facesr-prepare: no face of at least %d px found; nothing written (lower --min-face?)\n",
                 cli.min_face);
    return 1;
  }
  try {
    facesr::write_dataset(cli.out, packed.images, packed.masks, packed.faces, cli.crop, summary.dump());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: %s\n", e.what());
    return 1;
  }
  std::fprintf(stderr, "facesr-prepare: wrote %zu faces to %s (faces narrower than %d px skipped: %d; skipped images: %zu)\n",
               packed.faces.size(), cli.out.c_str(), cli.min_face, tally.too_small, tally.skipped.size());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Detect, crop and pack face photos (or CelebA-HQ) into a facesr training dataset."};
  PrepareCli cli;
  app.add_option("inputs", cli.inputs, "photos and folders of photos (not with --celeba-hq); with --aligned, "
                 "aligned 256x256 face crops and folders of them");
  app.add_flag("--aligned", cli.aligned,
               "the inputs are aligned face crops (one face filling each 256x256 image, e.g. CelebA's): stored as "
               "JPEG files, crop rule measured against the HOG and Haar detectors' boxes, split at random by "
               "image (prepare_aligned.h)");
  app.add_option("--out", cli.out, "dataset file to write (.safetensors)")->required();
  app.add_option("--repack", cli.repack,
                 "an --aligned dataset to write again with its JPEGs re-encoded at --jpeg-quality (smaller, for a "
                 "size-limited transfer; the ground truth gets that JPEG loss too)");
  app.add_option("--jpeg-quality", cli.jpeg_quality, "with --repack: JPEG quality of the re-encoded faces (1-100)")
      ->check(CLI::Range(1, 100));
  app.add_option("--celeba-hq", cli.celeba_hq,
                 "CelebAMask-HQ folder (CelebA-HQ-img/<N>.jpg, optional CelebAMask-HQ-mask-anno/<N/2000>/<NNNNN>_<part>.png, "
                 "CelebA-HQ-to-CelebA-mapping.txt): one aligned face per image, masks from the face-part PNGs");
  app.add_option("--identities", cli.identities,
                 "with --celeba-hq: CelebA's identity_CelebA.txt; split by identity (all faces of a person on one side)");
  app.add_option("--celeba-mapping", cli.celeba_mapping,
                 "with --identities: CelebA-HQ-to-CelebA-mapping.txt (default: the one in the --celeba-hq folder)");
  app.add_option("--min-face", cli.min_face, "skip faces narrower than this, in native pixels (honest 256x256 ground truth)")
      ->check(CLI::Range(16, 4096));
  app.add_option("--val", cli.val, "fraction of photos (of identities with --identities) for validation")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--test", cli.test, "fraction of photos (of identities with --identities) for test")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--seed", cli.seed, "seed of the train/validation/test split");
  app.add_option("--upsample", cli.upsample, "HOG detector: image doublings before detection (0-2; default 1, "
                 "0 with --celeba-hq)")->check(CLI::Range(0, 2));
  app.add_flag("--no-landmarks", cli.no_landmarks, "ellipse masks instead of 68-landmark hulls");
  app.add_option("--crop-side-scale", cli.crop.side_scale, "crop rule: crop side / face box side")->check(CLI::Range(1.0, 4.0));
  app.add_option("--crop-center-dx", cli.crop.center_dx, "crop rule: centre shift right, in face widths")
      ->check(CLI::Range(-1.0, 1.0));
  app.add_option("--crop-center-dy", cli.crop.center_dy, "crop rule: centre shift down, in face heights")
      ->check(CLI::Range(-1.0, 1.0));
  CLI11_PARSE(app, argc, argv);
  if (!cli.repack.empty() || cli.jpeg_quality != 0) {
    if (cli.repack.empty() || cli.jpeg_quality == 0 || !cli.inputs.empty() || !cli.celeba_hq.empty() || cli.aligned) {
      std::fprintf(stderr, "facesr-prepare: --repack DATASET goes with --jpeg-quality Q and --out, and nothing else\n");
      return 2;
    }
    try {
      return facesr::repack_jpeg_dataset(cli.repack, cli.out, cli.jpeg_quality);
    } catch (const std::exception& e) {
      std::fprintf(stderr, "facesr-prepare: %s\n", e.what());
      return 1;
    }
  }
  if (cli.val + cli.test >= 1.0) {
    std::fprintf(stderr, "facesr-prepare: --val + --test must leave photos for training\n");
    return 2;
  }
  if (cli.celeba_hq.empty() == cli.inputs.empty()) {
    std::fprintf(stderr, "facesr-prepare: give photos/folders, or --celeba-hq DIR, not both and not neither\n");
    return 2;
  }
  if (cli.celeba_hq.empty() && (!cli.identities.empty() || !cli.celeba_mapping.empty())) {
    std::fprintf(stderr, "facesr-prepare: --identities and --celeba-mapping go with --celeba-hq\n");
    return 2;
  }
  if (!cli.celeba_hq.empty() && app.count("--upsample") == 0) cli.upsample = 0;
  try {
    if (cli.aligned) {
      if (!cli.celeba_hq.empty()) {
        std::fprintf(stderr, "facesr-prepare: --aligned takes folders of crops, not --celeba-hq\n");
        return 2;
      }
      facesr::AlignedPrepareOptions aligned{list_photos(cli.inputs), cli.out, cli.val, cli.test, cli.seed,
                                            cli.no_landmarks};
      return facesr::prepare_aligned(aligned);
    }
    return run(cli);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-prepare: %s\n", e.what());
    return 2;
  }
}
