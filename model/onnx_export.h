// A facesr weights file as a standard ONNX graph, for the engines NVR vendors run (TensorRT /
// DeepStream nvinfer, OpenVINO, ONNX Runtime, OpenCV DNN). docs/onnx.md says how to run it.
//
//   facesr::OnnxExportOptions options;   // batch 1, "sharp" only
//   facesr::OnnxExportSummary s = facesr::export_onnx("facesr-default.safetensors", "facesr-default.onnx", options);
//
// The graph (opset kOnnxOpset, float32, fixed shapes):
//   input  "input"   N x 3 x S x S, RGB, NCHW, float in [-1, 1] (x / 127.5 - 1 from 8-bit),
//                    S = the model's input size (32, 64 or 128), N = OnnxExportOptions::batch
//   output "sharp"   N x 3 x 256 x 256 in [-1, 1] (8-bit: (y + 1) * 127.5)
//   output "blurred" N x 3 x 256 x 256, only with OnnxExportOptions::blurred
// It computes what the engine computes in eval mode (generator.h, prepare_for_inference): batch
// norms folded into the convs, PixelShuffle as DepthToSpace (mode CRD), the residual base
// bicubic(I_LR) as the engine's own form of it (edge padding, a 5x5 conv per output phase with
// constant weights, DepthToSpace), and clamp(bicubic + head, -1, 1) at each head (as HardSigmoid).
// Only the configuration the shipped models use is supported (onnx_export_problem): upsample
// pixel_shuffle, heads conv3x3, residual, learned LR upsampler.
//
// The model's facesr metadata travels in the ONNX file's metadata_props: every key of the weights
// file's safetensors metadata as "facesr.<key>" with the same value text (architecture, crop_rule
// with its per-detector variants, normalization, training, evaluation, ...), plus
// "facesr.onnx_source" (the weights file's name), "facesr.onnx_batch" and "facesr.onnx_pixel_shuffle".
//
// No LibTorch or ONNX types here; the implementation (onnx_export.cpp) needs both (Debian's
// libonnx-dev), so it is built only where the ONNX library is found (training/meson.build).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "metadata.h"

namespace facesr {

// The ONNX operator set the graph uses: 11. Its operators: Conv, LeakyRelu, Relu, DepthToSpace
// (CRD; or ConvTranspose, OnnxPixelShuffle), Concat, Add, Pad (edge), and for clamp(x, -1, 1)
// HardSigmoid, Mul, Sub (OpenCV 4.6 cannot read opset 11's Clip; onnx_export.cpp). OpenCV 4.6's DNN
// importer runs both forms (tests/onnx/); all of these operators are in TensorRT's, OpenVINO's and
// ONNX Runtime's opset-11 support lists.
constexpr int64_t kOnnxOpset = 11;
// ONNX IR version 6 (ONNX 1.6), the one that came with opset 11: readable by older runtimes too.
constexpr int64_t kOnnxIrVersion = 6;

constexpr const char* kOnnxInputName = "input";
constexpr const char* kOnnxSharpName = "sharp";
constexpr const char* kOnnxBlurredName = "blurred";
// metadata_props keys are this prefix + the safetensors metadata key ("facesr.crop_rule", ...).
constexpr const char* kOnnxMetadataPrefix = "facesr.";

constexpr int64_t kMaxOnnxBatch = 256;

// How the graph writes PixelShuffle(2) (and the bicubic base's PixelShuffle(scale)). Same values.
enum class OnnxPixelShuffle {
  DepthToSpace,   // DepthToSpace mode CRD: the standard form, native in TensorRT, OpenVINO, ONNX Runtime
  ConvTranspose,  // a grouped ConvTranspose with 0/1 weights (exact): for OpenCV DNN, whose DepthToSpace
                  // is a slow 6-D Permute; about 1.5x faster there (bench-onnx, docs/onnx.md)
};
std::string to_string(OnnxPixelShuffle form);                          // "depth_to_space" | "conv_transpose"
OnnxPixelShuffle onnx_pixel_shuffle_from_string(const std::string& name);  // throws Error(Input)

struct OnnxExportOptions {
  int64_t batch = 1;     // the graph's fixed batch N, 1 .. kMaxOnnxBatch
  bool blurred = false;  // also output the blurred-HR branch as "blurred"
  OnnxPixelShuffle pixel_shuffle = OnnxPixelShuffle::DepthToSpace;
};

struct OnnxExportSummary {
  int64_t input_size = 0;  // S
  int64_t scale = 0;       // 256 / S
  int64_t batch = 0;
  int64_t nodes = 0;       // graph nodes written
  int64_t parameters = 0;  // float weights written (the bicubic kernels included)
  std::size_t bytes = 0;   // size of the file written
};

// Empty when export_onnx can write a model of this architecture; else a sentence naming the
// unsupported field(s) and what is supported.
std::string onnx_export_problem(const Architecture& architecture);

// Reads `weights_path` (weights.h load_generator: every name and shape checked), folds its batch
// norms as the engine does, and writes the ONNX graph to `onnx_path` (a temporary file renamed into
// place). The graph is checked with ONNX's own checker before it is written.
// Throws facesr::Error: Kind::ModelFile for an unreadable weights file or an unsupported
// configuration (the message says which field), Kind::Input for bad options, Kind::Internal for a
// failed write or check.
OnnxExportSummary export_onnx(const std::string& weights_path, const std::string& onnx_path,
                              const OnnxExportOptions& options = {});

}  // namespace facesr
