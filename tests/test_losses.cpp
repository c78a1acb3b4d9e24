// Discriminators, LSGAN and pixel losses, and the VGG-19 perceptual network with torchvision weights.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "discriminator.h"
#include "losses.h"
#include "vgg19.h"

TEST(Discriminator, GlobalAndLocalGivePatchScores) {
  auto global = facesr::make_global_discriminator(8);
  auto local = facesr::make_local_discriminator(8);
  int convs = 0;
  for (const auto& m : global->modules(false))
    if (m->as<torch::nn::Conv2dImpl>()) ++convs;
  EXPECT_EQ(convs, 7);
  auto g = global->forward(torch::randn({2, 6, 256, 256}));
  auto l = local->forward(torch::randn({2, 3, 256, 256}));
  EXPECT_EQ(g.sizes(), (std::vector<int64_t>{2, 1, 6, 6}));
  EXPECT_EQ(l.sizes(), g.sizes());
  EXPECT_THROW(global->forward(torch::randn({1, 3, 256, 256})), std::invalid_argument);
  // Unbounded scores: no sigmoid at the end.
  EXPECT_GT((g.abs() > 1.0).sum().item<int64_t>() + (g < 0).sum().item<int64_t>(), 0);
}

TEST(Losses, LsganValues) {
  auto ones = torch::ones({2, 1, 4, 4}), zeros = torch::zeros({2, 1, 4, 4});
  EXPECT_DOUBLE_EQ(facesr::lsgan_discriminator_loss(ones, zeros).item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(facesr::lsgan_discriminator_loss(zeros, ones).item<double>(), 1.0);
  EXPECT_DOUBLE_EQ(facesr::lsgan_generator_loss(ones).item<double>(), 0.0);
  EXPECT_DOUBLE_EQ(facesr::lsgan_generator_loss(zeros).item<double>(), 0.5);
}

TEST(Losses, PixelLossTermsAndMask) {
  auto target = torch::zeros({1, 3, 256, 256});
  auto output = torch::zeros({1, 3, 256, 256});
  output.index_put_({0, torch::indexing::Slice(), torch::indexing::Slice(0, 128)}, 1.0);  // top half off by 1
  auto top_mask = torch::zeros({1, 1, 256, 256});
  top_mask.index_put_({0, 0, torch::indexing::Slice(0, 128)}, 1.0);
  auto loss = facesr::pixel_loss(output, target, target, target, top_mask);
  EXPECT_NEAR(loss.sharp.item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(loss.masked.item<double>(), 0.5, 1e-6);
  EXPECT_NEAR(loss.blurred.item<double>(), 0.0, 1e-6);
  EXPECT_NEAR(loss.total.item<double>(), 1.0, 1e-6);
  auto masked_away = facesr::pixel_loss(output, target, target, target, 1 - top_mask);
  EXPECT_NEAR(masked_away.masked.item<double>(), 0.0, 1e-6);
}

// forward_features: one activation per LeakyReLU (6 at 7 layers), the patch scores last, the same
// scores forward gives; feature matching is 0 for the same input, positive for another, and its
// gradient reaches only the fake side.
TEST(Losses, FeatureMatchingComparesTheDiscriminatorsFeatures) {
  torch::manual_seed(3);
  auto d = facesr::make_local_discriminator(8);
  d->eval();  // batch norm with running statistics: the same input gives the same features
  const auto real = torch::rand({2, 3, 256, 256}) * 2 - 1;
  const auto real_features = d->forward_features(real);
  ASSERT_EQ(real_features.size(), 7u);
  EXPECT_EQ(real_features.front().sizes(), (std::vector<int64_t>{2, 8, 128, 128}));
  EXPECT_TRUE(torch::allclose(real_features.back(), d->forward(real)));
  EXPECT_NEAR(facesr::feature_matching_loss(d->forward_features(real), real_features).item<double>(), 0.0, 1e-7);

  auto fake = (real + 0.5 * torch::randn_like(real)).clamp(-1, 1).requires_grad_(true);
  auto loss = facesr::feature_matching_loss(d->forward_features(fake), real_features);
  EXPECT_GT(loss.item<double>(), 1e-3);
  loss.backward();
  ASSERT_TRUE(fake.grad().defined());
  EXPECT_GT(fake.grad().abs().sum().item<double>(), 0.0);
  for (const auto& f : real_features) EXPECT_FALSE(f.grad().defined()) << "the real side is a constant";
  EXPECT_THROW(facesr::feature_matching_loss({real_features.back()}, {real_features.back()}), std::invalid_argument);
}

TEST(Vgg19, TorchvisionStateDictLoadsAndGivesPoolFeatures) {
  // A random state dict in torchvision's layout (features.N.* plus classifier keys the loader ignores),
  // saved the way torch.save does.
  torch::manual_seed(2);
  facesr::Vgg19Features reference;
  c10::Dict<std::string, torch::Tensor> state;
  for (const auto& p : reference->named_parameters()) state.insert(p.key(), torch::randn(p.value().sizes()) * 0.05);
  state.insert("classifier.0.weight", torch::randn({8, 8}));
  EXPECT_EQ(state.size(), 33u);
  const auto path = (std::filesystem::temp_directory_path() / "facesr-test-vgg19.pth").string();
  {
    auto bytes = torch::pickle_save(c10::IValue(state));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  facesr::Vgg19Features vgg;
  facesr::load_vgg19_weights(*vgg, path);
  for (const auto& p : vgg->named_parameters()) {
    EXPECT_TRUE(torch::equal(p.value(), state.at(p.key()))) << p.key();
    EXPECT_FALSE(p.value().requires_grad());
  }
  auto features = vgg->forward(torch::rand({2, 3, 256, 256}) * 2 - 1);
  ASSERT_EQ(features.size(), 5u);
  const int64_t channels[] = {64, 128, 256, 512, 512};
  for (int i = 0; i < 5; ++i)
    EXPECT_EQ(features[i].sizes(), (std::vector<int64_t>{2, channels[i], 128 >> i, 128 >> i}));

  auto x = torch::rand({1, 3, 64, 64}) * 2 - 1;
  EXPECT_DOUBLE_EQ(facesr::perceptual_loss(*vgg, x, x).item<double>(), 0.0);
  EXPECT_GT(facesr::perceptual_loss(*vgg, x, -x).item<double>(), 0.0);

  // A state dict that lacks a layer is named in the error.
  ASSERT_EQ(state.erase("features.34.weight"), 1u);
  {
    auto bytes = torch::pickle_save(c10::IValue(state));
    std::ofstream(path, std::ios::binary).write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  }
  try {
    facesr::load_vgg19_weights(*vgg, path);
    FAIL() << "loaded a state dict without features.34.weight";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("features.34.weight"), std::string::npos) << e.what();
  }
  std::ofstream(path, std::ios::binary) << "not a pickle";
  EXPECT_THROW(facesr::load_vgg19_weights(*vgg, path), std::runtime_error);
  std::filesystem::remove(path);
}
