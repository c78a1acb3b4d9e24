// The trainer end to end on the CPU: both phases, losses fall, export + load, resume equivalence,
// SIGTERM and SIGKILL safety. Uses a small dataset made at build time by facesr-prepare from dlib's
// "johns" face chips (FACESR_TEST_DATASET) and the facesr-train binary (FACESR_TRAIN_BIN).
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <thread>

#include "dataset.h"
#include "heap_probe.h"
#include "run_tool.h"
#include "trainer.h"
#include "weights.h"

namespace fs = std::filesystem;
using facesr::TrainOptions;

namespace {

TrainOptions small_run(const std::string& name) {
  TrainOptions o;
  o.data = FACESR_TEST_DATASET;
  o.out_dir = (fs::temp_directory_path() / ("facesr-test-train-" + name)).string();
  fs::remove_all(o.out_dir);
  o.generator.ngf(4).depth(6);
  o.ndf = 8;
  o.batch = 4;
  o.lr = 1e-3;
  o.steps = 40;
  o.phase1_steps = 20;
  o.checkpoint_every = 10;
  o.sample_every = 20;
  o.validate_every = 20;
  o.threads = 2;
  o.device = "cpu";
  o.quiet = true;
  return o;
}

// A run of `steps` phase-1 steps that writes no checkpoint, sample or validation on the way.
TrainOptions bare_run(const std::string& name, int64_t steps) {
  TrainOptions o = small_run(name);
  o.steps = o.phase1_steps = steps;
  o.checkpoint_every = o.sample_every = o.validate_every = 0;
  return o;
}

std::vector<std::vector<double>> read_csv(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::vector<double>> rows;
  while (std::getline(in, line)) {
    std::vector<double> row;
    std::stringstream ss(line);
    std::string cell;
    while (std::getline(ss, cell, ',')) row.push_back(std::stod(cell));
    rows.push_back(row);
  }
  return rows;
}

std::map<std::string, torch::Tensor> weights_of(const std::string& path) {
  auto loaded = facesr::load_generator(path);
  std::map<std::string, torch::Tensor> out;
  for (const auto& p : loaded.generator->named_parameters()) out[p.key()] = p.value().clone();
  return out;
}

}  // namespace

TEST(Training, EndToEndBothPhasesLossesFallAndExport) {
  auto o = small_run("e2e");
  // The paper's tanh heads start from noise, so 40 steps must cut L_pix clearly. (Residual heads start
  // at bicubic quality, where 40 steps of ngf 4 gain little: 0.130 -> 0.110 measured.)
  o.generator.residual(false);
  const auto result = facesr::train(o, false);
  EXPECT_EQ(result.steps_done, 40);
  EXPECT_FALSE(result.interrupted);
  const auto log = read_csv(o.out_dir + "/log.csv");
  ASSERT_EQ(log.size(), 40u);
  // Columns: step, phase, d_global, d_local, g_adv_global, g_adv_local, pix, ...
  EXPECT_EQ(log[19][1], 1);
  EXPECT_EQ(log[20][1], 2);
  EXPECT_EQ(log[5][3], 0.0) << "no local D in phase 1";
  EXPECT_NE(log[30][3], 0.0) << "local D trains in phase 2";
  // Column 11: feature matching on D_g (phase 1), D_g + D_l (phase 2).
  EXPECT_GT(log[5][11], 0.0) << "feature matching on the global D";
  EXPECT_GT(log[30][11], 0.0);
  double first = 0, last = 0;
  for (int i = 0; i < 5; ++i) first += log[i][6], last += log[35 + i][6];
  EXPECT_LT(last, 0.8 * first) << "L_pix did not fall: " << first / 5 << " -> " << last / 5;
  EXPECT_TRUE(fs::exists(o.out_dir + "/samples/step-0000020.png"));
  const auto val = read_csv(o.out_dir + "/validation.csv");
  ASSERT_EQ(val.size(), 2u) << "a row at steps 20 and 40; the final validation is not repeated at a validation step";
  EXPECT_EQ(val[0][0], 20);
  EXPECT_EQ(val[1][0], 40);
  EXPECT_GT(val.back()[1], 5.0) << "validation PSNR";

  auto model = facesr::load_generator(o.out_dir + "/model.safetensors");
  EXPECT_EQ(model.metadata.architecture.ngf, 4);
  EXPECT_NE(model.metadata.training.find("\"steps_done\":40"), std::string::npos) << model.metadata.training;
  EXPECT_NE(model.metadata.training.find("no VGG-19 weights"), std::string::npos) << "says the perceptual loss was off";
  EXPECT_NE(model.metadata.training.find("feature matching"), std::string::npos) << "and what stood in for it";
  EXPECT_NE(model.metadata.training.find("\"lambda_fm\":10.0"), std::string::npos) << model.metadata.training;
  EXPECT_NE(model.metadata.evaluation.find("psnr_db"), std::string::npos) << model.metadata.evaluation;
}

// TrainOptions::keep_freed_memory: each setting in a fresh process (a "threadsafe" death test
// re-executes this binary for this test alone), as the malloc policy cannot be undone.
TEST(TrainingDeathTest, KeepFreedMemoryTakesLargeBlocksFromTheHeap) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto train_and_probe = [](bool keep) {
    auto o = bare_run(keep ? "keep-memory" : "return-memory", 1);
    o.keep_freed_memory = keep;
    facesr::train(o, false);
    std::exit(facesr::test::large_block_is_mapped() ? 1 : 0);
  };
  EXPECT_EXIT(train_and_probe(true), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(train_and_probe(false), ::testing::ExitedWithCode(1), "") << "glibc's default maps 40 MB blocks";
}

TEST(Training, AblationsRun) {
  for (const char* ablation : {"model1", "model2", "model3"}) {
    auto o = small_run(std::string("ablation-") + ablation);
    o.steps = 3;
    o.phase1_steps = 1;
    o.sample_every = o.validate_every = 0;
    if (std::string(ablation) == "model1") o.generator.lr_upsampler(facesr::LrUpsampler::Bicubic);
    if (std::string(ablation) == "model2") o.adversarial = facesr::Adversarial::None;
    if (std::string(ablation) == "model3") o.adversarial = facesr::Adversarial::GlobalOnly;
    EXPECT_EQ(facesr::train(o, false).steps_done, 3) << ablation;
    const auto log = read_csv(o.out_dir + "/log.csv");
    if (std::string(ablation) == "model2") {
      EXPECT_EQ(log[2][2], 0.0) << "no global D in model2";
      EXPECT_EQ(log[2][11], 0.0) << "no feature matching without discriminators";
    }
    if (std::string(ablation) == "model3") {
      EXPECT_EQ(log[2][3], 0.0) << "no local D in model3";
    }
  }
}

// The paper's adversarial training (D_g, then D_l from step 6, feature matching) with noise in G
// ("w/ N"): stopped after the local D joined and resumed, it ends where a straight run ends.
TEST(Training, ResumeGivesTheSameWeightsAsAnUninterruptedRun) {
  auto straight = small_run("straight");
  ASSERT_EQ(straight.adversarial, facesr::Adversarial::Both);
  ASSERT_GT(straight.lambda_fm, 0.0);
  straight.train_noise = 0.1;
  straight.steps = 12;
  straight.phase1_steps = 6;
  straight.checkpoint_every = 4;
  straight.sample_every = straight.validate_every = 0;
  facesr::train(straight, false);

  auto split = straight;
  split.out_dir = small_run("split").out_dir;
  split.steps = 7;  // stops mid-way, after the phase change
  facesr::train(split, false);
  split.steps = 12;
  EXPECT_EQ(facesr::train(split, true).steps_done, 12);

  const auto a = weights_of(straight.out_dir + "/model.safetensors");
  const auto b = weights_of(split.out_dir + "/model.safetensors");
  for (const auto& [name, tensor] : a)
    EXPECT_TRUE(torch::allclose(tensor, b.at(name), 1e-5, 1e-6)) << name << " differs after resume";
}

// --lr-decay-steps: the last N steps run at a falling learning rate (a function of the step, so a
// resume at the same --steps continues it exactly); recorded in the model's training metadata.
TEST(Training, LearningRateDecayChangesTheLastStepsAndIsRecorded) {
  auto constant = bare_run("lr-constant", 4);
  facesr::train(constant, false);
  auto decayed = constant;
  decayed.out_dir = small_run("lr-decayed").out_dir;
  decayed.lr_decay_steps = 2;
  facesr::train(decayed, false);
  const auto a = weights_of(constant.out_dir + "/model.safetensors");
  const auto b = weights_of(decayed.out_dir + "/model.safetensors");
  double differs = 0;
  for (const auto& [name, tensor] : a) differs += (tensor - b.at(name)).abs().sum().item<double>();
  EXPECT_GT(differs, 0.0) << "the decay changed nothing";
  const auto model = facesr::load_generator(decayed.out_dir + "/model.safetensors");
  EXPECT_NE(model.metadata.training.find("\"lr_decay_steps\":2"), std::string::npos) << model.metadata.training;
}

// facesr-train killed while it writes checkpoints every step: the checkpoint left behind always loads.
TEST(Training, SigkillMidCheckpointLeavesALoadableCheckpoint) {
  auto o = small_run("sigkill");
  for (int round = 0; round < 3; ++round) {
    const pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      // --residual: the library's default architecture, which export_checkpoint(o) below expects.
      ::execl(FACESR_TRAIN_BIN, FACESR_TRAIN_BIN, "--data", o.data.c_str(), "--out", o.out_dir.c_str(), "--ngf", "4",
              "--residual", "--depth", "6", "--ndf", "8", "--batch", "2", "--steps", "1000", "--checkpoint-every", "1",
              "--sample-every", "0", "--validate-every", "0", "--threads", "1", "--quiet",
              round > 0 ? "--resume" : nullptr, nullptr);
      _exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (!fs::exists(o.out_dir + "/checkpoint.pt") && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::this_thread::sleep_for(std::chrono::milliseconds(300 + 170 * round));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "facesr-train exited before it was killed (status " << status << ")";
    const auto weights = o.out_dir + "/after-kill.safetensors";
    EXPECT_NO_THROW(facesr::export_checkpoint(o, weights)) << "round " << round;
  }
}

TEST(Training, SigtermWritesACheckpointAndResumeContinues) {
  auto o = small_run("sigterm");
  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(FACESR_TRAIN_BIN, FACESR_TRAIN_BIN, "--data", o.data.c_str(), "--out", o.out_dir.c_str(), "--ngf", "4",
            "--residual", "--depth", "6", "--ndf", "8", "--batch", "2", "--steps", "100000", "--checkpoint-every", "100000",
            "--sample-every", "0", "--validate-every", "0", "--threads", "1", "--quiet", nullptr);
    _exit(127);
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {  // wait for a few logged steps
    std::ifstream log(o.out_dir + "/log.csv");
    if (std::count(std::istreambuf_iterator<char>(log), std::istreambuf_iterator<char>(), '\n') > 3) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ::kill(pid, SIGTERM);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);
  const auto steps_before = read_csv(o.out_dir + "/log.csv").size();
  ASSERT_GE(steps_before, 3u);
  o.steps = static_cast<int64_t>(steps_before) + 2;
  o.batch = 2;
  o.sample_every = o.validate_every = 0;
  EXPECT_EQ(facesr::train(o, true).steps_done, o.steps) << "resumed at the step SIGTERM saved";
  EXPECT_EQ(read_csv(o.out_dir + "/log.csv").size(), steps_before + 2);
}

// --upsample and --heads through facesr-train, its weights file's metadata and load_generator.
TEST(Training, CommandLineUpsampleAndHeadsReachTheWeightsFile) {
  auto o = small_run("upsample");
  const auto run = facesr::test_tools::run_tool(
      FACESR_TRAIN_BIN,
      "--data " + o.data + " --out " + o.out_dir + " --ngf 4 --depth 4 --ndf 8 --batch 2 --steps 2 --phase1-steps 1 "
      "--sample-every 0 --validate-every 0 --threads 1 --quiet --upsample transposed --heads subpixel",
      o.out_dir + "-log");
  ASSERT_EQ(run.status, 0) << run.err;
  const auto loaded = facesr::load_generator(o.out_dir + "/model.safetensors");
  EXPECT_EQ(loaded.metadata.architecture.upsample, "transposed");
  EXPECT_EQ(loaded.generator->options().upsample(), facesr::UpsampleMode::Transposed);
  EXPECT_EQ(loaded.metadata.architecture.heads, "subpixel");
  EXPECT_EQ(loaded.generator->options().heads(), facesr::HeadMode::Subpixel);
}

// --init: a fresh run starts from a weights file (fine-tuning): at step 0 the exported generator is
// the file's, trained on it moves away from it; the file's architecture is taken on the command line,
// a contradicting one is refused, and the exported metadata names the starting model.
TEST(Training, InitStartsFromAWeightsFileAndTakesItsArchitecture) {
  auto base = bare_run("init-base", 3);
  facesr::train(base, false);
  const std::string init = base.out_dir + "/model.safetensors";

  auto zero = base;
  zero.out_dir = small_run("init-zero").out_dir;
  zero.init_weights = init;
  zero.steps = 0;
  zero.seed = 9;  // another random initialisation: only --init can make the weights equal
  facesr::train(zero, false);
  const auto a = weights_of(init), b = weights_of(zero.out_dir + "/model.safetensors");
  for (const auto& [name, tensor] : a) EXPECT_TRUE(torch::equal(tensor, b.at(name))) << name << " is not the file's";
  const auto meta = facesr::load_generator(zero.out_dir + "/model.safetensors").metadata;
  EXPECT_NE(meta.training.find("\"init_weights\":\"" + init + "\""), std::string::npos) << meta.training;
  EXPECT_NE(meta.training.find("\"init_training\""), std::string::npos) << meta.training;

  auto tuned = zero;
  tuned.out_dir = small_run("init-tuned").out_dir;
  tuned.steps = 2;
  facesr::train(tuned, false);
  double moved = 0;
  for (const auto& [name, tensor] : weights_of(tuned.out_dir + "/model.safetensors"))
    moved += (tensor - a.at(name)).abs().sum().item<double>();
  EXPECT_GT(moved, 0.0) << "two steps from the file changed nothing";

  // Ablation model1 (bicubic upsampler) from the learned-upsampler file: everything else is the file's.
  auto bicubic = zero;
  bicubic.out_dir = small_run("init-model1").out_dir;
  bicubic.generator.lr_upsampler(facesr::LrUpsampler::Bicubic);
  facesr::train(bicubic, false);
  const auto m1 = weights_of(bicubic.out_dir + "/model.safetensors");
  EXPECT_EQ(m1.count("lr_in.weight"), 0u);
  EXPECT_LT(m1.size(), a.size());
  for (const auto& [name, tensor] : m1) EXPECT_TRUE(torch::equal(tensor, a.at(name))) << name << " is not the file's";

  auto wrong = zero;
  wrong.out_dir = small_run("init-wrong").out_dir;
  wrong.generator.ngf(8);
  try {
    facesr::train(wrong, false);
    FAIL() << "an ngf 8 run started from ngf 4 weights";
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("ngf 4"), std::string::npos) << e.what();
  }

  // The command line: no architecture options needed; a contradicting --ngf is refused with the file's.
  const std::string common = "--data " + base.data + " --ndf 8 --batch 2 --steps 1 --phase1-steps 1 "
                             "--sample-every 0 --validate-every 0 --threads 1 --quiet --init " + init;
  const auto cli = facesr::test_tools::run_tool(FACESR_TRAIN_BIN, common + " --out " + base.out_dir + "-cli",
                                                base.out_dir + "-cli-log");
  ASSERT_EQ(cli.status, 0) << cli.err;
  EXPECT_EQ(facesr::load_generator(base.out_dir + "-cli/model.safetensors").metadata.architecture.ngf, 4);
  const auto bad = facesr::test_tools::run_tool(FACESR_TRAIN_BIN, common + " --ngf 16 --out " + base.out_dir + "-bad",
                                                base.out_dir + "-bad-log");
  EXPECT_NE(bad.status, 0);
  EXPECT_NE(bad.err.find("--ngf 4"), std::string::npos) << bad.err;
}

TEST(Training, BadInputsGiveClearErrors) {
  auto o = small_run("bad");
  o.data = "/nonexistent/faces.safetensors";
  try {
    facesr::train(o, false);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("facesr-prepare"), std::string::npos) << e.what();
  }
  o = small_run("bad2");
  try {
    facesr::train(o, true);
    FAIL();
  } catch (const std::exception& e) {
    EXPECT_NE(std::string(e.what()).find("no checkpoint"), std::string::npos) << e.what();
  }
  o.device = "cuda";
  if (!torch::cuda::is_available()) {
    EXPECT_THROW(facesr::train(o, false), std::runtime_error);
  }
}

TEST(Dataset, PreparedFixtureIsSplitByPhotoWithMasks) {
  auto data = facesr::Dataset::open(FACESR_TEST_DATASET);
  EXPECT_GE(data->size(), 30);
  EXPECT_FALSE(data->indices(facesr::Split::Validation).empty());
  std::set<std::string> train_sources, val_sources;
  for (const auto& f : data->faces())
    (f.split == facesr::Split::Train ? train_sources : val_sources).insert(f.source);
  for (const auto& s : val_sources) EXPECT_EQ(train_sources.count(s), 0u) << s << " on both sides";
  auto batch = data->batch({0, 1});
  EXPECT_EQ(batch.hr.sizes(), (std::vector<int64_t>{2, 3, 256, 256}));
  EXPECT_LE(batch.hr.max().item<float>(), 1.0f);
  const double coverage = batch.mask.mean().item<double>();
  EXPECT_GT(coverage, 0.1);
  EXPECT_LT(coverage, 0.9);
}
