// Synthetic degradation of sharp 256x256 training faces into the generator's inputs and targets:
// non-uniform motion blur after Gong et al., "From Motion Blur to Motion Flow" (CVPR 2017), then 8x
// antialiased downsampling (Yun & Park; ../shared/DESIGN.md).
//
//   hr (N x 3 x 256 x 256) --[motion blur along a per-pixel motion field]--> blurred_hr (256x256,
//        the upper decoder's target I_HRB) --[scale x scale area average]--> lr (N x 3 x S x S, I_LR; S = 256/scale)
//
// Motion field: N x 2 x H x W, channel 0 = x (rightwards), channel 1 = y (downwards), in pixels of
// the image it is applied to; each vector is the whole displacement of that pixel over the exposure.
// It is the sum of
//   - camera motion, the same rigid-ish motion for the whole image: a translation t plus a rotation by
//     theta and a zoom by (1 + z) about a random centre c: v_cam(p) = t + ((1 + z) R(theta) - I)(p - c);
//   - with probability `foreground_probability`, an independent translation of the face inside the
//     mask: v(p) = v_cam(p) + mask(p) * v_face (so where mask = 0 only the camera moves).
// Each image's field is then scaled down, if needed, so that its longest vector is `max_length`.
//
// Blur: each output pixel is the mean of K bilinear samples (grid_sample, border padding,
// align_corners = false) along its own vector, centred on the pixel: at offsets t_k * v(p) with
// t_k = (k + 1/2) / K - 1/2, k = 0 .. K-1 (the midpoint rule for the exposure integral from -v/2 to
// +v/2). A uniform horizontal field of length L therefore gives the continuous box filter of length L
// on the linearly interpolated image (exactly so when K = L).
//
// Defaults (all lengths in pixels at 256x256, i.e. divide by 8 for the 32x32 input): camera
// translation 0-24 px, rotation up to +-2 degrees, zoom up to +-3 %, face motion 4-20 px in half of
// the images, no blur at all in 5 %, and every field capped at 40 px. Blur lengths at 256 thus spread
// over roughly 0-40 px, i.e. 0-5 px at 32x32: the range of real CCTV motion blur on a small face
// (a walking person at 1/30-1/50 s exposure), visible but with the face still recognisable at 32x32.
//
// Optional realism beyond the paper, off by default: defocus (a Gaussian blur of random sigma, applied
// to the HR image before the motion blur, so it is part of blurred_hr), Gaussian sensor noise of
// random sigma (added to lr only, as a camera adds it at the captured resolution), and JPEG
// compression of lr at a random quality (baseline JPEG's lossy steps done with tensor ops, so it runs
// on the training device without an image codec: see jpeg_compress).
//
// Randomness: every random choice is drawn on the CPU from the caller's at::Generator, a fixed number
// of draws per image, then the field is built on the input's device. The same generator state gives
// the same degradation on every device; `degrade_fixed` seeds a fresh generator for validation.
// All images are float in [-1, 1]; outputs are clamped to it. Bad shapes or options throw
// std::invalid_argument.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace facesr {

struct DegradationOptions {
  // Camera translation over the exposure: length uniform in [min, max] px, direction uniform.
  // Range 0 .. ~40.
  TORCH_ARG(double, translation_min) = 0.0;
  TORCH_ARG(double, translation_max) = 24.0;
  // Camera rotation about a random centre in the image: angle uniform in [-max, max] degrees.
  // Range 0 .. ~5 (2 degrees moves a point 128 px from the centre by 4.5 px).
  TORCH_ARG(double, rotation_max_degrees) = 2.0;
  // Camera zoom about the same centre: scale change uniform in [-max, max] (0.03 = 3 %). Range 0 .. ~0.1.
  TORCH_ARG(double, zoom_max) = 0.03;
  // Independent face (foreground) motion inside the mask: applied with this probability, length
  // uniform in [min, max] px, direction uniform. Range 0 .. ~40.
  TORCH_ARG(double, foreground_probability) = 0.5;
  TORCH_ARG(double, foreground_min) = 4.0;
  TORCH_ARG(double, foreground_max) = 20.0;
  // Probability that an image gets no motion blur at all (sharp, only downsampled). Small: 0 .. 0.2.
  TORCH_ARG(double, no_blur_probability) = 0.05;
  // Longest motion vector allowed in an image, px; longer fields are scaled down. <= 0: no cap.
  TORCH_ARG(double, max_length) = 40.0;
  // Samples K along each vector; 0 = automatic, per image (see auto_blur_samples).
  TORCH_ARG(int64_t, samples) = 0;

  // Defocus: with this probability, a Gaussian blur of sigma uniform in [min, max] px (at 256).
  TORCH_ARG(double, defocus_probability) = 0.0;
  TORCH_ARG(double, defocus_sigma_min) = 0.5;
  TORCH_ARG(double, defocus_sigma_max) = 4.0;
  // Sensor noise on lr: with this probability, Gaussian noise of standard deviation uniform in
  // [min, max], in 8-bit levels (0 .. 255 scale).
  TORCH_ARG(double, noise_probability) = 0.0;
  TORCH_ARG(double, noise_sigma_min) = 1.0;
  TORCH_ARG(double, noise_sigma_max) = 8.0;
  // JPEG compression of lr (after the noise, as a camera encodes what its sensor gave): with this
  // probability, quality uniform in [min, max] (IJG scale 1 .. 100). See jpeg_compress.
  TORCH_ARG(double, jpeg_probability) = 0.0;
  TORCH_ARG(double, jpeg_quality_min) = 20.0;
  TORCH_ARG(double, jpeg_quality_max) = 90.0;
  // Small faces: with this probability the face was captured at only m x m pixels, m uniform in
  // [min, max] (< 32), and is resized up to the network's 32x32 with bicubic interpolation, as the
  // element does with the crop of a face smaller than ~27 px (cv::INTER_CUBIC): blurred_hr is
  // area-averaged to m x m (an antialiased box filter, as cv::INTER_AREA), the sensor noise and JPEG
  // above are applied at that size (where a camera adds them; JPEG on the m x m face padded by edge
  // replication to a multiple of 16), then bicubic up to 32x32 (half-pixel centres, a = -0.75, as
  // OpenCV's), clamped. The targets stay the sharp 256x256 face: the network learns 8x to 21x.
  TORCH_ARG(double, small_face_probability) = 0.0;
  TORCH_ARG(int64_t, small_face_side_min) = 12;
  TORCH_ARG(int64_t, small_face_side_max) = 31;
  // Downsampling factor: 8 (the 32x32 input of the 8x model), 4 (64x64) or 2 (128x128). The blur is
  // drawn at 256x256 either way; small-face sides must stay below the input side 256 / scale.
  TORCH_ARG(int64_t, scale) = 8;
};

// The small-face capture sides that fit a scale: the sides of the crops the element sends to that
// model (between the next smaller model's input and this one's): 8x 12-31, 4x 32-63, 2x 64-127.
inline std::pair<int64_t, int64_t> small_face_sides_for_scale(int64_t scale) {
  const int64_t side = 256 / scale;
  return scale >= 8 ? std::pair<int64_t, int64_t>{12, side - 1} : std::pair<int64_t, int64_t>{side / 2, side - 1};
}

// Throws std::invalid_argument naming the bad field (negative length, min > max, probability
// outside [0, 1], samples < 0).
void validate(const DegradationOptions& options);

struct Degraded {
  torch::Tensor blurred_hr;  // N x 3 x 256 x 256, the upper decoder's target I_HRB
  torch::Tensor lr;          // N x 3 x S x S (S = 256 / scale), the generator's input I_LR
  std::vector<int64_t> capture_sides;  // per image, the side it was captured at (32, or m for a small face)
  torch::Tensor motion;      // N x 2 x 256 x 256, the motion field that was applied (pixels)
};

// Upper bound of the automatic sample count.
constexpr int64_t kMaxAutoBlurSamples = 64;

// K for a field: max(2, ceil(longest vector) + 1), capped at kMaxAutoBlurSamples, so that
// consecutive samples are less than one pixel apart.
int64_t auto_blur_samples(const torch::Tensor& field);

// A random motion field as described above, N x 2 x H x W float on mask's device.
// mask: N x 1 x H x W in [0, 1] (all zeros: no face region, camera motion only).
torch::Tensor random_motion_field(const torch::Tensor& mask, const DegradationOptions& options,
                                  at::Generator& rng);

// Blurs image (N x C x H x W, floating) along field (N x 2 x H x W, pixels, same device) with
// `samples` samples per pixel; samples <= 0 means auto_blur_samples of each image's own field.
// Differentiable in image.
torch::Tensor motion_blur(const torch::Tensor& image, const torch::Tensor& field, int64_t samples);

// 8x antialiased downsampling by 8x8 area averaging (avg_pool2d): N x C x H x W -> H/8 x W/8.
// H and W must be positive multiples of 8.
torch::Tensor downsample8(const torch::Tensor& image);
// The same by any factor: factor x factor area averaging.
torch::Tensor downsample(const torch::Tensor& image, int64_t factor);

// Gaussian blur with one sigma per image (N values, pixels; 0 = unchanged), replicate padding.
torch::Tensor gaussian_blur(const torch::Tensor& image, const std::vector<double>& sigmas);

// Baseline JPEG's lossy steps on images (N x 3 x H x W in [-1, 1], H and W multiples of 16): 8-bit
// levels, RGB -> YCbCr (JFIF), 4:2:0 chroma subsampling (2x2 means), 8x8 DCT-II per block, quantization
// with the standard luminance / chrominance tables scaled by each image's quality (IJG: 50 = the
// tables, 100 = all ones), inverse DCT, chroma upsampled back (nearest, as simple decoders do),
// YCbCr -> RGB, rounded to 8-bit levels and back to [-1, 1]. `quality`: N values in [1, 100]. The
// entropy coding is lossless and skipped. Not differentiable (rounding).
torch::Tensor jpeg_compress(const torch::Tensor& images, const std::vector<double>& quality);

// The whole degradation. hr: N x 3 x 256 x 256 in [-1, 1]; mask: N x 1 x 256 x 256 in [0, 1], same
// device. Runs without autograd; outputs are on hr's device and do not require grad.
Degraded degrade(const torch::Tensor& hr, const torch::Tensor& mask, const DegradationOptions& options,
                 at::Generator& rng);

// degrade() with a fresh CPU generator seeded with `seed`: same seed, same result (validation, test).
Degraded degrade_fixed(const torch::Tensor& hr, const torch::Tensor& mask,
                       const DegradationOptions& options, uint64_t seed);

}  // namespace facesr
