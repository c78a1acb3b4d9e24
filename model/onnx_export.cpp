#include "onnx_export.h"

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <vector>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include "error.h"
#include "generator.h"
#include "safetensors.h"
#include "weights.h"

namespace facesr {
namespace {

constexpr float kLeakySlope = 0.2f;  // the LR upsampler's and encoder's leaky relu (generator.cpp)
constexpr int64_t kBicubicTaps = 5;  // bicubic_upsample's kernel side per output phase

// Builds the graph node by node; names of values are the LibTorch parameter prefixes they come from.
class GraphBuilder {
 public:
  GraphBuilder(onnx::GraphProto& graph, std::map<std::string, torch::Tensor> parameters,
               OnnxPixelShuffle pixel_shuffle)
      : graph_(graph), parameters_(std::move(parameters)), pixel_shuffle_(pixel_shuffle) {}

  int64_t nodes() const { return graph_.node_size(); }
  void set_channels(const std::string& value, int64_t channels) { channels_[value] = channels; }
  int64_t parameter_count() const { return parameter_count_; }

  // A float32 initializer from a tensor (any layout; written NCHW-contiguous, little-endian).
  std::string constant(const std::string& name, const torch::Tensor& value) {
    const torch::Tensor t = value.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : t.sizes()) init->add_dims(d);
    init->set_raw_data(t.data_ptr(), t.numel() * sizeof(float));
    parameter_count_ += t.numel();
    return name;
  }

  std::string int64_constant(const std::string& name, const std::vector<int64_t>& values) {
    onnx::TensorProto* init = graph_.add_initializer();
    init->set_name(name);
    init->set_data_type(onnx::TensorProto::INT64);
    init->add_dims(static_cast<int64_t>(values.size()));
    for (int64_t v : values) init->add_int64_data(v);
    return name;
  }

  // The generator's parameter `name` (after folding) as an initializer of the same name.
  std::string parameter(const std::string& name) {
    auto it = parameters_.find(name);
    if (it == parameters_.end())
      throw Error(Error::Kind::ModelFile, "facesr-export: the generator has no parameter '" + name + "'");
    return constant(name, it->second);
  }

  onnx::NodeProto& node(const std::string& op, const std::vector<std::string>& inputs, const std::string& output) {
    onnx::NodeProto* n = graph_.add_node();
    n->set_op_type(op);
    n->set_name(output);
    for (const auto& in : inputs) n->add_input(in);
    n->add_output(output);
    return *n;
  }

  static void set_ints(onnx::NodeProto& n, const std::string& name, const std::vector<int64_t>& values) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values) a->add_ints(v);
  }
  static void set_int(onnx::NodeProto& n, const std::string& name, int64_t value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
  }
  static void set_float(onnx::NodeProto& n, const std::string& name, float value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
  }
  static void set_string(onnx::NodeProto& n, const std::string& name, const std::string& value) {
    onnx::AttributeProto* a = n.add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
  }

  // Conv2d `prefix` (prefix.weight, prefix.bias) on x: square kernel, stride and padding.
  std::string conv(const std::string& x, const std::string& prefix, int64_t stride, int64_t padding) {
    const std::string weight = parameter(prefix + ".weight");
    const torch::Tensor& w = parameters_.at(weight);
    auto& n = node("Conv", {x, weight, parameter(prefix + ".bias")}, prefix);
    channels_[prefix] = w.size(0);
    set_ints(n, "kernel_shape", {w.size(2), w.size(3)});
    set_ints(n, "strides", {stride, stride});
    set_ints(n, "pads", {padding, padding, padding, padding});
    set_ints(n, "dilations", {1, 1});
    set_int(n, "group", 1);
    return prefix;
  }

  // PixelShuffle(block) of x, whose channel order c * block^2 + i * block + j is DepthToSpace's
  // CRD. OnnxPixelShuffle::ConvTranspose: the same values from a grouped ConvTranspose (kernel and
  // stride `block`, one group per output channel) whose weights are 1 at each input channel's own
  // pixel phase and 0 elsewhere, so each output is one input value times 1 plus zeros: exact.
  std::string depth_to_space(const std::string& x, int64_t block, const std::string& output) {
    const int64_t out = channels_.at(x) / (block * block);
    channels_[output] = out;
    if (pixel_shuffle_ == OnnxPixelShuffle::DepthToSpace) {
      auto& n = node("DepthToSpace", {x}, output);
      set_int(n, "blocksize", block);
      set_string(n, "mode", "CRD");
      return output;
    }
    auto w = torch::zeros({out * block * block, 1, block, block});
    auto phases = w.view({out, block, block, block, block});  // [c][i][j][i'][j'] = (i, j) == (i', j')
    for (int64_t i = 0; i < block; ++i)
      for (int64_t j = 0; j < block; ++j) phases.select(1, i).select(1, j).select(1, i).select(1, j).fill_(1.0f);
    auto& n = node("ConvTranspose", {x, constant(output + ".weight", w)}, output);
    set_ints(n, "kernel_shape", {block, block});
    set_ints(n, "strides", {block, block});
    set_ints(n, "pads", {0, 0, 0, 0});
    set_ints(n, "dilations", {1, 1});
    set_int(n, "group", out);
    return output;
  }

  std::string relu(const std::string& x) { return node("Relu", {x}, x + ".relu").output(0); }

  std::string leaky_relu(const std::string& x) {
    auto& n = node("LeakyRelu", {x}, x + ".leaky_relu");
    set_float(n, "alpha", kLeakySlope);
    return n.output(0);
  }

  // clamp(x, -1, 1) as 2 * HardSigmoid(x; alpha 0.5, beta 0.5) - 1: HardSigmoid is
  // max(0, min(1, 0.5 x + 0.5)). Not opset 11's Clip: OpenCV 4.6's importer takes only Clip's
  // opset-6 form (min / max attributes) and refuses the min / max inputs opset 11 requires, and its
  // Min / Max refuse a constant operand (both measured). Exact up to float rounding (~1e-7).
  std::string clamp_unit(const std::string& x, const std::string& output) {
    if (!have_clamp_constants_) {
      constant("clamp.two", torch::full({}, 2.0f));
      constant("clamp.one", torch::full({}, 1.0f));
      have_clamp_constants_ = true;
    }
    auto& hard = node("HardSigmoid", {x}, output + ".hard_sigmoid");
    set_float(hard, "alpha", 0.5f);
    set_float(hard, "beta", 0.5f);
    const std::string twice = node("Mul", {hard.output(0), "clamp.two"}, output + ".twice").output(0);
    return node("Sub", {twice, "clamp.one"}, output).output(0);
  }

 private:
  onnx::GraphProto& graph_;
  std::map<std::string, torch::Tensor> parameters_;
  int64_t parameter_count_ = 0;
  OnnxPixelShuffle pixel_shuffle_;
  std::map<std::string, int64_t> channels_;  // of the values made by conv() and depth_to_space()
  bool have_clamp_constants_ = false;
};

// bicubic_upsample(x, 256) (generator.h) for N x 3 x side x side as the engine computes it: edge
// padding by 2, a 5x5 kernel per output phase (the bicubic weights' outer products; one group per
// colour, output channel c * scale^2 + phase), and DepthToSpace. The kernels are made exactly as
// bicubic_upsample makes them, from LibTorch's bicubic interpolation of unit vectors.
std::string bicubic_base(GraphBuilder& g, const std::string& input, int64_t side) {
  namespace F = torch::nn::functional;
  const int64_t scale = kOutputSize / side;
  auto units = torch::eye(side, torch::kFloat32).view({side, 1, side, 1});
  auto r = F::interpolate(units, F::InterpolateFuncOptions()
                                     .size(std::vector<int64_t>{kOutputSize, 1})
                                     .mode(torch::kBicubic)
                                     .align_corners(false))
               .view({side, kOutputSize})
               .t();  // kOutputSize x side
  const int64_t i0 = side / 2;
  auto phases = r.narrow(0, scale * i0, scale).narrow(1, i0 - 2, kBicubicTaps);  // scale x 5
  auto kernel = (phases.view({scale, 1, kBicubicTaps, 1}) * phases.view({1, scale, 1, kBicubicTaps}))
                    .reshape({scale * scale, 1, kBicubicTaps, kBicubicTaps});

  auto& pad = g.node("Pad", {input, g.int64_constant("bicubic.pads", {0, 0, 2, 2, 0, 0, 2, 2})}, "bicubic.pad");
  GraphBuilder::set_string(pad, "mode", "edge");
  auto& conv = g.node("Conv", {pad.output(0), g.constant("bicubic.weight", kernel.repeat({3, 1, 1, 1}))}, "bicubic.conv");
  g.set_channels("bicubic.conv", 3 * scale * scale);
  GraphBuilder::set_ints(conv, "kernel_shape", {kBicubicTaps, kBicubicTaps});
  GraphBuilder::set_ints(conv, "strides", {1, 1});
  GraphBuilder::set_ints(conv, "pads", {0, 0, 0, 0});
  GraphBuilder::set_ints(conv, "dilations", {1, 1});
  GraphBuilder::set_int(conv, "group", 3);
  return g.clamp_unit(g.depth_to_space(conv.output(0), scale, "bicubic.shuffle"), "bicubic");
}

// One decoder (generator.cpp decode): from the bottleneck, `depth` x2 steps (relu, conv to 4x
// channels, DepthToSpace), the first `skips` steps that reach an encoder level concatenated with it.
// Returns the last step's output before its relu (ngf x 256 x 256).
std::string decoder(GraphBuilder& g, const std::string& prefix, int64_t depth, int64_t skips,
                    std::vector<std::string>& relu_encoded, const std::vector<std::string>& encoded) {
  auto relu_of_level = [&](int64_t k) -> const std::string& {
    if (relu_encoded[k].empty()) relu_encoded[k] = g.relu(encoded[k]);
    return relu_encoded[k];
  };
  std::string x = relu_of_level(depth - 1);
  for (int64_t j = 0; j < depth; ++j) {
    const std::string step = prefix + "." + std::to_string(j);
    const std::string y = g.depth_to_space(g.conv(x, step + ".conv", 1, 1), 2, step + ".shuffle");
    if (j == depth - 1) return y;
    const int64_t target = depth - 2 - j;
    if (target >= 0 && j < skips) {
      // relu(cat(y, e)) = cat(relu(y), relu(e)); relu(e) is shared by both decoders.
      auto& cat = g.node("Concat", {g.relu(y), relu_of_level(target)}, step + ".cat");
      GraphBuilder::set_int(cat, "axis", 1);
      x = cat.output(0);
    } else {
      x = g.relu(y);
    }
  }
  return x;
}

void add_tensor_info(onnx::ValueInfoProto* info, const std::string& name, const std::vector<int64_t>& shape,
                     const std::string& doc) {
  info->set_name(name);
  info->set_doc_string(doc);
  auto* tensor = info->mutable_type()->mutable_tensor_type();
  tensor->set_elem_type(onnx::TensorProto::FLOAT);
  for (int64_t d : shape) tensor->mutable_shape()->add_dim()->set_dim_value(d);
}

// The generator's parameters by LibTorch name, batch norms folded as the engine folds them.
std::map<std::string, torch::Tensor> folded_parameters(GeneratorImpl& generator) {
  prepare_for_inference(generator, torch::kCPU, torch::kFloat32);
  std::map<std::string, torch::Tensor> parameters;
  for (const auto& p : generator.named_parameters()) parameters[p.key()] = p.value().detach();
  return parameters;
}

void build_graph(onnx::GraphProto& graph, GraphBuilder& g, const GeneratorOptions& arch,
                 const OnnxExportOptions& options) {
  const int64_t side = input_size(arch), depth = arch.depth(), n = options.batch;
  add_tensor_info(graph.add_input(), kOnnxInputName, {n, 3, side, side},
                  "face crop, RGB, NCHW, float in [-1, 1] (8-bit x / 127.5 - 1)");

  const std::string base = bicubic_base(g, kOnnxInputName, side);

  // LR upsampler (I_LRf): conv, log2(scale) x2 steps, head conv; residual on bicubic(I_LR).
  std::string x = g.leaky_relu(g.conv(kOnnxInputName, "lr_in", 1, 1));
  for (int64_t i = 0, s = arch.scale(); s > 1; s /= 2, ++i) {
    const std::string step = "lr_ups." + std::to_string(i);
    x = g.leaky_relu(g.depth_to_space(g.conv(x, step + ".conv", 1, 1), 2, step + ".shuffle"));
  }
  const std::string lr_features =
      g.clamp_unit(g.node("Add", {base, g.conv(x, "lr_out", 1, 1)}, "lr_out.residual").output(0), "lr_features");

  // U-Net encoder: 4x4 stride-2 convs, leaky relu between levels.
  std::vector<std::string> encoded;
  for (int64_t k = 0; k < depth; ++k) {
    const std::string in = k == 0 ? lr_features : g.leaky_relu(encoded.back());
    encoded.push_back(g.conv(in, "enc_convs." + std::to_string(k), 2, 1));
  }

  std::vector<std::string> relu_encoded(depth);
  const std::string features = decoder(g, "upper_ups", depth, kUpperDecoderSkips, relu_encoded, encoded);  // I_f
  const std::string relu_features = g.relu(features);
  const std::vector<int64_t> out_shape{n, 3, kOutputSize, kOutputSize};
  if (options.blurred) {
    g.clamp_unit(g.node("Add", {base, g.conv(relu_features, "upper_out", 1, 1)}, "upper_out.residual").output(0),
                 kOnnxBlurredName);
  }
  const std::string lower = decoder(g, "lower_ups", depth, depth - 1, relu_encoded, encoded);
  auto& cat = g.node("Concat", {g.relu(lower), relu_features}, "lower_out.cat");
  GraphBuilder::set_int(cat, "axis", 1);
  g.clamp_unit(g.node("Add", {base, g.conv(cat.output(0), "lower_out", 1, 1)}, "lower_out.residual").output(0),
               kOnnxSharpName);

  add_tensor_info(graph.add_output(), kOnnxSharpName, out_shape, "sharp HR face, RGB, NCHW, [-1, 1] (8-bit (y + 1) * 127.5)");
  if (options.blurred)
    add_tensor_info(graph.add_output(), kOnnxBlurredName, out_shape, "blurred HR face (the upper decoder), [-1, 1]");
}

void add_metadata(onnx::ModelProto& model, const std::map<std::string, std::string>& fields,
                  const std::string& weights_path, const OnnxExportOptions& options) {
  auto put = [&](const std::string& key, const std::string& value) {
    onnx::StringStringEntryProto* entry = model.add_metadata_props();
    entry->set_key(kOnnxMetadataPrefix + key);
    entry->set_value(value);
  };
  for (const auto& [key, value] : fields) put(key, value);
  put("onnx_source", std::filesystem::path(weights_path).filename().string());
  put("onnx_batch", std::to_string(options.batch));
  put("onnx_pixel_shuffle", to_string(options.pixel_shuffle));
}

void write_atomically(const onnx::ModelProto& model, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !model.SerializeToOstream(&out) || !out.flush())
      throw Error(Error::Kind::Internal, "facesr-export: cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    throw Error(Error::Kind::Internal, "facesr-export: cannot rename " + tmp + " to " + path);
  }
}

}  // namespace

std::string to_string(OnnxPixelShuffle form) {
  return form == OnnxPixelShuffle::DepthToSpace ? "depth_to_space" : "conv_transpose";
}

OnnxPixelShuffle onnx_pixel_shuffle_from_string(const std::string& name) {
  for (auto form : {OnnxPixelShuffle::DepthToSpace, OnnxPixelShuffle::ConvTranspose})
    if (to_string(form) == name) return form;
  throw Error(Error::Kind::Input, "unknown pixel shuffle form '" + name + "' (expected depth_to_space or conv_transpose)");
}

std::string onnx_export_problem(const Architecture& a) {
  std::string problems;
  auto add = [&](const std::string& what) { problems += (problems.empty() ? "" : ", ") + what; };
  if (a.upsample != "pixel_shuffle") add("upsample '" + a.upsample + "'");
  if (a.heads != "conv3x3") add("heads '" + a.heads + "'");
  if (!a.residual) add("residual false");
  if (a.lr_upsampler != "learned") add("lr_upsampler '" + a.lr_upsampler + "'");
  if (problems.empty()) return "";
  return "ONNX export supports only the shipped configuration (upsample pixel_shuffle, heads conv3x3, residual "
         "true, lr_upsampler learned); this model has " + problems;
}

OnnxExportSummary export_onnx(const std::string& weights_path, const std::string& onnx_path,
                              const OnnxExportOptions& options) {
  if (options.batch < 1 || options.batch > kMaxOnnxBatch)
    throw Error(Error::Kind::Input, "facesr-export: batch must be in [1, " + std::to_string(kMaxOnnxBatch) +
                                        "], got " + std::to_string(options.batch));
  // The metadata as the file holds it (the values copied into metadata_props as they are).
  const std::vector<uint8_t> bytes = read_file_bytes(weights_path);
  const std::map<std::string, std::string> fields =
      parse_safetensors(bytes.data(), bytes.size(), weights_path).metadata;
  const ModelMetadata metadata = from_safetensors_metadata(fields, weights_path);
  if (const std::string problem = onnx_export_problem(metadata.architecture); !problem.empty())
    throw Error(Error::Kind::ModelFile, weights_path + ": " + problem);

  OnnxExportSummary summary;
  onnx::ModelProto model;
  try {
    LoadedGenerator loaded = load_generator(weights_path);
    const GeneratorOptions arch = loaded.generator->options();
    torch::NoGradGuard no_grad;
    model.set_ir_version(kOnnxIrVersion);
    model.set_producer_name("facesr-export");
    model.set_model_version(1);
    model.set_doc_string("facesr generator (" + std::to_string(arch.scale()) + "x face super-resolution and "
                         "deblurring, " + std::to_string(input_size(arch)) + " -> 256) from " +
                         std::filesystem::path(weights_path).filename().string());
    onnx::OperatorSetIdProto* opset = model.add_opset_import();
    opset->set_domain("");
    opset->set_version(kOnnxOpset);
    onnx::GraphProto& graph = *model.mutable_graph();
    graph.set_name("facesr_generator");
    GraphBuilder builder(graph, folded_parameters(*loaded.generator), options.pixel_shuffle);
    build_graph(graph, builder, arch, options);
    add_metadata(model, fields, weights_path, options);
    summary.input_size = input_size(arch);
    summary.scale = arch.scale();
    summary.batch = options.batch;
    summary.nodes = builder.nodes();
    summary.parameters = builder.parameter_count();
  } catch (const c10::Error& e) {
    throw Error(Error::Kind::Internal, "facesr-export: LibTorch: " + std::string(e.what_without_backtrace()));
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    throw Error(Error::Kind::Internal, "facesr-export: the graph fails ONNX's checker: " + std::string(e.what()));
  }
  write_atomically(model, onnx_path);
  summary.bytes = std::filesystem::file_size(onnx_path);
  return summary;
}

}  // namespace facesr
