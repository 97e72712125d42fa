// Student-style port of the digit classifier (bench/student_style/README.md).
#pragma once
#include <cmath>
#include <ember/ember.h>
#include <ember_course/digit_dataset.h>

namespace q3 {
using namespace ember;
namespace F = ember::nn::functional;

class DigitClassificationModel : public nn::Module {
 public:
  DigitClassificationModel() {
    layer1 = register_module("layer1", std::make_shared<nn::Linear>(784, 256));
    layer2 = register_module("layer2", std::make_shared<nn::Linear>(256, 128));
    layer3 = register_module("layer3", std::make_shared<nn::Linear>(128, 10));
  }
  Tensor run(const Tensor& x) {
    Tensor h = F::relu(layer1->forward(x));
    h = F::relu(layer2->forward(h));
    return layer3->forward(h);
  }
  Tensor get_loss(const Tensor& x, const Tensor& y) { return F::cross_entropy(run(x), y); }
  void train(const course::DigitClassificationDataset& dataset) {
    optim::Adam optimizer(parameters(), 0.001);
    data::DataLoader dataloader(dataset, 64, true);
    for (int epoch = 0; epoch < 10; ++epoch) {
      for (const data::Batch& batch : dataloader) {
        optimizer.zero_grad();
        Tensor loss = get_loss(batch.x, batch.label);
        loss.backward();
        optimizer.step();
      }
      if (dataset.get_validation_accuracy(*this) >= 0.975) break;
    }
  }
  using nn::Module::train;

 private:
  std::shared_ptr<nn::Linear> layer1, layer2, layer3;
};

}  // namespace q3
