// VGG-19 feature network for the perceptual loss: torchvision's `vgg19().features` layout (16 3x3
// convs, ReLU, 5 max-pools), so parameter names are "features.N.weight" / "features.N.bias" with
// N in {0, 2, 5, 7, 10, 12, 14, 16, 19, 21, 23, 25, 28, 30, 32, 34}.
//
// Weights come from torchvision's ImageNet file `vgg19-dcbb9e9d.pth` (a torch.save of the state dict,
// from 2017, so presumably in the legacy pre-1.6 layout; a re-saved zip-format copy reads too), read
// with model/state_dict_file.h; nothing is downloaded. Input is an image in [-1, 1] (the facesr
// convention); ImageNet normalization is applied inside.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace facesr {

class Vgg19FeaturesImpl : public torch::nn::Module {
 public:
  Vgg19FeaturesImpl();
  // x: N x 3 x H x W in [-1, 1], H and W multiples of 32. Returns the outputs of pool1 ... pool5
  // (N x 64 x H/2 x W/2, 128 x H/4, 256 x H/8, 512 x H/16, 512 x H/32).
  std::vector<torch::Tensor> forward(const torch::Tensor& x);

 private:
  torch::nn::Sequential features_{nullptr};
  torch::Tensor mean_, std_;
};
TORCH_MODULE(Vgg19Features);

// Loads the `features.*` tensors of a torchvision VGG-19 state dict (other keys, such as the
// classifier's, are ignored), freezes the network and puts it in eval mode. Throws
// std::runtime_error (WeightsError for an unreadable file) naming the file and the missing or
// mis-shaped key.
void load_vgg19_weights(Vgg19FeaturesImpl& vgg, const std::string& path);

// Indices of the conv layers inside `features` (torchvision numbering).
const std::vector<int>& vgg19_conv_indices();

}  // namespace facesr
