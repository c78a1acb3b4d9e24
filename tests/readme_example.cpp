#include <facesr/engine.h>

#include <cstdio>
#include <vector>

// Enhances a batch of 32x32 RGB8 face crops into 256x256 results.
int main(int argc, char** argv) {
  if (argc != 2) return 2;
  try {
    facesr::EngineOptions options;  // device auto, all cores, precision auto
    auto engine = facesr::Engine::open(argv[1], options);
    std::printf("facesr on %s\n", engine->device_description().c_str());

    const int faces = 4;
    std::vector<uint8_t> crops(faces * 32 * 32 * 3, 128);      // your crops, e.g. views into a frame
    std::vector<uint8_t> results(faces * 256 * 256 * 3);
    std::vector<facesr::ImageView> in;
    std::vector<facesr::MutableImageView> out;
    for (int i = 0; i < faces; ++i) {
      in.push_back({&crops[i * 32 * 32 * 3], 32, 32, 32 * 3});          // data, width, height, stride
      out.push_back({&results[i * 256 * 256 * 3], 256, 256, 256 * 3});
    }
    engine->enhance(in.data(), out.data(), faces);              // one batch
  } catch (const facesr::Error& e) {                            // e.kind(): ModelFile, Device, Input...
    std::fprintf(stderr, "facesr: %s\n", e.what());
    return 1;
  }
  return 0;
}
