#include "sample_grid.h"

#include <stdexcept>

#include <stb_image_write.h>

namespace facesr {

void write_sample_grid(const std::string& path, const std::vector<torch::Tensor>& columns) {
  if (columns.empty()) throw std::invalid_argument("write_sample_grid: no columns");
  // N x 3 x H x (W * columns) -> rows of faces -> H * N x W * columns x 3 bytes.
  auto grid = torch::cat(columns, 3).detach().to(torch::kCPU, torch::kFloat32);
  const int64_t n = grid.size(0), h = grid.size(2), w = grid.size(3);
  auto pixels = grid.add(1).mul_(127.5).round_().clamp_(0, 255).to(torch::kUInt8)
                    .permute({0, 2, 3, 1}).reshape({n * h, w, 3}).contiguous();
  if (!stbi_write_png(path.c_str(), static_cast<int>(w), static_cast<int>(n * h), 3, pixels.data_ptr<uint8_t>(),
                      static_cast<int>(w * 3)))
    throw std::runtime_error("cannot write sample grid " + path);
}

}  // namespace facesr
