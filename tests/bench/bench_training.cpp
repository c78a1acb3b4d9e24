// Training cost on the CPU, on the fixture dataset (FACESR_TEST_DATASET, from facesr-prepare):
//   - images/s of facesr::train() at ngf 16 (ndf at the trainer's default), batch 8, 2 threads, without
//     discriminators (Adversarial::None, ablation model2) and with both (Adversarial::Both with
//     phase1_steps 0, so D_g and D_l train from the first step, as in phase 2);
//   - ms per image of the random motion-blur degradation (training/degradation.h), batch 16.
// Step times are the trainer's own: the `seconds` column of log.csv, which times train_step alone
// (batch loading, flips, degradation, D and G updates), not checkpoints or the final validation.
// The first step is a warm-up and is not counted. Run with `meson test --benchmark -C build training`
// or directly: build/tests/bench/bench-training [return-freed-memory]
// The argument runs the trainer with TrainOptions::keep_freed_memory off (facesr-train
// --return-freed-memory); the malloc policy cannot be undone in a process, so compare the two settings
// in alternating processes.
// Timings on shared machines drift +-30% between runs: compare rows of one run, not across runs.
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "dataset.h"
#include "degradation.h"
#include "trainer.h"

namespace {

namespace fs = std::filesystem;

constexpr int kThreads = 2;
constexpr int64_t kNgf = 16;
constexpr int64_t kBatch = 8;
constexpr int64_t kWarmupSteps = 1;
constexpr int64_t kTimedSteps = 3;
constexpr int64_t kDegradationBatch = 16;
constexpr int kDegradationRepeats = 4;

// The `seconds` column (the last) of each row of log.csv.
std::vector<double> step_seconds(const fs::path& log) {
  std::ifstream in(log);
  std::string line;
  std::getline(in, line);  // header
  std::vector<double> out;
  while (std::getline(in, line)) out.push_back(std::stod(line.substr(line.rfind(',') + 1)));
  return out;
}

struct TrainTiming {
  double seconds_per_step = 0, images_per_second = 0;
};

TrainTiming time_training(facesr::Adversarial adversarial, const std::string& name, bool keep_freed_memory) {
  facesr::TrainOptions o;
  o.data = FACESR_TEST_DATASET;
  o.out_dir = (fs::temp_directory_path() / ("facesr-bench-training-" + name)).string();
  fs::remove_all(o.out_dir);
  o.generator.ngf(kNgf);
  o.adversarial = adversarial;
  o.batch = kBatch;
  o.steps = kWarmupSteps + kTimedSteps;
  o.phase1_steps = 0;  // Both: the local discriminator from the first step (phase 2)
  o.checkpoint_every = o.sample_every = o.validate_every = 0;
  o.threads = kThreads;
  o.device = "cpu";
  o.quiet = true;
  o.keep_freed_memory = keep_freed_memory;
  facesr::train(o, false);
  const auto seconds = step_seconds(fs::path(o.out_dir) / "log.csv");
  fs::remove_all(o.out_dir);
  if (static_cast<int64_t>(seconds.size()) != o.steps)
    throw std::runtime_error("log.csv of the " + name + " run has " + std::to_string(seconds.size()) + " rows");
  double total = 0;
  for (std::size_t i = kWarmupSteps; i < seconds.size(); ++i) total += seconds[i];
  TrainTiming t;
  t.seconds_per_step = total / kTimedSteps;
  t.images_per_second = static_cast<double>(kBatch) / t.seconds_per_step;
  return t;
}

double degradation_ms_per_image(const facesr::Dataset& data) {
  auto faces = data.indices(facesr::Split::Train);
  std::vector<int64_t> idx;
  for (int64_t k = 0; k < kDegradationBatch; ++k) idx.push_back(faces[static_cast<std::size_t>(k) % faces.size()]);
  const auto batch = data.batch(idx);
  const facesr::DegradationOptions options;
  facesr::degrade_fixed(batch.hr, batch.mask, options, 0);  // warm-up
  const auto start = std::chrono::steady_clock::now();
  for (int r = 1; r <= kDegradationRepeats; ++r) facesr::degrade_fixed(batch.hr, batch.mask, options, r);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return 1e3 * seconds / (kDegradationRepeats * kDegradationBatch);
}

}  // namespace

int main(int argc, char** argv) {
  const bool keep_freed_memory = !(argc == 2 && std::string(argv[1]) == "return-freed-memory");
  if (argc > 2 || (argc == 2 && keep_freed_memory)) {
    std::fprintf(stderr, "usage: %s [return-freed-memory]\n", argv[0]);
    return 2;
  }
  try {
    at::set_num_threads(kThreads);
    const auto data = facesr::Dataset::open(FACESR_TEST_DATASET);
    const int64_t ndf = facesr::TrainOptions().ndf;
    std::printf("bench-training: CPU, %d threads, %zu training faces of %s, malloc %s freed memory\n", kThreads,
                data->indices(facesr::Split::Train).size(), FACESR_TEST_DATASET,
                keep_freed_memory ? "keeps" : "returns");
    std::fflush(stdout);  // before the trainer's progress lines on stderr
    const auto none = time_training(facesr::Adversarial::None, "none", keep_freed_memory);
    const auto both = time_training(facesr::Adversarial::Both, "both", keep_freed_memory);
    at::set_num_threads(kThreads);
    const double degrade_ms = degradation_ms_per_image(*data);

    char label[96];
    std::printf("\n%-52s %8s %9s\n", "training step (mean of the timed steps)", "s/step", "images/s");
    std::snprintf(label, sizeof label, "ngf %lld, ndf %lld, batch %lld, no discriminators (model2)",
                  static_cast<long long>(kNgf), static_cast<long long>(ndf), static_cast<long long>(kBatch));
    std::printf("%-52s %8.2f %9.2f\n", label, none.seconds_per_step, none.images_per_second);
    std::snprintf(label, sizeof label, "ngf %lld, ndf %lld, batch %lld, D_g + D_l (phase 2)",
                  static_cast<long long>(kNgf), static_cast<long long>(ndf), static_cast<long long>(kBatch));
    std::printf("%-52s %8.2f %9.2f\n", label, both.seconds_per_step, both.images_per_second);
    std::printf("(%lld timed steps after %lld warm-up step; discriminators cost x%.2f per step)\n",
                static_cast<long long>(kTimedSteps), static_cast<long long>(kWarmupSteps),
                both.seconds_per_step / none.seconds_per_step);
    std::snprintf(label, sizeof label, "degradation (motion blur + 8x down), batch %ld", static_cast<long>(kDegradationBatch));
    std::printf("\n%-52s %8s\n%-52s %8.1f\n", "degradation", "ms/image", label, degrade_ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-training: %s\n", e.what());
    return 1;
  }
  return 0;
}
