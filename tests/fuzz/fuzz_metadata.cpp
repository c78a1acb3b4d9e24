// libFuzzer target for the weights file's metadata strings (issue 37: a 100,000-level JSON value
// overflowed the stack): the input is one metadata value, put under the key its first byte picks,
// beside valid values for the others. from_safetensors_metadata must return or throw WeightsError,
// and the error text must be printable (valid UTF-8, short).
#include <cstdlib>
#include <string>

#include "metadata.h"
#include "safetensors.h"
#include "text_limits.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  static const char* const kKeys[] = {"architecture", "crop_rule", "training", "evaluation", "companions",
                                      "format_version"};
  auto fields = facesr::to_safetensors_metadata(facesr::ModelMetadata{});
  const std::string value(reinterpret_cast<const char*>(data + 1), size - 1);
  fields[kKeys[data[0] % (sizeof kKeys / sizeof kKeys[0])]] = value;
  try {
    const facesr::ModelMetadata m = facesr::from_safetensors_metadata(fields, "fuzz");
    (void)facesr::to_safetensors_metadata(m);  // what loaded can be written back (and dumped)
  } catch (const facesr::WeightsError& e) {
    const std::string message = e.what();
    // Valid UTF-8 without control bytes (printing it again changes nothing), and cut (Error's limit:
    // ~2,000 bytes and the " [...]" mark).
    if (message != facesr::printable_text(message, message.size() + 1) || message.size() > 2100) std::abort();
  }
  return 0;
}
