#include "engine.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "process_memory.h"
#include "weights.h"

namespace facesr {

struct Engine::Impl {
  std::string path;
  ModelMetadata metadata;
  Generator generator{nullptr};  // batch norms folded into the convs
  Device device = Device::Cpu;
  Precision precision = Precision::Float32;
  int threads = 1;
  int max_batch = 16;
  bool parallel_faces = true;
  std::string precision_note;  // how Auto chose, when it timed both (device_description)
  std::mutex mutex;

  torch::Device torch_device() const { return device == Device::Cuda ? torch::kCUDA : torch::kCPU; }
  torch::ScalarType dtype() const {
    switch (precision) {
      case Precision::BFloat16: return torch::kBFloat16;
      case Precision::Float16: return torch::kFloat16;
      case Precision::Float32:
      case Precision::Auto: break;
    }
    return torch::kFloat32;
  }
  void run_batch(const ImageView* crops, const MutableImageView* results, std::size_t count,
                 const EnhanceParams& params, std::size_t first);
  // Faces a part needs: in float32 LibTorch 1.13 runs convolutions of one small image on its own
  // kernel instead of oneDNN's (use_mkldnn: batch 1, kernels up to 3x3, < 20480 input values), 2.5-3.7x
  // slower per face than in a batch (measured: 2 faces in parts of 1 took 39.7 vs 14.9 ms/face).
  std::size_t min_part_faces() const { return dtype() == torch::kFloat32 ? 2 : 1; }
  // How many parts a batch of `count` faces runs in side by side (parallel_faces; 1: run_batch alone).
  std::size_t parts_for(std::size_t count, const EnhanceParams& params) const {
    // Noise stays one draw per batch (its seed is offset by the batch's first face).
    if (!parallel_faces || device != Device::Cpu || params.noise != 0.0f) return 1;
    return std::max<std::size_t>(1, std::min<std::size_t>(threads, count / min_part_faces()));
  }
  // run_batch over faces [first, first + count) in `parts` parts side by side.
  void run_parts(const ImageView* crops, const MutableImageView* results, std::size_t count,
                 const EnhanceParams& params, std::size_t first, std::size_t parts);
  // Precision::Auto on a CPU with AVX-512 BF16: times the engine's own path in bf16 (the generator
  // loaded now) and in fp32 (a second copy from weights_path) and keeps the faster (faster_cpu_precision).
  void choose_cpu_precision(Engine& engine, const std::string& weights_path);
};

namespace {

void check_view(const char* what, std::size_t index, const uint8_t* data, int width, int height,
                std::size_t stride, int side) {
  const std::string name = std::string(what) + " " + std::to_string(index);
  if (data == nullptr) throw Error(Error::Kind::Input, name + " has a null data pointer");
  if (width != side || height != side)
    throw Error(Error::Kind::Input, name + " is " + std::to_string(width) + "x" +
                                        std::to_string(height) + ", must be " + std::to_string(side) +
                                        "x" + std::to_string(side) + " RGB8");
  if (stride < static_cast<std::size_t>(3 * side))
    throw Error(Error::Kind::Input, name + " has stride " + std::to_string(stride) +
                                        " bytes, less than 3 * width = " + std::to_string(3 * side));
}

// N x S x S x 3 uint8 (rows gathered from strided views) -> N x 3 x S x S float32 in [-1, 1],
// channels-last in memory (the NHWC bytes as they are: no transpose).
torch::Tensor crops_to_tensor(const ImageView* crops, std::size_t count, int side) {
  auto packed = torch::empty({static_cast<int64_t>(count), side, side, 3}, torch::kUInt8);
  auto* dst = packed.data_ptr<uint8_t>();
  const std::size_t row = 3 * static_cast<std::size_t>(side);
  for (std::size_t i = 0; i < count; ++i)
    for (int y = 0; y < side; ++y)
      std::memcpy(dst + (i * side + y) * row, crops[i].data + y * crops[i].stride, row);
  return packed.permute({0, 3, 1, 2}).to(torch::kFloat32).mul_(1.0 / 127.5).sub_(1.0);
}

// N x 3 x 256 x 256 in [-1, 1] -> strided RGB8 views: (v + 1) * 127.5 rounded half up and clamped to
// [0, 255], computed with ATen on the tensor's device (on a GPU only the bytes cross to the host; on
// the CPU ~0.05 ms/face slower than the scalar loop it replaced, 0.98 vs 0.58 ms per 8 faces), then one
// memcpy per output row.
void tensor_to_images(const torch::Tensor& images, const MutableImageView* out) {
  const auto rgb8 = images.to(torch::kFloat32)
                        .add(1.0)
                        .mul_(127.5)
                        .add_(0.5)
                        .clamp_(0.0, 255.0)
                        .to(torch::kUInt8)  // truncation: with the +0.5 above, rounding half up
                        .permute({0, 2, 3, 1})
                        .contiguous()
                        .to(torch::kCPU);
  const uint8_t* src = rgb8.data_ptr<uint8_t>();
  const std::size_t row = 3 * kResultSize;
  for (int64_t i = 0; i < rgb8.size(0); ++i)
    for (int y = 0; y < kResultSize; ++y)
      std::memcpy(out[i].data + y * out[i].stride, src + (static_cast<std::size_t>(i) * kResultSize + y) * row, row);
}

// Precision::Auto's timed choice, kept for the process: the same weights file (path, size, time of
// change), thread count and batch give the same answer, so an element restarted 200 times times
// once (each timing costs 0.1-0.5 s of the start).
struct TimedChoice {
  Precision precision;
  std::string note;
};
std::mutex timed_choices_mutex;
std::map<std::string, TimedChoice> timed_choices;

std::string timed_choice_key(const std::string& weights_path, int threads, int max_batch) {
  std::error_code error;
  const auto size = std::filesystem::file_size(weights_path, error);
  if (error) return "";
  const auto changed = std::filesystem::last_write_time(weights_path, error);
  if (error) return "";
  return weights_path + '|' + std::to_string(size) + '|' + std::to_string(changed.time_since_epoch().count()) + '|' +
         std::to_string(threads) + '|' + std::to_string(max_batch);
}

// `count` made-up crops of the model's input side (not flat) and their 256x256 results, for the
// warm-up and the timing.
struct SyntheticFaces {
  SyntheticFaces(std::size_t count, int side)
      : crops(count * 3 * side * side), results(count * 3 * kResultSize * kResultSize) {
    for (std::size_t i = 0; i < crops.size(); ++i) crops[i] = static_cast<uint8_t>((i * 37) % 251);
    for (std::size_t i = 0; i < count; ++i) {
      in.push_back({crops.data() + i * 3 * side * side, side, side, 3 * static_cast<std::size_t>(side)});
      out.push_back({results.data() + i * 3 * kResultSize * kResultSize, kResultSize, kResultSize, 3 * kResultSize});
    }
  }
  void run(Engine& engine) { engine.enhance(in.data(), out.data(), in.size()); }
  std::vector<uint8_t> crops, results;
  std::vector<ImageView> in;
  std::vector<MutableImageView> out;
};

Error internal(const std::string& where, const c10::Error& e) {
  return Error(Error::Kind::Internal, where + ": LibTorch error: " + e.what_without_backtrace());
}

}  // namespace

bool cuda_available() {
  try {
    return torch::cuda::is_available();
  } catch (const c10::Error&) {
    return false;
  }
}

std::string to_string(Device device) {
  switch (device) {
    case Device::Auto: return "auto";
    case Device::Cpu: return "cpu";
    case Device::Cuda: return "cuda";
  }
  return "?";
}

std::string cpu_bf16_limit() {
#if defined(__x86_64__) && defined(__GNUC__)
  if (!__builtin_cpu_supports("avx512bf16")) return "this CPU has no AVX-512 BF16";
  // oneDNN's ISA names below AVX512_CORE_BF16 (oneDNN reads ONEDNN_ first, then DNNL_).
  for (const char* variable : {"ONEDNN_MAX_CPU_ISA", "DNNL_MAX_CPU_ISA"}) {
    const char* value = std::getenv(variable);
    if (value == nullptr || *value == '\0') continue;
    std::string isa(value);
    std::transform(isa.begin(), isa.end(), isa.begin(), [](unsigned char c) { return std::toupper(c); });
    for (const char* below : {"SSE41", "AVX", "AVX2", "AVX2_VNNI", "AVX512_MIC", "AVX512_MIC_4OPS",
                              "AVX512_CORE", "AVX512_CORE_VNNI"})
      if (isa == below)
        return std::string(variable) + "=" + value + " holds oneDNN below AVX512_CORE_BF16";
    return "";
  }
  return "";
#else
  return "bf16 is fast only on x86-64 CPUs with AVX-512 BF16";
#endif
}

bool cpu_has_fast_bf16() { return cpu_bf16_limit().empty(); }

Precision faster_cpu_precision(double fp32_ms_per_face, double bf16_ms_per_face) {
  return bf16_ms_per_face * kBFloat16MinSpeedup < fp32_ms_per_face ? Precision::BFloat16 : Precision::Float32;
}

std::string to_string(Precision precision) {
  switch (precision) {
    case Precision::Auto: return "auto";
    case Precision::Float32: return "fp32";
    case Precision::BFloat16: return "bf16";
    case Precision::Float16: return "fp16";
  }
  return "?";
}

Device device_from_string(const std::string& name) {
  for (auto d : {Device::Auto, Device::Cpu, Device::Cuda})
    if (to_string(d) == name) return d;
  throw Error(Error::Kind::Input, "unknown device '" + name + "' (expected auto, cpu or cuda)");
}

Precision precision_from_string(const std::string& name) {
  for (auto p : {Precision::Auto, Precision::Float32, Precision::BFloat16, Precision::Float16})
    if (to_string(p) == name) return p;
  throw Error(Error::Kind::Input, "unknown precision '" + name + "' (expected auto, fp32, bf16 or fp16)");
}

Engine::Engine() : impl_(std::make_unique<Impl>()) {}
Engine::~Engine() = default;

std::unique_ptr<Engine> Engine::open(const std::string& weights_path, const EngineOptions& options) {
  if (options.threads < 0)
    throw Error(Error::Kind::Input, "threads must be >= 0 (0 = all cores), got " + std::to_string(options.threads));
  if (options.max_batch < 1)
    throw Error(Error::Kind::Input, "max_batch must be >= 1, got " + std::to_string(options.max_batch));

  std::unique_ptr<Engine> engine(new Engine());
  Impl& impl = *engine->impl_;
  impl.path = weights_path;
  impl.max_batch = options.max_batch;
  impl.parallel_faces = options.parallel_faces;
  impl.precision = options.precision;
  impl.threads = options.threads > 0 ? options.threads
                                     : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  const bool have_cuda = cuda_available();
  if (options.device == Device::Cuda && !have_cuda)
    throw Error(Error::Kind::Device,
                "device cuda requested but LibTorch sees no CUDA GPU (this build links " +
                    std::string(
#ifdef FACESR_HAVE_CUDA_LIBTORCH
                        "a CUDA LibTorch: check the driver and CUDA_VISIBLE_DEVICES"
#else
                        "a CPU-only LibTorch: rebuild with -Dtorch_dir=<CUDA LibTorch> -Dcuda=enabled"
#endif
                        ) + "); use device auto or cpu");
  impl.device = options.device == Device::Auto ? (have_cuda ? Device::Cuda : Device::Cpu) : options.device;
  // On a CPU with AVX-512 BF16, Auto starts in bf16 and then times fp32 against it (below).
  bool time_precisions = impl.precision == Precision::Auto && impl.device == Device::Cpu && cpu_has_fast_bf16();
  const std::string choice_key = time_precisions ? timed_choice_key(weights_path, impl.threads, impl.max_batch) : "";
  if (!choice_key.empty()) {
    std::lock_guard<std::mutex> lock(timed_choices_mutex);
    const auto known = timed_choices.find(choice_key);
    if (known != timed_choices.end()) {
      impl.precision = known->second.precision;
      impl.precision_note = known->second.note;
      time_precisions = false;
    }
  }
  if (impl.precision == Precision::Auto) impl.precision = time_precisions ? Precision::BFloat16 : Precision::Float32;
  if (impl.precision == Precision::Float16 && impl.device == Device::Cpu)
    throw Error(Error::Kind::Device, "precision fp16 needs CUDA; on the CPU use auto or fp32");
  if (impl.precision == Precision::BFloat16 && impl.device == Device::Cpu && !cpu_has_fast_bf16())
    // Measured on a 2-core AVX2 EPYC: the ngf-16 generator at 1,541 ms/face in bf16 vs 105 in fp32.
    throw Error(Error::Kind::Device, "precision bf16 on this CPU would be emulated (" + cpu_bf16_limit() +
                                         "), about 15x slower than fp32; use precision auto or fp32");

  if (impl.device == Device::Cpu && options.keep_freed_memory) keep_freed_memory();
  LoadedGenerator loaded = load_generator(weights_path);  // throws WeightsError (Kind::ModelFile)
  impl.metadata = loaded.metadata;
  impl.generator = loaded.generator;
  try {
    at::set_num_threads(impl.threads);
    prepare_for_inference(*impl.generator, impl.torch_device(), impl.dtype());
    // Warm-up: runs the whole path once so that a device or precision problem shows here, not on
    // the first frame, and the first real call does not pay for allocator and kernel set-up.
    SyntheticFaces(1, engine->input_size()).run(*engine);
    if (time_precisions) {
      impl.choose_cpu_precision(*engine, weights_path);
      if (!choice_key.empty()) {
        std::lock_guard<std::mutex> lock(timed_choices_mutex);
        timed_choices[choice_key] = {impl.precision, impl.precision_note};
      }
    }
  } catch (const c10::Error& e) {
    throw Error(Error::Kind::Device, weights_path + ": cannot run the model on " + to_string(impl.device) +
                                         " in " + to_string(impl.precision) + ": " + e.what_without_backtrace());
  }
  return engine;
}

void Engine::Impl::choose_cpu_precision(Engine& engine, const std::string& weights_path) {
  // As the element runs a frame's faces: `threads` of them side by side (at least 2, at most a batch).
  const std::size_t faces = std::min<std::size_t>(max_batch, std::max(2, threads));
  SyntheticFaces frame(faces, static_cast<int>(input_side(metadata.architecture)));
  Generator bf16 = generator;
  Generator fp32 = load_generator(weights_path).generator;
  prepare_for_inference(*fp32, torch::kCPU, torch::kFloat32);
  auto use = [&](Precision p) {
    precision = p;
    generator = p == Precision::BFloat16 ? bf16 : fp32;
  };
  // Each precision's first call (oneDNN's kernels for these shapes) is not timed; then the best of
  // three interleaved rounds each, so that a moment of load on a shared machine hits both alike.
  double best[2] = {1e300, 1e300};
  for (int round = 0; round < 4; ++round)
    for (Precision p : {Precision::Float32, Precision::BFloat16}) {
      use(p);
      const auto start = std::chrono::steady_clock::now();
      frame.run(engine);
      const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
      if (round > 0) best[p == Precision::BFloat16] = std::min(best[p == Precision::BFloat16], ms / faces);
    }
  use(faster_cpu_precision(best[0], best[1]));
  char note[160];
  std::snprintf(note, sizeof note, "auto: %s, timed at start fp32 %.1f vs bf16 %.1f ms/face", to_string(precision).c_str(),
                best[0], best[1]);
  precision_note = note;
}

void Engine::Impl::run_batch(const ImageView* crops, const MutableImageView* results, std::size_t count,
                             const EnhanceParams& params, std::size_t first) {
  // float32 in: the generator runs its layers in the weights' dtype and adds its residual to an exact
  // float32 bicubic base (generator.h).
  auto input = crops_to_tensor(crops + first, count, static_cast<int>(input_side(metadata.architecture))).to(torch_device());
  // Each batch of a split request draws its own noise (seed offset by its first face).
  NoiseSpec noise{params.noise, params.seed + first};
  const bool sharp_only = params.blurred == nullptr;
  GeneratorOutput output = params.flip_ensemble ? forward_flip_ensemble(*generator, input, noise, sharp_only)
                                                : generator->forward(input, noise, sharp_only);
  tensor_to_images(output.sharp, results + first);
  if (params.blurred != nullptr) tensor_to_images(output.blurred, params.blurred + first);
}

void Engine::Impl::run_parts(const ImageView* crops, const MutableImageView* results, std::size_t count,
                             const EnhanceParams& params, std::size_t first, std::size_t parts) {
  if (parts <= 1) return run_batch(crops, results, count, params, first);
  // LibTorch's thread count is process-wide: 1 while the parts run (each new thread takes it up on
  // its first parallel loop), the Engine's again afterwards, also after an error.
  at::set_num_threads(1);
  struct Restore {
    int threads;
    ~Restore() { at::set_num_threads(threads); }
  } restore{threads};
  std::vector<std::exception_ptr> errors(parts);
  auto run_part = [&](std::size_t k) {
    try {
      c10::InferenceMode inference;
      const std::size_t begin = first + count * k / parts, end = first + count * (k + 1) / parts;
      run_batch(crops, results, end - begin, params, begin);
    } catch (...) {
      errors[k] = std::current_exception();
    }
  };
  std::vector<std::thread> workers;
  for (std::size_t k = 1; k < parts; ++k) workers.emplace_back(run_part, k);
  run_part(0);
  for (auto& worker : workers) worker.join();
  for (const auto& error : errors)
    if (error) std::rethrow_exception(error);
}

void Engine::enhance(const ImageView* crops, const MutableImageView* results, std::size_t count,
                     const EnhanceParams& params) {
  if (count == 0) return;
  if (crops == nullptr || results == nullptr)
    throw Error(Error::Kind::Input, "enhance: crops and results must not be null");
  if (!(params.noise >= 0.0f)) throw Error(Error::Kind::Input, "enhance: noise must be >= 0");
  for (std::size_t i = 0; i < count; ++i) {
    check_view("crop", i, crops[i].data, crops[i].width, crops[i].height, crops[i].stride, input_size());
    check_view("result", i, results[i].data, results[i].width, results[i].height, results[i].stride, kResultSize);
    if (params.blurred != nullptr)
      check_view("blurred result", i, params.blurred[i].data, params.blurred[i].width,
                 params.blurred[i].height, params.blurred[i].stride, kResultSize);
  }
  std::lock_guard<std::mutex> lock(impl_->mutex);
  try {
    if (at::get_num_threads() != impl_->threads) at::set_num_threads(impl_->threads);
    c10::InferenceMode inference;
    for (std::size_t first = 0; first < count; first += impl_->max_batch) {
      const std::size_t n = std::min<std::size_t>(impl_->max_batch, count - first);
      impl_->run_parts(crops, results, n, params, first, impl_->parts_for(n, params));
    }
  } catch (const c10::Error& e) {
    throw internal("enhance", e);
  }
}

Device Engine::device() const { return impl_->device; }
int Engine::threads() const { return impl_->threads; }
Precision Engine::precision() const { return impl_->precision; }
const ModelMetadata& Engine::metadata() const { return impl_->metadata; }
const std::string& Engine::weights_path() const { return impl_->path; }
int Engine::input_size() const { return static_cast<int>(input_side(impl_->metadata.architecture)); }
int Engine::scale() const { return static_cast<int>(impl_->metadata.architecture.scale); }

std::string Engine::device_description() const {
  const std::string precision = to_string(impl_->precision);
  if (impl_->device == Device::Cuda) {
    return "CUDA GPU (" + precision + ")";
  }
  if (!impl_->precision_note.empty())
    return "CPU (" + std::to_string(impl_->threads) + " threads, " + impl_->precision_note + ")";
  return "CPU (" + std::to_string(impl_->threads) + " threads, " + precision + ")";
}

}  // namespace facesr
