#include "degradation.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace facesr {
namespace F = torch::nn::functional;

namespace {

constexpr int64_t kHighResSize = 256;
constexpr double kPi = 3.14159265358979323846;

// Uniform draws per image, always all of them, so that enabling one option does not shift the random
// stream of the others.
enum Draw : int64_t {
  kNoBlur, kTranslationLength, kTranslationAngle, kRotation, kZoom, kCentreX, kCentreY,
  kForeground, kForegroundLength, kForegroundAngle, kDefocus, kDefocusSigma, kNoise, kNoiseSigma,
  kDrawCount
};

double lerp(double lo, double hi, double u) { return lo + (hi - lo) * u; }

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument(message);
}

void check_range(const char* name, double lo, double hi) {
  require(lo >= 0.0 && lo <= hi && std::isfinite(hi),
          std::string("degradation ") + name + " range must satisfy 0 <= min <= max, got [" +
              std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

void check_probability(const char* name, double p) {
  require(p >= 0.0 && p <= 1.0, std::string("degradation ") + name +
                                    " must be in [0, 1], got " + std::to_string(p));
}

void check_image(const torch::Tensor& image, const char* what) {
  require(image.defined() && image.dim() == 4 && image.is_floating_point(),
          std::string(what) + " must be a floating N x C x H x W tensor, got " +
              (image.defined() ? c10::str(image.scalar_type(), " ", image.sizes()) : "undefined"));
}

void check_mask(const torch::Tensor& mask) {
  require(mask.defined() && mask.dim() == 4 && mask.size(1) == 1 && mask.is_floating_point(),
          "mask must be a floating N x 1 x H x W tensor, got " +
              (mask.defined() ? c10::str(mask.scalar_type(), " ", mask.sizes()) : "undefined"));
}

// Pixel coordinates (x = column, y = row), 2 x H x W.
torch::Tensor pixel_coordinates(int64_t height, int64_t width, const torch::TensorOptions& options) {
  auto ys = torch::arange(height, options).view({height, 1}).expand({height, width});
  auto xs = torch::arange(width, options).view({1, width}).expand({height, width});
  return torch::stack({xs, ys});
}

// grid_sample coordinates of the pixel centres (align_corners = false), 1 x H x W x 2 in `dtype`.
torch::Tensor identity_grid(int64_t height, int64_t width, const torch::TensorOptions& options) {
  auto dbl = options.dtype(torch::kFloat64);
  auto xs = (torch::arange(width, dbl) * 2.0 + 1.0) / static_cast<double>(width) - 1.0;
  auto ys = (torch::arange(height, dbl) * 2.0 + 1.0) / static_cast<double>(height) - 1.0;
  auto grid = torch::stack({xs.view({1, width}).expand({height, width}),
                            ys.view({height, 1}).expand({height, width})},
                           -1);
  return grid.unsqueeze(0).to(options.dtype());
}

// Longest vector of each image's field, on the CPU (N values).
std::vector<double> longest_vectors(const torch::Tensor& field) {
  auto longest = field.square().sum(1).amax({1, 2}).sqrt().to(torch::kCPU, torch::kFloat64).contiguous();
  return std::vector<double>(longest.data_ptr<double>(), longest.data_ptr<double>() + longest.numel());
}

int64_t samples_for_length(double length) {
  return std::clamp<int64_t>(static_cast<int64_t>(std::ceil(length)) + 1, 2, kMaxAutoBlurSamples);
}

// Image i is the mean of samples[i] bilinear samples along each pixel's vector (midpoint rule, see
// the header). Images are processed in order of decreasing sample count, so that step k works on the
// prefix of images that still need a k-th sample: the whole batch goes through each grid_sample call
// but no image pays for another's longer blur.
torch::Tensor blur_along(const torch::Tensor& image, const torch::Tensor& field,
                         const std::vector<int64_t>& samples) {
  const int64_t n = image.size(0), height = image.size(2), width = image.size(3);
  std::vector<int64_t> order(n);
  for (int64_t i = 0; i < n; ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return samples[a] > samples[b]; });
  auto index = torch::tensor(order, torch::TensorOptions().dtype(torch::kLong)).to(image.device());
  std::vector<double> inverse_samples(n);
  for (int64_t i = 0; i < n; ++i) inverse_samples[i] = 1.0 / static_cast<double>(samples[order[i]]);

  auto options = image.options();
  auto sorted = image.index_select(0, index);
  auto base = identity_grid(height, width, options);
  // Pixels to grid_sample units, 2 / W horizontally and 2 / H vertically; N x H x W x 2.
  auto sorted_field = field.index_select(0, index).to(image.scalar_type());
  auto step = torch::stack({sorted_field.select(1, 0) * (2.0 / width),
                            sorted_field.select(1, 1) * (2.0 / height)},
                           -1);
  auto inverse = torch::tensor(inverse_samples, torch::TensorOptions().dtype(torch::kFloat64))
                     .to(options)
                     .view({n, 1, 1, 1});
  auto sample_options = F::GridSampleFuncOptions()
                            .mode(torch::kBilinear)
                            .padding_mode(torch::kBorder)
                            .align_corners(false);
  auto sum = torch::zeros_like(sorted);
  auto grid = torch::empty_like(step);
  for (int64_t k = 0, active = n; active > 0; ++k) {
    while (active > 0 && samples[order[active - 1]] <= k) --active;
    if (active == 0) break;
    auto t = inverse.narrow(0, 0, active) * (k + 0.5) - 0.5;  // offset along the vector, in (-1/2, 1/2)
    auto g = grid.narrow(0, 0, active);
    torch::addcmul_out(g, base, step.narrow(0, 0, active), t);
    sum.narrow(0, 0, active).add_(F::grid_sample(sorted.narrow(0, 0, active), g, sample_options));
  }
  sum.mul_(inverse);
  return torch::empty_like(sum).index_copy_(0, index, sum);
}

// Camera motion of one image as an affine map of pixel coordinates: v(p) = A p + b.
struct CameraMotion {
  double a[2][2] = {{0, 0}, {0, 0}};
  double b[2] = {0, 0};
};

CameraMotion camera_motion(const double* u, const DegradationOptions& o, int64_t height,
                           int64_t width) {
  const double length = lerp(o.translation_min(), o.translation_max(), u[kTranslationLength]);
  const double direction = 2.0 * kPi * u[kTranslationAngle];
  const double theta = lerp(-o.rotation_max_degrees(), o.rotation_max_degrees(), u[kRotation]) * kPi / 180.0;
  const double scale = 1.0 + lerp(-o.zoom_max(), o.zoom_max(), u[kZoom]);
  const double cx = u[kCentreX] * (width - 1), cy = u[kCentreY] * (height - 1);
  CameraMotion m;
  // A = scale * R(theta) - I; b = t - A c.
  m.a[0][0] = scale * std::cos(theta) - 1.0;
  m.a[0][1] = -scale * std::sin(theta);
  m.a[1][0] = scale * std::sin(theta);
  m.a[1][1] = scale * std::cos(theta) - 1.0;
  m.b[0] = length * std::cos(direction) - (m.a[0][0] * cx + m.a[0][1] * cy);
  m.b[1] = length * std::sin(direction) - (m.a[1][0] * cx + m.a[1][1] * cy);
  return m;
}

// Per-image parameters drawn on the CPU: N x kDrawCount uniforms in [0, 1).
torch::Tensor draw_uniforms(int64_t batch, at::Generator& rng) {
  return torch::rand({batch, kDrawCount}, rng, torch::TensorOptions().dtype(torch::kFloat64));
}

torch::Tensor motion_field_from(const torch::Tensor& uniforms, const torch::Tensor& mask,
                                const DegradationOptions& o) {
  const int64_t n = mask.size(0), height = mask.size(2), width = mask.size(3);
  auto cpu = torch::TensorOptions().dtype(torch::kFloat64);
  auto affine = torch::zeros({n, 2, 3}, cpu);  // [A | b]
  auto face = torch::zeros({n, 2}, cpu);
  auto u_all = uniforms.accessor<double, 2>();
  auto affine_a = affine.accessor<double, 3>();
  auto face_a = face.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i) {
    const double* u = &u_all[i][0];
    if (u[kNoBlur] < o.no_blur_probability()) continue;
    const CameraMotion m = camera_motion(u, o, height, width);
    for (int r = 0; r < 2; ++r) {
      affine_a[i][r][0] = m.a[r][0];
      affine_a[i][r][1] = m.a[r][1];
      affine_a[i][r][2] = m.b[r];
    }
    if (u[kForeground] < o.foreground_probability()) {
      const double length = lerp(o.foreground_min(), o.foreground_max(), u[kForegroundLength]);
      const double direction = 2.0 * kPi * u[kForegroundAngle];
      face_a[i][0] = length * std::cos(direction);
      face_a[i][1] = length * std::sin(direction);
    }
  }
  auto device = mask.options().dtype(torch::kFloat32);
  auto coords = pixel_coordinates(height, width, device).view({2, height * width});
  affine = affine.to(device);
  auto field = (torch::matmul(affine.narrow(2, 0, 2), coords) + affine.narrow(2, 2, 1))
                   .view({n, 2, height, width});
  field = field + mask.to(torch::kFloat32) * face.to(device).view({n, 2, 1, 1});
  if (o.max_length() > 0.0) {
    auto longest = field.square().sum(1).amax({1, 2}).sqrt().clamp_min(1e-12);
    field = field * (o.max_length() / longest).clamp_max(1.0).view({n, 1, 1, 1});
  }
  return field;
}

std::vector<double> defocus_sigmas(const torch::Tensor& uniforms, const DegradationOptions& o) {
  auto u = uniforms.accessor<double, 2>();
  std::vector<double> sigmas(uniforms.size(0), 0.0);
  for (int64_t i = 0; i < uniforms.size(0); ++i)
    if (u[i][kDefocus] < o.defocus_probability())
      sigmas[i] = lerp(o.defocus_sigma_min(), o.defocus_sigma_max(), u[i][kDefocusSigma]);
  return sigmas;
}

// Sensor noise for lr, drawn on the CPU; zero for images that get none.
torch::Tensor sensor_noise(const torch::Tensor& uniforms, const DegradationOptions& o,
                           const torch::Tensor& lr, at::Generator& rng) {
  const int64_t n = lr.size(0);
  auto sigma = torch::zeros({n}, torch::TensorOptions().dtype(torch::kFloat64));
  auto u = uniforms.accessor<double, 2>();
  auto s = sigma.accessor<double, 1>();
  for (int64_t i = 0; i < n; ++i)
    if (u[i][kNoise] < o.noise_probability())
      s[i] = lerp(o.noise_sigma_min(), o.noise_sigma_max(), u[i][kNoiseSigma]) * 2.0 / 255.0;
  auto noise = torch::randn(lr.sizes(), rng, torch::TensorOptions().dtype(torch::kFloat32));
  return (noise * sigma.to(torch::kFloat32).view({n, 1, 1, 1})).to(lr.options());
}

// When probability > 0: draws two uniforms per image (N x 2 doubles from rng) and calls apply(i, u)
// with the second for each image whose first is below probability. Draws nothing otherwise, so that
// an option that is off leaves the random stream as it was.
template <typename Apply>
void for_drawn_images(int64_t n, double probability, at::Generator& rng, Apply apply) {
  if (probability <= 0.0) return;
  auto u = torch::rand({n, 2}, rng, torch::TensorOptions().dtype(torch::kFloat64));
  auto ua = u.accessor<double, 2>();
  for (int64_t i = 0; i < n; ++i)
    if (ua[i][0] < probability) apply(i, ua[i][1]);
}

}  // namespace

void validate(const DegradationOptions& o) {
  check_range("translation", o.translation_min(), o.translation_max());
  check_range("rotation_max_degrees", 0.0, o.rotation_max_degrees());
  require(o.zoom_max() >= 0.0 && o.zoom_max() < 1.0,
          "degradation zoom_max must be in [0, 1), got " + std::to_string(o.zoom_max()));
  check_probability("foreground_probability", o.foreground_probability());
  check_range("foreground", o.foreground_min(), o.foreground_max());
  check_probability("no_blur_probability", o.no_blur_probability());
  require(std::isfinite(o.max_length()), "degradation max_length must be finite");
  require(o.samples() >= 0, "degradation samples must be >= 0 (0 = automatic), got " +
                                std::to_string(o.samples()));
  check_probability("defocus_probability", o.defocus_probability());
  check_range("defocus_sigma", o.defocus_sigma_min(), o.defocus_sigma_max());
  check_probability("noise_probability", o.noise_probability());
  check_range("noise_sigma", o.noise_sigma_min(), o.noise_sigma_max());
  check_probability("jpeg_probability", o.jpeg_probability());
  check_range("jpeg_quality", o.jpeg_quality_min(), o.jpeg_quality_max());
  require(o.jpeg_quality_min() >= 1.0 && o.jpeg_quality_max() <= 100.0,
          "degradation jpeg_quality must be within [1, 100], got [" + std::to_string(o.jpeg_quality_min()) + ", " +
              std::to_string(o.jpeg_quality_max()) + "]");
  check_probability("small_face_probability", o.small_face_probability());
  require(o.scale() == 2 || o.scale() == 4 || o.scale() == 8,
          "degradation scale must be 2, 4 or 8, got " + std::to_string(o.scale()));
  require(o.small_face_side_min() >= 4 && o.small_face_side_min() <= o.small_face_side_max() &&
              o.small_face_side_max() < kHighResSize / o.scale(),
          "degradation small_face sides must satisfy 4 <= min <= max < " + std::to_string(kHighResSize / o.scale()) +
              " (the input side at scale " + std::to_string(o.scale()) + "), got [" +
              std::to_string(o.small_face_side_min()) + ", " + std::to_string(o.small_face_side_max()) + "]");
}

int64_t auto_blur_samples(const torch::Tensor& field) {
  check_image(field, "auto_blur_samples field");
  double longest = 0.0;
  for (double length : longest_vectors(field)) longest = std::max(longest, length);
  return samples_for_length(longest);
}

torch::Tensor random_motion_field(const torch::Tensor& mask, const DegradationOptions& options,
                                  at::Generator& rng) {
  validate(options);
  check_mask(mask);
  return motion_field_from(draw_uniforms(mask.size(0), rng), mask, options);
}

torch::Tensor motion_blur(const torch::Tensor& image, const torch::Tensor& field, int64_t samples) {
  check_image(image, "motion_blur image");
  check_image(field, "motion_blur field");
  const int64_t n = image.size(0), height = image.size(2), width = image.size(3);
  require(field.size(0) == n && field.size(1) == 2 && field.size(2) == height &&
              field.size(3) == width,
          "motion field must be N x 2 x H x W matching the image " + c10::str(image.sizes()) +
              ", got " + c10::str(field.sizes()));
  require(field.device() == image.device(), "motion field and image must be on the same device");
  std::vector<int64_t> per_image(n, samples);
  if (samples <= 0) {
    const auto longest = longest_vectors(field);
    for (int64_t i = 0; i < n; ++i) per_image[i] = samples_for_length(longest[i]);
  }
  return n == 0 ? image.clone() : blur_along(image, field, per_image);
}

torch::Tensor downsample(const torch::Tensor& image, int64_t factor) {
  check_image(image, "downsample input");
  require(factor >= 1, "downsample factor must be >= 1, got " + std::to_string(factor));
  require(image.size(2) > 0 && image.size(3) > 0 && image.size(2) % factor == 0 && image.size(3) % factor == 0,
          "downsample by " + std::to_string(factor) + " needs height and width that are positive multiples of " +
              std::to_string(factor) + ", got " + c10::str(image.sizes()));
  return F::avg_pool2d(image, F::AvgPool2dFuncOptions(factor).stride(factor));
}

torch::Tensor downsample8(const torch::Tensor& image) { return downsample(image, 8); }

torch::Tensor gaussian_blur(const torch::Tensor& image, const std::vector<double>& sigmas) {
  check_image(image, "gaussian_blur input");
  const int64_t n = image.size(0), c = image.size(1), height = image.size(2), width = image.size(3);
  require(static_cast<int64_t>(sigmas.size()) == n,
          "gaussian_blur needs one sigma per image: " + std::to_string(sigmas.size()) + " for " +
              std::to_string(n) + " images");
  const double widest = sigmas.empty() ? 0.0 : *std::max_element(sigmas.begin(), sigmas.end());
  if (widest <= 0.0) return image;
  const int64_t radius = static_cast<int64_t>(std::ceil(3.0 * widest));
  require(radius < std::min(height, width), "gaussian_blur sigma too large for the image");
  auto taps = torch::arange(-radius, radius + 1, torch::TensorOptions().dtype(torch::kFloat64));
  std::vector<torch::Tensor> kernels;
  for (double sigma : sigmas) {
    auto k = sigma > 0.0 ? torch::exp(-taps * taps / (2.0 * sigma * sigma))
                         : (taps == 0).to(torch::kFloat64);
    kernels.push_back((k / k.sum()).expand({c, 2 * radius + 1}));
  }
  auto kernel = torch::cat(kernels).to(image.options());  // (N*C) x taps
  auto x = image.reshape({1, n * c, height, width});
  x = F::pad(x, F::PadFuncOptions({radius, radius, radius, radius}).mode(torch::kReplicate));
  x = F::conv2d(x, kernel.view({n * c, 1, 1, -1}), F::Conv2dFuncOptions().groups(n * c));
  x = F::conv2d(x, kernel.view({n * c, 1, -1, 1}), F::Conv2dFuncOptions().groups(n * c));
  return x.view({n, c, height, width});
}

Degraded degrade(const torch::Tensor& hr, const torch::Tensor& mask, const DegradationOptions& options,
                 at::Generator& rng) {
  validate(options);
  check_image(hr, "degrade hr");
  require(hr.size(1) == 3 && hr.size(2) == kHighResSize && hr.size(3) == kHighResSize,
          "degrade hr must be N x 3 x 256 x 256, got " + c10::str(hr.sizes()));
  check_mask(mask);
  require(mask.size(0) == hr.size(0) && mask.size(2) == kHighResSize &&
              mask.size(3) == kHighResSize,
          "degrade mask must be N x 1 x 256 x 256 for hr " + c10::str(hr.sizes()) + ", got " +
              c10::str(mask.sizes()));
  require(mask.device() == hr.device(), "degrade mask and hr must be on the same device");
  torch::NoGradGuard no_grad;
  require(mask.numel() == 0 || (mask.min().item<double>() >= 0.0 && mask.max().item<double>() <= 1.0),
          "degrade mask values must be in [0, 1]");

  auto uniforms = draw_uniforms(hr.size(0), rng);
  Degraded out;
  out.motion = motion_field_from(uniforms, mask, options);
  auto sharp = gaussian_blur(hr, defocus_sigmas(uniforms, options));
  out.blurred_hr = motion_blur(sharp, out.motion, options.samples()).clamp(-1.0, 1.0);
  const int64_t lr_side = kHighResSize / options.scale();
  out.lr = downsample(out.blurred_hr, options.scale());
  const int64_t n = hr.size(0);
  // Random draws in a fixed order, each only when its option is on, so that runs without it keep
  // their random streams (and validation sets): noise, JPEG, small faces.
  torch::Tensor noise;
  if (options.noise_probability() > 0.0) noise = sensor_noise(uniforms, options, out.lr, rng);
  std::vector<double> quality(n, 0.0);  // 0 = not compressed
  for_drawn_images(n, options.jpeg_probability(), rng, [&](int64_t i, double u) {
    quality[i] = lerp(options.jpeg_quality_min(), options.jpeg_quality_max(), u);
  });
  out.capture_sides.assign(n, lr_side);
  const int64_t lo = options.small_face_side_min(), hi = options.small_face_side_max();
  for_drawn_images(n, options.small_face_probability(), rng, [&](int64_t i, double u) {
    out.capture_sides[i] = std::min(hi, lo + static_cast<int64_t>(std::floor(u * static_cast<double>(hi - lo + 1))));
  });

  // Faces captured at the input side: noise and JPEG on the input.
  std::vector<double> quality32 = quality;
  for (int64_t i = 0; i < n; ++i)
    if (out.capture_sides[i] != lr_side) quality32[i] = 0.0;
  if (noise.defined()) out.lr = (out.lr + noise).clamp(-1.0, 1.0);
  if (options.jpeg_probability() > 0.0) out.lr = jpeg_compress(out.lr, quality32);
  // Small faces, one by one: captured at m x m, noise and JPEG there, bicubic up to 32x32 (this
  // replaces the 32x32 result above for that image).
  for (int64_t i = 0; i < n; ++i) {
    const int64_t m = out.capture_sides[i];
    if (m == lr_side) continue;
    auto face = F::adaptive_avg_pool2d(out.blurred_hr.narrow(0, i, 1), F::AdaptiveAvgPool2dFuncOptions({m, m}));
    if (noise.defined()) face = (face + noise.narrow(0, i, 1).narrow(2, 0, m).narrow(3, 0, m)).clamp(-1.0, 1.0);
    if (quality[i] > 0.0) {
      const int64_t padded = (m + 15) / 16 * 16;
      auto whole = F::pad(face, F::PadFuncOptions({0, padded - m, 0, padded - m}).mode(torch::kReplicate));
      face = jpeg_compress(whole, {quality[i]}).narrow(2, 0, m).narrow(3, 0, m);
    }
    auto up = F::interpolate(face, F::InterpolateFuncOptions()
                                       .size(std::vector<int64_t>{lr_side, lr_side})
                                       .mode(torch::kBicubic)
                                       .align_corners(false));
    out.lr.narrow(0, i, 1).copy_(up.clamp(-1.0, 1.0));
  }
  return out;
}

namespace {

// The standard tables of the JPEG specification (ITU-T T.81, Annex K), row-major 8x8.
constexpr double kLuminanceTable[64] = {
    16, 11, 10, 16, 24, 40, 51, 61, 12, 12, 14, 19, 26, 58, 60, 55, 14, 13, 16, 24, 40, 57, 69, 56,
    14, 17, 22, 29, 51, 87, 80, 62, 18, 22, 37, 56, 68, 109, 103, 77, 24, 35, 55, 64, 81, 104, 113, 92,
    49, 64, 78, 87, 103, 121, 120, 101, 72, 92, 95, 98, 112, 100, 103, 99};
constexpr double kChrominanceTable[64] = {
    17, 18, 24, 47, 99, 99, 99, 99, 18, 21, 26, 66, 99, 99, 99, 99, 24, 26, 56, 99, 99, 99, 99, 99,
    47, 66, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99,
    99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99, 99};

// IJG's quality scaling of a base table: N x 1 x 8 x 8 (x 1 x 1 to broadcast over blocks).
torch::Tensor scaled_tables(const double* base, const std::vector<double>& quality) {
  auto t = torch::empty({static_cast<int64_t>(quality.size()), 64}, torch::kFloat64);
  auto a = t.accessor<double, 2>();
  for (std::size_t i = 0; i < quality.size(); ++i) {
    const double q = std::clamp(quality[i], 1.0, 100.0);
    const double scale = q < 50.0 ? 5000.0 / q : 200.0 - 2.0 * q;
    for (int k = 0; k < 64; ++k) a[i][k] = std::clamp(std::floor((base[k] * scale + 50.0) / 100.0), 1.0, 255.0);
  }
  return t.view({-1, 1, 1, 8, 8});
}

// Orthonormal 8x8 DCT-II matrix D: coefficients = D x block x D^T.
torch::Tensor dct_matrix() {
  auto d = torch::empty({8, 8}, torch::kFloat64);
  auto a = d.accessor<double, 2>();
  for (int k = 0; k < 8; ++k)
    for (int n = 0; n < 8; ++n)
      a[k][n] = (k == 0 ? std::sqrt(1.0 / 8.0) : std::sqrt(2.0 / 8.0)) * std::cos(kPi * (2 * n + 1) * k / 16.0);
  return d;
}

// plane: N x H x W (level-shifted) -> quantized and reconstructed, with tables N x 1 x 1 x 8 x 8.
torch::Tensor quantize_blocks(const torch::Tensor& plane, const torch::Tensor& tables, const torch::Tensor& dct) {
  const int64_t n = plane.size(0), h = plane.size(1), w = plane.size(2);
  // N x (H/8) x (W/8) x 8 x 8 blocks
  auto blocks = plane.view({n, h / 8, 8, w / 8, 8}).permute({0, 1, 3, 2, 4});
  auto coefficients = torch::matmul(torch::matmul(dct, blocks), dct.t());
  auto quantized = torch::round(coefficients / tables) * tables;
  auto restored = torch::matmul(torch::matmul(dct.t(), quantized), dct);
  return restored.permute({0, 1, 3, 2, 4}).reshape({n, h, w});
}

}  // namespace

torch::Tensor jpeg_compress(const torch::Tensor& images, const std::vector<double>& quality) {
  require(images.dim() == 4 && images.size(1) == 3 && images.size(2) % 16 == 0 && images.size(3) % 16 == 0 &&
              images.size(2) > 0 && images.size(3) > 0,
          "jpeg_compress needs N x 3 x H x W with H and W multiples of 16, got " + c10::str(images.sizes()));
  require(static_cast<int64_t>(quality.size()) == images.size(0),
          "jpeg_compress needs one quality per image: " + std::to_string(quality.size()) + " for " +
              std::to_string(images.size(0)));
  torch::NoGradGuard no_grad;
  std::vector<int64_t> keep, compress;
  for (std::size_t i = 0; i < quality.size(); ++i) (quality[i] > 0.0 ? compress : keep).push_back(static_cast<int64_t>(i));
  if (compress.empty()) return images;
  std::vector<double> q;
  for (int64_t i : compress) q.push_back(quality[i]);
  const auto options = images.options();
  auto index = torch::tensor(compress, torch::kInt64).to(images.device());
  // 8-bit levels in float64 on the images' device (exact tables, exact rounding).
  auto rgb = torch::round((images.index_select(0, index).to(torch::kFloat64) + 1.0) * 127.5).clamp(0, 255);
  auto r = rgb.select(1, 0), g = rgb.select(1, 1), b = rgb.select(1, 2);
  auto y = 0.299 * r + 0.587 * g + 0.114 * b;
  auto cb = 128.0 - 0.168736 * r - 0.331264 * g + 0.5 * b;
  auto cr = 128.0 + 0.5 * r - 0.418688 * g - 0.081312 * b;
  namespace F = torch::nn::functional;
  auto subsample = [](const torch::Tensor& c) { return F::avg_pool2d(c.unsqueeze(1), F::AvgPool2dFuncOptions(2)).squeeze(1); };
  auto upsample = [](const torch::Tensor& c) { return c.repeat_interleave(2, 1).repeat_interleave(2, 2); };
  const auto device = images.device();
  auto dct = dct_matrix().to(device);
  auto luma_tables = scaled_tables(kLuminanceTable, q).to(device);
  auto chroma_tables = scaled_tables(kChrominanceTable, q).to(device);
  y = quantize_blocks(y - 128.0, luma_tables, dct) + 128.0;
  cb = upsample(quantize_blocks(subsample(cb) - 128.0, chroma_tables, dct)) + 128.0;
  cr = upsample(quantize_blocks(subsample(cr) - 128.0, chroma_tables, dct)) + 128.0;
  auto decoded = torch::stack({y + 1.402 * (cr - 128.0), y - 0.344136 * (cb - 128.0) - 0.714136 * (cr - 128.0),
                               y + 1.772 * (cb - 128.0)},
                              1);
  auto result = (torch::round(decoded).clamp(0, 255) / 127.5 - 1.0).to(options);
  auto out = images.clone();
  out.index_copy_(0, index, result);
  return out;
}

Degraded degrade_fixed(const torch::Tensor& hr, const torch::Tensor& mask,
                       const DegradationOptions& options, uint64_t seed) {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(seed);
  return degrade(hr, mask, options, rng);
}

}  // namespace facesr
