// model/state_dict_file.h on the three layouts a user's .pth can have (fixtures written by Python's
// torch.save with tests/fixtures/make_torch_save_fixtures.py, committed next to it), on
// torch::pickle_save output, and on broken files.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include <torch/torch.h>

#include "safetensors.h"
#include "state_dict_file.h"

namespace fs = std::filesystem;

namespace {

const std::string kFixtures = FACESR_FIXTURES_DIR;
const std::string kExpected = "a test state dict";

std::vector<char> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::vector<char>((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

std::string write_bytes(const std::string& name, const std::vector<char>& bytes) {
  const auto path = (fs::temp_directory_path() / ("facesr-test-state-dict-" + name)).string();
  std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return path;
}

// The error message of read_state_dict_file(path), or "" when it succeeds.
std::string error_of(const std::string& path) {
  try {
    facesr::read_state_dict_file(path, kExpected);
  } catch (const facesr::WeightsError& e) {
    return e.what();
  }
  return "";
}

// What make_torch_save_fixtures.py stores.
void expect_fixture_values(const std::map<std::string, at::Tensor>& sd) {
  ASSERT_EQ(sd.size(), 8u);
  EXPECT_TRUE(torch::equal(sd.at("conv.weight"), torch::arange(12, torch::kFloat32).view({3, 2, 1, 2}) / 4));
  EXPECT_TRUE(torch::equal(sd.at("bn.weight"), torch::tensor({1.0f, 2.0f, 3.0f})));
  EXPECT_TRUE(torch::equal(sd.at("bn.bias"), torch::tensor({-1.0f, 0.0f, 1.0f})));
  EXPECT_TRUE(torch::equal(sd.at("bn.running_mean"), torch::tensor({0.5f, 0.25f, 0.125f})));
  EXPECT_TRUE(torch::equal(sd.at("bn.running_var"), torch::tensor({4.0f, 9.0f, 16.0f})));
  const auto& tracked = sd.at("bn.num_batches_tracked");
  EXPECT_EQ(tracked.scalar_type(), torch::kLong);
  EXPECT_EQ(tracked.dim(), 0);
  EXPECT_EQ(tracked.item<int64_t>(), 7);
  // A strided view at an offset into a 4x5 float64 storage: rows 1..2, columns 1 and 3.
  const auto& view = sd.at("view");
  EXPECT_EQ(view.scalar_type(), torch::kDouble);
  EXPECT_TRUE(torch::equal(view, torch::tensor({{6.0, 8.0}, {11.0, 13.0}}, torch::kDouble)));
  EXPECT_TRUE(view.is_contiguous());
  EXPECT_TRUE(torch::equal(sd.at("half"), torch::tensor({0.5, -2.0}).to(torch::kHalf)));
}

}  // namespace

TEST(StateDictFile, ReadsTorchSaveZip) {
  expect_fixture_values(facesr::read_state_dict_file(kFixtures + "/state-dict-zip.pth", kExpected));
}

TEST(StateDictFile, ReadsTorchSaveZipPickleProtocol4) {
  expect_fixture_values(facesr::read_state_dict_file(kFixtures + "/state-dict-zip-p4.pth", kExpected));
}

TEST(StateDictFile, ReadsTheLegacyFormatOfFilesSavedBeforePyTorch16) {
  expect_fixture_values(facesr::read_state_dict_file(kFixtures + "/state-dict-legacy.pth", kExpected));
}

// torch::pickle_load itself cannot read a real torch.save'd state dict (its OrderedDict becomes None):
// the reason this reader exists. If a LibTorch upgrade fixes that, this test says so.
TEST(StateDictFile, TorchPickleLoadCannotReadAnOrderedDictStateDict) {
  EXPECT_ANY_THROW(torch::pickle_load(read_bytes(kFixtures + "/state-dict-zip.pth")));
}

TEST(StateDictFile, ReadsTorchPickleSaveOutput) {
  c10::Dict<std::string, at::Tensor> dict;
  dict.insert("a", torch::arange(6, torch::kFloat32).view({2, 3}));
  dict.insert("b", torch::ones({4}, torch::kFloat64).slice(0, 1, 4, 2));
  const auto path = write_bytes("pickle-save.pth", torch::pickle_save(c10::IValue(dict)));
  const auto sd = facesr::read_state_dict_file(path, kExpected);
  ASSERT_EQ(sd.size(), 2u);
  EXPECT_TRUE(torch::equal(sd.at("a"), torch::arange(6, torch::kFloat32).view({2, 3})));
  EXPECT_TRUE(torch::equal(sd.at("b"), torch::ones({2}, torch::kFloat64)));
}

TEST(StateDictFile, BrokenFilesFailWithAMessageNamingTheFile) {
  auto legacy = read_bytes(kFixtures + "/state-dict-legacy.pth");
  legacy.resize(legacy.size() - 9);
  const auto truncated = write_bytes("truncated.pth", legacy);
  EXPECT_NE(error_of(truncated).find(truncated + ": storage"), std::string::npos) << error_of(truncated);
  EXPECT_NE(error_of(truncated).find("truncated"), std::string::npos) << error_of(truncated);

  const auto text = write_bytes("text.pth", {'h', 'e', 'l', 'l', 'o'});
  EXPECT_NE(error_of(text).find(text + ": not a torch.save file (expected a test state dict)"), std::string::npos)
      << error_of(text);

  const auto missing = (fs::temp_directory_path() / "facesr-test-state-dict-missing.pth").string();
  EXPECT_NE(error_of(missing).find(missing), std::string::npos) << error_of(missing);

  const auto tensor = write_bytes("tensor.pth", torch::pickle_save(torch::ones({2})));
  EXPECT_NE(error_of(tensor).find("holds a tensor, not a state dict (expected a test state dict)"), std::string::npos)
      << error_of(tensor);

  // A pickle that would call os.system: refused by name, nothing executed.
  const char evil_pickle[] = "\x80\x02" "cos\nsystem\n" "X\x04\x00\x00\x00true" "\x85R.";
  const std::string evil(evil_pickle, sizeof evil_pickle - 1);
  const auto evil_path = write_bytes("evil.pth", std::vector<char>(evil.begin(), evil.end()));
  EXPECT_NE(error_of(evil_path).find("os.system"), std::string::npos) << error_of(evil_path);
}
