// FID's Inception-V3 (training/inception.h): pytorch-fid's state-dict keys load strictly, bad files
// fail naming the key, features are N x 2048, and the network computes what pytorch-fid computes
// (reference numbers from tests/fixtures/fid_inception_reference.py, which builds pytorch-fid's
// network from torchvision's Inception3 in Python).
#include <gtest/gtest.h>

#include <filesystem>

#include "inception.h"
#include "inception_fixture.h"
#include "safetensors.h"

namespace fs = std::filesystem;
using facesr::test_data::InceptionValues;

namespace {

std::string temp_path(const std::string& name) {
  return (fs::temp_directory_path() / ("facesr-test-inception-" + name)).string();
}

// The message load_fid_inception_weights gives for `dict`, or "" when it loads.
std::string load_error(const c10::Dict<std::string, at::Tensor>& dict, const std::string& name) {
  const auto path = temp_path(name);
  facesr::test_data::save_state_dict(dict, path);
  facesr::FidInceptionV3 net;
  try {
    facesr::load_fid_inception_weights(*net, path);
  } catch (const facesr::WeightsError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

// torchvision's Inception3(num_classes=1008, aux_logits=False) state dict, as pytorch-fid loads it, has
// 566 keys, 94 of them num_batches_tracked (printed by fid_inception_reference.py).
TEST(FidInception, HasPytorchFidsKeys) {
  const auto dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random);
  EXPECT_EQ(dict.size(), 566u);
  facesr::FidInceptionV3 net;
  std::map<std::string, std::vector<int64_t>> mine;
  for (const auto& p : net->named_parameters()) mine[p.key()] = p.value().sizes().vec();
  for (const auto& b : net->named_buffers()) mine[b.key()] = b.value().sizes().vec();
  EXPECT_EQ(mine.size(), 566u - 2u) << "all but fc.weight and fc.bias";
  const std::map<std::string, std::vector<int64_t>> spot = {
      {"Conv2d_1a_3x3.conv.weight", {32, 3, 3, 3}},
      {"Conv2d_1a_3x3.bn.running_mean", {32}},
      {"Mixed_5b.branch1x1.conv.weight", {64, 192, 1, 1}},
      {"Mixed_5b.branch_pool.conv.weight", {32, 192, 1, 1}},
      {"Mixed_6a.branch3x3.conv.weight", {384, 288, 3, 3}},
      {"Mixed_6e.branch7x7dbl_5.conv.weight", {192, 192, 1, 7}},
      {"Mixed_7a.branch7x7x3_3.conv.weight", {192, 192, 7, 1}},
      {"Mixed_7c.branch3x3dbl_3b.conv.weight", {384, 384, 3, 1}},
      {"Mixed_7c.branch_pool.bn.running_var", {192}},
  };
  for (const auto& [key, shape] : spot) {
    ASSERT_TRUE(mine.count(key)) << key;
    EXPECT_EQ(mine[key], shape) << key;
  }
}

TEST(FidInception, RandomStateDictLoads) {
  const auto dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random, 5);
  const auto path = temp_path("random.pth");
  facesr::test_data::save_state_dict(dict, path);
  facesr::FidInceptionV3 net;
  facesr::load_fid_inception_weights(*net, path);
  EXPECT_FALSE(net->is_training());
  const auto params = net->named_parameters();
  const auto buffers = net->named_buffers();
  EXPECT_TRUE(torch::equal(params["Mixed_7c.branch_pool.conv.weight"], dict.at("Mixed_7c.branch_pool.conv.weight")));
  EXPECT_TRUE(torch::equal(buffers["Mixed_6b.branch7x7_2.bn.running_var"], dict.at("Mixed_6b.branch7x7_2.bn.running_var")));
  EXPECT_FALSE(params["Conv2d_1a_3x3.conv.weight"].requires_grad());
}

TEST(FidInception, MissingKeyWrongShapeOrForeignKeyFailNamingIt) {
  auto dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random);
  ASSERT_EQ(dict.erase("Mixed_6e.branch7x7dbl_5.bn.running_var"), 1u);
  std::string error = load_error(dict, "missing.pth");
  EXPECT_NE(error.find("missing 'Mixed_6e.branch7x7dbl_5.bn.running_var'"), std::string::npos) << error;
  EXPECT_NE(error.find("pt_inception-2015-12-05-6726825d.pth"), std::string::npos) << error;

  dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random);
  dict.insert_or_assign("Mixed_5b.branch5x5_2.conv.weight", torch::zeros({64, 48, 3, 3}));
  error = load_error(dict, "shape.pth");
  EXPECT_NE(error.find("'Mixed_5b.branch5x5_2.conv.weight' has shape [64, 48, 3, 3]"), std::string::npos) << error;
  EXPECT_NE(error.find("needs [64, 48, 5, 5]"), std::string::npos) << error;

  dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random);
  dict.insert("Mixed_8a.conv.weight", torch::zeros({1}));
  error = load_error(dict, "extra.pth");
  EXPECT_NE(error.find("unexpected key 'Mixed_8a.conv.weight'"), std::string::npos) << error;

  dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random);
  dict.insert("AuxLogits.fc.weight", torch::zeros({1000, 768}));
  error = load_error(dict, "torchvision.pth");
  EXPECT_NE(error.find("torchvision's ImageNet Inception-V3"), std::string::npos) << error;

  dict = facesr::test_data::inception_test_state_dict(InceptionValues::Random);
  dict.insert_or_assign("fc.weight", torch::zeros({1000, 2048}));
  error = load_error(dict, "classes.pth");
  EXPECT_NE(error.find("'fc.weight' has shape [1000, 2048]"), std::string::npos) << error;
}

TEST(FidInception, GivesN2048FeaturesIndependentOfTheBatch) {
  at::set_num_threads(2);
  const auto path = temp_path("features.pth");
  facesr::test_data::save_state_dict(facesr::test_data::inception_test_state_dict(InceptionValues::Random, 3), path);
  facesr::FidInceptionV3 net;
  facesr::load_fid_inception_weights(*net, path);
  torch::NoGradGuard no_grad;
  const auto images = torch::rand({3, 3, 256, 256}) * 2 - 1;
  const auto features = net->forward(images);
  ASSERT_EQ(features.sizes(), (std::vector<int64_t>{3, facesr::kFidFeatures}));
  EXPECT_EQ(features.scalar_type(), torch::kFloat32);
  EXPECT_TRUE(torch::isfinite(features).all().item<bool>());
  EXPECT_GT(features.abs().sum().item<double>(), 0.0);
  EXPECT_TRUE(torch::allclose(net->forward(images.slice(0, 1, 2)), features.slice(0, 1, 2), 1e-4, 1e-5));
  EXPECT_THROW(net->forward(torch::zeros({1, 1, 64, 64})), std::invalid_argument);
}

// The same weights and images through pytorch-fid's network built from torchvision in Python
// (tests/fixtures/fid_inception_reference.py, PyTorch 1.13.1 / torchvision 0.14.1) gave, for image 0
// and image 1: nonzero features, sum, sum of squares, features[2], features[3]. A wrong pool (torchvision's
// unpatched blocks: sum 293.3; an average pool in Mixed_7c: 317.5) or a misplaced layer does not match.
TEST(FidInception, MatchesPytorchFidOnPatternWeights) {
  at::set_num_threads(2);
  const auto path = temp_path("pattern.pth");
  facesr::test_data::save_state_dict(facesr::test_data::inception_test_state_dict(InceptionValues::Pattern), path);
  facesr::FidInceptionV3 net;
  facesr::load_fid_inception_weights(*net, path);
  torch::NoGradGuard no_grad;
  const auto f = net->forward(facesr::test_data::inception_test_images(2, 256)).to(torch::kFloat64);
  struct Reference {
    int64_t nonzero;
    double sum, sum_of_squares, f2, f3;
  };
  const Reference reference[2] = {{1261, 325.082794, 238.773923, 0.7146103978157043, 0.6955375075340271},
                                  {1260, 325.79686, 240.202332, 0.7177038788795471, 0.6959545612335205}};
  for (int64_t n = 0; n < 2; ++n) {
    const auto& r = reference[n];
    const auto row = f[n];
    EXPECT_NEAR(row.ne(0).sum().item<int64_t>(), r.nonzero, 3) << "image " << n;
    EXPECT_NEAR(row.sum().item<double>(), r.sum, 1e-3) << "image " << n;
    EXPECT_NEAR(row.pow(2).sum().item<double>(), r.sum_of_squares, 1e-3) << "image " << n;
    EXPECT_NEAR(row[2].item<double>(), r.f2, 1e-5) << "image " << n;
    EXPECT_NEAR(row[3].item<double>(), r.f3, 1e-5) << "image " << n;
  }
}
