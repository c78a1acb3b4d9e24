// Motion-flow blur, downsampling, the full training degradation (training/degradation.h) and the
// augmentation before it (training/augment.h).
#include <gtest/gtest.h>

#include <ATen/CPUGeneratorImpl.h>

#include "augment.h"
#include "degradation.h"

namespace {

using torch::indexing::Slice;

double max_abs_diff(const torch::Tensor& a, const torch::Tensor& b) {
  return (a - b).abs().max().item<double>();
}

// A reproducible image in [-1, 1] with detail at every scale: noise plus smooth gradients.
torch::Tensor test_image(int64_t n, int64_t size, uint64_t seed = 1) {
  auto rng = at::make_generator<at::CPUGeneratorImpl>(seed);
  auto noise = torch::rand({n, 3, size, size}, rng) * 2.0 - 1.0;
  auto ramp = torch::linspace(-1.0, 1.0, size).view({1, 1, 1, size});
  return (0.5 * noise + 0.5 * ramp).clamp(-1.0, 1.0);
}

// A centred disc of radius r: 1 inside, 0 outside.
torch::Tensor disc_mask(int64_t n, int64_t size, double radius) {
  auto c = torch::arange(size, torch::kFloat32) - (size - 1) / 2.0;
  auto r2 = c.view({size, 1}).pow(2) + c.view({1, size}).pow(2);
  return (r2 <= radius * radius).to(torch::kFloat32).view({1, 1, size, size}).expand({n, 1, size, size}).contiguous();
}

torch::Tensor uniform_field(int64_t n, int64_t size, double vx, double vy) {
  auto field = torch::zeros({n, 2, size, size});
  field.index_put_({Slice(), 0}, vx);
  field.index_put_({Slice(), 1}, vy);
  return field;
}

// Continuous box of even integer length L on the linearly interpolated signal: L + 1 taps,
// weights 1/2, 1, ..., 1, 1/2, divided by L.
torch::Tensor box_reference(const torch::Tensor& image, int64_t length) {
  auto kernel = torch::ones({length + 1});
  kernel[0] = 0.5;
  kernel[length] = 0.5;
  kernel = (kernel / static_cast<double>(length)).view({1, 1, 1, length + 1}).expand({3, 1, 1, length + 1});
  namespace F = torch::nn::functional;
  // 'valid' along x: output column j corresponds to input column j + L/2.
  return F::conv2d(image, kernel.contiguous(), F::Conv2dFuncOptions().groups(3));
}

facesr::DegradationOptions camera_off() {
  return facesr::DegradationOptions()
      .translation_min(0.0)
      .translation_max(0.0)
      .rotation_max_degrees(0.0)
      .zoom_max(0.0)
      .no_blur_probability(0.0);
}

}  // namespace

TEST(MotionBlur, ZeroFieldIsIdentity) {
  auto image = test_image(2, 64);
  auto field = torch::zeros({2, 2, 64, 64});
  EXPECT_LT(max_abs_diff(facesr::motion_blur(image, field, 0), image), 1e-5);
  EXPECT_LT(max_abs_diff(facesr::motion_blur(image, field, 9), image), 1e-5);
}

TEST(MotionBlur, HorizontalTranslationIsBoxFilterAlongX) {
  const int64_t length = 6, size = 64, half = length / 2;
  auto image = test_image(1, size);
  auto reference = box_reference(image, length);  // columns half .. size-1-half
  auto inner = [&](const torch::Tensor& blurred) {
    return blurred.index({Slice(), Slice(), Slice(), Slice(half, size - half)});
  };
  // K = L samples: exactly the continuous box on the bilinear image.
  auto exact = facesr::motion_blur(image, uniform_field(1, size, length, 0.0), length);
  EXPECT_LT(max_abs_diff(inner(exact), reference), 1e-5);
  // Automatic K (L + 1): a close quadrature of the same integral, even on noisy content.
  auto automatic = facesr::motion_blur(image, uniform_field(1, size, length, 0.0), 0);
  EXPECT_LT(max_abs_diff(inner(automatic), reference), 0.05);
  // Sign does not matter (the blur is centred), and a vertical field is not the horizontal box.
  auto negative = facesr::motion_blur(image, uniform_field(1, size, -length, 0.0), length);
  EXPECT_LT(max_abs_diff(negative, exact), 1e-5);
  auto vertical = facesr::motion_blur(image, uniform_field(1, size, 0.0, length), length);
  EXPECT_GT(max_abs_diff(inner(vertical), reference), 0.1);
}

TEST(MotionBlur, AutomaticSamplesArePerImage) {
  // Three images with different blur lengths: the batched call equals blurring each image alone
  // with K = ceil(L) + 1 (images are reordered by K inside; the order must come back).
  auto image = test_image(3, 64);
  auto field = torch::cat({uniform_field(1, 64, 2.0, 0.0), uniform_field(1, 64, 0.0, 20.0),
                           uniform_field(1, 64, 7.5, 7.5)});
  const int64_t expected_k[] = {3, 21, 12};  // ceil(2) + 1, ceil(20) + 1, ceil(7.5 sqrt 2) + 1
  auto batched = facesr::motion_blur(image, field, 0);
  for (int64_t i = 0; i < 3; ++i) {
    auto alone = facesr::motion_blur(image.narrow(0, i, 1), field.narrow(0, i, 1), expected_k[i]);
    EXPECT_LT(max_abs_diff(batched.narrow(0, i, 1), alone), 1e-6) << "image " << i;
    EXPECT_EQ(facesr::auto_blur_samples(field.narrow(0, i, 1)), expected_k[i]);
  }
  EXPECT_EQ(facesr::auto_blur_samples(field), 21);  // the whole field: its longest vector
}

TEST(MotionBlur, RejectsMismatchedField) {
  auto image = test_image(1, 32);
  EXPECT_THROW(facesr::motion_blur(image, torch::zeros({1, 2, 16, 16}), 0), std::invalid_argument);
  EXPECT_THROW(facesr::motion_blur(image, torch::zeros({1, 3, 32, 32}), 0), std::invalid_argument);
  EXPECT_THROW(facesr::motion_blur(image, torch::zeros({2, 2, 32, 32}), 0), std::invalid_argument);
  EXPECT_THROW(facesr::motion_blur(image[0], torch::zeros({1, 2, 32, 32}), 0), std::invalid_argument);
}

TEST(MotionField, ForegroundOnlyMovesTheMask) {
  auto options = camera_off().foreground_probability(1.0).foreground_min(10.0).foreground_max(10.0);
  auto mask = disc_mask(2, 256, 60.0);
  auto rng = at::make_generator<at::CPUGeneratorImpl>(3);
  auto field = facesr::random_motion_field(mask, options, rng);
  ASSERT_EQ(field.sizes(), (std::vector<int64_t>{2, 2, 256, 256}));
  auto length = field.norm(2, 1, true);
  auto background = mask == 0;
  EXPECT_EQ(length.masked_select(background).abs().max().item<double>(), 0.0);
  EXPECT_NEAR(length.masked_select(mask == 1).min().item<double>(), 10.0, 1e-4);
  EXPECT_NEAR(length.masked_select(mask == 1).max().item<double>(), 10.0, 1e-4);

  // Through the whole degradation: the background keeps its pixels, the face is blurred.
  auto hr = test_image(2, 256);
  auto out = facesr::degrade_fixed(hr, mask, options, 3);
  auto bg = background.expand_as(hr);
  EXPECT_LT((out.blurred_hr - hr).masked_select(bg).abs().max().item<double>(), 1e-5);
  EXPECT_GT((out.blurred_hr - hr).masked_select(~bg).abs().mean().item<double>(), 0.05);
}

TEST(MotionField, CameraMotionIsNonUniformAndCapped) {
  auto mask = torch::zeros({32, 1, 256, 256});
  auto rng = at::make_generator<at::CPUGeneratorImpl>(11);
  // Rotation alone: vectors vary over the image (length grows away from the centre).
  auto rotation = camera_off().rotation_max_degrees(5.0).foreground_probability(0.0);
  auto field = facesr::random_motion_field(mask.narrow(0, 0, 4), rotation, rng);
  auto length = field.norm(2, 1);
  EXPECT_GT((length.amax({1, 2}) - length.amin({1, 2})).min().item<double>(), 0.5);
  // Defaults: every image within the 40 px cap, most of them visibly blurred.
  facesr::DegradationOptions defaults;
  auto longest = facesr::random_motion_field(mask, defaults, rng).norm(2, 1).amax({1, 2});
  EXPECT_LE(longest.max().item<double>(), defaults.max_length() + 1e-3);
  EXPECT_GT((longest > 4.0).sum().item<int64_t>(), 20);
  // No blur at all.
  auto none = facesr::random_motion_field(mask, defaults.no_blur_probability(1.0), rng);
  EXPECT_EQ(none.abs().max().item<double>(), 0.0);
}

TEST(Downsample, ConstantStaysConstantAndBlocksAverage) {
  auto constant = torch::full({2, 3, 256, 256}, 0.37);
  auto small = facesr::downsample8(constant);
  ASSERT_EQ(small.sizes(), (std::vector<int64_t>{2, 3, 32, 32}));
  EXPECT_LT(max_abs_diff(small, torch::full_like(small, 0.37)), 1e-6);
  // Each LR pixel is the mean of its 8x8 block.
  auto image = test_image(1, 64);
  auto block = image.index({0, 1, Slice(8, 16), Slice(24, 32)}).mean().item<double>();
  EXPECT_NEAR(facesr::downsample8(image)[0][1][1][3].item<double>(), block, 1e-6);
  EXPECT_THROW(facesr::downsample8(torch::zeros({1, 3, 250, 256})), std::invalid_argument);
}

TEST(GaussianBlur, ZeroSigmaKeepsAndPositiveSigmaSmooths) {
  auto image = test_image(2, 64);
  auto out = facesr::gaussian_blur(image, {0.0, 2.0});
  EXPECT_LT(max_abs_diff(out[0], image[0]), 1e-6);
  EXPECT_LT(out[1].std().item<double>(), 0.8 * image[1].std().item<double>());
  auto constant = torch::full({1, 3, 32, 32}, -0.25);
  EXPECT_LT(max_abs_diff(facesr::gaussian_blur(constant, {3.0}), constant), 1e-6);
  EXPECT_THROW(facesr::gaussian_blur(image, {1.0}), std::invalid_argument);
}

TEST(Degrade, SameSeedSameResultDifferentSeedDifferent) {
  auto hr = test_image(2, 256);
  auto mask = disc_mask(2, 256, 80.0);
  auto options = facesr::DegradationOptions().no_blur_probability(0.0).noise_probability(1.0);
  auto a = facesr::degrade_fixed(hr, mask, options, 42);
  auto b = facesr::degrade_fixed(hr, mask, options, 42);
  auto c = facesr::degrade_fixed(hr, mask, options, 43);
  EXPECT_TRUE(torch::equal(a.blurred_hr, b.blurred_hr));
  EXPECT_TRUE(torch::equal(a.lr, b.lr));
  EXPECT_TRUE(torch::equal(a.motion, b.motion));
  EXPECT_GT(max_abs_diff(a.blurred_hr, c.blurred_hr), 0.05);
  EXPECT_GT(max_abs_diff(a.lr, c.lr), 0.01);
  // A caller-held generator advances: two calls in a row differ.
  auto rng = at::make_generator<at::CPUGeneratorImpl>(42);
  auto first = facesr::degrade(hr, mask, options, rng);
  auto second = facesr::degrade(hr, mask, options, rng);
  EXPECT_TRUE(torch::equal(first.lr, a.lr));
  EXPECT_FALSE(torch::equal(first.lr, second.lr));
}

TEST(Degrade, ShapesRangeAndNoGrad) {
  auto hr = test_image(3, 256).requires_grad_(true);
  auto mask = disc_mask(3, 256, 70.0);
  for (auto options : {facesr::DegradationOptions(),
                       facesr::DegradationOptions().defocus_probability(1.0).noise_probability(1.0)}) {
    auto out = facesr::degrade_fixed(hr, mask, options, 5);
    EXPECT_EQ(out.blurred_hr.sizes(), (std::vector<int64_t>{3, 3, 256, 256}));
    EXPECT_EQ(out.lr.sizes(), (std::vector<int64_t>{3, 3, 32, 32}));
    EXPECT_EQ(out.motion.sizes(), (std::vector<int64_t>{3, 2, 256, 256}));
    for (const auto& t : {out.blurred_hr, out.lr}) {
      EXPECT_GE(t.min().item<double>(), -1.0);
      EXPECT_LE(t.max().item<double>(), 1.0);
      EXPECT_FALSE(t.requires_grad());
      EXPECT_EQ(t.device(), hr.device());
    }
    const double noise = (out.lr - facesr::downsample8(out.blurred_hr)).abs().max().item<double>();
    if (options.noise_probability() == 0.0)
      EXPECT_LT(noise, 1e-6);  // lr is exactly the downsampled blurred HR
    else
      EXPECT_GT(noise, 1.0 / 255.0);
  }
}

TEST(Degrade, RejectsBadInput) {
  auto hr = test_image(1, 256);
  auto mask = disc_mask(1, 256, 70.0);
  facesr::DegradationOptions options;
  EXPECT_THROW(facesr::degrade_fixed(test_image(1, 32), mask, options, 0), std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr.narrow(1, 0, 1), mask, options, 0), std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, disc_mask(2, 256, 70.0), options, 0), std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask.expand({1, 3, 256, 256}), options, 0),
               std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask * 2.0, options, 0), std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask, facesr::DegradationOptions().translation_min(30.0), 0), std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask, facesr::DegradationOptions().noise_probability(1.5), 0),
               std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask, facesr::DegradationOptions().samples(-1), 0),
               std::invalid_argument);
}

TEST(Degrade, CudaMatchesCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  auto hr = test_image(2, 256);
  auto mask = disc_mask(2, 256, 70.0);
  facesr::DegradationOptions options;
  auto cpu = facesr::degrade_fixed(hr, mask, options, 9);
  auto gpu = facesr::degrade_fixed(hr.cuda(), mask.cuda(), options, 9);
  EXPECT_TRUE(gpu.lr.is_cuda());
  EXPECT_LT(max_abs_diff(cpu.lr, gpu.lr.cpu()), 1e-3);
  EXPECT_LT(max_abs_diff(cpu.blurred_hr, gpu.blurred_hr.cpu()), 1e-3);
}

// ---- augmentation (training/augment.h) ----------------------------------------------------------

namespace {

at::Generator rng(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// A smooth off-centre blob in [0, 1]: bicubic and bilinear resampling agree on it closely.
torch::Tensor blob(int64_t n, int64_t size) {
  auto c = torch::arange(size, torch::kFloat32);
  auto r2 = (c.view({size, 1}) - 100).pow(2) + (c.view({1, size}) - 150).pow(2);
  return torch::exp(-r2 / (2 * 30.0 * 30.0)).view({1, 1, size, size}).expand({n, 1, size, size}).contiguous();
}

}  // namespace

TEST(Augment, NoneIsIdentity) {
  auto hr = test_image(4, 64);
  auto mask = disc_mask(4, 64, 20.0);
  auto gen = rng(3);
  auto out = facesr::augment(hr, mask, facesr::no_augmentation(), gen);
  EXPECT_TRUE(torch::equal(out.hr, hr));
  EXPECT_TRUE(torch::equal(out.mask, mask));
}

TEST(Augment, FlipsOnlyFlipSomeFacesAndNothingElse) {
  auto hr = test_image(16, 32);
  auto mask = blob(16, 32);
  auto gen = rng(5);
  auto out = facesr::augment(hr, mask, facesr::flips_only(), gen);
  int flipped = 0, kept = 0;
  for (int64_t i = 0; i < 16; ++i) {
    const bool is_flipped = torch::equal(out.hr[i], hr[i].flip({2}));
    const bool is_kept = torch::equal(out.hr[i], hr[i]);
    EXPECT_TRUE(is_flipped || is_kept) << "face " << i;
    EXPECT_TRUE(torch::equal(out.mask[i], is_flipped ? mask[i].flip({2}) : mask[i])) << "face " << i;
    flipped += is_flipped;
    kept += is_kept;
  }
  EXPECT_GT(flipped, 0);
  EXPECT_GT(kept, 0);
}

TEST(Augment, GeometricJitterMovesFaceAndMaskTogether) {
  const int64_t n = 8, size = 256;
  auto mask = blob(n, size);
  auto hr = (mask * 2 - 1).expand({n, 3, size, size}).contiguous();  // the face *is* the mask
  auto options = facesr::flips_only().flip(false).geometric_probability(1.0).scale(0.1).rotation(10).translation(0.05);
  auto gen = rng(11);
  auto out = facesr::augment(hr, mask, options, gen);
  EXPECT_GT((out.mask - mask).abs().max().item<double>(), 0.05) << "nothing moved";
  EXPECT_LT(max_abs_diff(out.hr.select(1, 0), out.mask.select(1, 0) * 2 - 1), 0.02);
  EXPECT_LE(out.hr.abs().max().item<double>(), 1.0);
}

TEST(Augment, ColourJitterKeepsRangeAndLeavesMask) {
  auto hr = test_image(8, 64);
  auto mask = disc_mask(8, 64, 20.0);
  auto options = facesr::flips_only().flip(false).brightness(0.1).contrast(0.2).saturation(0.2);
  auto gen = rng(2);
  auto out = facesr::augment(hr, mask, options, gen);
  EXPECT_TRUE(torch::equal(out.mask, mask));
  EXPECT_LE(out.hr.abs().max().item<double>(), 1.0);
  EXPECT_GT(max_abs_diff(out.hr, hr), 0.01);
  // Brightness and contrast move the mean, not the picture: the jittered face still correlates.
  auto a = out.hr - out.hr.mean(), b = hr - hr.mean();
  EXPECT_GT(((a * b).sum() / (a.norm() * b.norm())).item<double>(), 0.9);
}

TEST(Augment, SameSeedSameResultAndBadOptionsRejected) {
  auto hr = test_image(4, 64);
  auto mask = disc_mask(4, 64, 20.0);
  facesr::AugmentOptions options;
  auto g1 = rng(7), g2 = rng(7), g3 = rng(8);
  auto a = facesr::augment(hr, mask, options, g1), b = facesr::augment(hr, mask, options, g2),
       c = facesr::augment(hr, mask, options, g3);
  EXPECT_TRUE(torch::equal(a.hr, b.hr));
  EXPECT_TRUE(torch::equal(a.mask, b.mask));
  EXPECT_FALSE(torch::equal(a.hr, c.hr));
  EXPECT_THROW(facesr::augment(hr, mask, facesr::AugmentOptions().rotation(-1), g1), std::invalid_argument);
  EXPECT_THROW(facesr::augment(hr, mask.expand({4, 3, 64, 64}), options, g1), std::invalid_argument);
}

// ---- JPEG (degradation.h: jpeg_compress) --------------------------------------------------------

TEST(Jpeg, ConstantImageStaysConstant) {
  auto image = torch::full({1, 3, 32, 32}, 100.0 / 127.5 - 1.0);
  auto out = facesr::jpeg_compress(image, {75.0});
  EXPECT_LT(max_abs_diff(out, image), 1.5 / 127.5) << "a flat grey is only its DC coefficient";
}

TEST(Jpeg, LowerQualityLosesMoreAndQualityZeroKeepsTheImage) {
  // Smooth detail (pixel noise would be dominated by the 4:2:0 chroma subsampling at any quality).
  auto image = facesr::gaussian_blur(test_image(1, 32, 4), {1.2});
  auto error = [&](double q) { return (facesr::jpeg_compress(image, {q}) - image).square().mean().item<double>(); };
  const double q10 = error(10), q50 = error(50), q95 = error(95);
  EXPECT_GT(q10, q50);
  EXPECT_GT(q50, q95);
  EXPECT_LT(q95, q10 / 4);
  auto two = test_image(2, 32, 5);
  auto out = facesr::jpeg_compress(two, {0.0, 30.0});  // 0 = this image is not compressed
  EXPECT_TRUE(torch::equal(out[0], two[0]));
  EXPECT_GT(max_abs_diff(out[1], two[1]), 0.01);
}

TEST(Jpeg, BlocksShowAtLowQuality) {
  // A smooth ramp compressed hard turns into 8x8 blocks: the jumps sit on block borders.
  auto ramp = torch::linspace(-0.8, 0.8, 32).view({1, 1, 1, 32}).expand({1, 3, 32, 32}).contiguous();
  auto out = facesr::jpeg_compress(ramp, {5.0});
  auto steps = (out.slice(3, 1) - out.slice(3, 0, 31)).abs().mean({0, 1, 2});  // 31 column steps
  double at_borders = 0, inside = 0;
  for (int64_t k = 0; k < 31; ++k) ((k + 1) % 8 == 0 ? at_borders : inside) += steps[k].item<double>();
  EXPECT_GT(at_borders / 3.0, 2.0 * inside / 28.0);
}

TEST(Jpeg, DegradeAppliesItOnlyWhenAskedAndKeepsTheRandomStream) {
  auto hr = test_image(2, 256, 6);
  auto mask = disc_mask(2, 256, 70.0);
  facesr::DegradationOptions plain, jpeg;
  jpeg.jpeg_probability(1.0).jpeg_quality_min(10).jpeg_quality_max(10);
  auto a = facesr::degrade_fixed(hr, mask, plain, 3), b = facesr::degrade_fixed(hr, mask, jpeg, 3);
  EXPECT_TRUE(torch::equal(a.blurred_hr, b.blurred_hr)) << "JPEG must not change the blur draws";
  EXPECT_GT(max_abs_diff(a.lr, b.lr), 0.02);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask, facesr::DegradationOptions().jpeg_quality_max(101), 3),
               std::invalid_argument);
  EXPECT_THROW(facesr::jpeg_compress(torch::zeros({1, 3, 24, 24}), {50.0}), std::invalid_argument);
}

// ---- Small faces (degradation.h: small_face_probability) ------------------------------------------

namespace {
namespace F = torch::nn::functional;

// What the element feeds the network for a face whose crop is m x m pixels: area-averaged to m,
// then bicubic up to 32x32.
torch::Tensor captured_at(const torch::Tensor& blurred_hr, int64_t m) {
  auto face = F::adaptive_avg_pool2d(blurred_hr, F::AdaptiveAvgPool2dFuncOptions({m, m}));
  return F::interpolate(face, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{32, 32})
                                  .mode(torch::kBicubic)
                                  .align_corners(false))
      .clamp(-1.0, 1.0);
}

// Mean squared difference between horizontally neighbouring pixels: the input's fine detail.
double fine_detail(const torch::Tensor& image) {
  return (image.narrow(3, 1, image.size(3) - 1) - image.narrow(3, 0, image.size(3) - 1)).square().mean().item<double>();
}
}  // namespace

TEST(SmallFaces, InputIsTheFaceAtItsCaptureSizeResizedUpWithBicubic) {
  auto hr = test_image(3, 256, 8);
  auto mask = disc_mask(3, 256, 70.0);
  facesr::DegradationOptions plain, small;
  small.small_face_probability(1.0).small_face_side_min(16).small_face_side_max(16);
  auto a = facesr::degrade_fixed(hr, mask, plain, 5), b = facesr::degrade_fixed(hr, mask, small, 5);
  EXPECT_TRUE(torch::equal(a.blurred_hr, b.blurred_hr)) << "small faces must not change the blur draws";
  EXPECT_EQ(a.capture_sides, (std::vector<int64_t>{32, 32, 32}));
  EXPECT_EQ(b.capture_sides, (std::vector<int64_t>{16, 16, 16}));
  ASSERT_EQ(b.lr.sizes(), a.lr.sizes());
  EXPECT_LT(max_abs_diff(b.lr, captured_at(b.blurred_hr, 16)), 1e-6);
  EXPECT_LT(fine_detail(b.lr), 0.6 * fine_detail(a.lr)) << "a face captured at 16 px has less detail than one at 32";
}

TEST(SmallFaces, OnlyTheDrawnFacesAreSmallAndTheirSidesSpanTheRange) {
  constexpr int64_t n = 96;
  auto hr = test_image(n, 256, 9);
  auto mask = disc_mask(n, 256, 70.0);
  auto plain = camera_off().foreground_probability(0.0), small = plain;  // no blur: many faces, quickly
  small.small_face_probability(0.5).small_face_side_min(12).small_face_side_max(31);
  auto a = facesr::degrade_fixed(hr, mask, plain, 6), b = facesr::degrade_fixed(hr, mask, small, 6);
  int64_t smalls = 0, lowest = 32, highest = 0;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t m = b.capture_sides[i];
    if (m == 32) {
      EXPECT_TRUE(torch::equal(b.lr[i], a.lr[i])) << "face " << i << " kept its 32x32 capture";
      continue;
    }
    ++smalls;
    lowest = std::min(lowest, m);
    highest = std::max(highest, m);
    EXPECT_GE(m, 12);
    EXPECT_LE(m, 31);
    EXPECT_LT(max_abs_diff(b.lr.narrow(0, i, 1), captured_at(b.blurred_hr.narrow(0, i, 1), m)), 1e-6) << "face " << i;
  }
  EXPECT_GT(smalls, n / 4);
  EXPECT_LT(smalls, 3 * n / 4);
  EXPECT_LE(lowest, 14);
  EXPECT_GE(highest, 29);
}

TEST(SmallFaces, NoiseAndJpegHappenAtTheCaptureSizeAndBadSidesAreRejected) {
  auto hr = test_image(2, 256, 10);
  auto mask = disc_mask(2, 256, 70.0);
  facesr::DegradationOptions small, cctv;
  small.small_face_probability(1.0).small_face_side_min(20).small_face_side_max(20);
  cctv = small;
  cctv.noise_probability(1.0).noise_sigma_min(8).noise_sigma_max(8).jpeg_probability(1.0).jpeg_quality_min(20).jpeg_quality_max(20);
  auto clean = facesr::degrade_fixed(hr, mask, small, 4), noisy = facesr::degrade_fixed(hr, mask, cctv, 4);
  EXPECT_TRUE(torch::equal(clean.blurred_hr, noisy.blurred_hr));
  EXPECT_GT(max_abs_diff(clean.lr, noisy.lr), 0.02);
  EXPECT_LE(noisy.lr.abs().max().item<double>(), 1.0);
  // Made at 20x20 and resized up: the 32x32 input is as smooth as a bicubic 20 -> 32 resize allows,
  // far smoother than noise added at 32x32 would leave it.
  auto noise_at_32 = (clean.lr + torch::randn_like(clean.lr) * (8.0 * 2.0 / 255.0)).clamp(-1.0, 1.0);
  EXPECT_LT(fine_detail(noisy.lr - clean.lr), 0.6 * fine_detail(noise_at_32 - clean.lr));
  EXPECT_THROW(facesr::degrade_fixed(hr, mask, facesr::DegradationOptions().small_face_probability(1).small_face_side_max(32), 4),
               std::invalid_argument);
  EXPECT_THROW(facesr::degrade_fixed(hr, mask, facesr::DegradationOptions().small_face_probability(1).small_face_side_min(20).small_face_side_max(16), 4),
               std::invalid_argument);
}
