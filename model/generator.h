// The facesr generator: joint face super-resolution and motion deblurring, 32x32 (8x), 64x64 (4x) or
// 128x128 (2x) -> 256x256
// (Yun & Park, "Joint Face Super-Resolution and Deblurring Using a GAN"; ../shared/DESIGN.md).
//
//   I_LR (3xSxS) --[LR upsampler: conv, log2(scale) x2 steps, conv (5 layers at 8x)]--> I_LRf (3x256x256)
//        (ablation "model1": bicubic upsampling instead of the learned layers)
//   I_LRf --[U-Net encoder, `depth` levels of 4x4 stride-2 convs]--> e_0 ... e_{depth-1}
//        e_k has resolution 256 / 2^(k+1); with depth 8, e_7 is the 1x1 bottleneck.
//   upper decoder: starts at e_{depth-1}; skip connections from the THREE deepest encoder levels
//        below the bottleneck, e_{depth-2}, e_{depth-3}, e_{depth-4} (2x2, 4x4, 8x8 at depth 8); no
//        skips above that. Its last feature map, ngf x 256 x 256, is I_f; a 3x3 conv + tanh on I_f
//        gives the blurred HR face I_HRB.
//   lower decoder: same shape, skip connections from EVERY encoder level e_{depth-2} ... e_0. At its
//        end (256x256) its own ngf-channel features are concatenated with I_f, and a 3x3 conv + tanh
//        on that gives the sharp HR face I_HR.
//
// Residual form (`residual`, default on; off is the paper's plain form): bicubic(I_LR) is added to
// I_LRf, I_HRB and I_HR instead of a tanh at each head, and those three head convs start at a tenth of
// their usual initial weights. The network then starts from bicubic upsampling and learns the
// correction; on the small face sets reachable here this is what lets a short CPU run beat bicubic.
// In eval mode the residual outputs are clamped to [-1, 1]; in training they are not (a clamp would
// stop the gradient of a pixel that overshoots).
//
// All tensors are NCHW, RGB, float in [-1, 1]. Upsampling inside the network (LR upsampler and both
// decoders) is `UpsampleMode::PixelShuffle` by default (the shipped default model uses it).
//
// UpsampleMode::Transposed keeps ConvTranspose2d's weights (and weights files) but computes them
// with conv_transpose_4x4_stride2 below: 2.25x fewer multiply-adds per x2 step than PixelShuffle's
// 3x3 conv to 4x channels (16 vs 36 per input pixel, input and output channel).
//
// Heads (`heads`): HeadMode::Conv3x3 (default; the shipped default model) turns a 256x256 feature map
// into RGB with a 3x3 conv. HeadMode::Subpixel instead maps each 2x2 block of the last x2 step's
// features (its four output phases) to that block's 2x2 RGB pixels with one 1x1 conv (4 C -> 12
// channels) and a pixel shuffle, as ESPCN's output layer does. In inference (fused path) the
// 256x256 feature maps are then never formed: the heads read the step's phase-major conv output
// directly. For Transposed steps the blocks sit one pixel off the phase grid (rows 2u-1 and 2u come
// from conv output row u), so the reference form pads the features by one zero pixel first.
//
// Noise ("w/ N" in the paper): when `NoiseSpec::strength` > 0, Gaussian noise of that standard
// deviation is added after every convolution, drawn from a generator seeded with `NoiseSpec::seed`,
// so the same seed gives the same output. Strength 0 adds nothing and the output is deterministic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <torch/torch.h>

namespace facesr {

// How the network doubles resolution inside the LR upsampler and the decoders.
enum class UpsampleMode {
  PixelShuffle,  // 3x3 conv to 4x channels, then PixelShuffle(2)
  ResizeConv,    // nearest-neighbour x2, then 3x3 conv
  Transposed,    // ConvTranspose2d 4x4 stride 2 (pix2pix), computed as a 2x2 conv (see below)
};

// How I_LR becomes the 256x256 feature image I_LRf.
enum class LrUpsampler {
  Learned,  // the paper's five-layer CNN
  Bicubic,  // ablation "model1"
};

// How the three 256x256 outputs (I_LRf, I_HRB, I_HR) are made from features (see above).
enum class HeadMode {
  Conv3x3,   // 3x3 conv on the 256x256 features
  Subpixel,  // 1x1 conv from each 2x2 block's features to its 2x2 pixels, then pixel shuffle
};

std::string to_string(UpsampleMode mode);
std::string to_string(LrUpsampler mode);
std::string to_string(HeadMode mode);
UpsampleMode upsample_mode_from_string(const std::string& name);  // throws std::invalid_argument
LrUpsampler lr_upsampler_from_string(const std::string& name);   // throws std::invalid_argument
HeadMode head_mode_from_string(const std::string& name);         // throws std::invalid_argument

struct GeneratorOptions {
  // Base width: channels of the first encoder level and of I_f; deeper levels use up to 8x ngf.
  TORCH_ARG(int64_t, ngf) = 16;
  // Number of encoder levels. 8 reaches a 1x1 bottleneck at 256x256; at least 4 (3 upper skips).
  TORCH_ARG(int64_t, depth) = 8;
  TORCH_ARG(LrUpsampler, lr_upsampler) = LrUpsampler::Learned;
  TORCH_ARG(UpsampleMode, upsample) = UpsampleMode::PixelShuffle;
  // Heads add their output to bicubic(I_LR) (see above); false = the paper's tanh heads.
  TORCH_ARG(bool, residual) = true;
  TORCH_ARG(HeadMode, heads) = HeadMode::Conv3x3;
  // Super-resolution factor: 8 (32x32 input, the paper), 4 (64x64) or 2 (128x128); the output is
  // always 256x256. The LR upsampler has log2(scale) x2 steps; encoder and decoders are the same.
  TORCH_ARG(int64_t, scale) = 8;
};

// Throws std::invalid_argument naming the bad field.
void validate(const GeneratorOptions& options);

struct NoiseSpec {
  double strength = 0.0;  // standard deviation of the noise added after each conv; 0 = none
  uint64_t seed = 0;
};

struct GeneratorOutput {
  torch::Tensor sharp;        // I_HR, N x 3 x 256 x 256
  torch::Tensor blurred;      // I_HRB, N x 3 x 256 x 256
  torch::Tensor lr_features;  // I_LRf, N x 3 x 256 x 256 (the global discriminator's condition)
};

constexpr int64_t kOutputSize = 256;
// The input side for a scale: 256 / scale (32, 64 or 128).
inline int64_t input_size(const GeneratorOptions& options) { return kOutputSize / options.scale(); }

class GeneratorImpl : public torch::nn::Module {
 public:
  explicit GeneratorImpl(GeneratorOptions options = {});

  // input: N x 3 x S x S in [-1, 1], S = input_size(options()). Throws std::invalid_argument on any other shape.
  // sharp_only: leave `blurred` undefined and skip its head (inference needs only I_HR).
  GeneratorOutput forward(const torch::Tensor& input, const NoiseSpec& noise = {}, bool sharp_only = false);

  const GeneratorOptions& options() const { return options_; }

  // Inference only: folds every batch norm's running statistics and affine into the conv before it
  // (the decoders' PixelShuffle convs: each group of 4 conv channels shares its output channel's
  // norm), sets the norms to identity and skips them from then on: the same eval-mode outputs
  // (float rounding aside) without a pass over each feature map. Noise added after a folded conv is
  // scaled by that norm's factor, so noisy outputs match too. Training a folded generator is not
  // supported (the norms are gone): forward() in training mode then throws std::logic_error.
  // A folded generator without noise also runs its decoders fused (decode_fused): each x2 step's
  // relu, interleave and concatenation with its skip are one pass into the next step's input.
  void fold_batch_norms();
  bool batch_norms_folded() const { return batch_norms_folded_; }

 private:
  struct Stage;  // shared per-forward state (noise generator)
  // y + noise of the stage's strength, times `scale` per channel when defined (folded norms).
  static torch::Tensor add_noise(const torch::Tensor& y, Stage& stage, const torch::Tensor& scale = {});
  torch::Tensor upsample(torch::nn::Module& block, const torch::Tensor& x, Stage& stage);
  torch::Tensor decode(torch::nn::ModuleList& ups, torch::nn::ModuleList& norms,
                       const std::vector<torch::Tensor>& encoded, int64_t skips, Stage& stage);
  // decode() for folded norms and no noise; returns relu of its output. The last step writes its
  // channels after `front` unused ones of a new buffer, or, when `into` is defined, into its first
  // channels (the rest of `into` is left as it is).
  // With `last_as_phases`, the last step's conv output is returned instead, phase-major and through
  // relu (Subpixel heads), and `front` and `into` are unused.
  torch::Tensor decode_fused(torch::nn::ModuleList& ups, const std::vector<torch::Tensor>& encoded, int64_t skips,
                             int64_t front, const torch::Tensor& into, bool last_as_phases = false);

  GeneratorOptions options_;
  bool batch_norms_folded_ = false;
  std::vector<torch::Tensor> enc_noise_scales_;  // per encoder level after folding (undefined: no norm)
  // LR upsampler: conv in, three x2 upsampling blocks, conv out.
  torch::nn::Conv2d lr_in_{nullptr};
  torch::nn::ModuleList lr_ups_{nullptr};
  torch::nn::Conv2d lr_out_{nullptr};
  // Encoder: one 4x4 stride-2 conv per level; batch norm on levels 1 .. depth-2.
  torch::nn::ModuleList enc_convs_{nullptr};
  torch::nn::ModuleList enc_norms_{nullptr};
  // Decoders: `depth` x2 upsampling blocks each, batch norm after each.
  torch::nn::ModuleList upper_ups_{nullptr};
  torch::nn::ModuleList upper_norms_{nullptr};
  torch::nn::Conv2d upper_out_{nullptr};
  torch::nn::ModuleList lower_ups_{nullptr};
  torch::nn::ModuleList lower_norms_{nullptr};
  torch::nn::Conv2d lower_out_{nullptr};
};
TORCH_MODULE(Generator);

// The generator as the engine runs it: norms folded in float32 (so the fused decoders), then moved
// to `device` and `dtype`, eval mode, and channels-last on the CPU. facesr-eval uses it too, so its
// figures are the engine's.
void prepare_for_inference(GeneratorImpl& generator, torch::Device device, torch::ScalarType dtype);

// The flip self-ensemble: the mean of forward(input) and the mirror image of forward(mirrored input),
// for sharp (and blurred unless sharp_only). Twice the time; measured on the 12 packaged validation
// faces and the 430 CelebA ones: +0.11 / +0.07 dB (default model), +0.11 / +0.06 dB (quality model).
// Outputs in float32.
GeneratorOutput forward_flip_ensemble(GeneratorImpl& generator, const torch::Tensor& input,
                                      const NoiseSpec& noise = {}, bool sharp_only = false);

// Stores every 4-D parameter and buffer of `module` channels-last (NHWC in memory). On the CPU,
// LibTorch 1.13's oneDNN convolutions skip a layout reorder per layer then: 1.5x (training) to 2x
// (bf16 inference) faster at ngf 8-16 here. Feed inputs in the same format.
void to_channels_last(torch::nn::Module& module);

// torch::conv_transpose2d(x, weight, bias, stride 2, padding 1) for a 4x4 kernel (the pix2pix
// upsampling step, UpsampleMode::Transposed), computed as one ordinary 2x2 convolution with padding 1
// whose 4 x out channels are the output's four pixel phases, interleaved afterwards. Same result
// (float rounding aside) and gradients, but through oneDNN: LibTorch 1.13 sends transposed convs to
// a reference kernel, 4-8x slower here. weight: in x out x 4 x 4 (ConvTranspose2d's layout); bias
// may be undefined. Throws std::invalid_argument on other shapes.
torch::Tensor conv_transpose_4x4_stride2(const torch::Tensor& x, const torch::Tensor& weight,
                                         const torch::Tensor& bias);

// F::interpolate(x, {size, size}, bicubic, align_corners false) for square N x C x S x S inputs.
// When size is a multiple of S (>= 5), computed as one small convolution (a 5x5 kernel per output
// phase, the bicubic weights' outer products) and a pixel shuffle: LibTorch's CPU kernel took 5 ms
// of a 55 ms batch of 8 at ngf 8, and a matrix form (R x R^T) 19 ms with Debian's reference BLAS.
// Same values up to float rounding; differentiable.
torch::Tensor bicubic_upsample(const torch::Tensor& x, int64_t size);

// Channels of encoder level k (pix2pix: ngf * min(2^k, 8)).
int64_t encoder_channels(const GeneratorOptions& options, int64_t level);

// Number of skip connections the upper decoder receives (the paper's 3).
constexpr int64_t kUpperDecoderSkips = 3;

}  // namespace facesr
