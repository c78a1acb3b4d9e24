// The Inception-V3 feature network of FID, as pytorch-fid computes it (mseitzer/pytorch-fid,
// src/pytorch_fid/inception.py, `InceptionV3([3])` with its defaults): torchvision's Inception3 with
// the blocks pytorch-fid patches to match the TensorFlow graph the FID paper used:
//   FIDInceptionA (Mixed_5b/c/d), FIDInceptionC (Mixed_6b..e), FIDInceptionE_1 (Mixed_7b): the
//     branch_pool 3x3 average pool ignores the zero padding (count_include_pad = false);
//   FIDInceptionE_2 (Mixed_7c): branch_pool is a 3x3 max pool, not an average pool.
// Every convolution is torchvision's BasicConv2d: conv without bias, batch norm (eps 0.001, eval
// mode), ReLU. The output is the 2048-d "pool3" vector: Mixed_7c, then the global average pool.
//
// Parameter and buffer names are pytorch-fid's state-dict keys (Conv2d_1a_3x3.conv.weight,
// Conv2d_1a_3x3.bn.running_mean, Mixed_5b.branch1x1.conv.weight, ...), so its weights file
// pt_inception-2015-12-05-6726825d.pth (supplied by the user; nothing is downloaded) loads by name.
// The file also holds the 1008-class classifier fc.weight / fc.bias, which FID does not use: they
// are checked and ignored.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <torch/torch.h>

namespace facesr {

constexpr int64_t kFidFeatures = 2048;   // pool3 features per image
constexpr int64_t kFidInputSide = 299;   // images are resized to 299 x 299 first

class FidInceptionV3Impl : public torch::nn::Module {
 public:
  FidInceptionV3Impl();

  // images: N x 3 x H x W, RGB in [-1, 1] (the facesr convention), any H and W. As pytorch-fid does
  // with its (0, 1) input: bilinear resize to 299 x 299 (align_corners false, no antialiasing) of the
  // image in (0, 1), then scaled to (-1, 1). Returns N x 2048 features (float32, on the input's device).
  torch::Tensor forward(const torch::Tensor& images);

 private:
  // The network's layers in order, each registered under its pytorch-fid name; the max pools between
  // them (after Conv2d_2b_3x3 and Conv2d_4a_3x3) have no parameters.
  std::vector<std::pair<std::string, torch::nn::AnyModule>> layers_;
};
TORCH_MODULE(FidInceptionV3);

// Loads pytorch-fid's state dict from `path` (read with model/state_dict_file.h: torch.save zip or
// legacy format, or torch::pickle_save), freezes the network and puts it in eval mode. Strict: a
// missing key, a key the network does not have (other than fc.* and *.num_batches_tracked) or a shape
// that differs throws WeightsError naming the file, the key and pt_inception-2015-12-05-6726825d.pth.
void load_fid_inception_weights(FidInceptionV3Impl& net, const std::string& path);

// The classifier in the weights file (not part of the network): fc.weight 1008 x 2048, fc.bias 1008.
constexpr int64_t kFidInceptionClasses = 1008;

}  // namespace facesr
