// facesr-weights: look into a facesr weights file, and name the models that run beside it.
//
//   facesr-weights show model/weights/facesr-default.safetensors
//   facesr-weights set-companions model/weights/facesr-default.safetensors
//       facesr-default-4x.safetensors facesr-default-2x.safetensors     (one line; no names: none)
//
// set-companions rewrites only the metadata (atomically); the tensors' bytes stay as they are.
// No LibTorch here: the container and metadata layers only.
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "metadata.h"
#include "safetensors.h"

namespace {

using nlohmann::json;

int show(const std::string& path) {
  const std::vector<uint8_t> bytes = facesr::read_file_bytes(path);
  const facesr::SafetensorsView view = facesr::parse_safetensors(bytes.data(), bytes.size(), path);
  const facesr::ModelMetadata m = facesr::from_safetensors_metadata(view.metadata, path);
  json out = {{"file", path},
              {"scale", m.architecture.scale},
              {"input_size", facesr::input_side(m.architecture)},
              {"output_size", facesr::kModelOutputSize},
              {"architecture", json::parse(view.metadata.at("architecture"))},
              {"crop_rule", json::parse(view.metadata.at("crop_rule"))},
              {"companions", m.companions},
              {"tensors", view.tensors.size()},
              {"training", json::parse(m.training)},
              {"evaluation", json::parse(m.evaluation)}};
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int set_companions(const std::string& path, const std::vector<std::string>& names) {
  const std::vector<uint8_t> bytes = facesr::read_file_bytes(path);
  const facesr::SafetensorsView view = facesr::parse_safetensors(bytes.data(), bytes.size(), path);
  facesr::from_safetensors_metadata(view.metadata, path);  // a facesr model, or this throws
  std::map<std::string, std::string> metadata = view.metadata;
  if (names.empty()) metadata.erase("companions");
  else metadata["companions"] = json(names).dump();
  const facesr::ModelMetadata checked = facesr::from_safetensors_metadata(metadata, path);  // names are valid
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  for (const auto& name : checked.companions)
    if (!std::filesystem::is_regular_file(folder / name))
      std::fprintf(stderr, "facesr-weights: warning: %s is not (yet) in %s\n", name.c_str(),
                   folder.empty() ? "." : folder.c_str());
  std::vector<facesr::TensorToWrite> tensors;
  for (const auto& t : view.tensors) tensors.push_back({t.name, t.dtype, t.shape, view.bytes(t)});
  facesr::write_safetensors(path, metadata, tensors);
  std::printf("facesr-weights: %s: companions %s\n", path.c_str(), json(names).dump().c_str());
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Show a facesr weights file, or set the models loaded beside it (companions)."};
  app.require_subcommand(1);
  std::string path;
  std::vector<std::string> names;
  auto* show_cmd = app.add_subcommand("show", "print the file's scale, input size, crop rule, companions, training");
  show_cmd->add_option("file", path, "facesr weights file")->required()->check(CLI::ExistingFile);
  auto* set_cmd = app.add_subcommand("set-companions",
                                     "name the models (file names in the same folder) loaded beside this one by the "
                                     "element; no names: none");
  set_cmd->add_option("file", path, "facesr weights file")->required()->check(CLI::ExistingFile);
  set_cmd->add_option("names", names, "companion file names");
  CLI11_PARSE(app, argc, argv);
  try {
    return *show_cmd ? show(path) : set_companions(path, names);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-weights: %s\n", e.what());
    return 1;
  }
}
