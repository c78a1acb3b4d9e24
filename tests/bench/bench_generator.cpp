// Generator forward time on the CPU, ms per face: ngf 16/32/64 x batch 1/8 x threads 1/2, the three
// in-network upsampling modes, and bf16. Run with `meson test --benchmark -C build` or directly:
//   build/tests/bench/bench-generator [--benchmark_filter=ngf:16]
// Timings on shared machines drift +-30% between runs: compare rows of one run, not across runs.
#include <benchmark/benchmark.h>

#include "generator.h"

namespace {

void run_generator(benchmark::State& state, int64_t ngf, int64_t batch, int threads,
                   facesr::UpsampleMode mode, torch::ScalarType dtype) {
  at::set_num_threads(threads);
  torch::manual_seed(0);
  facesr::Generator g(facesr::GeneratorOptions().ngf(ngf).upsample(mode));
  g->eval();
  g->to(dtype);
  c10::InferenceMode inference;
  auto input = (torch::rand({batch, 3, 32, 32}) * 2 - 1).to(dtype);
  g->forward(input);  // warm-up
  for (auto _ : state) benchmark::DoNotOptimize(g->forward(input).sharp);
  state.counters["ms_per_face"] = benchmark::Counter(
      static_cast<double>(batch) * 1e-3, benchmark::Counter::kIsIterationInvariantRate | benchmark::Counter::kInvert);
  state.counters["faces_per_s"] = benchmark::Counter(static_cast<double>(batch), benchmark::Counter::kIsIterationInvariantRate);
}

void register_all() {
  using facesr::UpsampleMode;
  for (int64_t ngf : {16, 32, 64})
    for (int64_t batch : {1, 8})
      for (int threads : {1, 2}) {
        const std::string name = "generator/ngf:" + std::to_string(ngf) + "/batch:" + std::to_string(batch) +
                                 "/threads:" + std::to_string(threads) + "/pixel_shuffle/fp32";
        benchmark::RegisterBenchmark(name.c_str(), run_generator, ngf, batch, threads,
                                     UpsampleMode::PixelShuffle, torch::kFloat32)
            ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
      }
  for (auto mode : {UpsampleMode::ResizeConv, UpsampleMode::Transposed}) {
    const std::string name = "generator/ngf:16/batch:8/threads:2/" + facesr::to_string(mode) + "/fp32";
    benchmark::RegisterBenchmark(name.c_str(), run_generator, 16, 8, 2, mode, torch::kFloat32)
        ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
  }
  benchmark::RegisterBenchmark("generator/ngf:16/batch:8/threads:2/pixel_shuffle/bf16", run_generator, 16, 8, 2,
                               UpsampleMode::PixelShuffle, torch::kBFloat16)
      ->Unit(benchmark::kMillisecond)->UseRealTime()->MinTime(1.0);
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
