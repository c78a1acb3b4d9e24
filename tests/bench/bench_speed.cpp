// The speed figures of issue #7 in one table, each beside its baseline, all measured in this run:
//
//   1. Generator, ms per face at batch 8 on 2 threads:
//        baseline  ngf 16, float32, NCHW (the spine's first measurement: how the engine ran before)
//        rows      ngf 16 channels-last fp32; ngf 16 channels-last bf16; the same with batch norms
//                  folded (and so the fused decoders); then through facesr::Engine (as the element
//                  runs it: precision auto, folded, fused, sharp output only, malloc keeping freed
//                  memory): ngf 16 (PixelShuffle upsampling, random weights), ngf 16 with the paper's
//                  transposed-conv upsampling (random weights), the same with subpixel heads
//                  (generator.h, HeadMode; random weights), the shipped default model (ngf 8); the
//                  last two also with the faces of a batch side by side (EngineOptions::parallel_faces,
//                  the default; the other rows run them serially, as before). The engine rows are
//                  measured in turn, 5 rounds, each row's median printed.
//                                                                                  target <= 8 ms
//   2. Element on I420 streams of real faces (dlib's "johns" chips) moving back and forth 1-2 px a
//      frame over a still blurred-noise background, appsrc ! facesr ! fakesink sync=false: sustained
//      frames/s, recall and faces enhanced per second (--element-only: these rows alone):
//        baseline  854x480, faces 40/48 px, haar, precision=fp32 with a random-weights ngf-16 model
//        rows      the same with the shipped model; ALL DEFAULTS on 854x480 with faces of 16/20 px
//                  (target >= 25 fps) and the same with detector=haar; ALL DEFAULTS on 1920x1080
//                  with 4 faces of 16-22 px (target >= 15 fps)
//   3. Detection vs gst-plugins-bad facedetect: printed by bench-detect (tests/bench/speed.sh runs
//      both programs).
//
// Run: tests/bench/speed.sh [BUILD_DIR]   or   meson test --benchmark -C BUILD speed
// Arguments: DEFAULT_MODEL NGF16_MODEL NGF16_TRANSPOSED_MODEL NGF16_TRANSPOSED_SUBPIXEL_MODEL [--frames N]
// [--generator-only];
// GST_PLUGIN_PATH must hold the build's plugin.
// Timings on shared machines drift +-30% between runs: compare rows of one run only.
#include <gst/app/gstappsrc.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdlib>
#include <cstdio>
#include <tuple>
#include <cstring>
#include <filesystem>
#include <string>
#include <memory>
#include <vector>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "crop_batch.h"
#include "engine.h"
#include "generator.h"

namespace {

using Clock = std::chrono::steady_clock;
constexpr int kBatch = 8;
constexpr int kThreads = 2;
constexpr int kEngineRounds = 5;             // engine rows: rounds of interleaved measurements
constexpr double kEngineRoundSeconds = 1.5;  // per row and round

double seconds_since(Clock::time_point t0) { return std::chrono::duration<double>(Clock::now() - t0).count(); }

// ms per face of `run_batch`, after two warm-up calls, over at least `min_seconds`.
template <typename F>
double ms_per_face(F&& run_batch, double min_seconds = 3.0) {
  run_batch();
  run_batch();
  int calls = 0;
  const auto t0 = Clock::now();
  while (calls < 3 || seconds_since(t0) < min_seconds) {
    run_batch();
    ++calls;
  }
  return 1000.0 * seconds_since(t0) / (calls * kBatch);
}

struct GeneratorSetup {
  bool channels_last = false;
  torch::ScalarType dtype = torch::kFloat32;
  facesr::UpsampleMode upsample = facesr::UpsampleMode::PixelShuffle;
  bool fold = false;  // batch norms folded into the convs (as the engine does)
};

double generator_ms(const GeneratorSetup& setup) {
  at::set_num_threads(kThreads);
  torch::manual_seed(0);
  facesr::Generator g(facesr::GeneratorOptions().ngf(16).upsample(setup.upsample));
  g->eval();
  if (setup.fold) g->fold_batch_norms();
  g->to(setup.dtype);
  const bool channels_last = setup.channels_last;
  if (channels_last) facesr::to_channels_last(*g);
  c10::InferenceMode inference;
  auto input = torch::rand({kBatch, 3, 32, 32}) * 2 - 1;
  if (channels_last) input = input.contiguous(at::MemoryFormat::ChannelsLast);
  return ms_per_face([&] { g->forward(input); });
}

// One engine on 8 crops, as the element runs it (CPU, kThreads; the element's precision is auto).
struct EngineRow {
  EngineRow(const std::string& model, bool parallel_faces, facesr::Precision precision)
      : engine(open(model, parallel_faces, precision)), batch(kBatch, engine->input_size()) {
    description = "ngf " + std::to_string(engine->metadata().architecture.ngf) + ", " +
                  std::to_string(engine->scale()) + "x, " + engine->device_description();
  }
  static std::unique_ptr<facesr::Engine> open(const std::string& model, bool parallel_faces, facesr::Precision precision) {
    facesr::EngineOptions options;
    options.device = facesr::Device::Cpu;
    options.threads = kThreads;
    options.parallel_faces = parallel_faces;
    options.precision = precision;
    return facesr::Engine::open(model, options);
  }
  double ms_per_face(double seconds) { return ::ms_per_face([&] { batch.enhance(*engine); }, seconds); }
  std::unique_ptr<facesr::Engine> engine;
  std::string description;
  facesr::bench::CropBatch batch;
};

// The engine rows' median ms/face over `rounds` rounds, each row measured once per round in turn,
// so that the machine's drift (+-30 % over minutes here) lands on every row alike.
std::vector<double> interleaved_medians(std::vector<EngineRow>& rows, int rounds, double seconds) {
  std::vector<std::vector<double>> samples(rows.size());
  for (int r = 0; r < rounds; ++r)
    for (std::size_t i = 0; i < rows.size(); ++i) samples[i].push_back(rows[i].ms_per_face(seconds));
  std::vector<double> medians;
  for (auto& s : samples) {
    std::sort(s.begin(), s.end());
    medians.push_back(s[s.size() / 2]);
  }
  return medians;
}

// ---- the element on a stream --------------------------------------------------------------

struct Stream {
  GstVideoInfo info;
  std::vector<GstBuffer*> buffers;            // I420, with PTS; copied for each run
  std::vector<std::vector<cv::Rect>> truth;   // per frame: the pasted faces' boxes
  int faces = 0;
};

// width x height frames (854x480 by default) with faces from dlib's johns chips (face = centre 108 px of
// the 150 px chip), `face_widths` px wide, one face per width; 1920x1080 streams have them 2.25x as
// far apart.
Stream make_stream(int frames, std::vector<int> face_widths = {40, 48}, int width = 854, int height = 480) {
  Stream s;
  s.faces = static_cast<int>(face_widths.size());
  gst_video_info_set_format(&s.info, GST_VIDEO_FORMAT_I420, width, height);
  GST_VIDEO_INFO_FPS_N(&s.info) = 25;
  GST_VIDEO_INFO_FPS_D(&s.info) = 1;
  std::vector<cv::Mat> chips;
  const std::filesystem::path johns = "/usr/share/doc/libdlib19.1/examples/johns";
  for (const auto& person : {"John_Salley", "John_Simm", "John_Savage", "John_Schneider"})
    if (std::filesystem::is_directory(johns / person))
      for (const auto& entry : std::filesystem::directory_iterator(johns / person)) {
        chips.push_back(cv::imread(entry.path().string()));
        break;
      }
  if (chips.size() != 4 || chips[0].empty() || chips[1].empty())
    throw std::runtime_error("cannot read dlib's johns chips under " + johns.string() + " (package libdlib19.1)");
  cv::RNG rng(5);
  cv::Mat background(height, width, CV_8UC3);
  rng.fill(background, cv::RNG::NORMAL, cv::Scalar(110, 120, 130), cv::Scalar(40, 40, 40));
  cv::GaussianBlur(background, background, cv::Size(), 3);
  for (int f = 0; f < frames; ++f) {
    cv::Mat bgr = background.clone();
    s.truth.emplace_back();
    for (int k = 0; k < s.faces; ++k) {
      const int chip_side = face_widths[k] * 150 / 108;
      cv::Mat chip;
      cv::resize(chips[k % 4], chip, cv::Size(chip_side, chip_side), 0, 0, cv::INTER_AREA);
      // Continuous back-and-forth motion (a triangle wave): 1 or 2 px a frame sideways, 0.5 down.
      auto triangle = [](int t, int period) { return period - std::abs(t % (2 * period) - period); };
      const double spread = width / 854.0;
      const int x = static_cast<int>(spread * (200 + 350 * (k % 2))) + (k / 2) * 150 - triangle((k % 2 + 1) * f, 200);
      const int y = static_cast<int>(spread * (150 + 40 * (k % 2))) + (k / 2) * 250 + triangle(f, 120) / 2;
      chip.copyTo(bgr(cv::Rect(x, y, chip_side, chip_side)));
      const int margin = (chip_side - face_widths[k]) / 2;
      s.truth.back().push_back({x + margin, y + margin, face_widths[k], face_widths[k]});
    }
    cv::Mat i420;
    cv::cvtColor(bgr, i420, cv::COLOR_BGR2YUV_I420);
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&s.info), nullptr);
    GstVideoFrame frame;
    gst_video_frame_map(&frame, &s.info, buffer, GST_MAP_WRITE);
    const uint8_t* src = i420.data;
    for (int plane = 0; plane < 3; ++plane) {
      const int pw = plane == 0 ? width : width / 2, ph = plane == 0 ? height : height / 2;
      auto* dst = static_cast<uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&frame, plane));
      for (int y = 0; y < ph; ++y, src += pw)
        std::memcpy(dst + static_cast<std::size_t>(y) * GST_VIDEO_FRAME_PLANE_STRIDE(&frame, plane), src, pw);
    }
    gst_video_frame_unmap(&frame);
    GST_BUFFER_PTS(buffer) = f * GST_SECOND / 25;
    GST_BUFFER_DURATION(buffer) = GST_SECOND / 25;
    s.buffers.push_back(buffer);
  }
  return s;
}

struct StreamRun {
  double fps = 0;
  double recall = 0;       // pasted faces reported (IoU >= 0.3), over all frames
  double extra = 0;        // reported boxes matching no pasted face, per frame
  std::string error;
};

double iou(const cv::Rect& a, const cv::Rect& b) {
  const double inter = (a & b).area();
  return inter / (a.area() + b.area() - inter);
}

// appsrc ! facesr <properties> ! fakesink sync=false over the whole stream; frames/s from PLAYING to
// EOS after the preroll (model load, warm-up and the first frame excluded); faces counted from the
// element's "facesr" messages.
StreamRun run_stream(const Stream& s, const std::string& properties) {
  StreamRun run;
  GError* err = nullptr;
  const std::string description = "appsrc name=src ! facesr name=f " + properties + " ! fakesink sync=false";
  GstElement* pipeline = gst_parse_launch(description.c_str(), &err);
  if (pipeline == nullptr || err != nullptr) {
    run.error = err ? err->message : "cannot build the pipeline";
    g_clear_error(&err);
    return run;
  }
  GstElement* src = gst_bin_get_by_name(GST_BIN(pipeline), "src");
  GstCaps* caps = gst_video_info_to_caps(&s.info);
  g_object_set(src, "caps", caps, "format", GST_FORMAT_TIME, "block", FALSE, "max-bytes", guint64(0), nullptr);
  gst_caps_unref(caps);
  for (GstBuffer* b : s.buffers) gst_app_src_push_buffer(GST_APP_SRC(src), gst_buffer_copy_deep(b));
  gst_app_src_end_of_stream(GST_APP_SRC(src));
  gst_object_unref(src);

  GstBus* bus = gst_element_get_bus(pipeline);
  // PAUSED first: the model loads and warms up, and the first frame goes through (preroll).
  gst_element_set_state(pipeline, GST_STATE_PAUSED);
  if (gst_element_get_state(pipeline, nullptr, nullptr, 300 * GST_SECOND) != GST_STATE_CHANGE_SUCCESS)
    run.error = "did not preroll (model or plugin missing?)";
  const auto start = Clock::now();
  if (run.error.empty()) gst_element_set_state(pipeline, GST_STATE_PLAYING);
  int matched = 0, extra = 0;
  while (run.error.empty()) {
    GstMessage* msg = gst_bus_timed_pop_filtered(
        bus, 1800 * GST_SECOND, GstMessageType(GST_MESSAGE_EOS | GST_MESSAGE_ERROR | GST_MESSAGE_ELEMENT));
    if (msg == nullptr) {
      run.error = "timed out";
      break;
    }
    const GstMessageType type = GST_MESSAGE_TYPE(msg);
    if (type == GST_MESSAGE_ELEMENT) {
      // One "facesr" message per frame with faces (and one when they disappear).
      const GstStructure* st = gst_message_get_structure(msg);
      guint64 pts = 0;
      const GValue* list = gst_structure_has_name(st, "facesr") ? gst_structure_get_value(st, "faces") : nullptr;
      if (list != nullptr && gst_structure_get_uint64(st, "timestamp", &pts)) {
        const std::size_t frame = static_cast<std::size_t>(pts * 25 / GST_SECOND);
        std::vector<cv::Rect> truth = frame < s.truth.size() ? s.truth[frame] : std::vector<cv::Rect>{};
        for (guint i = 0; i < gst_value_list_get_size(list); ++i) {
          const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(list, i));
          gboolean enhanced = FALSE;
          if (!gst_structure_get_boolean(face, "enhanced", &enhanced) || !enhanced) continue;  // left alone
          guint x = 0, y = 0, w = 0, h = 0;
          gst_structure_get(face, "x", G_TYPE_UINT, &x, "y", G_TYPE_UINT, &y, "width", G_TYPE_UINT, &w, "height",
                            G_TYPE_UINT, &h, nullptr);
          const cv::Rect box(static_cast<int>(x), static_cast<int>(y), static_cast<int>(w), static_cast<int>(h));
          auto best = std::max_element(truth.begin(), truth.end(),
                                       [&](const cv::Rect& a, const cv::Rect& b) { return iou(a, box) < iou(b, box); });
          if (best != truth.end() && iou(*best, box) >= 0.3) {
            ++matched;
            truth.erase(best);  // each pasted face counts once
          } else {
            ++extra;
          }
        }
      }
    } else if (type == GST_MESSAGE_ERROR) {
      gst_message_parse_error(msg, &err, nullptr);
      run.error = err ? err->message : "error";
      g_clear_error(&err);
    } else {  // EOS: every frame after the prerolled one went through
      run.fps = (static_cast<double>(s.buffers.size()) - 1) / seconds_since(start);
      run.recall = matched / (static_cast<double>(s.faces) * static_cast<double>(s.buffers.size()));
      run.extra = extra / static_cast<double>(s.buffers.size());
    }
    gst_message_unref(msg);
    if (type != GST_MESSAGE_ELEMENT) break;
  }
  gst_object_unref(bus);
  gst_element_set_state(pipeline, GST_STATE_NULL);
  gst_object_unref(pipeline);
  return run;
}

void print_row(const char* figure, const std::string& what, double value, double baseline, const char* unit,
               const char* target, bool lower_is_better) {
  char ratio[32] = "-";
  if (baseline > 0 && value > 0)
    std::snprintf(ratio, sizeof ratio, "%.2fx", lower_is_better ? baseline / value : value / baseline);
  std::printf("| %-10s | %-58s | %8.1f %-7s | %7s | %-9s |\n", figure, what.c_str(), value, unit, ratio, target);
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  gst_init(&argc, &argv);
  std::vector<std::string> models;
  int frames = 150;
  bool generator_only = false, element_only = false;
  for (int i = 1; i < argc; ++i) {
    if (std::string(argv[i]) == "--frames" && i + 1 < argc) frames = std::max(10, std::atoi(argv[++i]));
    else if (std::string(argv[i]) == "--generator-only") generator_only = true;
    else if (std::string(argv[i]) == "--element-only") element_only = true;
    else models.push_back(argv[i]);
  }
  if (models.size() != 4) {
    std::fprintf(stderr,
                 "usage: %s DEFAULT_MODEL NGF16_MODEL NGF16_TRANSPOSED_MODEL NGF16_TRANSPOSED_SUBPIXEL_MODEL "
                 "[--frames N] [--generator-only]\n",
                 argv[0]);
    return 2;
  }
  const std::string default_model = models[0], ngf16_model = models[1], ngf16_transposed_model = models[2],
                    ngf16_subpixel_model = models[3];
  std::printf("facesr speed (issue #7), one run; ratio = speed-up over the row's baseline (same run).\n"
              "CPU threads %d for the generator rows; the element uses all cores (threads=0).\n\n", kThreads);
  std::printf("| %-10s | %-58s | %-16s | %7s | %-9s |\n", "figure", "configuration", "value", "ratio", "target");
  std::printf("|------------|------------------------------------------------------------|------------------|--------:|-----------|\n");

  if (!element_only) try {
    using facesr::UpsampleMode;
    // Generator objects first, the engine rows last: the first Engine::open sets malloc's options
    // (EngineOptions::keep_freed_memory) for the rest of the process.
    const double base = generator_ms({});
    print_row("generator", "BASELINE ngf 16 fp32 NCHW, batch 8", base, 0, "ms/face", "", true);
    print_row("generator", "ngf 16 fp32 channels-last", generator_ms({true}), base, "ms/face", "<= 8", true);
    print_row("generator", "ngf 16 bf16 channels-last", generator_ms({true, torch::kBFloat16}), base, "ms/face", "<= 8", true);
    print_row("generator", "ngf 16 bf16 channels-last, folded + fused",
              generator_ms({true, torch::kBFloat16, UpsampleMode::PixelShuffle, true}), base, "ms/face", "<= 8", true);
    // precision=auto (on AVX-512 BF16 CPUs the faster of bf16 and fp32 as timed at open; the row's
    // description gives the times) beside fp32 for the default model and ngf 16: whether auto's choice
    // is the faster one on this CPU.
    using facesr::Precision;
    std::vector<std::tuple<std::string, std::string, bool, Precision>> engine_rows = {
        {"ngf 16 via Engine, faces serial", ngf16_model, false, Precision::Auto},
        {"ngf 16 via Engine, faces serial", ngf16_model, false, Precision::Float32},
        {"ngf 16 transposed via Engine, faces serial", ngf16_transposed_model, false, Precision::Auto},
        {"ngf 16 transposed, subpixel heads, via Engine, faces serial", ngf16_subpixel_model, false, Precision::Auto},
        {"ngf 16 transposed, subpixel heads, via Engine", ngf16_subpixel_model, true, Precision::Auto},
        {"default model via Engine, faces serial", default_model, false, Precision::Auto},
        {"default model via Engine, faces serial", default_model, false, Precision::Float32},
        {"default model via Engine", default_model, true, Precision::Auto},
        {"default model via Engine", default_model, true, Precision::Float32}};
    // The default's companions (4x: 64x64 input, 2x: 128x128), where they are beside it.
    const std::string folder = default_model.substr(0, default_model.find_last_of('/') + 1);
    for (const char* scale : {"4x", "2x"}) {
      const std::string path = folder + "facesr-default-" + scale + ".safetensors";
      if (!std::filesystem::exists(path)) continue;
      engine_rows.push_back({std::string("default's ") + scale + " companion via Engine, faces serial", path, false,
                             Precision::Float32});
      engine_rows.push_back({std::string("default's ") + scale + " companion via Engine", path, true, Precision::Auto});
    }
    std::vector<EngineRow> rows;
    for (const auto& [label, path, parallel, precision] : engine_rows) rows.emplace_back(path, parallel, precision);
    const auto medians = interleaved_medians(rows, kEngineRounds, kEngineRoundSeconds);
    for (std::size_t i = 0; i < rows.size(); ++i)
      print_row("generator", std::get<0>(engine_rows[i]) + " (" + rows[i].description + ")", medians[i], base, "ms/face",
                "<= 8", true);
    std::printf("(engine rows: median of %d rounds of %.1f s each, the rows in turn within a round)\n", kEngineRounds,
                kEngineRoundSeconds);
  } catch (const std::exception& e) {
    std::printf("generator rows failed: %s\n", e.what());
  }
  if (generator_only) return 0;

  Stream stream, small, hd;
  try {
    stream = make_stream(frames);
    small = make_stream(frames, {16, 20});
    hd = make_stream(frames, {16, 20, 18, 22}, 1920, 1080);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench-speed: %s\n", e.what());
    return 1;
  }
  // What precision=auto is on this CPU (the element rows use it, except the fp32 baseline).
  try {
    facesr::EngineOptions options;
    std::printf("\nelement rows: precision=auto runs the default model on %s here (%s)\n",
                facesr::Engine::open(default_model, options)->device_description().c_str(),
                std::getenv("ONEDNN_MAX_CPU_ISA") ? (std::string("ONEDNN_MAX_CPU_ISA=") + std::getenv("ONEDNN_MAX_CPU_ISA")).c_str()
                                                  : "no ISA limit");
  } catch (const std::exception& e) {
    std::printf("\nelement rows: the default model does not open: %s\n", e.what());
  }
  // max-face-size=0: the clip's faces are larger than the auto limit; this measures the cost of
  // enhancing them all, as the figures before the limit did.
  const StreamRun before = run_stream(stream, "max-face-size=0 detector=haar precision=fp32 model=\"" + ngf16_model + "\"");
  const StreamRun now = run_stream(stream, "max-face-size=0 detector=haar model=\"" + default_model + "\"");
  // Issue 19's figure: every property at its default (detector=auto: BlazeFace when its model is
  // there; max-face-size auto), on faces the defaults enhance: 16 and 20 px (HOG boxes; BlazeFace sees
  // the 24 px one as 29 px, above the auto limit).
  const StreamRun defaults = run_stream(small, "model=\"" + default_model + "\"");
  const StreamRun defaults_haar = run_stream(small, "detector=haar model=\"" + default_model + "\"");
  const StreamRun defaults_hd = run_stream(hd, "model=\"" + default_model + "\"");
  struct Row {
    std::string label;
    StreamRun run;
    double baseline;
    int faces;
    const char* target;
  };
  for (const Row& row : {Row{"854x480, BASELINE ngf16 random, fp32, haar, 40/48 px", before, 0.0, 2, ""},
                         Row{"854x480, default model, haar, 40/48 px all enhanced", now, before.fps, 2, ">= 25"},
                         Row{"854x480, ALL DEFAULTS, 2 faces 16/20 px", defaults, before.fps, 2, ">= 25"},
                         Row{"854x480, all defaults but detector=haar, 16/20 px", defaults_haar, before.fps, 2, ""},
                         Row{"1920x1080, ALL DEFAULTS, 4 faces 16-22 px", defaults_hd, 0.0, 4, ">= 15"}}) {
    if (!row.run.error.empty()) {
      std::printf("| element    | %-58s | failed: %s\n", row.label.c_str(), row.run.error.c_str());
      continue;
    }
    char what[200];
    std::snprintf(what, sizeof what, "%s; recall %.2f, +%.2f/frame, %.0f faces enhanced/s", row.label.c_str(),
                  row.run.recall, row.run.extra, row.run.fps * row.run.recall * row.faces);
    print_row("element", what, row.run.fps, row.baseline, "fps", row.target, false);
  }
  for (GstBuffer* b : stream.buffers) gst_buffer_unref(b);
  for (GstBuffer* b : small.buffers) gst_buffer_unref(b);
  for (GstBuffer* b : hd.buffers) gst_buffer_unref(b);
  std::printf("\nDetection vs gst-plugins-bad facedetect: see bench-detect's table (tests/bench/speed.sh prints it next).\n");
  return 0;
}
