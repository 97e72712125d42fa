// topk (issue 13), as torch.topk: the k largest (or smallest) values along a dim, sorted, with
// their indices as floats (argmax's convention); the gradient goes to the chosen positions.
#include "gradcheck.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <vector>

using namespace ember;
using namespace ember_test;

TEST(Topk, LargestFirstWithIndices) {
  Tensor x = ember::tensor({1.0f, 5.0f, 3.0f, 5.0f, -2.0f});
  auto [values, indices] = topk(x, 3);
  EXPECT_TRUE(tensor_near(values, {3}, {5.0f, 5.0f, 3.0f}, 0.0, 0.0));
  EXPECT_TRUE(tensor_near(indices, {3}, {1.0f, 3.0f, 2.0f}, 0.0, 0.0));  // ties in index order
  auto smallest = topk(x, 2, -1, false);
  EXPECT_TRUE(tensor_near(smallest.values, {2}, {-2.0f, 1.0f}, 0.0, 0.0));
  EXPECT_TRUE(tensor_near(smallest.indices, {2}, {4.0f, 0.0f}, 0.0, 0.0));
}

TEST(Topk, AlongEveryDimAgainstASortedCopy) {
  const Tensor x = make_distinct({3, 4, 5}, 0.1f, 41);
  for (int64_t dim = -3; dim < 3; ++dim) {
    for (bool largest : {true, false}) {
      const int64_t d = dim < 0 ? dim + 3 : dim;
      const int64_t n = x.size(d), k = n - 1;
      SCOPED_TRACE("dim " + std::to_string(dim) + (largest ? " largest" : " smallest"));
      auto [values, indices] = topk(x, k, dim, largest);
      Shape expected_shape = x.shape();
      expected_shape[static_cast<size_t>(d)] = k;
      ASSERT_EQ(values.shape(), expected_shape);
      ASSERT_EQ(indices.shape(), expected_shape);
      // Each line along d: sort a copy and compare.
      Tensor moved = x.movedim(d, -1).contiguous();
      Tensor moved_values = values.movedim(d, -1).contiguous();
      Tensor moved_indices = indices.movedim(d, -1).contiguous();
      std::vector<float> all = moved.to_vector(), got = moved_values.to_vector(),
                         got_indices = moved_indices.to_vector();
      for (int64_t line = 0; line < moved.numel() / n; ++line) {
        std::vector<int64_t> order(static_cast<size_t>(n));
        std::iota(order.begin(), order.end(), int64_t{0});
        std::sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
          const float va = all[static_cast<size_t>(line * n + a)], vb = all[static_cast<size_t>(line * n + b)];
          return largest ? va > vb : va < vb;
        });
        for (int64_t j = 0; j < k; ++j) {
          const size_t at = static_cast<size_t>(line * k + j);
          EXPECT_EQ(got_indices[at], static_cast<float>(order[static_cast<size_t>(j)]));
          EXPECT_EQ(got[at], all[static_cast<size_t>(line * n + order[static_cast<size_t>(j)])]);
        }
      }
    }
  }
}

TEST(Topk, KOfOneAgreesWithMaxAndArgmax) {
  const Tensor x = make_input({4, 7}, -3.0f, 3.0f, 42);
  auto [values, indices] = topk(x, 1, 1);
  EXPECT_TRUE(tensors_near(values.squeeze(1), max(x, 1), 0.0, 0.0));
  EXPECT_TRUE(tensors_near(indices.squeeze(1), argmax(x, 1), 0.0, 0.0));
  auto low = topk(x, 1, 0, false);
  EXPECT_TRUE(tensors_near(low.values.squeeze(0), min(x, 0), 0.0, 0.0));
  EXPECT_TRUE(tensors_near(low.indices.squeeze(0), argmin(x, 0), 0.0, 0.0));
}

TEST(Topk, KOfZeroAndKOfAll) {
  const Tensor x = make_distinct({2, 4}, 0.5f, 43);
  auto none = topk(x, 0);
  EXPECT_EQ(none.values.shape(), (Shape{2, 0}));
  EXPECT_EQ(none.indices.shape(), (Shape{2, 0}));
  auto all = topk(x, 4);
  std::vector<float> v = all.values.to_vector();
  EXPECT_TRUE(std::is_sorted(v.begin(), v.begin() + 4, std::greater<float>()));
  EXPECT_TRUE(std::is_sorted(v.begin() + 4, v.end(), std::greater<float>()));
  EXPECT_TRUE(tensors_near(all.values.sum(1), x.sum(1), 1e-6, 1e-6));
}

TEST(Topk, NaNCountsAsTheLargest) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  Tensor x = ember::tensor({1.0f, nan, 3.0f, -1.0f});
  auto largest = topk(x, 2);
  std::vector<float> v = largest.values.to_vector();
  EXPECT_TRUE(std::isnan(v[0]));
  EXPECT_EQ(v[1], 3.0f);
  EXPECT_TRUE(tensor_near(largest.indices, {2}, {1.0f, 2.0f}, 0.0, 0.0));
  auto smallest = topk(x, 3, 0, false);
  EXPECT_TRUE(tensor_near(smallest.values, {3}, {-1.0f, 1.0f, 3.0f}, 0.0, 0.0));
  EXPECT_TRUE(tensor_near(smallest.indices, {3}, {3.0f, 0.0f, 2.0f}, 0.0, 0.0));
}

TEST(Topk, NonContiguousInput) {
  const Tensor x = make_distinct({5, 3}, 0.25f, 44);
  auto from_view = topk(x.t(), 2);
  auto from_copy = topk(x.t().contiguous(), 2);
  EXPECT_TRUE(tensors_near(from_view.values, from_copy.values, 0.0, 0.0));
  EXPECT_TRUE(tensors_near(from_view.indices, from_copy.indices, 0.0, 0.0));
}

TEST(Topk, GradientGoesToTheChosenPositions) {
  Tensor x = ember::tensor({{1.0f, 4.0f, 2.0f}, {0.5f, -1.0f, 3.0f}});
  x.set_requires_grad(true);
  auto [values, indices] = topk(x, 2);
  EXPECT_TRUE(values.requires_grad());
  EXPECT_FALSE(indices.requires_grad());
  (values * ember::tensor({{10.0f, 20.0f}, {30.0f, 40.0f}})).sum().backward();
  EXPECT_TRUE(tensor_near(x.grad(), {2, 3}, {0.0f, 10.0f, 20.0f, 40.0f, 0.0f, 30.0f}, 0.0, 0.0));
  // No gradient needed: nothing recorded.
  Tensor plain = ember::tensor({1.0f, 2.0f});
  EXPECT_FALSE(topk(plain, 1).values.requires_grad());
}

TEST(Topk, FiniteDifferenceGradients) {
  // Distinct values 0.1 apart: a step of 1e-2 never reorders them.
  const Tensor x = make_distinct({3, 6}, 0.1f, 45);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return topk(t, 3).values; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return topk(t, 2, 0, false).values; }, x));
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return topk(t.t() * 2.0f, 2, 1).values.exp(); }, x));
  const Tensor y = make_distinct({2, 3, 4}, 0.1f, 46);
  EXPECT_TRUE(gradcheck1([](const Tensor& t) { return topk(t, 2, 1).values; }, y));
}

TEST(Topk, ErrorsNameTheOpAndTheShape) {
  const Tensor x = make_input({2, 5});
  EXPECT_TRUE(throws_error_all([&] { topk(x, 6); }, {"topk", "k = 6", "size 5", "(2, 5)"}));
  EXPECT_TRUE(throws_error_all([&] { topk(x, -1); }, {"topk", "k = -1"}));
  EXPECT_TRUE(throws_error_all([&] { topk(x, 3, 0); }, {"topk", "k = 3", "size 2"}));
  EXPECT_TRUE(throws_error_all([&] { topk(x, 1, 2); }, {"topk", "2"}));
  EXPECT_TRUE(throws_error_all([&] { topk(ember::tensor(1.0f), 1); }, {"topk", "scalar"}));
  EXPECT_TRUE(throws_error([&] { topk(Tensor(), 1); }, "topk"));
}
