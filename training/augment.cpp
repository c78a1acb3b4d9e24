#include "augment.h"

#include <cmath>
#include <stdexcept>

namespace facesr {
namespace {

constexpr double kPi = 3.14159265358979323846;

// Uniform in [-range, range], one value per face.
torch::Tensor symmetric(int64_t n, double range, at::Generator& gen) {
  return (torch::rand({n}, gen, torch::kFloat64) * 2.0 - 1.0) * range;
}

Augmented warp(const Augmented& in, const AugmentOptions& o, at::Generator& gen) {
  namespace F = torch::nn::functional;
  const int64_t n = in.hr.size(0);
  // Fixed draws per face whether or not it is warped.
  auto apply = torch::rand({n}, gen, torch::kFloat64) < o.geometric_probability();
  auto scale = 1.0 + symmetric(n, o.scale(), gen);
  auto angle = symmetric(n, o.rotation() * kPi / 180.0, gen);
  auto tx = symmetric(n, 2.0 * o.translation(), gen), ty = symmetric(n, 2.0 * o.translation(), gen);
  // affine_grid maps output to input coordinates: a zoom by s samples the input at 1/s.
  scale = torch::where(apply, scale, torch::ones_like(scale));
  angle = torch::where(apply, angle, torch::zeros_like(angle));
  tx = torch::where(apply, tx, torch::zeros_like(tx));
  ty = torch::where(apply, ty, torch::zeros_like(ty));
  auto cos = torch::cos(angle) / scale, sin = torch::sin(angle) / scale;
  auto theta = torch::stack({torch::stack({cos, -sin, tx}, 1), torch::stack({sin, cos, ty}, 1)}, 1)
                   .to(in.hr.device(), torch::kFloat32);
  auto grid = F::affine_grid(theta, in.hr.sizes(), /*align_corners=*/false);
  // at::grid_sampler modes: interpolation 0 bilinear, 2 bicubic (the C++ options lack bicubic in
  // 1.13); padding 1 = border.
  auto warped_hr = at::grid_sampler(in.hr, grid, 2, 1, false).clamp(-1.0, 1.0);
  auto warped_mask = at::grid_sampler(in.mask, grid, 0, 1, false);
  // Faces not drawn for a warp keep their exact pixels (the identity grid is not bit-exact).
  auto keep = apply.logical_not().to(in.hr.device()).view({-1, 1, 1, 1});
  return {torch::where(keep, in.hr, warped_hr), torch::where(keep, in.mask, warped_mask)};
}

torch::Tensor jitter_colour(const torch::Tensor& hr, const AugmentOptions& o, at::Generator& gen) {
  const int64_t n = hr.size(0);
  auto shape = std::vector<int64_t>{n, 1, 1, 1};
  auto brightness = symmetric(n, o.brightness(), gen).to(hr.device(), torch::kFloat32).view(shape);
  auto contrast = (1.0 + symmetric(n, o.contrast(), gen)).to(hr.device(), torch::kFloat32).view(shape);
  auto saturation = (1.0 + symmetric(n, o.saturation(), gen)).to(hr.device(), torch::kFloat32).view(shape);
  auto x = (hr + 1.0) * 0.5;  // [0, 1]
  x = x + brightness;
  x = (x - x.mean({1, 2, 3}, true)) * contrast + x.mean({1, 2, 3}, true);
  auto luma = (0.299 * x.select(1, 0) + 0.587 * x.select(1, 1) + 0.114 * x.select(1, 2)).unsqueeze(1);
  x = (x - luma) * saturation + luma;
  return (x * 2.0 - 1.0).clamp(-1.0, 1.0);
}

}  // namespace

AugmentOptions flips_only() {
  return AugmentOptions().geometric_probability(0).scale(0).rotation(0).translation(0).brightness(0).contrast(0).saturation(0);
}

AugmentOptions no_augmentation() { return flips_only().flip(false); }

void validate(const AugmentOptions& o) {
  auto in = [](double v, double lo, double hi, const char* name) {
    if (!(v >= lo && v <= hi))
      throw std::invalid_argument(std::string("augmentation ") + name + " must be in [" + std::to_string(lo) + ", " +
                                  std::to_string(hi) + "], got " + std::to_string(v));
  };
  in(o.geometric_probability(), 0, 1, "geometric_probability");
  in(o.scale(), 0, 0.5, "scale");
  in(o.rotation(), 0, 45, "rotation");
  in(o.translation(), 0, 0.25, "translation");
  in(o.brightness(), 0, 0.5, "brightness");
  in(o.contrast(), 0, 0.9, "contrast");
  in(o.saturation(), 0, 1, "saturation");
}

Augmented augment(const torch::Tensor& hr, const torch::Tensor& mask, const AugmentOptions& o, at::Generator& gen) {
  if (hr.dim() != 4 || hr.size(1) != 3 || mask.dim() != 4 || mask.size(1) != 1 || mask.size(0) != hr.size(0) ||
      mask.size(2) != hr.size(2) || mask.size(3) != hr.size(3))
    throw std::invalid_argument("augment: hr must be N x 3 x H x W and mask N x 1 x H x W, got " +
                                c10::str(hr.sizes()) + " and " + c10::str(mask.sizes()));
  validate(o);
  const int64_t n = hr.size(0);
  Augmented out{hr, mask};
  auto flip = (torch::rand({n}, gen) < 0.5).logical_and(torch::tensor(o.flip())).to(hr.device()).view({-1, 1, 1, 1});
  out.hr = torch::where(flip, hr.flip({3}), hr);
  out.mask = torch::where(flip, mask.flip({3}), mask);
  const bool geometric = o.geometric_probability() > 0 && (o.scale() > 0 || o.rotation() > 0 || o.translation() > 0);
  if (geometric) out = warp(out, o, gen);
  if (o.brightness() > 0 || o.contrast() > 0 || o.saturation() > 0) out.hr = jitter_colour(out.hr, o, gen);
  return out;
}

}  // namespace facesr
