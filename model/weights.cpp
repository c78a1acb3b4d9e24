#include "weights.h"

#include <cstring>
#include <set>

namespace facesr {
namespace {

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw WeightsError(source + ": " + what);
}

bool is_stored(const std::string& name) {
  const std::string skipped = "num_batches_tracked";
  return name.size() < skipped.size() ||
         name.compare(name.size() - skipped.size(), skipped.size(), skipped) != 0;
}

torch::ScalarType scalar_type(DType dtype) {
  switch (dtype) {
    case DType::F32: return torch::kFloat32;
    case DType::F16: return torch::kFloat16;
    case DType::BF16: return torch::kBFloat16;
    case DType::U8: return torch::kUInt8;
  }
  return torch::kFloat32;
}

// Every stored tensor of the generator, by name.
std::map<std::string, torch::Tensor> stored_tensors(GeneratorImpl& generator) {
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& item : generator.named_parameters()) tensors[item.key()] = item.value();
  for (const auto& item : generator.named_buffers())
    if (is_stored(item.key())) tensors[item.key()] = item.value();
  return tensors;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return c10::str(c10::IntArrayRef(shape));
}

}  // namespace

GeneratorOptions generator_options(const Architecture& a) {
  try {
    GeneratorOptions options;
    options.ngf(a.ngf).depth(a.depth);
    options.lr_upsampler(lr_upsampler_from_string(a.lr_upsampler));
    options.upsample(upsample_mode_from_string(a.upsample));
    options.residual(a.residual);
    options.heads(head_mode_from_string(a.heads));
    options.scale(a.scale);
    validate(options);
    return options;
  } catch (const std::invalid_argument& e) {
    throw WeightsError(std::string("architecture in metadata: ") + e.what());
  }
}

Architecture architecture_of(const GeneratorOptions& options) {
  return {options.ngf(), options.depth(), to_string(options.lr_upsampler()),
          to_string(options.upsample()), options.residual(), to_string(options.heads()), options.scale()};
}

void save_generator(const std::string& path, GeneratorImpl& generator, ModelMetadata metadata,
                    DType dtype) {
  metadata.architecture = architecture_of(generator.options());
  std::vector<torch::Tensor> keep_alive;
  std::vector<TensorToWrite> records;
  for (const auto& [name, tensor] : stored_tensors(generator)) {
    auto data = tensor.detach().to(torch::kCPU, scalar_type(dtype)).contiguous();
    records.push_back({name, dtype, data.sizes().vec(), data.data_ptr()});
    keep_alive.push_back(std::move(data));
  }
  write_safetensors(path, to_safetensors_metadata(metadata), records);
}

LoadedGenerator load_generator(const std::string& path) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const SafetensorsView file = parse_safetensors(bytes.data(), bytes.size(), path);
  LoadedGenerator loaded;
  loaded.metadata = from_safetensors_metadata(file.metadata, path);
  loaded.generator = Generator(generator_options(loaded.metadata.architecture));
  auto expected = stored_tensors(*loaded.generator);

  const std::string arch = "ngf " + std::to_string(loaded.metadata.architecture.ngf) + ", depth " +
                           std::to_string(loaded.metadata.architecture.depth) + ", scale " +
                           std::to_string(loaded.metadata.architecture.scale);
  torch::NoGradGuard no_grad;
  std::set<std::string> seen;
  for (const auto& record : file.tensors) {
    auto it = expected.find(record.name);
    if (it == expected.end())
      fail(path, "unexpected tensor '" + record.name + "': not part of the generator (" + arch +
                     ") the metadata describes");
    if (record.dtype == DType::U8)
      fail(path, "tensor '" + record.name + "' has dtype U8; model weights must be F32, F16 or BF16");
    auto& target = it->second;
    if (target.sizes().vec() != record.shape)
      fail(path, "tensor '" + record.name + "' has shape " + shape_text(record.shape) +
                     " but the generator (" + arch + ") needs " + c10::str(target.sizes()));
    // Copy into an aligned tensor of the file's dtype (file offsets need not be aligned), then convert.
    auto raw = torch::empty(record.shape, torch::TensorOptions().dtype(scalar_type(record.dtype)));
    std::memcpy(raw.data_ptr(), file.bytes(record), record.end - record.begin);
    const torch::Tensor values = raw.to(torch::kFloat32);
    if (!torch::isfinite(values).all().item<bool>())
      fail(path, "tensor '" + record.name + "' holds NaN or infinite values (a diverged training run or a "
                     "damaged file): every face would come out as a flat blob; use an earlier checkpoint");
    target.copy_(values);
    seen.insert(record.name);
  }
  for (const auto& [name, tensor] : expected)
    if (!seen.count(name))
      fail(path, "missing tensor '" + name + "' needed by the generator (" + arch + ")");
  loaded.generator->eval();
  return loaded;
}

}  // namespace facesr
