// The ops a port from PyTorch reaches for first (issue 12): masked_fill broadcasting both
// ways, triu, where with a scalar branch, one-sided clamp, argmin without a dim, max/min
// with their indices, sum and mean over several dims, std and logsumexp. Each has its
// forward values (worked out by hand), a finite-difference gradient check and its errors.
// Suite names start like the ones the reference-backend run selects (engine/CMakeLists.txt).
#include <cmath>

#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {

using V = std::vector<Tensor>;

Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }

// 0, 1, 2, ... in shape s.
Tensor counting(const Shape& s) { return arange(static_cast<float>(numel_of(s))).reshape(s); }

// ---- masked_fill --------------------------------------------------------------------------

TEST(ElementwisePort, MaskedFillBroadcastsTensorAndMaskAgainstEachOther) {
  // The notes' attention line: M (B=4, T, T), mask (1, 1, T, T) (a causal buffer sliced to T),
  //   M = M.masked_fill(mask[:, :, :T, :T] == 0, float('-inf'))[0]
  // The result is (1, 4, T, T); [0] gives (4, T, T) with the future hidden.
  const int64_t T = 2;
  Tensor buffer = tril(ones({1, 1, 3, 3}));  // register_buffer'd for a block size of 3
  Tensor mask = buffer.index({Slice(0, 1), Slice(0, 1), Slice(0, T), Slice(0, T)});
  Tensor M = counting({4, T, T});
  Tensor filled = M.masked_fill(mask == 0.0f, -INFINITY);
  EXPECT_EQ(filled.shape(), (Shape{1, 4, T, T}));
  const float inf = INFINITY;
  EXPECT_TRUE(tensor_near(filled[0], {4, T, T},
                          {0, -inf, 2, 3, 4, -inf, 6, 7, 8, -inf, 10, 11, 12, -inf, 14, 15}));
}

TEST(ElementwisePort, MaskedFillWithAMaskLargerThanTheTensor) {
  // x (3,) and mask (2, 3) give (2, 3): each row of x, filled where its row of mask says.
  Tensor mask = from_vector({1, 0, 0, 0, 1, 0}, {2, 3});
  EXPECT_TRUE(tensor_near(masked_fill(from_vector({7, 8, 9}, {3}), mask, -2.0f), {2, 3},
                          {-2, 8, 9, 7, -2, 9}));
}

TEST(ElementwiseGradPort, MaskedFillBroadcastGradientSumsBack) {
  // x (3,) used by both rows: the gradient of sum() is how many rows left it unfilled.
  Tensor mask = from_vector({1, 0, 0, 0, 1, 0}, {2, 3});
  Tensor x = from_vector({7, 8, 9}, {3}).requires_grad_(true);
  masked_fill(x, mask, -2.0f).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {3}, {1, 1, 2}));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return masked_fill(t, mask, -2.0f).exp(); },
                         in({3}, 40)));
  // And the attention shape: (4, 2, 2) against (1, 1, 2, 2), through softmax.
  Tensor causal = tril(ones({1, 1, 2, 2}));
  EXPECT_TRUE(gradcheck1(
      [&](const Tensor& t) { return t.masked_fill(causal == 0.0f, -INFINITY).softmax(-1); },
      in({4, 2, 2}, 41)));
}

TEST(ElementwisePort, MaskedFillErrorNamesBothShapes) {
  EXPECT_TRUE(throws_error_all([] { masked_fill(ones({4, 2}), ones({3, 2}), 0.0f); },
                               {"masked_fill", "(4, 2)", "(3, 2)"}));
}

// ---- triu -------------------------------------------------------------------------------

TEST(CreationTriu, UpperTriangleOnEveryDiagonal) {
  Tensor x = counting({3, 3}) + 1.0f;  // 1..9
  EXPECT_TRUE(tensor_near(triu(x), {3, 3}, {1, 2, 3, 0, 5, 6, 0, 0, 9}));
  EXPECT_TRUE(tensor_near(triu(x, 1), {3, 3}, {0, 2, 3, 0, 0, 6, 0, 0, 0}));
  EXPECT_TRUE(tensor_near(triu(x, -1), {3, 3}, {1, 2, 3, 4, 5, 6, 0, 8, 9}));
  // A batch of non-square matrices: each (2, 3) gets its own triangle.
  EXPECT_TRUE(tensor_near(triu(ones({2, 2, 3})), {2, 2, 3}, {1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1}));
  // triu(ones, 1) marks the future: the mask PyTorch code often builds for attention.
  EXPECT_TRUE(tensors_near(triu(ones({4, 4}), 1), 1.0f - tril(ones({4, 4}))));
}

TEST(CreationTriu, GradientAndErrors) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return triu(t, 1); }, in({2, 3, 3}, 42)));
  EXPECT_TRUE(throws_error_all([] { triu(ones({3})); }, {"triu", "(3,)"}));
}

// ---- where with a scalar branch -----------------------------------------------------------

TEST(ElementwisePort, WhereWithAScalarEitherSide) {
  Tensor cond = from_vector({1, 0}, {2, 1});  // broadcasts against (3,): (2, 3)
  Tensor y = from_vector({1, 2, 3}, {3});
  EXPECT_TRUE(tensor_near(where(cond, 5.0f, y), {2, 3}, {5, 5, 5, 1, 2, 3}));
  EXPECT_TRUE(tensor_near(where(cond, y, 5.0f), {2, 3}, {1, 2, 3, 5, 5, 5}));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return where(cond, -1.0f, t) * t; }, in({3}, 43)));
  EXPECT_TRUE(throws_error_all([&] { where(ones({2}), 1.0f, ones({3})); }, {"where", "(2,)", "(3,)"}));
}

// ---- one-sided clamp ----------------------------------------------------------------------

TEST(ElementwisePort, ClampMinAndClampMax) {
  Tensor x = from_vector({-3, -0.5f, 0.5f, 3, NAN}, {5});
  std::vector<float> low = clamp_min(x, 0.0f).to_vector();
  std::vector<float> high = x.clamp_max(1.0f).to_vector();
  EXPECT_EQ(std::vector<float>(low.begin(), low.end() - 1), (std::vector<float>{0, 0, 0.5f, 3}));
  EXPECT_EQ(std::vector<float>(high.begin(), high.end() - 1),
            (std::vector<float>{-3, -0.5f, 0.5f, 1}));
  EXPECT_TRUE(std::isnan(low.back()));  // a NaN stays NaN, as torch.clamp
  EXPECT_TRUE(std::isnan(high.back()));
}

TEST(ElementwiseGradPort, ClampMinAndClampMax) {
  // Values at least 0.1 from the bound 0.2.
  Tensor x = from_vector({-1.2f, -0.3f, 0.0f, 0.35f, 0.9f, 1.4f}, {2, 3});
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return clamp_min(t, 0.2f) * t; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.clamp_max(0.2f) * t; }, x));
  Tensor y = x.clone().requires_grad_(true);
  clamp_min(y, 0.2f).sum().backward();
  EXPECT_TRUE(tensor_near(y.grad(), {2, 3}, {0, 0, 0, 1, 1, 1}));
  EXPECT_TRUE(throws_error([] { clamp_min(ones({2}), NAN); }, "clamp_min"));
  EXPECT_TRUE(throws_error([] { clamp_max(ones({2}), NAN); }, "clamp_max"));
}

// ---- argmin() and max/min with indices ------------------------------------------------------

TEST(ReducePort, ArgminWithoutADimIsAFlatIndex) {
  Tensor x = from_vector({4, 2, 9, 1, 7, 1}, {2, 3});  // the smallest, 1, first at flat index 3
  EXPECT_EQ(argmin(x).item(), 3.0f);
  EXPECT_EQ(x.argmin().shape(), Shape{});
  EXPECT_EQ(x.argmax().item(), 2.0f);
  EXPECT_TRUE(throws_error_all([] { argmin(ones({0})); }, {"argmin", "(0,)"}));
}

TEST(ReducePort, MaxAndMinWithIndices) {
  Tensor x = from_vector({4, 2, 9, 1, 7, 1}, {2, 3});
  auto [values, indices] = max_with_indices(x, 1);
  EXPECT_TRUE(tensor_near(values, {2}, {9, 7}));
  EXPECT_TRUE(tensor_near(indices, {2}, {2, 1}));
  auto [low, where_low] = min_with_indices(x, 0, true);
  EXPECT_TRUE(tensor_near(low, {1, 3}, {1, 2, 1}));
  EXPECT_TRUE(tensor_near(where_low, {1, 3}, {1, 0, 1}));
  // The gradient flows through the values only: to the winners.
  Tensor leaf = x.clone().requires_grad_(true);
  max_with_indices(leaf, 1).values.sum().backward();
  EXPECT_TRUE(tensor_near(leaf.grad(), {2, 3}, {0, 0, 1, 0, 1, 0}));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return min_with_indices(t, -1).values; },
                         make_distinct({3, 4})));
  EXPECT_TRUE(throws_error_all([&] { max_with_indices(x, 2); }, {"max", "dim 2", "(2, 3)"}));
  EXPECT_TRUE(throws_error_all([&] { min_with_indices(x, -3); }, {"min", "dim -3", "(2, 3)"}));
}

// ---- sum and mean over several dims --------------------------------------------------------

TEST(ReducePort, SumAndMeanOverSeveralDims) {
  Tensor x = counting({2, 3, 4});  // x[i][j][k] = 12 i + 4 j + k
  // Over i and k: sum_i sum_k (12 i + 4 j + k) = 8 * 4 j + (12 * 4 + 2 * 6) = 32 j + 60.
  EXPECT_TRUE(tensor_near(sum(x, {0, 2}), {3}, {60, 92, 124}));
  EXPECT_TRUE(tensor_near(x.sum({2, 0}, true), {1, 3, 1}, {60, 92, 124}));  // any order
  EXPECT_TRUE(tensor_near(mean(x, {-1, 0}), {3}, {7.5f, 11.5f, 15.5f}));    // negative dims
  EXPECT_TRUE(tensor_near(x.mean({0, 1, 2}), {}, {11.5f}));
}

TEST(ReduceGradPort, SumAndMeanOverSeveralDims) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return sum(t, {0, 2}) * sum(t, {1}, true).sum(); },
                         in({2, 3, 4}, 44)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return mean(t * t, {-1, 1}, true); },
                         in({2, 3, 4}, 45)));
}

TEST(ReducePort, SeveralDimsErrors) {
  Tensor x = ones({2, 3, 4});
  EXPECT_TRUE(throws_error_all([&] { sum(x, {0, 3}); }, {"sum", "dim 3", "(2, 3, 4)"}));
  EXPECT_TRUE(throws_error_all([&] { sum(x, {1, -2}); }, {"sum", "twice", "(2, 3, 4)"}));
  EXPECT_TRUE(throws_error_all([&] { mean(x, std::vector<int64_t>{}); }, {"mean", "empty", "(2, 3, 4)"}));
  EXPECT_TRUE(throws_error_all([] { mean(ones({2, 0}), {0, 1}); }, {"mean", "(2, 0)"}));
}

// ---- std ----------------------------------------------------------------------------------

TEST(ReducePort, StdUnbiasedAndNot) {
  // [1, 2, 3, 4]: squared deviations sum to 5; unbiased sqrt(5/3), biased sqrt(5/4).
  Tensor x = from_vector({1, 2, 3, 4}, {4});
  EXPECT_NEAR(ember::std(x).item(), 1.2909944f, 1e-6);
  EXPECT_NEAR(x.std(false).item(), 1.1180340f, 1e-6);
  // Along a dim: rows [1, 3] and [2, 6] -> sqrt(2) and sqrt(8).
  Tensor m = from_vector({1, 3, 2, 6}, {2, 2});
  EXPECT_TRUE(tensor_near(m.std(1), {2}, {1.4142136f, 2.8284271f}));
  EXPECT_TRUE(tensor_near(ember::std(m, 0, false, true), {1, 2}, {0.5f, 1.5f}));
}

TEST(ReduceGradPort, Std) {
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return ember::std(t); }, in({5}, 46)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.std(0, false); }, in({4, 3}, 47)));
}

TEST(ReducePort, StdErrors) {
  EXPECT_TRUE(throws_error_all([] { ember::std(ones({2, 3}), 2); }, {"std", "dim 2", "(2, 3)"}));
  EXPECT_TRUE(throws_error_all([] { ember::std(ones({1, 3}), 0); }, {"std", "at least 2", "(1, 3)"}));
  EXPECT_TRUE(throws_error_all([] { ember::std(ones({1})); }, {"std", "(1,)"}));
}

// ---- logsumexp ------------------------------------------------------------------------------

TEST(ReducePort, Logsumexp) {
  // [1, 2, 3]: 3 + log(1 + e^-1 + e^-2) = 3.4076059.
  Tensor x = from_vector({1, 2, 3, 1000, 1000, -INFINITY, -INFINITY, -INFINITY, -INFINITY}, {3, 3});
  std::vector<float> y = logsumexp(x, 1).to_vector();
  EXPECT_NEAR(y[0], 3.4076059f, 1e-6);
  EXPECT_NEAR(y[1], 1000.6931f, 1e-3);  // 1000 + log 2; exp(1000) alone overflows
  EXPECT_EQ(y[2], -INFINITY);           // every element -inf: log 0, not NaN
  EXPECT_EQ(x.logsumexp(0, true).shape(), (Shape{1, 3}));
  EXPECT_NEAR(logsumexp(from_vector({0.5f}, {}), 0).item(), 0.5f, 1e-7);  // a scalar
}

TEST(ReduceGradPort, Logsumexp) {
  // Its gradient is softmax along the dim.
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return logsumexp(t * 3.0f, 1); }, in({3, 4}, 48)));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return t.logsumexp(-1, true) * t; }, in({2, 3}, 49)));
}

TEST(ReducePort, LogsumexpErrors) {
  EXPECT_TRUE(throws_error_all([] { logsumexp(ones({2, 3}), 2); }, {"logsumexp", "dim 2", "(2, 3)"}));
  EXPECT_TRUE(throws_error_all([] { logsumexp(ones({2, 0}), 1); }, {"logsumexp", "(2, 0)"}));
}

}  // namespace
