// dlib's ResNet-34 face descriptor (dlib_face_recognition_resnet_model_v1: 128-D, two photos of one
// person closer than 0.6 in Euclidean distance), rebuilt in LibTorch as face-api runs it (npm
// @vladmandic/face-api@1.7.15, src/faceRecognitionNet; MIT; the weights are dlib's, public domain),
// so that facesr-eval can ask whether an enhanced face is still the same person.
//
//   RGB 150x150 in 0..255 -> minus the mean (122.782, 117.001, 104.298), / 255
//   conv32_down   7x7/2 "valid" conv + scale, ReLU -> max pool 3x3/2 "valid"
//   conv32_1..3   residual: 3x3 conv+scale ReLU, 3x3 conv+scale, + x, ReLU ("same" padding)
//   conv64_down   residual down: 3x3/2 "valid" conv ... ; shortcut: 2x2/2 average pool, channels
//                 zero-padded; where the two sides differ by one pixel the conv side gets a zero row
//                 and column at the bottom and right (face-api's residualDown)
//   conv64_1..3, conv128_down, conv128_1..2, conv256_down, conv256_1..2, conv256_down_out
//   mean over the 2x2 map -> fc 256x128 (no bias). "conv + scale" is conv + bias, then x * w + b.
//
// Weights: face-api's TF.js files model/face_recognition_model-weights_manifest.json and
// face_recognition_model.bin (scripts/fetch-identity-model.sh fetches them with npm into
// out/models/face-api; never committed). tests/fixtures/face_descriptor_reference.cjs computed the
// reference descriptors the test compares with, with face-api itself under Node.
#pragma once

#include <string>
#include <vector>

#include <torch/torch.h>

namespace facesr {

constexpr int64_t kFaceDescriptorSize = 128;
constexpr int64_t kFaceChipSide = 150;              // the network's input side
constexpr double kSamePersonDistance = 0.6;         // dlib's and face-api's threshold
constexpr const char* kFaceDescriptorManifest = "face_recognition_model-weights_manifest.json";

class FaceDescriptorNetImpl : public torch::nn::Module {
 public:
  FaceDescriptorNetImpl();

  // images: N x 3 x H x W, RGB in [-1, 1] (the facesr convention), rounded to 8-bit levels as a
  // saved image would be, then resized to 150 x 150 when they are not (bilinear, antialiased when
  // shrinking). Returns N x 128 descriptors (float32, on the input's device).
  torch::Tensor forward(const torch::Tensor& images);

  // The network proper: N x 3 x 150 x 150 RGB in 0..255 (float). Returns N x 128.
  torch::Tensor forward_rgb255(const torch::Tensor& rgb);

  // The tensor names of face-api's manifest with their TF.js shapes (filters H x W x in x out), in
  // the order the manifest lists them: 117 tensors.
  static std::vector<std::pair<std::string, std::vector<int64_t>>> expected_tensors();

 private:
  friend void load_face_descriptor_weights(FaceDescriptorNetImpl&, const std::string&);
  struct ConvLayer {
    torch::Tensor weight, bias, scale, shift;  // weight out x in x k x k
  };
  torch::Tensor conv(const torch::Tensor& x, const ConvLayer& c, int64_t stride, bool relu) const;
  torch::Tensor residual(const torch::Tensor& x, const std::string& name) const;
  torch::Tensor residual_down(const torch::Tensor& x, const std::string& name) const;
  const ConvLayer& layer(const std::string& name) const;

  std::vector<std::pair<std::string, ConvLayer>> layers_;  // "conv32_down", "conv32_1/conv1", ...
  torch::Tensor fc_;                                       // 256 x 128
};
TORCH_MODULE(FaceDescriptorNet);

// Loads face-api's weights: `path` is the manifest (.json) or a folder holding it; the shard files it
// names are read from the manifest's folder. Strict: every tensor of expected_tensors() present once
// with its shape, no other tensor, each stored as float32 or as uint8/uint16 quantized (value = q *
// scale + min) or float16, the shards exactly as long as the manifest says, and no value that is not
// finite. Anything else throws WeightsError naming the file, the tensor and what to do. Freezes the
// network and puts it in eval mode.
void load_face_descriptor_weights(FaceDescriptorNetImpl& net, const std::string& path);

// out/models/face-api under the source tree, or $FACESR_IDENTITY_MODEL when set: where
// scripts/fetch-identity-model.sh puts the weights.
std::string default_face_descriptor_path();

// Per-row cosine similarity and Euclidean distance of two N x 128 descriptor sets.
torch::Tensor descriptor_cosine(const torch::Tensor& a, const torch::Tensor& b);
torch::Tensor descriptor_distance(const torch::Tensor& a, const torch::Tensor& b);

// The Frechet distance (FID's formula, metrics.h) between the Gaussians of two descriptor sets
// (N x 128 and M x 128, N, M >= 2): how far one set of faces lies from another in this network's
// feature space. Not FID (other features), not comparable with published FIDs.
double descriptor_frechet_distance(const torch::Tensor& a, const torch::Tensor& b);

}  // namespace facesr
