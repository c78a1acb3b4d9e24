#include "celeba_hq.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include <opencv2/imgproc.hpp>

#include "image_io.h"

namespace facesr {
namespace fs = std::filesystem;

const std::vector<std::string> kCelebAHqFaceParts = {"skin",  "nose",  "eye_g", "l_eye", "r_eye",
                                                     "l_brow", "r_brow", "mouth", "u_lip", "l_lip"};

namespace {

bool all_digits(const std::string& s) {
  return !s.empty() && s.size() <= 9 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Whitespace-separated fields of each non-empty line; `line_numbers` gets each line's number (1-based).
std::vector<std::vector<std::string>> read_table(const std::string& path, std::vector<int>* line_numbers) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path + ": cannot open");
  std::vector<std::vector<std::string>> rows;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    std::istringstream fields(line);
    std::vector<std::string> row;
    for (std::string field; fields >> field;) row.push_back(field);
    if (row.empty()) continue;
    rows.push_back(row);
    line_numbers->push_back(number);
  }
  return rows;
}

}  // namespace

std::vector<CelebAHqImage> list_celeba_hq_images(const std::string& dir, std::vector<std::string>* ignored) {
  const fs::path images = fs::path(dir) / "CelebA-HQ-img";
  if (!fs::is_directory(images))
    throw std::runtime_error(images.string() + ": no such folder (--celeba-hq expects CelebAMask-HQ's layout: "
                             "CelebA-HQ-img/<N>.jpg, CelebAMask-HQ-mask-anno/, CelebA-HQ-to-CelebA-mapping.txt)");
  std::vector<CelebAHqImage> out;
  for (const auto& entry : fs::directory_iterator(images)) {
    if (!entry.is_regular_file()) continue;
    const std::string ext = entry.path().extension().string(), stem = entry.path().stem().string();
    if (ext != ".jpg" && ext != ".png" && ext != ".jpeg") continue;
    if (all_digits(stem)) out.push_back({std::stoi(stem), entry.path().string()});
    else if (ignored) ignored->push_back(entry.path().string());
  }
  std::sort(out.begin(), out.end(), [](const CelebAHqImage& a, const CelebAHqImage& b) { return a.index < b.index; });
  return out;
}

std::map<int, std::string> read_celeba_hq_mapping(const std::string& path) {
  std::vector<int> lines;
  const auto rows = read_table(path, &lines);
  std::map<int, std::string> mapping;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (r == 0 && !all_digits(rows[r][0])) continue;  // the "idx orig_idx orig_file" header
    if (rows[r].size() != 3 || !all_digits(rows[r][0]))
      throw std::runtime_error(path + ":" + std::to_string(lines[r]) +
                               ": expected \"<CelebA-HQ index> <CelebA index> <CelebA file>\" (CelebA-HQ-to-CelebA-mapping.txt)");
    mapping[std::stoi(rows[r][0])] = rows[r][2];
  }
  return mapping;
}

std::map<std::string, std::string> read_celeba_identities(const std::string& path) {
  std::vector<int> lines;
  const auto rows = read_table(path, &lines);
  std::map<std::string, std::string> identities;
  for (std::size_t r = 0; r < rows.size(); ++r) {
    if (rows[r].size() != 2)
      throw std::runtime_error(path + ":" + std::to_string(lines[r]) +
                               ": expected \"<CelebA file> <identity>\" (CelebA's identity_CelebA.txt)");
    identities[rows[r][0]] = rows[r][1];
  }
  return identities;
}

std::string celeba_hq_mask_path(const std::string& dir, int index, const std::string& part) {
  char name[64];
  std::snprintf(name, sizeof name, "%05d_%s.png", index, part.c_str());
  return (fs::path(dir) / "CelebAMask-HQ-mask-anno" / std::to_string(index / 2000) / name).string();
}

cv::Mat celeba_hq_face_mask(const std::string& dir, int index, cv::Size image_size, std::vector<std::string>* parts) {
  cv::Mat mask;
  for (const auto& part : kCelebAHqFaceParts) {
    const std::string path = celeba_hq_mask_path(dir, index, part);
    if (!fs::exists(path)) continue;
    cv::Mat gray;
    cv::cvtColor(read_image_bgr(path), gray, cv::COLOR_BGR2GRAY);
    if (mask.empty()) mask = cv::Mat::zeros(gray.size(), CV_8UC1);
    if (gray.size() != mask.size())
      throw std::runtime_error(path + ": " + std::to_string(gray.cols) + "x" + std::to_string(gray.rows) +
                               ", but the other parts of image " + std::to_string(index) + " are " +
                               std::to_string(mask.cols) + "x" + std::to_string(mask.rows));
    mask.setTo(255, gray > 0);
    if (parts) parts->push_back(part);
  }
  if (mask.empty()) return mask;
  cv::Mat resized;
  cv::resize(mask, resized, image_size, 0, 0, cv::INTER_NEAREST);
  return resized;
}

}  // namespace facesr
