// dlib's example face photos (Debian package libdlib19.1) and their box annotations, for the
// detector tests and benchmarks. Only the sources marked "train" in shared/data/SOURCES.md.
#pragma once

#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "crop_rule.h"

namespace facesr::test_data {

inline const std::string kDlibFaces = "/usr/share/doc/libdlib19.1/examples/faces";
inline const std::string kDlibJohns = "/usr/share/doc/libdlib19.1/examples/johns";

struct AnnotatedImage {
  std::string path;
  std::vector<FaceBox> faces;
};

// Parses dlib's imglab XML (<image file='..'><box top= left= width= height=/>...). Empty if missing.
inline std::vector<AnnotatedImage> read_dlib_xml(const std::string& xml_path) {
  std::ifstream in(xml_path);
  std::stringstream text;
  text << in.rdbuf();
  const std::string xml = text.str();
  std::vector<AnnotatedImage> images;
  const std::regex image_re("<image file='([^']+)'"), box_re("<box top='(-?\\d+)' left='(-?\\d+)' width='(\\d+)' height='(\\d+)'");
  const std::string dir = xml_path.substr(0, xml_path.rfind('/') + 1);
  std::smatch m;
  std::string rest = xml;
  while (std::regex_search(rest, m, image_re)) {
    AnnotatedImage image{dir + m[1].str(), {}};
    rest = m.suffix().str();
    const std::size_t end = rest.find("</image>");
    std::string block = rest.substr(0, end);
    for (std::sregex_iterator it(block.begin(), block.end(), box_re), last; it != last; ++it)
      image.faces.push_back({std::stod((*it)[2]), std::stod((*it)[1]), std::stod((*it)[3]), std::stod((*it)[4])});
    images.push_back(image);
  }
  return images;
}

}  // namespace facesr::test_data
