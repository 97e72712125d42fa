// F::layer_norm as one op (backend.h: layer_norm, layer_norm_backward): against the composition
// it replaced (mean, centre, biased variance, divide, scale, shift) by value and by gradient,
// with and without weight and bias, on views, past the fast kernel's row blocks, against finite
// differences, and on constant rows.
#include "gradcheck.h"

#include <cmath>
#include <vector>

#include "ember/nn/functional.h"

using namespace ember;
using namespace ember_test;
namespace F = ember::nn::functional;

namespace {

Tensor plain_layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  Tensor centered = x - x.mean(-1, true);
  Tensor variance = (centered * centered).mean(-1, true);
  Tensor out = centered / (variance + static_cast<float>(eps)).sqrt();
  if (weight.defined()) out = out * weight;
  if (bias.defined()) out = out + bias;
  return out;
}

void expect_same_as_plain(const Shape& shape, bool with_weight, bool with_bias, uint32_t seed,
                          bool transposed = false) {
  SCOPED_TRACE(shape_text(shape) + (with_weight ? " weight" : "") + (with_bias ? " bias" : "") +
               (transposed ? " transposed" : ""));
  const int64_t C = shape.back();
  const Tensor x0 = make_input(shape, -2.0f, 3.0f, seed);
  const Tensor w0 = make_input({C}, 0.5f, 1.5f, seed + 1), b0 = make_input({C}, -0.5f, 0.5f, seed + 2);
  std::vector<Tensor> fused{x0.clone(), w0.clone(), b0.clone()}, plain{x0.clone(), w0.clone(), b0.clone()};
  for (Tensor& t : fused) t.set_requires_grad(true);
  for (Tensor& t : plain) t.set_requires_grad(true);
  auto input = [&](const Tensor& x) { return transposed ? x.transpose(0, 1).transpose(0, 1) * 1.0f : x; };
  const Tensor y_fused = F::layer_norm(input(fused[0]), with_weight ? fused[1] : Tensor(), with_bias ? fused[2] : Tensor(), 1e-5);
  const Tensor y_plain = plain_layer_norm(input(plain[0]), with_weight ? plain[1] : Tensor(), with_bias ? plain[2] : Tensor(), 1e-5);
  EXPECT_TRUE(tensors_near(y_fused, y_plain, 1e-5, 1e-5));
  const Tensor weights = make_input(shape, -1.0f, 1.0f, seed + 3);
  (y_fused * weights).sum().backward();
  (y_plain * weights).sum().backward();
  EXPECT_TRUE(tensors_near(fused[0].grad(), plain[0].grad(), 1e-4, 1e-4)) << "input";
  if (with_weight) {
    EXPECT_TRUE(tensors_near(fused[1].grad(), plain[1].grad(), 1e-4, 1e-4)) << "weight";
  } else {
    EXPECT_FALSE(fused[1].grad().defined());
  }
  if (with_bias) {
    EXPECT_TRUE(tensors_near(fused[2].grad(), plain[2].grad(), 1e-4, 1e-4)) << "bias";
  } else {
    EXPECT_FALSE(fused[2].grad().defined());
  }
}

}  // namespace

TEST(LayerNormOp, MatchesTheComposition) {
  expect_same_as_plain({2, 3, 8}, true, true, 10);
  expect_same_as_plain({5, 7}, true, false, 20);
  expect_same_as_plain({5, 7}, false, true, 30);
  expect_same_as_plain({4, 33}, false, false, 40);
  expect_same_as_plain({6, 5}, true, true, 50, /*transposed=*/true);
}

TEST(LayerNormOp, ManyRowsAsAGptStepHas) {
  // 768 rows of 128 (a GPT's (B*T, C)), and a row count that is not a multiple of the fast
  // kernel's blocks of 64 rows.
  expect_same_as_plain({768, 128}, true, false, 60);
  expect_same_as_plain({3, 67, 40}, true, true, 70);
}

TEST(LayerNormOp, FiniteDifferenceGradients) {
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& v) { return F::layer_norm(v[0], v[1], v[2], 1e-5); },
      {make_input({3, 5}, -2, 2, 80), make_input({5}, 0.5f, 1.5f, 81), make_input({5}, -1, 1, 82)}));
  EXPECT_TRUE(gradcheck1([](const Tensor& x) { return F::layer_norm(x.t(), Tensor(), Tensor(), 1e-5); },
                         make_input({6, 2}, -2, 2, 83)));
}

TEST(LayerNormOp, ConstantRowsGiveTheBias) {
  const Tensor x = full({3, 4}, 2.5f);
  const Tensor bias = make_input({4}, -1, 1, 90);
  const Tensor y = F::layer_norm(x, ones({4}), bias, 1e-5);
  for (int64_t r = 0; r < 3; ++r) EXPECT_TRUE(tensors_near(y[r], bias, 0.0, 0.0));
}

TEST(LayerNormOp, EmptyInput) {
  EXPECT_EQ(F::layer_norm(zeros({0, 4}), ones({4}), zeros({4}), 1e-5).shape(), (Shape{0, 4}));
  Tensor w = ones({4}).set_requires_grad(true);
  Tensor x = zeros({0, 4}).set_requires_grad(true);
  F::layer_norm(x, w, Tensor(), 1e-5).sum().backward();
  EXPECT_TRUE(tensors_near(w.grad(), zeros({4}), 0.0, 0.0));
}
