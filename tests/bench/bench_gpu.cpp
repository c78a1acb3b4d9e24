// Issue #8's GPU figures, one table per section, all on the one CUDA device LibTorch sees:
//   1. generator forward, faces/s and ms per batch: ngf 16 and 64 (the paper's size) x batch 1, 8, 64 x
//      float32, bf16, fp16, prepared as the engine prepares it (prepare_for_inference: norms folded,
//      eval), NCHW and channels-last for the half types;
//   2. the engine (crops in host memory -> results in host memory) on a weights file, batch 8;
//   3. degradation (random motion blur + 8x down) ms per image on the GPU, batch 64.
// Training images/s come from facesr-train's own log.csv (tests/gpu/run.sh): in this process, after
// the sections above, facesr::train() crashed twice on an H200 (a call through a null pointer, not
// found without more GPU time), while facesr-train alone trained for 596 steps.
// Usage: bench-gpu DATASET WEIGHTS
// GPU work is asynchronous: every timed region ends with a device synchronize. Each figure is the
// median of 5 timed repetitions after warm-up; the repetition count grows until one takes >= 50 ms.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include <torch/cuda.h>

#include "dataset.h"
#include "degradation.h"
#include "crop_batch.h"
#include "engine.h"
#include "generator.h"

namespace {

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
  facesr::bench::CropBatch batch(kFaces);
  for (auto precision : {facesr::Precision::Float32, facesr::Precision::BFloat16, facesr::Precision::Float16}) {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cuda;
    options.precision = precision;
    auto engine = facesr::Engine::open(weights, options);
    const double s = median_seconds([&] { batch.enhance(*engine); });
    std::printf("%-6s %-40s %12.3f %12.0f\n", facesr::to_string(precision).c_str(),
                engine->device_description().c_str(), 1e3 * s, kFaces / s);
    std::fflush(stdout);
  }
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
  std::printf("\n3. degradation (random motion blur + 8x area down), batch 64 on the GPU\n%-12s\n%12.3f\n",
              "ms/image", 1e3 * s / 64);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: bench-gpu DATASET WEIGHTS\n");
    return 2;
  }
  const std::string data = argv[1], weights = argv[2];
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
    bench_degradation(data);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-gpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
