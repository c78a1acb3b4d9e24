// Speed of the facesr element in a pipeline: frames/s and ms/frame of
//   appsrc ! facesr detector=upstream model=M ! fakesink sync=false
// at 854x480 and 1920x1080 with 0, 1, 2, 4 and 8 faces a frame, next to the plain pipelines
//   appsrc ! videoconvert ! fakesink sync=false                      (I420 in, passthrough)
//   appsrc ! videoconvert ! video/x-raw,format=BGRx ! fakesink       (a real conversion, for scale)
// on the same frames. Run with `meson test --benchmark -C <build> element` or directly:
//   GST_PLUGIN_PATH=<build>/gst-plugin <build>/tests/bench/bench-element MODEL[:label]... [--frames N]
// Meson passes the random-weights fixtures: ngf 4 (test_model) and ngf 16 (the real default size);
// the time depends on the model's size, not its values.
//
// Frames: I420 (what decoders hand to facesr after videoconvert), blurred noise, fixed seed, with the
// default GstVideoInfo strides (854 wide: Y rows 856 bytes). Faces are exact: each frame carries N
// GstVideoRegionOfInterestMeta of type "face" (widths 32-64 px, inside the element's default
// min-face-size 16, max-face-size=0: no limit, N <= max-faces 8), spread over the frame, so every face is cropped,
// enhanced as one batch per frame and composited. Each buffer is a fresh copy (facesr works in
// place), made before the clock starts.
//
// Timing: all frames are queued in appsrc first (rows without faces use 5x as many frames, at
// least 50: they are sub-millisecond); one warm-up frame (same face count, so the batch
// size's first-run cost is excluded) prerolls the pipeline in PAUSED; then wall clock from PLAYING
// to EOS over the timed frames. ms/face = (ms/frame with N faces - with 0 faces) / N. The element's
// threads property is 0 (all cores). Timings on shared machines drift +-30% between runs: compare
// rows of one run.
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kFaceCounts[] = {0, 1, 2, 4, 8};
constexpr GstClockTime kFrameDuration = GST_SECOND / 25;

struct Box {
  int x, y, w, h;
};

struct Resolution {
  std::string name;
  GstVideoInfo info;
  std::vector<cv::Mat> bgr;  // the distinct pictures, cycled
};

// N face boxes, one per cell of a 4x2 grid, widths 32, 40, ..., 64, 32, ... px.
std::vector<Box> face_boxes(int n, int width, int height) {
  std::vector<Box> boxes;
  const int cell_w = width / 4, cell_h = height / 2;
  for (int i = 0; i < n; ++i) {
    const int side = 32 + 8 * (i % 5);
    const int cx = (i % 4) * cell_w + cell_w / 2, cy = (i / 4 % 2) * cell_h + cell_h / 2;
    boxes.push_back({cx - side / 2, cy - side / 2, side, side});
  }
  return boxes;
}

// A fresh I420 buffer holding `bgr` with the info's strides, with the face metas.
GstBuffer* make_buffer(const GstVideoInfo& info, const cv::Mat& bgr, const std::vector<Box>& faces, GstClockTime pts) {
  cv::Mat i420;
  cv::cvtColor(bgr, i420, cv::COLOR_BGR2YUV_I420);  // packed planes: Y (w x h), U, V (w/2 x h/2 each)
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
  GstVideoFrame frame;
  gst_video_frame_map(&frame, &info, buffer, GST_MAP_WRITE);
  const int w = GST_VIDEO_INFO_WIDTH(&info), h = GST_VIDEO_INFO_HEIGHT(&info);
  const uint8_t* src = i420.data;
  for (int plane = 0; plane < 3; ++plane) {
    const int pw = plane == 0 ? w : w / 2, ph = plane == 0 ? h : h / 2;
    auto* dst = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
    const int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane);
    for (int y = 0; y < ph; ++y, src += pw) std::memcpy(dst + static_cast<std::size_t>(y) * stride, src, pw);
  }
  gst_video_frame_unmap(&frame);
  for (const auto& b : faces) gst_buffer_add_video_region_of_interest_meta(buffer, "face", b.x, b.y, b.w, b.h);
  GST_BUFFER_PTS(buffer) = pts;
  GST_BUFFER_DURATION(buffer) = kFrameDuration;
  return buffer;
}

struct Run {
  bool ok = false;
  std::string error;
  double ms_per_frame = 0;
};

// appsrc ! <middle> ! fakesink sync=false, where middle is a gst_parse_bin_from_description string.
Run run_pipeline(const std::string& middle, const Resolution& res, int faces, int frames) {
  Run run;
  GError* err = nullptr;
  const std::string description = "appsrc name=src ! " + middle + " ! fakesink sync=false";
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (pipeline == nullptr || err != nullptr) {
    run.error = err ? err->message : "cannot build " + description;
    g_clear_error(&err);
    if (pipeline) gst_object_unref(pipeline);
    return run;
  }
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstCaps* caps = gst_video_info_to_caps(&res.info);  // explicit caps object, no shorthand
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "is-live", FALSE, "block", FALSE,
               "max-bytes", guint64(0), nullptr);
  gst_caps_unref(caps);

  const std::vector<Box> boxes = face_boxes(faces, GST_VIDEO_INFO_WIDTH(&res.info), GST_VIDEO_INFO_HEIGHT(&res.info));
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  for (int i = 0; i <= frames; ++i)  // frame 0: warm-up
    gst_app_src_push_buffer(GST_APP_SRC(src), make_buffer(res.info, res.bgr[i % res.bgr.size()], boxes, i * kFrameDuration));
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);

  GstBus* bus = gst_element_get_bus(pipeline);
  GstState state;
  if (gst_element_get_state(pipeline, &state, nullptr, 120 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS) {
    run.error = "did not preroll";
    if (GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR)) {
      gst_message_parse_error(msg, &err, nullptr);
      run.error += std::string(": ") + (err ? err->message : "error");
      g_clear_error(&err);
      gst_message_unref(msg);
    }
  } else {
    const auto start = Clock::now();
    gst_element_set_state(pipeline, GST_STATE_PLAYING);
    GstMessage* msg = gst_bus_timed_pop_filtered(bus, 1800 * GST_SECOND,
                                                 GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR));
    if (msg == nullptr) {
      run.error = "timed out waiting for EOS";
    } else if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR) {
      gst_message_parse_error(msg, &err, nullptr);
      run.error = err ? err->message : "error";
      g_clear_error(&err);
    } else {
      run.ms_per_frame = std::chrono::duration<double, std::milli>(Clock::now() - start).count() / frames;
      run.ok = true;
    }
    if (msg) gst_message_unref(msg);
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return run;
}

Resolution make_resolution(int width, int height, int pictures) {
  Resolution res;
  res.name = std::to_string(width) + "x" + std::to_string(height);
  gst_video_info_set_format(&res.info, GST_VIDEO_FORMAT_I420, width, height);
  GST_VIDEO_INFO_FPS_N(&res.info) = 25;
  GST_VIDEO_INFO_FPS_D(&res.info) = 1;
  cv::RNG rng(11);
  for (int i = 0; i < pictures; ++i) {
    cv::Mat bgr(height, width, CV_8UC3);
    rng.fill(bgr, cv::RNG::NORMAL, cv::Scalar(110, 120, 130), cv::Scalar(40, 40, 40));
    cv::GaussianBlur(bgr, bgr, cv::Size(), 3);
    res.bgr.push_back(bgr);
  }
  return res;
}

void print_row(const std::string& resolution, const std::string& pipeline, int faces, const Run& r, double zero_ms) {
  if (!r.ok) {
    std::printf("| %-9s | %-28s | %5d | %8s | %8s | %8s |  %s\n", resolution.c_str(), pipeline.c_str(), faces, "n/a",
                "n/a", "", r.error.c_str());
    return;
  }
  char per_face[32] = "";
  if (faces > 0 && zero_ms >= 0) std::snprintf(per_face, sizeof per_face, "%.1f", (r.ms_per_frame - zero_ms) / faces);
  std::printf("| %-9s | %-28s | %5d | %8.1f | %8.2f | %8s |\n", resolution.c_str(), pipeline.c_str(), faces,
              1000.0 / r.ms_per_frame, r.ms_per_frame, per_face);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  int frames = 10;
  std::vector<std::pair<std::string, std::string>> models;  // path, label
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--frames" && i + 1 < argc) {
      frames = std::max(1, std::atoi(argv[++i]));
    } else {
      const auto colon = arg.rfind(':');
      models.push_back(colon == std::string::npos ? std::pair{arg, arg} : std::pair{arg.substr(0, colon), arg.substr(colon + 1)});
    }
  }
  if (models.empty()) {
    std::fprintf(stderr, "usage: %s MODEL.safetensors[:label]... [--frames N]  (GST_PLUGIN_PATH = the build's gst-plugin/)\n",
                 argv[0]);
    return 2;
  }
  if (GstElementFactory* f = gst_element_factory_find("facesr")) {
    gst_object_unref(f);
  } else {
    std::fprintf(stderr, "the facesr element was not found: set GST_PLUGIN_PATH to the build's gst-plugin/ directory\n");
    return 1;
  }

  std::printf("facesr element, %d timed frames per row with faces, %d without (+1 warm-up each), I420 in, faces\n"
              "given as upstream ROI metas (32-64 px), threads=0 (all %u cores), fakesink sync=false.\n"
              "ms/face = (ms/frame - ms/frame at 0 faces) / faces.\n\n",
              frames, std::max(5 * frames, 50), std::thread::hardware_concurrency());
  std::printf("| %-9s | %-28s | %5s | %8s | %8s | %8s |\n", "frame", "pipeline", "faces", "frames/s", "ms/frame", "ms/face");
  std::printf("|-----------|------------------------------|------:|---------:|---------:|---------:|\n");
  // Rows without faces take well under a millisecond a frame: more frames, so that the pipeline's
  // start (PLAYING) does not dominate.
  const int cheap_frames = std::max(5 * frames, 50);
  for (auto [w, h] : {std::pair{854, 480}, std::pair{1920, 1080}}) {
    const Resolution res = make_resolution(w, h, 4);
    print_row(res.name, "videoconvert (passthrough)", 0, run_pipeline("videoconvert", res, 0, cheap_frames), -1);
    print_row(res.name, "videoconvert ! BGRx", 0,
              run_pipeline("videoconvert ! video/x-raw,format=BGRx", res, 0, cheap_frames), -1);
    for (const auto& [path, label] : models) {
      double zero_ms = -1;
      for (int faces : kFaceCounts) {
        const Run r = run_pipeline("facesr detector=upstream max-face-size=0 model=\"" + path + "\"", res, faces,
                                   faces == 0 ? cheap_frames : frames);
        if (faces == 0 && r.ok) zero_ms = r.ms_per_frame;
        print_row(res.name, "facesr " + label, faces, r, zero_ms);
      }
    }
  }
  return 0;
}
