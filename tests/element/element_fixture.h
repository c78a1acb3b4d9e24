// The facesr element tests' fixture (GstHarness on small synthetic frames, faces from upstream
// GstVideoRegionOfInterestMeta, the random-weights test model FACESR_TEST_MODEL), shared by
// test_facesr_element.cpp (behaviour) and test_facesr_robustness.cpp (hostile input).
#pragma once

#include <gst/check/gstharness.h>
#include <gst/gst.h>
#include <gst/video/video.h>

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <cstring>
#include <sstream>
#include <string>
#include <vector>

namespace facesr_test {


const char* const kAllFormats[] = {"RGB", "BGR", "RGBx", "BGRx", "xRGB", "xBGR",
                                   "RGBA", "BGRA", "ARGB", "ABGR", "I420", "NV12"};

struct Box {
  int x, y, w, h;
};

// A facesr with the test model, detector=upstream, max-face-size=0, and `props` ("name=value name=value").
inline GstElement* make_facesr(const std::string& props, GstBus* bus = nullptr) {
  GstElement* e = gst_element_factory_make("facesr", nullptr);
  EXPECT_NE(e, nullptr) << "facesr not found: is GST_PLUGIN_PATH the build's gst-plugin/?";
  if (e == nullptr) return nullptr;
  gst_object_ref_sink(e);
  // max-face-size=0: the tests' faces are 20-80 px, above the auto limit of the test model's 1.5x
  // crop rule (21 px); test_facesr_element.cpp tests the auto limit itself.
  g_object_set(e, "model", FACESR_TEST_MODEL, "threads", 1, "max-face-size", 0, nullptr);
  gst_util_set_object_arg(G_OBJECT(e), "detector", "upstream");
  std::istringstream words(props);
  std::string word;
  while (words >> word) {
    const auto eq = word.find('=');
    gst_util_set_object_arg(G_OBJECT(e), word.substr(0, eq).c_str(), word.substr(eq + 1).c_str());
  }
  if (bus) gst_element_set_bus(e, bus);
  return e;
}

class ElementTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { gst_init(nullptr, nullptr); }

  void TearDown() override { stop(); }

  // Ends the harness started by start() (tests that start several in a loop call it between them).
  void stop() {
    if (harness_) gst_harness_teardown(harness_);
    harness_ = nullptr;
    if (bus_) {
      gst_bus_set_flushing(bus_, TRUE);
      gst_object_unref(bus_);
    }
    bus_ = nullptr;
  }

  GstHarness* start(const std::string& props, const char* format, int width, int height) {
    bus_ = gst_bus_new();
    GstElement* e = make_facesr(props, bus_);
    harness_ = gst_harness_new_with_element(e, "sink", "src");
    gst_object_unref(e);
    gst_harness_set_src_caps(harness_, caps(format, width, height));
    return harness_;
  }

  static GstCaps* caps(const char* format, int width, int height) {
    return gst_caps_new_simple("video/x-raw", "format", G_TYPE_STRING, format, "width", G_TYPE_INT, width,
                               "height", G_TYPE_INT, height, "framerate", GST_TYPE_FRACTION, 25, 1, nullptr);
  }

  // A frame with smooth structure and some noise in every plane (padding bytes too).
  static GstBuffer* make_frame(const char* format, int width, int height, unsigned seed = 1) {
    GstVideoInfo info;
    gst_video_info_set_format(&info, gst_video_format_from_string(format), width, height);
    GstBuffer* buffer = gst_buffer_new_allocate(nullptr, GST_VIDEO_INFO_SIZE(&info), nullptr);
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_WRITE);
    unsigned state = seed * 2654435761u;
    for (gsize i = 0; i < map.size; ++i) {
      state = state * 1664525u + 1013904223u;
      const gsize row = i / 97, col = i % 97;
      map.data[i] = static_cast<guint8>(40 + (row * 3 + col * 2) % 150 + (state >> 28));
    }
    gst_buffer_unmap(buffer, &map);
    gst_buffer_add_video_meta(buffer, GST_VIDEO_FRAME_FLAG_NONE, GST_VIDEO_INFO_FORMAT(&info), width, height);
    return buffer;
  }

  static void add_faces(GstBuffer* buffer, const std::vector<Box>& faces) {
    for (const Box& b : faces) gst_buffer_add_video_region_of_interest_meta(buffer, "face", b.x, b.y, b.w, b.h);
  }

  static std::vector<guint8> bytes(GstBuffer* buffer) {
    GstMapInfo map;
    gst_buffer_map(buffer, &map, GST_MAP_READ);
    std::vector<guint8> copy(map.data, map.data + map.size);
    gst_buffer_unmap(buffer, &map);
    return copy;
  }

  // facesr's own ROI metas (with the "facesr" params).
  static std::vector<GstVideoRegionOfInterestMeta*> facesr_metas(GstBuffer* buffer) {
    std::vector<GstVideoRegionOfInterestMeta*> metas;
    gpointer state = nullptr;
    GstMeta* meta;
    while ((meta = gst_buffer_iterate_meta_filtered(buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
      auto* roi = reinterpret_cast<GstVideoRegionOfInterestMeta*>(meta);
      if (gst_video_region_of_interest_meta_get_param(roi, "facesr")) metas.push_back(roi);
    }
    return metas;
  }

  // What facesr says it did with the face: "enhanced", or why not ("too-small", "too-large", "max-faces").
  static std::string reason_of(GstVideoRegionOfInterestMeta* meta) {
    const GstStructure* params = gst_video_region_of_interest_meta_get_param(meta, "facesr");
    const char* reason = params ? gst_structure_get_string(params, "reason") : nullptr;
    return reason ? reason : "";
  }

  // facesr's metas of the faces it enhanced.
  static std::vector<GstVideoRegionOfInterestMeta*> enhanced_metas(GstBuffer* buffer) {
    std::vector<GstVideoRegionOfInterestMeta*> enhanced;
    for (auto* meta : facesr_metas(buffer))
      if (reason_of(meta) == "enhanced") enhanced.push_back(meta);
    return enhanced;
  }

  // The "facesr" element messages posted so far.
  std::vector<GstMessage*> messages() {
    std::vector<GstMessage*> found;
    while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ELEMENT)) {
      if (gst_message_has_name(m, "facesr"))
        found.push_back(m);
      else
        gst_message_unref(m);
    }
    return found;
  }

  // Bytes of `a` and `b` differ only at pixels inside one of `allowed` (frame pixels), for every
  // plane of `format` (chroma planes: the subsampled rectangles, grown by one sample).
  static ::testing::AssertionResult changes_only_inside(const char* format, int width, int height, GstBuffer* a,
                                                        GstBuffer* b, const std::vector<Box>& allowed,
                                                        int* changed_inside = nullptr) {
    GstVideoInfo info;
    gst_video_info_set_format(&info, gst_video_format_from_string(format), width, height);
    GstVideoFrame fa, fb;
    gst_video_frame_map(&fa, &info, a, GST_MAP_READ);
    gst_video_frame_map(&fb, &info, b, GST_MAP_READ);
    int outside = 0, inside = 0;
    for (guint p = 0; p < GST_VIDEO_FRAME_N_PLANES(&fa); ++p) {
      const int comp = p == 0 ? 0 : 1;
      const int pw = GST_VIDEO_FRAME_COMP_WIDTH(&fa, comp), ph = GST_VIDEO_FRAME_COMP_HEIGHT(&fa, comp);
      const int sx = pw < width ? 2 : 1;
      const int sy = ph < height ? 2 : 1;
      const int bytes_per_px = GST_VIDEO_FRAME_COMP_PSTRIDE(&fa, comp);
      for (int y = 0; y < ph; ++y) {
        const guint8* ra = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fa, p)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&fa, p);
        const guint8* rb = static_cast<guint8*>(GST_VIDEO_FRAME_PLANE_DATA(&fb, p)) + y * GST_VIDEO_FRAME_PLANE_STRIDE(&fb, p);
        for (int x = 0; x < pw; ++x) {
          if (std::memcmp(ra + x * bytes_per_px, rb + x * bytes_per_px, bytes_per_px) == 0) continue;
          bool ok = false;
          for (const Box& box : allowed)
            ok |= x * sx >= box.x - sx && x * sx < box.x + box.w + sx && y * sy >= box.y - sy && y * sy < box.y + box.h + sy;
          (ok ? inside : outside)++;
        }
      }
    }
    gst_video_frame_unmap(&fa);
    gst_video_frame_unmap(&fb);
    if (changed_inside) *changed_inside = inside;
    if (outside > 0) return ::testing::AssertionFailure() << outside << " samples changed outside the face regions";
    return ::testing::AssertionSuccess();
  }

  // The crop region of the test model's crop rule (side 1.5 x the larger side, same centre).
  static Box region_of(const Box& face) {
    const int side = static_cast<int>(std::lround(1.5 * std::max(face.w, face.h)));
    const double cx = face.x + face.w / 2.0, cy = face.y + face.h / 2.0;
    return {static_cast<int>(std::lround(cx - side / 2.0)), static_cast<int>(std::lround(cy - side / 2.0)), side, side};
  }

  GstHarness* harness_ = nullptr;
  GstBus* bus_ = nullptr;
};

// The change to PAUSED must fail, with an error message that says what to do.
inline void expect_start_fails(const std::string& props, const char* needle) {
  GstBus* bus = gst_bus_new();
  GstElement* e = make_facesr(props, bus);
  EXPECT_EQ(gst_element_set_state(e, GST_STATE_PAUSED), GST_STATE_CHANGE_FAILURE);
  GstMessage* msg = gst_bus_pop_filtered(bus, GST_MESSAGE_ERROR);
  ASSERT_NE(msg, nullptr) << "no error message";
  GError* error = nullptr;
  gchar* debug = nullptr;
  gst_message_parse_error(msg, &error, &debug);
  const std::string text = std::string(error->message) + " " + (debug ? debug : "");
  EXPECT_NE(text.find(needle), std::string::npos) << text;
  EXPECT_EQ(error->domain, GST_RESOURCE_ERROR);
  g_error_free(error);
  g_free(debug);
  gst_message_unref(msg);
  gst_element_set_state(e, GST_STATE_NULL);
  gst_object_unref(e);
  gst_bus_set_flushing(bus, TRUE);
  gst_object_unref(bus);
}

}  // namespace facesr_test
