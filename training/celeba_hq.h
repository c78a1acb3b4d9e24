// The CelebA-HQ layout as CelebAMask-HQ distributes it, for facesr-prepare --celeba-hq DIR:
//
//   DIR/CelebA-HQ-img/<N>.jpg                              N = 0 .. 29999, aligned faces (1024 x 1024)
//   DIR/CelebAMask-HQ-mask-anno/<N / 2000>/<NNNNN>_<part>.png   optional: one binary 512 x 512 mask per
//                                                          face part present (NNNNN = N, 5 digits)
//   DIR/CelebA-HQ-to-CelebA-mapping.txt                    "idx orig_idx orig_file" header, then per
//                                                          image: N, its CelebA index, its CelebA file
//   identity_CelebA.txt (CelebA's, given separately)       per line: "<CelebA file> <identity number>"
//
// Identities come from CelebA: image N -> orig_file (mapping) -> identity (identity_CelebA.txt).
// Parsing and mask assembly with OpenCV; no LibTorch.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace facesr {

// Parts whose union is the face mask (the region the local discriminator judges): skin, nose, eyes,
// eyeglasses, brows, mouth, lips; not hair, hat, ears, earrings, neck or clothes.
extern const std::vector<std::string> kCelebAHqFaceParts;

struct CelebAHqImage {
  int index = 0;     // N of N.jpg
  std::string path;
};

// DIR/CelebA-HQ-img/<N>.jpg|.png in increasing N. Files whose stem is not a number are listed in
// `ignored` (when given). Throws std::runtime_error when DIR/CelebA-HQ-img is not a folder.
std::vector<CelebAHqImage> list_celeba_hq_images(const std::string& dir, std::vector<std::string>* ignored = nullptr);

// CelebA-HQ index -> CelebA file name (e.g. 0 -> "119614.jpg"), from CelebA-HQ-to-CelebA-mapping.txt.
// Throws std::runtime_error naming the file and line when it cannot be opened or a line is malformed.
std::map<int, std::string> read_celeba_hq_mapping(const std::string& path);

// CelebA file name -> identity (as written, e.g. "2880"), from identity_CelebA.txt. Throws like above.
std::map<std::string, std::string> read_celeba_identities(const std::string& path);

// DIR/CelebAMask-HQ-mask-anno/<N / 2000>/<NNNNN>_<part>.png for `part`.
std::string celeba_hq_mask_path(const std::string& dir, int index, const std::string& part);

// The union of the kCelebAHqFaceParts masks of image `index` (nonzero pixels of each PNG), resized to
// `image_size` (nearest neighbour), 255 inside, CV_8UC1. Empty when no face-part PNG exists for the
// image. `parts` (when given) receives the parts found. Throws std::runtime_error naming a PNG that
// exists but cannot be decoded.
cv::Mat celeba_hq_face_mask(const std::string& dir, int index, cv::Size image_size,
                            std::vector<std::string>* parts = nullptr);

}  // namespace facesr
