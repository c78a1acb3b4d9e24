// facesr-train: train the facesr generator on a dataset from facesr-prepare (training/trainer.h).
//
//   facesr-train --data faces.safetensors --out runs/a --ngf 16 --epochs 200 --phase1-epochs 100
//   facesr-train --data faces.safetensors --out runs/a --resume          # continue after a stop
//   facesr-train --data faces.safetensors --out runs/a --export m.safetensors   # checkpoint -> weights
//
// Defaults are the paper's: Adam lr 2e-4, betas (0.5, 0.999), batch 64, lambda_pix 100, lambda_vgg 10 (with
// --vgg19; without it discriminator feature matching, lambda_fm 10, stands in),
// G + D_g first, then D_l. Ablations: --ablation model1 (bicubic upsampler), model2 (no
// discriminators), model3 (global D only); --noise S trains "w/ N".
#include <cmath>
#include <cstdio>

#include <CLI/CLI.hpp>

#include "dataset.h"
#include "trainer.h"
#include "weights.h"

int main(int argc, char** argv) {
  CLI::App app{"Train the facesr generator (joint 8x/4x/2x face super-resolution and deblurring GAN)."};
  facesr::TrainOptions o;
  std::string ablation, export_path;
  int64_t ngf = 16, depth = 8, scale = 8;
  double epochs = 0, phase1_epochs = -1;
  bool resume = false;
  double blur_max = o.degradation.max_length();
  app.add_option("--data", o.data, "dataset written by facesr-prepare")->required()->check(CLI::ExistingFile);
  app.add_option("--out", o.out_dir, "run folder: checkpoint.pt, log.csv, validation.csv, samples/, model.safetensors")->required();
  app.add_option("--vgg19", o.vgg19, "torchvision vgg19-*.pth for the perceptual loss (without it: no L_vgg)")
      ->check(CLI::ExistingFile);
  app.add_option("--device", o.device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--threads", o.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--ngf", ngf, "generator width (8: the default model, real time on the CPU in bf16; 64: the paper)")->check(CLI::Range(1, 512));
  app.add_option("--scale", scale,
                 "super-resolution factor: 8 (32x32 input, the paper), 4 (64x64) or 2 (128x128); output 256x256. With "
                 "--init of another scale, everything but the LR upsampler's extra x2 steps starts from that file")
      ->check(CLI::IsMember({2, 4, 8}));
  app.add_option("--depth", depth, "U-Net encoder levels (4-8)")->check(CLI::Range(4, 8));
  app.add_option("--ndf", o.ndf, "discriminator width")->check(CLI::Range(1, 512));
  app.add_option("--ablation", ablation, "model1: bicubic upsampler; model2: no discriminators; model3: global D only")
      ->check(CLI::IsMember({"model1", "model2", "model3"}));
  app.add_option("--noise", o.train_noise, "train with noise of this strength after every conv (w/ N); 0 = off")
      ->check(CLI::Range(0.0, 10.0));
  app.add_option("--batch", o.batch, "faces per step")->check(CLI::Range(1, 4096));
  app.add_option("--lr", o.lr, "Adam learning rate")->check(CLI::PositiveNumber);
  app.add_option("--lr-decay-steps", o.lr_decay_steps, "lower the learning rate linearly towards 0 over the last N steps (0 = constant)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--lambda-pix", o.lambda_pix, "weight of L_pix");
  app.add_option("--lambda-vgg", o.lambda_vgg, "weight of L_vgg");
  app.add_option("--lambda-fm", o.lambda_fm,
                 "weight of the discriminators' feature matching (pix2pixHD), where a discriminator trains: what "
                 "stands in for L_vgg without ImageNet weights (0 = off)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--steps", o.steps, "total steps (or --epochs)")->check(CLI::NonNegativeNumber);
  app.add_option("--epochs", epochs, "total epochs over the training faces (overrides --steps)")->check(CLI::NonNegativeNumber);
  app.add_option("--phase1-steps", o.phase1_steps, "steps before the local discriminator joins")->check(CLI::NonNegativeNumber);
  app.add_option("--phase1-epochs", phase1_epochs, "epochs before the local discriminator joins")->check(CLI::NonNegativeNumber);
  app.add_option("--checkpoint-every", o.checkpoint_every, "steps between checkpoints");
  app.add_option("--sample-every", o.sample_every, "steps between sample grids (0 = never)");
  app.add_option("--validate-every", o.validate_every, "steps between validations (0 = only at the end)");
  app.add_option("--seed", o.seed, "seed of initialisation, batches, flips and degradations");
  app.add_option("--blur-max", blur_max, "longest motion-blur vector, pixels at 256x256")->check(CLI::Range(0.0, 128.0));
  std::string upsample = "pixel_shuffle";
  app.add_option("--upsample", upsample,
                 "x2 steps inside the network: pixel_shuffle (3x3 conv + PixelShuffle; the default model) or "
                 "transposed (the paper's 4x4 stride-2 transposed conv: 2.25x fewer multiply-adds, 1.4x faster "
                 "inference at ngf 16 here) or resize_conv")
      ->check(CLI::IsMember({"pixel_shuffle", "transposed", "resize_conv"}));
  std::string heads = "conv3x3";
  app.add_option("--heads", heads,
                 "how the 256x256 outputs are made: conv3x3 (3x3 conv on 256x256 features; the default model) or "
                 "subpixel (1x1 conv from each 2x2 block's features to its pixels: no 256x256 feature maps at inference)")
      ->check(CLI::IsMember({"conv3x3", "subpixel"}));
  bool residual = false;
  app.add_flag("--residual", residual,
               "residual heads over bicubic(I_LR) instead of the paper's tanh heads: starts at bicubic quality "
               "(recommended for small datasets and short runs; the default model uses it)");
  std::string augmentation = "flip";
  app.add_option("--augment", augmentation,
                 "flip: the paper's horizontal flips (default); full: + scale/rotation/translation and colour jitter "
                 "(recommended for small datasets); none")
      ->check(CLI::IsMember({"full", "flip", "none"}));
  double defocus = 0, sensor_noise = 0, jpeg = 0, small_faces = 0, no_blur = o.degradation.no_blur_probability();
  app.add_option("--no-blur", no_blur,
                 "probability that a face gets no motion blur at all (sharp input): what keeps the model from "
                 "\"deblurring\" faces that were sharp (default 0.05)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--defocus", defocus, "probability of a random defocus blur (sigma 0.5-4 px at 256) before the motion blur")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--sensor-noise", sensor_noise, "probability of Gaussian sensor noise (sigma 1-8 levels) on the 32x32 input")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--jpeg", jpeg, "probability of JPEG compression (quality 20-90) of the 32x32 input")->check(CLI::Range(0.0, 1.0));
  app.add_option("--small-faces", small_faces,
                 "probability that the input is a face captured smaller than the input (8x: 12-31 px, 4x: 32-63, "
                 "2x: 64-127; noise and JPEG at that size) and resized up to the input side with bicubic, as the "
                 "element does with faces between two models' sizes")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--init", o.init_weights,
                 "fine-tune: start the generator from this weights file (the shipped model, say) instead of random "
                 "weights; its architecture is taken (--ngf, --depth, --upsample, --heads, --residual, --ablation "
                 "model1 may be left out); the discriminators and Adam start fresh at step 0")
      ->check(CLI::ExistingFile);
  app.add_flag("--resume", resume, "continue from <out>/checkpoint.pt at its step");
  app.add_option("--export", export_path, "only write <out>/checkpoint.pt's generator to this weights file");
  std::string export_dtype = "F32";
  app.add_option("--export-dtype", export_dtype, "tensor type of the exported file: F32, F16 or BF16")
      ->check(CLI::IsMember({"F32", "F16", "BF16"}));
  app.add_flag("--keep-freed-memory,!--return-freed-memory", o.keep_freed_memory,
               "CPU: malloc keeps freed memory for the next step instead of returning it to the OS (default; "
               "steps 1.1-1.25x faster at ngf 16 here; the process keeps its peak memory)");
  app.add_flag("--quiet", o.quiet, "no progress bar");
  CLI11_PARSE(app, argc, argv);

  try {
    o.generator.ngf(ngf).depth(depth).scale(scale).residual(residual).upsample(facesr::upsample_mode_from_string(upsample));
    o.generator.heads(facesr::head_mode_from_string(heads));
    if (ablation == "model1") o.generator.lr_upsampler(facesr::LrUpsampler::Bicubic);
    if (!o.init_weights.empty()) {
      // The file's architecture; one given on the command line must agree with it.
      const facesr::GeneratorOptions file = facesr::generator_options(facesr::load_generator(o.init_weights).metadata.architecture);
      const facesr::Architecture have = facesr::architecture_of(file), asked = facesr::architecture_of(o.generator);
      auto check = [&](const char* flag, bool given, bool same, const std::string& value) {
        if (given && !same)
          throw std::runtime_error(std::string("--init ") + o.init_weights + " has " + flag + " " + value +
                                   "; leave " + flag + " out or give that");
      };
      check("--ngf", app.count("--ngf") > 0, have.ngf == asked.ngf, std::to_string(have.ngf));
      check("--depth", app.count("--depth") > 0, have.depth == asked.depth, std::to_string(have.depth));
      check("--upsample", app.count("--upsample") > 0, have.upsample == asked.upsample, have.upsample);
      check("--heads", app.count("--heads") > 0, have.heads == asked.heads, have.heads);
      check("--residual", app.count("--residual") > 0, have.residual == asked.residual, have.residual ? "on" : "off");
      o.generator = file;
      // model1 from a learned-upsampler file: the file's U-Net and decoders behind a bicubic upsampler.
      if (ablation == "model1") o.generator.lr_upsampler(facesr::LrUpsampler::Bicubic);
      if (app.count("--scale") > 0) o.generator.scale(scale);  // a 4x / 2x model started from the 8x one
    }
    if (augmentation == "flip") o.augment = facesr::flips_only();
    if (augmentation == "none") o.augment = facesr::no_augmentation();
    if (ablation == "model2") o.adversarial = facesr::Adversarial::None;
    if (ablation == "model3") o.adversarial = facesr::Adversarial::GlobalOnly;
    o.degradation.no_blur_probability(no_blur);
    o.degradation.max_length(blur_max).defocus_probability(defocus).noise_probability(sensor_noise).jpeg_probability(jpeg);
    o.degradation.small_face_probability(small_faces).scale(o.generator.scale());
    const auto [side_min, side_max] = facesr::small_face_sides_for_scale(o.generator.scale());
    o.degradation.small_face_side_min(side_min).small_face_side_max(side_max);
    if (epochs > 0 || phase1_epochs >= 0) {
      const auto faces = static_cast<double>(facesr::Dataset::open(o.data)->indices(facesr::Split::Train).size());
      const double steps_per_epoch = std::ceil(faces / static_cast<double>(o.batch));
      if (epochs > 0) o.steps = static_cast<int64_t>(std::ceil(epochs * steps_per_epoch));
      if (phase1_epochs >= 0) o.phase1_steps = static_cast<int64_t>(std::ceil(phase1_epochs * steps_per_epoch));
    }
    if (!export_path.empty()) {
      facesr::export_checkpoint(o, export_path,
                                export_dtype == "F16"    ? facesr::DType::F16
                                : export_dtype == "BF16" ? facesr::DType::BF16
                                                         : facesr::DType::F32);
      std::printf("facesr-train: wrote %s\n", export_path.c_str());
      return 0;
    }
    const auto result = facesr::train(o, resume);
    if (result.interrupted) return 130;
    std::printf("facesr-train: %lld steps; validation PSNR %.2f dB SSIM %.4f (bicubic %.2f dB / %.4f); model %s/model.safetensors\n",
                static_cast<long long>(result.steps_done), result.val_psnr, result.val_ssim, result.bicubic_psnr,
                result.bicubic_ssim, o.out_dir.c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-train: %s\n", e.what());
    return 1;
  }
  return 0;
}
