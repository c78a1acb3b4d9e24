// PSNR, SSIM (Y channel, Wang et al. 2004) and the Frechet distance (training/metrics.h).
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

#include "metrics.h"

namespace {

// [0, 255] values -> the project's [-1, 1] tensors.
torch::Tensor from_8bit(const torch::Tensor& t) { return t.to(torch::kFloat64) / 127.5 - 1.0; }

torch::Tensor random_image(int64_t n, int64_t size, uint64_t seed) {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(seed);
  // Smooth structure plus texture, like a photo, in [-1, 1].
  auto coarse = torch::rand({n, 3, size / 8, size / 8}, rng, torch::kFloat64);
  namespace F = torch::nn::functional;
  auto up = F::interpolate(coarse, F::InterpolateFuncOptions()
                                       .size(std::vector<int64_t>{size, size})
                                       .mode(torch::kBilinear)
                                       .align_corners(false));
  auto fine = torch::rand({n, 3, size, size}, rng, torch::kFloat64);
  return (0.8 * up + 0.2 * fine) * 2.0 - 1.0;
}

double luma(double r, double g, double b) {  // 8-bit RGB -> BT.601 Y
  return 16.0 + (65.481 * r + 128.553 * g + 24.966 * b) / 255.0;
}

// A random SPD matrix D x D with eigenvalues spread over [0.1, 2].
torch::Tensor random_spd(int64_t d, uint64_t seed) {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto q = std::get<0>(at::linalg_qr(torch::randn({d, d}, rng, torch::kFloat64)));
  auto values = torch::rand({d}, rng, torch::kFloat64) * 1.9 + 0.1;
  return torch::matmul(q * values.unsqueeze(0), q.transpose(0, 1));
}

}  // namespace

TEST(Psnr, MatchesMseFormula) {
  // Image 0 differs by 10 levels everywhere (MSE 100); image 1 by 20 levels on a quarter of the
  // pixels of one channel (MSE 400 / 12); image 2 by 2 levels everywhere (MSE 4).
  auto base = torch::full({3, 3, 16, 16}, 100.0, torch::kFloat64);
  auto other = base.clone();
  other[0] += 10.0;
  other[1][1].index_put_({torch::indexing::Slice(0, 8), torch::indexing::Slice(0, 8)}, 120.0);
  other[2] -= 2.0;
  auto values = facesr::psnr(from_8bit(base), from_8bit(other));
  ASSERT_EQ(values.sizes(), (std::vector<int64_t>{3}));
  const double mse[] = {100.0, 400.0 / 12.0, 4.0};
  for (int i = 0; i < 3; ++i)
    EXPECT_NEAR(values[i].item<double>(), 10.0 * std::log10(255.0 * 255.0 / mse[i]), 1e-9) << i;
  // Float32 inputs give the same figure to float precision.
  EXPECT_NEAR(facesr::psnr(from_8bit(base).to(torch::kFloat32), from_8bit(other).to(torch::kFloat32))[0]
                  .item<double>(),
              10.0 * std::log10(255.0 * 255.0 / 100.0), 1e-3);
}

TEST(Psnr, IdenticalImagesAreInfinite) {
  auto image = random_image(2, 32, 1);
  auto values = facesr::psnr(image, image);
  EXPECT_TRUE(std::isinf(values[0].item<double>()) && values[0].item<double>() > 0);
  EXPECT_TRUE(std::isinf(values[1].item<double>()) && values[1].item<double>() > 0);
}

TEST(Psnr, LumaVariantUsesY) {
  // Pure red difference of 51 levels: Y changes by 65.481 * 51 / 255.
  auto a = torch::zeros({1, 3, 16, 16}, torch::kFloat64);
  auto b = a.clone();
  b[0][0] += 51.0;
  const double dy = 65.481 * 51.0 / 255.0;
  EXPECT_NEAR(facesr::psnr(from_8bit(a), from_8bit(b), facesr::MetricChannels::Luma)[0].item<double>(),
              10.0 * std::log10(255.0 * 255.0 / (dy * dy)), 1e-9);
  EXPECT_THROW(facesr::psnr(from_8bit(a), from_8bit(b).narrow(2, 0, 8)), std::invalid_argument);
}

TEST(Ssim, IdenticalImagesGiveOne) {
  auto image = random_image(2, 64, 2);
  auto values = facesr::ssim(image, image);
  ASSERT_EQ(values.sizes(), (std::vector<int64_t>{2}));
  EXPECT_NEAR(values[0].item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(values[1].item<double>(), 1.0, 1e-9);
  EXPECT_NEAR(facesr::ssim(image, image, facesr::MetricChannels::Rgb)[0].item<double>(), 1.0, 1e-9);
}

TEST(Ssim, ConstantImagesMatchClosedFormOnY) {
  // Constant images: variances and covariance vanish, SSIM = (2 mu_a mu_b + C1) / (mu_a^2 + mu_b^2 + C1).
  const double ra = 200, ga = 150, ba = 90, rb = 60, gb = 80, bb = 100;
  auto a = torch::empty({1, 3, 24, 24}, torch::kFloat64);
  auto b = torch::empty_like(a);
  a[0][0] = ra, a[0][1] = ga, a[0][2] = ba;
  b[0][0] = rb, b[0][1] = gb, b[0][2] = bb;
  const double ya = luma(ra, ga, ba), yb = luma(rb, gb, bb);
  const double c1 = std::pow(0.01 * 255.0, 2);
  const double expected = (2 * ya * yb + c1) / (ya * ya + yb * yb + c1);
  EXPECT_NEAR(facesr::ssim(from_8bit(a), from_8bit(b))[0].item<double>(), expected, 1e-9);
  // RGB variant: the mean of the per-channel closed forms.
  auto one = [&](double x, double y) { return (2 * x * y + c1) / (x * x + y * y + c1); };
  const double rgb = (one(ra, rb) + one(ga, gb) + one(ba, bb)) / 3.0;
  EXPECT_NEAR(facesr::ssim(from_8bit(a), from_8bit(b), facesr::MetricChannels::Rgb)[0].item<double>(),
              rgb, 1e-9);
}

TEST(Ssim, DecreasesWithNoise) {
  auto image = random_image(1, 64, 3);
  auto rng = at::make_generator<at::CPUGeneratorImpl>(4);
  auto noise = torch::randn(image.sizes(), rng, torch::kFloat64);
  double previous = 1.0;
  for (double sigma : {0.02, 0.05, 0.1, 0.3}) {
    auto noisy = (image + sigma * noise).clamp(-1.0, 1.0);
    const double value = facesr::ssim(image, noisy)[0].item<double>();
    EXPECT_LT(value, previous) << "sigma " << sigma;
    previous = value;
  }
  EXPECT_LT(previous, 0.5);
}

TEST(Ssim, SingleValidWindowMatchesHandComputation) {
  // An 11 x 11 image has exactly one 'valid' window: SSIM is the formula on Gaussian-weighted
  // (sigma 1.5) statistics of the whole Y image. Padding ('same' filtering) would average other values.
  auto a = random_image(1, 16, 5).narrow(2, 0, 11).narrow(3, 0, 11).contiguous();
  auto b = random_image(1, 16, 6).narrow(2, 0, 11).narrow(3, 0, 11).contiguous();
  auto y = [](const torch::Tensor& img) {
    auto rgb = (img[0] + 1.0) * 127.5;
    return 16.0 + (65.481 * rgb[0] + 128.553 * rgb[1] + 24.966 * rgb[2]) / 255.0;
  };
  auto ya = y(a), yb = y(b);
  auto taps = torch::arange(11, torch::kFloat64) - 5.0;
  auto g = torch::exp(-taps * taps / (2.0 * 1.5 * 1.5));
  auto w = torch::outer(g, g) / torch::outer(g, g).sum();
  const double ma = (w * ya).sum().item<double>(), mb = (w * yb).sum().item<double>();
  const double va = (w * ya * ya).sum().item<double>() - ma * ma;
  const double vb = (w * yb * yb).sum().item<double>() - mb * mb;
  const double cov = (w * ya * yb).sum().item<double>() - ma * mb;
  const double c1 = std::pow(0.01 * 255.0, 2), c2 = std::pow(0.03 * 255.0, 2);
  const double expected = ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2));
  EXPECT_NEAR(facesr::ssim(a, b)[0].item<double>(), expected, 1e-9);
  EXPECT_LT(expected, 0.9);
}

TEST(Ssim, RejectsBadShapes) {
  auto a = random_image(1, 16, 5);
  EXPECT_THROW(facesr::ssim(random_image(1, 8, 1), random_image(1, 8, 2)), std::invalid_argument);
  EXPECT_THROW(facesr::ssim(a, a.narrow(1, 0, 1)), std::invalid_argument);
  EXPECT_THROW(facesr::ssim(a.narrow(1, 0, 1), a.narrow(1, 0, 1)), std::invalid_argument);
}

// Sharpness as the truth has it: the truth itself scores 1, a blurred copy less, more blur less
// still; a flat image has no high-frequency energy.
TEST(Sharpness, TruthIsOneAndBlurLowersIt) {
  torch::manual_seed(5);
  const auto truth = torch::rand({2, 3, 64, 64}) * 2 - 1;
  auto box_blur = [](const torch::Tensor& x, int64_t k) {
    return torch::avg_pool2d(x, k, 1, k / 2, /*ceil_mode=*/false, /*count_include_pad=*/false);
  };
  const auto one = facesr::sharpness_ratio(truth, truth);
  EXPECT_TRUE(torch::allclose(one, torch::ones({2}, torch::kFloat64))) << one;
  const double mild = facesr::sharpness_ratio(box_blur(truth, 3), truth).mean().item<double>();
  const double strong = facesr::sharpness_ratio(box_blur(truth, 7), truth).mean().item<double>();
  EXPECT_LT(mild, 0.5);
  EXPECT_LT(strong, mild);
  EXPECT_EQ(facesr::high_frequency_energy(torch::zeros({1, 3, 8, 8}))[0].item<double>(), 0.0);
  EXPECT_THROW(facesr::sharpness_ratio(truth, truth.slice(2, 0, 32)), std::invalid_argument);
}

TEST(Frechet, IdenticalGaussiansGiveZero) {
  auto sigma = random_spd(16, 6);
  auto mu = torch::linspace(-1.0, 1.0, 16, torch::kFloat64);
  EXPECT_NEAR(facesr::frechet_distance(mu, sigma, mu, sigma), 0.0, 1e-6);
  // Singular covariance (rank 3 of 16), as with fewer samples than dimensions.
  auto rng = at::make_generator<at::CPUGeneratorImpl>(7);
  auto x = torch::randn({4, 16}, rng, torch::kFloat64);
  auto stats = facesr::gaussian_stats(x);
  EXPECT_NEAR(facesr::frechet_distance(stats.mean, stats.covariance, stats.mean, stats.covariance), 0.0,
              1e-6);
}

TEST(Frechet, DiagonalCovariancesMatchClosedForm) {
  auto mu1 = torch::tensor({0.0, 1.0, -2.0, 0.5}, torch::kFloat64);
  auto mu2 = torch::tensor({1.0, 1.0, 0.0, -0.5}, torch::kFloat64);
  const double s1[] = {1.0, 4.0, 0.25, 2.0}, s2[] = {9.0, 1.0, 0.25, 0.5};
  double expected = 1.0 + 0.0 + 4.0 + 1.0;
  for (int i = 0; i < 4; ++i) expected += s1[i] + s2[i] - 2.0 * std::sqrt(s1[i] * s2[i]);
  auto sigma1 = torch::diag(torch::tensor({1.0, 4.0, 0.25, 2.0}, torch::kFloat64));
  auto sigma2 = torch::diag(torch::tensor({9.0, 1.0, 0.25, 0.5}, torch::kFloat64));
  EXPECT_NEAR(facesr::frechet_distance(mu1, sigma1, mu2, sigma2), expected, 1e-9);
}

TEST(Frechet, NonCommutingCovariancesAndSymmetry) {
  // 2 x 2: Tr sqrt(S1 S2) = sqrt(Tr(S1 S2) + 2 sqrt(det S1 det S2)) (S1 S2 has non-negative eigenvalues).
  auto s1 = torch::tensor({{2.0, 0.8}, {0.8, 1.0}}, torch::kFloat64);
  auto s2 = torch::tensor({{0.5, -0.3}, {-0.3, 3.0}}, torch::kFloat64);
  auto mu = torch::zeros({2}, torch::kFloat64);
  const double tr_product = torch::matmul(s1, s2).trace().item<double>();
  const double dets = torch::det(s1).item<double>() * torch::det(s2).item<double>();
  const double expected = s1.trace().item<double>() + s2.trace().item<double>() -
                          2.0 * std::sqrt(tr_product + 2.0 * std::sqrt(dets));
  EXPECT_NEAR(facesr::frechet_distance(mu, s1, mu, s2), expected, 1e-9);
  // Symmetric in its arguments, also in higher dimension.
  auto a = random_spd(32, 8), b = random_spd(32, 9);
  auto m1 = torch::zeros({32}, torch::kFloat64), m2 = torch::ones({32}, torch::kFloat64) * 0.1;
  const double ab = facesr::frechet_distance(m1, a, m2, b), ba = facesr::frechet_distance(m2, b, m1, a);
  EXPECT_GT(ab, 0.1);
  EXPECT_NEAR(ab, ba, 1e-9 * std::max(1.0, ab));
  // Float32 statistics are accepted and give the same value.
  EXPECT_NEAR(facesr::frechet_distance(m1.to(torch::kFloat32), a.to(torch::kFloat32), m2, b), ab, 1e-4);
}

TEST(Frechet, GaussianStatsAndShapeChecks) {
  auto x = torch::tensor({{1.0, 2.0}, {3.0, 2.0}, {5.0, 8.0}}, torch::kFloat64);
  auto stats = facesr::gaussian_stats(x);
  EXPECT_TRUE(torch::allclose(stats.mean, torch::tensor({3.0, 4.0}, torch::kFloat64)));
  // Unbiased covariance: x var (4 + 0 + 4) / 2 = 4, y var (4 + 4 + 16) / 2 = 12, cov (4 + 0 + 8) / 2 = 6.
  EXPECT_TRUE(torch::allclose(stats.covariance, torch::tensor({{4.0, 6.0}, {6.0, 12.0}}, torch::kFloat64)));
  auto mu = torch::zeros({3}, torch::kFloat64);
  auto sigma = torch::eye(3, torch::kFloat64);
  EXPECT_THROW(facesr::frechet_distance(mu, torch::eye(2, torch::kFloat64), mu, sigma), std::invalid_argument);
  EXPECT_THROW(facesr::frechet_distance(mu, sigma, torch::zeros({2}, torch::kFloat64), torch::eye(2)),
               std::invalid_argument);
  EXPECT_THROW(facesr::gaussian_stats(torch::zeros({1, 3})), std::invalid_argument);
}
