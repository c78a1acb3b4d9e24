// What a facesr weights file says about itself: the `__metadata__` block of the safetensors file.
// Plain C++ (no LibTorch), so the element and tools can read it cheaply.
//
// Keys written (safetensors metadata values are strings; structured ones hold JSON text):
//   format          "facesr-weights"
//   format_version  "1"
//   architecture    {"name":"facesr-generator","ngf":16,"depth":8,"lr_upsampler":"learned",
//                    "upsample":"pixel_shuffle","residual":true,"heads":"conv3x3","input_size":32,
//                    "output_size":256}
//                   (input_size 32, 64 or 128: the 8x, 4x or 2x model; absent = 32)
//                   ("residual" absent = false: files written before the residual heads existed;
//                    "heads" is "conv3x3" or "subpixel", absent = "conv3x3": files from before)
//   crop_rule       {"center_dx":..,"center_dy":..,"side_scale":..}   (see CropRule), optionally with
//                   "by_detector":{"haar":{"center_dx":..,...},...} (ModelMetadata::crop_rule_by_detector)
//   normalization   {"color":"RGB","layout":"NCHW","range":[-1,1],"from_uint8":"x/127.5-1"}
//   training        JSON object filled by facesr-train (data, steps, losses, perceptual loss on/off)
//   evaluation      JSON object filled by facesr-train / facesr-eval (validation PSNR/SSIM ...)
//   companions      optional JSON array of file names: models for other scales loaded beside this one
// Every JSON value is refused before parsing when it nests deeper than kMaxJsonDepth (text_limits.h).
#pragma once

#include <cstdint>
#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace facesr {

constexpr int kWeightsFormatVersion = 1;

// The square region of a frame fed to the network for a detected face box (x, y, w, h):
//   centre = (x + w/2 + center_dx * w,  y + h/2 + center_dy * h),  side = side_scale * max(w, h).
// facedetect/ implements it; the values travel with the model so the element crops as in training.
struct CropRule {
  double center_dx = 0.0;
  double center_dy = 0.0;
  double side_scale = 1.5;
};
// What a weights file's crop rule may hold (loading refuses anything else): side_scale in
// [0.5, 4], centre shifts within +-1 face width / height.
constexpr double kMinSideScale = 0.5;
constexpr double kMaxSideScale = 4.0;
constexpr double kMaxCenterShift = 1.0;

struct Architecture {
  int64_t ngf = 16;
  int64_t depth = 8;
  std::string lr_upsampler = "learned";  // "learned" | "bicubic" (ablation model1)
  std::string upsample = "pixel_shuffle";  // "pixel_shuffle" | "resize_conv" | "transposed"
  bool residual = true;                    // heads add to bicubic(I_LR) (generator.h)
  std::string heads = "conv3x3";           // "conv3x3" | "subpixel" (generator.h, HeadMode)
  int64_t scale = 8;                       // 8, 4 or 2: input side 256 / scale (stored as input_size)
};

// The network's input side for a model: 256 / scale (32, 64 or 128).
constexpr int64_t kModelOutputSize = 256;
inline int64_t input_side(const Architecture& architecture) { return kModelOutputSize / architecture.scale; }

struct ModelMetadata {
  int format_version = kWeightsFormatVersion;
  Architecture architecture;
  CropRule crop_rule;
  // Variants of the crop rule for detectors whose boxes frame a face differently ("hog", "haar"):
  // measured by facesr-prepare --aligned, so that the element crops each detector's faces as the
  // model saw them in training. Stored in crop_rule's JSON as "by_detector"; empty = crop_rule for all.
  std::map<std::string, CropRule> crop_rule_by_detector;
  std::string training = "{}";    // JSON object text
  std::string evaluation = "{}";  // JSON object text
  // Models for the other scales that run beside this one (file names in this file's folder): the
  // element loads them with it, so that naming the default file gives the default behaviour, every
  // shipped scale at work. Stored as "companions" (a JSON array), absent when empty.
  std::vector<std::string> companions;
};

constexpr std::size_t kMaxCompanions = 4;
// Empty when `name` may be a companion: a plain file name (no path, not hidden, no control
// characters, 1-255 bytes); else what is wrong with it.
std::string companion_name_problem(const std::string& name);

// The companions of the weights file at `weights_path` as paths in its folder, in the metadata's order.
std::vector<std::string> companion_paths(const std::string& weights_path, const ModelMetadata& metadata);

std::map<std::string, std::string> to_safetensors_metadata(const ModelMetadata& metadata);

// Whether two rules crop the same region: equal to 1e-5 (a dataset stores its rule as float32, and a
// rule passed on the command line as printed decimals; a 1e-5 difference is under a pixel for any
// face smaller than 10,000 px).
bool same_crop_rule(const CropRule& a, const CropRule& b);

// The rule for faces found by `detector` ("hog", "haar", "upstream"): its variant, else crop_rule.
const CropRule& crop_rule_for(const ModelMetadata& metadata, const std::string& detector);

// Throws WeightsError (safetensors.h) naming `source` and the missing or malformed field.
ModelMetadata from_safetensors_metadata(const std::map<std::string, std::string>& fields,
                                        const std::string& source);

}  // namespace facesr
