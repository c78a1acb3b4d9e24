// facesr-export: a facesr weights file as a standard ONNX graph (model/onnx_export.h, docs/onnx.md),
// for TensorRT / DeepStream nvinfer, OpenVINO, ONNX Runtime and OpenCV DNN.
//
//   facesr-export model/weights/facesr-default.safetensors                 (-> facesr-default.onnx beside it)
//   facesr-export model/weights/facesr-default.safetensors -o out/facesr-b8.onnx --batch 8 --blurred
//   facesr-export model/weights/facesr-default.safetensors --pixel-shuffle conv_transpose   (for OpenCV DNN)
#include <cstdio>
#include <filesystem>
#include <string>

#include <CLI/CLI.hpp>

#include "onnx_export.h"

int main(int argc, char** argv) {
  CLI::App app{"Write a facesr weights file as an ONNX graph (opset " + std::to_string(facesr::kOnnxOpset) +
               "): input \"input\" N x 3 x S x S in [-1, 1], output \"sharp\" N x 3 x 256 x 256."};
  std::string weights, output;
  facesr::OnnxExportOptions options;
  // The facesr weights file (.safetensors) to export.
  app.add_option("weights", weights, "facesr weights file (.safetensors)")->required()->check(CLI::ExistingFile);
  // Where to write the graph; default: the weights file's path with the extension .onnx.
  app.add_option("-o,--output", output, "ONNX file to write (default: WEIGHTS with .onnx)");
  // The graph's fixed batch: TensorRT and OpenCV want a fixed one; nvinfer's batch-size must match it.
  app.add_option("--batch", options.batch, "fixed batch N of the graph")
      ->check(CLI::Range(int64_t{1}, facesr::kMaxOnnxBatch));
  // Also output the blurred-HR branch (the upper decoder's image); costs one 3x3 conv more.
  app.add_flag("--blurred", options.blurred, "also output \"blurred\" (N x 3 x 256 x 256)");
  // depth_to_space: the standard DepthToSpace (CRD) op, native in TensorRT, OpenVINO and ONNX Runtime;
  // conv_transpose: the same values from a 0/1-weight grouped ConvTranspose, faster in OpenCV DNN.
  std::string pixel_shuffle = "depth_to_space";
  app.add_option("--pixel-shuffle", pixel_shuffle, "how PixelShuffle is written: depth_to_space or conv_transpose")
      ->check(CLI::IsMember({"depth_to_space", "conv_transpose"}));
  CLI11_PARSE(app, argc, argv);
  options.pixel_shuffle = facesr::onnx_pixel_shuffle_from_string(pixel_shuffle);
  if (output.empty()) output = std::filesystem::path(weights).replace_extension(".onnx").string();
  try {
    const facesr::OnnxExportSummary s = facesr::export_onnx(weights, output, options);
    std::printf("facesr-export: %s: opset %lld, input \"%s\" %lld x 3 x %lld x %lld (scale %lld), output \"%s\"%s "
                "%lld x 3 x 256 x 256; %lld nodes, %lld weights, %zu bytes\n",
                output.c_str(), static_cast<long long>(facesr::kOnnxOpset), facesr::kOnnxInputName,
                static_cast<long long>(s.batch), static_cast<long long>(s.input_size),
                static_cast<long long>(s.input_size), static_cast<long long>(s.scale), facesr::kOnnxSharpName,
                options.blurred ? " and \"blurred\"" : "", static_cast<long long>(s.batch),
                static_cast<long long>(s.nodes), static_cast<long long>(s.parameters), s.bytes);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-export: %s\n", e.what());
    return 1;
  }
  return 0;
}
