// dlib's face descriptor as face-api runs it (training/face_descriptor.h): the weights load strictly
// and bad files fail naming what is wrong, the network gives the descriptors face-api itself gives
// (tests/fixtures/face_descriptor_reference.json, from face_descriptor_reference.cjs under Node) and
// it tells dlib's five "johns" apart as dlib's model does (same person closer than 0.6).
//
// Needs the weights (scripts/fetch-identity-model.sh; tests/run.sh runs it): without them the tests
// that need them skip and say so.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "face_descriptor.h"
#include "image_decode.h"
#include "safetensors.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const fs::path kJohns = "/usr/share/doc/libdlib19.1/examples/johns";
const std::string kManifest = facesr::kFaceDescriptorManifest;
const std::string kBin = "face_recognition_model.bin";

fs::path model_dir() {
  fs::path p = facesr::default_face_descriptor_path();
  return fs::is_directory(p) ? p : p.parent_path();
}

#define REQUIRE_WEIGHTS()                                                                                    \
  if (!fs::exists(model_dir() / kManifest))                                                                  \
  GTEST_SKIP() << "no face descriptor weights in " << model_dir() << ": run scripts/fetch-identity-model.sh"

// A 150x150 chip of dlib's johns, N x 3 x 150 x 150 float RGB in 0..255 (decoded by facesr's decoder).
std::vector<uint8_t> read_chip(const fs::path& file) {
  std::ifstream in(file, std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::vector<uint8_t> rgb(150 * 150 * 3);
  const std::string error = facesr::decode_rgb_image(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(),
                                                     150, rgb.data());
  if (!error.empty()) throw std::runtime_error(file.string() + ": " + error);
  return rgb;
}

torch::Tensor to_tensor(const std::vector<std::vector<uint8_t>>& chips) {
  std::vector<torch::Tensor> t;
  for (const auto& c : chips)
    t.push_back(torch::from_blob(const_cast<uint8_t*>(c.data()), {150, 150, 3}, torch::kUInt8).permute({2, 0, 1}).to(torch::kFloat32));
  return torch::stack(t);
}

facesr::FaceDescriptorNet loaded_net() {
  facesr::FaceDescriptorNet net;
  facesr::load_face_descriptor_weights(*net, model_dir().string());
  return net;
}

// Every chip of dlib's johns: person -> files.
std::map<std::string, std::vector<fs::path>> johns() {
  std::map<std::string, std::vector<fs::path>> people;
  for (const auto& person : fs::directory_iterator(kJohns))
    for (const auto& f : fs::directory_iterator(person.path())) people[person.path().filename()].push_back(f.path());
  for (auto& [name, files] : people) std::sort(files.begin(), files.end());
  return people;
}

// A copy of the weights in a fresh folder, for the tests that break them.
fs::path copy_of_weights(const std::string& name) {
  const fs::path dir = fs::temp_directory_path() / ("facesr-test-identity-" + name);
  fs::remove_all(dir);
  fs::create_directories(dir);
  fs::copy_file(model_dir() / kManifest, dir / kManifest);
  fs::copy_file(model_dir() / kBin, dir / kBin);
  return dir;
}

std::string load_error(const fs::path& path) {
  facesr::FaceDescriptorNet net;
  try {
    facesr::load_face_descriptor_weights(*net, path.string());
  } catch (const facesr::WeightsError& e) {
    return e.what();
  }
  return "";
}

json read_json(const fs::path& p) {
  std::ifstream in(p);
  return json::parse(in);
}
void write_json(const fs::path& p, const json& j) { std::ofstream(p) << j.dump(); }

}  // namespace

TEST(FaceDescriptor, HasFaceApisTensors) {
  const auto tensors = facesr::FaceDescriptorNet::Impl::expected_tensors();
  EXPECT_EQ(tensors.size(), 117u);
  REQUIRE_WEIGHTS();
  const auto manifest = read_json(model_dir() / kManifest);
  ASSERT_EQ(manifest.size(), 1u);
  const auto& weights = manifest[0]["weights"];
  ASSERT_EQ(weights.size(), tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EXPECT_EQ(weights[i]["name"], tensors[i].first);
    EXPECT_EQ(weights[i]["shape"].get<std::vector<int64_t>>(), tensors[i].second) << tensors[i].first;
  }
}

// face-api's own descriptors of 10 chips (2 per person), computed in Node from the same pixels.
TEST(FaceDescriptor, MatchesFaceApiReference) {
  const auto reference = read_json(fs::path(FACESR_FIXTURES_DIR) / "face_descriptor_reference.json");
  std::vector<std::vector<uint8_t>> chips;
  std::vector<std::string> names;
  for (const auto& c : reference["chips"]) {
    names.push_back(c["file"]);
    chips.push_back(read_chip(kJohns / names.back()));
  }
  ASSERT_EQ(chips.size(), 10u);
  if (const char* dump = std::getenv("FACESR_DUMP_IDENTITY_INPUTS")) {  // for face_descriptor_reference.cjs
    fs::create_directories(dump);
    std::ofstream list(fs::path(dump) / "chips.txt");
    for (std::size_t i = 0; i < chips.size(); ++i) {
      list << names[i] << '\n';
      std::string file = names[i];  // "John_Simm/x.jpg" -> "John_Simm__x.jpg.rgb"
      for (std::size_t p; (p = file.find('/')) != std::string::npos;) file.replace(p, 1, "__");
      std::ofstream(fs::path(dump) / (file + ".rgb"), std::ios::binary)
          .write(reinterpret_cast<const char*>(chips[i].data()), static_cast<std::streamsize>(chips[i].size()));
    }
  }
  REQUIRE_WEIGHTS();
  auto net = loaded_net();
  torch::NoGradGuard no_grad;
  const auto mine = net->forward_rgb255(to_tensor(chips));
  ASSERT_EQ(mine.sizes(), (std::vector<int64_t>{10, facesr::kFaceDescriptorSize}));
  std::vector<std::vector<double>> ref_rows;
  for (const auto& c : reference["chips"]) ref_rows.push_back(c["descriptor"].get<std::vector<double>>());
  auto ref = torch::empty({10, facesr::kFaceDescriptorSize}, torch::kFloat64);
  for (int64_t i = 0; i < 10; ++i)
    ref[i] = torch::tensor(ref_rows[static_cast<std::size_t>(i)], torch::kFloat64);
  const double max_diff = (mine.to(torch::kFloat64) - ref).abs().max().item<double>();
  const double min_cos = facesr::descriptor_cosine(mine, ref).min().item<double>();
  std::printf("face descriptor vs face-api's: largest difference %.2e (values up to %.3f), lowest cosine %.9f\n",
              max_diff, ref.abs().max().item<double>(), min_cos);
  // float32 in both, different convolution code: 2.5e-7 measured; a wrong layer gives ~0.1.
  EXPECT_LT(max_diff, 1e-5);
  EXPECT_GT(min_cos, 0.9999999);
}

// dlib's model tells its own example people apart: photos of one person closer than 0.6, of two
// people farther. On dlib's 55 "johns" chips (5 people).
TEST(FaceDescriptor, SeparatesDlibsJohns) {
  REQUIRE_WEIGHTS();
  auto net = loaded_net();
  std::vector<std::vector<uint8_t>> chips;
  std::vector<int> person;
  int p = 0;
  for (const auto& [name, files] : johns()) {
    for (const auto& f : files) {
      chips.push_back(read_chip(f));
      person.push_back(p);
    }
    ++p;
  }
  ASSERT_EQ(chips.size(), 55u);
  torch::NoGradGuard no_grad;
  const auto rgb = to_tensor(chips);
  // Pairs of one person closer than 0.6, of two people not; for dlib's framing (the chips as they
  // are) and for facesr-eval's, whose crops are tighter (1.185x the HOG box, the chips ~1.39x): the
  // middle 85 % of each chip, enlarged back to 150 px as facesr-eval's 256 px crops are shrunk to it.
  auto separation = [&](const torch::Tensor& descriptors) {
    const auto d = descriptors.to(torch::kFloat64);
    int same = 0, same_ok = 0, other = 0, other_ok = 0;
    for (std::size_t i = 0; i < chips.size(); ++i)
      for (std::size_t j = i + 1; j < chips.size(); ++j) {
        const double dist = (d[static_cast<int64_t>(i)] - d[static_cast<int64_t>(j)]).norm().item<double>();
        if (person[i] == person[j]) {
          ++same;
          same_ok += dist < facesr::kSamePersonDistance;
        } else {
          ++other;
          other_ok += dist >= facesr::kSamePersonDistance;
        }
      }
    return std::array<int, 4>{same_ok, same, other_ok, other};
  };
  const auto dlib = separation(net->forward_rgb255(rgb));
  std::printf("johns: same person < 0.6 in %d of %d pairs, different people >= 0.6 in %d of %d\n", dlib[0], dlib[1],
              dlib[2], dlib[3]);
  EXPECT_GE(dlib[0], dlib[1] * 95 / 100);
  EXPECT_GE(dlib[2], dlib[3] * 99 / 100);

  const int64_t inner = 128, margin = (150 - inner) / 2;  // 85 %
  const auto tight = net->forward(rgb.slice(2, margin, margin + inner).slice(3, margin, margin + inner) / 127.5 - 1);
  const auto framed = separation(tight);
  std::printf("johns framed as facesr-eval's crops: same person < 0.6 in %d of %d pairs, different people >= 0.6 "
              "in %d of %d\n", framed[0], framed[1], framed[2], framed[3]);
  EXPECT_GE(framed[0], framed[1] * 90 / 100);
  EXPECT_GE(framed[2], framed[3] * 95 / 100);
}

// facesr-eval's input: 256x256 crops in [-1, 1] are rounded to 8 bits and resized; a 150x150 image
// in [-1, 1] gives what its 8-bit pixels give.
TEST(FaceDescriptor, TakesFacesrImages) {
  REQUIRE_WEIGHTS();
  auto net = loaded_net();
  torch::NoGradGuard no_grad;
  const auto chip = to_tensor({read_chip(kJohns / "John_Simm" / johns()["John_Simm"][0].filename())});
  const auto direct = net->forward_rgb255(chip);
  const auto via_facesr = net->forward(chip / 127.5 - 1);
  EXPECT_LT((direct - via_facesr).abs().max().item<double>(), 1e-5);
  // The same face at 256x256 (enlarged, as facesr-eval's crops are) stays the same person.
  const auto large = torch::nn::functional::interpolate(
      chip / 127.5 - 1, torch::nn::functional::InterpolateFuncOptions()
                            .size(std::vector<int64_t>{256, 256})
                            .mode(torch::kBicubic)
                            .align_corners(false));
  const auto resized = net->forward(large.clamp(-1, 1));
  EXPECT_EQ(resized.sizes(), direct.sizes());
  EXPECT_LT(facesr::descriptor_distance(resized, direct).item<double>(), 0.2);
}

// The descriptor Frechet distance of facesr-eval --identity: 0 for a set against itself, larger for the
// same faces blurred (the smoother the set, the farther from the sharp one).
TEST(FaceDescriptor, FrechetDistanceIsZeroForTheSameSetAndGrowsWithBlur) {
  REQUIRE_WEIGHTS();
  auto net = loaded_net();
  std::vector<std::vector<uint8_t>> chips;
  for (const auto& [name, files] : johns())
    for (const auto& f : files) chips.push_back(read_chip(f));
  torch::NoGradGuard no_grad;
  const auto images = to_tensor(chips) / 127.5 - 1;
  auto blurred = [&](double sigma) {
    const int64_t k = 2 * static_cast<int64_t>(std::ceil(3 * sigma)) + 1;
    auto x = torch::arange(k, torch::kFloat32) - (k - 1) / 2.0;
    auto g = torch::exp(-x * x / (2 * sigma * sigma));
    g = g / g.sum();
    const auto kernel = (g.view({-1, 1}) * g.view({1, -1})).view({1, 1, k, k}).repeat({3, 1, 1, 1});
    namespace F = torch::nn::functional;
    const auto padded = F::pad(images, F::PadFuncOptions({k / 2, k / 2, k / 2, k / 2}).mode(torch::kReplicate));
    return F::conv2d(padded, kernel, F::Conv2dFuncOptions().groups(3));
  };
  const auto sharp = net->forward(images);
  const double same = facesr::descriptor_frechet_distance(sharp, sharp);
  const double mild = facesr::descriptor_frechet_distance(net->forward(blurred(1.5)), sharp);
  const double strong = facesr::descriptor_frechet_distance(net->forward(blurred(4.0)), sharp);
  std::printf("descriptor Frechet distance: same set %.2e, blurred sigma 1.5: %.4f, sigma 4: %.4f\n", same, mild, strong);
  EXPECT_NEAR(same, 0.0, 1e-9);
  EXPECT_GT(mild, 1e-3);
  EXPECT_GT(strong, mild);
  EXPECT_THROW(facesr::descriptor_frechet_distance(sharp.slice(0, 0, 1), sharp), std::invalid_argument);
}

TEST(FaceDescriptor, BadWeightsFailClearly) {
  EXPECT_NE(load_error("/nonexistent/face-api").find("fetch-identity-model.sh"), std::string::npos);
  REQUIRE_WEIGHTS();
  EXPECT_EQ(load_error(copy_of_weights("good")), "");
  EXPECT_EQ(load_error(copy_of_weights("file") / kManifest), "") << "the manifest itself, not its folder";

  auto dir = copy_of_weights("truncated");
  fs::resize_file(dir / kBin, fs::file_size(dir / kBin) - 1000);
  EXPECT_NE(load_error(dir).find("truncated"), std::string::npos) << load_error(dir);

  dir = copy_of_weights("longer");
  std::ofstream(dir / kBin, std::ios::app) << "extra";
  EXPECT_NE(load_error(dir).find("not the file the manifest describes"), std::string::npos) << load_error(dir);

  dir = copy_of_weights("no-bin");
  fs::remove(dir / kBin);
  EXPECT_NE(load_error(dir).find("missing"), std::string::npos) << load_error(dir);

  dir = copy_of_weights("not-json");
  std::ofstream(dir / kManifest) << "<html>rate limited</html>";
  EXPECT_NE(load_error(dir).find("not a TF.js weights manifest"), std::string::npos) << load_error(dir);

  dir = copy_of_weights("renamed");
  auto m = read_json(dir / kManifest);
  m[0]["weights"][5]["name"] = "conv32_1/conv1/conv/biases";
  write_json(dir / kManifest, m);
  EXPECT_NE(load_error(dir).find("conv32_1/conv1/conv/biases"), std::string::npos) << load_error(dir);

  dir = copy_of_weights("shape");
  m = read_json(dir / kManifest);
  m[0]["weights"][4]["shape"] = {3, 3, 32, 16};
  write_json(dir / kManifest, m);
  EXPECT_NE(load_error(dir).find("has shape [3, 3, 32, 16], the network needs [3, 3, 32, 32]"), std::string::npos)
      << load_error(dir);

  dir = copy_of_weights("missing-tensor");
  m = read_json(dir / kManifest);
  m[0]["weights"].erase(m[0]["weights"].size() - 1);  // fc, the last 256 x 128 bytes (uint8)
  write_json(dir / kManifest, m);
  fs::resize_file(dir / kBin, fs::file_size(dir / kBin) - 256 * 128);
  EXPECT_NE(load_error(dir).find("has no tensor fc"), std::string::npos) << load_error(dir);

  // Another network's manifest (face-api ships several in the same folder).
  dir = copy_of_weights("other-net");
  write_json(dir / kManifest,
             json::array({{{"paths", {kBin}},
                           {"weights", {{{"name", "conv0/filters"}, {"shape", {3, 3, 3, 16}}, {"dtype", "float32"}}}}}}));
  EXPECT_NE(load_error(dir).find("another network"), std::string::npos) << load_error(dir);
}
