// The generator <-> weights file (safetensors + facesr metadata). See safetensors.h for the container
// checks and metadata.h for the metadata fields.
//
// Tensors stored: every parameter and buffer of the generator under its LibTorch name
// (for example "enc_convs.1.weight", "enc_norms.1.running_mean"), except BatchNorm's integer
// "num_batches_tracked" counters, which inference does not use.
#pragma once

#include <string>

#include "generator.h"
#include "metadata.h"
#include "safetensors.h"

namespace facesr {

GeneratorOptions generator_options(const Architecture& architecture);  // throws WeightsError
Architecture architecture_of(const GeneratorOptions& options);

// Writes the generator's weights (converted to `dtype`) and `metadata`, whose architecture is
// replaced by the generator's own. Atomic: a temporary file renamed into place.
void save_generator(const std::string& path, GeneratorImpl& generator, ModelMetadata metadata,
                    DType dtype = DType::F32);

struct LoadedGenerator {
  Generator generator{nullptr};  // float32, on the CPU, in eval() mode
  ModelMetadata metadata;
};

// Reads and checks a weights file: the container (safetensors.h), the metadata, and every tensor's
// name and shape against the architecture the metadata names. Throws WeightsError naming the
// problem: a missing tensor, an unexpected one, a wrong shape, ...
LoadedGenerator load_generator(const std::string& path);

}  // namespace facesr
