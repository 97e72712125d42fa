// gelu (issue 13): forward values against erf / tanh worked out in double, the gradient
// against its formula and against finite differences, NaN and infinities, errors, F::gelu
// and nn::GELU.
#include "gradcheck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "ember/nn/activation.h"
#include "ember/nn/functional.h"

using namespace ember;
using namespace ember_test;
namespace F = ember::nn::functional;

namespace {

const std::vector<float> kXs = {-3.0f, -1.0f, -0.5f, 0.0f, 0.5f, 1.0f, 2.0f, 3.0f};
// 0.5 x (1 + erf(x / sqrt 2)) and its derivative Phi(x) + x phi(x), in double (Python's math).
const std::vector<float> kExact = {-0.00404969409f, -0.158655254f, -0.154268769f, 0.0f,
                                   0.345731231f,    0.841344746f,  1.95449974f,   2.99595031f};
const std::vector<float> kExactDerivative = {-0.0119456472f, -0.0833154706f, 0.132504875f, 0.5f,
                                             0.867495125f,   1.08331547f,    1.0852318f,   1.01194565f};
// 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))) and its derivative.
const std::vector<float> kTanh = {-0.00363739208f, -0.158808009f, -0.15428599f, 0.0f,
                                  0.34571401f,     0.841191991f,  1.95459769f,  2.99636261f};
const std::vector<float> kTanhDerivative = {-0.0115841666f, -0.0829640838f, 0.132630096f, 0.5f,
                                            0.867369904f,   1.08296408f,    1.08609926f,  1.01158417f};

std::vector<float> gradient_of(const std::string& approximate) {
  Tensor x = from_vector(kXs, {8});
  x.set_requires_grad(true);
  gelu(x, approximate).sum().backward();
  return x.grad().to_vector();
}

}  // namespace

TEST(Gelu, ExactFormValues) {
  EXPECT_TRUE(tensor_near(gelu(from_vector(kXs, {8})), {8}, kExact, 1e-6, 1e-6));
  EXPECT_TRUE(tensor_near(gelu(from_vector(kXs, {8}), "none"), {8}, kExact, 1e-6, 1e-6));
}

TEST(Gelu, TanhFormValues) {
  EXPECT_TRUE(tensor_near(gelu(from_vector(kXs, {8}), "tanh"), {8}, kTanh, 1e-6, 1e-6));
}

TEST(Gelu, GradientIsTheDerivative) {
  EXPECT_TRUE(tensor_near(from_vector(gradient_of("none"), {8}), {8}, kExactDerivative, 1e-6, 1e-6));
  EXPECT_TRUE(tensor_near(from_vector(gradient_of("tanh"), {8}), {8}, kTanhDerivative, 1e-6, 1e-6));
}

TEST(Gelu, FiniteDifferenceGradients) {
  const Tensor x = make_input({3, 5}, -3.0f, 3.0f, 31);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return gelu(t); }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return gelu(t, "tanh"); }, x));
  // Through a non-contiguous view, and inside a composition (an MLP's Linear-GELU).
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return gelu(t.t() * 2.0f - 0.5f); }, x));
  EXPECT_TRUE(gradcheck(
      [](const std::vector<Tensor>& v) { return gelu(v[0].matmul(v[1]), "tanh"); },
      {make_input({4, 3}, -1.0f, 1.0f, 32), make_input({3, 6}, -1.0f, 1.0f, 33)}));
}

TEST(Gelu, ShapesViewsAndEmptyTensors) {
  Tensor x = make_input({2, 3, 4}, -2.0f, 2.0f, 34);
  Tensor y = gelu(x.transpose(0, 2));
  EXPECT_EQ(y.shape(), (Shape{4, 3, 2}));
  EXPECT_TRUE(tensors_near(y, gelu(x.transpose(0, 2).contiguous()), 0.0, 0.0));
  EXPECT_EQ(gelu(zeros({0, 3})).shape(), (Shape{0, 3}));
  EXPECT_NEAR(gelu(tensor(1.0f)).item(), 0.841344746f, 1e-6);
  EXPECT_EQ(gelu(tensor(1.0f)).dim(), 0);
}

TEST(Gelu, NaNAndInfinities) {
  const float inf = std::numeric_limits<float>::infinity();
  const float nan = std::numeric_limits<float>::quiet_NaN();
  for (const char* form : {"none", "tanh"}) {
    SCOPED_TRACE(form);
    std::vector<float> y = gelu(ember::tensor({inf, -inf, nan, 10.0f, -10.0f}), form).to_vector();
    EXPECT_EQ(y[0], inf);
    // -inf * Phi(-inf) is -inf * 0: NaN in PyTorch as well (x * 0.5 * (1 + erf(...))).
    EXPECT_TRUE(std::isnan(y[1]));
    EXPECT_TRUE(std::isnan(y[2]));
    EXPECT_FLOAT_EQ(y[3], 10.0f);
    EXPECT_NEAR(y[4], 0.0f, 1e-6);
  }
}

TEST(Gelu, ErrorsNameTheOpAndTheValue) {
  Tensor x = make_input({3});
  EXPECT_TRUE(throws_error_all([&] { gelu(x, "exact"); }, {"gelu", "\"exact\"", "none", "tanh"}));
  EXPECT_TRUE(throws_error_all([&] { gelu(x, ""); }, {"gelu", "\"\""}));
  EXPECT_TRUE(throws_error_all([&] { gelu(x, "Tanh"); }, {"gelu", "Tanh"}));
  EXPECT_TRUE(throws_error([&] { gelu(Tensor()); }, "gelu"));
  EXPECT_TRUE(throws_error_all([&] { nn::GELU layer("erf"); }, {"GELU", "erf"}));
}

TEST(Gelu, FunctionalAndModuleAreTheSameOp) {
  Tensor x = make_input({4, 5}, -3.0f, 3.0f, 35);
  EXPECT_TRUE(tensors_near(F::gelu(x), gelu(x), 0.0, 0.0));
  EXPECT_TRUE(tensors_near(F::gelu(x, "tanh"), gelu(x, "tanh"), 0.0, 0.0));
  EXPECT_TRUE(tensors_near(nn::GELU().forward(x), gelu(x), 0.0, 0.0));
  EXPECT_TRUE(tensors_near(nn::GELU("tanh").forward(x), gelu(x, "tanh"), 0.0, 0.0));
}

TEST(NnActivationGelu, ModuleHasNoParametersAndPrintsItsForm) {
  nn::GELU exact, tanh_form("tanh");
  EXPECT_TRUE(exact.parameters().empty());
  EXPECT_NE(exact.str().find("GELU(approximate='none')"), std::string::npos) << exact.str();
  EXPECT_NE(tanh_form.str().find("GELU(approximate='tanh')"), std::string::npos) << tanh_form.str();
  Tensor x = make_input({2, 3}, -2.0f, 2.0f, 36);
  x.set_requires_grad(true);
  tanh_form.forward(x).sum().backward();
  ASSERT_TRUE(x.grad().defined());
  EXPECT_EQ(x.grad().shape(), (Shape{2, 3}));
}

TEST(Gelu, CloseToTheExactFunctionEverywhere) {
  // erf and tanh are evaluated without libm so that the kernels vectorise (formulas.h); over
  // [-30, 30] every value and derivative stays within 1e-6 of the exact one (worked in double),
  // relative to it beyond 1. Past |x| = 12.7 the formulas cut exp(-x^2 / 2) to 0 (it would only
  // make subnormals, which are slow), so this also checks they still give the exact limits there.
  std::vector<float> xs;
  for (int i = -300000; i <= 300000; i += 7) xs.push_back(static_cast<float>(i) * 1e-4f);
  const int64_t n = static_cast<int64_t>(xs.size());
  for (const char* form : {"none", "tanh"}) {
    SCOPED_TRACE(form);
    const bool tanh_form = std::string(form) == "tanh";
    Tensor x = from_vector(xs, {n});
    x.set_requires_grad(true);
    Tensor y = gelu(x, form);
    y.sum().backward();
    const std::vector<float> values = y.to_vector(), grads = x.grad().to_vector();
    double worst_value = 0.0, worst_grad = 0.0;
    for (int64_t i = 0; i < n; ++i) {
      const double v = xs[static_cast<size_t>(i)];
      double exact = 0.0, derivative = 0.0;
      if (tanh_form) {
        const double k = std::sqrt(2.0 / 3.14159265358979323846);
        const double t = std::tanh(k * (v + 0.044715 * v * v * v));
        exact = 0.5 * v * (1.0 + t);
        derivative = 0.5 * (1.0 + t) + 0.5 * v * (1.0 - t * t) * k * (1.0 + 3.0 * 0.044715 * v * v);
      } else {
        const double cdf = 0.5 * (1.0 + std::erf(v / std::sqrt(2.0)));
        exact = v * cdf;
        derivative = cdf + v * std::exp(-0.5 * v * v) / std::sqrt(2.0 * 3.14159265358979323846);
      }
      const double scale = std::max(1.0, std::fabs(exact));
      worst_value = std::max(worst_value, std::fabs(values[static_cast<size_t>(i)] - exact) / scale);
      worst_grad = std::max(worst_grad, std::fabs(grads[static_cast<size_t>(i)] - derivative));
    }
    EXPECT_LT(worst_value, 1e-6);
    EXPECT_LT(worst_grad, 1e-6);
  }
}
