// Decoding of the image files a jpeg-storage dataset holds (training/dataset.h), with stb_image: no
// OpenCV where training runs; kept out of dataset.cpp, which LibTorch's headers make slow to compile.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace facesr {

// Decodes a JPEG/PNG file held in memory into `rgb` (side x side x 3 bytes, row-major RGB). Returns
// an empty string on success, else what is wrong (not an image, corrupt, another size).
std::string decode_rgb_image(const uint8_t* data, std::size_t size, int side, uint8_t* rgb);

}  // namespace facesr
