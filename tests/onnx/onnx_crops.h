// Face crops, runtimes and comparisons shared by the ONNX export test and its benchmark: the same
// crops through OpenCV DNN (an exported graph) and through the LibTorch engine.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "engine.h"

namespace facesr::onnx_test {

// dlib's example face chips (package libdlib-data's docs: 150 px, faces ~108 px).
inline const char* kJohnsDir = "/usr/share/doc/libdlib19.1/examples/johns";

// `count` RGB8 crops of side x side: real faces (dlib's chips, centre 80% area-resized) where
// present, then synthetic ones: smooth colour ramps with noise, and a saturated black / white split
// that drives the residual heads to their clamps.
inline std::vector<cv::Mat> make_crops(int side, int count) {
  std::vector<cv::Mat> crops;
  std::vector<std::filesystem::path> files;
  if (std::filesystem::is_directory(kJohnsDir))
    for (const auto& entry : std::filesystem::recursive_directory_iterator(kJohnsDir))
      if (entry.path().extension() == ".jpg") files.push_back(entry.path());
  std::sort(files.begin(), files.end());
  for (size_t i = 0; i < files.size() && static_cast<int>(crops.size()) < count / 2; i += 7) {
    cv::Mat bgr = cv::imread(files[i].string(), cv::IMREAD_COLOR);
    if (bgr.empty()) continue;
    const int inner = bgr.cols * 4 / 5;
    cv::Mat face = bgr(cv::Rect((bgr.cols - inner) / 2, (bgr.rows - inner) / 2, inner, inner)), rgb, small;
    cv::cvtColor(face, rgb, cv::COLOR_BGR2RGB);
    cv::resize(rgb, small, cv::Size(side, side), 0, 0, cv::INTER_AREA);
    crops.push_back(small);
  }
  std::mt19937 rng(7);
  std::normal_distribution<float> noise(0.0f, 12.0f);
  while (static_cast<int>(crops.size()) < count) {
    const int k = static_cast<int>(crops.size());
    cv::Mat crop(side, side, CV_8UC3);
    for (int y = 0; y < side; ++y)
      for (int x = 0; x < side; ++x) {
        auto& px = crop.at<cv::Vec3b>(y, x);
        if (k % 3 == 2) {  // saturated halves
          const uint8_t v = (x + y < side) ? 0 : 255;
          px = cv::Vec3b(v, v, static_cast<uint8_t>(255 - v));
          continue;
        }
        const float r = 128 + 100 * std::sin(0.2f * x + k), g = 40 + 4.0f * y, b = 200 - 3.0f * x;
        px = cv::Vec3b(cv::saturate_cast<uint8_t>(r + noise(rng)), cv::saturate_cast<uint8_t>(g + noise(rng)),
                       cv::saturate_cast<uint8_t>(b + noise(rng)));
      }
    crops.push_back(crop);
  }
  return crops;
}

// crops[first .. first + n) as the graph's input: N x 3 x S x S float, x / 127.5 - 1 (RGB order kept).
inline cv::Mat to_blob(const std::vector<cv::Mat>& crops, size_t first, size_t n) {
  return cv::dnn::blobFromImages(std::vector<cv::Mat>(crops.begin() + first, crops.begin() + first + n),
                                 1.0 / 127.5, cv::Size(), cv::Scalar(127.5, 127.5, 127.5), /*swapRB=*/false,
                                 /*crop=*/false, CV_32F);
}

// OpenCV DNN on the CPU (its own backend), `threads` threads.
inline cv::dnn::Net open_opencv_net(const std::string& onnx_path, int threads) {
  cv::setNumThreads(threads);
  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_path);
  net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
  net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
  return net;
}

// Face i of an N x 3 x 256 x 256 float blob as 256 x 256 x 3 RGB8, rounded as the engine rounds:
// (y + 1) * 127.5 + 0.5, clamped to [0, 255], truncated.
inline cv::Mat to_rgb8(const cv::Mat& blob, int i) {
  cv::Mat out(kResultSize, kResultSize, CV_8UC3);
  const int plane = kResultSize * kResultSize;
  const float* p = blob.ptr<float>() + static_cast<size_t>(i) * 3 * plane;
  for (int y = 0; y < kResultSize; ++y)
    for (int x = 0; x < kResultSize; ++x)
      for (int c = 0; c < 3; ++c) {
        const float v = (p[c * plane + y * kResultSize + x] + 1.0f) * 127.5f + 0.5f;
        out.at<cv::Vec3b>(y, x)[c] = static_cast<uint8_t>(std::clamp(v, 0.0f, 255.0f));
      }
  return out;
}

// Runs `engine` on crops[first .. first + n): sharp results (and blurred when asked) as RGB8 Mats.
inline std::vector<cv::Mat> run_engine(Engine& engine, const std::vector<cv::Mat>& crops, size_t first, size_t n,
                                       std::vector<cv::Mat>* blurred = nullptr) {
  std::vector<ImageView> in;
  std::vector<MutableImageView> out, out_blurred;
  std::vector<cv::Mat> results, results_blurred;
  for (size_t i = first; i < first + n; ++i) {
    in.push_back({crops[i].data, crops[i].cols, crops[i].rows, crops[i].step[0]});
    results.emplace_back(kResultSize, kResultSize, CV_8UC3);
    results_blurred.emplace_back(kResultSize, kResultSize, CV_8UC3);
    out.push_back({results.back().data, kResultSize, kResultSize, results.back().step[0]});
    out_blurred.push_back({results_blurred.back().data, kResultSize, kResultSize, results_blurred.back().step[0]});
  }
  EnhanceParams params;
  if (blurred) params.blurred = out_blurred.data();
  engine.enhance(in.data(), out.data(), n, params);
  if (blurred) *blurred = results_blurred;
  return results;
}

struct Difference {
  double max_abs = 0.0;  // in the values' units
  double psnr_db = 0.0;  // peak-to-peak `range`; +inf for identical values
};

// Between two float arrays of n values with peak-to-peak range `range` (2 for [-1, 1], 255 for 8-bit).
inline Difference difference(const float* a, const float* b, size_t n, double range) {
  double max_abs = 0.0, sq = 0.0;
  for (size_t i = 0; i < n; ++i) {
    const double d = std::abs(static_cast<double>(a[i]) - b[i]);
    max_abs = std::max(max_abs, d);
    sq += d * d;
  }
  const double mse = sq / static_cast<double>(n);
  return {max_abs, mse > 0 ? 10.0 * std::log10(range * range / mse) : INFINITY};
}

inline Difference difference_rgb8(const std::vector<cv::Mat>& a, const std::vector<cv::Mat>& b) {
  std::vector<float> fa, fb;
  for (size_t i = 0; i < a.size(); ++i)
    for (const auto& [image, values] : {std::make_pair(&a[i], &fa), std::make_pair(&b[i], &fb)}) {
      cv::Mat f;
      image->convertTo(f, CV_32F);  // a new continuous Mat
      values->insert(values->end(), f.ptr<float>(), f.ptr<float>() + f.total() * f.channels());
    }
  return difference(fa.data(), fb.data(), fa.size(), 255.0);
}

}  // namespace facesr::onnx_test
