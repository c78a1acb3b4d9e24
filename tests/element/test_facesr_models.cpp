// The element with several models (issue 36): each face to the model with the smallest input that
// holds its crop without shrinking it, the companions a weights file names, and what the metas say;
// and the second robustness round's element cases (issue 37): scene cuts, interlaced caps,
// output-scale values (unusable detection boxes: tests/test_face_finder.cpp).
#include "element_fixture.h"

#include <filesystem>
#include <map>

#include <nlohmann/json.hpp>

#include "safetensors.h"

using namespace facesr_test;

namespace {

// The scale ("scale" of the facesr params) each face was enhanced with, by face width.
std::map<int, int> scales_by_width(GstBuffer* buffer) {
  std::map<int, int> scales;
  gpointer state = nullptr;
  GstMeta* m;
  while ((m = gst_buffer_iterate_meta_filtered(buffer, &state, GST_VIDEO_REGION_OF_INTEREST_META_API_TYPE))) {
    auto* meta = reinterpret_cast<GstVideoRegionOfInterestMeta*>(m);
    const GstStructure* p = gst_video_region_of_interest_meta_get_param(meta, "facesr");
    if (p == nullptr) continue;
    guint scale = 99;
    EXPECT_TRUE(gst_structure_get_uint(p, "scale", &scale));
    scales[static_cast<int>(meta->w)] = static_cast<int>(scale);
  }
  return scales;
}

// A copy of the 8x test model in `folder` that names the 4x and 2x test models (copied beside it) as
// companions; returns its path.
std::string default_with_companions(const std::filesystem::path& folder, bool copy_companions = true) {
  namespace fs = std::filesystem;
  fs::create_directories(folder);
  if (copy_companions) {
    fs::copy_file(FACESR_TEST_MODEL_4X, folder / "m-4x.safetensors", fs::copy_options::overwrite_existing);
    fs::copy_file(FACESR_TEST_MODEL_2X, folder / "m-2x.safetensors", fs::copy_options::overwrite_existing);
  }
  const auto bytes = facesr::read_file_bytes(FACESR_TEST_MODEL);
  const auto view = facesr::parse_safetensors(bytes.data(), bytes.size(), FACESR_TEST_MODEL);
  auto metadata = view.metadata;
  metadata["companions"] = nlohmann::json({"m-4x.safetensors", "m-2x.safetensors"}).dump();
  std::vector<facesr::TensorToWrite> tensors;
  for (const auto& t : view.tensors) tensors.push_back({t.name, t.dtype, t.shape, view.bytes(t)});
  const std::string path = (folder / "m.safetensors").string();
  facesr::write_safetensors(path, metadata, tensors);
  return path;
}

const std::string kAllThree = std::string(FACESR_TEST_MODEL) + "," + FACESR_TEST_MODEL_4X + "," + FACESR_TEST_MODEL_2X;

}  // namespace

// A 20 px face to the 8x model, 40 px to the 4x, 80 px to the 2x (the test models' 1.5x crop rule:
// crops of 30, 60 and 120 px for inputs of 32, 64 and 128); with the 4x model missing a 40 px face
// goes to the 2x one, never shrunk into the 8x one's 32x32.
TEST_F(ElementTest, EachFaceGoesToTheSmallestModelThatHoldsIt) {
  GstHarness* h = start("model=" + kAllThree, "RGB", 320, 200);
  GstBuffer* in = make_frame("RGB", 320, 200);
  add_faces(in, {{10, 10, 20, 20}, {60, 20, 40, 40}, {140, 30, 80, 80}});
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(scales_by_width(out), (std::map<int, int>{{20, 8}, {40, 4}, {80, 2}}));
  for (auto* meta : facesr_metas(out)) {
    const GstStructure* p = gst_video_region_of_interest_meta_get_param(meta, "facesr");
    const std::string model = gst_structure_get_string(p, "model");
    EXPECT_EQ(model, meta->w == 20 ? "test-model-ngf4.safetensors"
                     : meta->w == 40 ? "test-model-ngf4-4x.safetensors" : "test-model-ngf4-2x.safetensors");
  }
  auto msgs = messages();
  ASSERT_FALSE(msgs.empty());
  const std::string text = gst_structure_to_string(gst_message_get_structure(msgs.back()));
  EXPECT_NE(text.find("scale\\=\\(uint\\)4"), std::string::npos) << text;
  for (GstMessage* m : msgs) gst_message_unref(m);
  gst_buffer_unref(out);
  stop();

  h = start("model=" + std::string(FACESR_TEST_MODEL) + "," + FACESR_TEST_MODEL_2X, "RGB", 320, 200);
  in = make_frame("RGB", 320, 200);
  add_faces(in, {{10, 10, 20, 20}, {60, 20, 40, 40}});
  out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(scales_by_width(out), (std::map<int, int>{{20, 8}, {40, 2}}));
  gst_buffer_unref(out);
}

// max-face-size=-1 (auto) follows the largest model loaded: 128 / 1.5 = 85 px with the 2x model,
// 32 / 1.5 = 21 px with the 8x model alone; with no limit a larger face goes to the largest model.
TEST_F(ElementTest, AutoMaxFaceSizeFollowsTheLargestModel) {
  GstHarness* h = start("max-face-size=-1 model=" + kAllThree, "RGB", 320, 200);
  GstBuffer* in = make_frame("RGB", 320, 200);
  add_faces(in, {{10, 10, 84, 84}, {150, 10, 90, 90}});
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  for (auto* meta : facesr_metas(out)) EXPECT_EQ(reason_of(meta), meta->w == 84 ? "enhanced" : "too-large") << meta->w;
  gst_buffer_unref(out);
  stop();
  h = start("max-face-size=0 model=" + kAllThree, "RGB", 320, 200);
  in = make_frame("RGB", 320, 200);
  add_faces(in, {{150, 10, 90, 90}});
  out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  EXPECT_EQ(scales_by_width(out), (std::map<int, int>{{90, 2}}));
  gst_buffer_unref(out);
}

// One file that names companions brings them (the default does: naming it gives the default
// behaviour); companion-models=false takes the file alone; a missing companion is a warning.
TEST_F(ElementTest, CompanionsNamedByTheWeightsFileAreLoaded) {
  const auto folder = std::filesystem::temp_directory_path() / "facesr-companions";
  const std::string path = default_with_companions(folder);
  for (const bool companions : {true, false}) {
    SCOPED_TRACE(companions);
    GstHarness* h = start(std::string("model=") + path + (companions ? "" : " companion-models=false"), "RGB", 320, 200);
    GstBuffer* in = make_frame("RGB", 320, 200);
    add_faces(in, {{10, 10, 20, 20}, {60, 20, 40, 40}, {140, 30, 80, 80}});
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(scales_by_width(out), companions ? (std::map<int, int>{{20, 8}, {40, 4}, {80, 2}})
                                               : (std::map<int, int>{{20, 8}, {40, 8}, {80, 8}}));
    gst_buffer_unref(out);
    stop();
  }
  // The companions missing: the element starts with what it has and warns, naming the file.
  const std::string alone = default_with_companions(folder / "alone", false);
  GstHarness* h = start("model=" + alone, "RGB", 320, 200);
  GstBuffer* in = make_frame("RGB", 320, 200);
  add_faces(in, {{10, 10, 20, 20}});
  GstBuffer* out = gst_harness_push_and_pull(h, in);
  ASSERT_NE(out, nullptr);
  bool warned = false;
  while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_WARNING)) {
    GError* error = nullptr;
    gst_message_parse_warning(m, &error, nullptr);
    warned |= std::string(error->message).find("m-4x.safetensors") != std::string::npos;
    g_error_free(error);
    gst_message_unref(m);
  }
  EXPECT_TRUE(warned) << "no warning named the missing companion";
  gst_buffer_unref(out);
  // Two files of one scale: a clear refusal.
  expect_start_fails("model=" + std::string(FACESR_TEST_MODEL) + "," + FACESR_TEST_MODEL, "same scale");
}

// Issue 37, 4: after a scene cut the tracks end at once: SMPTE-bar-like frames after frames with
// faces (detect-interval 10) report no face, where tracker predictions used to be shown as enhanced.
TEST_F(ElementTest, SceneCutEndsTheTracks) {
  GstHarness* h = start("detect-interval=10", "RGB", 200, 150);
  for (int frame = 0; frame < 3; ++frame) {
    GstBuffer* in = make_frame("RGB", 200, 150, 7);
    add_faces(in, {{40, 30, 30, 30}, {120, 50, 30, 30}});
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    EXPECT_EQ(enhanced_metas(out).size(), 2u) << frame;
    gst_buffer_unref(out);
  }
  // Another scene (no faces given): inverted bright bars.
  for (int frame = 0; frame < 4; ++frame) {
    GstBuffer* in = make_frame("RGB", 200, 150, 7);
    GstMapInfo map;
    gst_buffer_map(in, &map, GST_MAP_WRITE);
    for (gsize i = 0; i < map.size; ++i) map.data[i] = (i / 3 % 200) < 100 ? 250 : 5;
    gst_buffer_unmap(in, &map);
    GstBuffer* out = gst_harness_push_and_pull(h, in);
    ASSERT_NE(out, nullptr);
    EXPECT_TRUE(facesr_metas(out).empty()) << "frame " << frame << " after the cut reports a face";
    gst_buffer_unref(out);
  }
}

// Issue 37, 6: an interlaced stream with output-scale > 1 is refused with what to do.
TEST_F(ElementTest, InterlacedVideoIsNotResized) {
  bus_ = gst_bus_new();
  GstElement* e = make_facesr("output-scale=2", bus_);
  harness_ = gst_harness_new_with_element(e, "sink", "src");
  gst_object_unref(e);
  GstCaps* c = caps("I420", 64, 48);
  gst_caps_set_simple(c, "interlace-mode", G_TYPE_STRING, "mixed", nullptr);
  gst_harness_set_src_caps(harness_, c);
  gst_harness_push(harness_, make_frame("I420", 64, 48));
  bool refused = false;
  while (GstMessage* m = gst_bus_pop_filtered(bus_, GST_MESSAGE_ERROR)) {
    GError* error = nullptr;
    gchar* debug = nullptr;
    gst_message_parse_error(m, &error, &debug);
    refused |= std::string(error->message).find("interlaced") != std::string::npos &&
               std::string(debug ? debug : "").find("deinterlace") != std::string::npos;
    g_error_free(error);
    g_free(debug);
    gst_message_unref(m);
  }
  EXPECT_TRUE(refused);
}

// Issue 37, 10: output-scale takes 1, 2, 4 and 8 only, refused at set time.
TEST_F(ElementTest, OutputScaleAcceptsOnlyItsFourValues) {
  GstElement* e = make_facesr("");
  GParamSpec* spec = g_object_class_find_property(G_OBJECT_GET_CLASS(e), "output-scale");
  ASSERT_TRUE(G_IS_PARAM_SPEC_ENUM(spec));
  GEnumClass* values = G_PARAM_SPEC_ENUM(spec)->enum_class;
  EXPECT_EQ(values->n_values, 4u);
  for (int ok : {1, 2, 4, 8}) EXPECT_NE(g_enum_get_value(values, ok), nullptr) << ok;
  for (int bad : {0, 3, 5, 6, 7, 9}) EXPECT_EQ(g_enum_get_value(values, bad), nullptr) << bad;
  gst_util_set_object_arg(G_OBJECT(e), "output-scale", "4");
  gint scale = 0;
  g_object_get(e, "output-scale", &scale, nullptr);
  EXPECT_EQ(scale, 4);
  gst_object_unref(e);
}
