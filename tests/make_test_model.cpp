// Writes a facesr weights file with random values: the fixture the engine and element tests use
// (no trained model is needed to test plumbing), and the fuzzer's seed corpus.
//
// usage: facesr-make-test-model OUT.safetensors [ngf] [depth] [seed] [dtype F32|F16|BF16]
//                               [upsample pixel_shuffle|resize_conv|transposed] [head_weights random|zero]
//                               [heads conv3x3|subpixel] [scale 8|4|2]
// head_weights zero: the three head convs (lr_out, upper_out, lower_out) are all zeros, so the residual
// model outputs bicubic(I_LR) exactly: a model whose output the engine tests know.
#include <cstdio>
#include <cstdlib>
#include <string>

#include "weights.h"

int main(int argc, char** argv) {
  if (argc < 2 || argc > 10) {
    std::fprintf(stderr, "usage: %s OUT.safetensors [ngf=4] [depth=8] [seed=1] [dtype=F32] [upsample=pixel_shuffle] [head_weights=random] [heads=conv3x3] [scale=8]\n",
                 argv[0]);
    return 2;
  }
  try {
    const int64_t ngf = argc > 2 ? std::atoll(argv[2]) : 4;
    const int64_t depth = argc > 3 ? std::atoll(argv[3]) : 8;
    const uint64_t seed = argc > 4 ? std::strtoull(argv[4], nullptr, 10) : 1;
    const std::string dtype = argc > 5 ? argv[5] : "F32";
    const auto upsample = facesr::upsample_mode_from_string(argc > 6 ? argv[6] : "pixel_shuffle");
    const std::string head_weights = argc > 7 ? argv[7] : "random";
    if (head_weights != "random" && head_weights != "zero")
      throw std::invalid_argument("head_weights must be random or zero");
    const auto heads = facesr::head_mode_from_string(argc > 8 ? argv[8] : "conv3x3");
    const int64_t scale = argc > 9 ? std::atoll(argv[9]) : 8;
    torch::manual_seed(seed);
    facesr::Generator generator(
        facesr::GeneratorOptions().ngf(ngf).depth(depth).upsample(upsample).heads(heads).scale(scale));
    // Non-trivial batch-norm statistics, so a reader that skipped buffers would be caught.
    torch::NoGradGuard no_grad;
    for (auto& buffer : generator->named_buffers()) {
      if (buffer.key().find("running_mean") != std::string::npos) buffer.value().normal_(0.0, 0.1);
      if (buffer.key().find("running_var") != std::string::npos) buffer.value().uniform_(0.5, 1.5);
    }
    if (head_weights == "zero")
      for (auto& p : generator->named_parameters())
        for (const char* head : {"lr_out.", "upper_out.", "lower_out."})
          if (p.key().rfind(head, 0) == 0) p.value().zero_();
    facesr::ModelMetadata metadata;
    metadata.training = R"({"note":"random weights for tests, not trained"})";
    facesr::save_generator(argv[1], *generator, metadata,
                           dtype == "F16" ? facesr::DType::F16
                           : dtype == "BF16" ? facesr::DType::BF16 : facesr::DType::F32);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-make-test-model: %s\n", e.what());
    return 1;
  }
  return 0;
}
