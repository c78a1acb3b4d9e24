// The generator: shapes, gradient flow, noise, and that it can learn.
#include <gtest/gtest.h>

#include "engine.h"  // cpu_has_fast_bf16
#include "generator.h"
#include "losses.h"

using facesr::Generator;
using facesr::GeneratorOptions;

namespace {
torch::Tensor random_input(int64_t n, uint64_t seed = 0) {
  torch::manual_seed(seed);
  return torch::rand({n, 3, 32, 32}) * 2 - 1;
}

// Non-trivial statistics and affines in every norm, so that folding them changes every conv.
void randomize_norms(Generator& g) {
  torch::NoGradGuard no_grad;
  for (auto& m : g->modules())
    if (auto* bn = m->as<torch::nn::BatchNorm2dImpl>()) {
      bn->running_mean.copy_(torch::randn_like(bn->running_mean) * 0.2);
      bn->running_var.copy_(torch::rand_like(bn->running_var) + 0.5);
      bn->weight.copy_(torch::rand_like(bn->weight) + 0.5);
      bn->bias.copy_(torch::randn_like(bn->bias) * 0.2);
    }
}

void copy_weights(Generator& dst, Generator& src) {
  torch::NoGradGuard no_grad;
  auto params = src->named_parameters();
  for (auto& p : dst->named_parameters()) p.value().copy_(params[p.key()]);
  auto buffers = src->named_buffers();
  for (auto& b : dst->named_buffers()) b.value().copy_(buffers[b.key()]);
}
}  // namespace

class GeneratorShapes : public ::testing::TestWithParam<std::tuple<int64_t, int64_t, facesr::UpsampleMode>> {};

TEST_P(GeneratorShapes, EveryBranchHasTheRightShapeAndRange) {
  const auto [ngf, depth, mode] = GetParam();
  Generator g(GeneratorOptions().ngf(ngf).depth(depth).upsample(mode));
  g->eval();
  torch::NoGradGuard no_grad;
  auto out = g->forward(random_input(2));
  for (const auto& t : {out.sharp, out.blurred, out.lr_features}) {
    EXPECT_EQ(t.sizes(), (std::vector<int64_t>{2, 3, 256, 256}));
    EXPECT_LE(t.abs().max().item<float>(), 1.0f);
    EXPECT_TRUE(torch::isfinite(t).all().item<bool>());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Widths, GeneratorShapes,
    ::testing::Values(std::make_tuple(4, 8, facesr::UpsampleMode::PixelShuffle),
                      std::make_tuple(8, 8, facesr::UpsampleMode::PixelShuffle),
                      std::make_tuple(16, 8, facesr::UpsampleMode::PixelShuffle),
                      std::make_tuple(6, 5, facesr::UpsampleMode::PixelShuffle),
                      std::make_tuple(4, 4, facesr::UpsampleMode::ResizeConv),
                      std::make_tuple(4, 8, facesr::UpsampleMode::Transposed)));

TEST(Generator, BicubicAblationUpsamplesTheInput) {
  Generator g(GeneratorOptions().ngf(4).lr_upsampler(facesr::LrUpsampler::Bicubic));
  auto constant = torch::full({1, 3, 32, 32}, 0.25);
  auto out = g->forward(constant);
  EXPECT_TRUE(torch::allclose(out.lr_features, torch::full({1, 3, 256, 256}, 0.25), 1e-5, 1e-5));
  // No LR upsampler parameters exist in the ablation.
  for (const auto& p : g->named_parameters()) EXPECT_NE(p.key().rfind("lr_", 0), 0u) << p.key();
}

TEST(Generator, ResidualHeadsStartNearBicubicAndTanhHeadsDoNot) {
  namespace F = torch::nn::functional;
  auto input = random_input(2, 3);
  auto bicubic = F::interpolate(input, F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{256, 256})
                                           .mode(torch::kBicubic)
                                           .align_corners(false))
                     .clamp(-1, 1);
  torch::NoGradGuard no_grad;
  auto distance = [&](bool residual) {
    torch::manual_seed(1);
    Generator g(GeneratorOptions().ngf(8).residual(residual));
    g->eval();
    auto out = g->forward(input);
    EXPECT_LE(out.sharp.abs().max().item<float>(), 1.0f);  // clamped in eval mode
    return (out.sharp - bicubic).abs().mean().item<double>();
  };
  const double residual = distance(true), plain = distance(false);
  EXPECT_LT(residual, 0.1) << "residual heads should start as a small correction of bicubic";
  EXPECT_GT(plain, 2 * residual);
}

TEST(Generator, LowPrecisionWeightsKeepFloat32OutputsClose) {
  torch::manual_seed(2);
  Generator g(GeneratorOptions().ngf(8));
  g->eval();
  torch::NoGradGuard no_grad;
  auto input = random_input(2, 4);
  auto reference = g->forward(input).sharp;
  facesr::to_channels_last(*g);
  auto channels_last = g->forward(input.contiguous(at::MemoryFormat::ChannelsLast)).sharp;
  EXPECT_TRUE(torch::allclose(reference, channels_last, 1e-4, 1e-4));
  g->to(torch::kBFloat16);
  auto bf16 = g->forward(input).sharp;
  EXPECT_EQ(bf16.scalar_type(), torch::kFloat32);  // layers in bf16, base and output in float32
  EXPECT_LT((bf16 - reference).abs().mean().item<double>(), 0.01);
}

// Folding also switches noiseless inference to the fused decoders (decode_fused), so this compares
// them with the plain decoders too, in both memory layouts.
// Subpixel heads: the inference path (heads on the last steps' phase-major conv outputs, no 256x256
// feature maps; residual heads: shuffle, crop, sum and clamp in one loop) against the reference (pad,
// pixel unshuffle, 1x1 conv, pixel shuffle) in every branch, per upsampling mode, tanh and residual
// heads, in NCHW and channels-last. Randomized heads, so every output pixel shows its head (a wrong
// phase order or a border missed by the zeroing of the Transposed form would show at once).
TEST(Generator, SubpixelHeadsOnPhasesMatchTheReferenceForm) {
  for (bool residual : {false, true})
  for (auto mode : {facesr::UpsampleMode::PixelShuffle, facesr::UpsampleMode::ResizeConv, facesr::UpsampleMode::Transposed}) {
    torch::manual_seed(9);
    Generator g(GeneratorOptions().ngf(8).upsample(mode).residual(residual).heads(facesr::HeadMode::Subpixel));
    randomize_norms(g);
    torch::NoGradGuard no_grad;
    for (auto& p : g->named_parameters())
      if (p.key().find("_out.") != std::string::npos) p.value().normal_(0.0, 0.5);
    g->eval();
    const auto input = random_input(2, 10);
    const auto reference = g->forward(input);
    ASSERT_GT(reference.sharp.std().item<double>(), 0.05) << "a flat output would test nothing";
    g->fold_batch_norms();
    const auto phases = g->forward(input);
    facesr::to_channels_last(*g);
    const auto channels_last = g->forward(input.contiguous(at::MemoryFormat::ChannelsLast));
    for (const auto* out : {&phases, &channels_last}) {
      const auto name = facesr::to_string(mode) + (residual ? " residual" : " tanh") +
                        (out == &phases ? " NCHW" : " channels-last");
      EXPECT_LT((reference.lr_features - out->lr_features).abs().max().item<double>(), 1e-4) << name;
      EXPECT_LT((reference.blurred - out->blurred).abs().max().item<double>(), 1e-4) << name;
      EXPECT_LT((reference.sharp - out->sharp).abs().max().item<double>(), 1e-4) << name;
    }
    g->to(torch::kBFloat16);  // the engine's CPU precision: the loops' bf16 path
    const auto bf16 = g->forward(input.contiguous(at::MemoryFormat::ChannelsLast));
    const auto diff = (reference.sharp - bf16.sharp).abs();
    EXPECT_LT(diff.mean().item<double>(), 0.01) << facesr::to_string(mode) << " bf16";
    EXPECT_LT(diff.max().item<double>(), 0.1) << facesr::to_string(mode) << " bf16";
  }
}

TEST(Generator, HeadModesHaveTheirWeightShapes) {
  Generator conv(GeneratorOptions().ngf(4));
  Generator subpixel(GeneratorOptions().ngf(4).heads(facesr::HeadMode::Subpixel));
  EXPECT_EQ(conv->named_parameters()["lower_out.weight"].sizes(), (std::vector<int64_t>{3, 8, 3, 3}));
  EXPECT_EQ(subpixel->named_parameters()["lower_out.weight"].sizes(), (std::vector<int64_t>{12, 32, 1, 1}));
  EXPECT_EQ(subpixel->named_parameters()["lr_out.weight"].sizes(), (std::vector<int64_t>{12, 16, 1, 1}));
  EXPECT_EQ(facesr::head_mode_from_string("subpixel"), facesr::HeadMode::Subpixel);
  EXPECT_THROW(facesr::head_mode_from_string("conv1x1"), std::invalid_argument);
}

TEST(Generator, FoldedBatchNormsAndFusedDecodersGiveTheSameOutputs) {
  for (auto mode : {facesr::UpsampleMode::PixelShuffle, facesr::UpsampleMode::ResizeConv, facesr::UpsampleMode::Transposed}) {
    torch::manual_seed(5);
    Generator g(GeneratorOptions().ngf(8).upsample(mode));
    randomize_norms(g);
    g->eval();
    torch::NoGradGuard no_grad;
    auto input = random_input(2, 6);
    auto before = g->forward(input);
    auto noisy_before = g->forward(input, {0.1, 1});
    g->fold_batch_norms();
    EXPECT_TRUE(g->batch_norms_folded());
    auto after = g->forward(input);
    auto noisy_after = g->forward(input, {0.1, 1});
    EXPECT_LT((before.sharp - after.sharp).abs().max().item<double>(), 1e-4) << facesr::to_string(mode);
    EXPECT_LT((before.blurred - after.blurred).abs().max().item<double>(), 1e-4) << facesr::to_string(mode);
    // Noise after a folded conv is scaled by its norm: the same noisy outputs, seed for seed.
    EXPECT_GT((noisy_before.sharp - before.sharp).abs().max().item<double>(), 1e-3) << "noise had no effect";
    EXPECT_LT((noisy_before.sharp - noisy_after.sharp).abs().max().item<double>(), 1e-4) << facesr::to_string(mode);
    auto sharp_only = g->forward(input, {}, /*sharp_only=*/true);
    EXPECT_FALSE(sharp_only.blurred.defined());
    EXPECT_TRUE(torch::equal(sharp_only.sharp, after.sharp));
    facesr::to_channels_last(*g);
    auto channels_last = g->forward(input.contiguous(at::MemoryFormat::ChannelsLast));
    EXPECT_LT((before.sharp - channels_last.sharp).abs().max().item<double>(), 1e-4) << facesr::to_string(mode);
    EXPECT_LT((before.blurred - channels_last.blurred).abs().max().item<double>(), 1e-4) << facesr::to_string(mode);
    g->train();
    EXPECT_THROW(g->forward(input), std::logic_error);
  }
}

// The fused decoders' CPU loops (channels-last) against the same fused decoders through ATen (NCHW),
// in bf16 (the engine's path on this CPU kind), at widths that take their 32-byte chunks (16
// channels), 16-byte chunks (8) and the element-wise rest (12 = 8 + 4). Tanh heads: residual heads
// start near bicubic and would hide a wrong feature map.
TEST(Generator, FusedChannelsLastLoopsMatchAtenInBFloat16) {
  // The engine runs bf16 only where the CPU has it (engine.h); emulated, these 12 forward passes
  // took minutes of the suite on an AVX2-only CPU.
  if (!facesr::cpu_has_fast_bf16())
    GTEST_SKIP() << facesr::cpu_bf16_limit() << ": the engine never runs these loops in bf16 here";
  for (int64_t ngf : {8, 12, 16})
    for (auto mode : {facesr::UpsampleMode::PixelShuffle, facesr::UpsampleMode::Transposed}) {
      torch::manual_seed(7);
      Generator g(GeneratorOptions().ngf(ngf).upsample(mode).residual(false));
      g->eval();
      torch::NoGradGuard no_grad;
      g->fold_batch_norms();
      g->to(torch::kBFloat16);
      auto input = random_input(2, 8);
      auto aten = g->forward(input, {}, /*sharp_only=*/true).sharp;
      facesr::to_channels_last(*g);
      auto loops = g->forward(input.contiguous(at::MemoryFormat::ChannelsLast), {}, /*sharp_only=*/true).sharp;
      ASSERT_GT(aten.std().item<double>(), 0.01) << "a flat output would test nothing";
      const auto diff = (loops - aten).abs();
      EXPECT_LT(diff.mean().item<double>(), 0.005) << "ngf " << ngf << " " << facesr::to_string(mode);
      EXPECT_LT(diff.max().item<double>(), 0.05) << "ngf " << ngf << " " << facesr::to_string(mode);
    }
}

TEST(Generator, TransposedConvAsSubpixelConvMatchesConvTranspose2d) {
  torch::manual_seed(11);
  auto x = torch::randn({2, 5, 7, 6}, torch::requires_grad());
  auto weight = torch::randn({5, 3, 4, 4}, torch::requires_grad());
  auto bias = torch::randn({3}, torch::requires_grad());
  auto reference = torch::conv_transpose2d(x, weight, bias, /*stride=*/2, /*padding=*/1);
  auto ours = facesr::conv_transpose_4x4_stride2(x, weight, bias);
  ASSERT_EQ(ours.sizes(), reference.sizes());
  EXPECT_TRUE(torch::allclose(ours, reference, 1e-5, 1e-5)) << (ours - reference).abs().max().item<double>();
  // Gradients for input, weight and bias: the training path.
  auto upstream = torch::randn_like(reference);
  auto grads_reference = torch::autograd::grad({reference}, {x, weight, bias}, {upstream});
  auto grads_ours = torch::autograd::grad({ours}, {x, weight, bias}, {upstream});
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(torch::allclose(grads_ours[i], grads_reference[i], 1e-4, 1e-4)) << i;
  // Channels-last input, no bias.
  torch::NoGradGuard no_grad;
  auto cl = facesr::conv_transpose_4x4_stride2(x.contiguous(at::MemoryFormat::ChannelsLast), weight, {});
  EXPECT_TRUE(torch::allclose(cl, torch::conv_transpose2d(x, weight, {}, 2, 1), 1e-5, 1e-5));
  EXPECT_THROW(facesr::conv_transpose_4x4_stride2(x, torch::randn({5, 3, 3, 3}), {}), std::invalid_argument);
  EXPECT_THROW(facesr::conv_transpose_4x4_stride2(x, torch::randn({4, 3, 4, 4}), {}), std::invalid_argument);
}

TEST(Generator, BicubicUpsampleMatchesInterpolate) {
  namespace F = torch::nn::functional;
  torch::manual_seed(13);
  for (int64_t side : {1, 5, 32}) {
    auto x = torch::rand({2, 3, side, side}) * 2 - 1;
    auto reference = F::interpolate(x, F::InterpolateFuncOptions()
                                           .size(std::vector<int64_t>{256, 256})
                                           .mode(torch::kBicubic)
                                           .align_corners(false));
    auto ours = facesr::bicubic_upsample(x.contiguous(at::MemoryFormat::ChannelsLast), 256);
    ASSERT_EQ(ours.sizes(), reference.sizes());
    EXPECT_LT((ours - reference).abs().max().item<double>(), 1e-5) << side;
  }
  EXPECT_THROW(facesr::bicubic_upsample(torch::rand({1, 3, 32, 16}), 256), std::invalid_argument);
}

TEST(Generator, TransposedModeFollowsItsWeightsAfterTheyChange) {
  // The inference path caches the rearranged weights: a changed weight must not leave it stale.
  torch::manual_seed(12);
  Generator g(GeneratorOptions().ngf(4).depth(4).upsample(facesr::UpsampleMode::Transposed));
  Generator fresh(GeneratorOptions().ngf(4).depth(4).upsample(facesr::UpsampleMode::Transposed));
  g->eval();
  fresh->eval();
  torch::NoGradGuard no_grad;
  auto input = random_input(1, 3);
  g->forward(input);  // fills the cache
  copy_weights(g, fresh);  // in place: same storage
  EXPECT_TRUE(torch::allclose(g->forward(input).sharp, fresh->forward(input).sharp, 1e-5, 1e-5));
  g->to(torch::kBFloat16);  // new storage and dtype
  EXPECT_LT((g->forward(input).sharp - fresh->forward(input).sharp).abs().max().item<double>(), 0.05);
}

TEST(Generator, RejectsBadOptionsAndInputs) {
  EXPECT_THROW(Generator(GeneratorOptions().depth(3)), std::invalid_argument);
  EXPECT_THROW(Generator(GeneratorOptions().depth(9)), std::invalid_argument);
  EXPECT_THROW(Generator(GeneratorOptions().ngf(0)), std::invalid_argument);
  EXPECT_THROW(Generator(GeneratorOptions().scale(3)), std::invalid_argument);
  EXPECT_THROW(Generator(GeneratorOptions().scale(16)), std::invalid_argument);
  Generator g(GeneratorOptions().ngf(4));
  EXPECT_THROW(g->forward(torch::zeros({1, 3, 64, 64})), std::invalid_argument);
  EXPECT_THROW(g->forward(torch::zeros({3, 32, 32})), std::invalid_argument);
}

// Issue 36: the 4x (64x64) and 2x (128x128) generators: log2(scale) x2 steps in the LR upsampler,
// the same encoder and decoders, 256x256 outputs; each refuses the other sizes; folded = reference.
TEST(Generator, FourAndTwoTimesModelsTakeTheirInputSizes) {
  for (int64_t scale : {4, 2}) {
    torch::manual_seed(11);
    Generator g(GeneratorOptions().ngf(4).depth(6).scale(scale).residual(true));
    const int64_t side = 256 / scale;
    EXPECT_EQ(facesr::input_size(g->options()), side);
    int64_t steps = 0;
    for (const auto& p : g->named_parameters())
      if (p.key().rfind("lr_ups.", 0) == 0 && p.key().find(".conv.weight") != std::string::npos) ++steps;
    EXPECT_EQ(steps, scale == 4 ? 2 : 1);
    g->eval();
    torch::NoGradGuard no_grad;
    const auto x = torch::rand({2, 3, side, side}) * 2 - 1;
    const auto out = g->forward(x);
    EXPECT_EQ(out.sharp.sizes(), (std::vector<int64_t>{2, 3, 256, 256}));
    EXPECT_EQ(out.blurred.sizes(), (std::vector<int64_t>{2, 3, 256, 256}));
    EXPECT_THROW(g->forward(torch::zeros({1, 3, 32, 32})), std::invalid_argument);
    // Residual heads start near bicubic(I_LR) of this input size.
    const auto bicubic = facesr::bicubic_upsample(x, 256).clamp(-1, 1);
    EXPECT_LT((out.sharp - bicubic).abs().mean().item<double>(), 0.1);
    Generator folded(GeneratorOptions().ngf(4).depth(6).scale(scale).residual(true));
    torch::manual_seed(11);
    folded = Generator(GeneratorOptions().ngf(4).depth(6).scale(scale).residual(true));
    folded->eval();
    facesr::prepare_for_inference(*folded, torch::kCPU, torch::kFloat32);
    EXPECT_LT((folded->forward(x.contiguous(at::MemoryFormat::ChannelsLast)).sharp - out.sharp).abs().max().item<double>(), 1e-4);
  }
}

TEST(Generator, GradientsReachEveryParameter) {
  Generator g(GeneratorOptions().ngf(4));
  g->train();
  auto out = g->forward(random_input(2));
  (out.sharp.mean() + out.blurred.mean() + out.lr_features.mean()).backward();
  // The upper decoder feeds the lower one through I_f, so the sharp output alone must also reach it.
  for (const auto& p : g->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
  }
  g->zero_grad();
  g->forward(random_input(2)).sharp.mean().backward();
  for (const auto& p : g->named_parameters()) {
    if (p.key().rfind("upper_ups", 0) == 0 && p.key().find("weight") != std::string::npos) {
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << "I_f does not reach " << p.key();
    }
  }
}

TEST(Generator, NoiseIsSeededAndOffMeansDeterministic) {
  Generator g(GeneratorOptions().ngf(4));
  g->eval();
  torch::NoGradGuard no_grad;
  auto x = random_input(2);
  auto plain1 = g->forward(x).sharp;
  auto plain2 = g->forward(x).sharp;
  EXPECT_TRUE(torch::equal(plain1, plain2));
  auto a = g->forward(x, {0.1, 7}).sharp;
  auto b = g->forward(x, {0.1, 7}).sharp;
  auto c = g->forward(x, {0.1, 8}).sharp;
  EXPECT_TRUE(torch::equal(a, b));
  EXPECT_GT((a - c).abs().mean().item<double>(), 1e-3);
  EXPECT_GT((a - plain1).abs().mean().item<double>(), 1e-3);
  EXPECT_TRUE(torch::equal(g->forward(x, {0.0, 99}).sharp, plain1));
}

TEST(Generator, LearnsFourPairsWithPixelLoss) {
  at::set_num_threads(2);
  torch::manual_seed(3);
  Generator g(GeneratorOptions().ngf(8));
  g->train();
  auto input = random_input(4, 11);
  // Targets: smooth images derived from the input (what the network must learn to map to).
  namespace F = torch::nn::functional;
  auto target = F::interpolate(input, F::InterpolateFuncOptions()
                                          .size(std::vector<int64_t>{256, 256})
                                          .mode(torch::kBilinear)
                                          .align_corners(false)).flip({3}) * 0.8;
  auto blurred_target = F::avg_pool2d(target, F::AvgPool2dFuncOptions(5).stride(1).padding(2));
  auto mask = torch::zeros({4, 1, 256, 256});
  mask.index_put_({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(64, 192),
                   torch::indexing::Slice(64, 192)}, 1.0);
  torch::optim::Adam adam(g->parameters(), torch::optim::AdamOptions(2e-3).betas({0.5, 0.999}));
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    auto out = g->forward(input);
    auto loss = facesr::pixel_loss(out.sharp, target, out.blurred, blurred_target, mask).total;
    adam.zero_grad();
    loss.backward();
    adam.step();
    if (step == 0) first = loss.item<double>();
    last = loss.item<double>();
  }
  std::cout << "L_pix: " << first << " -> " << last << " (" << first / last << "x lower)\n";
  EXPECT_LT(last, first / 10) << "L_pix went from " << first << " to " << last;
}

// ---- CUDA (skipped where LibTorch sees no GPU; tests/gpu/run.sh runs them on a GPU machine) -------

namespace {
// Exact float32 on the GPU: cuDNN would otherwise use TF32 for float32 convolutions (LibTorch's default).
struct NoTf32 {
  bool before = at::globalContext().allowTF32CuDNN();
  NoTf32() { at::globalContext().setAllowTF32CuDNN(false); }
  ~NoTf32() { at::globalContext().setAllowTF32CuDNN(before); }
};
}  // namespace

// The engine's CUDA path: prepare_for_inference on CUDA (folded norms, fused decoders through ATen's
// kernels, no channels-last) against the plain CPU forward, per upsampling mode, and in fp16/bf16.
TEST(GeneratorCuda, PreparedForInferenceMatchesTheCpuForward) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  NoTf32 exact;
  for (auto mode : {facesr::UpsampleMode::PixelShuffle, facesr::UpsampleMode::ResizeConv, facesr::UpsampleMode::Transposed}) {
    torch::manual_seed(21);
    Generator cpu(GeneratorOptions().ngf(8).upsample(mode).residual(false));
    randomize_norms(cpu);
    cpu->eval();
    torch::NoGradGuard no_grad;
    auto input = random_input(3, 22);
    auto reference = cpu->forward(input);
    ASSERT_GT(reference.sharp.std().item<double>(), 0.01) << "a flat output would test nothing";
    for (auto dtype : {torch::kFloat32, torch::kFloat16, torch::kBFloat16}) {
      Generator gpu(GeneratorOptions().ngf(8).upsample(mode).residual(false));
      copy_weights(gpu, cpu);
      facesr::prepare_for_inference(*gpu, torch::kCUDA, dtype);
      auto out = gpu->forward(input.to(torch::kCUDA, dtype));
      ASSERT_TRUE(out.sharp.is_cuda());
      const double tolerance = dtype == torch::kFloat32 ? 1e-4 : dtype == torch::kFloat16 ? 0.02 : 0.06;
      const auto sharp = (out.sharp.cpu().to(torch::kFloat32) - reference.sharp).abs();
      const auto blurred = (out.blurred.cpu().to(torch::kFloat32) - reference.blurred).abs();
      EXPECT_LT(sharp.mean().item<double>(), tolerance / 4) << facesr::to_string(mode) << " " << dtype;
      EXPECT_LT(sharp.max().item<double>(), tolerance * 4) << facesr::to_string(mode) << " " << dtype;
      EXPECT_LT(blurred.mean().item<double>(), tolerance / 4) << facesr::to_string(mode) << " " << dtype;
      // Channels-last on the GPU (1.4x faster in fp16/bf16 at batch 64 on an H200; not the engine's
      // default there yet): the same function.
      facesr::to_channels_last(*gpu);
      auto cl = gpu->forward(input.to(torch::kCUDA, dtype).contiguous(at::MemoryFormat::ChannelsLast));
      EXPECT_LT((cl.sharp - out.sharp).abs().max().item<double>(), tolerance) << facesr::to_string(mode) << " " << dtype;
    }
  }
}

// Training on CUDA: the transposed conv's gradients and the bicubic base agree with the CPU.
TEST(GeneratorCuda, TransposedConvGradientsAndBicubicMatchTheCpu) {
  if (!torch::cuda::is_available()) GTEST_SKIP() << "no CUDA device";
  NoTf32 exact;
  torch::manual_seed(23);
  auto x = torch::randn({2, 5, 7, 6}), weight = torch::randn({5, 3, 4, 4}), bias = torch::randn({3});
  auto run = [&](torch::Device device) {
    auto xd = x.to(device).requires_grad_(), wd = weight.to(device).requires_grad_(), bd = bias.to(device).requires_grad_();
    auto y = facesr::conv_transpose_4x4_stride2(xd, wd, bd);
    auto grads = torch::autograd::grad({(y * y).sum()}, {xd, wd, bd});
    return std::vector<torch::Tensor>{y.detach().cpu(), grads[0].cpu(), grads[1].cpu(), grads[2].cpu()};
  };
  auto cpu = run(torch::kCPU), gpu = run(torch::kCUDA);
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(torch::allclose(gpu[i], cpu[i], 1e-4, 1e-4)) << i;
  torch::NoGradGuard no_grad;
  auto image = torch::rand({2, 3, 32, 32}) * 2 - 1;
  EXPECT_LT((facesr::bicubic_upsample(image.cuda(), 256).cpu() - facesr::bicubic_upsample(image, 256)).abs().max().item<double>(),
            1e-5);
}
