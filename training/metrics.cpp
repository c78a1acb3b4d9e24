#include "metrics.h"

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>

namespace facesr {
namespace F = torch::nn::functional;

namespace {

constexpr double kPeak = 255.0;
constexpr int64_t kWindow = 11;
constexpr double kWindowSigma = 1.5;
constexpr double kK1 = 0.01, kK2 = 0.03;

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

void check_pair(const torch::Tensor& a, const torch::Tensor& b, const char* metric) {
  require(a.defined() && b.defined() && a.dim() == 4 && a.size(1) == 3 && a.is_floating_point(),
          std::string(metric) + " needs floating N x 3 x H x W images, got " +
              (a.defined() ? c10::str(a.scalar_type(), " ", a.sizes()) : "undefined"));
  require(b.sizes() == a.sizes() && b.is_floating_point(),
          std::string(metric) + " needs images of the same shape, got " + c10::str(a.sizes()) +
              " and " + c10::str(b.sizes()));
  require(a.device() == b.device(), std::string(metric) + " needs both images on the same device");
}

// [-1, 1] -> [0, 255], float64.
torch::Tensor to_8bit_scale(const torch::Tensor& image) {
  return (image.to(torch::kFloat64) + 1.0) * (kPeak / 2.0);
}

torch::Tensor prepare(const torch::Tensor& image, MetricChannels channels) {
  return channels == MetricChannels::Luma ? luma_bt601(image) : to_8bit_scale(image);
}

// 11x11 Gaussian window (sigma 1.5), normalised, as a C x 1 x 11 x 11 depthwise kernel.
torch::Tensor gaussian_window(int64_t channels, const torch::TensorOptions& options) {
  auto taps = torch::arange(kWindow, torch::TensorOptions().dtype(torch::kFloat64)) - (kWindow - 1) / 2.0;
  auto g = torch::exp(-taps * taps / (2.0 * kWindowSigma * kWindowSigma));
  g = g / g.sum();
  auto window = torch::outer(g, g);
  return window.view({1, 1, kWindow, kWindow}).expand({channels, 1, kWindow, kWindow}).contiguous().to(options);
}

void check_covariance(const torch::Tensor& mu, const torch::Tensor& sigma, const char* which) {
  require(mu.defined() && mu.dim() == 1 && mu.size(0) > 0,
          std::string("frechet_distance ") + which + " mean must be a non-empty vector, got " +
              (mu.defined() ? c10::str(mu.sizes()) : "undefined"));
  require(sigma.defined() && sigma.dim() == 2 && sigma.size(0) == mu.size(0) &&
              sigma.size(1) == mu.size(0),
          std::string("frechet_distance ") + which + " covariance must be " +
              std::to_string(mu.size(0)) + " x " + std::to_string(mu.size(0)) + ", got " +
              (sigma.defined() ? c10::str(sigma.sizes()) : "undefined"));
}

torch::Tensor symmetric(const torch::Tensor& m) { return (m + m.transpose(0, 1)) * 0.5; }

// Square root of a symmetric PSD matrix via eigh; negative round-off eigenvalues become 0.
torch::Tensor psd_sqrt(const torch::Tensor& m) {
  auto [values, vectors] = at::linalg_eigh(symmetric(m), "L");
  return torch::matmul(vectors * values.clamp_min(0.0).sqrt().unsqueeze(0), vectors.transpose(0, 1));
}

}  // namespace

torch::Tensor luma_bt601(const torch::Tensor& image) {
  require(image.defined() && image.dim() == 4 && image.size(1) == 3,
          "luma_bt601 needs N x 3 x H x W images, got " +
              (image.defined() ? c10::str(image.sizes()) : "undefined"));
  auto rgb01 = (image.to(torch::kFloat64) + 1.0) * 0.5;
  auto weights = torch::tensor({65.481, 128.553, 24.966}, rgb01.options()).view({1, 3, 1, 1});
  return (rgb01 * weights).sum(1, true) + 16.0;
}

torch::Tensor high_frequency_energy(const torch::Tensor& image) {
  require(image.defined() && image.dim() == 4 && image.size(1) == 3 && image.size(2) >= 3 && image.size(3) >= 3,
          "high_frequency_energy needs N x 3 x H x W images of at least 3x3, got " +
              (image.defined() ? c10::str(image.sizes()) : "undefined"));
  const auto y = luma_bt601(image);
  const auto laplacian = torch::tensor({0.0, 1.0, 0.0, 1.0, -4.0, 1.0, 0.0, 1.0, 0.0}, y.options()).view({1, 1, 3, 3});
  return torch::conv2d(y, laplacian).square().flatten(1).mean(1).cpu();
}

torch::Tensor sharpness_ratio(const torch::Tensor& result, const torch::Tensor& truth) {
  check_pair(result, truth, "sharpness_ratio");
  return high_frequency_energy(result) / high_frequency_energy(truth);
}

torch::Tensor psnr(const torch::Tensor& a, const torch::Tensor& b, MetricChannels channels) {
  check_pair(a, b, "psnr");
  auto diff = prepare(a, channels) - prepare(b, channels);
  auto mse = diff.square().flatten(1).mean(1);
  // 10 log10(peak^2 / 0) = +inf: identical images are reported as such.
  return (10.0 * torch::log10(kPeak * kPeak / mse)).cpu();
}

torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b, MetricChannels channels) {
  check_pair(a, b, "ssim");
  require(a.size(2) >= kWindow && a.size(3) >= kWindow,
          "ssim needs images of at least 11 x 11 (the Gaussian window), got " + c10::str(a.sizes()));
  auto x = prepare(a, channels), y = prepare(b, channels);
  const int64_t c = x.size(1);
  auto window = gaussian_window(c, x.options());
  auto filter = [&](const torch::Tensor& t) {  // 'valid' Gaussian filtering per channel
    return F::conv2d(t, window, F::Conv2dFuncOptions().groups(c));
  };
  const double c1 = std::pow(kK1 * kPeak, 2), c2 = std::pow(kK2 * kPeak, 2);
  auto mu_x = filter(x), mu_y = filter(y);
  auto var_x = filter(x * x) - mu_x * mu_x;
  auto var_y = filter(y * y) - mu_y * mu_y;
  auto cov = filter(x * y) - mu_x * mu_y;
  auto map = ((2.0 * mu_x * mu_y + c1) * (2.0 * cov + c2)) /
             ((mu_x * mu_x + mu_y * mu_y + c1) * (var_x + var_y + c2));
  return map.flatten(1).mean(1).cpu();
}

GaussianStats gaussian_stats(const torch::Tensor& features) {
  require(features.defined() && features.dim() == 2 && features.size(0) >= 2 && features.size(1) >= 1,
          "gaussian_stats needs N x D features with N >= 2, got " +
              (features.defined() ? c10::str(features.sizes()) : "undefined"));
  auto x = features.to(torch::kFloat64);
  GaussianStats stats;
  stats.mean = x.mean(0);
  auto centred = x - stats.mean;
  stats.covariance = torch::matmul(centred.transpose(0, 1), centred) / static_cast<double>(x.size(0) - 1);
  return stats;
}

double frechet_distance(const torch::Tensor& mu1, const torch::Tensor& sigma1, const torch::Tensor& mu2,
                        const torch::Tensor& sigma2) {
  check_covariance(mu1, sigma1, "first");
  check_covariance(mu2, sigma2, "second");
  require(mu1.size(0) == mu2.size(0), "frechet_distance needs Gaussians of the same dimension, got " +
                                          std::to_string(mu1.size(0)) + " and " +
                                          std::to_string(mu2.size(0)));
  auto as_double = [&](const torch::Tensor& t) { return t.to(mu1.device(), torch::kFloat64); };
  auto m1 = as_double(mu1), m2 = as_double(mu2);
  auto s1 = symmetric(as_double(sigma1)), s2 = symmetric(as_double(sigma2));
  auto root1 = psd_sqrt(s1);
  auto middle = symmetric(torch::matmul(torch::matmul(root1, s2), root1));
  auto trace_sqrt = at::linalg_eigvalsh(middle, "L").clamp_min(0.0).sqrt().sum();
  auto distance = (m1 - m2).square().sum() + s1.trace() + s2.trace() - 2.0 * trace_sqrt;
  return std::max(0.0, distance.item<double>());
}

}  // namespace facesr
