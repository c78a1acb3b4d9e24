#include "vgg19.h"

#include <map>
#include <stdexcept>

#include "state_dict_file.h"

namespace facesr {
namespace nn = torch::nn;

namespace {
// torchvision cfg "E": channel counts, 0 = 2x2 max-pool.
const int kConfig[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 256, 0,
                       512, 512, 512, 512, 0, 512, 512, 512, 512, 0};
}  // namespace

const std::vector<int>& vgg19_conv_indices() {
  static const std::vector<int> indices = [] {
    std::vector<int> out;
    int index = 0;
    for (int channels : kConfig) {
      if (channels > 0) {
        out.push_back(index);
        index += 2;  // conv, relu
      } else {
        index += 1;  // pool
      }
    }
    return out;
  }();
  return indices;
}

Vgg19FeaturesImpl::Vgg19FeaturesImpl() {
  features_ = register_module("features", nn::Sequential());
  int64_t in = 3;
  for (int channels : kConfig) {
    if (channels > 0) {
      features_->push_back(nn::Conv2d(nn::Conv2dOptions(in, channels, 3).padding(1)));
      features_->push_back(nn::ReLU(nn::ReLUOptions().inplace(true)));
      in = channels;
    } else {
      features_->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
    }
  }
  mean_ = register_buffer("imagenet_mean", torch::tensor({0.485, 0.456, 0.406}).view({1, 3, 1, 1}));
  std_ = register_buffer("imagenet_std", torch::tensor({0.229, 0.224, 0.225}).view({1, 3, 1, 1}));
}

std::vector<torch::Tensor> Vgg19FeaturesImpl::forward(const torch::Tensor& x) {
  if (x.dim() != 4 || x.size(1) != 3 || x.size(2) % 32 != 0 || x.size(3) % 32 != 0)
    throw std::invalid_argument("VGG-19 input must be N x 3 x H x W with H, W multiples of 32, got " +
                                c10::str(x.sizes()));
  auto y = ((x + 1.0) * 0.5 - mean_) / std_;
  std::vector<torch::Tensor> pools;
  for (auto& layer : *features_) {
    y = layer.forward(y);
    if (layer.ptr()->as<nn::MaxPool2dImpl>()) pools.push_back(y);
  }
  return pools;
}

void load_vgg19_weights(Vgg19FeaturesImpl& vgg, const std::string& path) {
  // Python's torch.save output, zip or legacy layout, which torch::pickle_load cannot read
  // (model/state_dict_file.h).
  const std::map<std::string, at::Tensor> state = read_state_dict_file(path, "torchvision's vgg19-dcbb9e9d.pth");

  torch::NoGradGuard no_grad;
  for (auto& item : vgg.named_parameters()) {
    auto it = state.find(item.key());
    if (it == state.end())
      throw std::runtime_error(path + ": missing '" + item.key() +
                               "' (is this a VGG-19 state dict? VGG-16 has fewer layers)");
    if (it->second.sizes() != item.value().sizes())
      throw std::runtime_error(path + ": '" + item.key() + "' has shape " +
                               c10::str(it->second.sizes()) + ", VGG-19 needs " +
                               c10::str(item.value().sizes()));
    item.value().copy_(it->second.to(torch::kFloat32));
    item.value().set_requires_grad(false);
  }
  vgg.eval();
}

}  // namespace facesr
