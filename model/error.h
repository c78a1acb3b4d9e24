// The one exception type facesr's libraries throw. `kind()` tells a caller what to fix.
#pragma once

#include <stdexcept>
#include <string>

#include "text_limits.h"

namespace facesr {

class Error : public std::runtime_error {
 public:
  enum class Kind {
    ModelFile,  // the weights file is missing, unreadable, corrupt or for another architecture
    Device,     // the requested device (CUDA) or precision is not available here
    Input,      // a caller passed a bad argument (null buffer, wrong crop size, ...)
    Internal,   // LibTorch failed unexpectedly; the message carries its text
  };
  // The message is kept valid UTF-8 and at most ~2,000 bytes (printable_text): it often quotes what a
  // file holds, and GStreamer's bindings (Python's parse_error) refuse text that is not UTF-8.
  Error(Kind kind, const std::string& message) : std::runtime_error(printable_text(message)), kind_(kind) {}
  Kind kind() const noexcept { return kind_; }

 private:
  Kind kind_;
};

}  // namespace facesr
