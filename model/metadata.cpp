#include "metadata.h"

#include <cmath>
#include <utility>

#include <nlohmann/json.hpp>

#include "safetensors.h"
#include "text_limits.h"

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
  if (const std::string deep = json_depth_violation(it->second); !deep.empty())
    fail(source, "metadata field '" + key + "' is " + deep + ": not a facesr weights file, or a crafted one");
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

// A crop rule's fields, with ranges, not only types: the element sizes its crops from these (a
// side_scale of 1e9 asked OpenCV for exabytes on the first face). Facesr's own rules use 1.1-1.5 and
// centre shifts within 0.1.
CropRule parse_crop_rule(const json& crop, const std::string& key, const std::string& source) {
  CropRule r;
  r.center_dx = get<double>(crop, "center_dx", key, source);
  r.center_dy = get<double>(crop, "center_dy", key, source);
  r.side_scale = get<double>(crop, "side_scale", key, source);
  if (!(r.side_scale >= kMinSideScale && r.side_scale <= kMaxSideScale))
    fail(source, "metadata " + key + ".side_scale is " + crop["side_scale"].dump() + "; it must be in [" +
                     json(kMinSideScale).dump() + ", " + json(kMaxSideScale).dump() + "]");
  for (const char* field : {"center_dx", "center_dy"}) {
    const double shift = std::string(field) == "center_dx" ? r.center_dx : r.center_dy;
    if (!(std::abs(shift) <= kMaxCenterShift))
      fail(source, "metadata " + key + "." + field + " is " + crop[field].dump() + "; it must be within +-" +
                       json(kMaxCenterShift).dump() + " face widths");
  }
  return r;
}

}  // namespace

std::string companion_name_problem(const std::string& name) {
  if (name.empty() || name.size() > 255) return "a file name must have 1 to 255 characters";
  if (name.find('/') != std::string::npos || name.find('\\') != std::string::npos)
    return "must be a file name in the same folder, without a path";
  if (name[0] == '.') return "must not start with '.'";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "holds a control character";
  return {};
}

std::vector<std::string> companion_paths(const std::string& weights_path, const ModelMetadata& metadata) {
  const auto slash = weights_path.find_last_of('/');
  const std::string folder = slash == std::string::npos ? "" : weights_path.substr(0, slash + 1);
  std::vector<std::string> paths;
  for (const auto& name : metadata.companions) paths.push_back(folder + name);
  return paths;
}

bool same_crop_rule(const CropRule& a, const CropRule& b) {
  constexpr double kTolerance = 1e-5;
  return std::abs(a.center_dx - b.center_dx) <= kTolerance && std::abs(a.center_dy - b.center_dy) <= kTolerance &&
         std::abs(a.side_scale - b.side_scale) <= kTolerance;
}

const CropRule& crop_rule_for(const ModelMetadata& metadata, const std::string& detector) {
  const auto it = metadata.crop_rule_by_detector.find(detector);
  return it == metadata.crop_rule_by_detector.end() ? metadata.crop_rule : it->second;
}

std::map<std::string, std::string> to_safetensors_metadata(const ModelMetadata& m) {
  const json architecture = {{"name", kArchitectureName},
                             {"ngf", m.architecture.ngf},
                             {"depth", m.architecture.depth},
                             {"lr_upsampler", m.architecture.lr_upsampler},
                             {"upsample", m.architecture.upsample},
                             {"residual", m.architecture.residual},
                             {"heads", m.architecture.heads},
                             {"input_size", input_side(m.architecture)},
                             {"output_size", kModelOutputSize}};
  auto rule_json = [](const CropRule& r) {
    return json{{"center_dx", r.center_dx}, {"center_dy", r.center_dy}, {"side_scale", r.side_scale}};
  };
  json crop = rule_json(m.crop_rule);
  for (const auto& [detector, rule] : m.crop_rule_by_detector) crop["by_detector"][detector] = rule_json(rule);
  std::map<std::string, std::string> fields{{"format", kFormatName},
                                            {"format_version", std::to_string(m.format_version)},
                                            {"architecture", architecture.dump()},
                                            {"crop_rule", crop.dump()},
                                            {"normalization", kNormalization},
                                            {"training", m.training},
                                            {"evaluation", m.evaluation}};
  if (!m.companions.empty()) fields["companions"] = json(m.companions).dump();
  return fields;
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
  m.crop_rule = parse_crop_rule(crop, "crop_rule", source);
  if (crop.contains("by_detector")) {
    if (!crop["by_detector"].is_object()) fail(source, "metadata crop_rule.by_detector is not a JSON object");
    for (const auto& [detector, rule] : crop["by_detector"].items())
      m.crop_rule_by_detector[detector] = parse_crop_rule(rule, "crop_rule.by_detector." + detector, source);
  }
  // The sizes the file states: the input side picks the scale; the output is always 256.
  if (arch.contains("output_size") && get<int64_t>(arch, "output_size", "architecture", source) != kModelOutputSize)
    fail(source, "metadata architecture.output_size is " + arch["output_size"].dump() + "; this build runs " +
                     std::to_string(kModelOutputSize));
  if (arch.contains("input_size")) {
    const int64_t side = get<int64_t>(arch, "input_size", "architecture", source);
    if (side != 32 && side != 64 && side != 128)
      fail(source, "metadata architecture.input_size is " + arch["input_size"].dump() +
                       "; this build runs 32 (8x), 64 (4x) or 128 (2x)");
    m.architecture.scale = kModelOutputSize / side;
  }
  if (fields.count("companions")) {
    const json list = parse_field(fields, "companions", source);
    if (!list.is_array() || list.size() > kMaxCompanions)
      fail(source, "metadata 'companions' must be a JSON array of at most " + std::to_string(kMaxCompanions) +
                       " file names");
    for (const auto& name : list) {
      const std::string problem = name.is_string() ? companion_name_problem(name.get<std::string>()) : "not a string";
      if (!problem.empty()) fail(source, "metadata 'companions' entry " + name.dump() + ": " + problem);
      m.companions.push_back(name.get<std::string>());
    }
  }
  for (const char* key : {"training", "evaluation"}) {
    const json value = parse_field(fields, key, source);
    if (!value.is_object()) fail(source, std::string("metadata '") + key + "' is not a JSON object");
    (std::string(key) == "training" ? m.training : m.evaluation) = value.dump();
  }
  return m;
}

}  // namespace facesr
