// Tests of the facesr GStreamer element (gst-plugin/) with GstHarness on small synthetic frames.
// Faces come from upstream GstVideoRegionOfInterestMeta (detector=upstream), so no real face is
// needed; the model is the random-weights fixture tests/make_test_model.cpp makes (FACESR_TEST_MODEL).
// The environment (tests/element/meson.build) loads only the plugin from the build tree, with a
// registry file of its own.
#include <fstream>
#include <map>

#include "element_fixture.h"
#include "engine.h"  // facesr::cuda_available
#include "metadata.h"
#include "safetensors.h"

namespace {

using namespace facesr_test;

TEST_F(ElementTest, EveryFormatRoundTripsUnchangedWithoutFaces) {
  for (const char* format : kAllFormats) {
    SCOPED_TRACE(format);
    GstHarness* h = start("", format, 67, 35);
    GstBuffer* in = make_frame(format, 67, 35);
    const std::vector<guint8> before = bytes(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(bytes(out), before);
    GstCaps* out_caps = gst_pad_get_current_caps(h->sinkpad);
    GstCaps* expected = caps(format, 67, 35);
    EXPECT_TRUE(gst_caps_is_equal(out_caps, expected)) << gst_caps_to_string(out_caps);
    EXPECT_TRUE(facesr_metas(out).empty());
    EXPECT_TRUE(messages().empty());
    gst_caps_unref(expected);
    gst_caps_unref(out_caps);
    gst_buffer_unref(out);
    stop();
  }
}

TEST_F(ElementTest, ReplaceChangesPixelsOnlyInsideFaceRegionsInEveryFormat) {
  const std::vector<Box> faces = {{40, 30, 30, 30}, {110, 60, 24, 26}};
  std::vector<Box> regions;
  for (const Box& f : faces) regions.push_back(region_of(f));
  for (const char* format : kAllFormats) {
    SCOPED_TRACE(format);
    GstHarness* h = start("", format, 161, 121);
    GstBuffer* in = make_frame(format, 161, 121);
    add_faces(in, faces);
    GstBuffer* original = gst_buffer_copy_deep(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    int changed = 0;
    EXPECT_TRUE(changes_only_inside(format, 161, 121, original, out, regions, &changed));
    EXPECT_GT(changed, 200) << "the faces were not enhanced";
    EXPECT_EQ(facesr_metas(out).size(), 2u);
    gst_buffer_unref(original);
    gst_buffer_unref(out);
    stop();
  }
}

// The model's crop rule for the element's detector (issue 16: a model trained on aligned crops carries
// one rule per detector): here the test model with an "upstream" variant of side 1.0x the face
// instead of 1.5x, so only the face box itself may change.
TEST_F(ElementTest, CropRuleOfTheDetectorInUseDecidesTheRegion) {
  const auto bytes = facesr::read_file_bytes(FACESR_TEST_MODEL);
  const auto file = facesr::parse_safetensors(bytes.data(), bytes.size(), FACESR_TEST_MODEL);
  auto metadata = facesr::from_safetensors_metadata(file.metadata, FACESR_TEST_MODEL);
  metadata.crop_rule_by_detector["upstream"] = {0.0, 0.0, 1.0};
  metadata.crop_rule_by_detector["haar"] = {0.0, 0.0, 3.0};  // not this element's detector
  std::vector<facesr::TensorToWrite> tensors;
  for (const auto& t : file.tensors) tensors.push_back({t.name, t.dtype, t.shape, file.bytes(t)});
  const std::string model = ::testing::TempDir() + "facesr-by-detector.safetensors";
  facesr::write_safetensors(model, facesr::to_safetensors_metadata(metadata), tensors);

  GstHarness* h = start("model=" + model, "RGB", 160, 120);
  const Box face{60, 40, 40, 40};
  GstBuffer* in = make_frame("RGB", 160, 120);
  add_faces(in, {face});
  GstBuffer* original = gst_buffer_copy_deep(in);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  int changed = 0;
  EXPECT_TRUE(changes_only_inside("RGB", 160, 120, original, out, {face}, &changed));
  EXPECT_GT(changed, 200);
  gst_buffer_unref(original);
  gst_buffer_unref(out);
  std::remove(model.c_str());
}

TEST_F(ElementTest, TimestampsDurationAndFlagsPassThrough) {
  GstHarness* h = start("", "I420", 96, 64);
  GstBuffer* in = make_frame("I420", 96, 64);
  add_faces(in, {{30, 20, 24, 24}});
  GST_BUFFER_PTS(in) = 3 * GST_SECOND;
  GST_BUFFER_DTS(in) = 2 * GST_SECOND;
  GST_BUFFER_DURATION(in) = 40 * GST_MSECOND;
  GST_BUFFER_OFFSET(in) = 75;
  GST_BUFFER_FLAG_SET(in, GST_BUFFER_FLAG_DELTA_UNIT);
  GST_BUFFER_FLAG_SET(in, GST_BUFFER_FLAG_MARKER);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(GST_BUFFER_PTS(out), 3 * GST_SECOND);
  EXPECT_EQ(GST_BUFFER_DTS(out), 2 * GST_SECOND);
  EXPECT_EQ(GST_BUFFER_DURATION(out), 40 * GST_MSECOND);
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_DELTA_UNIT));
  EXPECT_TRUE(GST_BUFFER_FLAG_IS_SET(out, GST_BUFFER_FLAG_MARKER));
  gst_buffer_unref(out);
}

TEST_F(ElementTest, MetasAndMessagesDescribeTheFacesAndSaySynthesized) {
  GstHarness* h = start("", "RGB", 200, 150);
  GstBuffer* in = make_frame("RGB", 200, 150);
  const std::vector<Box> faces = {{20, 30, 40, 40}, {120, 50, 32, 32}};
  add_faces(in, faces);
  GST_BUFFER_PTS(in) = 0;
  GST_BUFFER_DURATION(in) = 40 * GST_MSECOND;
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);

  const auto metas = facesr_metas(out);
  ASSERT_EQ(metas.size(), 2u);
  std::vector<int> ids;
  for (std::size_t i = 0; i < metas.size(); ++i) {
    GstVideoRegionOfInterestMeta* roi = metas[i];
    EXPECT_EQ(roi->roi_type, g_quark_from_string("face"));
    bool matched = false;
    for (const Box& f : faces)
      matched |= std::abs(static_cast<int>(roi->x) - f.x) <= 1 && std::abs(static_cast<int>(roi->y) - f.y) <= 1 &&
                 std::abs(static_cast<int>(roi->w) - f.w) <= 1 && std::abs(static_cast<int>(roi->h) - f.h) <= 1;
    EXPECT_TRUE(matched) << roi->x << "," << roi->y << " " << roi->w << "x" << roi->h;
    GstStructure* p = gst_video_region_of_interest_meta_get_param(roi, "facesr");
    gboolean synthesized = FALSE, enhanced = FALSE;
    int id = 0;
    EXPECT_TRUE(gst_structure_get_boolean(p, "synthesized", &synthesized) && synthesized);
    EXPECT_TRUE(gst_structure_get_boolean(p, "enhanced", &enhanced) && enhanced);
    EXPECT_TRUE(gst_structure_get_int(p, "track-id", &id));
    EXPECT_STREQ(gst_structure_get_string(p, "model"), "test-model-ngf4.safetensors");
    EXPECT_TRUE(gst_structure_has_field(p, "score"));
    ids.push_back(id);
  }
  EXPECT_NE(ids[0], ids[1]);

  auto msgs = messages();
  ASSERT_EQ(msgs.size(), 1u);
  const GstStructure* s = gst_message_get_structure(msgs[0]);
  guint64 timestamp = 1, duration = 0, running_time = 1, stream_time = 1;
  EXPECT_TRUE(gst_structure_get_uint64(s, "timestamp", &timestamp));
  EXPECT_TRUE(gst_structure_get_uint64(s, "duration", &duration));
  EXPECT_TRUE(gst_structure_get_uint64(s, "running-time", &running_time));
  EXPECT_TRUE(gst_structure_get_uint64(s, "stream-time", &stream_time));
  EXPECT_EQ(timestamp, 0u);
  EXPECT_EQ(running_time, 0u);
  EXPECT_EQ(stream_time, 0u);
  EXPECT_EQ(duration, 40 * GST_MSECOND);
  gboolean synthesized = FALSE;
  EXPECT_TRUE(gst_structure_get_boolean(s, "synthesized", &synthesized) && synthesized);
  const GValue* list = gst_structure_get_value(s, "faces");
  ASSERT_TRUE(list && GST_VALUE_HOLDS_LIST(list));
  ASSERT_EQ(gst_value_list_get_size(list), 2u);
  for (guint i = 0; i < 2; ++i) {
    const GstStructure* face = gst_value_get_structure(gst_value_list_get_value(list, i));
    guint x, y, w, hgt;
    int id;
    ASSERT_TRUE(gst_structure_get(face, "x", G_TYPE_UINT, &x, "y", G_TYPE_UINT, &y, "width", G_TYPE_UINT, &w,
                                  "height", G_TYPE_UINT, &hgt, "track-id", G_TYPE_INT, &id, nullptr));
    EXPECT_EQ(x, metas[i]->x);
    EXPECT_EQ(y, metas[i]->y);
    EXPECT_EQ(w, metas[i]->w);
    EXPECT_EQ(hgt, metas[i]->h);
    EXPECT_EQ(id, ids[i]);
    gboolean face_synthesized = FALSE;
    EXPECT_TRUE(gst_structure_get_boolean(face, "synthesized", &face_synthesized) && face_synthesized);
  }
  for (GstMessage* m : msgs) gst_message_unref(m);
  gst_buffer_unref(out);
}

TEST_F(ElementTest, UpstreamModeUsesOnlyTheGivenBoxesAndSizeLimits) {
  GstHarness* h = start("min-face-size=20 max-face-size=60", "BGRx", 200, 150);
  GstBuffer* in = make_frame("BGRx", 200, 150);
  add_faces(in, {{10, 10, 12, 12}, {60, 40, 40, 40}, {120, 20, 70, 70}});  // too small, kept, too large
  gst_buffer_add_video_region_of_interest_meta(in, "person", 0, 0, 50, 50);  // not a face
  GstBuffer* original = gst_buffer_copy_deep(in);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  const auto metas = enhanced_metas(out);
  ASSERT_EQ(metas.size(), 1u);
  EXPECT_EQ(metas[0]->x, 60u);
  EXPECT_EQ(metas[0]->w, 40u);
  EXPECT_TRUE(changes_only_inside("BGRx", 200, 150, original, out, {region_of({60, 40, 40, 40})}));
  // The faces left alone are reported too, with why (issue 17), and are not marked synthesized.
  std::map<guint, std::string> reasons;
  for (auto* meta : facesr_metas(out)) {
    reasons[meta->x] = reason_of(meta);
    gboolean synthesized = TRUE;
    gst_structure_get_boolean(gst_video_region_of_interest_meta_get_param(meta, "facesr"), "synthesized", &synthesized);
    EXPECT_EQ(synthesized, reasons[meta->x] == "enhanced") << meta->x;
  }
  EXPECT_EQ(reasons, (std::map<guint, std::string>{{10, "too-small"}, {60, "enhanced"}, {120, "too-large"}}));
  gst_buffer_unref(original);
  gst_buffer_unref(out);
}

// Never worse (issue 17): with the default max-face-size (auto), a sharp face larger than the model's
// 32x32 input holds (21 px for the test model's 1.5x crop rule) is left as it is, and said so; a small
// one is enhanced. The random-weights test model makes any face it replaces worse, so a large face
// replaced would show here as changed pixels.
TEST_F(ElementTest, DefaultMaxFaceSizeLeavesFacesTheModelCannotImproveAlone) {
  GstHarness* h = start("max-face-size=-1", "RGB", 200, 150);
  gint max = 0;
  g_object_get(h->element, "max-face-size", &max, nullptr);
  EXPECT_EQ(max, -1);
  GstBuffer* in = make_frame("RGB", 200, 150);
  const Box large{100, 40, 64, 64}, small{20, 20, 18, 18};
  add_faces(in, {large, small});
  GstBuffer* original = gst_buffer_copy_deep(in);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  int changed = 0;
  EXPECT_TRUE(changes_only_inside("RGB", 200, 150, original, out, {region_of(small)}, &changed))
      << "the 64 px face was replaced";
  EXPECT_GT(changed, 50) << "the 18 px face was not enhanced";
  for (auto* meta : facesr_metas(out))
    EXPECT_EQ(reason_of(meta), meta->w == 64u ? "too-large" : "enhanced") << meta->w;
  gst_buffer_unref(original);
  gst_buffer_unref(out);
}

TEST_F(ElementTest, FacesBeyondMaxFacesAreReportedWithTheReason) {
  GstHarness* h = start("max-faces=1", "RGB", 200, 150);
  GstBuffer* in = make_frame("RGB", 200, 150);
  add_faces(in, {{20, 20, 40, 40}, {120, 60, 40, 40}});
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  const auto metas = facesr_metas(out);
  ASSERT_EQ(metas.size(), 2u);
  EXPECT_EQ(enhanced_metas(out).size(), 1u);
  EXPECT_TRUE(reason_of(metas[0]) == "max-faces" || reason_of(metas[1]) == "max-faces");
  const auto msgs = messages();
  ASSERT_FALSE(msgs.empty());
  const std::string text = gst_structure_to_string(gst_message_get_structure(msgs.back()));
  EXPECT_NE(text.find("max-faces"), std::string::npos) << text;
  for (GstMessage* m : msgs) gst_message_unref(m);
  gst_buffer_unref(out);
}

TEST_F(ElementTest, DetectIntervalKeepsIdsAndBoxesBetweenDetections) {
  GstHarness* h = start("detect-interval=4", "RGB", 160, 120);
  std::vector<int> ids;
  std::vector<guint> xs;
  for (int frame = 0; frame < 8; ++frame) {
    GstBuffer* in = make_frame("RGB", 160, 120, frame + 1);
    // Boxes only where the detector runs (frames 0 and 4); the tracker predicts in between.
    if (frame % 4 == 0) add_faces(in, {{50 + frame, 40, 36, 36}});
    GST_BUFFER_PTS(in) = frame * 40 * GST_MSECOND;
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    const auto metas = facesr_metas(out);
    ASSERT_EQ(metas.size(), 1u) << "frame " << frame << ": the face blinked";
    int id = 0;
    gst_structure_get_int(gst_video_region_of_interest_meta_get_param(metas[0], "facesr"), "track-id", &id);
    ids.push_back(id);
    xs.push_back(metas[0]->x);
    gst_buffer_unref(out);
  }
  for (int id : ids) EXPECT_EQ(id, ids[0]);
  for (guint x : xs) EXPECT_NEAR(static_cast<int>(x), 52, 4);
}

TEST_F(ElementTest, TemporalSmoothingBlendsOnlyWhenOn) {
  // The second of two different frames with the same face box, under a given smoothing weight.
  auto second_frame = [&](const std::string& props, bool with_first) {
    GstHarness* h = start(props, "RGB", 160, 120);
    if (with_first) {
      GstBuffer* in = make_frame("RGB", 160, 120, 1);
      add_faces(in, {{50, 40, 36, 36}});
      gst_buffer_unref(gst_harness_push_and_pull(h, in));
    }
    GstBuffer* in = make_frame("RGB", 160, 120, 2);
    add_faces(in, {{50, 40, 36, 36}});
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    const auto result = bytes(out);
    gst_buffer_unref(out);
    stop();
    return result;
  };
  const auto alone = second_frame("temporal-smoothing=0", false);
  EXPECT_EQ(second_frame("temporal-smoothing=0", true), alone) << "without smoothing the first frame must not matter";
  EXPECT_NE(second_frame("temporal-smoothing=0.8", true), alone) << "with smoothing the first face must show through";
}

// flip-ensemble changes the enhanced face, takes effect on the next frame while PLAYING, and off
// again gives the plain face back exactly.
TEST_F(ElementTest, FlipEnsembleSwitchesWhilePlaying) {
  GstHarness* h = start("temporal-smoothing=0", "RGB", 160, 120);
  gboolean flip = TRUE;
  g_object_get(h->element, "flip-ensemble", &flip, nullptr);
  EXPECT_FALSE(flip) << "off by default: it doubles the network's time";
  auto frame = [&] {
    GstBuffer* in = make_frame("RGB", 160, 120, 1);
    add_faces(in, {{50, 40, 36, 36}});
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    const auto result = bytes(out);
    gst_buffer_unref(out);
    return result;
  };
  const auto plain = frame();
  g_object_set(h->element, "flip-ensemble", TRUE, nullptr);
  const auto ensemble = frame();
  g_object_set(h->element, "flip-ensemble", FALSE, nullptr);
  const auto plain_again = frame();
  stop();
  EXPECT_NE(ensemble, plain);
  EXPECT_EQ(plain_again, plain);
}

TEST_F(ElementTest, OutputScaleAndModesGiveTheRightCapsAndSizes) {
  struct Case {
    const char* props;
    int width, height;
  } cases[] = {
      {"output-scale=2", 120, 80}, {"output-scale=4", 240, 160},   {"output-scale=8", 480, 320},
      {"mode=inset", 60, 40},      {"mode=side-by-side", 120, 40}, {"mode=side-by-side output-scale=2", 240, 80},
  };
  for (const char* format : {"RGB", "I420", "NV12", "ABGR"}) {
    for (const Case& c : cases) {
      SCOPED_TRACE(std::string(format) + " " + c.props);
      GstHarness* h = start(c.props, format, 60, 40);
      GstBuffer* in = make_frame(format, 60, 40);
      add_faces(in, {{20, 10, 20, 20}});
      GstBuffer* out = gst_harness_push_and_pull(h, in);
      ASSERT_NE(out, nullptr);
      GstCaps* out_caps = gst_pad_get_current_caps(h->sinkpad);
      GstVideoInfo info;
      ASSERT_TRUE(gst_video_info_from_caps(&info, out_caps));
      EXPECT_EQ(GST_VIDEO_INFO_WIDTH(&info), c.width);
      EXPECT_EQ(GST_VIDEO_INFO_HEIGHT(&info), c.height);
      EXPECT_STREQ(gst_video_format_to_string(GST_VIDEO_INFO_FORMAT(&info)), format);
      EXPECT_GE(gst_buffer_get_size(out), GST_VIDEO_INFO_SIZE(&info));
      const auto metas = facesr_metas(out);
      ASSERT_EQ(metas.size(), 1u);
      const int scale = c.height / 40;
      const int offset = std::strstr(c.props, "side-by-side") ? c.width / 2 : 0;
      EXPECT_NEAR(static_cast<int>(metas[0]->x), offset + 20 * scale, 1);
      EXPECT_NEAR(static_cast<int>(metas[0]->w), 20 * scale, 1);
      gst_caps_unref(out_caps);
      gst_buffer_unref(out);
      stop();
    }
  }
}

TEST_F(ElementTest, SideBySideLeftHalfIsTheOriginal) {
  GstHarness* h = start("mode=side-by-side", "RGBx", 64, 48);
  GstBuffer* in = make_frame("RGBx", 64, 48);
  add_faces(in, {{16, 10, 24, 24}});
  GstBuffer* original = gst_buffer_copy_deep(in);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  GstMapInfo a, b;
  gst_buffer_map(original, &a, GST_MAP_READ);
  gst_buffer_map(out, &b, GST_MAP_READ);
  int left_differs = 0, right_differs = 0;
  for (int y = 0; y < 48; ++y) {
    left_differs += std::memcmp(a.data + y * 64 * 4, b.data + y * 128 * 4, 64 * 4) != 0;
    right_differs += std::memcmp(a.data + y * 64 * 4, b.data + y * 128 * 4 + 64 * 4, 64 * 4) != 0;
  }
  EXPECT_EQ(left_differs, 0);
  EXPECT_GT(right_differs, 10);
  gst_buffer_unmap(original, &a);
  gst_buffer_unmap(out, &b);
  gst_buffer_unref(original);
  gst_buffer_unref(out);
}

TEST_F(ElementTest, TinyOddAndLargeFrames) {
  struct Case {
    const char* format;
    int width, height;
    std::vector<Box> faces;
  } cases[] = {
      {"RGB", 1, 1, {}},
      {"I420", 1, 1, {}},
      {"NV12", 3, 3, {{0, 0, 3, 3}}},
      {"I420", 33, 17, {{5, 2, 20, 14}}},
      {"NV12", 101, 75, {{90, 60, 30, 30}}},  // runs off the bottom-right corner
      {"BGR", 4096, 2160, {{2000, 1000, 60, 60}, {4070, 2140, 40, 40}}},
      {"I420", 4096, 2160, {{100, 100, 80, 80}}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(std::string(c.format) + " " + std::to_string(c.width) + "x" + std::to_string(c.height));
    GstHarness* h = start("min-face-size=1", c.format, c.width, c.height);
    GstBuffer* in = make_frame(c.format, c.width, c.height);
    add_faces(in, c.faces);
    GstBuffer* original = gst_buffer_copy_deep(in);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    std::vector<Box> regions;
    for (const Box& f : c.faces) regions.push_back(region_of(f));
    EXPECT_TRUE(changes_only_inside(c.format, c.width, c.height, original, out, regions));
    EXPECT_EQ(facesr_metas(out).size(), c.faces.size());
    for (GstVideoRegionOfInterestMeta* m : facesr_metas(out)) {
      EXPECT_LE(m->x + m->w, static_cast<guint>(c.width));
      EXPECT_LE(m->y + m->h, static_cast<guint>(c.height));
    }
    gst_buffer_unref(original);
    gst_buffer_unref(out);
    stop();
  }
}

TEST_F(ElementTest, CapsRenegotiationMidStream) {
  GstHarness* h = start("", "RGB", 80, 60);
  GstBuffer* out = gst_harness_push_and_pull(h, make_frame("RGB", 80, 60));
  ASSERT_NE(out, nullptr);
  gst_buffer_unref(out);
  gst_harness_set_src_caps(h, caps("NV12", 162, 94));
  GstBuffer* in = make_frame("NV12", 162, 94);
  add_faces(in, {{60, 30, 32, 32}});
  out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  GstCaps* out_caps = gst_pad_get_current_caps(h->sinkpad);
  GstCaps* expected = caps("NV12", 162, 94);
  EXPECT_TRUE(gst_caps_is_equal(out_caps, expected));
  EXPECT_EQ(facesr_metas(out).size(), 1u);
  gst_caps_unref(expected);
  gst_caps_unref(out_caps);
  gst_buffer_unref(out);
}

TEST_F(ElementTest, DisabledPassesFramesThroughUntouched) {
  GstHarness* h = start("enabled=false", "RGB", 80, 60);
  GstBuffer* in = make_frame("RGB", 80, 60);
  add_faces(in, {{20, 20, 30, 30}});
  const std::vector<guint8> before = bytes(in);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  EXPECT_EQ(bytes(out), before);
  EXPECT_TRUE(facesr_metas(out).empty());
  gst_buffer_unref(out);
}

TEST_F(ElementTest, LateFramesPassThroughUnenhancedNotDropped) {
  GstHarness* h = start("", "RGB", 80, 60);
  gst_harness_play(h);
  // Downstream says: anything with running time up to 10 s is late.
  ASSERT_TRUE(gst_harness_push_upstream_event(
      h, gst_event_new_qos(GST_QOS_TYPE_UNDERFLOW, 2.0, 5 * GST_SECOND, 5 * GST_SECOND)));
  GstBuffer* in = make_frame("RGB", 80, 60);
  add_faces(in, {{20, 20, 30, 30}});
  GST_BUFFER_PTS(in) = 1 * GST_SECOND;
  const std::vector<guint8> before = bytes(in);
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr) << "a late frame was dropped";
  EXPECT_EQ(bytes(out), before);
  EXPECT_TRUE(facesr_metas(out).empty());
  gst_buffer_unref(out);

  in = make_frame("RGB", 80, 60);
  add_faces(in, {{20, 20, 30, 30}});
  GST_BUFFER_PTS(in) = 11 * GST_SECOND;  // on time again
  out = gst_harness_push_and_pull(h, in);
  EXPECT_EQ(facesr_metas(out).size(), 1u);
  gst_buffer_unref(out);
}

TEST_F(ElementTest, LatencyQueryAddsProcessingTime) {
  GstHarness* h = start("", "RGB", 80, 60);
  gst_harness_set_upstream_latency(h, 10 * GST_MSECOND);
  GstBuffer* in = make_frame("RGB", 80, 60);
  add_faces(in, {{20, 20, 30, 30}});
  gst_buffer_unref(gst_harness_push_and_pull(h, in));
  GstQuery* query = gst_query_new_latency();
  ASSERT_TRUE(gst_pad_peer_query(h->sinkpad, query));
  gboolean live = FALSE;
  GstClockTime min = 0, max = 0;
  gst_query_parse_latency(query, &live, &min, &max);
  EXPECT_GT(min, 10 * GST_MSECOND);
  gst_query_unref(query);
}

TEST_F(ElementTest, MissingModelFailsTheChangeToPaused) {
  expect_start_fails("model=/nonexistent/facesr.safetensors", "Set the model property");
}

TEST_F(ElementTest, CorruptModelFailsTheChangeToPaused) {
  const std::string path = ::testing::TempDir() + "corrupt-model.safetensors";
  std::ofstream(path) << "this is not a safetensors file, just text that is long enough to have a header";
  expect_start_fails("model=" + path, "Could not load the facesr model");
  std::remove(path.c_str());
}

TEST_F(ElementTest, CudaWithoutCudaFailsTheChangeToPaused) {
  if (facesr::cuda_available()) GTEST_SKIP() << "this machine has CUDA";
  expect_start_fails("device=cuda", "device=cpu");
}

TEST_F(ElementTest, Fp16OnTheCpuFailsTheChangeToPaused) {
  expect_start_fails("device=cpu precision=fp16", "fp16 needs CUDA");
}

// FACESR_STATE_CYCLES overrides the count (e.g. fewer under valgrind, where each start loads the model).
TEST_F(ElementTest, TwoHundredStateChangesNullPlaying) {
  GstElement* facesr = make_facesr("");
  const char* cycles_env = g_getenv("FACESR_STATE_CYCLES");
  const int cycles = cycles_env ? atoi(cycles_env) : 200;
  for (int i = 0; i < cycles; ++i) {
    ASSERT_NE(gst_element_set_state(facesr, GST_STATE_PLAYING), GST_STATE_CHANGE_FAILURE) << "cycle " << i;
    ASSERT_EQ(gst_element_set_state(facesr, GST_STATE_NULL), GST_STATE_CHANGE_SUCCESS) << "cycle " << i;
  }
  gst_object_unref(facesr);
}

}  // namespace
