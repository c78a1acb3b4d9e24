// The packed face dataset that facesr-prepare writes and facesr-train / facesr-eval read with
// LibTorch alone (no OpenCV or dlib where training runs).
//
// One safetensors file (model/safetensors.h), memory-mapped when read, in one of two storages:
//   raw (format_version 1; photos):
//     images  U8 [N, 256, 256, 3]  RGB face crops, cut by the crop rule and resized to 256x256
//     masks   U8 [N, 256, 256]     face region, 255 inside (landmark hull with forehead, or ellipse)
//   jpeg (format_version 2; aligned face crops such as CelebA's, 8,593 of them in 150 MB instead of 2.2 GB):
//     jpeg    U8 [total bytes]     each face's 256x256 JPEG file, byte for byte as it was read; the
//                                  metadata field jpeg_offsets (JSON array of N + 1 byte offsets)
//                                  delimits them; decoded per batch (stb_image)
//     masks   U8 [N, S, S]         face region at S x S (S = 64), resized bilinearly to 256 per batch
//   both:
//     splits  U8 [N]               0 = train, 1 = validation, 2 = test (split by source photo)
//   __metadata__: format "facesr-dataset", format_version, crop_rule (JSON, as in model metadata,
//   with its per-detector variants), faces (JSON array, per face: source file, box [x, y, w, h] in the
//   source photo, mask kind), summary (JSON object: what facesr-prepare read, kept and skipped, and why).
// Memory of a reader: the mapping (pages the kernel may drop) and one batch.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>
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

constexpr int64_t kJpegMaskSide = 64;  // masks of the jpeg storage (smooth regions: nothing is lost)

// The crop rule a dataset (and the model trained on it) carries: the rule, and variants for named
// detectors whose boxes frame faces differently (metadata.h).
struct DatasetCropRules {
  CropRule rule;
  std::map<std::string, CropRule> by_detector;
};

// Writes the dataset atomically (raw storage). images: N x 256 x 256 x 3 bytes; masks: N x 256 x 256 bytes.
void write_dataset(const std::string& path, const std::vector<uint8_t>& images, const std::vector<uint8_t>& masks,
                   const std::vector<FaceRecord>& faces, const CropRule& crop_rule, const std::string& summary_json);

// Writes the dataset atomically (jpeg storage). jpegs: one 256x256 JPEG file's bytes per face;
// masks: N x kJpegMaskSide x kJpegMaskSide bytes.
void write_jpeg_dataset(const std::string& path, const std::vector<std::vector<uint8_t>>& jpegs,
                        const std::vector<uint8_t>& masks, const std::vector<FaceRecord>& faces,
                        const DatasetCropRules& crop_rules, const std::string& summary_json);

class Dataset {
 public:
  // Throws WeightsError (model/safetensors.h) naming the file and the problem.
  static std::shared_ptr<Dataset> open(const std::string& path);
  ~Dataset();

  int64_t size() const { return static_cast<int64_t>(faces_.size()); }
  std::vector<int64_t> indices(Split split) const;
  const std::vector<FaceRecord>& faces() const { return faces_; }
  const CropRule& crop_rule() const { return crop_rules_.rule; }
  const DatasetCropRules& crop_rules() const { return crop_rules_; }
  bool jpeg_storage() const { return jpeg_ != nullptr; }
  const std::string& summary_json() const { return summary_; }
  const std::string& path() const { return path_; }
  // Jpeg storage only: face k's JPEG file as stored, and its mask (mask_side() squared bytes).
  std::pair<const uint8_t*, std::size_t> jpeg_file(int64_t k) const;
  const uint8_t* mask_bytes(int64_t k) const;
  int64_t mask_side() const { return mask_side_; }

  // Faces as float tensors on the CPU: hr N x 3 x 256 x 256 in [-1, 1], mask N x 1 x 256 x 256 in [0, 1].
  // JPEGs are decoded on LibTorch's intra-op threads (a GPU's steps outrun one core's decoding).
  // Throws WeightsError naming the face when a stored JPEG does not decode to 256x256.
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
  int64_t mask_side_ = kDatasetSide;
  const uint8_t* jpeg_ = nullptr;       // jpeg storage: the files, delimited by jpeg_offsets_
  std::vector<uint64_t> jpeg_offsets_;
  std::vector<FaceRecord> faces_;
  DatasetCropRules crop_rules_;
  std::string summary_;
};

}  // namespace facesr
