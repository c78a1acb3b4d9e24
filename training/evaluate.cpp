#include "evaluate.h"

#include <algorithm>
#include <cstdio>
#include <stdexcept>

#include "metrics.h"

namespace facesr {
namespace {

namespace F = torch::nn::functional;

// Puts a module in eval mode for a scope and gives it back its previous mode.
class EvalModeScope {
 public:
  explicit EvalModeScope(torch::nn::Module& module) : module_(module), was_training_(module.is_training()) {
    module_.eval();
  }
  ~EvalModeScope() { module_.train(was_training_); }
  EvalModeScope(const EvalModeScope&) = delete;
  EvalModeScope& operator=(const EvalModeScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool was_training_;
};

}  // namespace

// The optional degradations that are on, for the protocol text.
static std::string realism(const DegradationOptions& o) {
  std::string text;
  char part[96];
  if (o.defocus_probability() > 0) {
    std::snprintf(part, sizeof part, ", defocus p=%g", o.defocus_probability());
    text += part;
  }
  if (o.noise_probability() > 0) {
    std::snprintf(part, sizeof part, ", sensor noise p=%g", o.noise_probability());
    text += part;
  }
  if (o.jpeg_probability() > 0) {
    std::snprintf(part, sizeof part, ", JPEG p=%g quality %g-%g", o.jpeg_probability(), o.jpeg_quality_min(),
                  o.jpeg_quality_max());
    text += part;
  }
  if (o.small_face_probability() > 0) {
    if (o.small_face_side_min() == o.small_face_side_max())
      std::snprintf(part, sizeof part, ", p=%g of faces captured at %lldx%lld", o.small_face_probability(),
                    static_cast<long long>(o.small_face_side_min()), static_cast<long long>(o.small_face_side_min()));
    else
      std::snprintf(part, sizeof part, ", p=%g of faces captured at %lld-%lld px", o.small_face_probability(),
                    static_cast<long long>(o.small_face_side_min()), static_cast<long long>(o.small_face_side_max()));
    text += part;
    text += " (area-averaged to that size, noise and JPEG there, then bicubic up to the model's input side as the "
            "element does)";
  }
  return text;
}

std::string evaluation_protocol(const DegradationOptions& options) {
  char blur[64];
  std::snprintf(blur, sizeof blur, "%g", options.max_length());
  return "fixed motion-blur degradation per face (training/degradation.h, seed " + std::to_string(kValidationSeed) +
         " + dataset face index, longest motion vector " + blur +
         " px at 256x256), " + std::to_string(options.scale()) + "x area downsampling to " +
         std::to_string(256 / options.scale()) + "x" + std::to_string(256 / options.scale()) + realism(options) +
         "; model and bicubic to 256x256 from the same input; "
         "PSNR in dB on RGB (8-bit scale); SSIM (Wang et al. 2004: 11x11 Gaussian window, sigma 1.5, valid) on Y "
         "(ITU-R BT.601)";
}

torch::Device device_from_name(const std::string& name) {
  if (name == "cpu") return torch::kCPU;
  if (name == "cuda") {
    if (!torch::cuda::is_available())
      throw std::runtime_error("--device cuda: LibTorch sees no CUDA GPU here; use --device auto or cpu");
    return torch::kCUDA;
  }
  if (name == "auto") return torch::cuda::is_available() ? torch::kCUDA : torch::kCPU;
  throw std::runtime_error("unknown device '" + name + "' (expected auto, cpu or cuda)");
}

torch::Tensor bicubic_x8(const torch::Tensor& lr) {
  return F::interpolate(lr, F::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{kOutputSize, kOutputSize})
                                .mode(torch::kBicubic)
                                .align_corners(false))
      .clamp(-1, 1);
}

torch::Tensor nearest_x8(const torch::Tensor& lr) {
  return F::interpolate(lr, F::InterpolateFuncOptions()
                                .size(std::vector<int64_t>{kOutputSize, kOutputSize})
                                .mode(torch::kNearest));
}

torch::Tensor fixed_degraded_input(const torch::Tensor& hr, const torch::Tensor& mask,
                                   const std::vector<int64_t>& faces, const DegradationOptions& options) {
  if (hr.size(0) != static_cast<int64_t>(faces.size()) || mask.size(0) != hr.size(0))
    throw std::invalid_argument("fixed_degraded_input: " + std::to_string(faces.size()) + " face indices for " +
                                std::to_string(hr.size(0)) + " images and " + std::to_string(mask.size(0)) + " masks");
  std::vector<torch::Tensor> lrs;
  for (std::size_t i = 0; i < faces.size(); ++i) {
    const auto row = static_cast<int64_t>(i);
    lrs.push_back(degrade_fixed(hr.slice(0, row, row + 1), mask.slice(0, row, row + 1), options,
                                kValidationSeed + static_cast<uint64_t>(faces[i])).lr);
  }
  return torch::cat(lrs);
}

EnhancedBatch enhance_with_fixed_degradation(GeneratorImpl& generator, const Dataset& data,
                                             const std::vector<int64_t>& faces,
                                             const DegradationOptions& options, torch::Device device,
                                             bool flip_ensemble) {
  if (faces.empty()) throw std::invalid_argument("enhance_with_fixed_degradation: no faces");
  EvalModeScope eval_mode(generator);
  torch::NoGradGuard no_grad;
  auto batch = data.batch(faces);
  EnhancedBatch out;
  out.hr = batch.hr.to(device);
  out.lr = fixed_degraded_input(out.hr, batch.mask.to(device), faces, options);
  // With bf16/fp16 weights (facesr-eval --precision) the generator runs its layers in that dtype and
  // still returns float32, as in the engine.
  auto result = flip_ensemble ? forward_flip_ensemble(generator, out.lr) : generator.forward(out.lr);
  out.sharp = result.sharp;
  out.blurred = result.blurred;
  out.bicubic = bicubic_x8(out.lr);
  return out;
}

Evaluation evaluate_faces(GeneratorImpl& generator, const Dataset& data, const std::vector<int64_t>& faces,
                          const DegradationOptions& options, torch::Device device,
                          const std::function<void(std::size_t, std::size_t)>& progress,
                          const std::function<void(const EnhancedBatch&)>& on_batch, bool flip_ensemble) {
  Evaluation e;
  e.mean.face = -1;
  for (std::size_t first = 0; first < faces.size(); first += kEvaluationBatch) {
    const std::vector<int64_t> idx(faces.begin() + static_cast<std::ptrdiff_t>(first),
                                   faces.begin() + static_cast<std::ptrdiff_t>(
                                                       std::min(faces.size(), first + kEvaluationBatch)));
    const EnhancedBatch b = enhance_with_fixed_degradation(generator, data, idx, options, device, flip_ensemble);
    const auto p = psnr(b.sharp, b.hr), s = ssim(b.sharp, b.hr);
    const auto bp = psnr(b.bicubic, b.hr), bs = ssim(b.bicubic, b.hr);
    for (std::size_t i = 0; i < idx.size(); ++i) {
      const auto row = static_cast<int64_t>(i);
      e.faces.push_back({idx[i], p[row].item<double>(), s[row].item<double>(), bp[row].item<double>(),
                         bs[row].item<double>()});
    }
    if (on_batch) on_batch(b);
    if (progress) progress(e.faces.size(), faces.size());
  }
  if (e.faces.empty()) return e;
  for (const auto& f : e.faces) {
    e.mean.psnr += f.psnr;
    e.mean.ssim += f.ssim;
    e.mean.bicubic_psnr += f.bicubic_psnr;
    e.mean.bicubic_ssim += f.bicubic_ssim;
  }
  const auto n = static_cast<double>(e.faces.size());
  e.mean.psnr /= n, e.mean.ssim /= n, e.mean.bicubic_psnr /= n, e.mean.bicubic_ssim /= n;
  return e;
}

}  // namespace facesr
