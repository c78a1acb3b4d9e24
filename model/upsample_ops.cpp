#include "upsample_ops.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <type_traits>

namespace facesr {
namespace upsample_ops {
namespace {
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


}  // namespace

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

torch::Tensor interleaved(const torch::Tensor& y, UpsampleMode mode, int64_t h, int64_t w, Activation activation) {
  auto result = torch::empty({y.size(0), y.size(1) / 4, 2 * h, 2 * w}, y.options().memory_format(y.suggest_memory_format()));
  interleave_phases(y, mode, result, activation);
  return result;
}

// HeadMode::Subpixel, reference form (training, noise, ResizeConv): the activated 2h x 2w features'
// 2x2 blocks (for Transposed steps: of the features padded by one zero pixel) through the 1x1 conv
// to 12 channels, pixel-shuffled back to 2h x 2w.
torch::Tensor subpixel_head(torch::nn::Conv2d& conv, const torch::Tensor& features, UpsampleMode mode) {
  namespace F = torch::nn::functional;
  const bool shifted = mode == UpsampleMode::Transposed;
  const auto blocks = torch::pixel_unshuffle(shifted ? F::pad(features, F::PadFuncOptions({1, 1, 1, 1})) : features, 2);
  auto out = torch::pixel_shuffle(conv->forward(blocks), 2);
  return shifted ? out.narrow(2, 1, out.size(2) - 2).narrow(3, 1, out.size(3) - 2) : out;
}

// The same before its pixel shuffle and crop (see add_shuffled), from the phase-major conv outputs
// of the features' x2 steps (already activated; several: the parts of a channel concatenation, in
// order), without forming the 2h x 2w features: the 1x1 conv's input channels are permuted to each
// output's phase-major order. A pixel block of the reference holds phase p = 2r + s in channel
// k * 4 + p; phase-major output channel q * C + k holds phase q, which is p for PixelShuffle and
// 3 - q for Transposed (rows 2u-1, 2u of output row u).
torch::Tensor subpixel_blocks_from_phases(torch::nn::Conv2dImpl& conv, const std::vector<torch::Tensor>& phases,
                                          UpsampleMode mode) {
  const bool shifted = mode == UpsampleMode::Transposed;
  torch::Tensor out;
  int64_t offset = 0;
  for (const auto& y : phases) {
    const int64_t c = y.size(1) / 4;
    std::vector<int64_t> index(4 * c);
    for (int64_t q = 0; q < 4; ++q)
      for (int64_t k = 0; k < c; ++k) index[q * c + k] = (offset + k) * 4 + (shifted ? 3 - q : q);
    const auto weight = conv.weight.index_select(1, torch::tensor(index, torch::TensorOptions().device(y.device())))
                            .contiguous(conv.weight.suggest_memory_format());
    auto part = torch::conv2d(y, weight, out.defined() ? torch::Tensor() : conv.bias);
    out = out.defined() ? out.add_(part) : part;
    offset += c;
  }
  return out;
}

namespace {

// A Transposed step's phase-major output y (N x 4C x (h+1) x (w+1)) holds one row and one column of
// pixels beyond the 2h x 2w output on each side (phases with a = 1 in row 0 are output row -1, a = 0
// in row h are row 2h; columns alike): zeroed, as the reference form's padding is.
void zero_outside_output(torch::Tensor& y) {
  const int64_t c = y.size(1) / 4, h = y.size(2) - 1, w = y.size(3) - 1;
  y.narrow(1, 2 * c, 2 * c).narrow(2, 0, 1).zero_();  // a = 1
  y.narrow(1, 0, 2 * c).narrow(2, h, 1).zero_();      // a = 0
  for (int64_t q : {1, 3}) y.narrow(1, q * c, c).narrow(3, 0, 1).zero_();  // b = 1
  for (int64_t q : {0, 2}) y.narrow(1, q * c, c).narrow(3, w, 1).zero_();  // b = 0
}

}  // namespace

void activate_phases_for_heads(torch::Tensor& y, UpsampleMode mode, Activation activation) {
  switch (activation) {
    case Activation::None: break;
    case Activation::Relu: y.relu_(); break;
    case Activation::LeakyRelu: torch::leaky_relu_(y, kLeakySlope); break;
  }
  if (mode == UpsampleMode::Transposed) zero_outside_output(y);
}

namespace {

// add_shuffled's CPU loop: one output row (n, c, y) per task; blocks of `blocks` hold the pixels.
template <typename T>
void add_shuffled_rows(const torch::Tensor& out, const torch::Tensor& base, const torch::Tensor& blocks,
                       int64_t shift, bool clamp) {
  const int64_t c = out.size(1), h = out.size(2), w = out.size(3);
  auto* o = out.data_ptr<float>();
  const auto* b = base.data_ptr<float>();
  const auto* y = static_cast<const T*>(blocks.data_ptr());
  const int64_t b0 = base.stride(0), b1 = base.stride(1), b2 = base.stride(2), b3 = base.stride(3);
  const int64_t y0 = blocks.stride(0), y1 = blocks.stride(1), y2 = blocks.stride(2), y3 = blocks.stride(3);
  at::parallel_for(0, out.size(0) * c * h, 16, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t n = row / (c * h), ch = row / h % c, py = row % h + shift;
      const float* brow = b + n * b0 + ch * b1 + (row % h) * b2;
      const T* yrow = y + n * y0 + (ch * 4 + py % 2 * 2) * y1 + py / 2 * y2;
      float* orow = o + row * w;
      for (int64_t x = 0; x < w; ++x) {
        const int64_t px = x + shift;
        float v = brow[x * b3] + static_cast<float>(yrow[(px % 2) * y1 + (px / 2) * y3]);
        if (clamp) v = std::min(1.0f, std::max(-1.0f, v));
        orow[x] = v;
      }
    }
  });
}

}  // namespace

torch::Tensor add_shuffled(const torch::Tensor& base, const torch::Tensor& blocks, int64_t shift, bool clamp) {
  const bool loops = base.device().is_cpu() && blocks.device().is_cpu() && base.scalar_type() == torch::kFloat32 &&
                     (blocks.scalar_type() == torch::kFloat32 || blocks.scalar_type() == torch::kBFloat16) &&
                     !(torch::GradMode::is_enabled() && (base.requires_grad() || blocks.requires_grad()));
  if (!loops) {
    auto image = torch::pixel_shuffle(blocks, 2);
    if (shift > 0) image = image.narrow(2, shift, base.size(2)).narrow(3, shift, base.size(3));
    auto sum = base + image.to(base.scalar_type());
    return clamp ? sum.clamp(-1.0, 1.0) : sum;
  }
  auto out = torch::empty(base.sizes(), base.options().memory_format(at::MemoryFormat::Contiguous));
  if (blocks.scalar_type() == torch::kBFloat16) add_shuffled_rows<c10::BFloat16>(out, base, blocks, shift, clamp);
  else add_shuffled_rows<float>(out, base, blocks, shift, clamp);
  return out;
}

}  // namespace upsample_ops

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
  // The 2x2 conv (n x 4 out x (h+1) x (w+1)), then each phase's shifted h x w window to its pixels.
  auto y = torch::conv2d(x, upsample_ops::subpixel_weight_of(weight), bias.defined() ? bias.repeat({4}) : bias,
                         /*stride=*/1, /*padding=*/1);
  return upsample_ops::interleaved(y, UpsampleMode::Transposed, x.size(2), x.size(3), upsample_ops::Activation::None);
}

}  // namespace facesr
