// facesr engine: enhance face crops with a facesr generator (S x S RGB -> 256x256 RGB, super-
// resolution and deblurring in one pass; S = input_size(): 32 for the 8x model, 64 for 4x, 128 for 2x). This is the API the GStreamer element uses and that NVR
// vendors embed. No LibTorch types appear here; link with pkg-config `facesr-model`.
//
//   #include <facesr/engine.h>
//
//   facesr::EngineOptions options;                 // device auto, all cores, precision auto
//   std::unique_ptr<facesr::Engine> engine =
//       facesr::Engine::open("facesr-default.safetensors", options);   // throws facesr::Error
//   std::printf("facesr on %s\n", engine->device_description().c_str());
//
//   facesr::ImageView crops[2] = {{face0, 32, 32, face0_stride}, {face1, 32, 32, face1_stride}};
//   facesr::MutableImageView out[2] = {{buf0, 256, 256, 256 * 3}, {buf1, 256, 256, 256 * 3}};
//   engine->enhance(crops, out, 2);                // one batch, results in out[i]
//
// Lifecycle: open() loads and checks the weights, picks the device, runs one warm-up batch, and
// either returns a ready engine or throws facesr::Error (kind ModelFile or Device) with a message that
// says what to do. Nothing in this library aborts the process; LibTorch errors become facesr::Error.
// Destroying the Engine frees everything it holds.
//
// Pixels: crops and results are packed 8-bit RGB (3 bytes per pixel, R first), rows `stride` bytes
// apart (stride >= 3 * width), so a crop can point straight into a frame or a scratch buffer.
//
// Threading: enhance() may be called from any thread. Calls on one Engine are serialized by an
// internal lock; for parallel work open one Engine per thread. The CPU thread count is a process-wide
// LibTorch setting: each enhance() call applies its Engine's `threads` before running. On the CPU a
// call with several faces and no noise runs them side by side, one thread each
// (EngineOptions::parallel_faces), on threads it starts and joins within the call.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

#include "error.h"
#include "metadata.h"

namespace facesr {

enum class Device {
  Auto,  // CUDA when LibTorch sees a GPU, else CPU (device_description() says which)
  Cpu,
  Cuda,  // fails in open() with Error::Kind::Device when CUDA is not available
};

enum class Precision {
  // On a CPU with AVX-512 BF16: whichever of bf16 and fp32 ran the model faster when open() timed
  // both (faster_cpu_precision; device_description() gives the times; timed once per process for a
  // weights file, thread count and max_batch). Float32 on other CPUs and on CUDA (fp16 is unmeasured there).
  Auto,
  Float32,
  BFloat16,  // layers in bf16, bicubic base and outputs in float32. Speed depends on the CPU: 1.75x
             // faster than fp32 on an AMD EPYC with AVX-512 BF16, 1.5x SLOWER on an Intel Xeon with it
             // but without AMX (both measured). Refused on a CPU without AVX-512 BF16
             // (cpu_has_fast_bf16): emulated, it ran 15x SLOWER than fp32.
  Float16,   // CUDA only
};

struct EngineOptions {
  Device device = Device::Auto;
  int threads = 0;       // CPU threads for LibTorch; 0 = all cores of the machine
  Precision precision = Precision::Auto;
  int max_batch = 16;    // larger requests are split into batches of this many faces
  // CPU only, glibc only, process-wide: let malloc keep freed memory for reuse (mallopt:
  // no mmap in the main heap, no trimming) instead of returning each batch's tensors to the OS and
  // taking page faults on the next batch: the default model (ngf 8) 1.25-1.57x faster per batch here,
  // ngf 16 (transposed) 1.24-1.38x (bench-engine-memory). The process then keeps its peak heap (the
  // engine's working set: tens of MB at batch 8).
  bool keep_freed_memory = true;
  // CPU, threads >= 2, no noise: a batch's faces are split into `threads` parts run side by side,
  // each part on one thread (LibTorch's thread count is 1 meanwhile), instead of each layer across
  // all threads: at these widths convolutions scale better across faces than across a layer (the
  // default model 1.14-1.37x at 8 faces, 1.4-1.8x at 2; bench-speed). In float32 each part has at
  // least 2 faces (LibTorch runs a single small fp32 image on a slow kernel). The same results as one
  // part, float rounding aside.
  bool parallel_faces = true;
};

struct ImageView {
  const uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  std::size_t stride = 0;  // bytes between rows
};

struct MutableImageView {
  uint8_t* data = nullptr;
  int width = 0;
  int height = 0;
  std::size_t stride = 0;
};

struct EnhanceParams {
  // The paper's "w/ N": standard deviation of the noise added after every conv; 0 = deterministic.
  float noise = 0.0f;
  uint64_t seed = 0;  // noise seed: the same seed and inputs give the same results
  // Optional: also write the blurred-HR branch (256x256 RGB8) for each face; nullptr = skip.
  const MutableImageView* blurred = nullptr;
  // The flip self-ensemble (forward_flip_ensemble): each face also runs mirrored and the two results
  // are averaged; twice the time for +0.06-0.11 dB (measured, forward_flip_ensemble).
  bool flip_ensemble = false;
};

constexpr int kCropSize = 32;     // input side of the 8x models, pixels (Engine::input_size() is the model's)
constexpr int kResultSize = 256;  // output side, pixels (every model)

class Engine {
 public:
  // Throws facesr::Error: Kind::ModelFile (missing/corrupt/incompatible weights), Kind::Device
  // (CUDA requested but unavailable, precision unsupported on the device), Kind::Input (bad options).
  static std::unique_ptr<Engine> open(const std::string& weights_path, const EngineOptions& options = {});
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // Enhances `count` crops (each input_size() x input_size()) into `results` (each kResultSize x kResultSize).
  // Faces are processed in batches of up to max_batch; with noise 0 a face's result does not depend
  // on the other faces of the call. Throws facesr::Error (Kind::Input for a null buffer, a wrong size or a short stride).
  void enhance(const ImageView* crops, const MutableImageView* results, std::size_t count,
               const EnhanceParams& params = {});

  Device device() const;                   // Cpu or Cuda: what Auto resolved to
  // For logs, e.g. "CPU (2 threads, fp32)"; with Precision::Auto on an AVX-512 BF16 CPU the timing:
  // "CPU (2 threads, auto: bf16, timed at start fp32 14.4 vs bf16 11.4 ms/face)".
  std::string device_description() const;
  int threads() const;
  Precision precision() const;             // what Auto resolved to
  const ModelMetadata& metadata() const;   // architecture, crop rule, training and evaluation notes
  const std::string& weights_path() const;
  int input_size() const;  // the crops' side: 32 (8x model), 64 (4x) or 128 (2x)
  int scale() const;       // 256 / input_size()

 private:
  Engine();
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// True when the LibTorch this library is linked with can use a CUDA GPU now.
bool cuda_available();

std::string to_string(Device device);
std::string to_string(Precision precision);
Device device_from_string(const std::string& name);        // "auto" | "cpu" | "cuda"; throws Error(Input)
Precision precision_from_string(const std::string& name);  // "auto" | "fp32" | "bf16" | "fp16"; throws Error(Input)

// True when this CPU has AVX-512 BF16 and oneDNN may use it (what Precision::Auto picks bf16 for,
// and what an explicit Precision::BFloat16 on the CPU needs): false where the CPU lacks it, and where
// ONEDNN_MAX_CPU_ISA (or DNNL_MAX_CPU_ISA) holds oneDNN to an ISA below AVX512_CORE_BF16, which is
// how an AVX2-only CPU is emulated on an AVX-512 one.
bool cpu_has_fast_bf16();

// What Precision::Auto picks from the two precisions' times per face on this CPU: bf16 only when
// it is at least kBFloat16MinSpeedup times faster (fp32 is the exact one; a near tie, where load on
// a shared machine could decide, stays fp32).
constexpr double kBFloat16MinSpeedup = 1.15;
Precision faster_cpu_precision(double fp32_ms_per_face, double bf16_ms_per_face);

// Why bf16 is slow here, in words ("this CPU has no AVX-512 BF16", "ONEDNN_MAX_CPU_ISA=AVX2 holds
// oneDNN below AVX512_CORE_BF16"); empty when cpu_has_fast_bf16().
std::string cpu_bf16_limit();

}  // namespace facesr
