// Issue #8's GPU figures, one table per section, all on the one CUDA device LibTorch sees:
//   1. generator forward, faces/s and ms per batch: ngf 16 and 64 (the paper's size) x batch 1, 8, 64 x
//      float32, bf16, fp16, prepared as the engine prepares it (prepare_for_inference: norms folded,
//      eval), NCHW and channels-last for the half types;
//   2. the engine (crops in host memory -> results in host memory) on a weights file, batch 8;
//   3. training images/s of facesr::train() at ngf 64, batch 64 (the paper's recipe, phase 2: both
//      discriminators), from the trainer's own per-step times (log.csv);
//   4. degradation (random motion blur + 8x down) ms per image on the GPU, batch 64.
// Usage: bench-gpu DATASET WEIGHTS [--train-steps N] [--skip-training]
// GPU work is asynchronous: every timed region ends with a device synchronize. Each figure is the
// median of 5 timed repetitions after warm-up; the repetition count grows until one takes >= 50 ms.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include <torch/cuda.h>

#include "dataset.h"
#include "degradation.h"
#include "engine.h"
#include "generator.h"
#include "trainer.h"

namespace {

namespace fs = std::filesystem;

void sync() { torch::cuda::synchronize(); }

// Median seconds of one call of `work`, synchronized.
double median_seconds(const std::function<void()>& work) {
  for (int i = 0; i < 3; ++i) work();  // warm-up: cuDNN algorithm choice, allocator
  sync();
  int reps = 1;
  for (;;) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) work();
    sync();
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (s >= 0.05 || reps >= 4096) break;
    reps *= 2;
  }
  std::vector<double> times;
  for (int k = 0; k < 5; ++k) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) work();
    sync();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / reps);
  }
  std::sort(times.begin(), times.end());
  return times[2];
}

const char* dtype_name(torch::ScalarType t) {
  return t == torch::kFloat32 ? "fp32" : t == torch::kBFloat16 ? "bf16" : "fp16";
}

void bench_generator() {
  std::printf("\n1. generator forward (sharp face only, as the engine runs it)\n");
  std::printf("%-5s %-6s %-5s %-14s %12s %12s\n", "ngf", "batch", "type", "layout", "ms/batch", "faces/s");
  torch::NoGradGuard no_grad;
  for (int64_t ngf : {16, 64}) {
    for (auto dtype : {torch::kFloat32, torch::kBFloat16, torch::kFloat16}) {
      for (bool channels_last : {false, true}) {
        if (channels_last && dtype == torch::kFloat32) continue;
        torch::manual_seed(0);
        facesr::Generator g(facesr::GeneratorOptions().ngf(ngf));
        facesr::prepare_for_inference(*g, torch::kCUDA, dtype);
        if (channels_last) facesr::to_channels_last(*g);
        for (int64_t batch : {1, 8, 64}) {
          auto input = (torch::rand({batch, 3, 32, 32}, torch::kCUDA) * 2 - 1).to(dtype);
          if (channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
          const double s = median_seconds([&] { g->forward(input, {}, true); });
          std::printf("%-5lld %-6lld %-5s %-14s %12.3f %12.0f\n", static_cast<long long>(ngf),
                      static_cast<long long>(batch), dtype_name(dtype), channels_last ? "channels-last" : "NCHW",
                      1e3 * s, static_cast<double>(batch) / s);
          std::fflush(stdout);
        }
      }
    }
  }
}

void bench_engine(const std::string& weights) {
  std::printf("\n2. engine, %s: enhance() of 8 crops, host memory in and out\n", weights.c_str());
  std::printf("%-6s %-40s %12s %12s\n", "type", "device", "ms/call", "faces/s");
  constexpr int kFaces = 8;
  std::vector<uint8_t> in(kFaces * 32 * 32 * 3), out(kFaces * 256 * 256 * 3);
  for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
  std::vector<facesr::ImageView> crops;
  std::vector<facesr::MutableImageView> results;
  for (int f = 0; f < kFaces; ++f) {
    crops.push_back({in.data() + f * 32 * 32 * 3, 32, 32, 32 * 3});
    results.push_back({out.data() + f * 256 * 256 * 3, 256, 256, 256 * 3});
  }
  for (auto precision : {facesr::Precision::Float32, facesr::Precision::BFloat16, facesr::Precision::Float16}) {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cuda;
    options.precision = precision;
    auto engine = facesr::Engine::open(weights, options);
    const double s = median_seconds([&] { engine->enhance(crops.data(), results.data(), kFaces); });
    std::printf("%-6s %-40s %12.3f %12.0f\n", facesr::to_string(precision).c_str(),
                engine->device_description().c_str(), 1e3 * s, kFaces / s);
    std::fflush(stdout);
  }
}

// The `seconds` column (the last) of each row of log.csv.
std::vector<double> step_seconds(const fs::path& log) {
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);
  std::vector<double> out;
  while (std::getline(in, line)) out.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  return out;
}

void bench_training(const std::string& data, int64_t steps) {
  constexpr int64_t kWarmup = 2;
  facesr::TrainOptions o;
  o.data = data;
  o.out_dir = (fs::temp_directory_path() / "facesr-bench-gpu-training").string();
  fs::remove_all(o.out_dir);
  o.generator.ngf(64);
  o.batch = 64;
  o.steps = kWarmup + steps;
  o.phase1_steps = 0;  // both discriminators from the first step (phase 2, the dearer one)
  o.checkpoint_every = o.sample_every = o.validate_every = 0;
  o.device = "cuda";
  o.quiet = true;
  facesr::train(o, false);
  const auto seconds = step_seconds(fs::path(o.out_dir) / "log.csv");
  fs::remove_all(o.out_dir);
  if (static_cast<int64_t>(seconds.size()) != o.steps)
    throw std::runtime_error("log.csv has " + std::to_string(seconds.size()) + " rows, expected " +
                             std::to_string(o.steps));
  std::vector<double> timed(seconds.begin() + kWarmup, seconds.end());
  std::sort(timed.begin(), timed.end());
  const double median = timed[timed.size() / 2];
  std::printf("\n3. training step, ngf 64, ndf %lld, batch 64, G + D_g + D_l, no VGG loss (median of %lld steps "
              "after %lld warm-up)\n%-12s %12s\n%12.3f %12.1f\n",
              static_cast<long long>(o.ndf), static_cast<long long>(steps), static_cast<long long>(kWarmup),
              "s/step", "images/s", median, 64.0 / median);
  std::fflush(stdout);
}

void bench_degradation(const std::string& data_path) {
  const auto data = facesr::Dataset::open(data_path);
  const auto faces = data->indices(facesr::Split::Train);
  std::vector<int64_t> idx;
  for (int64_t k = 0; k < 64; ++k) idx.push_back(faces[static_cast<std::size_t>(k) % faces.size()]);
  const auto batch = data->batch(idx);
  const auto hr = batch.hr.cuda(), mask = batch.mask.cuda();
  const facesr::DegradationOptions options;
  uint64_t seed = 0;
  const double s = median_seconds([&] { facesr::degrade_fixed(hr, mask, options, ++seed); });
  std::printf("\n4. degradation (random motion blur + 8x area down), batch 64 on the GPU\n%-12s\n%12.3f\n",
              "ms/image", 1e3 * s / 64);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: bench-gpu DATASET WEIGHTS [--train-steps N] [--skip-training]\n");
    return 2;
  }
  const std::string data = argv[1], weights = argv[2];
  int64_t train_steps = 10;
  bool skip_training = false;
  for (int i = 3; i < argc; ++i) {
    if (std::strcmp(argv[i], "--train-steps") == 0 && i + 1 < argc) train_steps = std::stoll(argv[++i]);
    else if (std::strcmp(argv[i], "--skip-training") == 0) skip_training = true;
    else {
      std::fprintf(stderr, "bench-gpu: unknown argument %s\n", argv[i]);
      return 2;
    }
  }
  try {
    if (!torch::cuda::is_available()) {
      std::fprintf(stderr, "bench-gpu: LibTorch sees no CUDA device (is this build linked with torch_cuda? "
                           "meson's summary says)\n");
      return 1;
    }
    std::printf("bench-gpu: %d CUDA device(s); cuDNN TF32 for float32 convolutions: LibTorch's default (on)\n",
                static_cast<int>(torch::cuda::device_count()));
    bench_generator();
    bench_engine(weights);
    if (!skip_training) bench_training(data, train_steps);
    bench_degradation(data);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
