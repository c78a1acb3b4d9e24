// The embeddable engine API (model/engine.h), against a random-weights model made at build time by
// make_test_model.cpp. This file does not include LibTorch: it uses the engine the way a vendor would.
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine.h"
#include "heap_probe.h"

#if !defined(FACESR_TEST_MODEL) || !defined(FACESR_BICUBIC_MODEL)
#error "FACESR_TEST_MODEL and FACESR_BICUBIC_MODEL must name the fixture models"
#endif

using facesr::Engine;
using facesr::Error;

namespace {

std::unique_ptr<Engine> open_cpu(int max_batch = 16) {
  facesr::EngineOptions options;
  options.device = facesr::Device::Cpu;
  options.threads = 2;
  options.max_batch = max_batch;
  options.precision = facesr::Precision::Float32;
  return Engine::open(FACESR_TEST_MODEL, options);
}

struct Faces {
  // `count` random 32x32 crops, stored with a padded stride like rows of a video frame.
  explicit Faces(std::size_t count, unsigned seed = 1) : stride(3 * 32 + 13), pixels(count * 32 * stride) {
    std::mt19937 rng(seed);
    for (auto& p : pixels) p = static_cast<uint8_t>(rng());
    for (std::size_t i = 0; i < count; ++i) views.push_back({pixels.data() + i * 32 * stride, 32, 32, stride});
  }
  std::size_t stride;
  std::vector<uint8_t> pixels;
  std::vector<facesr::ImageView> views;
};

struct Results {
  explicit Results(std::size_t count) : pixels(count * 256 * 256 * 3, 0) {
    for (std::size_t i = 0; i < count; ++i) views.push_back({pixels.data() + i * 256 * 256 * 3, 256, 256, 256 * 3});
  }
  const uint8_t* face(std::size_t i) const { return pixels.data() + i * 256 * 256 * 3; }
  std::vector<uint8_t> pixels;
  std::vector<facesr::MutableImageView> views;
};

// Through the zero-heads fixture (its output is bicubic(I_LR)), a crop of one flat value must come back
// as 256x256 of exactly that value: pins both conversions (x / 127.5 - 1 in; (v + 1) * 127.5 rounded
// half up and clamped, out). Returns the first wrong value found, or -1.
int first_flat_mismatch(Engine& engine) {
  const int values[] = {0, 1, 2, 63, 127, 128, 200, 254, 255};
  constexpr std::size_t kCount = sizeof values / sizeof values[0];
  std::vector<uint8_t> pixels(kCount * 32 * 32 * 3);
  std::vector<facesr::ImageView> crops;
  for (std::size_t i = 0; i < kCount; ++i) {
    std::fill(pixels.begin() + i * 32 * 32 * 3, pixels.begin() + (i + 1) * 32 * 32 * 3, values[i]);
    crops.push_back({pixels.data() + i * 32 * 32 * 3, 32, 32, 32 * 3});
  }
  Results results(kCount);
  engine.enhance(crops.data(), results.views.data(), kCount);
  for (std::size_t i = 0; i < kCount; ++i)
    for (std::size_t k = 0; k < 256 * 256 * 3; ++k)
      if (results.face(i)[k] != values[i]) return values[i];
  return -1;
}

Error::Kind open_error_kind(const std::string& path, facesr::EngineOptions options, std::string* message) {
  try {
    Engine::open(path, options);
  } catch (const Error& e) {
    *message = e.what();
    return e.kind();
  }
  ADD_FAILURE() << "open(" << path << ") succeeded";
  return Error::Kind::Internal;
}

}  // namespace

TEST(Engine, EnhancesCropsTo256) {
  auto engine = open_cpu();
  EXPECT_EQ(engine->device(), facesr::Device::Cpu);
  EXPECT_EQ(engine->threads(), 2);
  EXPECT_EQ(engine->device_description(), "CPU (2 threads, fp32)");
  EXPECT_EQ(engine->metadata().architecture.ngf, 4);
  Faces faces(3);
  Results results(3), blurred(3);
  facesr::EnhanceParams params;
  params.blurred = blurred.views.data();
  engine->enhance(faces.views.data(), results.views.data(), 3, params);
  for (std::size_t i = 0; i < 3; ++i) {
    const uint8_t* r = results.face(i);
    const auto [lo, hi] = std::minmax_element(r, r + 256 * 256 * 3);
    EXPECT_LT(*lo, *hi) << "face " << i << " result is flat: nothing was written";
    EXPECT_FALSE(std::equal(r, r + 256 * 256 * 3, blurred.face(i))) << "blurred branch is a copy of the sharp one";
  }
}

TEST(Engine, BatchOfOneEqualsBatchOfEight) {
  auto engine = open_cpu();
  Faces faces(8, 42);
  Results batched(8);
  engine->enhance(faces.views.data(), batched.views.data(), 8);
  for (std::size_t i = 0; i < 8; ++i) {
    Results single(1);
    engine->enhance(&faces.views[i], single.views.data(), 1);
    int max_diff = 0;
    for (std::size_t k = 0; k < 256 * 256 * 3; ++k)
      max_diff = std::max(max_diff, std::abs(int(single.pixels[k]) - int(batched.face(i)[k])));
    EXPECT_LE(max_diff, 1) << "face " << i << " differs between batch 1 and batch 8";
  }
  // A request larger than max_batch is split and gives the same results.
  auto small_batches = open_cpu(3);
  Results split(8);
  small_batches->enhance(faces.views.data(), split.views.data(), 8);
  int max_diff = 0;
  for (std::size_t k = 0; k < split.pixels.size(); ++k)
    max_diff = std::max(max_diff, std::abs(int(split.pixels[k]) - int(batched.pixels[k])));
  EXPECT_LE(max_diff, 1);
}

// EngineOptions::parallel_faces: 5 faces (parts of 2 and 3 on the 2 threads), sharp and blurred
// outputs, against the same engine running each batch whole.
TEST(Engine, ParallelFacesGiveTheResultsOfOneBatch) {
  auto open = [](bool parallel) {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cpu;
    options.threads = 2;
    options.precision = facesr::Precision::Float32;
    options.parallel_faces = parallel;
    return Engine::open(FACESR_TEST_MODEL, options);
  };
  Faces faces(5, 7);
  Results whole(5), whole_blurred(5), parts(5), parts_blurred(5);
  facesr::EnhanceParams params;
  params.blurred = whole_blurred.views.data();
  open(false)->enhance(faces.views.data(), whole.views.data(), 5, params);
  params.blurred = parts_blurred.views.data();
  open(true)->enhance(faces.views.data(), parts.views.data(), 5, params);
  auto max_diff = [](const Results& a, const Results& b) {
    int diff = 0;
    for (std::size_t k = 0; k < a.pixels.size(); ++k) diff = std::max(diff, std::abs(int(a.pixels[k]) - int(b.pixels[k])));
    return diff;
  };
  EXPECT_LE(max_diff(whole, parts), 1);
  EXPECT_LE(max_diff(whole_blurred, parts_blurred), 1);
  EXPECT_NE(whole.pixels, whole_blurred.pixels) << "the blurred results are their own";
}

namespace {
// The same seed gives the same noisy faces, another seed others, and noise changes the faces.
void expect_noise_is_seeded(Engine& engine, const std::string& label) {
  Faces faces(2);
  Results a(2), b(2), c(2), plain(2);
  engine.enhance(faces.views.data(), plain.views.data(), 2);
  facesr::EnhanceParams params;
  params.noise = 0.5f;
  params.seed = 3;
  engine.enhance(faces.views.data(), a.views.data(), 2, params);
  engine.enhance(faces.views.data(), b.views.data(), 2, params);
  params.seed = 4;
  engine.enhance(faces.views.data(), c.views.data(), 2, params);
  EXPECT_EQ(a.pixels, b.pixels) << label;
  EXPECT_NE(a.pixels, c.pixels) << label;
  EXPECT_NE(a.pixels, plain.pixels) << label;
}
}  // namespace

TEST(Engine, NoiseIsSeeded) { expect_noise_is_seeded(*open_cpu(), "cpu"); }

TEST(Engine, RejectsBadBuffers) {
  auto engine = open_cpu();
  Faces faces(1);
  Results results(1);
  auto bad = faces.views[0];
  bad.width = 31;
  auto expect_input_error = [&](const facesr::ImageView& crop, const facesr::MutableImageView& out,
                                const std::string& needle) {
    try {
      engine->enhance(&crop, &out, 1);
      ADD_FAILURE() << "accepted a bad buffer";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), Error::Kind::Input);
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_input_error(bad, results.views[0], "31x32");
  bad = faces.views[0];
  bad.stride = 90;
  expect_input_error(bad, results.views[0], "stride 90");
  bad.data = nullptr;
  expect_input_error(bad, results.views[0], "null");
  auto bad_out = results.views[0];
  bad_out.height = 128;
  expect_input_error(faces.views[0], bad_out, "must be 256x256");
  EXPECT_NO_THROW(engine->enhance(nullptr, nullptr, 0));
}

TEST(Engine, FlatCropsComeBackWithTheirValue) {
  for (auto precision : {facesr::Precision::Float32, facesr::Precision::BFloat16}) {
    if (precision == facesr::Precision::BFloat16 && !facesr::cpu_has_fast_bf16())
      GTEST_SKIP() << "fp32 checked; bf16 skipped: " << facesr::cpu_bf16_limit() << " (the engine refuses it)";
    facesr::EngineOptions options;
    options.device = facesr::Device::Cpu;
    options.threads = 2;
    options.precision = precision;
    auto engine = Engine::open(FACESR_BICUBIC_MODEL, options);
    EXPECT_EQ(first_flat_mismatch(*engine), -1) << facesr::to_string(precision);
  }
}

TEST(Engine, MissingOrCorruptModelIsAModelFileError) {
  std::string message;
  EXPECT_EQ(open_error_kind("/nonexistent/model.safetensors", {}, &message), Error::Kind::ModelFile);
  EXPECT_NE(message.find("cannot open"), std::string::npos) << message;

  const auto corrupt = (std::filesystem::temp_directory_path() / "facesr-test-corrupt.safetensors").string();
  std::filesystem::copy_file(FACESR_TEST_MODEL, corrupt, std::filesystem::copy_options::overwrite_existing);
  std::filesystem::resize_file(corrupt, std::filesystem::file_size(corrupt) / 2);
  EXPECT_EQ(open_error_kind(corrupt, {}, &message), Error::Kind::ModelFile);
  EXPECT_NE(message.find("truncated"), std::string::npos) << message;
  std::ofstream(corrupt, std::ios::binary) << "GIF89a this is not a model at all";
  EXPECT_EQ(open_error_kind(corrupt, {}, &message), Error::Kind::ModelFile);
  std::filesystem::remove(corrupt);
}

// keep_freed_memory is process-wide and cannot be undone, so each setting runs in a fresh process:
// a gtest death test in "threadsafe" style re-executes this binary for this test alone.
TEST(EngineDeathTest, KeepFreedMemoryTakesLargeBlocksFromTheHeap) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto open_and_probe = [](bool keep) {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cpu;
    options.keep_freed_memory = keep;
    auto engine = Engine::open(FACESR_TEST_MODEL, options);
    std::exit(facesr::test::large_block_is_mapped() ? 1 : 0);
  };
  EXPECT_EXIT(open_and_probe(true), ::testing::ExitedWithCode(0), "");
  EXPECT_EXIT(open_and_probe(false), ::testing::ExitedWithCode(1), "") << "glibc's default maps 40 MB blocks";
}

TEST(Engine, DeviceSelection) {
  facesr::EngineOptions options;
  options.device = facesr::Device::Auto;
  auto engine = Engine::open(FACESR_TEST_MODEL, options);
  EXPECT_EQ(engine->device(), facesr::cuda_available() ? facesr::Device::Cuda : facesr::Device::Cpu);
  if (!facesr::cuda_available()) {
    options.device = facesr::Device::Cuda;
    std::string message;
    EXPECT_EQ(open_error_kind(FACESR_TEST_MODEL, options, &message), Error::Kind::Device);
    EXPECT_NE(message.find("use device auto or cpu"), std::string::npos) << message;
    options.device = facesr::Device::Cpu;
    options.precision = facesr::Precision::Float16;
    EXPECT_EQ(open_error_kind(FACESR_TEST_MODEL, options, &message), Error::Kind::Device);
  }
  EXPECT_EQ(facesr::device_from_string("cuda"), facesr::Device::Cuda);
  EXPECT_THROW(facesr::device_from_string("gpu"), Error);
  EXPECT_THROW(facesr::precision_from_string("int8"), Error);
}

// Auto: fp32 on a CPU without AVX-512 BF16; on one with it, whichever of the two open() timed
// faster, by the rule of faster_cpu_precision, with the times in device_description().
TEST(Engine, AutoPrecisionKeepsTheFasterOneAsTimed) {
  facesr::EngineOptions options;
  options.device = facesr::Device::Cpu;
  options.threads = 2;
  auto engine = Engine::open(FACESR_TEST_MODEL, options);
  const std::string description = engine->device_description();
  if (!facesr::cpu_has_fast_bf16()) {
    EXPECT_EQ(engine->precision(), facesr::Precision::Float32);
    EXPECT_EQ(description, "CPU (2 threads, fp32)");
  } else {
    double fp32_ms = 0, bf16_ms = 0;
    char chosen[8] = {};
    ASSERT_EQ(std::sscanf(description.c_str(), "CPU (2 threads, auto: %4[a-z0-9], timed at start fp32 %lf vs bf16 %lf ms/face)",
                          chosen, &fp32_ms, &bf16_ms), 3)
        << description;
    EXPECT_GT(fp32_ms, 0);
    EXPECT_GT(bf16_ms, 0);
    EXPECT_EQ(engine->precision(), facesr::faster_cpu_precision(fp32_ms, bf16_ms)) << description;
    EXPECT_EQ(std::string(chosen), facesr::to_string(engine->precision())) << description;
    // Timed once per process: a second engine of the same file reuses the choice, times and all.
    EXPECT_EQ(Engine::open(FACESR_TEST_MODEL, options)->device_description(), description);
    // The engine runs in what it chose: results as an explicit engine of that precision gives.
    options.precision = engine->precision();
    auto pinned = Engine::open(FACESR_TEST_MODEL, options);
    Faces faces(2);
    Results a(2), b(2);
    engine->enhance(faces.views.data(), a.views.data(), 2);
    pinned->enhance(faces.views.data(), b.views.data(), 2);
    EXPECT_EQ(a.pixels, b.pixels);
  }
  EXPECT_EQ(facesr::precision_from_string("auto"), facesr::Precision::Auto);
}

// The rule: bf16 only when clearly faster (as on an AMD EPYC, 1.75x); fp32 where bf16 is slower (an
// Intel Xeon without AMX, 1.5x slower) or within kBFloat16MinSpeedup of it.
TEST(Engine, FasterCpuPrecisionPrefersFloat32UnlessBFloat16IsClearlyFaster) {
  using facesr::Precision;
  EXPECT_EQ(facesr::faster_cpu_precision(17.5, 10.0), Precision::BFloat16);
  EXPECT_EQ(facesr::faster_cpu_precision(6.8, 10.4), Precision::Float32);
  EXPECT_EQ(facesr::faster_cpu_precision(10.0, 10.0), Precision::Float32);
  EXPECT_EQ(facesr::faster_cpu_precision(11.0, 10.0), Precision::Float32);
  EXPECT_EQ(facesr::faster_cpu_precision(12.0, 10.0), Precision::BFloat16);
}

// A CPU that would emulate bf16 (no AVX-512 BF16, or oneDNN held below it, as an AVX2-only CPU is
// emulated here): auto picks fp32 and an explicit bf16 is refused with a message that says why and
// what to use. In a fresh process, so that ONEDNN_MAX_CPU_ISA cannot reach the other tests' oneDNN.
TEST(EngineDeathTest, EmulatedBFloat16IsRefusedAndAutoPicksFloat32) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  auto open_as_avx2 = [] {
    setenv("ONEDNN_MAX_CPU_ISA", "avx2", 1);
    if (facesr::cpu_has_fast_bf16()) std::exit(2);
    facesr::EngineOptions options;
    options.device = facesr::Device::Cpu;
    if (Engine::open(FACESR_TEST_MODEL, options)->precision() != facesr::Precision::Float32) std::exit(3);
    options.precision = facesr::Precision::BFloat16;
    std::string message;
    if (open_error_kind(FACESR_TEST_MODEL, options, &message) != Error::Kind::Device) std::exit(4);
    std::fprintf(stderr, "%s\n", message.c_str());
    std::exit(0);
  };
  EXPECT_EXIT(open_as_avx2(), ::testing::ExitedWithCode(0), "bf16 on this CPU would be emulated.*use precision auto or fp32");
}

// The flip self-ensemble is the mean of a face's result and the mirror image of its mirror's result
// (each rounded to 8 bits here, so within 1 level), on every face of a batch, and not the plain result.
TEST(Engine, FlipEnsembleIsTheMeanOfTheFaceAndItsMirror) {
  auto engine = open_cpu();
  const std::size_t n = 3;
  Faces faces(n, 7);
  Faces mirrored(n, 7);
  for (std::size_t i = 0; i < n; ++i)
    for (int y = 0; y < 32; ++y)
      for (int x = 0; x < 32; ++x)
        for (int c = 0; c < 3; ++c)
          mirrored.pixels[i * 32 * mirrored.stride + y * mirrored.stride + (31 - x) * 3 + c] =
              faces.pixels[i * 32 * faces.stride + y * faces.stride + x * 3 + c];
  Results plain(n), of_mirror(n), ensemble(n);
  engine->enhance(faces.views.data(), plain.views.data(), n);
  engine->enhance(mirrored.views.data(), of_mirror.views.data(), n);
  facesr::EnhanceParams params;
  params.flip_ensemble = true;
  engine->enhance(faces.views.data(), ensemble.views.data(), n, params);
  int worst = 0;
  std::size_t differ = 0;
  for (std::size_t i = 0; i < n; ++i)
    for (int y = 0; y < 256; ++y)
      for (int x = 0; x < 256; ++x)
        for (int c = 0; c < 3; ++c) {
          const int a = plain.face(i)[(y * 256 + x) * 3 + c], b = of_mirror.face(i)[(y * 256 + 255 - x) * 3 + c];
          const int e = ensemble.face(i)[(y * 256 + x) * 3 + c];
          worst = std::max(worst, std::abs(2 * e - (a + b)));
          differ += e != a;
        }
  EXPECT_LE(worst, 2) << "ensemble != (result + mirrored result of the mirror) / 2, in half levels";
  EXPECT_GT(differ, 1000u) << "the ensemble gave the plain result";
}

TEST(Engine, BFloat16MatchesFloat32Closely) {
  if (!facesr::cpu_has_fast_bf16()) GTEST_SKIP() << facesr::cpu_bf16_limit() << ": the engine refuses bf16 here";
  facesr::EngineOptions options;
  options.device = facesr::Device::Cpu;
  options.precision = facesr::Precision::BFloat16;
  auto bf16 = Engine::open(FACESR_TEST_MODEL, options);
  auto fp32 = open_cpu();
  Faces faces(2);
  Results a(2), b(2);
  fp32->enhance(faces.views.data(), a.views.data(), 2);
  bf16->enhance(faces.views.data(), b.views.data(), 2);
  double total = 0;
  for (std::size_t k = 0; k < a.pixels.size(); ++k) total += std::abs(int(a.pixels[k]) - int(b.pixels[k]));
  EXPECT_LT(total / a.pixels.size(), 4.0) << "bf16 drifts from fp32 by more than 4 levels on average";
}

// A build linked against a CUDA LibTorch must see the GPU when one is present: the failure mode this
// guards against is torch_cuda dropped by --as-needed, which makes CUDA silently unavailable.
TEST(CudaBuild, ReportsCudaWhenGpuPresent) {
#ifndef FACESR_HAVE_CUDA_LIBTORCH
  GTEST_SKIP() << "built against a CPU-only LibTorch";
#else
  if (!std::filesystem::exists("/dev/nvidia0")) GTEST_SKIP() << "no NVIDIA GPU on this machine";
  EXPECT_TRUE(facesr::cuda_available()) << "CUDA LibTorch linked and a GPU present, but CUDA unavailable";
  auto engine = Engine::open(FACESR_TEST_MODEL, {});
  EXPECT_EQ(engine->device(), facesr::Device::Cuda);
#endif
}

// The engine on CUDA (skipped without a GPU; tests/gpu/run.sh runs it on one): each precision against
// the CPU float32 engine, the blurred branch, seeded noise, batches split by max_batch.
TEST(CudaEngine, MatchesTheCpuEngineInEachPrecision) {
  if (!facesr::cuda_available()) GTEST_SKIP() << "no CUDA device";
  auto cpu = open_cpu();
  Faces faces(5);
  Results reference(5), reference_blurred(5);
  facesr::EnhanceParams with_blurred;
  with_blurred.blurred = reference_blurred.views.data();
  cpu->enhance(faces.views.data(), reference.views.data(), 5, with_blurred);
  // Mean |difference| in 8-bit levels allowed per precision (float32: cuDNN's TF32 convolutions).
  const std::pair<facesr::Precision, double> precisions[] = {
      {facesr::Precision::Float32, 1.0}, {facesr::Precision::Float16, 2.0}, {facesr::Precision::BFloat16, 4.0}};
  for (const auto& [precision, allowed] : precisions) {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cuda;
    options.precision = precision;
    options.max_batch = 2;  // 5 faces: batches of 2, 2 and 1
    auto gpu = Engine::open(FACESR_TEST_MODEL, options);
    ASSERT_EQ(gpu->device(), facesr::Device::Cuda);
    Results out(5), blurred(5);
    facesr::EnhanceParams params;
    params.blurred = blurred.views.data();
    gpu->enhance(faces.views.data(), out.views.data(), 5, params);
    double sharp_diff = 0, blurred_diff = 0;
    for (std::size_t k = 0; k < out.pixels.size(); ++k) {
      sharp_diff += std::abs(int(out.pixels[k]) - int(reference.pixels[k]));
      blurred_diff += std::abs(int(blurred.pixels[k]) - int(reference_blurred.pixels[k]));
    }
    EXPECT_LT(sharp_diff / out.pixels.size(), allowed) << facesr::to_string(precision);
    EXPECT_LT(blurred_diff / out.pixels.size(), allowed) << facesr::to_string(precision);

    expect_noise_is_seeded(*gpu, "cuda " + facesr::to_string(precision));

    // The float -> RGB8 conversion runs on the GPU there: the same bytes as on the CPU.
    EXPECT_EQ(first_flat_mismatch(*Engine::open(FACESR_BICUBIC_MODEL, options)), -1) << facesr::to_string(precision);
  }
}
