#include "metadata.h"

#include <cmath>
#include <utility>

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
                             {"input_size", 32},
                             {"output_size", 256}};
  auto rule_json = [](const CropRule& r) {
    return json{{"center_dx", r.center_dx}, {"center_dy", r.center_dy}, {"side_scale", r.side_scale}};
  };
  json crop = rule_json(m.crop_rule);
  for (const auto& [detector, rule] : m.crop_rule_by_detector) crop["by_detector"][detector] = rule_json(rule);
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
  m.crop_rule = parse_crop_rule(crop, "crop_rule", source);
  if (crop.contains("by_detector")) {
    if (!crop["by_detector"].is_object()) fail(source, "metadata crop_rule.by_detector is not a JSON object");
    for (const auto& [detector, rule] : crop["by_detector"].items())
      m.crop_rule_by_detector[detector] = parse_crop_rule(rule, "crop_rule.by_detector." + detector, source);
  }
  // Sizes the file states must be the ones this build runs (they are not read otherwise).
  for (const auto& [field, expected] : {std::pair<const char*, int>{"input_size", 32}, {"output_size", 256}})
    if (arch.contains(field) && get<int64_t>(arch, field, "architecture", source) != expected)
      fail(source, std::string("metadata architecture.") + field + " is " + arch[field].dump() +
                       "; this build runs " + std::to_string(expected) + " (a model for another scale?)");
  for (const char* key : {"training", "evaluation"}) {
    const json value = parse_field(fields, key, source);
    if (!value.is_object()) fail(source, std::string("metadata '") + key + "' is not a JSON object");
    (std::string(key) == "training" ? m.training : m.evaluation) = value.dump();
  }
  return m;
}

}  // namespace facesr
