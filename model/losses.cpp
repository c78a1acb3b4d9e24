#include "losses.h"

namespace facesr {

torch::Tensor lsgan_discriminator_loss(const torch::Tensor& real_scores, const torch::Tensor& fake_scores) {
  return 0.5 * ((real_scores - 1.0).pow(2).mean() + fake_scores.pow(2).mean());
}

torch::Tensor lsgan_generator_loss(const torch::Tensor& fake_scores) {
  return 0.5 * (fake_scores - 1.0).pow(2).mean();
}

PixelLoss pixel_loss(const torch::Tensor& sharp, const torch::Tensor& sharp_target,
                     const torch::Tensor& blurred, const torch::Tensor& blurred_target,
                     const torch::Tensor& mask) {
  namespace F = torch::nn::functional;
  PixelLoss loss;
  loss.masked = F::l1_loss(sharp * mask, sharp_target * mask);
  loss.sharp = F::l1_loss(sharp, sharp_target);
  loss.blurred = F::l1_loss(blurred, blurred_target);
  loss.total = loss.masked + loss.sharp + loss.blurred;
  return loss;
}

torch::Tensor feature_matching_loss(const std::vector<torch::Tensor>& fake_features,
                                    const std::vector<torch::Tensor>& real_features) {
  namespace F = torch::nn::functional;
  if (fake_features.size() != real_features.size() || fake_features.size() < 2)
    throw std::invalid_argument("feature matching needs the same discriminator's features of both sides");
  const size_t layers = fake_features.size() - 1;  // the scores are not matched
  auto loss = torch::zeros({}, fake_features[0].options());
  for (size_t i = 0; i < layers; ++i) loss = loss + F::l1_loss(fake_features[i], real_features[i].detach());
  return loss / static_cast<double>(layers);
}

torch::Tensor perceptual_loss(Vgg19FeaturesImpl& vgg, const torch::Tensor& output, const torch::Tensor& target) {
  namespace F = torch::nn::functional;
  const auto out_features = vgg.forward(output);
  std::vector<torch::Tensor> target_features;
  {
    torch::NoGradGuard no_grad;
    target_features = vgg.forward(target);
  }
  auto loss = torch::zeros({}, output.options());
  for (size_t i = 0; i < out_features.size(); ++i)
    loss = loss + F::l1_loss(out_features[i], target_features[i]);
  return loss;
}

}  // namespace facesr
