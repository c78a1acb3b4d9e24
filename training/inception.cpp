#include "inception.h"

#include <map>
#include <set>

#include "safetensors.h"  // WeightsError
#include "state_dict_file.h"

namespace facesr {
namespace {

namespace nn = torch::nn;
namespace F = torch::nn::functional;

constexpr const char* kWeightsFile = "pytorch-fid's pt_inception-2015-12-05-6726825d.pth";

// torchvision's BasicConv2d: conv (no bias) -> batch norm (eps 0.001) -> ReLU; keys <name>.conv.*, <name>.bn.*.
class BasicConv2dImpl : public nn::Module {
 public:
  BasicConv2dImpl(int64_t in, int64_t out, std::vector<int64_t> kernel, std::vector<int64_t> stride = {1, 1},
                  std::vector<int64_t> padding = {0, 0}) {
    conv_ = register_module("conv", nn::Conv2d(nn::Conv2dOptions(in, out, kernel).stride(stride).padding(padding).bias(false)));
    bn_ = register_module("bn", nn::BatchNorm2d(nn::BatchNorm2dOptions(out).eps(0.001)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(bn_->forward(conv_->forward(x))); }

 private:
  nn::Conv2d conv_{nullptr};
  nn::BatchNorm2d bn_{nullptr};
};
TORCH_MODULE(BasicConv2d);

BasicConv2d square(int64_t in, int64_t out, int64_t k, int64_t stride = 1, int64_t pad = 0) {
  return BasicConv2d(in, out, std::vector<int64_t>{k, k}, std::vector<int64_t>{stride, stride},
                     std::vector<int64_t>{pad, pad});
}
// A 1 x 7 (wide) or 7 x 1 (tall) convolution with "same" padding, and the 1 x 3 / 3 x 1 ones.
BasicConv2d wide(int64_t in, int64_t out, int64_t k) {
  return BasicConv2d(in, out, std::vector<int64_t>{1, k}, std::vector<int64_t>{1, 1}, std::vector<int64_t>{0, k / 2});
}
BasicConv2d tall(int64_t in, int64_t out, int64_t k) {
  return BasicConv2d(in, out, std::vector<int64_t>{k, 1}, std::vector<int64_t>{1, 1}, std::vector<int64_t>{k / 2, 0});
}

// The 3x3 stride-1 pool of the FID branch_pool: average without counting the zero padding
// (TensorFlow's behaviour), or max for Mixed_7c.
enum class BranchPool { AverageExcludingPadding, Max };
torch::Tensor branch_pool_input(const torch::Tensor& x, BranchPool pool) {
  if (pool == BranchPool::Max) return F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(1).padding(1));
  return F::avg_pool2d(x, F::AvgPool2dFuncOptions(3).stride(1).padding(1).count_include_pad(false));
}

// Mixed_5b/c/d (FIDInceptionA): 1x1 | 1x1 -> 5x5 | 1x1 -> 3x3 -> 3x3 | pool -> 1x1.
class InceptionAImpl : public nn::Module {
 public:
  InceptionAImpl(int64_t in, int64_t pool_features)
      : b1x1_(register_module("branch1x1", square(in, 64, 1))),
        b5x5_1_(register_module("branch5x5_1", square(in, 48, 1))),
        b5x5_2_(register_module("branch5x5_2", square(48, 64, 5, 1, 2))),
        b3dbl_1_(register_module("branch3x3dbl_1", square(in, 64, 1))),
        b3dbl_2_(register_module("branch3x3dbl_2", square(64, 96, 3, 1, 1))),
        b3dbl_3_(register_module("branch3x3dbl_3", square(96, 96, 3, 1, 1))),
        pool_(register_module("branch_pool", square(in, pool_features, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b1x1_->forward(x), b5x5_2_->forward(b5x5_1_->forward(x)),
                       b3dbl_3_->forward(b3dbl_2_->forward(b3dbl_1_->forward(x))),
                       pool_->forward(branch_pool_input(x, BranchPool::AverageExcludingPadding))},
                      1);
  }

 private:
  BasicConv2d b1x1_, b5x5_1_, b5x5_2_, b3dbl_1_, b3dbl_2_, b3dbl_3_, pool_;
};
TORCH_MODULE(InceptionA);

// Mixed_6a (torchvision's InceptionB, unpatched): 3x3/2 | 1x1 -> 3x3 -> 3x3/2 | max pool 3x3/2.
class InceptionBImpl : public nn::Module {
 public:
  explicit InceptionBImpl(int64_t in)
      : b3x3_(register_module("branch3x3", square(in, 384, 3, 2))),
        b3dbl_1_(register_module("branch3x3dbl_1", square(in, 64, 1))),
        b3dbl_2_(register_module("branch3x3dbl_2", square(64, 96, 3, 1, 1))),
        b3dbl_3_(register_module("branch3x3dbl_3", square(96, 96, 3, 2))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::cat({b3x3_->forward(x), b3dbl_3_->forward(b3dbl_2_->forward(b3dbl_1_->forward(x))),
                       F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2))},
                      1);
  }

 private:
  BasicConv2d b3x3_, b3dbl_1_, b3dbl_2_, b3dbl_3_;
};
TORCH_MODULE(InceptionB);

// Mixed_6b..e (FIDInceptionC): 1x1 | 1x1 -> 1x7 -> 7x1 | 1x1 -> 7x1 -> 1x7 -> 7x1 -> 1x7 | pool -> 1x1.
class InceptionCImpl : public nn::Module {
 public:
  InceptionCImpl(int64_t in, int64_t c7)
      : b1x1_(register_module("branch1x1", square(in, 192, 1))),
        b7_1_(register_module("branch7x7_1", square(in, c7, 1))),
        b7_2_(register_module("branch7x7_2", wide(c7, c7, 7))),
        b7_3_(register_module("branch7x7_3", tall(c7, 192, 7))),
        b7dbl_1_(register_module("branch7x7dbl_1", square(in, c7, 1))),
        b7dbl_2_(register_module("branch7x7dbl_2", tall(c7, c7, 7))),
        b7dbl_3_(register_module("branch7x7dbl_3", wide(c7, c7, 7))),
        b7dbl_4_(register_module("branch7x7dbl_4", tall(c7, c7, 7))),
        b7dbl_5_(register_module("branch7x7dbl_5", wide(c7, 192, 7))),
        pool_(register_module("branch_pool", square(in, 192, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto dbl = b7dbl_3_->forward(b7dbl_2_->forward(b7dbl_1_->forward(x)));
    dbl = b7dbl_5_->forward(b7dbl_4_->forward(dbl));
    return torch::cat({b1x1_->forward(x), b7_3_->forward(b7_2_->forward(b7_1_->forward(x))), dbl,
                       pool_->forward(branch_pool_input(x, BranchPool::AverageExcludingPadding))},
                      1);
  }

 private:
  BasicConv2d b1x1_, b7_1_, b7_2_, b7_3_, b7dbl_1_, b7dbl_2_, b7dbl_3_, b7dbl_4_, b7dbl_5_, pool_;
};
TORCH_MODULE(InceptionC);

// Mixed_7a (torchvision's InceptionD, unpatched): 1x1 -> 3x3/2 | 1x1 -> 1x7 -> 7x1 -> 3x3/2 | max pool 3x3/2.
class InceptionDImpl : public nn::Module {
 public:
  explicit InceptionDImpl(int64_t in)
      : b3_1_(register_module("branch3x3_1", square(in, 192, 1))),
        b3_2_(register_module("branch3x3_2", square(192, 320, 3, 2))),
        b7x3_1_(register_module("branch7x7x3_1", square(in, 192, 1))),
        b7x3_2_(register_module("branch7x7x3_2", wide(192, 192, 7))),
        b7x3_3_(register_module("branch7x7x3_3", tall(192, 192, 7))),
        b7x3_4_(register_module("branch7x7x3_4", square(192, 192, 3, 2))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    auto b7 = b7x3_2_->forward(b7x3_1_->forward(x));
    b7 = b7x3_4_->forward(b7x3_3_->forward(b7));
    return torch::cat({b3_2_->forward(b3_1_->forward(x)), b7, F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2))}, 1);
  }

 private:
  BasicConv2d b3_1_, b3_2_, b7x3_1_, b7x3_2_, b7x3_3_, b7x3_4_;
};
TORCH_MODULE(InceptionD);

// Mixed_7b (FIDInceptionE_1, average pool) and Mixed_7c (FIDInceptionE_2, max pool):
// 1x1 | 1x1 -> (1x3, 3x1) | 1x1 -> 3x3 -> (1x3, 3x1) | pool -> 1x1.
class InceptionEImpl : public nn::Module {
 public:
  InceptionEImpl(int64_t in, BranchPool pool)
      : pool_kind_(pool),
        b1x1_(register_module("branch1x1", square(in, 320, 1))),
        b3_1_(register_module("branch3x3_1", square(in, 384, 1))),
        b3_2a_(register_module("branch3x3_2a", wide(384, 384, 3))),
        b3_2b_(register_module("branch3x3_2b", tall(384, 384, 3))),
        b3dbl_1_(register_module("branch3x3dbl_1", square(in, 448, 1))),
        b3dbl_2_(register_module("branch3x3dbl_2", square(448, 384, 3, 1, 1))),
        b3dbl_3a_(register_module("branch3x3dbl_3a", wide(384, 384, 3))),
        b3dbl_3b_(register_module("branch3x3dbl_3b", tall(384, 384, 3))),
        pool_(register_module("branch_pool", square(in, 192, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const auto b3 = b3_1_->forward(x);
    const auto dbl = b3dbl_2_->forward(b3dbl_1_->forward(x));
    return torch::cat({b1x1_->forward(x), b3_2a_->forward(b3), b3_2b_->forward(b3), b3dbl_3a_->forward(dbl),
                       b3dbl_3b_->forward(dbl), pool_->forward(branch_pool_input(x, pool_kind_))},
                      1);
  }

 private:
  BranchPool pool_kind_;
  BasicConv2d b1x1_, b3_1_, b3_2a_, b3_2b_, b3dbl_1_, b3dbl_2_, b3dbl_3a_, b3dbl_3b_, pool_;
};
TORCH_MODULE(InceptionE);

bool ignored_key(const std::string& key) {
  const std::string tracked = "num_batches_tracked";
  return key == "fc.weight" || key == "fc.bias" ||
         (key.size() > tracked.size() && key.compare(key.size() - tracked.size(), tracked.size(), tracked) == 0);
}

}  // namespace

FidInceptionV3Impl::FidInceptionV3Impl() {
  auto add = [this](const std::string& name, auto module) {
    layers_.emplace_back(name, nn::AnyModule(register_module(name, module)));
  };
  add("Conv2d_1a_3x3", square(3, 32, 3, 2));
  add("Conv2d_2a_3x3", square(32, 32, 3));
  add("Conv2d_2b_3x3", square(32, 64, 3, 1, 1));
  add("Conv2d_3b_1x1", square(64, 80, 1));
  add("Conv2d_4a_3x3", square(80, 192, 3));
  add("Mixed_5b", InceptionA(192, 32));
  add("Mixed_5c", InceptionA(256, 64));
  add("Mixed_5d", InceptionA(288, 64));
  add("Mixed_6a", InceptionB(288));
  add("Mixed_6b", InceptionC(768, 128));
  add("Mixed_6c", InceptionC(768, 160));
  add("Mixed_6d", InceptionC(768, 160));
  add("Mixed_6e", InceptionC(768, 192));
  add("Mixed_7a", InceptionD(768));
  add("Mixed_7b", InceptionE(1280, BranchPool::AverageExcludingPadding));
  add("Mixed_7c", InceptionE(2048, BranchPool::Max));
}

torch::Tensor FidInceptionV3Impl::forward(const torch::Tensor& images) {
  if (images.dim() != 4 || images.size(1) != 3)
    throw std::invalid_argument("FID Inception input must be N x 3 x H x W, got " + c10::str(images.sizes()));
  auto x = F::interpolate((images.to(torch::kFloat32) + 1) * 0.5,
                          F::InterpolateFuncOptions()
                              .size(std::vector<int64_t>{kFidInputSide, kFidInputSide})
                              .mode(torch::kBilinear)
                              .align_corners(false));
  x = 2 * x - 1;
  for (auto& [name, layer] : layers_) {
    x = layer.forward(x);
    if (name == "Conv2d_2b_3x3" || name == "Conv2d_4a_3x3") x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
  }
  return F::adaptive_avg_pool2d(x, F::AdaptiveAvgPool2dFuncOptions(1)).flatten(1);
}

void load_fid_inception_weights(FidInceptionV3Impl& net, const std::string& path) {
  const auto state = read_state_dict_file(path, kWeightsFile);
  const std::string expect = " (expected " + std::string(kWeightsFile) + ")";
  std::map<std::string, torch::Tensor> wanted;
  for (const auto& item : net.named_parameters()) wanted[item.key()] = item.value();
  for (const auto& item : net.named_buffers())
    if (!ignored_key(item.key())) wanted[item.key()] = item.value();
  for (const auto& [key, tensor] : state) {
    if (key.rfind("AuxLogits.", 0) == 0)
      throw WeightsError(path + ": has '" + key + "': this is torchvision's ImageNet Inception-V3 "
                         "(inception_v3_google-*.pth), not the FID network" + expect);
    if (!wanted.count(key) && !ignored_key(key))
      throw WeightsError(path + ": unexpected key '" + key + "', not in FID's Inception-V3" + expect);
  }
  const std::map<std::string, std::vector<int64_t>> classifier = {{"fc.weight", {kFidInceptionClasses, kFidFeatures}},
                                                                  {"fc.bias", {kFidInceptionClasses}}};
  for (const auto& [key, shape] : classifier) {
    const auto it = state.find(key);
    if (it != state.end() && it->second.sizes() != c10::IntArrayRef(shape))
      throw WeightsError(path + ": '" + key + "' has shape " + c10::str(it->second.sizes()) + ", FID's Inception-V3 has " +
                         c10::str(c10::IntArrayRef(shape)) + " (1008 classes)" + expect);
  }
  torch::NoGradGuard no_grad;
  for (auto& [key, target] : wanted) {
    const auto it = state.find(key);
    if (it == state.end()) throw WeightsError(path + ": missing '" + key + "'" + expect);
    if (it->second.sizes() != target.sizes())
      throw WeightsError(path + ": '" + key + "' has shape " + c10::str(it->second.sizes()) + ", FID's Inception-V3 needs " +
                         c10::str(target.sizes()) + expect);
    target.copy_(it->second.to(torch::kFloat32));
  }
  for (auto& p : net.parameters()) p.set_requires_grad(false);
  net.eval();
}

}  // namespace facesr
