// A detected face: the type shared by detectors, the tracker and their users.
#pragma once

#include "crop_rule.h"  // FaceBox

namespace facesr {

struct Detection {
  FaceBox box;         // frame pixels
  double score = 0.0;  // backend-specific confidence; higher is more certain (see detector.h)
};

}  // namespace facesr
