// Limits on text that comes from files: how deeply nested a JSON text may be before this project
// parses or prints it, and how error messages quote what a file holds (valid UTF-8, short).
// Plain C++, header-only: used by the weights reader, the datasets, the detectors' side files and the
// face descriptor's manifest, and by facesr::Error for every message it carries.
#pragma once

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>

namespace facesr {

// Deepest nesting of arrays and objects accepted in any JSON this project reads. Its own files nest
// 4 levels at most; nlohmann's serializer recurses once per level (a 100,000-level metadata value
// overflowed the stack when printed).
constexpr std::size_t kMaxJsonDepth = 64;

// Empty when `text` nests arrays/objects at most `max_depth` deep (brackets inside strings are not
// counted), else what is wrong, for example "JSON nested 100000 levels deep (at most 64 accepted)".
// Does not check that `text` is valid JSON (the parser does that afterwards).
inline std::string json_depth_violation(std::string_view text, std::size_t max_depth = kMaxJsonDepth) {
  std::size_t depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) escaped = false;
      else if (c == '\\') escaped = true;
      else if (c == '"') in_string = false;
      continue;
    }
    if (c == '"') in_string = true;
    else if (c == '[' || c == '{') deepest = std::max(deepest, ++depth);
    else if ((c == ']' || c == '}') && depth > 0) --depth;
  }
  if (deepest <= max_depth) return {};
  return "JSON nested " + std::to_string(deepest) + " levels deep (at most " + std::to_string(max_depth) +
         " accepted)";
}

// `text` made safe to show: bytes that are not valid UTF-8, and control characters other than
// newline and tab, become \xNN; cut to about `max_bytes` (at a character boundary) with " [...]".
inline std::string printable_text(std::string_view text, std::size_t max_bytes = 2000) {
  static const char* const kHex = "0123456789abcdef";
  std::string out;
  out.reserve(std::min(text.size(), max_bytes) + 16);
  std::size_t i = 0;
  while (i < text.size()) {
    if (out.size() >= max_bytes) {
      out += " [...]";
      break;
    }
    const auto c = static_cast<unsigned char>(text[i]);
    std::size_t length = c < 0x80 ? 1 : (c >> 5) == 0x6 ? 2 : (c >> 4) == 0xe ? 3 : (c >> 3) == 0x1e ? 4 : 0;
    bool valid = length > 0 && i + length <= text.size();
    for (std::size_t k = 1; valid && k < length; ++k) valid = (static_cast<unsigned char>(text[i + k]) >> 6) == 0x2;
    if (valid && length == 2) valid = c >= 0xc2;                      // no overlong forms
    if (valid && length == 3) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      valid = !(c == 0xe0 && c1 < 0xa0) && !(c == 0xed && c1 >= 0xa0);  // overlong, surrogates
    }
    if (valid && length == 4) {
      const auto c1 = static_cast<unsigned char>(text[i + 1]);
      valid = c <= 0xf4 && !(c == 0xf0 && c1 < 0x90) && !(c == 0xf4 && c1 >= 0x90);
    }
    if (valid && length == 1 && (c >= 0x20 || c == '\n' || c == '\t') && c != 0x7f) {
      out += static_cast<char>(c);
    } else if (valid && length > 1) {
      out.append(text.substr(i, length));
      i += length;
      continue;
    } else {
      out += "\\x";
      out += kHex[c >> 4];
      out += kHex[c & 0xf];
    }
    ++i;
  }
  return out;
}

}  // namespace facesr
