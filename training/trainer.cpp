#include "trainer.h"

#include <unistd.h>

#include <ATen/CPUGeneratorImpl.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

#include <nlohmann/json.hpp>

#include "dataset.h"
#include "distributed.h"
#include "discriminator.h"
#include "evaluate.h"
#include "losses.h"
#include "metrics.h"
#include "process_memory.h"
#include "sample_grid.h"
#include "weights.h"

namespace facesr {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

std::atomic<bool> g_stop{false};
extern "C" void on_signal(int) { g_stop = true; }

at::Generator seeded(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

// Everything the trainer holds between steps.
struct State {
  Generator g{nullptr};
  Discriminator dg{nullptr}, dl{nullptr};
  std::unique_ptr<torch::optim::Adam> opt_g, opt_dg, opt_dl;
  Vgg19Features vgg{nullptr};
  int64_t step = 0;
};

// The learning rate of the step after `step`: o.lr, falling linearly over the last lr_decay_steps.
double learning_rate(const TrainOptions& o, int64_t step) {
  const int64_t decay_from = o.steps - o.lr_decay_steps;
  if (o.lr_decay_steps <= 0 || step < decay_from) return o.lr;
  return o.lr * static_cast<double>(o.steps - step) / static_cast<double>(o.lr_decay_steps + 1);
}

void set_learning_rate(State& s, double lr) {
  for (auto* opt : {s.opt_g.get(), s.opt_dg.get(), s.opt_dl.get()})
    for (auto& group : opt->param_groups()) static_cast<torch::optim::AdamOptions&>(group.options()).lr(lr);
}

// What stands for the paper's L_vgg, in words for the metadata and the log.
std::string perceptual_loss_of(const TrainOptions& o) {
  std::string text = o.vgg19.empty() ? "no VGG-19 term: no VGG-19 weights given (--vgg19)" : "VGG-19 pool1-5, " + o.vgg19;
  if (o.adversarial != Adversarial::None && o.lambda_fm > 0)
    text += std::string(o.vgg19.empty() ? "; in its place" : "; with it") +
            " discriminator feature matching (pix2pixHD: L1 of D_g's and D_l's intermediate features, fake vs "
            "real), lambda_fm " + std::to_string(o.lambda_fm);
  return text;
}

json config_of(const TrainOptions& o) {
  return {{"ngf", o.generator.ngf()},
          {"depth", o.generator.depth()},
          {"lr_upsampler", to_string(o.generator.lr_upsampler())},
          {"upsample", to_string(o.generator.upsample())},
          {"residual", o.generator.residual()},
          {"heads", to_string(o.generator.heads())},
          {"ndf", o.ndf},
          {"adversarial", o.adversarial == Adversarial::Both ? "global+local"
                          : o.adversarial == Adversarial::GlobalOnly ? "global (model3)" : "none (model2)"},
          {"train_noise", o.train_noise},
          {"batch", o.batch},
          {"lr", o.lr},
          {"lr_decay_steps", o.lr_decay_steps},
          {"betas", {o.beta1, o.beta2}},
          {"lambda_pix", o.lambda_pix},
          {"lambda_vgg", o.vgg19.empty() ? 0.0 : o.lambda_vgg},
          {"lambda_fm", o.adversarial == Adversarial::None ? 0.0 : o.lambda_fm},
          {"perceptual_loss", perceptual_loss_of(o)},
          {"steps", o.steps},
          {"phase1_steps", o.phase1_steps},
          {"degradation", {{"blur_max_px", o.degradation.max_length()},
                           {"no_blur_probability", o.degradation.no_blur_probability()},
                           {"defocus_probability", o.degradation.defocus_probability()},
                           {"sensor_noise_probability", o.degradation.noise_probability()},
                           {"jpeg_probability", o.degradation.jpeg_probability()},
                           {"small_face_probability", o.degradation.small_face_probability()},
                           {"small_face_sides", {o.degradation.small_face_side_min(), o.degradation.small_face_side_max()}},
                           {"scale", o.degradation.scale()}}},
          {"augment", {{"flip", o.augment.flip()},
                       {"geometric_probability", o.augment.geometric_probability()},
                       {"scale", o.augment.scale()},
                       {"rotation_degrees", o.augment.rotation()},
                       {"translation", o.augment.translation()},
                       {"brightness", o.augment.brightness()},
                       {"contrast", o.augment.contrast()},
                       {"saturation", o.augment.saturation()}}},
          {"seed", o.seed},
          {"init_weights", o.init_weights.empty() ? json(nullptr) : json(o.init_weights)}};
}

// Fine-tuning: copies every parameter and buffer of the weights file's generator into `g`, and warns
// when the file's model was trained on faces cut by another crop rule than the dataset's. A file of
// another scale (the 8x model to start a 4x or 2x one) gives everything but the LR upsampler's x2
// steps it has more of: its last steps go to `g`'s steps (the ones that end at 256x256), the others
// start fresh, and the log says which.
void load_initial_weights(GeneratorImpl& g, const TrainOptions& o, const Dataset& data) {
  LoadedGenerator init = load_generator(o.init_weights);  // throws WeightsError naming the problem
  const Architecture want = architecture_of(o.generator), have = init.metadata.architecture;
  // A bicubic-upsampler generator (ablation model1) may start from a learned one: it has all of its
  // parameters but the LR upsampler's.
  const bool drops_upsampler = want.lr_upsampler == "bicubic" && have.lr_upsampler != want.lr_upsampler;
  if (want.ngf != have.ngf || want.depth != have.depth || (want.lr_upsampler != have.lr_upsampler && !drops_upsampler) ||
      want.upsample != have.upsample || want.residual != have.residual || want.heads != have.heads)
    throw std::runtime_error("--init " + o.init_weights + ": its generator (ngf " + std::to_string(have.ngf) +
                             ", depth " + std::to_string(have.depth) + ", " + have.upsample + ", " + have.heads +
                             " heads) is not the one the options describe (ngf " + std::to_string(want.ngf) +
                             ", depth " + std::to_string(want.depth) + ", " + want.upsample + ", " + want.heads +
                             " heads); leave out the architecture options to take the file's");
  // lr_ups.k of `g` <- lr_ups.(k + shift) of the file: the steps nearest the output line up.
  int64_t steps_have = 0, steps_want = 0;
  for (int64_t s = have.scale; s > 1; s /= 2) ++steps_have;
  for (int64_t s = want.scale; s > 1; s /= 2) ++steps_want;
  const int64_t shift = steps_have - steps_want;
  auto source_name = [&](const std::string& name) -> std::string {
    const std::string prefix = "lr_ups.";
    if (shift == 0 || name.rfind(prefix, 0) != 0) return name;
    const auto dot = name.find('.', prefix.size());
    const int64_t k = std::stoll(name.substr(prefix.size(), dot - prefix.size())) + shift;
    return k < 0 ? std::string() : prefix + std::to_string(k) + name.substr(dot);
  };
  torch::NoGradGuard no_grad;
  const auto params = init.generator->named_parameters(), buffers = init.generator->named_buffers();
  std::vector<std::string> fresh;
  for (auto& p : g.named_parameters()) {
    const auto* from = params.find(source_name(p.key()));
    if (from != nullptr && from->sizes() == p.value().sizes()) p.value().copy_(*from);
    else if (shift != 0) fresh.push_back(p.key());
    else throw std::runtime_error("--init " + o.init_weights + ": no parameter " + p.key() + " of its shape");
  }
  for (auto& b : g.named_buffers())
    if (const auto* from = buffers.find(source_name(b.key()))) b.value().copy_(*from);
    else if (b.key().find("num_batches_tracked") == std::string::npos)  // not stored (weights.h)
      throw std::runtime_error("--init " + o.init_weights + ": no buffer " + b.key());
  if (have.scale != want.scale) {
    std::string list;
    for (const auto& name : fresh) list += (list.empty() ? "" : ", ") + name;
    std::fprintf(stderr, "facesr-train: --init %s is a %lldx model, this one %lldx: everything but the LR upsampler's "
                 "first %lld x2 step(s) taken from it; fresh: %s\n", o.init_weights.c_str(),
                 static_cast<long long>(have.scale), static_cast<long long>(want.scale),
                 static_cast<long long>(std::max<int64_t>(shift, 0)), list.empty() ? "nothing" : list.c_str());
  }
  if (!same_crop_rule(init.metadata.crop_rule, data.crop_rule()))
    std::fprintf(stderr, "facesr-train: warning: %s was trained on faces cut by another crop rule than %s's; the "
                 "fine-tuned model will carry the dataset's rule\n", o.init_weights.c_str(), o.data.c_str());
}

State build_state(const TrainOptions& o, torch::Device device) {
  torch::manual_seed(o.seed);
  State s;
  s.g = Generator(o.generator);
  s.dg = make_global_discriminator(o.ndf);
  s.dl = make_local_discriminator(o.ndf);
  s.g->to(device);
  s.dg->to(device);
  s.dl->to(device);
  for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(s.g.get()), static_cast<torch::nn::Module*>(s.dg.get()),
                               static_cast<torch::nn::Module*>(s.dl.get())})
    to_channels_last(*m);  // 1.45x faster training steps on the CPU (ngf 8, measured)
  auto adam = [&](torch::nn::Module& m) {
    return std::make_unique<torch::optim::Adam>(
        m.parameters(), torch::optim::AdamOptions(o.lr).betas({o.beta1, o.beta2}));
  };
  s.opt_g = adam(*s.g);
  s.opt_dg = adam(*s.dg);
  s.opt_dl = adam(*s.dl);
  if (!o.vgg19.empty()) {
    s.vgg = Vgg19Features();
    load_vgg19_weights(*s.vgg, o.vgg19);
    s.vgg->to(device);
  }
  return s;
}

void save_checkpoint(const State& s, const TrainOptions& o) {
  torch::serialize::OutputArchive archive;
  torch::serialize::OutputArchive g, dg, dl, og, odg, odl;
  s.g->save(g);
  s.dg->save(dg);
  s.dl->save(dl);
  s.opt_g->save(og);
  s.opt_dg->save(odg);
  s.opt_dl->save(odl);
  archive.write("generator", g);
  archive.write("global_d", dg);
  archive.write("local_d", dl);
  archive.write("opt_g", og);
  archive.write("opt_dg", odg);
  archive.write("opt_dl", odl);
  archive.write("step", torch::tensor(s.step, torch::kInt64));
  archive.write("config", c10::IValue(config_of(o).dump()));
  const fs::path final_path = fs::path(o.out_dir) / "checkpoint.pt";
  const fs::path temp = fs::path(o.out_dir) / ("checkpoint.pt.tmp." + std::to_string(::getpid()));
  archive.save_to(temp.string());
  fs::rename(temp, final_path);  // atomic: a kill mid-write leaves the previous checkpoint intact
}

void load_checkpoint(State& s, const TrainOptions& o, torch::Device device) {
  const fs::path path = fs::path(o.out_dir) / "checkpoint.pt";
  if (!fs::exists(path)) throw std::runtime_error("--resume: no checkpoint at " + path.string());
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path.string(), device);
  } catch (const c10::Error& e) {
    throw std::runtime_error(path.string() + ": unreadable checkpoint: " + e.what_without_backtrace());
  }
  c10::IValue config;
  archive.read("config", config);
  const json saved = json::parse(config.toStringRef());
  const json now = config_of(o);
  for (const char* key : {"ngf", "depth", "lr_upsampler", "upsample", "residual", "heads", "ndf"}) {
    // Checkpoints from before the head modes had conv3x3 heads.
    const json was = saved.value(key, std::string(key) == "heads" ? json("conv3x3") : json());
    if (was != now[key])
      throw std::runtime_error(path.string() + ": checkpoint has " + key + " = " + was.dump() + ", the options say " +
                               now[key].dump() + "; resume with the same architecture");
  }
  torch::serialize::InputArchive g, dg, dl, og, odg, odl;
  archive.read("generator", g);
  archive.read("global_d", dg);
  archive.read("local_d", dl);
  archive.read("opt_g", og);
  archive.read("opt_dg", odg);
  archive.read("opt_dl", odl);
  s.g->load(g);
  s.dg->load(dg);
  s.dl->load(dl);
  s.opt_g->load(og);
  s.opt_dg->load(odg);
  s.opt_dl->load(odl);
  torch::Tensor step;
  archive.read("step", step);
  s.step = step.item<int64_t>();
}

// The training faces of `step`: a permutation per epoch seeded by (seed, epoch).
std::vector<int64_t> batch_indices(const std::vector<int64_t>& train, int64_t batch, int64_t step, uint64_t seed) {
  const int64_t n = static_cast<int64_t>(train.size());
  std::vector<int64_t> out;
  int64_t epoch = -1;
  torch::Tensor order;
  for (int64_t k = step * batch; k < (step + 1) * batch; ++k) {
    if (k / n != epoch) {
      epoch = k / n;
      auto gen = seeded(seed * 7919 + static_cast<uint64_t>(epoch));
      order = torch::randperm(n, gen, torch::kInt64);
    }
    out.push_back(train[order[k % n].item<int64_t>()]);
  }
  return out;
}

struct StepLosses {
  double d_global = 0, d_local = 0, g_adv_global = 0, g_adv_local = 0, pix = 0, pix_masked = 0, pix_sharp = 0,
         pix_blurred = 0, vgg = 0, fm = 0, g_total = 0;
};

// Replaces gradients by their mean over the ranks (no-op in a single process).
void sync_gradients(Distributed* dist, torch::nn::Module& module) {
  if (dist) dist->average_gradients(module);
}

StepLosses train_step(State& s, const TrainOptions& o, const Dataset& data, const std::vector<int64_t>& train,
                      torch::Device device, Distributed* dist) {
  auto gen = seeded(o.seed * 1000003 + static_cast<uint64_t>(s.step));
  auto batch = data.batch(batch_indices(train, o.batch, s.step, o.seed));
  Augmented augmented = augment(batch.hr.to(device), batch.mask.to(device), o.augment, gen);
  auto hr = augmented.hr, mask = augmented.mask;
  Degraded degraded = degrade(hr, mask, o.degradation, gen);
  degraded.lr = degraded.lr.contiguous(at::MemoryFormat::ChannelsLast);
  if (dist) {
    // Every rank draws the whole global batch the same way (cheap next to the networks) and trains on
    // its own slice, so a face gets the same flip and blur whatever the number of ranks.
    const int64_t per_rank = o.batch / dist->world_size(), first = dist->rank() * per_rank;
    hr = hr.slice(0, first, first + per_rank);
    mask = mask.slice(0, first, first + per_rank);
    degraded.lr = degraded.lr.slice(0, first, first + per_rank);
    degraded.blurred_hr = degraded.blurred_hr.slice(0, first, first + per_rank);
  }

  const bool use_global = o.adversarial != Adversarial::None;
  const bool use_local = o.adversarial == Adversarial::Both && s.step >= o.phase1_steps;
  StepLosses l;
  auto out = s.g->forward(degraded.lr, {o.train_noise, o.seed + static_cast<uint64_t>(s.step)});
  const auto condition = out.lr_features.detach();

  // D's features of the real faces, kept for feature matching (taken before D's update, as pix2pixHD does).
  std::vector<torch::Tensor> real_global, real_local;
  if (use_global) {
    real_global = s.dg->forward_features(torch::cat({condition, hr}, 1));
    auto loss = lsgan_discriminator_loss(real_global.back(),
                                         s.dg->forward(torch::cat({condition, out.sharp.detach()}, 1)));
    s.opt_dg->zero_grad();
    loss.backward();
    sync_gradients(dist, *s.dg);
    s.opt_dg->step();
    l.d_global = loss.item<double>();
  }
  if (use_local) {
    real_local = s.dl->forward_features(hr * mask);
    auto loss = lsgan_discriminator_loss(real_local.back(), s.dl->forward(out.sharp.detach() * mask));
    s.opt_dl->zero_grad();
    loss.backward();
    sync_gradients(dist, *s.dl);
    s.opt_dl->step();
    l.d_local = loss.item<double>();
  }

  const PixelLoss pix = pixel_loss(out.sharp, hr, out.blurred, degraded.blurred_hr, mask);
  auto total = o.lambda_pix * pix.total;
  const bool match_features = o.lambda_fm > 0;
  if (use_global) {
    const auto fake = s.dg->forward_features(torch::cat({condition, out.sharp}, 1));
    auto adv = lsgan_generator_loss(fake.back());
    total = total + adv;
    l.g_adv_global = adv.item<double>();
    if (match_features) {
      auto fm = feature_matching_loss(fake, real_global);
      total = total + o.lambda_fm * fm;
      l.fm += fm.item<double>();
    }
  }
  if (use_local) {
    const auto fake = s.dl->forward_features(out.sharp * mask);
    auto adv = lsgan_generator_loss(fake.back());
    total = total + adv;
    l.g_adv_local = adv.item<double>();
    if (match_features) {
      auto fm = feature_matching_loss(fake, real_local);
      total = total + o.lambda_fm * fm;
      l.fm += fm.item<double>();
    }
  }
  if (!s.vgg.is_empty()) {
    auto vgg = perceptual_loss(*s.vgg, out.sharp, hr);
    total = total + o.lambda_vgg * vgg;
    l.vgg = vgg.item<double>();
  }
  s.opt_g->zero_grad();
  total.backward();
  sync_gradients(dist, *s.g);
  s.opt_g->step();
  l.pix = pix.total.item<double>();
  l.pix_masked = pix.masked.item<double>();
  l.pix_sharp = pix.sharp.item<double>();
  l.pix_blurred = pix.blurred.item<double>();
  l.g_total = total.item<double>();
  if (dist) {
    for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(s.g.get()), static_cast<torch::nn::Module*>(s.dg.get()),
                                 static_cast<torch::nn::Module*>(s.dl.get())})
      dist->broadcast_buffers(*m);
  }
  if (dist)  // logged losses: the mean over the global batch
    for (double* v : {&l.d_global, &l.d_local, &l.g_adv_global, &l.g_adv_local, &l.pix, &l.pix_masked, &l.pix_sharp,
                      &l.pix_blurred, &l.vgg, &l.fm, &l.g_total})
      *v = dist->average(*v);
  return l;
}

struct Validation {
  double psnr = 0, ssim = 0, bicubic_psnr = 0, bicubic_ssim = 0;
  int64_t faces = 0;
};

// Validation and sample grids follow the evaluation protocol shared with facesr-eval (evaluate.h).
Validation evaluate_validation(State& s, const TrainOptions& o, const Dataset& data, const std::vector<int64_t>& val,
                    torch::Device device) {
  const Evaluation e = evaluate_faces(*s.g, data, val, o.degradation, device);
  return {e.mean.psnr, e.mean.ssim, e.mean.bicubic_psnr, e.mean.bicubic_ssim, static_cast<int64_t>(e.faces.size())};
}

void write_samples(State& s, const TrainOptions& o, const Dataset& data, const std::vector<int64_t>& faces,
                   torch::Device device) {
  if (faces.empty()) return;
  std::vector<int64_t> idx(faces.begin(), faces.begin() + std::min<std::size_t>(4, faces.size()));
  const EnhancedBatch b = enhance_with_fixed_degradation(*s.g, data, idx, o.degradation, device);
  char name[64];
  std::snprintf(name, sizeof name, "step-%07lld.png", static_cast<long long>(s.step));
  write_sample_grid((fs::path(o.out_dir) / "samples" / name).string(), {nearest_x8(b.lr), b.blurred, b.sharp, b.hr});
}

}  // namespace

TrainResult train(const TrainOptions& o, bool resume) {
  validate(o.generator);
  validate(o.degradation);
  validate(o.augment);
  if (o.degradation.scale() != o.generator.scale())
    throw std::runtime_error("the degradation's scale (" + std::to_string(o.degradation.scale()) +
                             ") must be the generator's (" + std::to_string(o.generator.scale()) + ")");
  if (o.batch < 1 || o.steps < 0 || o.phase1_steps < 0 || o.ndf < 1)
    throw std::runtime_error("batch and ndf must be >= 1, steps and phase1 steps >= 0");
  const torch::Device device = device_from_name(o.device);
  if (o.threads > 0) at::set_num_threads(o.threads);
  else at::set_num_threads(std::max(1u, std::thread::hardware_concurrency()));
  if (device.is_cpu() && o.keep_freed_memory) keep_freed_memory();
  auto data = Dataset::open(o.data);
  const auto train_faces = data->indices(Split::Train), val_faces = data->indices(Split::Validation);
  if (train_faces.empty()) throw std::runtime_error(o.data + ": no training faces (split 'train' is empty)");
  fs::create_directories(fs::path(o.out_dir) / "samples");

  const std::unique_ptr<Distributed> dist = Distributed::from_environment(device);
  const bool writer = !dist || dist->rank() == 0;  // only rank 0 writes files
  if (dist && o.batch % dist->world_size() != 0)
    throw std::runtime_error("--batch " + std::to_string(o.batch) + " must be a multiple of WORLD_SIZE=" +
                             std::to_string(dist->world_size()) + " (it is the global batch)");

  State s = build_state(o, device);
  if (resume) load_checkpoint(s, o, device);
  else if (!o.init_weights.empty()) load_initial_weights(*s.g, o, *data);
  if (dist) {
    for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(s.g.get()), static_cast<torch::nn::Module*>(s.dg.get()),
                                 static_cast<torch::nn::Module*>(s.dl.get())})
      dist->broadcast_module(*m);
    std::fprintf(stderr, "facesr-train: rank %d of %d (%s)\n", dist->rank(), dist->world_size(), dist->backend().c_str());
  }
  g_stop = false;
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  const bool tty = writer && isatty(STDERR_FILENO) && !o.quiet;
  const std::string how = resume                   ? "resuming at step " + std::to_string(s.step)
                            : o.init_weights.empty() ? std::string("from scratch")
                                                     : "from the weights of " + o.init_weights;
  std::fprintf(stderr, "facesr-train: %zu training / %zu validation faces, %s, %d threads, ngf %lld, batch %lld, %s; %s\n",
               train_faces.size(), val_faces.size(), device.is_cuda() ? "CUDA" : "CPU", at::get_num_threads(),
               static_cast<long long>(o.generator.ngf()), static_cast<long long>(o.batch),
               how.c_str(),
               perceptual_loss_of(o).c_str());

  const fs::path log_path = fs::path(o.out_dir) / "log.csv", val_path = fs::path(o.out_dir) / "validation.csv";
  const bool new_log = !fs::exists(log_path) || !resume;
  std::ofstream log, val_log;
  if (writer) {
    log.open(log_path, new_log ? std::ios::trunc : std::ios::app);
    val_log.open(val_path, new_log ? std::ios::trunc : std::ios::app);
  }
  if (writer && new_log) {
    log << "step,phase,d_global,d_local,g_adv_global,g_adv_local,pix,pix_masked,pix_sharp,pix_blurred,vgg,fm,g_total,seconds\n";
    val_log << "step,psnr,ssim,bicubic_psnr,bicubic_ssim,faces\n";
  }

  TrainResult result;
  Validation last;
  int64_t validated_at = -1;  // the step `last` is of
  auto run_validation = [&] {
    if (!writer) return;
    last = evaluate_validation(s, o, *data, val_faces, device);
    validated_at = s.step;
    val_log << s.step << ',' << last.psnr << ',' << last.ssim << ',' << last.bicubic_psnr << ',' << last.bicubic_ssim
            << ',' << last.faces << std::endl;
    std::fprintf(stderr, "%sfacesr-train: step %lld validation PSNR %.2f dB SSIM %.4f (bicubic %.2f / %.4f, %lld faces)\n",
                 tty ? "\n" : "", static_cast<long long>(s.step), last.psnr, last.ssim, last.bicubic_psnr,
                 last.bicubic_ssim, static_cast<long long>(last.faces));
  };

  s.g->train();
  const auto start = Clock::now();
  const int64_t first_step = s.step;
  try {
    // A stop (SIGINT/SIGTERM) is decided together: one rank leaving alone would hang the others.
    auto stop_requested = [&] { return dist ? dist->average(g_stop ? 1.0 : 0.0) > 0.0 : g_stop.load(); };
    while (s.step < o.steps && !stop_requested()) {
      const auto t0 = Clock::now();
      set_learning_rate(s, learning_rate(o, s.step));  // a function of the step: resume stays bit-exact
      const StepLosses l = train_step(s, o, *data, train_faces, device, dist.get());
      ++s.step;
      if (!writer) continue;
      const double seconds = std::chrono::duration<double>(Clock::now() - t0).count();
      log << s.step << ',' << (s.step > o.phase1_steps ? 2 : 1) << ',' << l.d_global << ',' << l.d_local << ','
          << l.g_adv_global << ',' << l.g_adv_local << ',' << l.pix << ',' << l.pix_masked << ',' << l.pix_sharp << ','
          << l.pix_blurred << ',' << l.vgg << ',' << l.fm << ',' << l.g_total << ',' << seconds << std::endl;
      const double elapsed = std::chrono::duration<double>(Clock::now() - start).count();
      const double per_step = elapsed / static_cast<double>(s.step - first_step);
      if (tty || s.step % 50 == 0 || s.step == o.steps)
        std::fprintf(stderr, "%sstep %lld/%lld  %.1f img/s  ETA %.0f s  L_pix %.4f  D_g %.3f  D_l %.3f  G %.3f%s",
                     tty ? "\r" : "", static_cast<long long>(s.step), static_cast<long long>(o.steps),
                     o.batch / per_step, per_step * static_cast<double>(o.steps - s.step), l.pix, l.d_global,
                     l.d_local, l.g_total, tty ? "   " : "\n");
      if (o.checkpoint_every > 0 && s.step % o.checkpoint_every == 0) save_checkpoint(s, o);
      if (o.sample_every > 0 && s.step % o.sample_every == 0) write_samples(s, o, *data, val_faces.empty() ? train_faces : val_faces, device);
      if (o.validate_every > 0 && s.step % o.validate_every == 0) run_validation();
    }
  } catch (const c10::Error& e) {
    if (writer) save_checkpoint(s, o);
    throw std::runtime_error(std::string("LibTorch error at step ") + std::to_string(s.step) + " (checkpoint saved): " +
                             e.what_without_backtrace());
  }
  if (writer) save_checkpoint(s, o);
  result.steps_done = s.step;
  result.interrupted = s.step < o.steps;
  if (dist) {
    // Data parallelism holds only if every rank applied the same updates: check, bit for bit.
    for (torch::nn::Module* m : {static_cast<torch::nn::Module*>(s.g.get()), static_cast<torch::nn::Module*>(s.dg.get()),
                                 static_cast<torch::nn::Module*>(s.dl.get())})
      if (!dist->in_sync(*m))
        throw std::runtime_error("distributed training: the ranks' weights diverged (rank " +
                                 std::to_string(dist->rank()) + "); the checkpoint is rank 0's");
    dist->barrier();
  }
  std::signal(SIGINT, SIG_DFL);
  std::signal(SIGTERM, SIG_DFL);
  if (tty) std::fprintf(stderr, "\n");
  if (result.interrupted) {
    std::fprintf(stderr, "facesr-train: stopped at step %lld; checkpoint saved, continue with --resume\n",
                 static_cast<long long>(s.step));
    return result;
  }
  if (!writer) return result;
  if (validated_at != s.step) run_validation();  // not twice when the last step was a validation step
  result.val_psnr = last.psnr, result.val_ssim = last.ssim;
  result.bicubic_psnr = last.bicubic_psnr, result.bicubic_ssim = last.bicubic_ssim;
  export_checkpoint(o, (fs::path(o.out_dir) / "model.safetensors").string());
  return result;
}

void export_checkpoint(const TrainOptions& o, const std::string& weights_path, DType dtype) {
  const torch::Device device(torch::kCPU);
  auto data = Dataset::open(o.data);
  TrainOptions cpu = o;
  cpu.vgg19.clear();  // not needed to export
  State s = build_state(cpu, device);
  load_checkpoint(s, o, device);
  ModelMetadata metadata;
  metadata.crop_rule = data->crop_rule();
  metadata.crop_rule_by_detector = data->crop_rules().by_detector;
  json training = config_of(o);
  training["steps_done"] = s.step;
  training["dataset"] = {{"path", o.data},
                         {"train_faces", data->indices(Split::Train).size()},
                         {"validation_faces", data->indices(Split::Validation).size()},
                         {"summary", json::parse(data->summary_json())}};
  if (!o.init_weights.empty() && fs::exists(o.init_weights))  // fine-tuned: what the starting model was
    training["init_training"] = json::parse(load_generator(o.init_weights).metadata.training);
  metadata.training = training.dump();
  // The last validation row, if any.
  std::ifstream val_log(fs::path(o.out_dir) / "validation.csv");
  std::string line, last_line;
  while (std::getline(val_log, line)) last_line = line;
  json evaluation = json::object();
  double step, p, ss, bp, bs, faces;
  if (std::sscanf(last_line.c_str(), "%lf,%lf,%lf,%lf,%lf,%lf", &step, &p, &ss, &bp, &bs, &faces) == 6)
    evaluation = {{"validation", {{"step", step}, {"psnr_db", p}, {"ssim", ss}, {"bicubic_psnr_db", bp},
                                  {"bicubic_ssim", bs}, {"faces", faces},
                                  {"protocol", evaluation_protocol(o.degradation)}}}};
  metadata.evaluation = evaluation.dump();
  s.g->eval();
  save_generator(weights_path, *s.g, metadata, dtype);
}

}  // namespace facesr
