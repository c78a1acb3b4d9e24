// Losses of the method (../shared/DESIGN.md):
//   L_G = L_GAN(G, D_g) + L_GAN(G, D_l) + lambda1 * L_pix + lambda2 * L_vgg,  lambda1 = 100, lambda2 = 10
// with least-squares GAN losses (LSGAN: real -> 1, fake -> 0, no sigmoid in the discriminators).
#pragma once

#include <torch/torch.h>

#include "vgg19.h"

namespace facesr {

constexpr double kLambdaPix = 100.0;
constexpr double kLambdaVgg = 10.0;
constexpr double kLambdaFeatureMatching = 10.0;  // pix2pixHD's weight

// Discriminator loss: 0.5 * (mean (D(real) - 1)^2 + mean D(fake)^2).
torch::Tensor lsgan_discriminator_loss(const torch::Tensor& real_scores, const torch::Tensor& fake_scores);
// Generator loss: 0.5 * mean (D(fake) - 1)^2.
torch::Tensor lsgan_generator_loss(const torch::Tensor& fake_scores);

struct PixelLoss {
  torch::Tensor total;   // masked + sharp + blurred
  torch::Tensor masked;  // L1(M x I_HR_hat, M x I_HR)
  torch::Tensor sharp;   // L1(I_HR_hat, I_HR)
  torch::Tensor blurred; // L1(I_HRB_hat, I_HRB)
};

// mask: N x 1 x 256 x 256 in [0, 1] (face region); images N x 3 x 256 x 256.
PixelLoss pixel_loss(const torch::Tensor& sharp, const torch::Tensor& sharp_target,
                     const torch::Tensor& blurred, const torch::Tensor& blurred_target,
                     const torch::Tensor& mask);

// Feature matching (pix2pixHD, Wang et al. 2018): mean over a discriminator's intermediate layers of
// L1(D_i(fake), D_i(real)), the real side a constant. Both lists as forward_features gives them; the
// last entry (the patch scores) is not compared. Stands in for the VGG-19 perceptual term when no
// ImageNet weights can be had: it needs only the discriminators the method trains anyway.
torch::Tensor feature_matching_loss(const std::vector<torch::Tensor>& fake_features,
                                    const std::vector<torch::Tensor>& real_features);

// Sum over pool1..pool5 of L1 between VGG-19 features of `output` and `target` (both in [-1, 1]).
torch::Tensor perceptual_loss(Vgg19FeaturesImpl& vgg, const torch::Tensor& output, const torch::Tensor& target);

}  // namespace facesr
