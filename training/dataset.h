// The packed face dataset that facesr-prepare writes and facesr-train / facesr-eval read with
// LibTorch alone (no OpenCV or dlib where training runs).
//
// One safetensors file (model/safetensors.h), memory-mapped when read:
//   images  U8 [N, 256, 256, 3]  RGB face crops, cut by the crop rule and resized to 256x256
//   masks   U8 [N, 256, 256]     face region, 255 inside (landmark hull with forehead, or ellipse)
//   splits  U8 [N]               0 = train, 1 = validation, 2 = test (split by source photo)
//   __metadata__: format "facesr-dataset", format_version "1", crop_rule (JSON, as in model
//   metadata), faces (JSON array, per face: source file, box [x, y, w, h] in the source photo, mask
//   kind), summary (JSON object: what facesr-prepare read, kept and skipped, and why).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <torch/torch.h>

#include "metadata.h"

namespace facesr {

enum class Split : uint8_t { Train = 0, Validation = 1, Test = 2 };
std::string to_string(Split split);

struct FaceRecord {
  std::string source;               // photo the face came from
  double box[4] = {0, 0, 0, 0};     // face box in that photo: x, y, width, height
  std::string mask_kind = "ellipse";  // "landmarks" | "ellipse" | "given"
  Split split = Split::Train;
};

constexpr int64_t kDatasetSide = 256;

// Writes the dataset atomically. images: N x 256 x 256 x 3 bytes; masks: N x 256 x 256 bytes.
void write_dataset(const std::string& path, const std::vector<uint8_t>& images, const std::vector<uint8_t>& masks,
                   const std::vector<FaceRecord>& faces, const CropRule& crop_rule, const std::string& summary_json);

class Dataset {
 public:
  // Throws WeightsError (model/safetensors.h) naming the file and the problem.
  static std::shared_ptr<Dataset> open(const std::string& path);
  ~Dataset();

  int64_t size() const { return static_cast<int64_t>(faces_.size()); }
  std::vector<int64_t> indices(Split split) const;
  const std::vector<FaceRecord>& faces() const { return faces_; }
  const CropRule& crop_rule() const { return crop_rule_; }
  const std::string& summary_json() const { return summary_; }
  const std::string& path() const { return path_; }

  // Faces as float tensors on the CPU: hr N x 3 x 256 x 256 in [-1, 1], mask N x 1 x 256 x 256 in [0, 1].
  struct Batch {
    torch::Tensor hr;
    torch::Tensor mask;
  };
  Batch batch(const std::vector<int64_t>& indices) const;

 private:
  Dataset() = default;
  std::string path_;
  void* mapping_ = nullptr;
  std::size_t mapped_size_ = 0;
  const uint8_t* images_ = nullptr;
  const uint8_t* masks_ = nullptr;
  std::vector<FaceRecord> faces_;
  CropRule crop_rule_;
  std::string summary_;
};

}  // namespace facesr
