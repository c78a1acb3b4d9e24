// The container layer: every malformed file is rejected with a message naming the problem.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "metadata.h"
#include "safetensors.h"

using facesr::DType;
using facesr::parse_safetensors;
using facesr::WeightsError;
using nlohmann::json;

namespace {

std::vector<uint8_t> make_file(const std::string& header, std::size_t data_bytes) {
  std::vector<uint8_t> bytes(8 + header.size() + data_bytes, 0);
  const uint64_t n = header.size();
  std::memcpy(bytes.data(), &n, 8);
  std::memcpy(bytes.data() + 8, header.data(), header.size());
  return bytes;
}

std::vector<uint8_t> make_file(const json& header, std::size_t data_bytes) {
  return make_file(header.dump(), data_bytes);
}

json two_tensors() {
  return {{"__metadata__", {{"format", "facesr-weights"}}},
          {"a", {{"dtype", "F32"}, {"shape", {2, 2}}, {"data_offsets", {0, 16}}}},
          {"b", {{"dtype", "F16"}, {"shape", {4}}, {"data_offsets", {16, 24}}}}};
}

// Runs the parser and returns the error message ("" when it accepted the file).
std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    parse_safetensors(bytes.data(), bytes.size(), "test.safetensors");
  } catch (const WeightsError& e) {
    EXPECT_EQ(e.kind(), facesr::Error::Kind::ModelFile);
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, AcceptsWellFormedFile) {
  auto bytes = make_file(two_tensors(), 24);
  auto view = parse_safetensors(bytes.data(), bytes.size(), "x");
  ASSERT_EQ(view.tensors.size(), 2u);
  EXPECT_EQ(view.find("b")->dtype, DType::F16);
  EXPECT_EQ(view.find("a")->numel(), 4);
  EXPECT_EQ(view.metadata.at("format"), "facesr-weights");
  EXPECT_EQ(view.find("missing"), nullptr);
}

TEST(Safetensors, RejectsTruncatedFile) {
  std::vector<uint8_t> tiny = {1, 2, 3};
  EXPECT_NE(error_of(tiny).find("too short"), std::string::npos) << error_of(tiny);
  auto bytes = make_file(two_tensors(), 24);
  bytes.resize(bytes.size() - 5);  // data cut short
  EXPECT_NE(error_of(bytes).find("out of range"), std::string::npos) << error_of(bytes);
}

TEST(Safetensors, RejectsHeaderLengthPastEnd) {
  auto bytes = make_file(two_tensors(), 24);
  const uint64_t huge = bytes.size();  // header cannot be as long as the whole file
  std::memcpy(bytes.data(), &huge, 8);
  EXPECT_NE(error_of(bytes).find("runs past the end"), std::string::npos) << error_of(bytes);
  const uint64_t max = ~uint64_t{0};
  std::memcpy(bytes.data(), &max, 8);
  EXPECT_NE(error_of(bytes).find("runs past the end"), std::string::npos);
}

TEST(Safetensors, RejectsBadJson) {
  auto bytes = make_file(std::string("{\"a\": [1, 2"), 0);
  EXPECT_NE(error_of(bytes).find("not valid JSON"), std::string::npos) << error_of(bytes);
  bytes = make_file(std::string("[1, 2]"), 0);
  EXPECT_NE(error_of(bytes).find("not an object"), std::string::npos) << error_of(bytes);
}

TEST(Safetensors, RejectsUnknownDtype) {
  auto header = two_tensors();
  header["b"]["dtype"] = "I64";
  auto message = error_of(make_file(header, 24));
  EXPECT_NE(message.find("unsupported dtype 'I64'"), std::string::npos) << message;
  EXPECT_NE(message.find("'b'"), std::string::npos) << message;
}

TEST(Safetensors, RejectsSizeMismatch) {
  auto header = two_tensors();
  header["a"]["shape"] = {3, 2};  // 24 bytes, but offsets give 16
  auto message = error_of(make_file(header, 24));
  EXPECT_NE(message.find("need 24"), std::string::npos) << message;
}

TEST(Safetensors, RejectsOverlappingOffsets) {
  auto header = two_tensors();
  header["b"]["data_offsets"] = {8, 16};
  header["b"]["shape"] = {4};
  auto message = error_of(make_file(header, 24));
  EXPECT_NE(message.find("overlap"), std::string::npos) << message;
}

TEST(Safetensors, RejectsOutOfRangeOffsets) {
  auto header = two_tensors();
  header["b"]["data_offsets"] = {16, 1ull << 62};
  auto message = error_of(make_file(header, 24));
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
  header["b"]["data_offsets"] = {24, 16};  // reversed
  message = error_of(make_file(header, 24));
  EXPECT_NE(message.find("out of range"), std::string::npos) << message;
  header["b"]["data_offsets"] = {-1, 16};
  message = error_of(make_file(header, 24));
  EXPECT_NE(message.find("data_offsets"), std::string::npos) << message;
}

TEST(Safetensors, RejectsHolesAndTrailingBytes) {
  auto message = error_of(make_file(two_tensors(), 32));
  EXPECT_NE(message.find("no tensor uses"), std::string::npos) << message;
  auto header = two_tensors();
  header["b"]["data_offsets"] = {20, 28};
  message = error_of(make_file(header, 28));
  EXPECT_NE(message.find("hole"), std::string::npos) << message;
}

TEST(Safetensors, RejectsMalformedEntries) {
  auto header = two_tensors();
  header["a"].erase("shape");
  EXPECT_NE(error_of(make_file(header, 24)).find("missing field 'shape'"), std::string::npos);
  header = two_tensors();
  header["a"]["shape"] = {-2, 2};
  EXPECT_NE(error_of(make_file(header, 24)).find("not a dimension"), std::string::npos);
  header = two_tensors();
  header["__metadata__"]["format"] = 3;
  EXPECT_NE(error_of(make_file(header, 24)).find("not a string"), std::string::npos);
  header = two_tensors();
  header["a"]["shape"] = {1u << 31, 1u << 31, 1u << 31};
  EXPECT_NE(error_of(make_file(header, 24)).find("overflow"), std::string::npos);
}

TEST(Safetensors, WriteIsAtomicAndReadable) {
  const auto path = (std::filesystem::temp_directory_path() / "facesr-test-write.safetensors").string();
  const float a[4] = {1, 2, 3, 4};
  const uint16_t b[3] = {7, 8, 9};
  facesr::write_safetensors(path, {{"k", "v"}},
                            {{"a", DType::F32, {2, 2}, a}, {"b", DType::BF16, {3}, b}});
  auto bytes = facesr::read_file_bytes(path);
  auto view = parse_safetensors(bytes.data(), bytes.size(), path);
  EXPECT_EQ(view.metadata.at("k"), "v");
  EXPECT_EQ(std::memcmp(view.bytes(*view.find("a")), a, sizeof a), 0);
  EXPECT_EQ(std::memcmp(view.bytes(*view.find("b")), b, sizeof b), 0);
  EXPECT_EQ((view.data - bytes.data()) % 8, 0) << "data section aligned to 8 bytes";
  for (const auto& entry : std::filesystem::directory_iterator(std::filesystem::temp_directory_path()))
    EXPECT_EQ(entry.path().string().find(path + ".tmp"), std::string::npos) << "temp file left behind";
  std::filesystem::remove(path);
  EXPECT_THROW(facesr::read_file_bytes(path), WeightsError);
}

TEST(Metadata, RoundTripsAndRejectsForeignFiles) {
  facesr::ModelMetadata m;
  m.architecture.ngf = 8;
  m.crop_rule.side_scale = 1.8;
  m.evaluation = R"({"psnr":27.5})";
  m.architecture.residual = true;
  auto back = facesr::from_safetensors_metadata(facesr::to_safetensors_metadata(m), "x");
  EXPECT_EQ(back.architecture.ngf, 8);
  EXPECT_TRUE(back.architecture.residual);
  {
    // Files written before the residual heads existed have no "residual": they are the tanh form.
    auto legacy = facesr::to_safetensors_metadata(m);
    auto arch = json::parse(legacy["architecture"]);
    arch.erase("residual");
    legacy["architecture"] = arch.dump();
    EXPECT_FALSE(facesr::from_safetensors_metadata(legacy, "x").architecture.residual);
  }
  EXPECT_DOUBLE_EQ(back.crop_rule.side_scale, 1.8);
  EXPECT_EQ(json::parse(back.evaluation)["psnr"], 27.5);

  auto fields = facesr::to_safetensors_metadata(m);
  fields.erase("format");
  EXPECT_THROW(facesr::from_safetensors_metadata(fields, "x"), WeightsError);
  fields = facesr::to_safetensors_metadata(m);
  fields["architecture"] = "{\"name\":\"facesr-generator\"}";
  try {
    facesr::from_safetensors_metadata(fields, "x");
    FAIL();
  } catch (const WeightsError& e) {
    EXPECT_NE(std::string(e.what()).find("lacks 'ngf'"), std::string::npos) << e.what();
  }
  fields = facesr::to_safetensors_metadata(m);
  fields["format_version"] = "99";
  EXPECT_THROW(facesr::from_safetensors_metadata(fields, "x"), WeightsError);
}
