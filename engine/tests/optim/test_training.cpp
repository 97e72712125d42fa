// Training sanity: tiny problems that SGD and Adam must solve with nn layers, losses and
// the DataLoader all working together.
#include <ember/data/dataloader.h>
#include <ember/nn/activation.h>
#include <ember/nn/functional.h>
#include <ember/nn/linear.h>
#include <ember/nn/sequential.h>
#include <ember/optim/adam.h>
#include <ember/optim/sgd.h>

#include "gradcheck.h"

namespace {

using ember::Tensor;
namespace nn = ember::nn;
namespace optim = ember::optim;
namespace F = ember::nn::functional;

// y = 3 x1 - 2 x2 + 0.5 on 64 points in [-1, 1]^2.
void make_regression(Tensor& x, Tensor& y) {
  x = ember_test::make_input({64, 2}, -1, 1, 21);
  std::vector<float> xv = x.to_vector(), yv;
  for (size_t i = 0; i < 64; ++i) yv.push_back(3 * xv[2 * i] - 2 * xv[2 * i + 1] + 0.5f);
  y = ember::from_vector(yv, {64, 1});
}

TEST(OptimTraining, SgdWithMomentumFitsALinearRegression) {
  ember::manual_seed(0);
  Tensor x, y;
  make_regression(x, y);
  nn::Linear model(2, 1);
  optim::SGD sgd(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));
  float first = 0, last = 0;
  for (int step = 0; step < 200; ++step) {
    sgd.zero_grad();
    Tensor loss = F::mse_loss(model.forward(x), y);
    loss.backward();
    sgd.step();
    (step == 0 ? first : last) = loss.item();
  }
  EXPECT_GT(first, 0.5f);
  EXPECT_LT(last, 1e-6f);
  EXPECT_TRUE(ember_test::tensor_near(model.weight, {1, 2}, {3, -2}, 1e-3));
  EXPECT_TRUE(ember_test::tensor_near(model.bias, {1}, {0.5f}, 1e-3));
}

TEST(OptimTraining, AdamFitsMiniBatchesFromADataLoader) {
  ember::manual_seed(1);
  Tensor x, y;
  make_regression(x, y);
  ember::data::TensorDataset dataset(x, y);
  ember::data::DataLoader loader(dataset, {16, /*shuffle=*/true});
  nn::Linear model(2, 1);
  optim::Adam adam(model.parameters(), optim::AdamOptions(0.05));
  for (int epoch = 0; epoch < 100; ++epoch) {
    for (const auto& batch : loader) {
      adam.zero_grad();
      F::mse_loss(model.forward(batch.x), batch.label).backward();
      adam.step();
    }
  }
  ember::NoGradGuard no_grad;
  EXPECT_LT(F::mse_loss(model.forward(x), y).item(), 1e-3f);
}

TEST(OptimTraining, SgdClassifiesXorWithAHiddenLayer) {
  ember::manual_seed(2);
  Tensor x = ember::tensor({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  Tensor labels = ember::tensor({0, 1, 1, 0});
  nn::Sequential model{std::make_shared<nn::Linear>(2, 16), std::make_shared<nn::Tanh>(),
                       std::make_shared<nn::Linear>(16, 2)};
  optim::SGD sgd(model.parameters(), optim::SGDOptions(0.5).momentum(0.9));
  for (int step = 0; step < 300; ++step) {
    sgd.zero_grad();
    F::cross_entropy(model.forward(x), labels).backward();
    sgd.step();
  }
  ember::NoGradGuard no_grad;
  EXPECT_LT(F::cross_entropy(model.forward(x), labels).item(), 0.05f);
  EXPECT_EQ(model.forward(x).argmax(1).to_vector(), labels.to_vector());
}

}  // namespace
