// Stand-ins for pytorch-fid's pt_inception-2015-12-05-6726825d.pth (which no test can download): state
// dicts with its keys and shapes (facesr::FidInceptionV3's parameters and buffers, plus fc.weight /
// fc.bias and each batch norm's num_batches_tracked, as a PyTorch state dict has them), written with
// torch::pickle_save.
//
// Values keep activations finite and informative through the 94 convolutions: conv weights scaled by
// sqrt(2 / fan_in) (He), batch-norm scale near 1, running variance near 1.
//   Random:  from LibTorch's generator with a seed.
//   Pattern: no generator: tensor i of the sorted keys (fc.* and num_batches_tracked left out of the
//            numbering), element k: s = sin(0.731 k + 1.3 i), then conv.weight 2 s / sqrt(fan_in),
//            bn.weight 1 + 0.25 s, bn.bias 0.1 s, running_mean 0.05 s, running_var 0.75 + 0.5 s^2.
//            tests/fixtures/fid_inception_reference.py builds the same values over torchvision's
//            Inception3 patched as pytorch-fid patches it, so its features are a reference for ours.
#pragma once

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "inception.h"

namespace facesr::test_data {

enum class InceptionValues { Random, Pattern };

inline bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

inline torch::Tensor inception_test_values(const std::string& key, c10::IntArrayRef shape, InceptionValues kind,
                                           int64_t index) {
  const int64_t numel = c10::multiply_integers(shape);
  torch::Tensor s = kind == InceptionValues::Pattern
                        ? torch::sin(torch::arange(numel, torch::kFloat64) * 0.731 + 1.3 * static_cast<double>(index))
                        : torch::rand({numel}, torch::kFloat64) * 2 - 1;
  torch::Tensor v;
  if (ends_with(key, "conv.weight")) v = s * 2 / std::sqrt(static_cast<double>(numel / shape[0]));
  else if (ends_with(key, "bn.weight")) v = 1 + 0.25 * s;
  else if (ends_with(key, "bn.bias")) v = 0.1 * s;
  else if (ends_with(key, "running_mean")) v = 0.05 * s;
  else if (ends_with(key, "running_var")) v = 0.75 + 0.5 * s * s;
  else v = 0.01 * s;
  return v.to(torch::kFloat32).view(shape);
}

// The state dict as a PyTorch file has it; edit it, then save it with save_state_dict.
inline c10::Dict<std::string, at::Tensor> inception_test_state_dict(InceptionValues kind, uint64_t seed = 1) {
  torch::manual_seed(seed);
  FidInceptionV3 net;
  std::map<std::string, std::vector<int64_t>> shapes;  // sorted: the Pattern numbering
  for (const auto& p : net->named_parameters()) shapes[p.key()] = p.value().sizes().vec();
  for (const auto& b : net->named_buffers())
    if (!ends_with(b.key(), "num_batches_tracked")) shapes[b.key()] = b.value().sizes().vec();
  c10::Dict<std::string, at::Tensor> dict;
  int64_t index = 0;
  for (const auto& [key, shape] : shapes) {
    dict.insert(key, inception_test_values(key, shape, kind, index++));
    if (ends_with(key, "bn.running_var"))
      dict.insert(key.substr(0, key.size() - 11) + "num_batches_tracked", torch::tensor(int64_t{0}));
  }
  dict.insert("fc.weight", inception_test_values("fc.weight", {kFidInceptionClasses, kFidFeatures}, kind, -1));
  dict.insert("fc.bias", inception_test_values("fc.bias", {kFidInceptionClasses}, kind, -2));
  return dict;
}

inline void save_state_dict(const c10::Dict<std::string, at::Tensor>& dict, const std::string& path) {
  const std::vector<char> bytes = torch::pickle_save(c10::IValue(dict));
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  if (!out) throw std::runtime_error("cannot write " + path);
}

// Input images in [-1, 1] without a generator: N x 3 x side x side, sin(0.05 x + 0.07 y + c + n) * 0.9.
inline torch::Tensor inception_test_images(int64_t n, int64_t side) {
  const auto x = torch::arange(side, torch::kFloat64).view({1, 1, 1, side});
  const auto y = torch::arange(side, torch::kFloat64).view({1, 1, side, 1});
  const auto c = torch::arange(3, torch::kFloat64).view({1, 3, 1, 1});
  const auto k = torch::arange(n, torch::kFloat64).view({n, 1, 1, 1});
  return (torch::sin(0.05 * x + 0.07 * y + c + k) * 0.9).to(torch::kFloat32);
}

}  // namespace facesr::test_data
