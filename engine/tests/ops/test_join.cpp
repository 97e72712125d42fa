// Joining and indexing: cat, stack and index_select, their forward values and their
// gradients by finite differences.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {
using V = std::vector<Tensor>;
Tensor in(const Shape& s, uint32_t seed) { return make_input(s, -1.0f, 1.0f, seed); }
}  // namespace

// ---- forward values ---------------------------------------------------------------------

TEST(Cat, AlongEachDim) {
  Tensor a = tensor({{1, 2}, {3, 4}});
  Tensor b = tensor({{5, 6}});
  EXPECT_TRUE(tensor_near(cat({a, b}), {3, 2}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(tensor_near(cat({a, b}, 0), {3, 2}, {1, 2, 3, 4, 5, 6}));
  Tensor c = from_vector({7, 8}, {2, 1});
  EXPECT_TRUE(tensor_near(cat({a, c}, 1), {2, 3}, {1, 2, 7, 3, 4, 8}));
  EXPECT_TRUE(tensor_near(cat({c, a, c}, -1), {2, 4}, {7, 1, 2, 7, 8, 3, 4, 8}));
}

TEST(Cat, ThreeDimensionalAndNonContiguous) {
  Tensor x = arange(24.0f).view({2, 3, 4});
  Tensor y = arange(100.0f, 108.0f).view({2, 1, 4});
  Tensor c = cat({x, y}, 1);
  ASSERT_EQ(c.shape(), (Shape{2, 4, 4}));
  EXPECT_TRUE(tensors_near(c.slice(1, 0, 3), x));
  EXPECT_TRUE(tensors_near(c.slice(1, 3, 4), y));
  Tensor t = x.transpose(0, 2);  // (4, 3, 2)
  Tensor d = cat({t, t}, 2);
  ASSERT_EQ(d.shape(), (Shape{4, 3, 4}));
  EXPECT_TRUE(tensors_near(d.slice(2, 2, 4), t));
}

TEST(Cat, SingleTensorIsACopy) {
  Tensor a = tensor({1, 2});
  Tensor c = cat({a});
  EXPECT_TRUE(tensor_near(c, {2}, {1, 2}));
}

TEST(Stack, NewDimAtEachPosition) {
  Tensor a = tensor({1, 2, 3});
  Tensor b = tensor({4, 5, 6});
  EXPECT_TRUE(tensor_near(stack({a, b}), {2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(tensor_near(stack({a, b}, 1), {3, 2}, {1, 4, 2, 5, 3, 6}));
  EXPECT_TRUE(tensor_near(stack({a, b}, -1), {3, 2}, {1, 4, 2, 5, 3, 6}));
  Tensor m = tensor({{1, 2}, {3, 4}});
  Tensor n = tensor({{5, 6}, {7, 8}});
  EXPECT_TRUE(tensor_near(stack({m, n}, 0), {2, 2, 2}, {1, 2, 3, 4, 5, 6, 7, 8}));
  EXPECT_TRUE(tensor_near(stack({m, n}, 1), {2, 2, 2}, {1, 2, 5, 6, 3, 4, 7, 8}));
  EXPECT_TRUE(tensor_near(stack({m, n}, 2), {2, 2, 2}, {1, 5, 2, 6, 3, 7, 4, 8}));
  EXPECT_TRUE(tensor_near(stack({tensor(1.0f), tensor(2.0f)}), {2}, {1, 2}));
}

// stack writes each input into its place in the result: inputs that are strided views (a
// transpose, a slice with a step, a patch of a larger tensor) are read through their strides.
TEST(Stack, StridedViewsAndEmptyInputs) {
  Tensor m = tensor({{1, 2}, {3, 4}});
  Tensor n = tensor({{5, 6}, {7, 8}});
  EXPECT_TRUE(tensor_near(stack({m.t(), n.t()}, 1), {2, 2, 2}, {1, 3, 5, 7, 2, 4, 6, 8}));
  Tensor row = tensor({1, 2, 3, 4, 5, 6});
  EXPECT_TRUE(tensor_near(stack({row.slice(0, 0, 6, 2), row.slice(0, 1, 6, 2)}), {2, 3}, {1, 3, 5, 2, 4, 6}));
  Tensor image = arange(0, 16).reshape({4, 4});
  Tensor patches = stack({image.index({Slice(0, 2), Slice(1, 3)}), image.index({Slice(2, 4), Slice(2, 4)})});
  EXPECT_TRUE(tensor_near(patches, {2, 2, 2}, {1, 2, 5, 6, 10, 11, 14, 15}));
  Tensor empty_stack = stack({zeros({0, 3}), zeros({0, 3})}, 1);
  EXPECT_EQ(empty_stack.shape(), (Shape{0, 2, 3}));
}

TEST(IndexSelect, RowsAtIndices) {
  Tensor table = tensor({{0, 1}, {10, 11}, {20, 21}, {30, 31}});
  EXPECT_TRUE(tensor_near(index_select(table, tensor({2, 0, 2})), {3, 2}, {20, 21, 0, 1, 20, 21}));
  EXPECT_TRUE(tensor_near(index_select(table, tensor({3})), {1, 2}, {30, 31}));
  Tensor v = tensor({5, 6, 7});
  EXPECT_TRUE(tensor_near(index_select(v, tensor({1, 1, 0})), {3}, {6, 6, 5}));
  Tensor t3 = arange(12.0f).view({3, 2, 2});
  EXPECT_TRUE(tensor_near(index_select(t3, tensor({1})), {1, 2, 2}, {4, 5, 6, 7}));
}

TEST(IndexSelect, NonContiguousTable) {
  Tensor table = tensor({{0, 1, 2}, {3, 4, 5}}).t();  // (3, 2): rows {0,3},{1,4},{2,5}
  EXPECT_TRUE(tensor_near(index_select(table, tensor({2, 1})), {2, 2}, {2, 5, 1, 4}));
}

TEST(IndexSelect, OutOfRangeIndexThrows) {
  Tensor table = zeros({4, 2});
  EXPECT_TRUE(throws_error([&] { index_select(table, tensor({0, 4})); }, "index_select"));
  EXPECT_TRUE(throws_error([&] { index_select(table, tensor({-1})); }, "index_select"));
}

// ---- gradients --------------------------------------------------------------------------

TEST(JoinGrad, Cat) {
  EXPECT_TRUE(gradcheck([](const V& v) { return cat({v[0], v[1]}, 0); }, {in({2, 3}, 152), in({1, 3}, 153)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return cat({v[0], v[1], v[0]}, 1).exp(); },
                        {in({2, 3}, 154), in({2, 1}, 155)}));
  EXPECT_TRUE(gradcheck([](const V& v) { return cat({v[0].t(), v[1]}, -1); }, {in({2, 3}, 156), in({3, 2}, 157)}));
}

TEST(JoinGrad, Stack) {
  for (int64_t d = -3; d < 3; ++d) {
    SCOPED_TRACE("dim " + std::to_string(d));
    EXPECT_TRUE(gradcheck([d](const V& v) { return stack({v[0], v[1] * v[0]}, d); },
                          {in({2, 3}, 158), in({2, 3}, 159)}));
  }
}

TEST(JoinGrad, IndexSelectWithRepeats) {
  Tensor idx = tensor({2, 0, 2, 3, 2});
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return index_select(t, idx); }, in({4, 3}, 160)));
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return index_select(t, idx).tanh(); }, in({4}, 161)));
  // Repeated rows add up: row 2 is picked three times.
  Tensor table = zeros({4, 2});
  table.set_requires_grad(true);
  index_select(table, idx).sum().backward();
  EXPECT_TRUE(tensor_near(table.grad(), {4, 2}, {1, 1, 0, 0, 3, 3, 1, 1}));
}

TEST(JoinGrad, IndexSelectOfNonContiguousTable) {
  Tensor idx = tensor({1, 0});
  EXPECT_TRUE(gradcheck1([&](const Tensor& t) { return index_select(t.t(), idx); }, in({3, 2}, 162)));
}
