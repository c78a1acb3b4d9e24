// facesr-prepare --aligned: folders of aligned face crops (one face filling each image, such as
// shared/data/celeba-aligned's 256x256 CelebA faces) -> a jpeg-storage dataset (dataset.h).
//
// Each image IS the crop: nothing is cut or resized, the JPEG file is stored byte for byte. What the
// model must carry is how such a crop relates to the boxes the element's detectors draw, so the crop
// rule is MEASURED: every image is searched (padded by a quarter of its side, since the face fills it)
// by dlib HOG and by the element's Haar cascade (the element's own options, face_finder.h), and the
// median over the images of side_scale = side / box side and of the centre shifts gives one rule
// per detector ("hog", "haar"); the hog rule is the dataset's rule, the haar rule its variant. Masks
// come from the 68 landmarks of the HOG face (convex hull + forehead), an ellipse over the Haar box
// or, failing both, over the hog rule's typical box. Unreadable, corrupt or non-256x256 images are
// skipped, named and counted. The split is random by image with --seed (no identity labels: one
// person may be on both sides; the summary says so).
#pragma once

#include <string>
#include <vector>

namespace facesr {

struct AlignedPrepareOptions {
  std::vector<std::string> images;  // image files, in a fixed order
  std::string out;                  // dataset file
  double val = 0.05;                // fraction of images for validation
  double test = 0.0;                // fraction of images for test
  unsigned seed = 1;
  bool no_landmarks = false;        // ellipse masks only
};

// Prints the summary (JSON) and returns a process exit code (0: written; 1: nothing usable).
int prepare_aligned(const AlignedPrepareOptions& options);

// facesr-prepare --repack IN --jpeg-quality Q: the same dataset (faces, splits, masks, crop rules)
// with every JPEG re-encoded at quality Q (OpenCV, 4:2:0), smaller for a machine reached through a
// size-limited transfer (tests/gpu/celeba.sh: 64 MiB per call). Re-encoding adds JPEG loss to the
// ground truth: the summary records it (repacked_from, jpeg_quality, bytes before/after, PSNR of
// the re-encoded faces against the stored ones). Throws on a raw-storage or unreadable dataset.
// Prints the summary (JSON); returns 0.
int repack_jpeg_dataset(const std::string& in, const std::string& out, int quality);

}  // namespace facesr
