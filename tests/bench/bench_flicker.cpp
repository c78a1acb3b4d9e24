// Flicker (issue 20): how much the enhanced faces of a clip change from frame to frame, against how
// much the same regions of the input change, and of the clean source when there is one.
//
//   bench-flicker --input noisy.bgrx --clean clean.bgrx --width 854 --height 480 --model M.safetensors
//                 [--props "temporal-smoothing=0.5" ...] [--strip strip.png]
// (tests/bench/flicker.sh renders the clips with facesr-make-clip and runs this.)
//
// Each --props set runs appsrc ! facesr model=M <props> ! appsink over the input (BGRx, rows packed).
// For every face the element enhanced on two consecutive frames under one track id, its box on the
// second frame (the ROI meta facesr publishes) is compared with the same content on the first frame:
// the box moved by the camera's motion there, found as the shift (+-4 px, to 1/8 px) that best aligns the clean
// clip's pixels (same clip, no noise, no motion blur). The mean absolute difference (8-bit RGB
// levels) is the pair's flicker: what changed that motion does not explain. The same for the input
// frames (noise, blur) and the clean frames (what is left: sub-pixel motion, zoom). Reported per set: mean flicker of the element's output,
// of the input, of the clean clip, and the ratio output / input (<= 1: the element flickers no more
// than leaving the faces alone; with --output-scale above 1, "input" is the element's own bicubic
// resize, enabled=false, of the input and of the clean clip); with the clean clip also each set's distance to it (frame t against
// clean frame t, same boxes: what a smoothing that lags or ghosts costs). --strip: the longest track's first 12 pairs as a picture, rows
// input | output of the first set | output of the last set | clean.
#include <gst/app/gstappsink.h>
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

namespace {


struct Face {
  int track = 0;
  cv::Rect box;
};

struct Run {
  std::vector<cv::Mat> frames;             // BGRx output frames
  std::vector<std::vector<Face>> enhanced;  // per frame
  std::string error;
};

std::vector<cv::Mat> read_clip(const std::string& path, int width, int height) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::vector<cv::Mat> frames;
  const std::size_t bytes = static_cast<std::size_t>(width) * height * 4;
  for (;;) {
    cv::Mat frame(height, width, CV_8UC4);
    if (!in.read(reinterpret_cast<char*>(frame.data), static_cast<std::streamsize>(bytes))) break;
    frames.push_back(frame);
  }
  if (frames.empty()) throw std::runtime_error(path + " holds no whole " + std::to_string(width) + "x" +
                                               std::to_string(height) + " BGRx frame");
  return frames;
}

// One output frame and the faces the element says it enhanced on it; unrefs the sample.
void take(Run& run, GstSample* sample, cv::Size size) {  // size: the output frame's
  GstBuffer* out = gst_sample_get_buffer(sample);
  cv::Mat frame(size, CV_8UC4);
  gst_buffer_extract(out, 0, frame.data, frame.total() * 4);
  std::vector<Face> faces;
  gpointer state = nullptr;
  while (GstMeta* meta = gst_buffer_iterate_meta_filtered(out, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE)) {
    auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
    const GstStructure* params = gst_video_region_of_interest_meta_get_param(roi, "facesr");
    gboolean enhanced = FALSE;
    int track = 0;
    if (params && gst_structure_get_boolean(params, "enhanced", &enhanced) && enhanced &&
        gst_structure_get_int(params, "track-id", &track))
      faces.push_back({track, cv::Rect(roi->x, roi->y, roi->w, roi->h)});
  }
  run.frames.push_back(frame);
  run.enhanced.push_back(faces);
  gst_sample_unref(sample);
}

Run run_element(const std::vector<cv::Mat>& input, const std::string& model, const std::string& props, int scale) {
  const cv::Size out_size(input[0].cols * scale, input[0].rows * scale);
  Run run;
  const std::string description = "appsrc name=src ! facesr name=f model=\"" + model + "\" output-scale=" +
                                  std::to_string(scale) + " " + props + " ! appsink name=sink sync=false";
  GError* err = nullptr;
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (pipeline == nullptr || err != nullptr) {
    run.error = err ? err->message : "cannot build the pipeline";
    g_clear_error(&err);
    return run;
  }
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstElement* sink = gst_bin_get_by_name(GST_BIN(pipeline), "sink");
  GstVideoInfo info;
  gst_video_info_set_format(&info, GST_VIDEO_FORMAT_BGRx, input[0].cols, input[0].rows);
  GST_VIDEO_INFO_FPS_N(&info) = 25;
  GST_VIDEO_INFO_FPS_D(&info) = 1;
  GstCaps* caps = gst_video_info_to_caps(&info);
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "block", TRUE, "max-bytes", guint64(64) << 20, nullptr);
  gst_caps_unref(caps);
  gst_element_set_state(pipeline, GST_STATE_PLAYING);
  for (std::size_t i = 0; i < input.size(); ++i) {
    const gsize size = input[i].total() * 4;
    GstBuffer* b = gst_buffer_new_allocate(nullptr, size, nullptr);
    gst_buffer_fill(b, 0, input[i].data, size);
    GST_BUFFER_PTS(b) = i * GST_SECOND / 25;
    GST_BUFFER_DURATION(b) = GST_SECOND / 25;
    gst_app_src_push_buffer(GST_APP_SRC(src), b);
    // Pull as we go: the sink holds the frames we have not read yet.
    while (GstSample* sample = gst_app_sink_try_pull_sample(GST_APP_SINK(sink), 0)) take(run, sample, out_size);
  }
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  while (GstSample* sample = gst_app_sink_pull_sample(GST_APP_SINK(sink))) take(run, sample, out_size);
  GstBus* bus = gst_element_get_bus(pipeline);
  if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
    gst_message_parse_error(msg, &err, nullptr);
    run.error = err ? err->message : "error";
    g_clear_error(&err);
    gst_message_unref(msg);
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(src);
  gst_object_unref(sink);
  gst_object_unref(pipeline);
  if (run.error.empty() && run.frames.size() != input.size())
    run.error = "got " + std::to_string(run.frames.size()) + " frames of " + std::to_string(input.size());
  return run;
}

double mad(const cv::Mat& a, const cv::Mat& b) {
  cv::Mat diff;
  cv::absdiff(a, b, diff);
  const cv::Scalar m = cv::mean(diff);
  return (m[0] + m[1] + m[2]) / 3.0;  // B, G, R (x ignored)
}

struct Pair {
  int frame;     // the second frame of the pair
  cv::Rect box;  // the face box on that frame
  int track;
  cv::Point2f shift;  // where the box's content was on the first frame (motion, from the reference clip)
};

// The box's pixels on `frame` moved by `shift` (bilinear, sub-pixel), as floats.
cv::Mat moved(const cv::Mat& frame, const cv::Rect& box, cv::Point2f shift) {
  // Only the neighbourhood of the box is converted (the shift is at most a few pixels).
  const cv::Rect around = cv::Rect(box.x - 8, box.y - 8, box.width + 16, box.height + 16) & cv::Rect(0, 0, frame.cols, frame.rows);
  cv::Mat bgr, out;
  cv::cvtColor(frame(around), bgr, cv::COLOR_BGRA2BGR);
  const cv::Point2f centre(box.x - around.x + (box.width - 1) / 2.0f + shift.x,
                           box.y - around.y + (box.height - 1) / 2.0f + shift.y);
  cv::getRectSubPix(bgr, box.size(), centre, out, CV_32F);
  return out;
}

// The pairs of consecutive frames on which one track was enhanced, each with the shift (within
// +-kSearch px, to 1/8 px) that best aligns the reference clip's pixels of the box between the two
// frames (the clean clip when given: the camera's true motion).
constexpr int kSearch = 4;
std::vector<Pair> pairs_of(const Run& run, const std::vector<cv::Mat>& reference) {
  std::vector<Pair> pairs;
  const cv::Rect frame(kSearch + 1, kSearch + 1, reference[0].cols - 2 * kSearch - 2, reference[0].rows - 2 * kSearch - 2);
  std::vector<cv::Mat> bgr(reference.size());
  for (std::size_t t = 1; t < run.enhanced.size(); ++t)
    for (const Face& now : run.enhanced[t])
      for (const Face& then : run.enhanced[t - 1]) {
        if (now.track != then.track) continue;
        const cv::Rect box = now.box & frame;
        if (box.width < 4 || box.height < 4) continue;
        const cv::Mat target = moved(reference[t], box, {0, 0});
        Pair p{static_cast<int>(t), box, now.track, {0, 0}};
        double best = 1e9;
        auto consider = [&](cv::Point2f shift) {
          const double d = mad(moved(reference[t - 1], box, shift), target);
          if (d < best) best = d, p.shift = shift;
        };
        for (int dy = -kSearch; dy <= kSearch; ++dy)
          for (int dx = -kSearch; dx <= kSearch; ++dx) consider(cv::Point2f(dx, dy));
        const cv::Point2f whole = p.shift;
        for (int dy = -4; dy <= 4; ++dy)
          for (int dx = -4; dx <= 4; ++dx) consider(whole + cv::Point2f(dx / 8.0f, dy / 8.0f));
        pairs.push_back(p);
      }
  return pairs;
}

// Mean over the pairs of |frame t (box) - frame t-1 (box moved by the motion)|.
double mean_flicker(const std::vector<cv::Mat>& frames, const std::vector<Pair>& pairs) {
  double sum = 0;
  for (const Pair& p : pairs) sum += mad(moved(frames[p.frame - 1], p.box, p.shift), moved(frames[p.frame], p.box, {0, 0}));
  return pairs.empty() ? 0 : sum / pairs.size();
}

// Mean over the pairs of |frame t (box) - clean frame t (box)|: how far the faces are from the clean
// source (a smoothing that lags behind the face or ghosts shows here, not as flicker).
double mean_error(const std::vector<cv::Mat>& frames, const std::vector<cv::Mat>& clean, const std::vector<Pair>& pairs) {
  double sum = 0;
  for (const Pair& p : pairs) sum += mad(moved(frames[p.frame], p.box, {0, 0}), moved(clean[p.frame], p.box, {0, 0}));
  return pairs.empty() ? 0 : sum / pairs.size();
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  CLI::App app{"Frame-to-frame flicker of the element's enhanced faces vs the input and the clean clip"};
  std::string input_path, clean_path, model, strip_path;
  int width = 854, height = 480, scale = 1;
  std::vector<std::string> props_sets;
  app.add_option("--input", input_path, "the clip the element sees: raw BGRx frames, rows packed")->required();
  app.add_option("--clean", clean_path, "the same clip without noise and motion blur (optional)");
  app.add_option("--width", width, "frame width")->check(CLI::Range(16, 8192));
  app.add_option("--height", height, "frame height")->check(CLI::Range(16, 8192));
  app.add_option("--model", model, "facesr model")->required();
  app.add_option("--props", props_sets, "element properties, one set per run (\"\" = defaults)");
  app.add_option("--strip", strip_path, "PNG of the longest track's first pairs");
  app.add_option("--output-scale", scale,
                 "the element's output-scale for every set; above 1 the input and clean columns are those clips "
                 "through the element with enabled=false (its bicubic resize)")
      ->check(CLI::IsMember({1, 2, 4, 8}));
  CLI11_PARSE(app, argc, argv);
  if (props_sets.empty()) props_sets = {""};

  std::vector<cv::Mat> input, clean;
  try {
    input = read_clip(input_path, width, height);
    if (!clean_path.empty()) clean = read_clip(clean_path, width, height);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-flicker: %s\n", e.what());
    return 2;
  }
  if (!clean.empty() && clean.size() != input.size()) {
    std::fprintf(stderr, "bench-flicker: --clean has %zu frames, --input %zu\n", clean.size(), input.size());
    return 2;
  }
  // What leaving the faces alone gives at this scale (the input itself at 1; the element's bicubic
  // resize above), and the clean clip at this scale: what the outputs are compared with.
  std::vector<cv::Mat> base = input, clean_base = clean;
  if (scale > 1) {
    for (auto* clip : {&base, &clean_base}) {
      if (clip->empty()) continue;
      Run resized = run_element(*clip, model, "enabled=false", scale);
      if (!resized.error.empty()) {
        std::fprintf(stderr, "bench-flicker: enabled=false output-scale=%d: %s\n", scale, resized.error.c_str());
        return 2;
      }
      *clip = std::move(resized.frames);
    }
  }
  const char* left_alone = scale > 1 ? "bicubic" : "input";
  std::printf("flicker: mean |frame t - frame t-1, motion-aligned| over each enhanced face box (RGB levels), %zu "
              "frames, output-scale %d%s\n", input.size(), scale,
              scale > 1 ? " (bicubic: the input through the element with enabled=false)" : "");
  if (!clean.empty())
    std::printf("error: mean |frame t - clean frame t| over the same boxes (RGB levels): how far from the clean source\n");
  std::printf("| %-40s | %6s | %7s | %7s | %7s | %-14s | %9s | %9s |\n", "element properties", "pairs", "output", left_alone,
              "clean", scale > 1 ? "out / bicubic" : "output / input", "out error", scale > 1 ? "bic error" : "in error");
  std::printf("|------------------------------------------|-------:|--------:|--------:|--------:|---------------:|"
              "----------:|----------:|\n");
  std::vector<Run> runs;
  for (const std::string& props : props_sets) {
    Run run = run_element(input, model, props, scale);
    if (!run.error.empty()) {
      std::printf("| %-40s | failed: %s\n", props.empty() ? "(defaults)" : props.c_str(), run.error.c_str());
      runs.push_back(std::move(run));
      continue;
    }
    const std::vector<Pair> pairs = pairs_of(run, clean_base.empty() ? base : clean_base);
    const double out = mean_flicker(run.frames, pairs), in = mean_flicker(base, pairs);
    char clean_text[32] = "-", out_error[32] = "-", in_error[32] = "-";
    if (!clean.empty()) {
      std::snprintf(clean_text, sizeof clean_text, "%.2f", mean_flicker(clean_base, pairs));
      std::snprintf(out_error, sizeof out_error, "%.2f", mean_error(run.frames, clean_base, pairs));
      std::snprintf(in_error, sizeof in_error, "%.2f", mean_error(base, clean_base, pairs));
    }
    std::printf("| %-40s | %6zu | %7.2f | %7.2f | %7s | %14.3f | %9s | %9s |\n", props.empty() ? "(defaults)" : props.c_str(),
                pairs.size(), out, in, clean_text, in > 0 ? out / in : 0.0, out_error, in_error);
    runs.push_back(std::move(run));
  }

  if (!strip_path.empty() && !runs.empty() && runs.front().error.empty()) {
    // The longest track of the first run; its pairs' "after" patches, in frame order.
    const std::vector<Pair> pairs = pairs_of(runs.front(), clean_base.empty() ? base : clean_base);
    std::map<int, std::vector<Pair>> by_track;
    for (const Pair& p : pairs) by_track[p.track].push_back(p);
    const std::vector<Pair>* longest = nullptr;
    for (const auto& [track, list] : by_track)
      if (!longest || list.size() > longest->size()) longest = &list;
    if (longest) {
      const int n = std::min<int>(12, static_cast<int>(longest->size()));
      const int cell = 72;
      std::vector<const std::vector<cv::Mat>*> rows = {&base, &runs.front().frames};
      if (runs.size() > 1 && runs.back().error.empty()) rows.push_back(&runs.back().frames);
      if (!clean_base.empty()) rows.push_back(&clean_base);
      cv::Mat strip(cell * static_cast<int>(rows.size()), cell * n, CV_8UC3, cv::Scalar(0, 0, 0));
      for (std::size_t r = 0; r < rows.size(); ++r)
        for (int i = 0; i < n; ++i) {
          const Pair& p = (*longest)[i];
          const cv::Rect box = p.box;
          cv::Mat bgr, big;
          cv::cvtColor((*rows[r])[p.frame](box), bgr, cv::COLOR_BGRA2BGR);
          cv::resize(bgr, big, cv::Size(cell, cell), 0, 0, cv::INTER_CUBIC);
          big.copyTo(strip(cv::Rect(i * cell, static_cast<int>(r) * cell, cell, cell)));
        }
      cv::imwrite(strip_path, strip);
      std::printf("strip: %s (track %d, frames %d-%d; rows: input | %s%s%s)\n", strip_path.c_str(),
                  longest->front().track, longest->front().frame, (*longest)[n - 1].frame,
                  props_sets.front().empty() ? "defaults" : props_sets.front().c_str(),
                  rows.size() > (clean.empty() ? 2u : 3u) ? (" | " + props_sets.back()).c_str() : "",
                  clean.empty() ? "" : " | clean");
    }
  }
  return 0;
}
