// facesr-plot: the training curve of a facesr-train run as a PNG.
//
//   facesr-plot RUN_DIR [--out curve.png]      (default RUN_DIR/curve.png)
//
// Reads RUN_DIR/log.csv (a row per step) and RUN_DIR/validation.csv (a row per validation) and draws
// three panels over the same step axis:
//   1. L_pix (the pixel loss: a 25-step moving average, and light, every step); a vertical line where
//      phase 2 (the local D) starts;
//   2. validation PSNR of the model and of bicubic (dB);
//   3. validation SSIM of the model and of bicubic.
// OpenCV only (no plotting library exists on these machines); built with the facedetect feature.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace {

using Table = std::map<std::string, std::vector<double>>;

// A CSV with a header row of column names and numeric cells. Throws std::runtime_error.
Table read_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path + " (is this a facesr-train run folder?)");
  std::string line;
  if (!std::getline(in, line)) throw std::runtime_error(path + " is empty");
  std::vector<std::string> names;
  std::stringstream header(line);
  Table table;
  for (std::string name; std::getline(header, name, ',');) {
    names.push_back(name);
    table[name];  // a header without rows is a run without steps yet, not a missing column
  }
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (line.empty()) continue;
    std::stringstream cells(line);
    std::vector<double> values;
    for (std::string cell; std::getline(cells, cell, ',');) {
      try {
        values.push_back(std::stod(cell));
      } catch (const std::exception&) {
        throw std::runtime_error(path + ":" + std::to_string(row) + ": '" + cell + "' is not a number");
      }
    }
    if (values.size() != names.size()) break;  // a row cut short (the run was killed while writing it)
    for (std::size_t c = 0; c < names.size(); ++c) table[names[c]].push_back(values[c]);
  }
  return table;
}

std::vector<double> moving_average(const std::vector<double>& v, std::size_t window) {
  std::vector<double> out(v.size());
  double sum = 0;
  for (std::size_t i = 0; i < v.size(); ++i) {
    sum += v[i];
    if (i >= window) sum -= v[i - window];
    out[i] = sum / static_cast<double>(std::min(i + 1, window));
  }
  return out;
}

struct Series {
  const std::vector<double>* x;
  std::vector<double> y;
  cv::Scalar colour;
  std::string label;
  int thickness = 2;
};

// One panel: axes with ticks, the series, a legend, optional vertical marker at `marker_x`.
void draw_panel(cv::Mat& image, cv::Rect area, const std::string& title, const std::vector<Series>& series,
                double x_max, double marker_x) {
  const cv::Scalar black(0, 0, 0), grey(200, 200, 200);
  const int left = area.x + 70, right = area.x + area.width - 20, top = area.y + 30, bottom = area.y + area.height - 35;
  double lo = INFINITY, hi = -INFINITY;
  for (const auto& s : series)
    for (double v : s.y)
      if (std::isfinite(v)) lo = std::min(lo, v), hi = std::max(hi, v);
  if (!std::isfinite(lo)) lo = 0, hi = 1;
  if (hi - lo < 1e-9) hi = lo + 1;
  const double pad = 0.05 * (hi - lo);
  lo -= pad, hi += pad;
  auto px = [&](double x) { return left + static_cast<int>((right - left) * x / std::max(1.0, x_max)); };
  auto py = [&](double y) { return bottom - static_cast<int>((bottom - top) * (y - lo) / (hi - lo)); };

  cv::putText(image, title, {left, area.y + 20}, cv::FONT_HERSHEY_SIMPLEX, 0.55, black, 1, cv::LINE_AA);
  for (int k = 0; k <= 4; ++k) {
    const double y = lo + (hi - lo) * k / 4.0, x = x_max * k / 4.0;
    cv::line(image, {left, py(y)}, {right, py(y)}, grey, 1);
    char text[32];
    std::snprintf(text, sizeof text, "%.3g", y);
    cv::putText(image, text, {area.x + 5, py(y) + 4}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1, cv::LINE_AA);
    std::snprintf(text, sizeof text, "%.0f", x);
    // Centred under its tick, but kept inside the panel (the last label, "20000", ran off the edge).
    int baseline = 0;
    const int width = cv::getTextSize(text, cv::FONT_HERSHEY_SIMPLEX, 0.4, 1, &baseline).width;
    const int label_x = std::min(px(x) - width / 2, area.x + area.width - width - 2);
    cv::putText(image, text, {label_x, bottom + 18}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1, cv::LINE_AA);
  }
  cv::rectangle(image, {left, top}, {right, bottom}, black, 1);
  if (marker_x > 0 && marker_x < x_max) {
    cv::line(image, {px(marker_x), top}, {px(marker_x), bottom}, cv::Scalar(0, 140, 255), 1);
    cv::putText(image, "phase 2", {px(marker_x) + 4, bottom - 6}, cv::FONT_HERSHEY_SIMPLEX, 0.4, cv::Scalar(0, 140, 255), 1,
                cv::LINE_AA);
  }
  int legend_y = top + 16;
  for (const auto& s : series) {
    std::vector<cv::Point> points;
    for (std::size_t i = 0; i < s.y.size(); ++i)
      if (std::isfinite(s.y[i])) points.push_back({px((*s.x)[i]), py(s.y[i])});
    if (points.size() == 1) cv::circle(image, points[0], 3, s.colour, cv::FILLED);
    cv::polylines(image, points, false, s.colour, s.thickness, cv::LINE_AA);
    if (!s.label.empty()) {
      cv::line(image, {right - 190, legend_y - 4}, {right - 165, legend_y - 4}, s.colour, 2);
      cv::putText(image, s.label, {right - 160, legend_y}, cv::FONT_HERSHEY_SIMPLEX, 0.42, black, 1, cv::LINE_AA);
      legend_y += 16;
    }
  }
  cv::putText(image, "step", {(left + right) / 2 - 15, bottom + 32}, cv::FONT_HERSHEY_SIMPLEX, 0.4, black, 1,
              cv::LINE_AA);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Draw a facesr-train run's training curve (losses, validation PSNR and SSIM vs bicubic) as a PNG."};
  std::string run_dir, out;
  app.add_option("run", run_dir, "facesr-train --out folder (holds log.csv and validation.csv)")->required();
  app.add_option("--out", out, "PNG to write (default: RUN/curve.png)");
  CLI11_PARSE(app, argc, argv);
  if (out.empty()) out = run_dir + "/curve.png";
  try {
    const Table log = read_csv(run_dir + "/log.csv");
    const Table val = read_csv(run_dir + "/validation.csv");
    if (log.at("step").empty()) throw std::runtime_error(run_dir + "/log.csv has no steps yet");
    const double x_max = log.at("step").back();
    double phase2 = 0;
    for (std::size_t i = 0; i < log.at("phase").size(); ++i)
      if (log.at("phase")[i] >= 2) {
        phase2 = log.at("step")[i];
        break;
      }

    cv::Mat image(900, 900, CV_8UC3, cv::Scalar(255, 255, 255));
    const cv::Scalar blue(200, 80, 0), red(40, 40, 220), faint(235, 200, 170);
    draw_panel(image, {0, 0, 900, 300}, "training losses (" + run_dir + ")",
               {{&log.at("step"), log.at("pix"), faint, "", 1},
                {&log.at("step"), moving_average(log.at("pix"), 25), blue, "L_pix (25-step mean)"}},
               x_max, phase2);
    if (val.at("step").empty()) {
      cv::putText(image, "no validation rows yet", {300, 450}, cv::FONT_HERSHEY_SIMPLEX, 0.8, red, 2, cv::LINE_AA);
    } else {
      draw_panel(image, {0, 300, 900, 300}, "validation PSNR (dB, RGB)",
                 {{&val.at("step"), val.at("psnr"), blue, "facesr"}, {&val.at("step"), val.at("bicubic_psnr"), red, "bicubic"}},
                 x_max, phase2);
      draw_panel(image, {0, 600, 900, 300}, "validation SSIM (Y)",
                 {{&val.at("step"), val.at("ssim"), blue, "facesr"}, {&val.at("step"), val.at("bicubic_ssim"), red, "bicubic"}},
                 x_max, phase2);
    }
    if (!cv::imwrite(out, image)) throw std::runtime_error("cannot write " + out);
    std::printf("facesr-plot: wrote %s (%zu steps, %zu validations, phase 2 from step %.0f)\n", out.c_str(),
                log.at("step").size(), val.at("step").size(), phase2);
    if (!val.at("step").empty())
      std::printf("last validation: step %.0f, PSNR %.2f dB (bicubic %.2f), SSIM %.4f (bicubic %.4f)\n",
                  val.at("step").back(), val.at("psnr").back(), val.at("bicubic_psnr").back(), val.at("ssim").back(),
                  val.at("bicubic_ssim").back());
  } catch (const std::out_of_range&) {
    std::fprintf(stderr, "facesr-plot: %s: log.csv or validation.csv lacks a column facesr-train writes\n", run_dir.c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-plot: %s\n", e.what());
    return 1;
  }
  return 0;
}
