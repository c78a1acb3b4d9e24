// The facesr trainer: the paper's recipe (Yun & Park; ../shared/DESIGN.md) on a packed dataset.
//
// Per step: a batch of training faces (flips, and jitter unless turned off: training/augment.h), a fresh random motion-blur
// degradation of each (training/degradation.h), then
//   D_g  <- LSGAN on (I_LRf, I_HR) real vs (I_LRf, G sharp) fake          [unless ablation model2]
//   D_l  <- LSGAN on M x I_HR real vs M x G sharp fake, from phase 2 on    [unless model2 / model3]
//   G    <- L_GAN(D_g) + L_GAN(D_l) + lambda_pix L_pix + lambda_vgg L_vgg  (L_vgg only with VGG-19 weights)
//           + lambda_fm L_fm (feature matching on D_g's and D_l's features, pix2pixHD; where they train)
// with Adam (lr 2e-4, betas 0.5, 0.999). Phase 1 (G + D_g) lasts `phase1_steps`, then D_l joins.
//
// Determinism: which faces a step sees, their flips and their degradation are drawn from generators
// seeded by (seed, step), so the state to resume is just the step and the networks + optimizers:
// a run interrupted and resumed gives the weights an uninterrupted run gives.
//
// Files in `out_dir`: checkpoint.pt (written atomically every checkpoint_every steps, at the end, and
// on SIGINT/SIGTERM), log.csv (every loss of every step), validation.csv (PSNR/SSIM of model and
// bicubic on the validation faces with a fixed degradation per face), samples/step-NNNNNNN.png
// (input upscaled | blurred HR | sharp HR | ground truth), model.safetensors (exported generator).
#pragma once

#include <cstdint>
#include <string>

#include "augment.h"
#include "degradation.h"
#include "generator.h"
#include "losses.h"  // the paper's loss weights
#include "safetensors.h"

namespace facesr {

enum class Adversarial {
  Both,        // the paper: D_g from the start, D_l from phase 2
  GlobalOnly,  // ablation "model3"
  None,        // ablation "model2": L_pix (+ L_vgg) only
};

struct TrainOptions {
  std::string data;              // dataset from facesr-prepare
  std::string out_dir;           // checkpoints, logs, samples, exported model
  std::string vgg19;             // torchvision vgg19-*.pth; empty: no perceptual loss (said in logs and metadata)
  std::string init_weights;      // fine-tuning: a fresh run's generator starts from this weights file (its
                                 // architecture must be `generator`'s); discriminators and optimisers start
                                 // fresh. Ignored on resume (the checkpoint holds the state). Empty: random.
  std::string device = "auto";   // auto | cpu | cuda
  int threads = 0;               // CPU threads; 0 = all cores
  bool keep_freed_memory = true; // CPU: malloc keeps freed memory (process_memory.h); steps 1.1-1.25x here
  GeneratorOptions generator;    // ngf, depth, bicubic upsampler (model1), residual heads (on here;
                                 // facesr-train's CLI defaults to the paper's tanh heads and flips only)
  int64_t ndf = 64;              // discriminator width
  Adversarial adversarial = Adversarial::Both;
  double train_noise = 0.0;      // "w/ N": noise strength in G during training (0 = off)
  int64_t batch = 64;
  double lr = 2e-4, beta1 = 0.5, beta2 = 0.999;
  int64_t lr_decay_steps = 0;    // the last this many steps lower lr linearly towards 0 (pix2pix); 0 = constant
  double lambda_pix = kLambdaPix, lambda_vgg = kLambdaVgg;
  double lambda_fm = kLambdaFeatureMatching;  // discriminator feature matching (pix2pixHD), where a D trains;
                                 // stands in for L_vgg without ImageNet weights; 0 = off
  int64_t steps = 1000;          // total optimisation steps
  int64_t phase1_steps = 500;    // steps before D_l joins
  int64_t checkpoint_every = 200;
  int64_t sample_every = 200;
  int64_t validate_every = 200;  // 0 = only at the end
  uint64_t seed = 1;
  DegradationOptions degradation;
  AugmentOptions augment;        // flips (the paper) + geometric and colour jitter
  bool quiet = false;            // no progress bar
};

struct TrainResult {
  int64_t steps_done = 0;
  bool interrupted = false;      // stopped by SIGINT/SIGTERM (checkpoint written)
  double val_psnr = 0, val_ssim = 0, bicubic_psnr = 0, bicubic_ssim = 0;  // last validation
};

// Trains from scratch (or from options.init_weights), or from out_dir/checkpoint.pt when `resume` is
// true, until options.steps
// (or a signal). Exports out_dir/model.safetensors when training reaches options.steps.
// Throws std::runtime_error with a message saying what to fix (missing dataset, bad device, ...).
TrainResult train(const TrainOptions& options, bool resume);

// Writes the generator of out_dir/checkpoint.pt as a weights file with full metadata, its tensors
// stored as `dtype` (F32, or F16/BF16 for a file half the size).
void export_checkpoint(const TrainOptions& options, const std::string& weights_path, DType dtype = DType::F32);

}  // namespace facesr
