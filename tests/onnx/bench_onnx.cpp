// OpenCV DNN (the exported ONNX graph in both pixel-shuffle forms, CPU backend) against the LibTorch
// engine (fp32), ms per face at batch 1 and 8 (median of R rounds), in one run, rounds interleaved so that load on a shared machine hits both alike
// (issue 43; docs/onnx.md has the table). Both sides include their 8-bit pre- and post-processing.
//
//   bench-onnx [WEIGHTS=model/weights/facesr-default.safetensors] [--threads 2] [--rounds 5]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <opencv2/core/utility.hpp>

#include "onnx_crops.h"
#include "onnx_export.h"

namespace {

using namespace facesr;
using namespace facesr::onnx_test;
using Clock = std::chrono::steady_clock;

constexpr int kIterationsPerRound = 6;

// The CPU's name and the /proc/cpuinfo flags that decide convolution speed.
void print_cpu() {
  std::ifstream in("/proc/cpuinfo");
  std::string line, name, flags;
  while (std::getline(in, line)) {
    if (name.empty() && line.rfind("model name", 0) == 0) name = line.substr(line.find(':') + 2);
    if (flags.empty() && line.rfind("flags", 0) == 0) flags = line.substr(line.find(':') + 2);
  }
  std::string relevant;
  for (const char* f : {"sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                        "avx512_bf16", "avx512_fp16", "amx_tile", "amx_bf16", "amx_int8"})
    if ((" " + flags + " ").find(std::string(" ") + f + " ") != std::string::npos) relevant += std::string(f) + " ";
  std::printf("CPU: %s, %u logical cores\n", name.c_str(), std::thread::hardware_concurrency());
  std::printf("CPU flags (convolution-relevant): %s\n", relevant.c_str());
  std::printf("OpenCV %s CPU features: %s\n", CV_VERSION, cv::getCPUFeaturesLine().c_str());
}

// N x 3 x 256 x 256 float -> RGB8 per face, (y + 1) * 127.5 (OpenCV's rounding), as an application would.
void blob_to_rgb8(const cv::Mat& blob, std::vector<cv::Mat>& out) {
  const int n = blob.size[0], plane = kResultSize * kResultSize;
  out.resize(n);
  for (int i = 0; i < n; ++i) {
    std::vector<cv::Mat> channels(3);
    for (int c = 0; c < 3; ++c)
      cv::Mat(kResultSize, kResultSize, CV_32F, const_cast<float*>(blob.ptr<float>()) + (i * 3 + c) * plane)
          .convertTo(channels[c], CV_8U, 127.5, 127.5);
    cv::merge(channels, out[i]);
  }
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

}  // namespace

int main(int argc, char** argv) {
  std::string weights = FACESR_DEFAULT_MODEL;
  int threads = 2, rounds = 5;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) threads = std::atoi(argv[++i]);
    else if (!std::strcmp(argv[i], "--rounds") && i + 1 < argc) rounds = std::atoi(argv[++i]);
    else if (argv[i][0] != '-') weights = argv[i];
    else {
      std::fprintf(stderr, "usage: %s [WEIGHTS] [--threads N] [--rounds R]\n", argv[0]);
      return 2;
    }
  }
  try {
    print_cpu();
    EngineOptions options;
    options.device = Device::Cpu;
    options.threads = threads;
    options.precision = Precision::Float32;
    std::unique_ptr<Engine> engine = Engine::open(weights, options);
    std::printf("model: %s; engine: %s; OpenCV DNN: CPU backend, %d threads\n", weights.c_str(),
                engine->device_description().c_str(), threads);
    const int side = engine->input_size();
    const std::vector<cv::Mat> crops = make_crops(side, 8);

    std::printf("\n| batch | OpenCV DNN %s, depth_to_space | OpenCV DNN, conv_transpose | LibTorch engine fp32 | "
                "best OpenCV / engine |\n", CV_VERSION);
    std::printf("|---|---|---|---|---|\n");
    for (int batch : {1, 8}) {
      // The two graph forms (OnnxPixelShuffle) of this batch size.
      std::vector<cv::dnn::Net> nets;
      for (auto form : {OnnxPixelShuffle::DepthToSpace, OnnxPixelShuffle::ConvTranspose}) {
        const std::string onnx = "/tmp/bench-onnx-" + std::to_string(::getpid()) + "-b" + std::to_string(batch) + ".onnx";
        OnnxExportOptions export_options;
        export_options.batch = batch;
        export_options.pixel_shuffle = form;
        export_onnx(weights, onnx, export_options);
        nets.push_back(open_opencv_net(onnx, threads));
        std::remove(onnx.c_str());
      }
      std::vector<cv::Mat> results;
      std::vector<std::function<void()>> runs;
      for (auto& net : nets)
        runs.push_back([&, batch] {
          net.setInput(to_blob(crops, 0, batch), kOnnxInputName);
          blob_to_rgb8(net.forward(kOnnxSharpName), results);
        });
      runs.push_back([&, batch] { run_engine(*engine, crops, 0, batch); });
      for (auto& run : runs) run();  // warm-up: OpenCV allocates and picks its kernels on the first forward
      std::vector<std::vector<double>> ms(runs.size());
      for (int r = 0; r < rounds; ++r)
        for (size_t k = 0; k < runs.size(); ++k) {
          const auto t0 = Clock::now();
          for (int i = 0; i < kIterationsPerRound; ++i) runs[k]();
          ms[k].push_back(std::chrono::duration<double, std::milli>(Clock::now() - t0).count() /
                          (kIterationsPerRound * batch));
        }
      const double d2s = median(ms[0]), deconv = median(ms[1]), torch = median(ms[2]);
      std::printf("| %d | %.1f | %.1f | %.1f | %.2fx |\n", batch, d2s, deconv, torch, std::min(d2s, deconv) / torch);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-onnx: %s\n", e.what());
    return 1;
  }
  return 0;
}
