#include "metadata.h"

#include <nlohmann/json.hpp>

#include "safetensors.h"

namespace facesr {
namespace {

using nlohmann::json;

constexpr const char* kFormatName = "facesr-weights";
constexpr const char* kArchitectureName = "facesr-generator";
const char* const kNormalization =
    R"({"color":"RGB","layout":"NCHW","range":[-1,1],"from_uint8":"x/127.5-1"})";

[[noreturn]] void fail(const std::string& source, const std::string& what) {
  throw WeightsError(source + ": " + what);
}

json parse_field(const std::map<std::string, std::string>& fields, const std::string& key,
                 const std::string& source) {
  auto it = fields.find(key);
  if (it == fields.end())
    fail(source, "metadata has no '" + key + "' field (not a facesr weights file?)");
  try {
    return json::parse(it->second);
  } catch (const json::exception& e) {
    fail(source, "metadata field '" + key + "' is not valid JSON: " + e.what());
  }
}

template <typename T>
T get(const json& object, const std::string& field, const std::string& key, const std::string& source) {
  if (!object.is_object() || !object.contains(field))
    fail(source, "metadata '" + key + "' lacks '" + field + "'");
  try {
    return object[field].get<T>();
  } catch (const json::exception&) {
    fail(source, "metadata '" + key + "." + field + "' has the wrong type: " + object[field].dump());
  }
}

}  // namespace

std::map<std::string, std::string> to_safetensors_metadata(const ModelMetadata& m) {
  const json architecture = {{"name", kArchitectureName},
                             {"ngf", m.architecture.ngf},
                             {"depth", m.architecture.depth},
                             {"lr_upsampler", m.architecture.lr_upsampler},
                             {"upsample", m.architecture.upsample},
                             {"residual", m.architecture.residual},
                             {"heads", m.architecture.heads},
                             {"input_size", 32},
                             {"output_size", 256}};
  const json crop = {{"center_dx", m.crop_rule.center_dx},
                     {"center_dy", m.crop_rule.center_dy},
                     {"side_scale", m.crop_rule.side_scale}};
  return {{"format", kFormatName},
          {"format_version", std::to_string(m.format_version)},
          {"architecture", architecture.dump()},
          {"crop_rule", crop.dump()},
          {"normalization", kNormalization},
          {"training", m.training},
          {"evaluation", m.evaluation}};
}

ModelMetadata from_safetensors_metadata(const std::map<std::string, std::string>& fields,
                                        const std::string& source) {
  auto format = fields.find("format");
  if (format == fields.end() || format->second != kFormatName)
    fail(source, "metadata 'format' is not \"facesr-weights\": this safetensors file is not a facesr model");
  ModelMetadata m;
  auto version = fields.find("format_version");
  if (version == fields.end() || version->second != std::to_string(kWeightsFormatVersion))
    fail(source, "unsupported format_version '" + (version == fields.end() ? "" : version->second) +
                     "' (this build reads version " + std::to_string(kWeightsFormatVersion) + ")");
  const json arch = parse_field(fields, "architecture", source);
  if (get<std::string>(arch, "name", "architecture", source) != kArchitectureName)
    fail(source, "metadata names architecture " + arch["name"].dump() + ", expected \"" +
                     kArchitectureName + "\"");
  m.architecture.ngf = get<int64_t>(arch, "ngf", "architecture", source);
  m.architecture.depth = get<int64_t>(arch, "depth", "architecture", source);
  m.architecture.lr_upsampler = get<std::string>(arch, "lr_upsampler", "architecture", source);
  m.architecture.upsample = get<std::string>(arch, "upsample", "architecture", source);
  m.architecture.residual = arch.contains("residual") ? get<bool>(arch, "residual", "architecture", source) : false;
  m.architecture.heads = arch.contains("heads") ? get<std::string>(arch, "heads", "architecture", source) : "conv3x3";
  const json crop = parse_field(fields, "crop_rule", source);
  m.crop_rule.center_dx = get<double>(crop, "center_dx", "crop_rule", source);
  m.crop_rule.center_dy = get<double>(crop, "center_dy", "crop_rule", source);
  m.crop_rule.side_scale = get<double>(crop, "side_scale", "crop_rule", source);
  if (!(m.crop_rule.side_scale > 0.0))
    fail(source, "metadata crop_rule.side_scale must be positive");
  for (const char* key : {"training", "evaluation"}) {
    const json value = parse_field(fields, key, source);
    if (!value.is_object()) fail(source, std::string("metadata '") + key + "' is not a JSON object");
    (std::string(key) == "training" ? m.training : m.evaluation) = value.dump();
  }
  return m;
}

}  // namespace facesr
