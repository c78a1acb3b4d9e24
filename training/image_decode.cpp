#include "image_decode.h"

#include <cstring>
#include <limits>

#include <stb_image.h>  // Debian's libstb holds the implementation

namespace facesr {

std::string decode_rgb_image(const uint8_t* data, std::size_t size, int side, uint8_t* rgb) {
  if (size == 0 || size > static_cast<std::size_t>(std::numeric_limits<int>::max())) return "empty or oversized file";
  int width = 0, height = 0, channels = 0;
  if (!stbi_info_from_memory(data, static_cast<int>(size), &width, &height, &channels))
    return std::string("not a readable JPEG/PNG: ") + stbi_failure_reason();
  if (width != side || height != side)
    return std::to_string(width) + "x" + std::to_string(height) + " instead of " + std::to_string(side) + "x" +
           std::to_string(side);
  uint8_t* pixels = stbi_load_from_memory(data, static_cast<int>(size), &width, &height, &channels, 3);
  if (pixels == nullptr) return std::string("corrupt image: ") + stbi_failure_reason();
  std::memcpy(rgb, pixels, static_cast<std::size_t>(side) * side * 3);
  stbi_image_free(pixels);
  return "";
}

}  // namespace facesr
