#include "dataset.h"

#include "text_limits.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>

#include "image_decode.h"
#include "safetensors.h"

namespace facesr {
namespace {

using nlohmann::json;
constexpr const char* kFormat = "facesr-dataset";
constexpr int64_t kImageBytes = kDatasetSide * kDatasetSide * 3;
constexpr int64_t kMaskBytes = kDatasetSide * kDatasetSide;

[[noreturn]] void fail(const std::string& path, const std::string& what) { throw WeightsError(path + ": " + what); }

const TensorRecord& require(const SafetensorsView& view, const std::string& path, const std::string& name,
                            DType dtype, const std::vector<int64_t>& shape) {
  const TensorRecord* record = view.find(name);
  if (!record) fail(path, "dataset has no '" + name + "' tensor (not a facesr-prepare dataset?)");
  if (record->dtype != dtype || record->shape != shape)
    fail(path, "dataset tensor '" + name + "' has dtype " + to_string(record->dtype) + " and shape " +
                   c10::str(c10::IntArrayRef(record->shape)) + ", expected " + to_string(dtype) + " " +
                   c10::str(c10::IntArrayRef(shape)));
  return *record;
}

}  // namespace

std::string to_string(Split split) {
  switch (split) {
    case Split::Train: return "train";
    case Split::Validation: return "validation";
    case Split::Test: return "test";
  }
  return "?";
}

namespace {

// The metadata both storages write, and the splits tensor.
std::map<std::string, std::string> dataset_metadata(const std::vector<FaceRecord>& faces,
                                                    const DatasetCropRules& crop_rules, const std::string& summary_json,
                                                    const std::string& version, std::vector<uint8_t>* splits) {
  json records = json::array();
  for (const auto& f : faces) {
    splits->push_back(static_cast<uint8_t>(f.split));
    records.push_back({{"source", f.source}, {"box", {f.box[0], f.box[1], f.box[2], f.box[3]}}, {"mask", f.mask_kind}});
  }
  ModelMetadata crop_holder;
  crop_holder.crop_rule = crop_rules.rule;
  crop_holder.crop_rule_by_detector = crop_rules.by_detector;
  return {{"format", kFormat},
          {"format_version", version},
          {"crop_rule", to_safetensors_metadata(crop_holder).at("crop_rule")},
          {"faces", records.dump()},
          {"summary", summary_json}};
}

}  // namespace

void write_dataset(const std::string& path, const std::vector<uint8_t>& images, const std::vector<uint8_t>& masks,
                   const std::vector<FaceRecord>& faces, const CropRule& crop_rule, const std::string& summary_json) {
  const int64_t n = static_cast<int64_t>(faces.size());
  if (static_cast<int64_t>(images.size()) != n * kImageBytes || static_cast<int64_t>(masks.size()) != n * kMaskBytes)
    throw std::invalid_argument("write_dataset: images/masks sizes do not match " + std::to_string(n) + " faces");
  std::vector<uint8_t> splits;
  const auto metadata = dataset_metadata(faces, {crop_rule, {}}, summary_json, "1", &splits);
  write_safetensors(path, metadata,
                    {{"images", DType::U8, {n, kDatasetSide, kDatasetSide, 3}, images.data()},
                     {"masks", DType::U8, {n, kDatasetSide, kDatasetSide}, masks.data()},
                     {"splits", DType::U8, {n}, splits.data()}});
}

void write_jpeg_dataset(const std::string& path, const std::vector<std::vector<uint8_t>>& jpegs,
                        const std::vector<uint8_t>& masks, const std::vector<FaceRecord>& faces,
                        const DatasetCropRules& crop_rules, const std::string& summary_json) {
  const int64_t n = static_cast<int64_t>(faces.size());
  if (static_cast<int64_t>(jpegs.size()) != n || static_cast<int64_t>(masks.size()) != n * kJpegMaskSide * kJpegMaskSide)
    throw std::invalid_argument("write_jpeg_dataset: jpegs/masks sizes do not match " + std::to_string(n) + " faces");
  std::vector<uint8_t> splits, bytes;
  auto metadata = dataset_metadata(faces, crop_rules, summary_json, "2", &splits);
  json offsets = json::array({0});
  for (const auto& jpeg : jpegs) {
    bytes.insert(bytes.end(), jpeg.begin(), jpeg.end());
    offsets.push_back(bytes.size());
  }
  metadata["jpeg_offsets"] = offsets.dump();
  write_safetensors(path, metadata,
                    {{"jpeg", DType::U8, {static_cast<int64_t>(bytes.size())}, bytes.data()},
                     {"masks", DType::U8, {n, kJpegMaskSide, kJpegMaskSide}, masks.data()},
                     {"splits", DType::U8, {n}, splits.data()}});
}

std::shared_ptr<Dataset> Dataset::open(const std::string& path) {
  std::shared_ptr<Dataset> d(new Dataset());
  d->path_ = path;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) fail(path, std::string("cannot open dataset: ") + std::strerror(errno) + " (make one with facesr-prepare)");
  struct stat st {};
  if (::fstat(fd, &st) != 0 || st.st_size <= 0) {
    ::close(fd);
    fail(path, "empty or unreadable dataset file");
  }
  d->mapped_size_ = static_cast<std::size_t>(st.st_size);
  d->mapping_ = ::mmap(nullptr, d->mapped_size_, PROT_READ, MAP_PRIVATE, fd, 0);
  ::close(fd);
  if (d->mapping_ == MAP_FAILED) {
    d->mapping_ = nullptr;
    fail(path, std::string("cannot map dataset: ") + std::strerror(errno));
  }
  const SafetensorsView view = parse_safetensors(static_cast<const uint8_t*>(d->mapping_), d->mapped_size_, path);
  auto format = view.metadata.find("format");
  if (format == view.metadata.end() || format->second != kFormat)
    fail(path, "not a facesr dataset (metadata 'format' is not \"facesr-dataset\")");
  for (const char* key : {"faces", "jpeg_offsets", "summary", "crop_rule"})
    if (const auto field = view.metadata.find(key); field != view.metadata.end())
      if (const std::string deep = json_depth_violation(field->second); !deep.empty())
        fail(path, std::string("dataset metadata '") + key + "' is " + deep + ": not a facesr dataset, or a crafted one");
  json records;
  try {
    records = json::parse(view.metadata.at("faces"));
    d->summary_ = view.metadata.count("summary") ? view.metadata.at("summary") : "{}";
    std::map<std::string, std::string> crop_fields = to_safetensors_metadata(ModelMetadata{});
    crop_fields["crop_rule"] = view.metadata.at("crop_rule");
    const ModelMetadata crop = from_safetensors_metadata(crop_fields, path);
    d->crop_rules_ = {crop.crop_rule, crop.crop_rule_by_detector};
  } catch (const std::exception& e) {
    fail(path, std::string("dataset metadata is malformed: ") + e.what());
  }
  if (!records.is_array()) fail(path, "dataset metadata 'faces' is not an array");
  const int64_t n = static_cast<int64_t>(records.size());
  // Copies, not references: GCC 13 warns (falsely) that a reference would dangle past the shape list.
  if (const TensorRecord* jpeg = view.find("jpeg")) {
    d->mask_side_ = kJpegMaskSide;
    d->jpeg_ = view.bytes(*jpeg);
    try {
      d->jpeg_offsets_ = json::parse(view.metadata.at("jpeg_offsets")).get<std::vector<uint64_t>>();
    } catch (const std::exception& e) {
      fail(path, std::string("dataset metadata 'jpeg_offsets' is missing or malformed: ") + e.what());
    }
    if (jpeg->dtype != DType::U8 || jpeg->shape.size() != 1 || d->jpeg_offsets_.size() != static_cast<std::size_t>(n + 1) ||
        d->jpeg_offsets_.front() != 0 || d->jpeg_offsets_.back() != static_cast<uint64_t>(jpeg->numel()) ||
        !std::is_sorted(d->jpeg_offsets_.begin(), d->jpeg_offsets_.end()))
      fail(path, "dataset 'jpeg' tensor and its jpeg_offsets do not agree (" + std::to_string(n) +
                     " faces need " + std::to_string(n + 1) + " rising offsets from 0 to the tensor's size)");
  } else {
    const TensorRecord images = require(view, path, "images", DType::U8, {n, kDatasetSide, kDatasetSide, 3});
    d->images_ = view.bytes(images);
  }
  const TensorRecord masks = require(view, path, "masks", DType::U8, {n, d->mask_side_, d->mask_side_});
  const TensorRecord splits = require(view, path, "splits", DType::U8, {n});
  d->masks_ = view.bytes(masks);
  for (int64_t i = 0; i < n; ++i) {
    FaceRecord f;
    const auto& r = records[i];
    f.source = r.value("source", "");
    if (r.contains("box") && r["box"].is_array() && r["box"].size() == 4)
      for (int k = 0; k < 4; ++k) f.box[k] = r["box"][k].get<double>();
    f.mask_kind = r.value("mask", "ellipse");
    const uint8_t s = view.bytes(splits)[i];
    if (s > 2) fail(path, "face " + std::to_string(i) + " has split " + std::to_string(s) + " (expected 0, 1 or 2)");
    f.split = static_cast<Split>(s);
    d->faces_.push_back(f);
  }
  return d;
}

Dataset::~Dataset() {
  if (mapping_) ::munmap(mapping_, mapped_size_);
}

std::pair<const uint8_t*, std::size_t> Dataset::jpeg_file(int64_t k) const {
  if (jpeg_ == nullptr) throw std::logic_error(path_ + " stores raw pixels, not JPEG files");
  if (k < 0 || k >= size()) throw std::out_of_range("dataset index " + std::to_string(k) + " out of range");
  return {jpeg_ + jpeg_offsets_[k], jpeg_offsets_[k + 1] - jpeg_offsets_[k]};
}

const uint8_t* Dataset::mask_bytes(int64_t k) const {
  if (k < 0 || k >= size()) throw std::out_of_range("dataset index " + std::to_string(k) + " out of range");
  return masks_ + k * mask_side_ * mask_side_;
}

std::vector<int64_t> Dataset::indices(Split split) const {
  std::vector<int64_t> out;
  for (int64_t i = 0; i < size(); ++i)
    if (faces_[i].split == split) out.push_back(i);
  return out;
}

Dataset::Batch Dataset::batch(const std::vector<int64_t>& indices) const {
  const int64_t n = static_cast<int64_t>(indices.size());
  const int64_t mask_bytes = mask_side_ * mask_side_;
  auto images = torch::empty({n, kDatasetSide, kDatasetSide, 3}, torch::kUInt8);
  auto masks = torch::empty({n, 1, mask_side_, mask_side_}, torch::kUInt8);
  for (const int64_t k : indices)
    if (k < 0 || k >= size()) throw std::out_of_range("dataset index " + std::to_string(k) + " out of range");
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  at::parallel_for(0, n, 4, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const int64_t k = indices[i];
      uint8_t* image = images.data_ptr<uint8_t>() + i * kImageBytes;
      if (jpeg_ != nullptr)
        errors[i] = decode_rgb_image(jpeg_ + jpeg_offsets_[k], jpeg_offsets_[k + 1] - jpeg_offsets_[k], kDatasetSide,
                                     image);
      else
        std::memcpy(image, images_ + k * kImageBytes, kImageBytes);
      std::memcpy(masks.data_ptr<uint8_t>() + i * mask_bytes, masks_ + k * mask_bytes, mask_bytes);
    }
  });
  for (int64_t i = 0; i < n; ++i)
    if (!errors[i].empty()) fail(path_, "face " + std::to_string(indices[i]) + " (" + faces_[indices[i]].source + "): " + errors[i]);
  auto mask = masks.to(torch::kFloat32).div_(255.0);
  if (mask_side_ != kDatasetSide)
    mask = torch::nn::functional::interpolate(
        mask, torch::nn::functional::InterpolateFuncOptions()
                  .size(std::vector<int64_t>{kDatasetSide, kDatasetSide})
                  .mode(torch::kBilinear)
                  .align_corners(false));
  return {images.permute({0, 3, 1, 2}).to(torch::kFloat32).div_(127.5).sub_(1.0), mask};
}

}  // namespace facesr
