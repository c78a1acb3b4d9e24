// Face-size benchmark (issue 17): does the element, as a user runs it, give a face that is better than
// leaving it alone, at each face size?
//
//   bench-face-size --data DATASET --model M [--faces 12] [--sizes 12,16,...] [--out DIR]
//
// Faces: the validation split of a facesr-prepare dataset (256x256 crops of 1.5x the face box: enough
// context around the face for any crop rule up to 1.5). For each face, size s (the face box's side in
// the frame) and degradation:
//   sharp   the crop area-downscaled so that its face box is s px;
//   motion  the crop first motion-blurred at 256 px by the training degradation (fixed seed per face);
//   cctv    motion, then Gaussian sensor noise (sigma 3 levels) and JPEG (quality 70) on the frame;
// centred in a grey frame three times the crop's size, with the exact face box as an upstream
// GstVideoRegionOfInterestMeta. The frame goes through `facesr detector=upstream model=M
// output-scale=K` (default properties otherwise; K the smallest of 1, 2, 4, 8 that makes the face at
// least 80 px, at most 8) and through the same element with enabled=false ("plain": the frame
// resized as the element resizes what it does not replace, bicubic). Both face boxes are compared with
// the sharp crop's face box area-resized to s*K px: PSNR on RGB, SSIM on Y (training/metrics.h).
// Printed: a Markdown table per degradation (plain, element, difference, and how many faces the
// element replaced); DIR/face-size.csv and DIR/face-size.png (first face: for each size a row of
// sharp|motion|cctv, each as input (nearest) | plain | element | truth).
#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "dataset.h"
#include "degradation.h"
#include "metrics.h"

namespace {

const char* const kDegradations[] = {"sharp", "motion", "cctv"};

struct Case {
  cv::Mat frame;   // RGB
  cv::Rect box;    // the face in the frame
  cv::Mat truth;   // RGB, the sharp face box area at the output size
  int scale = 1;   // output-scale
};

cv::Mat to_mat(const torch::Tensor& chw) {  // 3 x H x W in [-1, 1] -> RGB 8-bit
  auto hwc = chw.add(1.0).mul(127.5).round().clamp(0, 255).to(torch::kUInt8).permute({1, 2, 0}).contiguous();
  return cv::Mat(static_cast<int>(hwc.size(0)), static_cast<int>(hwc.size(1)), CV_8UC3, hwc.data_ptr()).clone();
}

torch::Tensor to_tensor(const cv::Mat& rgb) {  // RGB 8-bit -> 1 x 3 x H x W in [-1, 1]
  return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8)
      .permute({2, 0, 1}).unsqueeze(0).to(torch::kFloat32).div(127.5).sub(1.0);
}

// The face at size s, degraded, in a grey frame; `sharp` and `degraded` are the 256 crops.
Case make_case(const cv::Mat& sharp, const cv::Mat& degraded, double crop_side_scale, int s, bool cctv, unsigned seed) {
  Case c;
  const double box256 = 256.0 / crop_side_scale;  // the face box's side in the crop (centred)
  const double k = s / box256;
  const int crop = std::max(4, static_cast<int>(std::lround(256 * k)));
  cv::Mat small;
  cv::resize(degraded, small, cv::Size(crop, crop), 0, 0, cv::INTER_AREA);
  const int side = (3 * crop + 1) / 2 * 2;
  c.frame = cv::Mat(side, side, CV_8UC3, cv::Scalar(128, 128, 128));
  const int at = (side - crop) / 2;
  small.copyTo(c.frame(cv::Rect(at, at, crop, crop)));
  c.box = cv::Rect(static_cast<int>(std::lround(at + crop / 2.0 - s / 2.0)),
                   static_cast<int>(std::lround(at + crop / 2.0 - s / 2.0)), s, s);
  if (cctv) {
    cv::Mat noise(c.frame.size(), CV_16SC3);
    cv::RNG rng(seed);
    rng.fill(noise, cv::RNG::NORMAL, 0, 3);
    cv::Mat noisy;
    c.frame.convertTo(noisy, CV_16SC3);
    noisy += noise;
    noisy.convertTo(c.frame, CV_8UC3);
    std::vector<uchar> jpeg;
    cv::Mat bgr;
    cv::cvtColor(c.frame, bgr, cv::COLOR_RGB2BGR);
    cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 70});
    cv::cvtColor(cv::imdecode(jpeg, cv::IMREAD_COLOR), c.frame, cv::COLOR_BGR2RGB);
  }
  for (int scale : {1, 2, 4, 8}) {
    c.scale = scale;
    if (s * scale >= 80) break;
  }
  const int from = static_cast<int>(std::lround(128 - box256 / 2));
  const int box_side = static_cast<int>(std::lround(box256));
  cv::resize(sharp(cv::Rect(from, from, box_side, box_side)), c.truth, cv::Size(s * c.scale, s * c.scale), 0, 0,
             cv::INTER_AREA);
  return c;
}

// The frame through facesr (RGB in and out), with `props` ("name=value ...").
cv::Mat run_element(const Case& c, const std::string& model, const std::string& props) {
  GstElement* e = gst_element_factory_make("facesr", nullptr);
  if (!e) throw std::runtime_error("facesr not found: set GST_PLUGIN_PATH to the build's gst-plugin/");
  gst_object_ref_sink(e);
  g_object_set(e, "model", model.c_str(), nullptr);
  std::istringstream words("detector=upstream output-scale=" + std::to_string(c.scale) + " " + props);
  for (std::string word; words >> word;) {
    const auto eq = word.find('=');
    gst_util_set_object_arg(G_OBJECT(e), word.substr(0, eq).c_str(), word.substr(eq + 1).c_str());
  }
  GstHarness* h = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  gst_harness_set_src_caps(h, gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, "RGB", "width", G_TYPE_INT,
                                                  c.frame.cols, "height", G_TYPE_INT, c.frame.rows, "framerate",
                                                  GST_TYPE_FRACTION, 25, 1, nullptr));
  GstVideoInfo in_info;
  gst_video_info_set_format(&in_info, GST_VIDEO_FORMAT_RGB, c.frame.cols, c.frame.rows);
  GstBuffer* in = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&in_info), nullptr);
  GstVideoFrame frame;
  gst_video_frame_map(&frame, &in_info, in, GST_MAP_WRITE);
  cv::Mat view(c.frame.rows, c.frame.cols, CV_8UC3, GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
               GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0));
  c.frame.copyTo(view);
  gst_video_frame_unmap(&frame);
  gst_buffer_add_video_region_of_interest_meta(in, "face", c.box.x, c.box.y, c.box.width, c.box.height);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  if (!out) throw std::runtime_error("the element returned no frame");
  GstVideoInfo out_info;
  gst_video_info_set_format(&out_info, GST_VIDEO_FORMAT_RGB, c.frame.cols * c.scale, c.frame.rows * c.scale);
  gst_video_frame_map(&frame, &out_info, out, GST_MAP_READ);
  const cv::Mat result = cv::Mat(out_info.height, out_info.width, CV_8UC3, GST_VIDEO_FRAME_PLANE_DATA(&frame, 0),
                                 GST_VIDEO_FRAME_PLANE_STRIDE(&frame, 0)).clone();
  gst_video_frame_unmap(&frame);
  gst_buffer_unref(out);
  gst_harness_teardown(h);
  return result;
}

struct Scores {
  double psnr = 0, ssim = 0;
};

Scores score(const cv::Mat& picture, const cv::Rect& box, const cv::Mat& truth) {
  const auto a = to_tensor(picture(box).clone()), b = to_tensor(truth);
  const bool ssim_fits = truth.rows >= 11;
  return {facesr::psnr(a, b).item<double>(), ssim_fits ? facesr::ssim(a, b).item<double>() : 0.0};
}

cv::Mat tile(const cv::Mat& rgb, int side, int interpolation) {
  cv::Mat t;
  cv::resize(rgb, t, cv::Size(side, side), 0, 0, interpolation);
  return t;
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  CLI::App app{"Face-size benchmark: the facesr element against its plain (bicubic) resize, per face size"};
  std::string data_path, model, out_dir = "out/face-size";
  int max_faces = 12;
  std::vector<int> sizes = {12, 16, 20, 24, 28, 32, 40, 48, 56, 64, 80, 96, 128};
  std::string props;
  app.add_option("--data", data_path, "facesr-prepare dataset whose validation faces are used")->required();
  app.add_option("--model", model, "weights file")->required();
  app.add_option("--faces", max_faces, "validation faces used (the first N)");
  app.add_option("--sizes", sizes, "face sizes, px")->delimiter(',');
  app.add_option("--props", props, "extra element properties, e.g. \"max-face-size=0\"");
  app.add_option("--out", out_dir, "folder for face-size.csv and face-size.png");
  CLI11_PARSE(app, argc, argv);

  auto data = facesr::Dataset::open(data_path);
  auto indices = data->indices(facesr::Split::Validation);
  if (indices.empty()) indices = data->indices(facesr::Split::Train);
  if (static_cast<int>(indices.size()) > max_faces) indices.resize(max_faces);
  const auto batch = data->batch(indices);
  // Motion blur of the training degradation, one fixed draw per face (the evaluation's protocol).
  const auto blurred = facesr::degrade_fixed(batch.hr, batch.mask, facesr::DegradationOptions(), 1).blurred_hr;
  const double crop_side_scale = data->crop_rule().side_scale;

  std::filesystem::create_directories(out_dir);
  std::ofstream csv(out_dir + "/face-size.csv");
  csv << "degradation,size,face,output_scale,plain_psnr,element_psnr,plain_ssim,element_ssim\n";
  std::map<std::string, std::map<int, std::vector<std::pair<Scores, Scores>>>> results;
  std::vector<cv::Mat> grid_rows;
  for (int s : sizes) {
    std::vector<cv::Mat> row;
    for (const char* degradation : kDegradations) {
      for (std::size_t f = 0; f < indices.size(); ++f) {
        const cv::Mat sharp = to_mat(batch.hr[f]);
        const cv::Mat degraded = std::string(degradation) == "sharp" ? sharp : to_mat(blurred[f]);
        const Case c = make_case(sharp, degraded, crop_side_scale, s, std::string(degradation) == "cctv", 7 + f);
        const cv::Mat plain = run_element(c, model, props + " enabled=false");
        const cv::Mat enhanced = run_element(c, model, props);
        const cv::Rect out_box(c.box.x * c.scale, c.box.y * c.scale, c.box.width * c.scale, c.box.height * c.scale);
        const Scores p = score(plain, out_box, c.truth), e = score(enhanced, out_box, c.truth);
        results[degradation][s].push_back({p, e});
        csv << degradation << "," << s << "," << f << "," << c.scale << "," << p.psnr << "," << e.psnr << ","
            << p.ssim << "," << e.ssim << "\n";
        if (f == 0) {
          const int t = 96;
          cv::Mat input = c.frame(c.box).clone();
          row.push_back(tile(input, t, cv::INTER_NEAREST));
          row.push_back(tile(plain(out_box), t, cv::INTER_AREA));
          row.push_back(tile(enhanced(out_box), t, cv::INTER_AREA));
          row.push_back(tile(c.truth, t, cv::INTER_AREA));
          row.push_back(cv::Mat(t, 6, CV_8UC3, cv::Scalar(255, 255, 255)));
        }
      }
    }
    cv::Mat joined;
    cv::hconcat(row, joined);
    grid_rows.push_back(joined);
    std::fprintf(stderr, "bench-face-size: %d px done\n", s);
  }
  cv::Mat grid, bgr;
  cv::vconcat(grid_rows, grid);
  cv::cvtColor(grid, bgr, cv::COLOR_RGB2BGR);
  cv::imwrite(out_dir + "/face-size.png", bgr);

  std::printf("Face-size benchmark: %zu validation faces of %s, model %s%s\n", indices.size(), data_path.c_str(),
              model.c_str(), props.empty() ? "" : (", properties " + props).c_str());
  for (const char* degradation : kDegradations) {
    std::printf("\n%s faces: face region vs the sharp original (PSNR dB on RGB, SSIM on Y), means\n\n", degradation);
    std::printf("| face px | output-scale | plain PSNR | element PSNR | diff dB | plain SSIM | element SSIM | diff SSIM | min diff dB |\n");
    std::printf("|--:|--:|--:|--:|--:|--:|--:|--:|--:|\n");
    for (int s : sizes) {
      double pp = 0, ep = 0, ps = 0, es = 0, worst = 1e9;
      const auto& rows = results[degradation][s];
      for (const auto& [p, e] : rows) {
        pp += p.psnr, ep += e.psnr, ps += p.ssim, es += e.ssim;
        worst = std::min(worst, e.psnr - p.psnr);
      }
      const double n = static_cast<double>(rows.size());
      int scale = 1;
      for (int k : {1, 2, 4, 8}) {
        scale = k;
        if (s * k >= 80) break;
      }
      std::printf("| %d | %d | %.2f | %.2f | %+.2f | %.3f | %.3f | %+.3f | %+.2f |\n", s, scale, pp / n, ep / n,
                  (ep - pp) / n, ps / n, es / n, (es - ps) / n, worst);
    }
  }
  std::printf("\nfiles: %s/face-size.csv, %s/face-size.png\n", out_dir.c_str(), out_dir.c_str());
  return 0;
}
