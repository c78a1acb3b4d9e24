// Reading and writing the safetensors container (https://huggingface.co/docs/safetensors): an 8-byte
// little-endian header length N, N bytes of JSON, then the raw tensor bytes. This layer knows
// nothing about networks and does not use LibTorch, so it can be fuzzed on its own
// (tests/fuzz_safetensors.cpp). model/weights.h maps a parsed file onto the generator.
//
// The parser never trusts a size from the file: the header length is checked against the file size,
// every offset against the data section, every byte count against dtype x shape, and the tensors must
// tile the data section exactly (no overlap, no hole, as the format requires). Any violation throws
// WeightsError with a message that names the file, the tensor and the problem.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "error.h"

namespace facesr {

class WeightsError : public Error {
 public:
  explicit WeightsError(const std::string& message) : Error(Kind::ModelFile, message) {}
};

// Model weights use the float types; U8 is for packed training datasets (training/dataset.h).
enum class DType { F32, F16, BF16, U8 };
std::size_t dtype_size(DType dtype);
std::string to_string(DType dtype);

struct TensorRecord {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  uint64_t begin = 0;  // byte offsets into the data section, [begin, end)
  uint64_t end = 0;
  int64_t numel() const;
};

// A parsed file. `data` points into the buffer given to parse_safetensors, which must outlive it.
struct SafetensorsView {
  std::map<std::string, std::string> metadata;  // the __metadata__ block (string -> string)
  std::vector<TensorRecord> tensors;            // sorted by offset
  const uint8_t* data = nullptr;                // start of the data section
  std::size_t data_size = 0;

  const TensorRecord* find(const std::string& name) const;  // nullptr when absent
  const uint8_t* bytes(const TensorRecord& record) const { return data + record.begin; }
};

// Largest header accepted; real headers are a few kB per hundred tensors.
constexpr uint64_t kMaxHeaderBytes = 64ull << 20;

// `source` names the file in error messages.
SafetensorsView parse_safetensors(const uint8_t* bytes, std::size_t size, const std::string& source);

// Largest file read_file_bytes accepts (VGG-19's torch.save file, the largest read, is 548 MB).
constexpr uint64_t kMaxFileBytes = 4ull << 30;

// Reads a whole regular file; throws WeightsError naming the path and what is wrong (missing, a
// directory, a FIFO or device, larger than kMaxFileBytes, a system error).
std::vector<uint8_t> read_file_bytes(const std::string& path);

struct TensorToWrite {
  std::string name;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;
  const void* data = nullptr;  // dtype_size(dtype) * numel bytes, little-endian
};

// Writes `path` atomically: a temporary file in the same directory, flushed and fsync'ed, then
// renamed over `path`, so a reader or a crash never sees a half-written file.
void write_safetensors(const std::string& path, const std::map<std::string, std::string>& metadata,
                       const std::vector<TensorToWrite>& tensors);

}  // namespace facesr
