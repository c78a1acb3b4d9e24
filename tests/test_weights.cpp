// Generator <-> weights file: bit-exact round trip, and rejection of files that do not match the
// architecture their metadata names.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "weights.h"

using facesr::DType;
using facesr::WeightsError;

namespace {

std::string temp_path(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("facesr-test-" + name)).string();
}

facesr::Generator trained_looking_generator() {
  torch::manual_seed(5);
  facesr::Generator g(facesr::GeneratorOptions().ngf(4).depth(6));
  torch::NoGradGuard no_grad;
  for (auto& b : g->named_buffers())
    if (b.key().find("running_") != std::string::npos) b.value().uniform_(0.5, 1.5);
  g->eval();
  return g;
}

// Writes the generator's tensors after `edit` has changed the list (to forge bad files).
std::string write_edited(const std::string& name,
                         const std::function<void(std::map<std::string, torch::Tensor>&)>& edit) {
  auto g = trained_looking_generator();
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : g->named_parameters()) tensors[p.key()] = p.value().detach();
  for (const auto& b : g->named_buffers())
    if (b.key().find("num_batches") == std::string::npos) tensors[b.key()] = b.value();
  edit(tensors);
  std::vector<facesr::TensorToWrite> records;
  std::vector<torch::Tensor> alive;
  for (auto& [key, t] : tensors) {
    alive.push_back(t.contiguous().to(torch::kFloat32));
    records.push_back({key, DType::F32, t.sizes().vec(), alive.back().data_ptr()});
  }
  facesr::ModelMetadata metadata;
  metadata.architecture = facesr::architecture_of(g->options());
  const auto path = temp_path(name);
  facesr::write_safetensors(path, facesr::to_safetensors_metadata(metadata), records);
  return path;
}

std::string load_error(const std::string& path) {
  try {
    facesr::load_generator(path);
  } catch (const WeightsError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Weights, RoundTripIsBitExact) {
  auto g = trained_looking_generator();
  facesr::ModelMetadata metadata;
  metadata.crop_rule.center_dy = -0.07;
  metadata.training = R"({"steps":1234})";
  const auto path = temp_path("roundtrip.safetensors");
  facesr::save_generator(path, *g, metadata);
  auto loaded = facesr::load_generator(path);
  EXPECT_EQ(loaded.metadata.architecture.depth, 6);
  EXPECT_DOUBLE_EQ(loaded.metadata.crop_rule.center_dy, -0.07);
  EXPECT_NE(loaded.metadata.training.find("1234"), std::string::npos);

  auto original = g->named_parameters();
  for (const auto& p : loaded.generator->named_parameters())
    EXPECT_TRUE(torch::equal(p.value(), original[p.key()])) << p.key();
  auto buffers = g->named_buffers();
  for (const auto& b : loaded.generator->named_buffers()) {
    if (b.key().find("num_batches") == std::string::npos) {
      EXPECT_TRUE(torch::equal(b.value(), buffers[b.key()])) << b.key();
    }
  }

  torch::NoGradGuard no_grad;
  torch::manual_seed(1);
  auto x = torch::rand({3, 3, 32, 32}) * 2 - 1;
  auto a = g->forward(x), b = loaded.generator->forward(x);
  EXPECT_TRUE(torch::equal(a.sharp, b.sharp));
  EXPECT_TRUE(torch::equal(a.blurred, b.blurred));
  std::filesystem::remove(path);
}

TEST(Weights, HalfPrecisionFilesLoadAsFloat32) {
  auto g = trained_looking_generator();
  const auto full_path = temp_path("full.safetensors");
  facesr::save_generator(full_path, *g, {});
  const auto full_size = std::filesystem::file_size(full_path);
  std::filesystem::remove(full_path);
  for (DType dtype : {DType::F16, DType::BF16}) {
    const auto path = temp_path("half.safetensors");
    facesr::save_generator(path, *g, {}, dtype);
    auto loaded = facesr::load_generator(path);
    const double tolerance = dtype == DType::F16 ? 1e-3 : 1e-2;
    auto original = g->named_parameters();
    for (const auto& p : loaded.generator->named_parameters()) {
      EXPECT_EQ(p.value().scalar_type(), torch::kFloat32);
      EXPECT_TRUE(torch::allclose(p.value(), original[p.key()], tolerance, tolerance)) << p.key();
    }
    EXPECT_LT(std::filesystem::file_size(path), 0.55 * full_size) << "half precision, half the bytes";
    std::filesystem::remove(path);
  }
}

TEST(Weights, RejectsMissingTensor) {
  auto path = write_edited("missing.safetensors", [](auto& t) { t.erase("enc_convs.2.weight"); });
  auto message = load_error(path);
  EXPECT_NE(message.find("missing tensor 'enc_convs.2.weight'"), std::string::npos) << message;
}

TEST(Weights, RejectsUnexpectedTensor) {
  auto path = write_edited("unexpected.safetensors", [](auto& t) { t["extra.weight"] = torch::zeros({2}); });
  auto message = load_error(path);
  EXPECT_NE(message.find("unexpected tensor 'extra.weight'"), std::string::npos) << message;
}

TEST(Weights, RejectsWrongShape) {
  auto path = write_edited("shape.safetensors", [](auto& t) { t["lower_out.bias"] = torch::zeros({4}); });
  auto message = load_error(path);
  EXPECT_NE(message.find("tensor 'lower_out.bias' has shape [4]"), std::string::npos) << message;
  EXPECT_NE(message.find("needs [3]"), std::string::npos) << message;
}

TEST(Weights, RejectsFileForAnotherArchitecture) {
  // Tensors of a depth-6 generator under metadata that claims depth 8.
  auto path = write_edited("arch.safetensors", [](auto&) {});
  auto bytes = facesr::read_file_bytes(path);
  auto view = facesr::parse_safetensors(bytes.data(), bytes.size(), path);
  auto metadata = facesr::from_safetensors_metadata(view.metadata, path);
  metadata.architecture.depth = 8;
  std::vector<facesr::TensorToWrite> records;
  for (const auto& r : view.tensors) records.push_back({r.name, r.dtype, r.shape, view.bytes(r)});
  facesr::write_safetensors(path, facesr::to_safetensors_metadata(metadata), records);
  auto message = load_error(path);
  EXPECT_FALSE(message.empty());
  EXPECT_NE(message.find("depth 8"), std::string::npos) << message;

  metadata.architecture.upsample = "magic";
  facesr::write_safetensors(path, facesr::to_safetensors_metadata(metadata), records);
  message = load_error(path);
  EXPECT_NE(message.find("unknown upsample mode 'magic'"), std::string::npos) << message;
}

TEST(Weights, RejectsMissingAndForeignFiles) {
  EXPECT_NE(load_error(temp_path("does-not-exist.safetensors")).find("cannot open"), std::string::npos);
  const float x[1] = {1};
  const auto path = temp_path("foreign.safetensors");
  facesr::write_safetensors(path, {{"format", "pt"}}, {{"x", DType::F32, {1}, x}});
  EXPECT_NE(load_error(path).find("not a facesr model"), std::string::npos) << load_error(path);
}

// Issue 22: weights that load but make every face a flat blob.
TEST(Weights, RejectsNonFiniteValues) {
  for (const float bad : {std::numeric_limits<float>::quiet_NaN(), std::numeric_limits<float>::infinity()}) {
    auto path = write_edited("nan.safetensors", [bad](auto& t) { t["lower_out.weight"].view(-1)[7] = bad; });
    auto message = load_error(path);
    EXPECT_NE(message.find("tensor 'lower_out.weight' holds NaN or infinite values"), std::string::npos) << message;
  }
}

// Issue 22: metadata values the element sizes its work by are checked for range, not only type.
TEST(Weights, RejectsOutOfRangeMetadata) {
  auto path = write_edited("ranges.safetensors", [](auto&) {});
  auto bytes = facesr::read_file_bytes(path);
  auto view = facesr::parse_safetensors(bytes.data(), bytes.size(), path);
  std::vector<facesr::TensorToWrite> records;
  for (const auto& r : view.tensors) records.push_back({r.name, r.dtype, r.shape, view.bytes(r)});
  const auto fields = view.metadata;
  auto load_with = [&](const std::string& key, const std::string& json) {
    auto edited = fields;
    edited[key] = json;
    const auto forged = temp_path("forged.safetensors");
    facesr::write_safetensors(forged, edited, records);
    return load_error(forged);
  };
  EXPECT_EQ(load_with("crop_rule", R"({"center_dx":0,"center_dy":0,"side_scale":1.5})"), "");
  for (const auto& [json, needle] : std::vector<std::pair<std::string, std::string>>{
           {R"({"center_dx":0,"center_dy":0,"side_scale":1e9})", "side_scale is 1000000000.0; it must be in [0.5, 4.0]"},
           {R"({"center_dx":0,"center_dy":0,"side_scale":0.01})", "side_scale"},
           {R"({"center_dx":50,"center_dy":0,"side_scale":1.5})", "center_dx is 50"},
           {R"({"center_dx":0,"center_dy":-3.5,"side_scale":1.5})", "center_dy is -3.5"}}) {
    const auto message = load_with("crop_rule", json);
    EXPECT_NE(message.find(needle), std::string::npos) << json << ": " << message;
  }
  nlohmann::json arch = nlohmann::json::parse(fields.at("architecture"));
  for (const auto& [field, value] : std::vector<std::pair<std::string, int>>{
           {"input_size", 0}, {"input_size", 48}, {"output_size", 1 << 30}}) {
    auto edited = arch;
    edited[field] = value;
    const auto message = load_with("architecture", edited.dump());
    EXPECT_NE(message.find("architecture." + field + " is " + std::to_string(value)), std::string::npos) << message;
  }
  // A valid input size of another scale than the tensors': the 4x model has one x2 step fewer.
  auto four = arch;
  four["input_size"] = 64;
  const auto message = load_with("architecture", four.dump());
  EXPECT_NE(message.find("unexpected tensor 'lr_ups.2."), std::string::npos) << message;
}

// Issue 36: the 4x and 2x generators store their scale as input_size and load back as such.
TEST(Weights, ScalesRoundTrip) {
  for (int64_t scale : {2, 4, 8}) {
    torch::manual_seed(3);
    facesr::Generator g(facesr::GeneratorOptions().ngf(4).depth(6).scale(scale));
    const auto path = temp_path("scale.safetensors");
    facesr::save_generator(path, *g, {});
    const auto loaded = facesr::load_generator(path);
    EXPECT_EQ(loaded.metadata.architecture.scale, scale);
    EXPECT_EQ(facesr::input_side(loaded.metadata.architecture), 256 / scale);
    EXPECT_EQ(loaded.generator->options().scale(), scale);
    auto bytes = facesr::read_file_bytes(path);
    auto view = facesr::parse_safetensors(bytes.data(), bytes.size(), path);
    EXPECT_EQ(nlohmann::json::parse(view.metadata.at("architecture"))["input_size"], 256 / scale);
  }
}

// Issue 36: companions (the models for other scales) round-trip; paths and hidden names are refused.
TEST(Weights, CompanionsRoundTripAndMustBePlainFileNames) {
  facesr::ModelMetadata m;
  m.companions = {"facesr-default-4x.safetensors", "facesr-default-2x.safetensors"};
  const auto fields = facesr::to_safetensors_metadata(m);
  EXPECT_EQ(facesr::from_safetensors_metadata(fields, "x").companions, m.companions);
  EXPECT_EQ(facesr::to_safetensors_metadata(facesr::ModelMetadata{}).count("companions"), 0u);
  for (const std::string bad : {R"(["../etc/passwd"])", R"(["a/b.safetensors"])", R"([".hidden"])", R"([""])",
                                R"([1])", R"({"a":1})", R"(["a","b","c","d","e"])"}) {
    auto edited = fields;
    edited["companions"] = bad;
    EXPECT_THROW(facesr::from_safetensors_metadata(edited, "x"), WeightsError) << bad;
  }
}

// Issue 37: a metadata value nested 100,000 levels deep crashed the element (the JSON serializer's
// recursion overflowed the stack); every JSON value is refused past kMaxJsonDepth levels, by name.
TEST(Weights, RefusesDeeplyNestedMetadataWithoutCrashing) {
  auto path = write_edited("deep.safetensors", [](auto&) {});
  auto bytes = facesr::read_file_bytes(path);
  auto view = facesr::parse_safetensors(bytes.data(), bytes.size(), path);
  std::vector<facesr::TensorToWrite> records;
  for (const auto& r : view.tensors) records.push_back({r.name, r.dtype, r.shape, view.bytes(r)});
  for (const char* key : {"training", "evaluation", "crop_rule", "architecture", "companions"}) {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += key == std::string("companions") ? "[" : "{\"a\":";
    deep += "1";
    for (int i = 0; i < 100000; ++i) deep += key == std::string("companions") ? "]" : "}";
    auto edited = view.metadata;
    edited[key] = deep;
    const auto forged = temp_path("deep-forged.safetensors");
    facesr::write_safetensors(forged, edited, records);
    const auto message = load_error(forged);
    EXPECT_NE(message.find(std::string("metadata field '") + key + "' is JSON nested 100000 levels deep"),
              std::string::npos) << message.substr(0, 300);
    EXPECT_NE(message.find(forged), std::string::npos);
  }
  // The safetensors header itself.
  std::string header = "{\"__metadata__\":{\"format\":\"facesr-weights\"},\"x\":";
  for (int i = 0; i < 5000; ++i) header += "[";
  for (int i = 0; i < 5000; ++i) header += "]";
  header += "}";
  std::vector<uint8_t> file(8 + header.size());
  const uint64_t n = header.size();
  std::memcpy(file.data(), &n, 8);
  std::memcpy(file.data() + 8, header.data(), header.size());
  try {
    facesr::parse_safetensors(file.data(), file.size(), "crafted.safetensors");
    ADD_FAILURE() << "a 5000-level header was accepted";
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("nested 5001 levels deep"), std::string::npos) << e.what();
  }
}

// Issue 37: error text quoting what a file holds is valid UTF-8 and short (Python's parse_error
// raised UnicodeDecodeError on the raw bytes of a corrupted header).
TEST(Weights, ErrorTextIsValidUtf8AndShort) {
  auto path = write_edited("utf8.safetensors", [](auto&) {});
  auto bytes = facesr::read_file_bytes(path);
  for (std::size_t i = 200; i < 300 && i < bytes.size(); ++i) bytes[i] = 0xff;
  const auto forged = temp_path("utf8-forged.safetensors");
  {
    std::FILE* f = std::fopen(forged.c_str(), "wb");
    std::fwrite(bytes.data(), 1, bytes.size(), f);
    std::fclose(f);
  }
  const std::string message = load_error(forged);
  ASSERT_FALSE(message.empty());
  EXPECT_LE(message.size(), 2100u);
  EXPECT_EQ(message, facesr::printable_text(message, message.size() + 1)) << "not valid UTF-8: " << message.substr(0, 200);
  EXPECT_EQ(message.find('\xff'), std::string::npos);
  EXPECT_EQ(facesr::printable_text("caf\xc3\xa9 \xff\xfe ok"), "caf\xc3\xa9 \\xff\\xfe ok");
  EXPECT_EQ(facesr::printable_text(std::string(5000, 'a'), 100).size(), 106u);
}

// Issue 22: a directory or a FIFO given as the model: a clear error at once (a FIFO used to block for
// ever in the change to PAUSED).
TEST(Weights, RejectsDirectoriesAndFifos) {
  const auto dir = temp_path("model-dir");
  std::filesystem::create_directories(dir);
  EXPECT_NE(load_error(dir).find("is a directory, not a weights file"), std::string::npos) << load_error(dir);
  const auto fifo = temp_path("model-fifo");
  std::filesystem::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_NE(load_error(fifo).find("is not a regular file"), std::string::npos) << load_error(fifo);
  std::filesystem::remove(fifo);
}

// Crop-rule variants per detector (issue 16: hog and haar boxes frame a face ~1.2x differently) travel
// with the model, are range-checked like the rule, and crop_rule_for picks them.
TEST(Weights, CropRulesThatDifferOnlyByFloatRoundingAreTheSame) {
  const facesr::CropRule rule{-0.027777777777777776, -0.027777777777777776, 1.1851851851851851};
  const facesr::CropRule as_float32{static_cast<float>(rule.center_dx), static_cast<float>(rule.center_dy),
                                    static_cast<float>(rule.side_scale)};
  EXPECT_TRUE(facesr::same_crop_rule(rule, as_float32));
  EXPECT_TRUE(facesr::same_crop_rule(rule, {-0.0277778, -0.0277778, 1.1851852}));  // printed decimals
  EXPECT_FALSE(facesr::same_crop_rule(rule, {rule.center_dx, rule.center_dy, 1.5}));
  EXPECT_FALSE(facesr::same_crop_rule(rule, {rule.center_dx, rule.center_dy + 0.08, rule.side_scale}));
  EXPECT_FALSE(facesr::same_crop_rule(rule, {rule.center_dx + 0.001, rule.center_dy, rule.side_scale}));
}

TEST(Weights, CropRulesPerDetectorRoundTrip) {
  auto g = trained_looking_generator();
  facesr::ModelMetadata metadata;
  metadata.crop_rule = {-0.03, -0.03, 1.185};
  metadata.crop_rule_by_detector["haar"] = {0.0, 0.08, 1.155};
  const auto path = temp_path("by-detector.safetensors");
  facesr::save_generator(path, *g, metadata);
  const auto loaded = facesr::load_generator(path).metadata;
  ASSERT_EQ(loaded.crop_rule_by_detector.size(), 1u);
  EXPECT_DOUBLE_EQ(facesr::crop_rule_for(loaded, "haar").side_scale, 1.155);
  EXPECT_DOUBLE_EQ(facesr::crop_rule_for(loaded, "haar").center_dy, 0.08);
  EXPECT_DOUBLE_EQ(facesr::crop_rule_for(loaded, "hog").side_scale, 1.185);
  EXPECT_DOUBLE_EQ(facesr::crop_rule_for(loaded, "upstream").center_dx, -0.03);

  metadata.crop_rule_by_detector["haar"].side_scale = 1e6;
  facesr::save_generator(path, *g, metadata);
  EXPECT_NE(load_error(path).find("crop_rule.by_detector.haar.side_scale is"), std::string::npos) << load_error(path);
}
