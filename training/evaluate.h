// The evaluation protocol shared by the trainer's validation (training/trainer.h) and facesr-eval:
// one implementation of "degrade each face with a fixed seed, run the model and bicubic, score them".
//
//   face k of the dataset --degrade_fixed(hr, mask, options, kValidationSeed + k)--> I_LR (32x32)
//   I_LR --generator (eval mode, no noise)--> sharp 256x256      I_LR --bicubic x8--> 256x256
//   each scored against the ground truth: PSNR on RGB (dB), SSIM (Wang et al. 2004) on Y (BT.601)
//   (training/metrics.h).
//
// The seed depends only on the face's index in the dataset, so a face gets the same input in every
// validation, in every run and in facesr-eval, whatever batch or split it is evaluated in: figures of
// different runs on the same dataset and degradation options are comparable. With noise 0 and batch
// norm in eval mode a face's output does not depend on the other faces of its batch.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "dataset.h"
#include "degradation.h"
#include "generator.h"

namespace facesr {

constexpr uint64_t kValidationSeed = 20261125;  // fixed degradation of dataset face k: seed + k
constexpr int64_t kEvaluationBatch = 8;          // faces per forward pass

// One line saying how figures were made (seed scheme, blur cap, metrics), for logs, JSON and metadata.
std::string evaluation_protocol(const DegradationOptions& options);

// "auto" | "cpu" | "cuda" -> a LibTorch device; throws std::runtime_error for cuda without a GPU or
// an unknown name.
torch::Device device_from_name(const std::string& name);

// Bicubic upsampling to 256x256 (align_corners false), clamped to [-1, 1]: the baseline. N x 3 x S x S -> 256.
torch::Tensor bicubic_x8(const torch::Tensor& lr);
// Nearest-neighbour upsampling to 256x256: how the input is shown in sample grids and contact sheets.
torch::Tensor nearest_x8(const torch::Tensor& lr);

// The fixed degraded input of dataset faces `faces`: hr N x 3 x 256 x 256, mask N x 1 x 256 x 256
// (rows in the order of `faces`), returns N x 3 x 32 x 32 on hr's device.
torch::Tensor fixed_degraded_input(const torch::Tensor& hr, const torch::Tensor& mask,
                                   const std::vector<int64_t>& faces, const DegradationOptions& options);

// One batch of faces through the protocol, all N x 3 x H x W on `device`.
struct EnhancedBatch {
  torch::Tensor hr;       // ground truth, 256x256
  torch::Tensor lr;       // fixed degraded input, 32x32
  torch::Tensor sharp;    // the generator's sharp output I_HR
  torch::Tensor blurred;  // the generator's blurred output I_HRB
  torch::Tensor bicubic;  // bicubic_x8(lr)
};

// Runs `generator` (on `device`) without gradients in eval mode on the given dataset faces; the
// generator's training/eval mode is restored afterwards. No batching: pass at most a few dozen faces.
// flip_ensemble: `sharp` is forward_flip_ensemble's (the engine's EnhanceParams::flip_ensemble).
EnhancedBatch enhance_with_fixed_degradation(GeneratorImpl& generator, const Dataset& data,
                                             const std::vector<int64_t>& faces,
                                             const DegradationOptions& options, torch::Device device,
                                             bool flip_ensemble = false);

struct FaceScores {
  int64_t face = 0;  // index in the dataset
  double psnr = 0, ssim = 0, bicubic_psnr = 0, bicubic_ssim = 0;
};

struct Evaluation {
  std::vector<FaceScores> faces;  // in the order of the faces evaluated
  // Plain means of the rows (0 when there are none). An exact reconstruction gives PSNR +infinity,
  // and then an infinite mean; with a degraded input it does not happen in practice.
  FaceScores mean;                // .face = -1
};

// Scores every face of `faces`, kEvaluationBatch at a time. `progress` (optional) is called after
// each batch with (faces done, faces total); `on_batch` (optional) sees each batch's images before
// they are dropped (facesr-eval computes FID features there without running the generator twice).
Evaluation evaluate_faces(GeneratorImpl& generator, const Dataset& data, const std::vector<int64_t>& faces,
                          const DegradationOptions& options, torch::Device device,
                          const std::function<void(std::size_t, std::size_t)>& progress = nullptr,
                          const std::function<void(const EnhancedBatch&)>& on_batch = nullptr,
                          bool flip_ensemble = false);

}  // namespace facesr
