// Student-style port of the convolution question (bench/student_style/README.md): the
// per-pixel Convolve of CS188's handout, applied image by image.
#pragma once
#include <cmath>
#include <vector>
#include <ember/ember.h>
#include <ember_course/convolution_dataset.h>

namespace q5 {
using namespace ember;
namespace F = ember::nn::functional;

inline Tensor Convolve(const Tensor& input, const Tensor& weight) {
  const int64_t input_tensor_dimensions_0 = input.size(0), input_tensor_dimensions_1 = input.size(1);
  const int64_t weight_dimensions_0 = weight.size(0), weight_dimensions_1 = weight.size(1);
  const int64_t out_h = input_tensor_dimensions_0 - weight_dimensions_0 + 1;
  const int64_t out_w = input_tensor_dimensions_1 - weight_dimensions_1 + 1;
  std::vector<Tensor> rows;
  for (int64_t i = 0; i < out_h; ++i) {
    std::vector<Tensor> row;
    for (int64_t j = 0; j < out_w; ++j) {
      Tensor patch = input.index({Slice(i, i + weight_dimensions_0), Slice(j, j + weight_dimensions_1)});
      row.push_back((patch * weight).sum());
    }
    rows.push_back(stack(row));
  }
  return stack(rows);
}

class DigitConvolutionalModel : public nn::Module {
 public:
  Tensor convolution_weights;

  DigitConvolutionalModel() {
    convolution_weights = register_parameter("convolution_weights", ones({3, 3}));
    layer1 = register_module("layer1", std::make_shared<nn::Linear>(676, 128));
    layer2 = register_module("layer2", std::make_shared<nn::Linear>(128, 64));
    layer3 = register_module("layer3", std::make_shared<nn::Linear>(64, 10));
  }
  using nn::Module::train;

  Tensor forward(const Tensor& x) override {
    Tensor images = x.reshape({x.size(0), 28, 28});
    std::vector<Tensor> convolved;
    for (int64_t b = 0; b < images.size(0); ++b) {
      convolved.push_back(Convolve(images[b], convolution_weights));
    }
    Tensor h = stack(convolved).flatten(1);
    h = F::relu(layer1->forward(h));
    h = F::relu(layer2->forward(h));
    return layer3->forward(h);
  }
  Tensor get_loss(const Tensor& x, const Tensor& y) { return F::cross_entropy(forward(x), y); }
  void train(const course::DigitConvolutionDataset& dataset) {
    optim::Adam optimizer(parameters(), 0.001);
    data::DataLoader dataloader(dataset, 64, true);
    while (dataset.get_validation_accuracy(*this) < 0.82) {
      for (const data::Batch& batch : dataloader) {
        optimizer.zero_grad();
        Tensor loss = get_loss(batch.x, batch.label);
        loss.backward();
        optimizer.step();
      }
    }
  }

 private:
  std::shared_ptr<nn::Linear> layer1, layer2, layer3;
};

}  // namespace q5
