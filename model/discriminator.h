// The two discriminators of the method (training only). PatchGAN-style stacks of 7 convolutions
// with batch norm and LeakyReLU; the last conv gives one unbounded score per patch (no sigmoid: the
// losses are least-squares, see losses.h).
//   global D_g: input I_LRf (+) HR image, 6 channels, 256x256 -- conditioned on the upsampled input.
//   local  D_l: input M_face x HR image, 3 channels, 256x256 -- sees only the face region.
#pragma once

#include <torch/torch.h>

namespace facesr {

struct DiscriminatorOptions {
  TORCH_ARG(int64_t, in_channels) = 6;
  TORCH_ARG(int64_t, ndf) = 64;  // width of the first conv; later ones use up to 8x ndf
  TORCH_ARG(int64_t, layers) = 7;  // conv layers in all, >= 3; layers-2 of them halve resolution
};

class DiscriminatorImpl : public torch::nn::Module {
 public:
  explicit DiscriminatorImpl(DiscriminatorOptions options = {});
  // input: N x in_channels x 256 x 256 -> N x 1 x P x P patch scores.
  torch::Tensor forward(const torch::Tensor& input);
  // The activations after each LeakyReLU (layers - 1 of them, coarse to fine last), then the patch
  // scores last: what feature matching (losses.h) compares.
  std::vector<torch::Tensor> forward_features(const torch::Tensor& input);
  const DiscriminatorOptions& options() const { return options_; }

 private:
  void check_input(const torch::Tensor& input) const;
  DiscriminatorOptions options_;
  torch::nn::Sequential body_{nullptr};
};
TORCH_MODULE(Discriminator);

inline Discriminator make_global_discriminator(int64_t ndf) {
  return Discriminator(DiscriminatorOptions().in_channels(6).ndf(ndf));
}
inline Discriminator make_local_discriminator(int64_t ndf) {
  return Discriminator(DiscriminatorOptions().in_channels(3).ndf(ndf));
}

}  // namespace facesr
