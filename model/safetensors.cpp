#include "safetensors.h"

#include "text_limits.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>

#include <nlohmann/json.hpp>

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "safetensors is little-endian; this reader maps bytes directly");

namespace facesr {
namespace {

using nlohmann::json;

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw WeightsError(source + ": " + what);
}

DType parse_dtype(const std::string& source, const std::string& tensor, const json& value) {
  if (!value.is_string()) fail(source, "tensor '" + tensor + "': dtype is not a string");
  const auto& name = value.get_ref<const std::string&>();
  for (auto dtype : {DType::F32, DType::F16, DType::BF16, DType::U8})
    if (to_string(dtype) == name) return dtype;
  fail(source, "tensor '" + tensor + "': unsupported dtype '" + name +
                   "' (facesr files hold F32, F16, BF16 or U8)");
}

std::vector<int64_t> parse_shape(const std::string& source, const std::string& tensor,
                                 const json& value) {
  if (!value.is_array() || value.size() > 8)
    fail(source, "tensor '" + tensor + "': shape must be an array of at most 8 dimensions");
  std::vector<int64_t> shape;
  for (const auto& dim : value) {
    if (!dim.is_number_unsigned() || dim.get<uint64_t>() > (uint64_t{1} << 31))
      fail(source, "tensor '" + tensor + "': shape holds " + dim.dump() +
                       ", not a dimension in [0, 2^31]");
    shape.push_back(static_cast<int64_t>(dim.get<uint64_t>()));
  }
  return shape;
}

// Byte size of a tensor, or fails if it overflows 64 bits.
uint64_t byte_size(const std::string& source, const TensorRecord& record) {
  uint64_t bytes = dtype_size(record.dtype);
  for (int64_t dim : record.shape) {
    if (dim != 0 && bytes > std::numeric_limits<uint64_t>::max() / static_cast<uint64_t>(dim))
      fail(source, "tensor '" + record.name + "': shape overflows 64-bit byte count");
    bytes *= static_cast<uint64_t>(dim);
  }
  return bytes;
}

TensorRecord parse_tensor(const std::string& source, const std::string& name, const json& entry,
                          uint64_t data_size) {
  if (name.empty()) fail(source, "a tensor has an empty name");
  if (!entry.is_object()) fail(source, "tensor '" + name + "': entry is not a JSON object");
  for (const char* field : {"dtype", "shape", "data_offsets"})
    if (!entry.contains(field)) fail(source, "tensor '" + name + "': missing field '" + field + "'");
  TensorRecord record;
  record.name = name;
  record.dtype = parse_dtype(source, name, entry["dtype"]);
  record.shape = parse_shape(source, name, entry["shape"]);
  const auto& offsets = entry["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
      !offsets[1].is_number_unsigned())
    fail(source, "tensor '" + name + "': data_offsets must be two non-negative integers");
  record.begin = offsets[0].get<uint64_t>();
  record.end = offsets[1].get<uint64_t>();
  if (record.begin > record.end || record.end > data_size)
    fail(source, "tensor '" + name + "': data_offsets [" + std::to_string(record.begin) + ", " +
                     std::to_string(record.end) + ") out of range of the " +
                     std::to_string(data_size) + "-byte data section (truncated file?)");
  const uint64_t expected = byte_size(source, record);
  if (record.end - record.begin != expected)
    fail(source, "tensor '" + name + "': holds " + std::to_string(record.end - record.begin) +
                     " bytes but dtype " + to_string(record.dtype) + " and its shape need " +
                     std::to_string(expected));
  return record;
}

}  // namespace

std::size_t dtype_size(DType dtype) {
  switch (dtype) {
    case DType::F32: return 4;
    case DType::F16:
    case DType::BF16: return 2;
    case DType::U8: return 1;
  }
  return 1;
}

std::string to_string(DType dtype) {
  switch (dtype) {
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::U8: return "U8";
  }
  return "?";
}

int64_t TensorRecord::numel() const {
  int64_t n = 1;
  for (int64_t dim : shape) n *= dim;
  return n;
}

const TensorRecord* SafetensorsView::find(const std::string& name) const {
  for (const auto& record : tensors)
    if (record.name == name) return &record;
  return nullptr;
}

SafetensorsView parse_safetensors(const uint8_t* bytes, std::size_t size, const std::string& source) {
  if (size < 8)
    fail(source, "file is " + std::to_string(size) +
                     " bytes, too short for the 8-byte safetensors header length (truncated, or not a "
                     "safetensors file)");
  uint64_t header_size = 0;
  std::memcpy(&header_size, bytes, 8);
  if (header_size > size - 8)
    fail(source, "header length " + std::to_string(header_size) + " runs past the end of the " +
                     std::to_string(size) + "-byte file (truncated, or not a safetensors file)");
  if (header_size > kMaxHeaderBytes)
    fail(source, "header length " + std::to_string(header_size) + " exceeds the " +
                     std::to_string(kMaxHeaderBytes) + "-byte limit");

  const std::string deep = json_depth_violation(
      std::string_view(reinterpret_cast<const char*>(bytes + 8), static_cast<std::size_t>(header_size)));
  if (!deep.empty()) fail(source, "header is " + deep + " (not a safetensors file, or a crafted one)");
  json header;
  try {
    header = json::parse(bytes + 8, bytes + 8 + header_size);
  } catch (const json::exception& e) {
    fail(source, std::string("header is not valid JSON: ") + e.what());
  }
  if (!header.is_object()) fail(source, "header is JSON but not an object");

  SafetensorsView view;
  view.data = bytes + 8 + header_size;
  view.data_size = size - 8 - header_size;
  for (const auto& [key, value] : header.items()) {
    if (key == "__metadata__") {
      if (!value.is_object()) fail(source, "__metadata__ is not a JSON object");
      for (const auto& [meta_key, meta_value] : value.items()) {
        if (!meta_value.is_string())
          fail(source, "__metadata__ field '" + meta_key + "' is not a string");
        view.metadata[meta_key] = meta_value.get<std::string>();
      }
      continue;
    }
    view.tensors.push_back(parse_tensor(source, key, value, view.data_size));
  }

  std::sort(view.tensors.begin(), view.tensors.end(),
            [](const TensorRecord& a, const TensorRecord& b) {
              return a.begin != b.begin ? a.begin < b.begin : a.end < b.end;
            });
  uint64_t covered = 0;
  const TensorRecord* previous = nullptr;
  for (const auto& record : view.tensors) {
    if (record.begin < covered)
      fail(source, "tensors '" + previous->name + "' and '" + record.name + "' overlap in the data section");
    if (record.begin > covered)
      fail(source, "data section has a hole of " + std::to_string(record.begin - covered) +
                       " bytes before tensor '" + record.name + "'");
    covered = record.end;
    previous = &record;
  }
  if (covered != view.data_size)
    fail(source, "data section holds " + std::to_string(view.data_size - covered) +
                     " bytes that no tensor uses (corrupt file?)");
  return view;
}

std::vector<uint8_t> read_file_bytes(const std::string& path) {
  // The type first: a directory opens and "reads" as an absurd size, and a FIFO blocks for ever.
  struct stat info {};
  if (::stat(path.c_str(), &info) != 0) throw WeightsError(path + ": cannot open: " + std::strerror(errno));
  if (S_ISDIR(info.st_mode))
    throw WeightsError(path + ": is a directory, not a weights file (give the .safetensors file in it)");
  if (!S_ISREG(info.st_mode))
    throw WeightsError(path + ": is not a regular file (a FIFO, socket or device); give a .safetensors file");
  if (static_cast<uint64_t>(info.st_size) > kMaxFileBytes)
    throw WeightsError(path + ": is " + std::to_string(info.st_size >> 20) + " MB, more than the " +
                       std::to_string(kMaxFileBytes >> 20) + " MB a facesr weights file may have");
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) throw WeightsError(path + ": cannot open: " + std::strerror(errno));
  const auto size = in.tellg();
  if (size < 0) throw WeightsError(path + ": cannot read (is it a regular file?)");
  std::vector<uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  if (!in.read(reinterpret_cast<char*>(bytes.data()), size))
    throw WeightsError(path + ": read failed: " + std::strerror(errno));
  return bytes;
}

void write_safetensors(const std::string& path, const std::map<std::string, std::string>& metadata,
                       const std::vector<TensorToWrite>& tensors) {
  json header = json::object();
  header["__metadata__"] = metadata;
  uint64_t offset = 0;
  std::vector<uint64_t> sizes;
  for (const auto& tensor : tensors) {
    TensorRecord record{tensor.name, tensor.dtype, tensor.shape, 0, 0};
    const uint64_t bytes = byte_size(path, record);
    header[tensor.name] = {{"dtype", to_string(tensor.dtype)},
                           {"shape", tensor.shape},
                           {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
    sizes.push_back(bytes);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // align the data section to 8 bytes

  const std::string temp = path + ".tmp." + std::to_string(::getpid());
  const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw WeightsError(temp + ": cannot create: " + std::strerror(errno));
  auto write_all = [&](const void* data, std::size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    while (n > 0) {
      const ssize_t written = ::write(fd, p, n);
      if (written < 0 && errno == EINTR) continue;
      if (written <= 0) {
        const std::string err = std::strerror(errno);
        ::close(fd);
        ::unlink(temp.c_str());
        throw WeightsError(temp + ": write failed: " + err);
      }
      p += written;
      n -= static_cast<std::size_t>(written);
    }
  };
  const uint64_t header_size = header_text.size();
  write_all(&header_size, 8);
  write_all(header_text.data(), header_text.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) write_all(tensors[i].data, sizes[i]);
  const bool synced = ::fsync(fd) == 0;
  const int sync_errno = errno;
  if (::close(fd) != 0 || !synced) {
    const std::string err = std::strerror(synced ? errno : sync_errno);
    ::unlink(temp.c_str());
    throw WeightsError(temp + ": flush failed: " + err);
  }
  if (::rename(temp.c_str(), path.c_str()) != 0) {
    const std::string err = std::strerror(errno);
    ::unlink(temp.c_str());
    throw WeightsError(path + ": cannot rename the temporary file into place: " + err);
  }
}

}  // namespace facesr
