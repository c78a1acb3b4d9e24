#include "generator.h"

#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>

#include <cstring>
#include <type_traits>
#include <stdexcept>

namespace facesr {
namespace nn = torch::nn;

namespace {

constexpr double kLeakySlope = 0.2;  // encoder and LR upsampler activations (pix2pix)
constexpr int64_t kLrUpsamplerBlocks = 3;  // three x2 blocks: 32 -> 256
constexpr double kResidualHeadInitScale = 0.1;  // residual heads start at a tenth of the default init

// One x2 resolution step. Holds a single conv so that noise goes after it like after any other conv.
struct UpBlockImpl : nn::Module {
  UpBlockImpl(int64_t in, int64_t out, UpsampleMode mode) : mode(mode) {
    switch (mode) {
      case UpsampleMode::PixelShuffle:
        conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out * 4, 3).padding(1)));
        break;
      case UpsampleMode::ResizeConv:
        conv = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, 3).padding(1)));
        break;
      case UpsampleMode::Transposed:
        tconv = register_module(
            "conv", nn::ConvTranspose2d(nn::ConvTranspose2dOptions(in, out, 4).stride(2).padding(1)));
        break;
    }
  }
  UpsampleMode mode;
  nn::Conv2d conv{nullptr};
  nn::ConvTranspose2d tconv{nullptr};
  // After fold_batch_norms: the folded norm's per-channel scale, which noise added after the conv
  // must get too (BN(conv + n) = folded conv + scale * n). Undefined: 1.
  torch::Tensor noise_scale;
  // Inference: the conv's weight and bias with output channels in phase-major order (see
  // phase_of): Transposed, tconv's weight rearranged as a 2x2 conv; PixelShuffle, conv's channels
  // reordered. Made on the first forward that needs them and again whenever the weight changes
  // (other storage, dtype or version).
  torch::Tensor phase_weight, phase_bias;
  const void* phase_source = nullptr;
  int64_t phase_version = -1;
};
TORCH_MODULE(UpBlock);

// See conv_transpose_4x4_stride2 in generator.h. Output pixel (2i+a, 2j+b) of the transposed conv
// sums input rows {i-1, i} (a = 0: kernel rows 3, 1) or {i, i+1} (a = 1: kernel rows 2, 0), and the
// same for columns with b. A 2x2 conv with padding 1 gives at (p, q) the window of rows {p-1, p} and
// columns {q-1, q}, so phase (a, b) is its output at (i+a, j+b) with the kernel taps picked as above.
// The conv computes the four phases as four blocks of `out` channels over (H+1) x (W+1) positions.
constexpr int64_t kPhaseTaps[2][2] = {{3, 1}, {2, 0}};

torch::Tensor subpixel_weight_of(const torch::Tensor& transposed) {  // in x out x 4 x 4
  const int64_t in = transposed.size(0), out = transposed.size(1);
  std::vector<torch::Tensor> phases;
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 2; ++b) {
      auto rows = torch::tensor({kPhaseTaps[a][0], kPhaseTaps[a][1]}, torch::kLong).to(transposed.device());
      auto cols = torch::tensor({kPhaseTaps[b][0], kPhaseTaps[b][1]}, torch::kLong).to(transposed.device());
      phases.push_back(transposed.index_select(2, rows).index_select(3, cols));  // in x out x 2 x 2
    }
  // (phase, in, out, 2, 2) -> (phase * out, in, 2, 2): output channel = phase * out + c.
  return torch::stack(phases).transpose(1, 2).reshape({4 * out, in, 2, 2});
}

// The pixels of output phase (a, b) (rows 2i+a, columns 2j+b) of an x2 step whose conv gave `y` in
// phase-major channel order (channel (2a+b) * out + c is output channel c of phase (a, b)): that
// channel block, shifted by (a, b) for the 2x2 sub-pixel conv (whose output is one larger).
torch::Tensor phase_of(const torch::Tensor& y, UpsampleMode mode, int64_t a, int64_t b, int64_t h, int64_t w) {
  const int64_t out = y.size(1) / 4;
  auto block = y.narrow(1, (2 * a + b) * out, out);
  return mode == UpsampleMode::Transposed ? block.narrow(2, a, h).narrow(3, b, w) : block;
}

enum class Activation { None, Relu, LeakyRelu };

// The CPU loops below need channels adjacent in memory (stride(1) == 1: channels-last tensors and
// their channel ranges). Each pixel's channels go in fixed chunks of 32 and 16 bytes, which the
// compiler turns into vector code.
template <typename T, typename F>
inline void map_pixel(T* __restrict dp, const T* __restrict sp, int64_t c, F f) {
  constexpr int64_t kChunk = 32 / sizeof(T), kHalfChunk = kChunk / 2;
  int64_t k = 0;
  for (; k + kChunk <= c; k += kChunk)
    for (int64_t q = 0; q < kChunk; ++q) dp[k + q] = f(sp[k + q]);
  if (k + kHalfChunk <= c) {  // ngf 8 in bf16: 8 channels, 16 bytes
    for (int64_t q = 0; q < kHalfChunk; ++q) dp[k + q] = f(sp[k + q]);
    k += kHalfChunk;
  }
  for (; k < c; ++k) dp[k] = f(sp[k]);
}

// dst[n, c, y, x] = f(src[n, c, y, x]), one (n, y) row per task.
template <typename T, typename F>
void map_channel_runs(const torch::Tensor& dst, const torch::Tensor& src, F f) {
  const int64_t h = dst.size(2), w = dst.size(3), c = dst.size(1);
  auto* d = static_cast<T*>(dst.data_ptr());
  const auto* s = static_cast<const T*>(src.data_ptr());
  const int64_t ds0 = dst.stride(0), ds2 = dst.stride(2), ds3 = dst.stride(3);
  const int64_t ss0 = src.stride(0), ss2 = src.stride(2), ss3 = src.stride(3);
  at::parallel_for(0, dst.size(0) * h, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      T* drow = d + (r / h) * ds0 + (r % h) * ds2;
      const T* srow = s + (r / h) * ss0 + (r % h) * ss2;
      for (int64_t x = 0; x < w; ++x) map_pixel(drow + x * ds3, srow + x * ss3, c, f);
    }
  });
}

// dst[n, c, 2y+a, 2x+b] = f(phase[2a+b][n, c, y, x]): the four phases (same sizes and strides) in
// one pass over dst, row after row, so each source row is read while it is in cache.
template <typename T, typename F>
void interleave_channel_runs(const torch::Tensor& dst, const torch::Tensor (&phase)[4], F f) {
  const int64_t h = phase[0].size(2), w = phase[0].size(3), c = dst.size(1);
  auto* d = static_cast<T*>(dst.data_ptr());
  const T* s[4];
  for (int k = 0; k < 4; ++k) s[k] = static_cast<const T*>(phase[k].data_ptr());
  const int64_t ds0 = dst.stride(0), ds2 = dst.stride(2), ds3 = dst.stride(3);
  const int64_t ss0 = phase[0].stride(0), ss2 = phase[0].stride(2), ss3 = phase[0].stride(3);
  at::parallel_for(0, dst.size(0) * h, 1, [&](int64_t begin, int64_t end) {
    for (int64_t r = begin; r < end; ++r) {
      const int64_t n = r / h, y = r % h;
      for (int64_t a = 0; a < 2; ++a) {
        T* drow = d + n * ds0 + (2 * y + a) * ds2;
        const T* s0 = s[2 * a] + n * ss0 + y * ss2;
        const T* s1 = s[2 * a + 1] + n * ss0 + y * ss2;
        for (int64_t x = 0; x < w; ++x) {
          map_pixel(drow + 2 * x * ds3, s0 + x * ss3, c, f);
          map_pixel(drow + (2 * x + 1) * ds3, s1 + x * ss3, c, f);
        }
      }
    }
  });
}

// relu on the bit pattern: an IEEE float (any width) is negative when its top bit is set.
template <typename Bits>
struct ReluBits {
  Bits operator()(Bits v) const {
    using Signed = std::make_signed_t<Bits>;
    return v & static_cast<Bits>(~(static_cast<Signed>(v) >> (8 * sizeof(Bits) - 1)));
  }
};
template <typename Bits>
struct Same {
  Bits operator()(Bits v) const { return v; }
};
struct LeakyFloat {
  float operator()(float v) const { return v > 0.0f ? v : v * static_cast<float>(kLeakySlope); }
};
struct LeakyBFloat16 {  // bf16 -> float, leaky relu, back with round-to-nearest-even (as ATen)
  uint16_t operator()(uint16_t v) const {
    uint32_t bits = static_cast<uint32_t>(v) << 16;
    float f;
    std::memcpy(&f, &bits, sizeof f);
    f = f > 0.0f ? f : f * static_cast<float>(kLeakySlope);
    std::memcpy(&bits, &f, sizeof f);
    return static_cast<uint16_t>((bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16);
  }
};

// Runs `loop` with the element type and functor for `activation` when the CPU loops apply to
// these tensors (see map_pixel); returns false otherwise.
template <typename Loop>
bool with_channel_runs(const torch::Tensor& dst, const torch::Tensor& src, Activation activation, Loop loop) {
  const auto dtype = dst.scalar_type();
  if (!(dst.device().is_cpu() && src.device().is_cpu() && dtype == src.scalar_type() && dst.dim() == 4 &&
        src.dim() == 4 && dst.size(1) == src.size(1) && dst.stride(1) == 1 && src.stride(1) == 1))
    return false;
  if (dtype == torch::kFloat32) {
    switch (activation) {
      case Activation::None: loop(uint32_t{}, Same<uint32_t>()); return true;
      case Activation::Relu: loop(uint32_t{}, ReluBits<uint32_t>()); return true;
      case Activation::LeakyRelu: loop(float{}, LeakyFloat()); return true;
    }
  }
  if (dtype != torch::kBFloat16 && dtype != torch::kFloat16) return false;
  switch (activation) {
    case Activation::None: loop(uint16_t{}, Same<uint16_t>()); return true;
    case Activation::Relu: loop(uint16_t{}, ReluBits<uint16_t>()); return true;
    case Activation::LeakyRelu:
      if (dtype != torch::kBFloat16) return false;
      loop(uint16_t{}, LeakyBFloat16());
      return true;
  }
  return false;
}

// dst <- activation(src) with ATen (any device, dtype and strides; dst may be a view).
void activate_with_aten(const torch::Tensor& dst, const torch::Tensor& src, Activation activation) {
  auto target = dst;  // the out= functions take a non-const reference; writes go through the view
  switch (activation) {
    case Activation::None: target.copy_(src); break;
    case Activation::Relu: at::clamp_min_out(target, src, 0); break;
    case Activation::LeakyRelu: at::leaky_relu_out(target, src, kLeakySlope); break;
  }
}

// dst <- activation(src), same shape, any strides (dst may be a view into a bigger buffer). On the
// CPU with channels adjacent in memory (the engine's channels-last layout) the loops above:
// LibTorch's element-wise kernels only vectorize along a contiguous last dimension, which these
// strided views lack. Elsewhere (CUDA, NCHW): ATen.
void activate_into(const torch::Tensor& dst, const torch::Tensor& src, Activation activation) {
  const bool done = with_channel_runs(dst, src, activation, [&](auto type, auto f) {
    map_channel_runs<decltype(type)>(dst, src, f);
  });
  if (!done) activate_with_aten(dst, src, activation);
}

// dst (n x out x 2h x 2w, any strides, e.g. a channel range of a bigger buffer) <- the phases of
// `y`, through the activation: activation, interleave and concatenation in one pass.
void interleave_phases(const torch::Tensor& y, UpsampleMode mode, const torch::Tensor& dst, Activation activation) {
  const int64_t n = dst.size(0), out = dst.size(1), h = dst.size(2) / 2, w = dst.size(3) / 2;
  const torch::Tensor phases[4] = {phase_of(y, mode, 0, 0, h, w), phase_of(y, mode, 0, 1, h, w),
                                   phase_of(y, mode, 1, 0, h, w), phase_of(y, mode, 1, 1, h, w)};
  const bool done = with_channel_runs(dst, phases[0], activation, [&](auto type, auto f) {
    interleave_channel_runs<decltype(type)>(dst, phases, f);
  });
  if (done) return;
  auto pixels = dst.view({n, out, h, 2, w, 2});
  for (int64_t a = 0; a < 2; ++a)
    for (int64_t b = 0; b < 2; ++b) activate_with_aten(pixels.select(5, b).select(3, a), phases[2 * a + b], activation);
}

// The 2x2 conv, then each phase's shifted H x W window copied to its pixels of the 2H x 2W output.
torch::Tensor subpixel_conv(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  auto y = torch::conv2d(x, weight, bias, /*stride=*/1, /*padding=*/1);  // n x 4 out x (h+1) x (w+1)
  auto result = torch::empty({x.size(0), weight.size(0) / 4, 2 * x.size(2), 2 * x.size(3)},
                             y.options().memory_format(y.suggest_memory_format()));
  interleave_phases(y, UpsampleMode::Transposed, result, Activation::None);
  return result;
}

// Transposed or PixelShuffle block: its conv's weight and bias in phase-major order (PixelShuffle's
// own order is c * 4 + 2a + b); cached unless gradients must flow through them (training).
std::pair<torch::Tensor, torch::Tensor> phase_major_parameters(UpBlockImpl& block) {
  const bool transposed = block.mode == UpsampleMode::Transposed;
  const auto& weight = transposed ? block.tconv->weight : block.conv->weight;
  const auto& bias = transposed ? block.tconv->bias : block.conv->bias;
  auto make = [&] {
    if (transposed) return std::make_pair(subpixel_weight_of(weight), bias.repeat({4}));
    const int64_t out = weight.size(0) / 4;
    return std::make_pair(weight.view({out, 4, weight.size(1), 3, 3}).transpose(0, 1).reshape(weight.sizes()),
                          bias.view({out, 4}).t().reshape({-1}));
  };
  if (weight.requires_grad() && torch::GradMode::is_enabled()) return make();  // training
  const int64_t version = weight.is_inference() ? 0 : weight._version();
  if (!block.phase_weight.defined() || block.phase_source != weight.data_ptr() || block.phase_version != version ||
      block.phase_weight.scalar_type() != weight.scalar_type()) {
    torch::NoGradGuard no_grad;
    std::tie(block.phase_weight, block.phase_bias) = make();
    block.phase_weight = block.phase_weight.contiguous(weight.suggest_memory_format());
    block.phase_source = weight.data_ptr();
    block.phase_version = version;
  }
  return {block.phase_weight, block.phase_bias};
}

// The step's conv in phase-major order (n x 4 out x h x w; Transposed: (h+1) x (w+1)).
torch::Tensor phase_major_conv(UpBlockImpl& block, const torch::Tensor& x) {
  auto [weight, bias] = phase_major_parameters(block);
  const int64_t padding = 1;  // 3x3 conv and the 2x2 sub-pixel conv alike
  return torch::conv2d(x, weight, bias, /*stride=*/1, padding);
}

torch::Tensor transposed_as_conv(UpBlockImpl& block, const torch::Tensor& x) {
  auto y = phase_major_conv(block, x);
  auto result = torch::empty({x.size(0), y.size(1) / 4, 2 * x.size(2), 2 * x.size(3)},
                             y.options().memory_format(y.suggest_memory_format()));
  interleave_phases(y, UpsampleMode::Transposed, result, Activation::None);
  return result;
}

}  // namespace

std::string to_string(UpsampleMode mode) {
  switch (mode) {
    case UpsampleMode::PixelShuffle: return "pixel_shuffle";
    case UpsampleMode::ResizeConv: return "resize_conv";
    case UpsampleMode::Transposed: return "transposed";
  }
  return "?";
}

std::string to_string(LrUpsampler mode) {
  return mode == LrUpsampler::Learned ? "learned" : "bicubic";
}

UpsampleMode upsample_mode_from_string(const std::string& name) {
  for (auto mode : {UpsampleMode::PixelShuffle, UpsampleMode::ResizeConv, UpsampleMode::Transposed})
    if (to_string(mode) == name) return mode;
  throw std::invalid_argument("unknown upsample mode '" + name +
                              "' (expected pixel_shuffle, resize_conv or transposed)");
}

LrUpsampler lr_upsampler_from_string(const std::string& name) {
  for (auto mode : {LrUpsampler::Learned, LrUpsampler::Bicubic})
    if (to_string(mode) == name) return mode;
  throw std::invalid_argument("unknown LR upsampler '" + name + "' (expected learned or bicubic)");
}

void validate(const GeneratorOptions& options) {
  if (options.ngf() < 1 || options.ngf() > 1024)
    throw std::invalid_argument("generator ngf must be in [1, 1024], got " +
                                std::to_string(options.ngf()));
  // 256 / 2^depth must stay >= 1, and the upper decoder needs 3 levels below the bottleneck.
  if (options.depth() < kUpperDecoderSkips + 1 || options.depth() > 8)
    throw std::invalid_argument("generator depth must be in [4, 8], got " +
                                std::to_string(options.depth()));
}

int64_t encoder_channels(const GeneratorOptions& options, int64_t level) {
  return options.ngf() * std::min<int64_t>(int64_t{1} << level, 8);
}

struct GeneratorImpl::Stage {
  double strength = 0.0;
  c10::optional<at::Generator> rng;
};

GeneratorImpl::GeneratorImpl(GeneratorOptions options) : options_(options) {
  validate(options_);
  const int64_t ngf = options_.ngf();
  const int64_t depth = options_.depth();

  if (options_.lr_upsampler() == LrUpsampler::Learned) {
    lr_in_ = register_module("lr_in", nn::Conv2d(nn::Conv2dOptions(3, ngf, 3).padding(1)));
    lr_ups_ = register_module("lr_ups", nn::ModuleList());
    for (int64_t i = 0; i < kLrUpsamplerBlocks; ++i) lr_ups_->push_back(UpBlock(ngf, ngf, options_.upsample()));
    lr_out_ = register_module("lr_out", nn::Conv2d(nn::Conv2dOptions(ngf, 3, 3).padding(1)));
  }

  enc_convs_ = register_module("enc_convs", nn::ModuleList());
  enc_norms_ = register_module("enc_norms", nn::ModuleList());
  for (int64_t k = 0; k < depth; ++k) {
    const int64_t in = k == 0 ? 3 : encoder_channels(options_, k - 1);
    enc_convs_->push_back(
        nn::Conv2d(nn::Conv2dOptions(in, encoder_channels(options_, k), 4).stride(2).padding(1)));
    // No norm on the first level (pix2pix) nor on the bottleneck (1x1 at depth 8: a batch of one
    // would have a single value per channel).
    if (k == 0 || k == depth - 1)
      enc_norms_->push_back(nn::Identity());
    else
      enc_norms_->push_back(nn::BatchNorm2d(encoder_channels(options_, k)));
  }

  auto build_decoder = [&](const char* ups_name, const char* norms_name, int64_t skips,
                           nn::ModuleList& ups, nn::ModuleList& norms) {
    ups = register_module(ups_name, nn::ModuleList());
    norms = register_module(norms_name, nn::ModuleList());
    int64_t in = encoder_channels(options_, depth - 1);
    for (int64_t j = 0; j < depth; ++j) {
      const int64_t target = depth - 2 - j;  // encoder level whose resolution this step reaches
      const int64_t out = target >= 0 ? encoder_channels(options_, target) : ngf;
      ups->push_back(UpBlock(in, out, options_.upsample()));
      norms->push_back(nn::BatchNorm2d(out));
      in = out + (target >= 0 && j < skips ? encoder_channels(options_, target) : 0);
    }
  };
  build_decoder("upper_ups", "upper_norms", kUpperDecoderSkips, upper_ups_, upper_norms_);
  upper_out_ = register_module("upper_out", nn::Conv2d(nn::Conv2dOptions(ngf, 3, 3).padding(1)));
  build_decoder("lower_ups", "lower_norms", depth - 1, lower_ups_, lower_norms_);
  lower_out_ = register_module("lower_out", nn::Conv2d(nn::Conv2dOptions(2 * ngf, 3, 3).padding(1)));

  if (options_.residual()) {
    // Start close to bicubic upsampling: small corrections at first.
    torch::NoGradGuard no_grad;
    for (nn::Conv2d* head : {&lr_out_, &upper_out_, &lower_out_}) {
      if (head->is_empty()) continue;
      (*head)->weight.mul_(kResidualHeadInitScale);
      (*head)->bias.zero_();
    }
  }
}

namespace {

// conv <- norm(conv): output channel c of the conv (or group c of `group` channels for PixelShuffle)
// scaled by gamma / sqrt(var + eps) and shifted; the norm becomes the identity. `out_dim`: the
// weight's output-channel dimension (0 for Conv2d, 1 for ConvTranspose2d).
torch::Tensor fold_into(torch::Tensor& weight, torch::Tensor& bias, nn::BatchNorm2dImpl& norm, int64_t group,
                        int64_t out_dim) {
  auto scale = norm.weight / torch::sqrt(norm.running_var + norm.options.eps());
  auto shift = norm.bias - norm.running_mean * scale;
  scale = scale.repeat_interleave(group);
  shift = shift.repeat_interleave(group);
  std::vector<int64_t> shape(4, 1);
  shape[out_dim] = -1;
  weight.mul_(scale.view(shape).to(weight.dtype()));
  bias.mul_(scale.to(bias.dtype())).add_(shift.to(bias.dtype()));
  norm.weight.fill_(1.0);
  norm.bias.zero_();
  norm.running_mean.zero_();
  norm.running_var.fill_(1.0 - norm.options.eps());
  return scale.clone();  // per conv output channel
}

}  // namespace

void GeneratorImpl::fold_batch_norms() {
  if (batch_norms_folded_) return;
  torch::NoGradGuard no_grad;
  enc_noise_scales_.assign(options_.depth(), torch::Tensor());
  for (int64_t k = 0; k < options_.depth(); ++k)
    if (auto* bn = enc_norms_[k]->as<nn::BatchNorm2dImpl>()) {
      auto& conv = *enc_convs_[k]->as<nn::Conv2dImpl>();
      enc_noise_scales_[k] = fold_into(conv.weight, conv.bias, *bn, 1, 0);
    }
  for (auto decoder : {std::make_pair(&upper_ups_, &upper_norms_), std::make_pair(&lower_ups_, &lower_norms_)})
    for (int64_t j = 0; j < options_.depth(); ++j) {
      auto& block = *(*decoder.first)[j]->as<UpBlockImpl>();
      auto& norm = *(*decoder.second)[j]->as<nn::BatchNorm2dImpl>();
      if (block.mode == UpsampleMode::Transposed)
        block.noise_scale = fold_into(block.tconv->weight, block.tconv->bias, norm, 1, 1);
      else
        block.noise_scale =
            fold_into(block.conv->weight, block.conv->bias, norm, block.mode == UpsampleMode::PixelShuffle ? 4 : 1, 0);
    }
  batch_norms_folded_ = true;
}

torch::Tensor bicubic_upsample(const torch::Tensor& x, int64_t size) {
  namespace F = torch::nn::functional;
  if (x.dim() != 4 || x.size(2) != x.size(3) || size < 1)
    throw std::invalid_argument("bicubic_upsample: expected N x C x S x S input and size >= 1, got " +
                                c10::str(x.sizes()) + " and " + std::to_string(size));
  const int64_t side = x.size(2), scale = size / side;
  auto interpolate = [&](const torch::Tensor& t, std::vector<int64_t> to) {
    return F::interpolate(t, F::InterpolateFuncOptions().size(to).mode(torch::kBicubic).align_corners(false));
  };
  if (side < 5 || size % side != 0) return interpolate(x, {size, size});
  // Output row s*i + p samples input row i + (p + 0.5) / s - 0.5, so its 4 taps lie within rows
  // i-2 .. i+2 for every phase p. The 1-D weights of each phase are read off the interpolation of
  // unit vectors at an interior row i0 (row k of `units` is the k-th unit vector along H; W = 1,
  // which bicubic keeps as it is): column k of that is column k of the size x side matrix R.
  auto units = torch::eye(side, x.options().dtype(torch::kFloat32)).view({side, 1, side, 1});
  auto r = interpolate(units, {size, 1}).view({side, size}).t();  // size x side
  const int64_t i0 = side / 2;
  auto phases = r.narrow(0, scale * i0, scale).narrow(1, i0 - 2, 5);  // scale x 5
  // 2-D kernel of phase (py, px): the outer product; output channel py * scale + px (pixel_shuffle).
  auto kernel = (phases.view({scale, 1, 5, 1}) * phases.view({1, scale, 1, 5})).reshape({scale * scale, 1, 5, 5});
  // Borders: bicubic reads clamped indices, i.e. the edge pixels replicated.
  auto planes = torch::replication_pad2d(x.contiguous().view({-1, 1, side, side}), {2, 2, 2, 2});
  auto y = torch::conv2d(planes, kernel.to(x.scalar_type()));  // (N C) x scale^2 x side x side
  return torch::pixel_shuffle(y, scale).view({x.size(0), x.size(1), size, size});
}

torch::Tensor conv_transpose_4x4_stride2(const torch::Tensor& x, const torch::Tensor& weight,
                                         const torch::Tensor& bias) {
  if (x.dim() != 4 || weight.dim() != 4 || weight.size(2) != 4 || weight.size(3) != 4 || x.size(1) != weight.size(0))
    throw std::invalid_argument("conv_transpose_4x4_stride2: expected N x C x H x W input and C x out x 4 x 4 "
                                "weight, got " + c10::str(x.sizes()) + " and " + c10::str(weight.sizes()));
  return subpixel_conv(x, subpixel_weight_of(weight), bias.defined() ? bias.repeat({4}) : bias);
}

void to_channels_last(nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.contiguous(at::MemoryFormat::ChannelsLast));
}

torch::Tensor GeneratorImpl::add_noise(const torch::Tensor& y, Stage& stage, const torch::Tensor& scale) {
  if (stage.strength <= 0.0) return y;
  // Drawn on the CPU from the seeded generator so a seed gives the same noise on every device.
  auto noise = at::randn(y.sizes(), stage.rng, torch::TensorOptions().dtype(torch::kFloat32)) * stage.strength;
  if (scale.defined()) noise = noise * scale.to(torch::kFloat32).view({1, -1, 1, 1});
  return y + noise.to(y.device(), y.scalar_type());
}

torch::Tensor GeneratorImpl::upsample(nn::Module& module, const torch::Tensor& x, Stage& stage) {
  auto& block = *module.as<UpBlockImpl>();
  switch (block.mode) {
    case UpsampleMode::PixelShuffle:
      return torch::pixel_shuffle(add_noise(block.conv->forward(x), stage, block.noise_scale), 2);
    case UpsampleMode::ResizeConv: {
      namespace F = torch::nn::functional;
      auto up = F::interpolate(x, F::InterpolateFuncOptions()
                                      .scale_factor(std::vector<double>{2.0, 2.0})
                                      .mode(torch::kNearest));
      return add_noise(block.conv->forward(up), stage, block.noise_scale);
    }
    case UpsampleMode::Transposed:
      return add_noise(transposed_as_conv(block, x), stage, block.noise_scale);
  }
  throw std::logic_error("unreachable upsample mode");
}

torch::Tensor GeneratorImpl::decode(nn::ModuleList& ups, nn::ModuleList& norms,
                                    const std::vector<torch::Tensor>& encoded, int64_t skips,
                                    Stage& stage) {
  const int64_t depth = options_.depth();
  auto x = encoded[depth - 1];
  for (int64_t j = 0; j < depth; ++j) {
    x = upsample(*ups[j], torch::relu(x), stage);
    if (!batch_norms_folded_) x = norms[j]->as<nn::BatchNorm2dImpl>()->forward(x);
    const int64_t target = depth - 2 - j;
    if (target >= 0 && j < skips) x = torch::cat({x, encoded[target]}, 1);
  }
  return x;
}

torch::Tensor GeneratorImpl::decode_fused(nn::ModuleList& ups, const std::vector<torch::Tensor>& encoded,
                                          int64_t skips, int64_t front, const torch::Tensor& into) {
  namespace F = torch::nn::functional;
  const int64_t depth = options_.depth();
  auto x = torch::relu(encoded[depth - 1]);
  for (int64_t j = 0; j < depth; ++j) {
    auto& block = *ups[j]->as<UpBlockImpl>();
    // The step's conv output, before the x2 interleave (ResizeConv: after).
    const torch::Tensor y = block.mode == UpsampleMode::ResizeConv
                                ? block.conv->forward(F::interpolate(x, F::InterpolateFuncOptions()
                                                                            .scale_factor(std::vector<double>{2.0, 2.0})
                                                                            .mode(torch::kNearest)))
                                : phase_major_conv(block, x);
    const int64_t out = block.mode == UpsampleMode::ResizeConv ? y.size(1) : y.size(1) / 4;
    const int64_t target = depth - 2 - j;
    const bool last = j == depth - 1;
    const torch::Tensor skip = target >= 0 && j < skips ? encoded[target] : torch::Tensor();
    torch::Tensor next;
    int64_t offset = 0;
    if (last && into.defined()) {
      next = into;
    } else {
      offset = last ? front : 0;
      next = torch::empty({x.size(0), offset + out + (skip.defined() ? skip.size(1) : 0), 2 * x.size(2), 2 * x.size(3)},
                          y.options().memory_format(y.suggest_memory_format()));
    }
    auto own = next.narrow(1, offset, out);
    if (block.mode == UpsampleMode::ResizeConv) activate_into(own, y, Activation::Relu);
    else interleave_phases(y, block.mode, own, Activation::Relu);
    if (skip.defined()) activate_into(next.narrow(1, offset + out, skip.size(1)), skip, Activation::Relu);
    x = next;
  }
  return x;
}

GeneratorOutput GeneratorImpl::forward(const torch::Tensor& input, const NoiseSpec& noise, bool sharp_only) {
  if (input.dim() != 4 || input.size(1) != 3 || input.size(2) != kInputSize ||
      input.size(3) != kInputSize)
    throw std::invalid_argument("generator input must be N x 3 x 32 x 32, got " +
                                c10::str(input.sizes()));
  if (batch_norms_folded_ && is_training())
    throw std::logic_error("generator: a generator with folded batch norms cannot train");
  Stage stage;
  stage.strength = noise.strength;
  if (noise.strength > 0.0) stage.rng = at::make_generator<at::CPUGeneratorImpl>(noise.seed);

  namespace F = torch::nn::functional;
  // bicubic(I_LR): the ablation model1's I_LRf, and the base the residual heads add to.
  torch::Tensor base;
  if (options_.residual() || options_.lr_upsampler() == LrUpsampler::Bicubic)
    base = bicubic_upsample(input, kOutputSize).clamp(-1.0, 1.0);
  // Mixed precision: the layers run in the weights' dtype (bf16/fp16 when the engine converted
  // them), while bicubic(I_LR) and the heads' sums stay in the input's dtype, so a float32 input keeps
  // the residual base exact and gets float32 outputs.
  const auto out_dtype = input.scalar_type();
  const auto net_dtype = enc_convs_[0]->as<nn::Conv2dImpl>()->weight.scalar_type();
  auto head = [&](const torch::Tensor& y) {
    if (!options_.residual()) return torch::tanh(y).to(out_dtype);
    auto x = base + y.to(out_dtype);
    return is_training() ? x : x.clamp(-1.0, 1.0);
  };
  const auto net_input = input.to(net_dtype);
  // Inference without noise: activations, x2 interleaves and skip concatenations fused (decode_fused).
  const bool fused = batch_norms_folded_ && stage.strength <= 0.0;

  GeneratorOutput out;
  if (options_.lr_upsampler() == LrUpsampler::Learned) {
    auto x = torch::leaky_relu(add_noise(lr_in_->forward(net_input), stage), kLeakySlope);
    for (const auto& module : *lr_ups_) {
      auto& block = *module->as<UpBlockImpl>();
      if (fused && block.mode != UpsampleMode::ResizeConv) {  // activation and interleave in one pass
        auto y = phase_major_conv(block, x);
        auto next = torch::empty({x.size(0), y.size(1) / 4, 2 * x.size(2), 2 * x.size(3)},
                                 y.options().memory_format(y.suggest_memory_format()));
        interleave_phases(y, block.mode, next, Activation::LeakyRelu);
        x = next;
      } else {
        x = torch::leaky_relu(upsample(block, x, stage), kLeakySlope);
      }
    }
    out.lr_features = head(add_noise(lr_out_->forward(x), stage));
  } else {
    out.lr_features = base;
  }

  std::vector<torch::Tensor> encoded;
  encoded.reserve(options_.depth());
  auto x = out.lr_features.to(net_dtype);
  for (int64_t k = 0; k < options_.depth(); ++k) {
    if (k > 0) x = torch::leaky_relu(x, kLeakySlope);
    x = add_noise(enc_convs_[k]->as<nn::Conv2dImpl>()->forward(x), stage,
                  batch_norms_folded_ ? enc_noise_scales_[k] : torch::Tensor());
    if (auto* bn = enc_norms_[k]->as<nn::BatchNorm2dImpl>(); bn && !batch_norms_folded_) x = bn->forward(x);
    encoded.push_back(x);
  }

  if (fused) {  // fused decoders
    // One buffer ends both decoders: [lower's last features | I_f], through relu, the sharp head's input.
    const int64_t ngf = options_.ngf();
    auto both = decode_fused(upper_ups_, encoded, kUpperDecoderSkips, /*front=*/ngf, {});
    if (!sharp_only) out.blurred = head(upper_out_->forward(both.narrow(1, ngf, ngf)));
    decode_fused(lower_ups_, encoded, options_.depth() - 1, 0, /*into=*/both);
    out.sharp = head(lower_out_->forward(both));
    return out;
  }
  auto features = decode(upper_ups_, upper_norms_, encoded, kUpperDecoderSkips, stage);  // I_f
  if (!sharp_only) out.blurred = head(add_noise(upper_out_->forward(torch::relu(features)), stage));
  auto lower = decode(lower_ups_, lower_norms_, encoded, options_.depth() - 1, stage);
  out.sharp = head(add_noise(lower_out_->forward(torch::relu(torch::cat({lower, features}, 1))), stage));
  return out;
}

}  // namespace facesr
