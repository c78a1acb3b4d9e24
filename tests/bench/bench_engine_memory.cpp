// EngineOptions::keep_freed_memory on and off: ms per face of Engine::enhance() on 8 crops, CPU, 2
// threads, precision auto. The option is a process-wide malloc setting that cannot be undone, so
// each setting needs its own process: `bench-engine-memory MODEL on|off` prints one row;
// tests/bench/speed.sh runs both, alternately, twice.
#include <chrono>
#include <cstdio>
#include <string>

#include "crop_batch.h"
#include "engine.h"

int main(int argc, char** argv) {
  if (argc != 3 || (std::string(argv[2]) != "on" && std::string(argv[2]) != "off")) {
    std::fprintf(stderr, "usage: %s MODEL on|off\n", argv[0]);
    return 2;
  }
  try {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cpu;
    options.threads = 2;
    options.keep_freed_memory = std::string(argv[2]) == "on";
    auto engine = facesr::Engine::open(argv[1], options);
    constexpr int kFaces = 8;
    facesr::bench::CropBatch batch(kFaces);
    for (int i = 0; i < 3; ++i) batch.enhance(*engine);  // warm-up
    using Clock = std::chrono::steady_clock;
    const auto start = Clock::now();
    int calls = 0;
    while (std::chrono::duration<double>(Clock::now() - start).count() < 4.0) {
      batch.enhance(*engine);
      ++calls;
    }
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count() / calls / kFaces;
    std::printf("keep_freed_memory %-3s %s: %.2f ms/face\n", argv[2], engine->device_description().c_str(), ms);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-engine-memory: %s\n", e.what());
    return 1;
  }
  return 0;
}
