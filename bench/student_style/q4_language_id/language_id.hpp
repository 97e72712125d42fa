// Student-style port of the language-identification RNN (bench/student_style/README.md).
#pragma once
#include <cmath>
#include <string>
#include <vector>
#include <ember/ember.h>
#include <ember_course/lang_id_dataset.h>

namespace q4 {
using namespace ember;
namespace F = ember::nn::functional;

class LanguageIDModel : public nn::Module {
 public:
  static constexpr int64_t num_chars = 47;
  static constexpr int64_t num_languages = 5;
  const std::vector<std::string> languages = {"English", "Spanish", "Finnish", "Dutch", "Polish"};

  LanguageIDModel() {
    initial = register_module("initial", std::make_shared<nn::Linear>(num_chars, hidden_size));
    x_layer = register_module("x_layer", std::make_shared<nn::Linear>(num_chars, hidden_size));
    h_layer = register_module("h_layer", std::make_shared<nn::Linear>(hidden_size, hidden_size));
    output = register_module("output", std::make_shared<nn::Linear>(hidden_size, num_languages));
  }
  using nn::Module::train;

  Tensor run(const std::vector<Tensor>& xs) {
    Tensor h = F::relu(initial->forward(xs[0]));
    for (size_t i = 1; i < xs.size(); ++i) {
      h = F::relu(x_layer->forward(xs[i]) + h_layer->forward(h));
    }
    return output->forward(h);
  }
  Tensor get_loss(const std::vector<Tensor>& xs, const Tensor& y) {
    return F::cross_entropy(run(xs), y);
  }
  void train(const course::LanguageIDDataset& dataset) {
    optim::Adam optimizer(parameters(), 0.001);
    course::BucketLoader dataloader(dataset.train(), 64, true);
    for (int epoch = 0; epoch < 20; ++epoch) {
      for (const data::Batch& batch : dataloader) {
        Tensor x = batch.x.movedim(1, 0);  // (B, L, 47) -> (L, B, 47)
        std::vector<Tensor> xs;
        for (int64_t i = 0; i < x.size(0); ++i) xs.push_back(x[i]);
        optimizer.zero_grad();
        Tensor loss = get_loss(xs, batch.label);
        loss.backward();
        optimizer.step();
      }
      if (dataset.get_validation_accuracy(*this) >= 0.85) break;
    }
  }

 private:
  static constexpr int64_t hidden_size = 256;
  std::shared_ptr<nn::Linear> initial, x_layer, h_layer, output;
};

}  // namespace q4
