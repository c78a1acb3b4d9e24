// Augmentation of training faces before the degradation (issue #6): horizontal flips (the paper's),
// then, beyond the paper, small geometric and colour jitter. The online degradation already gives a
// fresh blur every epoch; the jitter gives the network new pixels too, which matters on the tens of
// faces that can be had here.
//
//   geometric (with probability geometric_probability per face): a similarity transform about the
//     image centre, scale 1 + U(-scale, scale), rotation U(-rotation, rotation) degrees, translation
//     U(-translation, translation) x 256 px on each axis; bicubic resampling of the face and the same
//     warp of the mask (bilinear), border pixels replicated as the crop rule pads.
//   colour (every face): brightness + U(-brightness, brightness) (in [0, 1] units), contrast about the
//     image mean x (1 + U(-contrast, contrast)), saturation about each pixel's luma
//     x (1 + U(-saturation, saturation)); clamped to [-1, 1]. The mask is not touched.
//
// Randomness: a fixed number of draws per face from the caller's at::Generator (the trainer seeds it
// by step, so a resumed run augments exactly as an uninterrupted one). All ranges 0 and flip off =
// identity. Inputs: hr N x 3 x H x W and mask N x 1 x H x W, float, hr in [-1, 1].
#pragma once

#include <torch/torch.h>

namespace facesr {

struct AugmentOptions {
  TORCH_ARG(bool, flip) = true;
  TORCH_ARG(double, geometric_probability) = 0.5;
  TORCH_ARG(double, scale) = 0.08;       // +-8 %
  TORCH_ARG(double, rotation) = 8.0;     // +-8 degrees
  TORCH_ARG(double, translation) = 0.03; // +-3 % of the side (+-8 px at 256)
  TORCH_ARG(double, brightness) = 0.06;
  TORCH_ARG(double, contrast) = 0.12;
  TORCH_ARG(double, saturation) = 0.15;
};

// The paper's augmentation only: flips, no jitter.
AugmentOptions flips_only();
// No augmentation at all.
AugmentOptions no_augmentation();

// Throws std::invalid_argument naming a negative or out-of-range option.
void validate(const AugmentOptions& options);

struct Augmented {
  torch::Tensor hr, mask;
};

Augmented augment(const torch::Tensor& hr, const torch::Tensor& mask, const AugmentOptions& options,
                  at::Generator& gen);

}  // namespace facesr
