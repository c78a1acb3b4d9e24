// The benchmarks' engine input: `count` side x side RGB8 crops (32: the 8x models; 64 / 128: the 4x /
// 2x ones) of fixed pseudo-random bytes (the bytes do not change the speed) and their 256x256 result
// buffers, as the views Engine::enhance() takes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "engine.h"

namespace facesr::bench {

struct CropBatch {
  explicit CropBatch(int count, int side = 32)
      : count(count), in(static_cast<std::size_t>(count) * side * side * 3), out(count * 256 * 256 * 3) {
    for (std::size_t i = 0; i < in.size(); ++i) in[i] = static_cast<uint8_t>((i * 2654435761u) >> 24);
    for (int f = 0; f < count; ++f) {
      crops.push_back({in.data() + static_cast<std::size_t>(f) * side * side * 3, side, side,
                       static_cast<std::size_t>(side) * 3});
      results.push_back({out.data() + f * 256 * 256 * 3, 256, 256, 256 * 3});
    }
  }
  void enhance(Engine& engine) { engine.enhance(crops.data(), results.data(), count); }

  int count;
  std::vector<uint8_t> in, out;
  std::vector<ImageView> crops;
  std::vector<MutableImageView> results;
};

}  // namespace facesr::bench
