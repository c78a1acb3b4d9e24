// facesr-export (issue 43): every fixture and shipped model exports to ONNX, and the graph run in
// OpenCV's DNN module (CPU backend) gives what the LibTorch engine gives on the same crops; other
// configurations are refused with a message that says why.
//
// Both ways of writing PixelShuffle (--pixel-shuffle depth_to_space, conv_transpose) are checked:
//   float:  the graph's "sharp" / "blurred" vs the engine's generator (load_generator +
//           prepare_for_inference, fp32) on the same float input: max |diff| <= 1e-3 in [-1, 1] units.
//   8-bit:  the graph's output rounded as the engine rounds vs facesr::Engine (precision fp32):
//           PSNR > 50 dB and at most 1 level apart (a value at a rounding edge may round either way).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <set>
#include <sstream>

#include <onnx/onnx_pb.h>
#include <torch/torch.h>

#include "../run_tool.h"
#include "onnx_crops.h"
#include "onnx_export.h"
#include "safetensors.h"
#include "weights.h"

namespace {

using namespace facesr;
using namespace facesr::onnx_test;
namespace fs = std::filesystem;

constexpr int kCrops = 8;
constexpr double kMaxFloatDifference = 1e-3;  // [-1, 1] units
constexpr double kMinPsnrDb = 50.0;

struct ModelCase {
  std::string name;  // for test names and output files
  std::string path;
};
void PrintTo(const ModelCase& m, std::ostream* os) { *os << m.path; }

std::vector<ModelCase> model_cases() {
  std::vector<ModelCase> cases = {{"fixture_8x", FACESR_TEST_MODEL},
                                  {"fixture_4x", FACESR_TEST_MODEL_4X},
                                  {"fixture_2x", FACESR_TEST_MODEL_2X}};
  std::stringstream shipped(FACESR_SHIPPED_MODELS);  // ';'-separated: those that existed at build time
  for (std::string path; std::getline(shipped, path, ';');)
    if (!path.empty()) {
      std::string name = fs::path(path).stem().string();
      for (char& c : name)
        if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
      cases.push_back({name, path});
    }
  return cases;
}

int64_t input_side_of(const std::string& weights) {
  const std::vector<uint8_t> bytes = read_file_bytes(weights);
  return input_side(
      from_safetensors_metadata(parse_safetensors(bytes.data(), bytes.size(), weights).metadata, weights).architecture);
}

fs::path out_dir() { return fs::path(FACESR_OUT_DIR); }

// facesr-export WEIGHTS -o out/NAME.onnx ARGS; asserts success.
fs::path export_model(const ModelCase& m, const std::string& suffix, const std::string& args) {
  const fs::path onnx = out_dir() / (m.name + suffix + ".onnx");
  fs::remove(onnx);
  const auto run = test_tools::run_tool(FACESR_EXPORT_BIN, m.path + " -o " + onnx.string() + " " + args,
                                        out_dir() / (m.name + suffix));
  EXPECT_EQ(run.status, 0) << run.err;
  EXPECT_TRUE(fs::is_regular_file(onnx)) << run.out << run.err;
  return onnx;
}

// The graph's named outputs for crops[first .. first + n) in one forward pass.
std::vector<cv::Mat> run_graph(cv::dnn::Net& net, const std::vector<cv::Mat>& crops, size_t first, size_t n,
                               const std::vector<std::string>& names) {
  net.setInput(to_blob(crops, first, n), kOnnxInputName);
  std::vector<cv::Mat> outs;
  net.forward(outs, names);
  std::vector<cv::Mat> copies;
  for (const auto& o : outs) copies.push_back(o.clone());  // the net reuses its buffers
  return copies;
}

// The N x 3 x 256 x 256 blobs of several batch-1 runs as one vector of floats.
std::vector<float> concat(const std::vector<cv::Mat>& blobs) {
  std::vector<float> all;
  for (const auto& b : blobs) all.insert(all.end(), b.ptr<float>(), b.ptr<float>() + b.total());
  return all;
}

class OnnxExport : public ::testing::TestWithParam<ModelCase> {};

// Both pixel-shuffle forms (depth_to_space, conv_transpose) against the same references.
TEST_P(OnnxExport, OpenCvDnnMatchesTheLibTorchEngine) {
  const ModelCase& m = GetParam();
  EngineOptions options;
  options.device = Device::Cpu;
  options.threads = 2;
  options.precision = Precision::Float32;
  std::unique_ptr<Engine> engine = Engine::open(m.path, options);
  const int side = engine->input_size();
  const std::vector<cv::Mat> crops = make_crops(side, kCrops);

  // Float reference: the engine's generator, prepared as the engine prepares it.
  LoadedGenerator loaded = load_generator(m.path);
  prepare_for_inference(*loaded.generator, torch::kCPU, torch::kFloat32);
  torch::NoGradGuard no_grad;
  const cv::Mat blob = to_blob(crops, 0, crops.size());
  const auto input = torch::from_blob(const_cast<float*>(blob.ptr<float>()), {kCrops, 3, side, side}).clone();
  const GeneratorOutput ref = loaded.generator->forward(input);
  const auto ref_sharp = ref.sharp.contiguous(), ref_blurred = ref.blurred.contiguous();
  // 8-bit reference: facesr::Engine.
  std::vector<cv::Mat> engine_blurred;
  const std::vector<cv::Mat> engine_sharp = run_engine(*engine, crops, 0, crops.size(), &engine_blurred);

  for (const char* form : {"depth_to_space", "conv_transpose"}) {
    SCOPED_TRACE(form);
    const fs::path onnx = export_model(m, std::string("-") + form, std::string("--blurred --pixel-shuffle ") + form);
    cv::dnn::Net net = open_opencv_net(onnx.string(), 2);
    std::vector<cv::Mat> sharp, blurred;
    for (size_t i = 0; i < crops.size(); ++i) {
      auto outs = run_graph(net, crops, i, 1, {kOnnxSharpName, kOnnxBlurredName});
      ASSERT_EQ(outs.size(), 2u);
      ASSERT_EQ(outs[0].size[1], 3);
      ASSERT_EQ(outs[0].size[2], kResultSize);
      ASSERT_EQ(outs[0].size[3], kResultSize);
      sharp.push_back(outs[0]);
      blurred.push_back(outs[1]);
    }
    const std::vector<float> graph_sharp = concat(sharp), graph_blurred = concat(blurred);
    ASSERT_EQ(graph_sharp.size(), static_cast<size_t>(ref_sharp.numel()));
    const Difference f_sharp = difference(graph_sharp.data(), ref_sharp.data_ptr<float>(), graph_sharp.size(), 2.0);
    const Difference f_blurred =
        difference(graph_blurred.data(), ref_blurred.data_ptr<float>(), graph_blurred.size(), 2.0);
    std::vector<cv::Mat> graph_sharp8, graph_blurred8;
    for (size_t i = 0; i < crops.size(); ++i) {
      graph_sharp8.push_back(to_rgb8(sharp[i], 0));
      graph_blurred8.push_back(to_rgb8(blurred[i], 0));
    }
    const Difference q_sharp = difference_rgb8(graph_sharp8, engine_sharp);
    const Difference q_blurred = difference_rgb8(graph_blurred8, engine_blurred);

    std::printf("%s (%s, %d x %d input, %s): float vs generator: sharp max %.2e PSNR %.1f dB, blurred max %.2e "
                "PSNR %.1f dB; 8-bit vs Engine fp32: sharp max %.0f PSNR %.1f dB, blurred max %.0f PSNR %.1f dB\n",
                m.name.c_str(), fs::path(m.path).filename().c_str(), side, side, form, f_sharp.max_abs,
                f_sharp.psnr_db, f_blurred.max_abs, f_blurred.psnr_db, q_sharp.max_abs, q_sharp.psnr_db,
                q_blurred.max_abs, q_blurred.psnr_db);
    EXPECT_LE(f_sharp.max_abs, kMaxFloatDifference);
    EXPECT_LE(f_blurred.max_abs, kMaxFloatDifference);
    EXPECT_GT(q_sharp.psnr_db, kMinPsnrDb);
    EXPECT_GT(q_blurred.psnr_db, kMinPsnrDb);
    EXPECT_LE(q_sharp.max_abs, 1.0);
    EXPECT_LE(q_blurred.max_abs, 1.0);
    // Not a vacuous comparison: the two heads give different pictures.
    EXPECT_GT(cv::norm(graph_sharp8[0], graph_blurred8[0], cv::NORM_INF), 0.0);
  }
}

TEST_P(OnnxExport, BatchedGraphGivesEachFaceItsBatchOneResult) {
  const ModelCase& m = GetParam();
  const fs::path one = export_model(m, "-b1", ""), four = export_model(m, "-b4", "--batch 4");
  const int side = static_cast<int>(input_side_of(m.path));
  const std::vector<cv::Mat> crops = make_crops(side, 4);
  cv::dnn::Net net1 = open_opencv_net(one.string(), 2), net4 = open_opencv_net(four.string(), 2);
  std::vector<cv::Mat> singles;
  for (size_t i = 0; i < 4; ++i) singles.push_back(run_graph(net1, crops, i, 1, {kOnnxSharpName})[0]);
  const cv::Mat batched = run_graph(net4, crops, 0, 4, {kOnnxSharpName})[0];
  ASSERT_EQ(batched.size[0], 4);
  const std::vector<float> all = concat(singles);
  EXPECT_LE(difference(all.data(), batched.ptr<float>(), all.size(), 2.0).max_abs, 1e-5);
}

TEST_P(OnnxExport, CarriesNamesShapesOpsetAndTheFacesrMetadata) {
  const ModelCase& m = GetParam();
  const fs::path onnx = export_model(m, "-meta", "--batch 2");
  onnx::ModelProto model;
  std::ifstream in(onnx, std::ios::binary);
  ASSERT_TRUE(model.ParseFromIstream(&in));
  ASSERT_EQ(model.opset_import_size(), 1);
  EXPECT_EQ(model.opset_import(0).version(), kOnnxOpset);
  EXPECT_EQ(model.ir_version(), kOnnxIrVersion);

  const std::vector<uint8_t> bytes = read_file_bytes(m.path);
  const auto fields = parse_safetensors(bytes.data(), bytes.size(), m.path).metadata;
  const int64_t side = input_side(from_safetensors_metadata(fields, m.path).architecture);
  auto shape_of = [](const onnx::ValueInfoProto& v) {
    std::vector<int64_t> dims;
    for (const auto& d : v.type().tensor_type().shape().dim()) dims.push_back(d.dim_value());
    return dims;
  };
  ASSERT_EQ(model.graph().input_size(), 1);  // weights are initializers, not inputs
  EXPECT_EQ(model.graph().input(0).name(), kOnnxInputName);
  EXPECT_EQ(shape_of(model.graph().input(0)), (std::vector<int64_t>{2, 3, side, side}));
  ASSERT_EQ(model.graph().output_size(), 1);  // no --blurred: "sharp" only
  EXPECT_EQ(model.graph().output(0).name(), kOnnxSharpName);
  EXPECT_EQ(shape_of(model.graph().output(0)), (std::vector<int64_t>{2, 3, 256, 256}));
  std::set<std::string> ops;
  for (const auto& n : model.graph().node()) ops.insert(n.op_type());
  EXPECT_EQ(ops.count("BatchNormalization"), 0u) << "batch norms are folded into the convs";
  EXPECT_EQ(ops.count("DepthToSpace"), 1u);

  std::map<std::string, std::string> props;
  for (const auto& p : model.metadata_props()) props[p.key()] = p.value();
  for (const auto& [key, value] : fields) EXPECT_EQ(props[kOnnxMetadataPrefix + key], value) << key;
  for (const char* key : {"crop_rule", "architecture", "normalization", "training", "format_version"})
    EXPECT_TRUE(props.count(std::string(kOnnxMetadataPrefix) + key)) << key;
  EXPECT_EQ(props["facesr.onnx_batch"], "2");
  EXPECT_EQ(props["facesr.onnx_pixel_shuffle"], "depth_to_space");
  EXPECT_EQ(props["facesr.onnx_source"], fs::path(m.path).filename().string());
}

INSTANTIATE_TEST_SUITE_P(Models, OnnxExport, ::testing::ValuesIn(model_cases()),
                         [](const ::testing::TestParamInfo<ModelCase>& info) { return info.param.name; });

TEST(OnnxExportRefuses, OtherConfigurationsWithAMessageNamingTheField) {
  const struct {
    const char* path;
    const char* field;
  } others[] = {{FACESR_TRANSPOSED_MODEL, "upsample 'transposed'"}, {FACESR_SUBPIXEL_MODEL, "heads 'subpixel'"}};
  for (const auto& other : others) {
    const fs::path onnx = out_dir() / "refused.onnx";
    fs::remove(onnx);
    const auto run = test_tools::run_tool(FACESR_EXPORT_BIN, std::string(other.path) + " -o " + onnx.string(),
                                          out_dir() / "refused");
    EXPECT_EQ(run.status, 1) << run.err;
    EXPECT_NE(run.err.find("supports only the shipped configuration"), std::string::npos) << run.err;
    EXPECT_NE(run.err.find(other.field), std::string::npos) << run.err;
    EXPECT_FALSE(fs::exists(onnx));
    EXPECT_FALSE(fs::exists(onnx.string() + ".tmp"));
  }
}

TEST(OnnxExportRefuses, ABatchOutOfRange) {
  const auto run = test_tools::run_tool(FACESR_EXPORT_BIN, std::string(FACESR_TEST_MODEL) + " -o " +
                                                               (out_dir() / "b0.onnx").string() + " --batch 0",
                                        out_dir() / "b0");
  EXPECT_NE(run.status, 0);
  EXPECT_NE(run.err.find("batch"), std::string::npos) << run.err;
  EXPECT_FALSE(fs::exists(out_dir() / "b0.onnx"));
}

}  // namespace
