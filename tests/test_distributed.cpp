// Distributed data-parallel training: two facesr-train processes on 127.0.0.1 with Gloo, started
// torchrun-style (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT). Both ranks must end with identical
// weights (the trainer checks this and fails otherwise), and the result must match a one-process run
// with the same global batch within tolerance (batch norm sees half batches per rank, so not exactly).
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "weights.h"

namespace fs = std::filesystem;

namespace {

const char* const kSteps = "4";

pid_t launch(const std::string& out, int rank, int world, int port) {
  const pid_t pid = fork();
  if (pid == 0) {
    if (world > 1) {
      setenv("RANK", std::to_string(rank).c_str(), 1);
      setenv("WORLD_SIZE", std::to_string(world).c_str(), 1);
      setenv("MASTER_ADDR", "127.0.0.1", 1);
      setenv("MASTER_PORT", std::to_string(port).c_str(), 1);
    }
    ::execl(FACESR_TRAIN_BIN, FACESR_TRAIN_BIN, "--data", FACESR_TEST_DATASET, "--out", out.c_str(), "--ngf", "4",
            "--depth", "6", "--ndf", "8", "--batch", "4", "--steps", kSteps, "--phase1-steps", "2",
            "--sample-every", "0", "--validate-every", "0", "--threads", "1", "--quiet", nullptr);
    _exit(127);
  }
  return pid;
}

int wait_exit(pid_t pid) {
  int status = 0;
  ::waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

}  // namespace

TEST(Distributed, TwoGlooRanksStayInSyncAndMatchOneProcess) {
  const fs::path base = fs::temp_directory_path() / "facesr-test-ddp";
  fs::remove_all(base);
  const std::string single = (base / "single").string(), ddp = (base / "ddp").string();
  ASSERT_EQ(wait_exit(launch(single, 0, 1, 0)), 0) << "one-process run failed";

  const int port = 20000 + static_cast<int>(::getpid() % 20000);
  const pid_t r0 = launch(ddp, 0, 2, port), r1 = launch(ddp, 1, 2, port);
  EXPECT_EQ(wait_exit(r0), 0) << "rank 0 failed (or the ranks' weights diverged)";
  EXPECT_EQ(wait_exit(r1), 0) << "rank 1 failed (or the ranks' weights diverged)";

  auto a = facesr::load_generator(single + "/model.safetensors");
  auto b = facesr::load_generator(ddp + "/model.safetensors");
  auto pa = a.generator->named_parameters(), pb = b.generator->named_parameters();
  double worst = 0;
  for (const auto& item : pa) worst = std::max(worst, (item.value() - pb[item.key()]).abs().max().item<double>());
  std::printf("largest weight difference, 2 ranks vs 1 process after %s steps: %.3g\n", kSteps, worst);
  EXPECT_LT(worst, 5e-3);
  EXPECT_GT(worst, 0.0) << "identical to the bit: were the two runs really different processes?";
}

TEST(Distributed, IncompleteEnvironmentIsAClearError) {
  const fs::path out = fs::temp_directory_path() / "facesr-test-ddp-env";
  const pid_t pid = fork();
  if (pid == 0) {
    setenv("WORLD_SIZE", "2", 1);
    unsetenv("RANK");
    ::execl(FACESR_TRAIN_BIN, FACESR_TRAIN_BIN, "--data", FACESR_TEST_DATASET, "--out", out.c_str(), "--ngf", "4",
            "--steps", "1", "--quiet", nullptr);
    _exit(127);
  }
  EXPECT_EQ(wait_exit(pid), 1) << "facesr-train must refuse WORLD_SIZE=2 without RANK";
}
