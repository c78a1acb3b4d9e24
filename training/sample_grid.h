// PNG sample grids for watching training: one row per face, one column per image kind.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace facesr {

// columns: tensors of equal shape N x 3 x H x W in [-1, 1] (any device). Writes an N-row PNG with
// the columns side by side. Throws std::runtime_error when the file cannot be written.
void write_sample_grid(const std::string& path, const std::vector<torch::Tensor>& columns);

}  // namespace facesr
