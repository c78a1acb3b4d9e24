// facesr-enhance-image on bad input (issue 37): a 661-byte PNG whose header claims 100000 x 100000
// pixels got OpenCV's assertion text only; the message names the file and the limit.
#include <gtest/gtest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "run_tool.h"

namespace fs = std::filesystem;

namespace {

uint32_t crc32(const std::string& bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

std::string be32(uint32_t v) {
  return {static_cast<char>(v >> 24), static_cast<char>(v >> 16), static_cast<char>(v >> 8), static_cast<char>(v)};
}

std::string chunk(const std::string& type, const std::string& data) {
  return be32(static_cast<uint32_t>(data.size())) + type + data + be32(crc32(type + data));
}

}  // namespace

TEST(EnhanceImage, AnImageTooLargeForOpenCvIsNamedWithTheLimit) {
  const fs::path dir = fs::path(::testing::TempDir()) / "facesr-enhance-image";
  fs::create_directories(dir);
  const fs::path png = dir / "huge.png";
  // A valid signature and IHDR (100000 x 100000, 8-bit RGB), a little IDAT, IEND.
  const std::string ihdr = be32(100000) + be32(100000) + std::string("\x08\x02\x00\x00\x00", 5);
  std::ofstream(png, std::ios::binary) << std::string("\x89PNG\r\n\x1a\n", 8) << chunk("IHDR", ihdr)
                                       << chunk("IDAT", std::string("\x78\x9c\x03\x00\x00\x00\x00\x01", 8))
                                       << chunk("IEND", "");
  const auto run = facesr::test_tools::run_tool(FACESR_ENHANCE_IMAGE_BIN,
                                                "--model " + std::string(FACESR_TEST_MODEL) + " --box 1,1,20,20 " +
                                                    png.string() + " " + (dir / "out.png").string(),
                                                dir / "run");
  EXPECT_EQ(run.status, 1) << run.err;
  EXPECT_NE(run.err.find(png.string()), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("2^30 pixels"), std::string::npos) << run.err;
}
