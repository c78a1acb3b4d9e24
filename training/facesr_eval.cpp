// facesr-eval: score a facesr generator on a split of a dataset from facesr-prepare, next to bicubic
// upsampling of the same input, with the protocol the trainer validates with (training/evaluate.h).
//
//   facesr-eval --model m.safetensors --data faces.safetensors                  # test split, table
//   facesr-eval --model m.safetensors --data faces.safetensors --split validation
//               --json eval.json --sheet contact.png --sheet-faces 8         # (one command line)
//
// Prints one row per face (PSNR on RGB, SSIM on Y) and the means; --json writes the same rows with
// each face's source photo, the means, the model path and the protocol text; --sheet writes a PNG
// with one row per sampled face: input (nearest, at 256) | bicubic | model | ground truth.
//
// FID with --inception PATH (pytorch-fid's weights pt_inception-2015-12-05-6726825d.pth, supplied by
// the user): the model's outputs and the bicubic baseline, each against the ground-truth faces of the
// same split, with pytorch-fid's feature network (training/inception.h: 2048-d pool3 of its FID
// Inception-V3) and the Frechet distance of training/metrics.h. Images are rounded to 8 bits first, as
// pytorch-fid sees them when they are written as PNG files. FID over fewer than 2048 faces is biased
// upward and noisy (the 2048 x 2048 covariance has rank < faces): compare only figures made on the
// same faces; the output and the JSON say so.
//
// Identity with --identity PATH (face-api's copy of dlib's ResNet-34 face descriptor, fetched by
// scripts/fetch-identity-model.sh into out/models/face-api; training/face_descriptor.h): per face, the
// cosine similarity and the Euclidean distance of the 128-D descriptors of the model's output and of
// bicubic to the ground truth's (images rounded to 8 bits, resized to 150x150), and the verification
// rate: the share of faces whose distance stays under dlib's same-person threshold 0.6; and the
// identification rate: the share whose nearest ground truth among the split's faces is their own.
//
// Exit status: 0 on success, 1 on a missing or bad model / dataset / Inception / descriptor weights,
// an empty split, or any other error (message on stderr).
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "dataset.h"
#include "evaluate.h"
#include "face_descriptor.h"
#include "inception.h"
#include "metrics.h"
#include "realism.h"
#include "sample_grid.h"
#include "weights.h"

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

constexpr const char* kFidNotComputed =
    "FID not computed: pass --inception pt_inception-2015-12-05-6726825d.pth (pytorch-fid's Inception-V3 weights)";
constexpr const char* kFidMethod =
    "FID as pytorch-fid computes it: 2048-d pool3 features of its FID Inception-V3 "
    "(pt_inception-2015-12-05-6726825d.pth), images rounded to 8 bits and resized bilinearly to 299x299; "
    "model outputs and bicubic upsampling, each against the ground-truth faces of the same split";
constexpr int64_t kFidReliableFaces = 2048;  // below this FID is biased upward and noisy

// FID of the model and of bicubic against the ground truth, from features gathered batch by batch.
struct FidScores {
  std::vector<torch::Tensor> model, bicubic, truth;  // N_batch x 2048 each, CPU float64
  double fid_model = 0, fid_bicubic = 0;
  int64_t faces() const {
    int64_t n = 0;
    for (const auto& f : truth) n += f.size(0);
    return n;
  }
};

// Images in [-1, 1] rounded to the 8-bit levels a PNG of them holds.
torch::Tensor to_8bit_levels(const torch::Tensor& images) {
  return ((images + 1) * 127.5).round().clamp(0, 255) / 127.5 - 1;
}

void add_fid_features(facesr::FidInceptionV3Impl& inception, const facesr::EnhancedBatch& b, FidScores& fid) {
  torch::NoGradGuard no_grad;
  auto features = [&](const torch::Tensor& images) {
    return inception.forward(to_8bit_levels(images)).to(torch::kCPU, torch::kFloat64);
  };
  fid.model.push_back(features(b.sharp));
  fid.bicubic.push_back(features(b.bicubic));
  fid.truth.push_back(features(b.hr));
}

void finish_fid(FidScores& fid) {
  const auto truth = facesr::gaussian_stats(torch::cat(fid.truth));
  const auto model = facesr::gaussian_stats(torch::cat(fid.model));
  const auto bicubic = facesr::gaussian_stats(torch::cat(fid.bicubic));
  fid.fid_model = facesr::frechet_distance(model.mean, model.covariance, truth.mean, truth.covariance);
  fid.fid_bicubic = facesr::frechet_distance(bicubic.mean, bicubic.covariance, truth.mean, truth.covariance);
}

std::string fid_caveat(int64_t faces) {
  if (faces >= kFidReliableFaces) return "";
  return "FID over " + std::to_string(faces) + " faces (< " + std::to_string(kFidReliableFaces) +
         ") is biased upward and high-variance: compare it only with FID computed on the same faces";
}

// Each face's descriptor similarity to the ground truth, for the model's output and for bicubic.
struct IdentityScores {
  std::vector<double> model_cosine, model_distance, bicubic_cosine, bicubic_distance;  // per face
  std::vector<torch::Tensor> truth, model, bicubic;  // descriptors, N_batch x 128 each, CPU float64
  double model_identified = 0, bicubic_identified = 0;  // set by finish_identity
  double model_frechet = 0, bicubic_frechet = 0;        // set by finish_identity
  static double mean(const std::vector<double>& v) {
    double s = 0;
    for (double x : v) s += x;
    return v.empty() ? 0 : s / static_cast<double>(v.size());
  }
  static double verified(const std::vector<double>& distance) {
    double n = 0;
    for (double d : distance) n += d < facesr::kSamePersonDistance;
    return distance.empty() ? 0 : n / static_cast<double>(distance.size());
  }
};
constexpr const char* kIdentityMethod =
    "dlib's ResNet-34 face descriptor (128-D, face-api's weights), images rounded to 8 bits and resized to 150x150; "
    "cosine similarity and Euclidean distance to the ground truth's descriptor; verified: distance < 0.6 (dlib's "
    "same-person threshold)";

void add_identity(facesr::FaceDescriptorNetImpl& net, const facesr::EnhancedBatch& b, IdentityScores& id) {
  torch::NoGradGuard no_grad;
  const auto truth = net.forward(b.hr), model = net.forward(b.sharp), bicubic = net.forward(b.bicubic);
  auto append = [](std::vector<double>& to, const torch::Tensor& values) {
    const auto v = values.to(torch::kCPU, torch::kFloat64).contiguous();
    to.insert(to.end(), v.data_ptr<double>(), v.data_ptr<double>() + v.numel());
  };
  id.truth.push_back(truth.to(torch::kCPU, torch::kFloat64));
  id.model.push_back(model.to(torch::kCPU, torch::kFloat64));
  id.bicubic.push_back(bicubic.to(torch::kCPU, torch::kFloat64));
  append(id.model_cosine, facesr::descriptor_cosine(model, truth));
  append(id.model_distance, facesr::descriptor_distance(model, truth));
  append(id.bicubic_cosine, facesr::descriptor_cosine(bicubic, truth));
  append(id.bicubic_distance, facesr::descriptor_distance(bicubic, truth));
}

// Identification: the share of faces whose nearest ground-truth descriptor among all the split's faces
// is their own (a model that makes faces alike, or like someone else, loses here before it loses the
// 0.6 verification).
void finish_identity(IdentityScores& id) {
  const auto truth = torch::cat(id.truth);
  auto identified = [&](const std::vector<torch::Tensor>& outputs) {
    const auto nearest = torch::cdist(torch::cat(outputs), truth).argmin(1);
    const auto own = torch::arange(truth.size(0), nearest.options());
    return nearest.eq(own).to(torch::kFloat64).mean().item<double>();
  };
  id.model_identified = identified(id.model);
  id.bicubic_identified = identified(id.bicubic);
  // How far the set of results lies from the set of true faces in descriptor space (realism of the
  // set, not of each face): a Frechet distance as FID's, on these 128-D features instead of Inception's.
  if (truth.size(0) >= 2) {
    id.model_frechet = facesr::descriptor_frechet_distance(torch::cat(id.model), truth);
    id.bicubic_frechet = facesr::descriptor_frechet_distance(torch::cat(id.bicubic), truth);
  }
}
constexpr const char* kDescriptorFrechetMethod =
    "Frechet distance between the Gaussians of the results' and the ground truths' face descriptors (128-D, "
    "the identity network's): FID's formula on other features, NOT the paper's FID and not comparable with its "
    "15.3; 0 = the same distribution";

struct EvalCli {
  std::string model, data, split = "test", json_path, sheet_path, device = "auto", inception, identity,
      precision = "fp32";
  std::vector<std::string> sheet_with;  // more models, one sheet column each
  int sheet_faces = 8, threads = 0;
  bool flip_ensemble = false;
  bool realism = false;  // BRISQUE and landmark distance (image_quality.h)
  double blur_max = facesr::DegradationOptions().max_length();
  double sensor_noise = 0.0, jpeg = 0.0;  // probabilities: the CCTV-like protocol is 1 and 1
  int input_side = 0;                     // < the model's input side: every face captured at that size (small faces); 0 = the model's
};

facesr::Split split_from_name(const std::string& name) {
  if (name == "train") return facesr::Split::Train;
  if (name == "validation") return facesr::Split::Validation;
  return facesr::Split::Test;
}

// `count` faces spread evenly over `faces` (all of them when there are fewer).
std::vector<int64_t> evenly_spaced(const std::vector<int64_t>& faces, std::size_t count) {
  if (faces.size() <= count) return faces;
  std::vector<int64_t> out;
  for (std::size_t k = 0; k < count; ++k) out.push_back(faces[k * faces.size() / count]);
  return out;
}

std::string short_source(const facesr::Dataset& data, int64_t face) {
  std::string source = fs::path(data.faces()[static_cast<std::size_t>(face)].source).filename().string();
  return source.size() > 28 ? "..." + source.substr(source.size() - 25) : source;
}

void print_identity_table(const facesr::Evaluation& e, const facesr::Dataset& data, const IdentityScores& id) {
  std::printf("\nidentity: %s\n", kIdentityMethod);
  std::printf("%6s  %-28s %12s %12s %14s %14s\n", "face", "source", "model cosine", "model dist", "bicubic cosine",
              "bicubic dist");
  for (std::size_t i = 0; i < e.faces.size(); ++i)
    std::printf("%6lld  %-28s %12.4f %12.4f %14.4f %14.4f\n", static_cast<long long>(e.faces[i].face),
                short_source(data, e.faces[i].face).c_str(), id.model_cosine[i], id.model_distance[i],
                id.bicubic_cosine[i], id.bicubic_distance[i]);
  const std::string faces = "(" + std::to_string(e.faces.size()) + " faces)";
  std::printf("%6s  %-28s %12.4f %12.4f %14.4f %14.4f\n", "mean", faces.c_str(), IdentityScores::mean(id.model_cosine),
              IdentityScores::mean(id.model_distance), IdentityScores::mean(id.bicubic_cosine),
              IdentityScores::mean(id.bicubic_distance));
  std::printf("verified as the same person (distance < %.1f): model %.1f %%, bicubic %.1f %%\n",
              facesr::kSamePersonDistance, 100 * IdentityScores::verified(id.model_distance),
              100 * IdentityScores::verified(id.bicubic_distance));
  std::printf("identified (its nearest ground truth of the %zu is its own): model %.1f %%, bicubic %.1f %%\n",
              e.faces.size(), 100 * id.model_identified, 100 * id.bicubic_identified);
  std::printf("descriptor Frechet distance: model %.4f, bicubic %.4f\n  (%s)\n", id.model_frechet, id.bicubic_frechet,
              kDescriptorFrechetMethod);
}

void print_table(const facesr::Evaluation& e, const facesr::Dataset& data) {
  std::printf("%6s  %-28s %11s %11s %13s %13s\n", "face", "source", "model PSNR", "model SSIM", "bicubic PSNR",
              "bicubic SSIM");
  for (const auto& f : e.faces)
    std::printf("%6lld  %-28s %11.3f %11.4f %13.3f %13.4f\n", static_cast<long long>(f.face),
                short_source(data, f.face).c_str(), f.psnr, f.ssim, f.bicubic_psnr, f.bicubic_ssim);
  const std::string faces = "(" + std::to_string(e.faces.size()) + " faces)";
  std::printf("%6s  %-28s %11.3f %11.4f %13.3f %13.4f\n", "mean", faces.c_str(), e.mean.psnr, e.mean.ssim,
              e.mean.bicubic_psnr, e.mean.bicubic_ssim);
}

json report_json(const EvalCli& cli, const facesr::Evaluation& e, const facesr::Dataset& data,
                 const facesr::ModelMetadata& metadata, const facesr::DegradationOptions& degradation,
                 const FidScores* fid, const IdentityScores* id, const facesr::RealismScores& realism) {
  json rows = json::array();
  for (std::size_t i = 0; i < e.faces.size(); ++i) {
    const auto& f = e.faces[i];
    rows.push_back({{"face", f.face},
                    {"source", data.faces()[static_cast<std::size_t>(f.face)].source},
                    {"psnr_db", f.psnr},
                    {"ssim", f.ssim},
                    {"bicubic_psnr_db", f.bicubic_psnr},
                    {"bicubic_ssim", f.bicubic_ssim}});
    if (id) {
      rows.back()["identity_cosine"] = id->model_cosine[i];
      rows.back()["identity_distance"] = id->model_distance[i];
      rows.back()["bicubic_identity_cosine"] = id->bicubic_cosine[i];
      rows.back()["bicubic_identity_distance"] = id->bicubic_distance[i];
    }
    realism.add_row_fields(i, rows.back());
  }
  json report = {{"model", cli.model},
          {"architecture", {{"ngf", metadata.architecture.ngf}, {"depth", metadata.architecture.depth},
                            {"lr_upsampler", metadata.architecture.lr_upsampler},
                            {"upsample", metadata.architecture.upsample},
                            {"residual", metadata.architecture.residual},
                            {"heads", metadata.architecture.heads}}},
          {"precision", cli.precision},
          {"flip_ensemble", cli.flip_ensemble},
          {"dataset", cli.data},
          {"split", cli.split},
          {"faces", e.faces.size()},
          {"protocol", facesr::evaluation_protocol(degradation)},
          {"metrics", {{"psnr_db", "PSNR in dB on RGB, 8-bit scale"},
                       {"ssim", "SSIM (Wang et al. 2004) on Y, ITU-R BT.601"}}},
          {"mean", {{"psnr_db", e.mean.psnr}, {"ssim", e.mean.ssim}, {"bicubic_psnr_db", e.mean.bicubic_psnr},
                    {"bicubic_ssim", e.mean.bicubic_ssim}}},
          {"fid", nullptr},
          {"fid_note", kFidNotComputed},
          {"realism", realism.summary()},
          {"images", rows}};
  if (fid) {
    const std::string caveat = fid_caveat(fid->faces());
    report["fid"] = fid->fid_model;
    report["fid_bicubic"] = fid->fid_bicubic;
    report["fid_faces"] = fid->faces();
    report["fid_inception"] = cli.inception;
    report["fid_note"] = std::string(kFidMethod) + (caveat.empty() ? "" : ". " + caveat);
  }
  if (id) {
    report["identity"] = {{"weights", cli.identity},
                          {"method", kIdentityMethod},
                          {"cosine", IdentityScores::mean(id->model_cosine)},
                          {"distance", IdentityScores::mean(id->model_distance)},
                          {"verified", IdentityScores::verified(id->model_distance)},
                          {"bicubic_cosine", IdentityScores::mean(id->bicubic_cosine)},
                          {"bicubic_distance", IdentityScores::mean(id->bicubic_distance)},
                          {"bicubic_verified", IdentityScores::verified(id->bicubic_distance)},
                          {"identified", id->model_identified},
                          {"bicubic_identified", id->bicubic_identified},
                          {"descriptor_frechet", id->model_frechet},
                          {"bicubic_descriptor_frechet", id->bicubic_frechet},
                          {"descriptor_frechet_method", kDescriptorFrechetMethod}};
  }
  return report;
}

int run(const EvalCli& cli) {
  if (!fs::is_regular_file(cli.model)) {
    std::fprintf(stderr, "facesr-eval: --model %s: no such file (a weights file from facesr-train)\n", cli.model.c_str());
    return 1;
  }
  if (!fs::is_regular_file(cli.data)) {
    std::fprintf(stderr, "facesr-eval: --data %s: no such file (a dataset from facesr-prepare)\n", cli.data.c_str());
    return 1;
  }
  if (!cli.inception.empty() && !fs::is_regular_file(cli.inception)) {
    std::fprintf(stderr, "facesr-eval: --inception %s: no such file (pytorch-fid's pt_inception-2015-12-05-6726825d.pth)\n",
                 cli.inception.c_str());
    return 1;
  }
  const torch::Device device = facesr::device_from_name(cli.device);
  at::set_num_threads(cli.threads > 0 ? cli.threads : static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
  auto loaded = facesr::load_generator(cli.model);
  const torch::ScalarType dtype = cli.precision == "bf16" ? torch::kBFloat16
                                  : cli.precision == "fp16" ? torch::kFloat16
                                                            : torch::kFloat32;
  if (dtype == torch::kFloat16 && !device.is_cuda())
    throw std::runtime_error("--precision fp16 needs CUDA; on the CPU use bf16 or fp32");
  facesr::prepare_for_inference(*loaded.generator, device, dtype);  // as the engine runs it
  auto data = facesr::Dataset::open(cli.data);
  const auto faces = data->indices(split_from_name(cli.split));
  if (faces.empty()) {
    std::fprintf(stderr, "facesr-eval: %s: split '%s' has no faces (train %zu, validation %zu, test %zu); choose "
                 "another with --split, or re-run facesr-prepare with --test / --val\n", cli.data.c_str(),
                 cli.split.c_str(), data->indices(facesr::Split::Train).size(),
                 data->indices(facesr::Split::Validation).size(), data->indices(facesr::Split::Test).size());
    return 1;
  }
  if (!facesr::same_crop_rule(loaded.metadata.crop_rule, data->crop_rule()))
    std::fprintf(stderr, "facesr-eval: warning: the dataset's crop rule differs from the model's; figures are for "
                 "faces cropped differently from how the model was trained\n");
  facesr::DegradationOptions degradation;
  degradation.max_length(cli.blur_max);
  degradation.noise_probability(cli.sensor_noise);
  degradation.jpeg_probability(cli.jpeg);
  degradation.scale(loaded.metadata.architecture.scale);
  const int model_side = static_cast<int>(facesr::input_side(loaded.metadata.architecture));
  if (cli.input_side > model_side) {
    std::fprintf(stderr, "facesr-eval: --input-side %d is larger than the model's input (%dx%d, %lldx); give at most %d\n",
                 cli.input_side, model_side, model_side, static_cast<long long>(loaded.metadata.architecture.scale),
                 model_side);
    return 2;
  }
  if (cli.input_side > 0 && cli.input_side < model_side)
    degradation.small_face_probability(1.0).small_face_side_min(cli.input_side).small_face_side_max(cli.input_side);
  facesr::validate(degradation);

  std::printf("facesr-eval: model %s (%lldx, ngf %lld, depth %lld, %s) on %s, split %s: %zu faces, %s\n", cli.model.c_str(),
              static_cast<long long>(loaded.metadata.architecture.scale), static_cast<long long>(loaded.metadata.architecture.ngf),
              static_cast<long long>(loaded.metadata.architecture.depth), (cli.precision + (cli.flip_ensemble ? ", flip ensemble" : "")).c_str(), cli.data.c_str(), cli.split.c_str(),
              faces.size(), device.is_cuda() ? "CUDA" : ("CPU, " + std::to_string(at::get_num_threads()) + " threads").c_str());
  std::printf("protocol: %s\n", facesr::evaluation_protocol(degradation).c_str());
  std::printf("metrics: PSNR in dB on RGB; SSIM (Wang et al. 2004) on Y (ITU-R BT.601), not on RGB\n");
  facesr::FidInceptionV3 inception{nullptr};
  std::unique_ptr<FidScores> fid;
  if (!cli.inception.empty()) {  // before the long part: fail early
    if (faces.size() < 2) throw std::runtime_error("FID needs at least 2 faces; the split has " + std::to_string(faces.size()));
    inception = facesr::FidInceptionV3();
    facesr::load_fid_inception_weights(*inception, cli.inception);
    inception->to(device);
    fid = std::make_unique<FidScores>();
  }
  facesr::FaceDescriptorNet descriptor{nullptr};
  std::unique_ptr<IdentityScores> identity;
  if (!cli.identity.empty()) {  // before the long part too
    descriptor = facesr::FaceDescriptorNet();
    facesr::load_face_descriptor_weights(*descriptor, cli.identity);
    descriptor->to(device);
    identity = std::make_unique<IdentityScores>();
  }
  std::unique_ptr<facesr::ImageQuality> quality;
  if (cli.realism) quality = facesr::ImageQuality::open();  // throws naming what is missing
  facesr::RealismScores realism;
  const facesr::ImageBox face_box = facesr::face_box_in_crop(data->crop_rule(), 256);
  const std::function<void(const facesr::EnhancedBatch&)> on_batch = [&](const facesr::EnhancedBatch& b) {
    if (fid) add_fid_features(*inception, b, *fid);
    if (identity) add_identity(*descriptor, b, *identity);
    realism.add(b, quality.get(), face_box);
  };
  const auto e =
      facesr::evaluate_faces(*loaded.generator, *data, faces, degradation, device, nullptr, on_batch, cli.flip_ensemble);
  print_table(e, *data);
  if (fid) {
    finish_fid(*fid);
    std::printf("FID (pytorch-fid Inception-V3 pool3, 8-bit images, against the %lld ground-truth faces): model %.3f, "
                "bicubic %.3f\n", static_cast<long long>(fid->faces()), fid->fid_model, fid->fid_bicubic);
    const std::string caveat = fid_caveat(fid->faces());
    if (!caveat.empty()) std::printf("note: %s\n", caveat.c_str());
  } else {
    std::printf("%s\n", kFidNotComputed);
  }
  if (identity) {
    finish_identity(*identity);
    print_identity_table(e, *data, *identity);
  }
  realism.print();

  if (!cli.json_path.empty()) {
    std::ofstream out(cli.json_path);
    out << report_json(cli, e, *data, loaded.metadata, degradation, fid.get(), identity.get(), realism).dump(2) << '\n';
    if (!out) throw std::runtime_error("cannot write " + cli.json_path);
    std::printf("facesr-eval: wrote %s\n", cli.json_path.c_str());
  }
  if (!cli.sheet_path.empty()) {
    const auto sample = evenly_spaced(faces, static_cast<std::size_t>(cli.sheet_faces));
    const auto batch = facesr::enhance_with_fixed_degradation(*loaded.generator, *data, sample, degradation, device,
                                                              cli.flip_ensemble);
    std::vector<torch::Tensor> columns = {facesr::nearest_x8(batch.lr), batch.bicubic, batch.sharp};
    std::string names = "input nearest | bicubic | " + fs::path(cli.model).filename().string();
    for (const auto& path : cli.sheet_with) {  // the same faces, the same degraded inputs
      auto other = facesr::load_generator(path);
      if (other.metadata.architecture.scale != loaded.metadata.architecture.scale)
        throw std::runtime_error("--sheet-with " + path + " is a " + std::to_string(other.metadata.architecture.scale) +
                                 "x model, --model a " + std::to_string(loaded.metadata.architecture.scale) +
                                 "x one: their inputs differ");
      facesr::prepare_for_inference(*other.generator, device, dtype);
      columns.push_back(facesr::enhance_with_fixed_degradation(*other.generator, *data, sample, degradation, device,
                                                               cli.flip_ensemble).sharp);
      names += " | " + fs::path(path).filename().string();
    }
    columns.push_back(batch.hr);
    facesr::write_sample_grid(cli.sheet_path, columns);
    std::printf("facesr-eval: wrote %s (%zu faces; columns: %s | ground truth)\n", cli.sheet_path.c_str(),
                sample.size(), names.c_str());
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Evaluate a facesr generator on a dataset split: PSNR (RGB) and SSIM (Wang et al. 2004, on Y) "
               "of the model and of bicubic upsampling, with a fixed motion-blur degradation per face (the trainer's "
               "validation protocol); sharpness against the truth; FID with --inception; identity and a descriptor Frechet distance with --identity; BRISQUE and landmark distance with --realism."};
  app.footer(std::string("With --inception: ") + kFidMethod + ". FID over fewer than 2048 faces is biased upward and "
             "noisy: compare only figures computed on the same faces.\n");
  EvalCli cli;
  app.add_option("--model", cli.model, "generator weights (.safetensors) from facesr-train")->required();
  app.add_option("--data", cli.data, "dataset written by facesr-prepare")->required();
  app.add_option("--split", cli.split, "faces to score: test | validation | train")
      ->check(CLI::IsMember({"test", "validation", "train"}));
  app.add_option("--json", cli.json_path, "write per-image rows, means, model path and protocol here");
  app.add_option("--sheet", cli.sheet_path, "write a contact sheet PNG: input (nearest, at 256) | bicubic | model | ground truth");
  app.add_option("--sheet-with", cli.sheet_with,
                 "more models (of --model's scale) on the contact sheet: one column each, after --model's, for "
                 "the same faces and inputs");
  app.add_option("--sheet-faces", cli.sheet_faces, "faces on the contact sheet, spread evenly over the split")
      ->check(CLI::Range(1, 256));
  app.add_option("--device", cli.device, "auto | cpu | cuda")->check(CLI::IsMember({"auto", "cpu", "cuda"}));
  app.add_option("--threads", cli.threads, "CPU threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  app.add_option("--precision", cli.precision, "fp32 | bf16 | fp16 (CUDA): the engine's precisions, to check what one costs")
      ->check(CLI::IsMember({"fp32", "bf16", "fp16"}));
  app.add_flag("--flip-ensemble", cli.flip_ensemble,
               "score the flip self-ensemble (the element's flip-ensemble=true): each face also run mirrored, "
               "the two results averaged; twice the time");
  app.add_option("--blur-max", cli.blur_max, "longest motion-blur vector, pixels at 256x256 (as facesr-train's --blur-max)")
      ->check(CLI::Range(0.0, 128.0));
  app.add_option("--sensor-noise", cli.sensor_noise,
                 "probability of Gaussian sensor noise (sigma 1-8 levels) on the 32x32 input, as facesr-train's "
                 "(1 with --jpeg 1: the CCTV-like protocol)")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--jpeg", cli.jpeg, "probability of JPEG compression (quality 20-90) of the 32x32 input")
      ->check(CLI::Range(0.0, 1.0));
  app.add_option("--input-side", cli.input_side,
                 "score faces smaller than the model's input: every face captured at this many pixels (area-averaged "
                 "from the blurred face, noise and JPEG at that size) and resized up to the model's input side (32, "
                 "64 or 128) with bicubic, as the element does; bicubic starts from the same input (default: the "
                 "model's input side, the standard protocol)")
      ->check(CLI::Range(4, 128));
  app.add_option("--inception", cli.inception,
                 "pytorch-fid's Inception-V3 weights pt_inception-2015-12-05-6726825d.pth: also compute FID "
                 "(model and bicubic against the ground truth)");
  app.add_option("--identity", cli.identity,
                 "face descriptor weights (face-api's face_recognition_model manifest, or its folder; "
                 "scripts/fetch-identity-model.sh puts them in " + facesr::default_face_descriptor_path() +
                 "): also report whether the model's and bicubic's faces stay the same person");
  app.add_flag("--realism", cli.realism,
               "also BRISQUE (no-reference naturalness, OpenCV contrib quality + opencv-data) of the model's, "
               "bicubic's and the ground truth's faces, and the 68-landmark distance (dlib) of the model's and "
               "bicubic's faces to the ground truth's; sharpness (high-frequency energy relative to the truth's) is "
               "always reported");
  CLI11_PARSE(app, argc, argv);
  try {
    return run(cli);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "facesr-eval: %s\n", e.what());
    return 1;
  }
}
