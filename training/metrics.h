// Image-quality and distribution metrics for evaluation: PSNR, SSIM and the Frechet distance behind
// FID (the paper reports PSNR / SSIM / FID on 256x256 outputs; ../shared/DESIGN.md).
//
// Images are N x 3 x H x W, RGB, float in [-1, 1] (the project's tensor contract), on any device.
// They are mapped to the 8-bit scale, x -> (x + 1) * 127.5 in [0, 255], without rounding, and all
// arithmetic is in double precision. Per-image results come back as an N-element float64 CPU tensor.
//
// PSNR: 10 log10(255^2 / MSE), MSE over all pixels (and channels) of one image. Identical images
// (MSE = 0) give +infinity, not a cap: average finite values only, or report the count of exact hits.
//
// SSIM: Wang, Bovik, Sheikh, Simoncelli, "Image Quality Assessment: From Error Visibility to
// Structural Similarity" (IEEE TIP 2004), with its reference settings: 11x11 Gaussian window of sigma
// 1.5, K1 = 0.01, K2 = 0.03, L = 255, 'valid' filtering (no padding, so the map is (H-10) x (W-10)),
// the mean of the SSIM map per image. By default on the Y channel (luma, ITU-R BT.601 as in most SR
// papers: Y = 16 + 65.481 R + 128.553 G + 24.966 B with R, G, B in [0, 1], so Y in [16, 235]);
// MetricChannels::Rgb computes it on each of R, G, B and averages the three.
//
// Frechet distance between Gaussians N(mu1, S1) and N(mu2, S2) (FID when mu, S are Inception
// statistics): ||mu1 - mu2||^2 + Tr(S1 + S2 - 2 (S1 S2)^(1/2)). Tr (S1 S2)^(1/2) is computed through
// symmetric eigendecompositions only: sqrt(S1) from eigh(S1), M = sqrt(S1) S2 sqrt(S1) (symmetric
// PSD, same eigenvalues as S1 S2), Tr sqrt(S1 S2) = sum sqrt(max(eig(M), 0)). This is stable for
// singular covariances (fewer samples than dimensions), where a general matrix square root is not.
//
// Sharpness: the high-frequency energy of an image is the mean square of the 3x3 Laplacian (4-neighbour)
// of its Y over the 'valid' region; sharpness_ratio(result, truth) is the result's energy over the
// truth's: 1.0 = as much fine detail as the truth, smooth results score below 1, added noise or
// ringing can push it above 1 (read it beside PSNR and BRISQUE, never alone).
//
// Bad shapes throw std::invalid_argument.
#pragma once

#include <torch/torch.h>

namespace facesr {

enum class MetricChannels {
  Luma,  // Y of ITU-R BT.601 (studio range 16..235)
  Rgb,   // each of R, G, B, averaged
};

// PSNR in dB per image (N values); channels: Rgb (default, MSE over all three) or Luma.
torch::Tensor psnr(const torch::Tensor& a, const torch::Tensor& b,
                   MetricChannels channels = MetricChannels::Rgb);

// SSIM per image (N values); H and W must be at least 11. Default: on Y.
torch::Tensor ssim(const torch::Tensor& a, const torch::Tensor& b,
                   MetricChannels channels = MetricChannels::Luma);

// Y (ITU-R BT.601, [16, 235]) of N x 3 x H x W images in [-1, 1]; N x 1 x H x W float64.
torch::Tensor luma_bt601(const torch::Tensor& image);

// Mean square of the 3x3 Laplacian of Y per image (N values, float64 CPU); H and W at least 3.
torch::Tensor high_frequency_energy(const torch::Tensor& image);
// high_frequency_energy(result) / high_frequency_energy(truth) per image (N values).
torch::Tensor sharpness_ratio(const torch::Tensor& result, const torch::Tensor& truth);

// Mean (D) and covariance (D x D, unbiased: divided by N - 1) of N x D feature rows, in float64.
struct GaussianStats {
  torch::Tensor mean;
  torch::Tensor covariance;
};
GaussianStats gaussian_stats(const torch::Tensor& features);

// Frechet distance between N(mu1, sigma1) and N(mu2, sigma2): mu D, sigma D x D (symmetric PSD).
// Computed in float64; tiny negative round-off is clamped to 0.
double frechet_distance(const torch::Tensor& mu1, const torch::Tensor& sigma1, const torch::Tensor& mu2,
                        const torch::Tensor& sigma2);

}  // namespace facesr
