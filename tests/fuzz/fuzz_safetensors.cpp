// libFuzzer target for the weights-file reader: the safetensors container checks and the facesr
// metadata parser, i.e. everything that reads sizes and offsets from an untrusted file. Any input must
// either parse into a view whose every tensor lies inside the buffer, or throw WeightsError.
//   tests/fuzz/run.sh [seconds]        builds with clang and runs it on the seed corpus
#include <cstdlib>

#include "metadata.h"
#include "safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    const auto view = facesr::parse_safetensors(data, size, "fuzz");
    for (const auto& t : view.tensors) {
      // Touch first and last byte of every tensor: ASan flags any range outside the input.
      if (t.end > t.begin) {
        volatile uint8_t first = view.bytes(t)[0];
        volatile uint8_t last = view.bytes(t)[t.end - t.begin - 1];
        (void)first;
        (void)last;
      }
      if (t.end > view.data_size || view.data + view.data_size > data + size) std::abort();
    }
    (void)facesr::from_safetensors_metadata(view.metadata, "fuzz");
  } catch (const facesr::WeightsError&) {
  }
  return 0;
}
