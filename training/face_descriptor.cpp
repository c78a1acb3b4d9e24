#include "face_descriptor.h"

#include "text_limits.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "metrics.h"      // gaussian_stats, frechet_distance
#include "safetensors.h"  // WeightsError

#ifndef FACESR_IDENTITY_MODEL_DIR
#define FACESR_IDENTITY_MODEL_DIR "out/models/face-api"
#endif

namespace facesr {
namespace {

namespace fs = std::filesystem;
namespace F = torch::nn::functional;
using nlohmann::json;

constexpr const char* kHowToGet =
    "face-api's face_recognition_model (npm @vladmandic/face-api@1.7.15): fetch it with "
    "scripts/fetch-identity-model.sh";

// The residual layers in order: name, output channels, and whether it halves the map.
struct ResidualSpec {
  const char* name;
  int64_t channels;
  bool down;
};
const std::vector<ResidualSpec>& residual_specs() {
  static const std::vector<ResidualSpec> specs = {
      {"conv32_1", 32, false},      {"conv32_2", 32, false},      {"conv32_3", 32, false},
      {"conv64_down", 64, true},    {"conv64_1", 64, false},      {"conv64_2", 64, false},
      {"conv64_3", 64, false},      {"conv128_down", 128, true},  {"conv128_1", 128, false},
      {"conv128_2", 128, false},    {"conv256_down", 256, true},  {"conv256_1", 256, false},
      {"conv256_2", 256, false},    {"conv256_down_out", 256, true}};
  return specs;
}

// Every conv layer of the network in order (face-api's names): name, input and output channels, kernel.
struct ConvSpec {
  std::string name;
  int64_t in, out, kernel;
};
const std::vector<ConvSpec>& conv_specs() {
  static const std::vector<ConvSpec> specs = [] {
    std::vector<ConvSpec> v = {{"conv32_down", 3, 32, 7}};
    int64_t in = 32;
    for (const auto& r : residual_specs()) {
      v.push_back({std::string(r.name) + "/conv1", in, r.channels, 3});
      v.push_back({std::string(r.name) + "/conv2", r.channels, r.channels, 3});
      in = r.channels;
    }
    return v;
  }();
  return specs;
}

[[noreturn]] void fail(const std::string& file, const std::string& what) {
  throw WeightsError(file + ": " + what + " (expected " + kHowToGet + ")");
}

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

FaceDescriptorNetImpl::FaceDescriptorNetImpl() {
  // Parameters are registered under face-api's names ('/' -> '_': LibTorch names cannot hold '.' or
  // '/'), so that named_parameters() says what each is; their values come from
  // load_face_descriptor_weights.
  for (const auto& c : conv_specs()) {
    std::string key = c.name;
    for (auto& ch : key)
      if (ch == '/') ch = '_';
    ConvLayer layer;
    layer.weight = register_parameter(key + "_conv_filters", torch::zeros({c.out, c.in, c.kernel, c.kernel}), false);
    layer.bias = register_parameter(key + "_conv_bias", torch::zeros({c.out}), false);
    layer.scale = register_parameter(key + "_scale_weights", torch::ones({c.out}), false);
    layer.shift = register_parameter(key + "_scale_biases", torch::zeros({c.out}), false);
    layers_.emplace_back(c.name, layer);
  }
  fc_ = register_parameter("fc", torch::zeros({256, kFaceDescriptorSize}), false);
}

std::vector<std::pair<std::string, std::vector<int64_t>>> FaceDescriptorNetImpl::expected_tensors() {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& c : conv_specs()) {  // TF.js layout: filters H x W x in x out
    out.push_back({c.name + "/conv/filters", {c.kernel, c.kernel, c.in, c.out}});
    out.push_back({c.name + "/conv/bias", {c.out}});
    out.push_back({c.name + "/scale/weights", {c.out}});
    out.push_back({c.name + "/scale/biases", {c.out}});
  }
  out.push_back({"fc", {256, kFaceDescriptorSize}});
  return out;
}

const FaceDescriptorNetImpl::ConvLayer& FaceDescriptorNetImpl::layer(const std::string& name) const {
  for (const auto& [n, c] : layers_)
    if (n == name) return c;
  throw std::logic_error("FaceDescriptorNet: no layer " + name);
}

torch::Tensor FaceDescriptorNetImpl::conv(const torch::Tensor& x, const ConvLayer& c, int64_t stride,
                                          bool relu) const {
  // TensorFlow's "same" for the 3x3 stride-1 convs is 1 pixel on every side; "valid" is none.
  const int64_t pad = stride == 1 ? c.weight.size(2) / 2 : 0;
  auto y = F::conv2d(x, c.weight, F::Conv2dFuncOptions().bias(c.bias).stride(stride).padding(pad));
  y = y * c.scale.view({1, -1, 1, 1}) + c.shift.view({1, -1, 1, 1});
  return relu ? torch::relu(y) : y;
}

torch::Tensor FaceDescriptorNetImpl::residual(const torch::Tensor& x, const std::string& name) const {
  auto y = conv(x, layer(name + "/conv1"), 1, true);
  y = conv(y, layer(name + "/conv2"), 1, false);
  return torch::relu(y + x);
}

torch::Tensor FaceDescriptorNetImpl::residual_down(const torch::Tensor& x, const std::string& name) const {
  auto y = conv(x, layer(name + "/conv1"), 2, true);
  y = conv(y, layer(name + "/conv2"), 1, false);
  auto pooled = F::avg_pool2d(x, F::AvgPool2dFuncOptions(2).stride(2));
  // A 3x3/2 "valid" conv of an odd side is one pixel short of the 2x2 pool: zeros at bottom, right.
  const int64_t dh = pooled.size(2) - y.size(2), dw = pooled.size(3) - y.size(3);
  if (dh != 0 || dw != 0) y = F::pad(y, F::PadFuncOptions({0, dw, 0, dh}));
  if (pooled.size(1) != y.size(1)) pooled = F::pad(pooled, F::PadFuncOptions({0, 0, 0, 0, 0, y.size(1) - pooled.size(1)}));
  return torch::relu(y + pooled);
}

torch::Tensor FaceDescriptorNetImpl::forward_rgb255(const torch::Tensor& rgb) {
  TORCH_CHECK(rgb.dim() == 4 && rgb.size(1) == 3 && rgb.size(2) == kFaceChipSide && rgb.size(3) == kFaceChipSide,
              "FaceDescriptorNet: expected N x 3 x 150 x 150, got ", rgb.sizes());
  const auto mean = torch::tensor({122.782f, 117.001f, 104.298f}, rgb.options().dtype(torch::kFloat32)).view({1, 3, 1, 1});
  auto x = (rgb.to(torch::kFloat32) - mean) / 255.0f;
  x = conv(x, layer("conv32_down"), 2, true);
  x = F::max_pool2d(x, F::MaxPool2dFuncOptions(3).stride(2));
  for (const auto& r : residual_specs()) x = r.down ? residual_down(x, r.name) : residual(x, r.name);
  return x.mean({2, 3}).matmul(fc_);
}

torch::Tensor FaceDescriptorNetImpl::forward(const torch::Tensor& images) {
  TORCH_CHECK(images.dim() == 4 && images.size(1) == 3, "FaceDescriptorNet: expected N x 3 x H x W, got ", images.sizes());
  auto rgb = ((images.to(torch::kFloat32) + 1) * 127.5f).round().clamp(0, 255);
  if (rgb.size(2) != kFaceChipSide || rgb.size(3) != kFaceChipSide)
    rgb = F::interpolate(rgb, F::InterpolateFuncOptions()
                                  .size(std::vector<int64_t>{kFaceChipSide, kFaceChipSide})
                                  .mode(torch::kBilinear)
                                  .align_corners(false)
                                  .antialias(true));
  return forward_rgb255(rgb);
}

void load_face_descriptor_weights(FaceDescriptorNetImpl& net, const std::string& path) {
  fs::path manifest_path = path;
  if (fs::is_directory(manifest_path)) manifest_path /= kFaceDescriptorManifest;
  const std::string file = manifest_path.string();
  if (!fs::is_regular_file(manifest_path)) fail(file, "no such file");
  json manifest;
  try {
    std::ifstream in(manifest_path);
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (const std::string deep = json_depth_violation(text); !deep.empty())
      fail(file, "not a TF.js weights manifest (" + deep + ")");
    manifest = json::parse(text);
  } catch (const json::exception& e) {
    fail(file, std::string("not a TF.js weights manifest (JSON: ") + e.what() + ")");
  }
  if (!manifest.is_array() || manifest.empty()) fail(file, "not a TF.js weights manifest (not a list of weight groups)");

  std::map<std::string, std::vector<int64_t>> expected;
  for (const auto& [name, shape] : FaceDescriptorNetImpl::expected_tensors()) expected[name] = shape;
  std::map<std::string, torch::Tensor> values;  // TF.js layout, float32

  try {
    for (const auto& group : manifest) {
      // The group's shards, concatenated, hold its tensors one after the other.
      std::string bytes;
      for (const auto& shard : group.at("paths")) {
        const fs::path shard_path = manifest_path.parent_path() / shard.get<std::string>();
        std::ifstream in(shard_path, std::ios::binary);
        if (!in) fail(file, "its shard " + shard_path.string() + " is missing");
        bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
      }
      std::size_t offset = 0;
      for (const auto& w : group.at("weights")) {
        const auto name = w.at("name").get<std::string>();
        const auto shape = w.at("shape").get<std::vector<int64_t>>();
        if (w.at("dtype").get<std::string>() != "float32")
          fail(file, "tensor " + name + " has dtype " + w.at("dtype").get<std::string>() + ", not float32");
        const auto it = expected.find(name);
        if (it == expected.end())
          fail(file, "has a tensor " + name + " that the face descriptor network does not have: a manifest of "
                     "another network?");
        if (values.count(name)) fail(file, "lists tensor " + name + " twice");
        if (shape != it->second)
          fail(file, "tensor " + name + " has shape " + shape_text(shape) + ", the network needs " + shape_text(it->second));
        const int64_t n = numel(shape);
        std::string stored = "float32";
        double scale = 1, min = 0;
        if (w.contains("quantization")) {
          const auto& q = w.at("quantization");
          stored = q.at("dtype").get<std::string>();
          if (stored == "uint8" || stored == "uint16") {
            scale = q.at("scale").get<double>();
            min = q.at("min").get<double>();
          } else if (stored != "float16") {
            fail(file, "tensor " + name + " is quantized as " + stored + " (only uint8, uint16, float16 are known)");
          }
        }
        const std::size_t width = stored == "uint8" ? 1 : stored == "float32" ? 4 : 2;
        const std::size_t size = static_cast<std::size_t>(n) * width;
        if (offset + size > bytes.size())
          fail(file, "its shards end inside tensor " + name + " (" + std::to_string(bytes.size()) + " bytes, " +
                     std::to_string(offset + size) + " needed): truncated download?");
        auto raw = torch::empty({n}, stored == "uint8"     ? torch::kUInt8
                                     : stored == "float32" ? torch::kFloat32
                                     : stored == "float16" ? torch::kFloat16
                                                           : torch::kInt16);  // uint16: made unsigned below
        std::memcpy(raw.data_ptr(), bytes.data() + offset, size);
        if (stored == "uint16") raw = raw.to(torch::kInt32).bitwise_and(0xFFFF);
        auto value = raw.to(torch::kFloat64);
        if (stored == "uint8" || stored == "uint16") value = value * scale + min;
        value = value.to(torch::kFloat32).view(shape);
        if (!torch::isfinite(value).all().item<bool>()) fail(file, "tensor " + name + " has values that are not finite");
        values[name] = value;
        offset += size;
      }
      if (offset != bytes.size())
        fail(file, "its shards hold " + std::to_string(bytes.size()) + " bytes, its tensors " + std::to_string(offset) +
                   ": not the file the manifest describes");
    }
  } catch (const json::exception& e) {
    fail(file, std::string("not a TF.js weights manifest (") + e.what() + ")");
  }
  for (const auto& [name, shape] : expected)
    if (!values.count(name)) fail(file, "has no tensor " + name);

  torch::NoGradGuard no_grad;
  for (auto& [name, c] : net.layers_) {
    c.weight.copy_(values.at(name + "/conv/filters").permute({3, 2, 0, 1}));
    c.bias.copy_(values.at(name + "/conv/bias"));
    c.scale.copy_(values.at(name + "/scale/weights"));
    c.shift.copy_(values.at(name + "/scale/biases"));
  }
  net.fc_.copy_(values.at("fc"));
  net.eval();
}

std::string default_face_descriptor_path() {
  if (const char* env = std::getenv("FACESR_IDENTITY_MODEL"); env && *env) return env;
  return FACESR_IDENTITY_MODEL_DIR;
}

torch::Tensor descriptor_cosine(const torch::Tensor& a, const torch::Tensor& b) {
  return F::cosine_similarity(a.to(torch::kFloat64), b.to(torch::kFloat64), F::CosineSimilarityFuncOptions().dim(1));
}

torch::Tensor descriptor_distance(const torch::Tensor& a, const torch::Tensor& b) {
  return (a.to(torch::kFloat64) - b.to(torch::kFloat64)).pow(2).sum(1).sqrt();
}

double descriptor_frechet_distance(const torch::Tensor& a, const torch::Tensor& b) {
  if (!a.defined() || !b.defined() || a.dim() != 2 || b.dim() != 2 || a.size(1) != kFaceDescriptorSize ||
      b.size(1) != kFaceDescriptorSize || a.size(0) < 2 || b.size(0) < 2)
    throw std::invalid_argument("descriptor_frechet_distance needs two sets of at least 2 descriptors of 128");
  const auto sa = gaussian_stats(a.to(torch::kCPU, torch::kFloat64)), sb = gaussian_stats(b.to(torch::kCPU, torch::kFloat64));
  return frechet_distance(sa.mean, sa.covariance, sb.mean, sb.covariance);
}

}  // namespace facesr
