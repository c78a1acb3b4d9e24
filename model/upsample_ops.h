// The generator's x2 upsampling steps and activations as tensor operations (internal to model/):
// the exact 2x2-conv form of the 4x4 stride-2 transposed conv, phase-major conv outputs, and one
// pass that applies an activation, interleaves the four output phases and writes them into a view
// (a channel range of the next step's input buffer). See generator.h for why.
#pragma once

#include <torch/torch.h>

#include "generator.h"

namespace facesr::upsample_ops {

constexpr double kLeakySlope = 0.2;  // encoder and LR upsampler activations (pix2pix)

enum class Activation { None, Relu, LeakyRelu };

// ConvTranspose2d's in x out x 4 x 4 weight as a 2x2 conv's (4 out) x in x 2 x 2 weight whose output
// channel (2a+b) * out + c is output channel c at pixel phase (a, b) (rows 2i+a, columns 2j+b).
torch::Tensor subpixel_weight_of(const torch::Tensor& transposed);

// The pixels of output phase (a, b) of an x2 step whose conv gave `y` in phase-major channel order:
// that channel block, shifted by (a, b) for the 2x2 sub-pixel conv (whose output is one larger).
torch::Tensor phase_of(const torch::Tensor& y, UpsampleMode mode, int64_t a, int64_t b, int64_t h, int64_t w);

// dst <- activation(src), same shape, any strides (dst may be a view into a bigger buffer).
void activate_into(const torch::Tensor& dst, const torch::Tensor& src, Activation activation);

// dst (n x out x 2h x 2w, any strides) <- the four phases of `y` through the activation, in one pass.
void interleave_phases(const torch::Tensor& y, UpsampleMode mode, const torch::Tensor& dst, Activation activation);

// A new n x out x 2h x 2w tensor (in y's memory layout) from the phases of `y` through the
// activation; h x w is the step's input size.
torch::Tensor interleaved(const torch::Tensor& y, UpsampleMode mode, int64_t h, int64_t w, Activation activation);

// HeadMode::Subpixel (generator.h). The reference form (training, noise, ResizeConv): activated
// features (N x C x 2h x 2w) -> N x 3 x 2h x 2w through the 1x1 `conv` (4C -> 12) on 2x2 pixel blocks;
// for Transposed steps the blocks are those of the features padded by one zero pixel.
torch::Tensor subpixel_head(torch::nn::Conv2d& conv, const torch::Tensor& features, UpsampleMode mode);

// The same before its pixel shuffle and crop (add_shuffled does those), from the activated
// phase-major conv outputs of the features' x2 steps (several: the parts of a channel concatenation,
// in order), without forming the features.
torch::Tensor subpixel_blocks_from_phases(torch::nn::Conv2dImpl& conv, const std::vector<torch::Tensor>& phases,
                                          UpsampleMode mode);

// In place, a last x2 step's phase-major conv output `y` made into subpixel_blocks_from_phases'
// input: through the activation, and for Transposed steps with the row and column beyond the 2h x 2w
// output on each side (y is (h+1) x (w+1)) zeroed, as subpixel_head's padding is.
void activate_phases_for_heads(torch::Tensor& y, UpsampleMode mode, Activation activation);

// base (N x C x H x W, float) + the image whose 2x2 pixel blocks `blocks` holds (N x 4C x h' x w',
// pixel_shuffle's channel order c * 4 + 2r + s; the image is pixel_shuffle(blocks) with `shift`
// pixels cropped from the top and left, and H x W kept), clamped to [-1, 1] when `clamp`: the
// residual Subpixel heads in one pass instead of shuffle, crop, conversion, sum and clamp. New NCHW
// tensor. CPU loops for float32 / bf16 blocks, ATen elsewhere (and where gradients are needed).
torch::Tensor add_shuffled(const torch::Tensor& base, const torch::Tensor& blocks, int64_t shift, bool clamp);

}  // namespace facesr::upsample_ops
