// facesr-prepare --celeba-hq on a tiny CelebAMask-HQ-shaped folder made here: real face chips (dlib's
// "johns", three people, resized to 256x256) as CelebA-HQ-img/<N>.jpg, face-part PNGs for two of them,
// a corrupt image, an image missing from the mapping, an image without a face, and the mapping and
// identity files in CelebA's formats. Runs the binary (FACESR_PREPARE_BIN) and reads the dataset back.
#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <numeric>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "crop_rule.h"
#include "dataset.h"
#include "dlib_faces.h"
#include "run_tool.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using facesr::test_tools::slurp;
using PrepareRun = facesr::test_tools::ToolRun;

PrepareRun run_prepare(const std::string& args, const fs::path& dir) {
  return facesr::test_tools::run_tool(FACESR_PREPARE_BIN, args, dir);
}

// The first `count` chips of one of dlib's "johns" (one person each), sorted by name.
std::vector<std::string> chips_of(const std::string& person, std::size_t count) {
  std::vector<std::string> chips;
  for (const auto& entry : fs::directory_iterator(facesr::test_data::kDlibJohns + "/" + person))
    chips.push_back(entry.path().string());
  std::sort(chips.begin(), chips.end());
  chips.resize(std::min(count, chips.size()));
  return chips;
}

cv::Mat half_mask(bool left) {  // 512 x 512 (CelebAMask-HQ's mask size), 255 on one half
  cv::Mat m = cv::Mat::zeros(512, 512, CV_8UC1);
  m(cv::Rect(left ? 0 : 256, 0, 256, 512)).setTo(255);
  return m;
}

// What the test folder holds.
struct CelebAFixture {
  fs::path dir, identities;
  std::map<int, std::string> identity_of;  // CelebA-HQ index -> identity, for the faces expected in the dataset
  cv::Mat mask0;                            // union of image 0's face parts, at image size (256 x 256)
};

CelebAFixture make_celeba_folder() {
  CelebAFixture f;
  f.dir = fs::temp_directory_path() / "facesr-test-prepare-celeba";
  fs::remove_all(f.dir);
  fs::create_directories(f.dir / "CelebA-HQ-img");
  fs::create_directories(f.dir / "CelebAMask-HQ-mask-anno" / "0");
  std::ofstream mapping(f.dir / "CelebA-HQ-to-CelebA-mapping.txt");
  mapping << "idx         orig_idx        orig_file\n";  // CelebAMask-HQ's header and spacing
  std::ofstream identities(f.dir / "identity_CelebA.txt");
  f.identities = f.dir / "identity_CelebA.txt";
  int n = 0;
  auto add = [&](const cv::Mat& image, const std::string& identity, const std::string& ext = ".jpg") {
    cv::imwrite((f.dir / "CelebA-HQ-img" / (std::to_string(n) + ext)).string(), image);
    const std::string celeba_file = cv::format("%06d.jpg", 1000 + n);
    mapping << n << "           " << 999 + n << "           " << celeba_file << "\n";
    identities << celeba_file << " " << identity << "\n";
    f.identity_of[n++] = identity;
  };
  const std::map<std::string, std::string> people = {{"John_Salley", "11"}, {"John_Savage", "22"}, {"John_Schneider", "33"}};
  for (const auto& [person, identity] : people)
    for (const auto& chip : chips_of(person, 2)) {
      cv::Mat resized;
      cv::resize(cv::imread(chip), resized, cv::Size(256, 256), 0, 0, cv::INTER_CUBIC);
      add(resized, identity);
    }
  // Image 0: skin on the left half, hair on the right half (not a face part), nose in a square on the right.
  cv::Mat nose = cv::Mat::zeros(512, 512, CV_8UC1);
  nose(cv::Rect(300, 200, 60, 80)).setTo(255);
  const fs::path masks = f.dir / "CelebAMask-HQ-mask-anno" / "0";
  cv::imwrite((masks / "00000_skin.png").string(), half_mask(true));
  cv::imwrite((masks / "00000_hair.png").string(), half_mask(false));
  cv::imwrite((masks / "00000_nose.png").string(), nose);
  cv::resize(half_mask(true) | nose, f.mask0, cv::Size(256, 256), 0, 0, cv::INTER_NEAREST);
  // Image 1: a left eye only.
  cv::Mat eye = cv::Mat::zeros(512, 512, CV_8UC1);
  eye(cv::Rect(150, 180, 70, 40)).setTo(255);
  cv::imwrite((masks / "00001_l_eye.png").string(), eye);
  // No face: a smooth gradient, its own identity; cut whole.
  cv::Mat gradient(256, 256, CV_8UC3);
  for (int y = 0; y < 256; ++y) gradient.row(y).setTo(cv::Scalar(y, 128, 255 - y));
  add(gradient, "44", ".png");
  // Corrupt: mapped and identified, but not an image.
  std::ofstream(f.dir / "CelebA-HQ-img" / "7.jpg") << "this is not a JPEG";
  mapping << "7           1006           001007.jpg\n";
  identities << "001007.jpg 11\n";
  // A face missing from the mapping.
  cv::imwrite((f.dir / "CelebA-HQ-img" / "8.jpg").string(), cv::imread(chips_of("John_Simm", 1)[0]));
  return f;
}

int celeba_index(const std::string& source) { return std::stoi(fs::path(source).stem().string()); }

}  // namespace

TEST(PrepareCelebAHq, MasksFromPartsIdentitySplitAndSkippedFiles) {
  const CelebAFixture f = make_celeba_folder();
  const fs::path out = f.dir / "celeba.safetensors";
  const PrepareRun r = run_prepare("--out " + out.string() + " --celeba-hq " + f.dir.string() + " --identities " +
                                f.identities.string() + " --val 0.25 --test 0.25 --seed 5 --min-face 60",
                            f.dir);
  ASSERT_EQ(r.status, 0) << r.out << r.err;

  // The corrupt file and the unmapped one are skipped with a message naming them, and counted.
  EXPECT_NE(r.err.find("skipped " + (f.dir / "CelebA-HQ-img" / "7.jpg").string()), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("skipped " + (f.dir / "CelebA-HQ-img" / "8.jpg").string() + ": not in the CelebA-HQ-to-CelebA mapping"),
            std::string::npos) << r.err;
  const auto data = facesr::Dataset::open(out.string());
  const json summary = json::parse(data->summary_json());
  EXPECT_EQ(summary["photos"], 9);
  EXPECT_EQ(summary["photos_read"], 7);
  ASSERT_EQ(summary["photos_skipped"].size(), 2u) << summary.dump(2);
  EXPECT_NE(summary["split_by"].get<std::string>().find("identity"), std::string::npos);

  // Every image read gives one face; the gradient is cut whole.
  ASSERT_EQ(data->size(), 7) << summary.dump(2);
  ASSERT_EQ(summary["whole_image"].size(), 1u) << summary.dump(2);
  EXPECT_EQ(summary["whole_image"][0], (f.dir / "CelebA-HQ-img" / "6.png").string());
  EXPECT_EQ(summary["masks_given"], 2);

  // All faces of a person on one side; the four identities are spread over the three splits.
  std::map<std::string, std::set<facesr::Split>> splits_of;
  std::set<facesr::Split> used;
  for (const auto& face : data->faces()) {
    splits_of[f.identity_of.at(celeba_index(face.source))].insert(face.split);
    used.insert(face.split);
  }
  EXPECT_EQ(splits_of.size(), 4u);
  for (const auto& [identity, splits] : splits_of) EXPECT_EQ(splits.size(), 1u) << "identity " << identity;
  EXPECT_EQ(used.size(), 3u) << "val 0.25 and test 0.25 of 4 identities: one each";

  // Image 0's mask is the union of its skin and nose PNGs (not the hair), cut by the face's crop region.
  std::map<int, int64_t> row_of;
  for (int64_t i = 0; i < data->size(); ++i) row_of[celeba_index(data->faces()[static_cast<std::size_t>(i)].source)] = i;
  const auto& face0 = data->faces()[static_cast<std::size_t>(row_of.at(0))];
  EXPECT_EQ(face0.mask_kind, "given");
  EXPECT_EQ(data->faces()[static_cast<std::size_t>(row_of.at(1))].mask_kind, "given");
  EXPECT_EQ(data->faces()[static_cast<std::size_t>(row_of.at(2))].mask_kind, "landmarks");
  const facesr::FaceBox box{face0.box[0], face0.box[1], face0.box[2], face0.box[3]};
  const cv::Mat expected = facesr::extract_crop(f.mask0, facesr::crop_region_for_face(box, data->crop_rule()), 256) > 127;
  const auto mask = data->batch({row_of.at(0)}).mask;  // 1 x 1 x 256 x 256 in [0, 1]
  const cv::Mat got(256, 256, CV_32FC1, mask.contiguous().data_ptr<float>());
  cv::Mat got8;
  got.convertTo(got8, CV_8U, 255);
  const double differ = cv::countNonZero(got8 != expected) / (256.0 * 256.0);
  EXPECT_LT(differ, 0.01) << "mask of image 0 vs skin | nose cut by the crop region";
  EXPECT_GT(cv::countNonZero(expected), 256 * 256 / 5) << "the skin half is in view";
  EXPECT_LT(cv::countNonZero(expected), 256 * 256 * 9 / 10) << "the hair half is in view and excluded";
}

TEST(PrepareCelebAHq, WithoutIdentitiesSplitsByImageAndSaysSo) {
  const CelebAFixture f = make_celeba_folder();
  const fs::path out = f.dir / "by-image.safetensors";
  const PrepareRun r = run_prepare("--out " + out.string() + " --celeba-hq " + f.dir.string() + " --min-face 60 --no-landmarks",
                            f.dir);
  ASSERT_EQ(r.status, 0) << r.out << r.err;
  const auto data = facesr::Dataset::open(out.string());
  const json summary = json::parse(data->summary_json());
  EXPECT_EQ(data->size(), 8) << "image 8 needs no mapping here; 7.jpg is still corrupt";
  EXPECT_EQ(summary["photos_skipped"].size(), 1u);
  EXPECT_NE(summary["split_by"].get<std::string>().find("one person may be on several sides"), std::string::npos);
}

TEST(PrepareCelebAHq, BadArgumentsAndFilesFailClearly) {
  const CelebAFixture f = make_celeba_folder();
  PrepareRun r = run_prepare("--out x.safetensors --celeba-hq " + f.dir.string() + " " + facesr::test_data::kDlibJohns, f.dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("not both"), std::string::npos) << r.err;

  r = run_prepare("--out x.safetensors --celeba-hq /nonexistent/celeba", f.dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("/nonexistent/celeba/CelebA-HQ-img: no such folder"), std::string::npos) << r.err;

  std::ofstream(f.dir / "bad-identities.txt") << "000101.jpg\n";
  r = run_prepare("--out x.safetensors --celeba-hq " + f.dir.string() + " --identities " +
                      (f.dir / "bad-identities.txt").string(), f.dir);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.err.find("bad-identities.txt:1: expected"), std::string::npos) << r.err;
}

// facesr-prepare --aligned (issue 16): a folder of aligned 256x256 crops (dlib's johns chips resized:
// the face fills the image, as in CelebA's aligned set), a truncated JPEG and an image of another
// size. The crops are stored as their JPEG files, byte for byte; the crop rule is measured per
// detector; the bad files are skipped, named and counted; the dataset reads back through stb_image as
// OpenCV decodes the same files.
TEST(PrepareAligned, StoresJpegFilesMeasuresTheCropRuleAndSkipsBadImages) {
  const fs::path dir = fs::path(::testing::TempDir()) / "facesr-prepare-aligned";
  fs::remove_all(dir);
  fs::create_directories(dir / "crops");
  std::vector<std::string> kept;
  for (const char* person : {"John_Salley", "John_Savage", "John_Simm"})
    for (const auto& chip : chips_of(person, 3)) {
      cv::Mat face;
      cv::resize(cv::imread(chip), face, cv::Size(256, 256), 0, 0, cv::INTER_CUBIC);
      kept.push_back((dir / "crops" / (std::to_string(kept.size()) + ".jpg")).string());
      ASSERT_TRUE(cv::imwrite(kept.back(), face));
    }
  const std::string whole = slurp(kept[0]);
  std::ofstream(dir / "crops" / "truncated.jpg", std::ios::binary) << whole.substr(0, whole.size() / 2);
  cv::Mat small;
  cv::resize(cv::imread(kept[1]), small, cv::Size(100, 100));
  ASSERT_TRUE(cv::imwrite((dir / "crops" / "small.png").string(), small));

  const fs::path out = dir / "aligned.safetensors";
  const auto run = run_prepare("--aligned --out " + out.string() + " --val 0.25 --seed 2 " + (dir / "crops").string(),
                               dir / "run");
  ASSERT_EQ(run.status, 0) << run.err;
  const json summary = json::parse(run.out);
  EXPECT_EQ(summary["faces_kept"], kept.size());
  ASSERT_EQ(summary["images_skipped"].size(), 2u) << summary.dump(1);
  const std::string skipped = summary["images_skipped"].dump();
  EXPECT_NE(skipped.find("truncated.jpg"), std::string::npos) << skipped;
  EXPECT_NE(skipped.find("100x100, not 256x256"), std::string::npos) << skipped;
  EXPECT_NE(summary["split_by"].get<std::string>().find("no identity labels"), std::string::npos);

  auto data = facesr::Dataset::open(out.string());
  ASSERT_TRUE(data->jpeg_storage());
  ASSERT_EQ(data->size(), static_cast<int64_t>(kept.size()));
  const auto validation = data->indices(facesr::Split::Validation).size();  // 25 % of the 11 files
  EXPECT_GE(validation, 2u);
  EXPECT_LE(validation, 3u);
  EXPECT_LT(fs::file_size(out), kept.size() * 256 * 256) << "stored as JPEG, not as raw pixels";
  // The measured rules: the chips' faces fill ~70-85 % of the crop.
  const auto& rules = data->crop_rules();
  ASSERT_TRUE(rules.by_detector.count("hog"));
  EXPECT_EQ(rules.by_detector.at("hog").side_scale, rules.rule.side_scale);
  EXPECT_GT(rules.rule.side_scale, 1.0);
  EXPECT_LT(rules.rule.side_scale, 1.8);
  EXPECT_EQ(summary["crop_rule_measured"]["hog"]["side_scale"].get<double>(), rules.rule.side_scale);

  // Each face decodes (stb_image) to what OpenCV reads from the file; masks are face-shaped.
  const auto batch = data->batch({0, 4});
  ASSERT_EQ(batch.hr.sizes(), (std::vector<int64_t>{2, 3, 256, 256}));
  for (int i = 0; i < 2; ++i) {
    cv::Mat bgr = cv::imread(data->faces()[i == 0 ? 0 : 4].source), rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    const auto expected = torch::from_blob(rgb.data, {256, 256, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat32);
    const auto got = batch.hr[i].add(1.0).mul(127.5);
    EXPECT_LT((got - expected).abs().mean().item<double>(), 2.0) << "face " << i;
    const double inside = batch.mask[i].mean().item<double>();
    EXPECT_GT(inside, 0.25);
    EXPECT_LT(inside, 0.9);
    EXPECT_GT(batch.mask[i][0][128][128].item<double>(), 0.9) << "the face's centre is in its mask";
  }
}

// facesr-prepare --repack (tests/gpu/celeba.sh): the same faces, splits, masks and crop rules, every
// JPEG re-encoded at the given quality: smaller, close to the stored faces, and recorded as such.
TEST(PrepareRepack, ReencodesJpegsAndKeepsEverythingElse) {
  const fs::path dir = fs::path(::testing::TempDir()) / "facesr-prepare-repack";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::vector<std::vector<uint8_t>> jpegs;
  std::vector<uint8_t> masks;
  std::vector<facesr::FaceRecord> faces;
  for (const char* person : {"John_Salley", "John_Savage"})
    for (const auto& chip : chips_of(person, 3)) {
      cv::Mat face;
      cv::resize(cv::imread(chip), face, cv::Size(256, 256), 0, 0, cv::INTER_CUBIC);
      jpegs.emplace_back();
      ASSERT_TRUE(cv::imencode(".jpg", face, jpegs.back(), {cv::IMWRITE_JPEG_QUALITY, 97}));
      for (int i = 0; i < facesr::kJpegMaskSide * facesr::kJpegMaskSide; ++i)
        masks.push_back(static_cast<uint8_t>((i * 7 + faces.size() * 31) % 256));
      facesr::FaceRecord record;
      record.source = chip;
      record.split = faces.size() % 3 == 2 ? facesr::Split::Validation : facesr::Split::Train;
      record.mask_kind = "landmarks";
      faces.push_back(record);
    }
  facesr::DatasetCropRules rules;
  rules.rule.side_scale = 1.2;
  rules.rule.center_dy = -0.03;
  rules.by_detector["hog"] = rules.rule;
  rules.by_detector["haar"].side_scale = 1.15;
  const fs::path in = dir / "aligned.safetensors", out = dir / "repacked.safetensors";
  facesr::write_jpeg_dataset(in.string(), jpegs, masks, faces, rules, R"({"layout": "test"})");

  const auto run = run_prepare("--repack " + in.string() + " --jpeg-quality 50 --out " + out.string(), dir / "run");
  ASSERT_EQ(run.status, 0) << run.err;
  const json report = json::parse(run.out);
  EXPECT_EQ(report["jpeg_quality"], 50);
  EXPECT_LT(report["bytes_after"].get<double>(), 0.7 * report["bytes_before"].get<double>()) << report.dump();
  EXPECT_GT(report["psnr_vs_stored_db"].get<double>(), 28.0) << report.dump();
  EXPECT_LT(report["psnr_vs_stored_db"].get<double>(), 50.0) << "re-encoded, not copied: " << report.dump();

  const auto before = facesr::Dataset::open(in.string()), after = facesr::Dataset::open(out.string());
  ASSERT_TRUE(after->jpeg_storage());
  ASSERT_EQ(after->size(), before->size());
  EXPECT_LT(fs::file_size(out), fs::file_size(in));
  for (int64_t k = 0; k < after->size(); ++k) {
    EXPECT_EQ(after->faces()[k].split, before->faces()[k].split);
    EXPECT_EQ(after->faces()[k].source, before->faces()[k].source);
    EXPECT_EQ(after->faces()[k].mask_kind, "landmarks");
    EXPECT_EQ(0, std::memcmp(after->mask_bytes(k), before->mask_bytes(k), facesr::kJpegMaskSide * facesr::kJpegMaskSide));
  }
  EXPECT_EQ(after->crop_rule().side_scale, 1.2);
  EXPECT_EQ(after->crop_rule().center_dy, -0.03);
  ASSERT_TRUE(after->crop_rules().by_detector.count("haar"));
  EXPECT_EQ(after->crop_rules().by_detector.at("haar").side_scale, 1.15);
  EXPECT_EQ(json::parse(after->summary_json())["repacked"]["jpeg_quality"], 50);
  EXPECT_EQ(json::parse(after->summary_json())["layout"], "test");

  // The whole batch (decoded on several threads) matches face-by-face batches and stays near the original.
  std::vector<int64_t> all(static_cast<std::size_t>(after->size()));
  std::iota(all.begin(), all.end(), 0);
  const auto batch = after->batch(all), original = before->batch(all);
  for (int64_t k = 0; k < after->size(); ++k)
    EXPECT_TRUE(torch::equal(batch.hr[k], after->batch({k}).hr[0])) << "face " << k;
  const double mean_error = batch.hr.sub(original.hr).abs().mean().item<double>() * 127.5;
  EXPECT_GT(mean_error, 0.1);
  EXPECT_LT(mean_error, 6.0);

  // Wrong uses: without a quality, with photos too, a raw-storage dataset.
  EXPECT_EQ(run_prepare("--repack " + in.string() + " --out " + (dir / "x.safetensors").string(), dir / "run").status, 2);
  EXPECT_EQ(run_prepare("--repack " + in.string() + " --jpeg-quality 80 --aligned --out " + (dir / "x.safetensors").string() +
                        " " + dir.string(), dir / "run").status, 2);
  const fs::path raw = dir / "raw.safetensors";
  facesr::write_dataset(raw.string(), std::vector<uint8_t>(256 * 256 * 3, 128), std::vector<uint8_t>(256 * 256, 255),
                        {faces[0]}, rules.rule, "{}");
  const auto raw_run = run_prepare("--repack " + raw.string() + " --jpeg-quality 80 --out " + (dir / "x.safetensors").string(),
                                   dir / "run");
  EXPECT_EQ(raw_run.status, 1);
  EXPECT_NE(raw_run.err.find("stores raw pixels"), std::string::npos) << raw_run.err;
  EXPECT_FALSE(fs::exists(dir / "x.safetensors"));
}

// Issue 37: a symbolic link that loops or points nowhere is skipped with a message naming it and
// counted, like a corrupt image (a loop stopped the run with "Too many levels of symbolic links";
// a dangling link was skipped silently).
TEST(PreparePhotos, SkipsAndNamesBrokenSymbolicLinks) {
  const fs::path dir = fs::path(::testing::TempDir()) / "facesr-prepare-links";
  fs::remove_all(dir);
  fs::create_directories(dir / "photos");
  const auto chips = chips_of("John_Salley", 2);
  for (std::size_t i = 0; i < chips.size(); ++i) fs::copy_file(chips[i], dir / "photos" / (std::to_string(i) + ".jpg"));
  fs::create_symlink("loop-b.jpg", dir / "photos" / "loop-a.jpg");
  fs::create_symlink("loop-a.jpg", dir / "photos" / "loop-b.jpg");
  fs::create_symlink("nowhere.jpg", dir / "photos" / "dangling.jpg");
  const fs::path out = dir / "faces.safetensors";
  const auto run = run_prepare("--out " + out.string() + " --min-face 40 " + (dir / "photos").string(), dir / "run");
  ASSERT_EQ(run.status, 0) << run.err;
  for (const char* name : {"loop-a.jpg", "loop-b.jpg", "dangling.jpg"})
    EXPECT_NE(run.err.find(std::string(name) + ": "), std::string::npos) << name << " not named: " << run.err;
  EXPECT_NE(run.err.find("dangling symbolic link"), std::string::npos) << run.err;
  const json summary = json::parse(run.out);
  EXPECT_EQ(summary["photos_skipped"].size(), 3u) << summary.dump();
  EXPECT_TRUE(fs::exists(out));
}
