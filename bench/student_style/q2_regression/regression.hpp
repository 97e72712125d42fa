// Student-style port of the regression model (bench/student_style/README.md).
#pragma once
#include <cmath>
#include <ember/ember.h>
#include <ember_course/regression_dataset.h>

namespace q2 {
using namespace ember;
namespace F = ember::nn::functional;

class RegressionModel : public nn::Module {
 public:
  RegressionModel() {
    layer1 = register_module("layer1", std::make_shared<nn::Linear>(1, 256));
    layer2 = register_module("layer2", std::make_shared<nn::Linear>(256, 256));
    layer3 = register_module("layer3", std::make_shared<nn::Linear>(256, 128));
    layer4 = register_module("layer4", std::make_shared<nn::Linear>(128, 1));
  }
  Tensor forward(const Tensor& x) override {
    Tensor h = F::relu(layer1->forward(x));
    h = F::relu(layer2->forward(h));
    h = F::relu(layer3->forward(h));
    return layer4->forward(h);
  }
  Tensor get_loss(const Tensor& x, const Tensor& y) { return F::mse_loss(forward(x), y); }
  void train(const course::RegressionDataset& dataset) {
    optim::Adam optimizer(parameters(), 0.001);
    data::DataLoader dataloader(dataset, 64, true);
    for (int epoch = 0; epoch < 5000; ++epoch) {
      float total = 0;
      int batches = 0;
      for (const data::Batch& batch : dataloader) {
        optimizer.zero_grad();
        Tensor loss = get_loss(batch.x, batch.label);
        loss.backward();
        optimizer.step();
        total += loss.item();
        ++batches;
      }
      if (total / batches < 0.01) break;
    }
  }
  using nn::Module::train;

 private:
  std::shared_ptr<nn::Linear> layer1, layer2, layer3, layer4;
};

}  // namespace q2
