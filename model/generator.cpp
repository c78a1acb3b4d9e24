#include "generator.h"

#include <ATen/CPUGeneratorImpl.h>

#include <stdexcept>

#include "upsample_ops.h"

namespace facesr {
namespace nn = torch::nn;
using namespace upsample_ops;

namespace {

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

std::string to_string(HeadMode mode) { return mode == HeadMode::Conv3x3 ? "conv3x3" : "subpixel"; }

HeadMode head_mode_from_string(const std::string& name) {
  for (auto mode : {HeadMode::Conv3x3, HeadMode::Subpixel})
    if (to_string(mode) == name) return mode;
  throw std::invalid_argument("unknown head mode '" + name + "' (expected conv3x3 or subpixel)");
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
  if (options.scale() != 2 && options.scale() != 4 && options.scale() != 8)
    throw std::invalid_argument("generator scale must be 2, 4 or 8, got " + std::to_string(options.scale()));
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
  // An RGB head on `in` channels of 256x256 features (see HeadMode).
  auto head_conv = [&](int64_t in) {
    return options_.heads() == HeadMode::Subpixel ? nn::Conv2d(nn::Conv2dOptions(4 * in, 12, 1))
                                                  : nn::Conv2d(nn::Conv2dOptions(in, 3, 3).padding(1));
  };

  if (options_.lr_upsampler() == LrUpsampler::Learned) {
    lr_in_ = register_module("lr_in", nn::Conv2d(nn::Conv2dOptions(3, ngf, 3).padding(1)));
    lr_ups_ = register_module("lr_ups", nn::ModuleList());
    for (int64_t s = options_.scale(); s > 1; s /= 2) lr_ups_->push_back(UpBlock(ngf, ngf, options_.upsample()));
    lr_out_ = register_module("lr_out", head_conv(ngf));
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
  upper_out_ = register_module("upper_out", head_conv(ngf));
  build_decoder("lower_ups", "lower_norms", depth - 1, lower_ups_, lower_norms_);
  lower_out_ = register_module("lower_out", head_conv(2 * ngf));

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

void prepare_for_inference(GeneratorImpl& generator, torch::Device device, torch::ScalarType dtype) {
  generator.fold_batch_norms();  // in float32, before any conversion
  generator.to(device, dtype);
  generator.eval();
  // oneDNN runs NHWC without a reorder per layer: ~1.5x (fp32) to 2x (bf16) on the CPU, measured.
  if (device.is_cpu()) to_channels_last(generator);
}

GeneratorOutput forward_flip_ensemble(GeneratorImpl& generator, const torch::Tensor& input, const NoiseSpec& noise,
                                      bool sharp_only) {
  GeneratorOutput a = generator.forward(input, noise, sharp_only);
  const GeneratorOutput b = generator.forward(input.flip({3}).contiguous(input.suggest_memory_format()), noise, sharp_only);
  auto mean = [](const torch::Tensor& x, const torch::Tensor& mirrored) {
    return x.to(torch::kFloat32).add(mirrored.to(torch::kFloat32).flip({3})).mul_(0.5);
  };
  a.sharp = mean(a.sharp, b.sharp);
  if (!sharp_only) a.blurred = mean(a.blurred, b.blurred);
  a.lr_features = torch::Tensor();  // not meaningful for the mean
  return a;
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
      return add_noise(interleaved(phase_major_conv(block, x), block.mode, x.size(2), x.size(3), Activation::None),
                       stage, block.noise_scale);
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
                                          int64_t skips, int64_t front, const torch::Tensor& into,
                                          bool last_as_phases) {
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
    if (last && last_as_phases && block.mode != UpsampleMode::ResizeConv) {
      auto phases = y;  // this step's own buffer
      activate_phases_for_heads(phases, block.mode, Activation::Relu);
      return phases;
    }
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
  const int64_t side = input_size(options_);
  if (input.dim() != 4 || input.size(1) != 3 || input.size(2) != side || input.size(3) != side)
    throw std::invalid_argument("generator input must be N x 3 x " + std::to_string(side) + " x " +
                                std::to_string(side) + " (scale " + std::to_string(options_.scale()) + "), got " +
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
  const UpsampleMode mode = options_.upsample();
  // Subpixel heads read the last x2 steps' phase-major conv outputs (no 256x256 feature maps).
  const bool heads_on_phases = fused && options_.heads() == HeadMode::Subpixel && mode != UpsampleMode::ResizeConv;
  // An RGB head on activated 256x256 features (the reference form of either head mode).
  auto rgb = [&](nn::Conv2d& conv, const torch::Tensor& features) {
    return options_.heads() == HeadMode::Subpixel ? subpixel_head(conv, features, mode) : conv->forward(features);
  };
  // head() of a Subpixel head's pixel blocks (subpixel_blocks_from_phases).
  auto head_of_blocks = [&](const torch::Tensor& blocks) {
    const int64_t shift = mode == UpsampleMode::Transposed ? 1 : 0;
    if (options_.residual()) return add_shuffled(base, blocks, shift, /*clamp=*/!is_training());
    auto image = torch::pixel_shuffle(blocks, 2);
    return head(shift > 0 ? image.narrow(2, shift, kOutputSize).narrow(3, shift, kOutputSize) : image);
  };

  GeneratorOutput out;
  if (options_.lr_upsampler() == LrUpsampler::Learned) {
    auto x = torch::leaky_relu(add_noise(lr_in_->forward(net_input), stage), kLeakySlope);
    for (size_t i = 0; i < lr_ups_->size(); ++i) {
      auto& block = *lr_ups_[i]->as<UpBlockImpl>();
      if (heads_on_phases && i + 1 == lr_ups_->size()) {
        auto phases = phase_major_conv(block, x);
        activate_phases_for_heads(phases, mode, Activation::LeakyRelu);
        x = head_of_blocks(subpixel_blocks_from_phases(*lr_out_, {phases}, mode));
      } else if (fused && block.mode != UpsampleMode::ResizeConv) {  // activation and interleave in one pass
        x = interleaved(phase_major_conv(block, x), block.mode, x.size(2), x.size(3), Activation::LeakyRelu);
      } else {
        x = torch::leaky_relu(upsample(block, x, stage), kLeakySlope);
      }
    }
    out.lr_features = heads_on_phases ? x : head(add_noise(rgb(lr_out_, x), stage));
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

  if (heads_on_phases) {  // fused decoders ending in their last step's phases
    const auto upper = decode_fused(upper_ups_, encoded, kUpperDecoderSkips, 0, {}, /*last_as_phases=*/true);
    if (!sharp_only) out.blurred = head_of_blocks(subpixel_blocks_from_phases(*upper_out_, {upper}, mode));
    const auto lower = decode_fused(lower_ups_, encoded, options_.depth() - 1, 0, {}, /*last_as_phases=*/true);
    out.sharp = head_of_blocks(subpixel_blocks_from_phases(*lower_out_, {lower, upper}, mode));
    return out;
  }
  if (fused) {  // fused decoders
    // One buffer ends both decoders: [lower's last features | I_f], through relu, the sharp head's input.
    const int64_t ngf = options_.ngf();
    auto both = decode_fused(upper_ups_, encoded, kUpperDecoderSkips, /*front=*/ngf, {});
    if (!sharp_only) out.blurred = head(rgb(upper_out_, both.narrow(1, ngf, ngf)));
    decode_fused(lower_ups_, encoded, options_.depth() - 1, 0, /*into=*/both);
    out.sharp = head(rgb(lower_out_, both));
    return out;
  }
  auto features = decode(upper_ups_, upper_norms_, encoded, kUpperDecoderSkips, stage);  // I_f
  if (!sharp_only) out.blurred = head(add_noise(rgb(upper_out_, torch::relu(features)), stage));
  auto lower = decode(lower_ups_, lower_norms_, encoded, options_.depth() - 1, stage);
  out.sharp = head(add_noise(rgb(lower_out_, torch::relu(torch::cat({lower, features}, 1))), stage));
  return out;
}

}  // namespace facesr
