#include "discriminator.h"

#include <stdexcept>

namespace facesr {
namespace nn = torch::nn;

DiscriminatorImpl::DiscriminatorImpl(DiscriminatorOptions options) : options_(options) {
  if (options_.layers() < 3 || options_.layers() > 8)
    throw std::invalid_argument("discriminator layers must be in [3, 8], got " +
                                std::to_string(options_.layers()));
  if (options_.ndf() < 1 || options_.in_channels() < 1)
    throw std::invalid_argument("discriminator ndf and in_channels must be positive");
  const int64_t ndf = options_.ndf();
  const int64_t strided = options_.layers() - 2;  // 5 at 7 layers: 256 -> 8
  body_ = register_module("body", nn::Sequential());
  int64_t in = options_.in_channels();
  for (int64_t i = 0; i < options_.layers() - 1; ++i) {
    const int64_t out = ndf * std::min<int64_t>(int64_t{1} << i, 8);
    const int64_t stride = i < strided ? 2 : 1;
    body_->push_back(nn::Conv2d(nn::Conv2dOptions(in, out, 4).stride(stride).padding(1)));
    if (i > 0) body_->push_back(nn::BatchNorm2d(out));
    body_->push_back(nn::LeakyReLU(nn::LeakyReLUOptions().negative_slope(0.2)));
    in = out;
  }
  body_->push_back(nn::Conv2d(nn::Conv2dOptions(in, 1, 4).stride(1).padding(1)));
}

void DiscriminatorImpl::check_input(const torch::Tensor& input) const {
  if (input.dim() != 4 || input.size(1) != options_.in_channels())
    throw std::invalid_argument("discriminator expects N x " + std::to_string(options_.in_channels()) +
                                " x H x W, got " + c10::str(input.sizes()));
}

torch::Tensor DiscriminatorImpl::forward(const torch::Tensor& input) {
  check_input(input);
  return body_->forward(input);
}

std::vector<torch::Tensor> DiscriminatorImpl::forward_features(const torch::Tensor& input) {
  check_input(input);
  std::vector<torch::Tensor> features;
  auto x = input;
  for (auto& layer : *body_) {
    x = layer.forward(x);
    if (layer.ptr()->as<nn::LeakyReLUImpl>() != nullptr) features.push_back(x);
  }
  features.push_back(x);  // the patch scores
  return features;
}

}  // namespace facesr
