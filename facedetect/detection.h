// A detected face: the type shared by detectors, the tracker and their users.
#pragma once

#include "crop_rule.h"  // FaceBox

namespace facesr {

struct Detection {
  FaceBox box;         // frame pixels
  double score = 0.0;  // backend-specific confidence; higher is more certain (see detector.h)
};

// Intersection over union of two boxes (0 when either is empty). Defined in tracker.cpp.
double iou(const FaceBox& a, const FaceBox& b);

}  // namespace facesr
