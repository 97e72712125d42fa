// Student-style port of the perceptron (bench/student_style/README.md).
#pragma once
#include <cmath>
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>

namespace q1 {
using namespace ember;

class PerceptronModel : public nn::Module {
 public:
  explicit PerceptronModel(int64_t dimensions) {
    w = register_parameter("w", ones({1, dimensions}));
  }
  Tensor get_weights() { return w; }
  Tensor run(const Tensor& x) { return tensordot(w, x, {1}, {1}); }  // torch.tensordot(self.w, x, dims=([1], [1]))
  int get_prediction(const Tensor& x) { return run(x).item() >= 0 ? 1 : -1; }
  void train(const course::PerceptronDataset& dataset) {
    NoGradGuard no_grad;
    data::DataLoader dataloader(dataset, 1, true);
    while (true) {
      bool converged = true;
      for (const data::Batch& batch : dataloader) {
        if (get_prediction(batch.x) != batch.label.item()) {
          w += batch.x * batch.label.item();
          converged = false;
        }
      }
      if (converged) break;
    }
  }
  using nn::Module::train;

 private:
  Tensor w;
};

}  // namespace q1
