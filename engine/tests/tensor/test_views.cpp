// View ops: each shares storage with its base (writes through the view show up in the
// base) and changes only shape/strides/offset; values match PyTorch.
#include "gradcheck.h"

using namespace ember;
using namespace ember_test;

namespace {

// 0, 1, ..., n-1 with the given shape.
Tensor iota(const Shape& shape) {
  std::vector<float> v(static_cast<size_t>(numel_of(shape)));
  std::iota(v.begin(), v.end(), 0.0f);
  return from_vector(v, shape);
}

bool shares_storage(const Tensor& a, const Tensor& b) {
  return a.impl()->storage == b.impl()->storage;
}

}  // namespace

TEST(Views, ViewReshapesWithoutCopy) {
  Tensor x = iota({2, 6});
  Tensor v = x.view({3, 4});
  EXPECT_TRUE(tensor_near(v, {3, 4}, x.to_vector()));
  EXPECT_TRUE(shares_storage(v, x));
  EXPECT_EQ(v.strides(), (Shape{4, 1}));
  {
    NoGradGuard no_grad;
    v.select(0, 1).fill_(-1.0f);  // row 1 of v is elements 4..7 of x
  }
  EXPECT_TRUE(tensor_near(x, {2, 6}, {0, 1, 2, 3, -1, -1, -1, -1, 8, 9, 10, 11}));
}

TEST(Views, ViewInfersMinusOne) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.view({-1}).shape(), (Shape{24}));
  EXPECT_EQ(x.view({4, -1}).shape(), (Shape{4, 6}));
  EXPECT_EQ(x.view({-1, 2, 3}).shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(x.view({2, 3, 4, 1}).shape(), (Shape{2, 3, 4, 1}));
}

TEST(Views, ViewOfScalarAndToScalar) {
  EXPECT_EQ(tensor(3.0f).view({1, 1}).shape(), (Shape{1, 1}));
  EXPECT_TRUE(tensor_near(tensor({5.0f}).view({}), {}, {5}));
}

TEST(Views, ViewOfTransposedTensorThrows) {
  Tensor x = iota({2, 3}).t();  // (3, 2) with strides (1, 3)
  EXPECT_TRUE(throws_error([&] { x.view({6}); }, "view"));
}

TEST(Views, ViewOfStridedButCompatibleLayoutWorks) {
  // Every other block of x: strides (12, 3, 1), not contiguous, but the last two dims are
  // still dense together, so merging them is a view in PyTorch.
  Tensor x = iota({4, 2, 3});
  Tensor s = x.slice(0, 0, 4, 2);  // (2, 2, 3)
  ASSERT_FALSE(s.is_contiguous());
  Tensor v = s.view({2, 6});
  EXPECT_TRUE(shares_storage(v, x));
  EXPECT_TRUE(tensor_near(v, {2, 6}, {0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17}));
}

TEST(Views, ViewOfOffsetSliceWorks) {
  Tensor x = iota({4, 2, 3});
  Tensor s = x.slice(0, 1, 3);  // rows 1..2: dense, offset 6
  Tensor v = s.view({2, 6});
  EXPECT_TRUE(shares_storage(v, x));
  EXPECT_TRUE(tensor_near(v, {2, 6}, {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
}

TEST(Views, ReshapeOfContiguousIsAView) {
  Tensor x = iota({2, 3});
  Tensor r = x.reshape({3, -1});
  EXPECT_EQ(r.shape(), (Shape{3, 2}));
  EXPECT_TRUE(shares_storage(r, x));
  EXPECT_TRUE(tensor_near(r, {3, 2}, {0, 1, 2, 3, 4, 5}));
}

TEST(Views, ReshapeOfNonContiguousCopies) {
  Tensor x = iota({2, 3});
  Tensor r = x.t().reshape({6});
  EXPECT_TRUE(tensor_near(r, {6}, {0, 3, 1, 4, 2, 5}));
  EXPECT_FALSE(shares_storage(r, x));
  {
    NoGradGuard no_grad;
    r.fill_(100.0f);
  }
  EXPECT_TRUE(tensor_near(x, {2, 3}, {0, 1, 2, 3, 4, 5}));  // the base is untouched
}

TEST(Views, TransposeAndT) {
  Tensor x = iota({2, 3, 4});
  Tensor t = x.transpose(0, 2);
  EXPECT_EQ(t.shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(t.strides(), (Shape{1, 4, 12}));
  EXPECT_TRUE(shares_storage(t, x));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) ASSERT_EQ(t.at({k, j, i}), x.at({i, j, k}));
  EXPECT_EQ(x.transpose(-1, -3).shape(), (Shape{4, 3, 2}));
  EXPECT_EQ(x.transpose(1, 1).shape(), (Shape{2, 3, 4}));
  Tensor m = iota({2, 3});
  EXPECT_TRUE(tensor_near(m.t(), {3, 2}, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(tensor_near(m.t().t(), {2, 3}, {0, 1, 2, 3, 4, 5}));
}

TEST(Views, Permute) {
  Tensor x = iota({2, 3, 4});
  Tensor p = x.permute({2, 0, 1});
  EXPECT_EQ(p.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(p.strides(), (Shape{1, 12, 4}));
  EXPECT_TRUE(shares_storage(p, x));
  EXPECT_FLOAT_EQ(p.at({3, 1, 2}), x.at({1, 2, 3}));
  EXPECT_FLOAT_EQ(p.at({1, 0, 2}), x.at({0, 2, 1}));
  EXPECT_EQ(x.permute({-1, -3, -2}).shape(), (Shape{4, 2, 3}));
}

TEST(Views, Movedim) {
  Tensor x = iota({2, 3, 4});
  EXPECT_EQ(x.movedim(0, 2).shape(), (Shape{3, 4, 2}));
  EXPECT_EQ(x.movedim(2, 0).shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(x.movedim(-1, 1).shape(), (Shape{2, 4, 3}));
  Tensor m = x.movedim(0, -1);
  EXPECT_FLOAT_EQ(m.at({2, 1, 1}), x.at({1, 2, 1}));
  EXPECT_TRUE(shares_storage(m, x));
}

TEST(Views, Unsqueeze) {
  Tensor x = iota({2, 3});
  EXPECT_EQ(x.unsqueeze(0).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(x.unsqueeze(1).shape(), (Shape{2, 1, 3}));
  EXPECT_EQ(x.unsqueeze(2).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-1).shape(), (Shape{2, 3, 1}));
  EXPECT_EQ(x.unsqueeze(-3).shape(), (Shape{1, 2, 3}));
  EXPECT_EQ(tensor(1.0f).unsqueeze(0).shape(), (Shape{1}));
  EXPECT_TRUE(tensor_near(x.unsqueeze(1), {2, 1, 3}, {0, 1, 2, 3, 4, 5}));
  EXPECT_TRUE(shares_storage(x.unsqueeze(1), x));
}

TEST(Views, SqueezeAll) {
  Tensor x = iota({1, 3, 1, 2, 1});
  EXPECT_EQ(x.squeeze().shape(), (Shape{3, 2}));
  EXPECT_TRUE(tensor_near(x.squeeze(), {3, 2}, {0, 1, 2, 3, 4, 5}));
  EXPECT_EQ(ones({1, 1}).squeeze().shape(), Shape{});
  EXPECT_EQ(iota({2, 3}).squeeze().shape(), (Shape{2, 3}));
}

TEST(Views, SqueezeOneDim) {
  Tensor x = iota({1, 3, 1});
  EXPECT_EQ(x.squeeze(0).shape(), (Shape{3, 1}));
  EXPECT_EQ(x.squeeze(2).shape(), (Shape{1, 3}));
  EXPECT_EQ(x.squeeze(-1).shape(), (Shape{1, 3}));
  EXPECT_EQ(x.squeeze(1).shape(), (Shape{1, 3, 1}));  // size 3: unchanged, as PyTorch
  EXPECT_TRUE(shares_storage(x.squeeze(0), x));
}

TEST(Views, Flatten) {
  Tensor x = iota({2, 3, 4, 5});
  EXPECT_EQ(x.flatten().shape(), (Shape{120}));
  EXPECT_EQ(x.flatten(1).shape(), (Shape{2, 60}));
  EXPECT_EQ(x.flatten(1, 2).shape(), (Shape{2, 12, 5}));
  EXPECT_EQ(x.flatten(0, 1).shape(), (Shape{6, 4, 5}));
  EXPECT_EQ(x.flatten(-2).shape(), (Shape{2, 3, 20}));
  EXPECT_EQ(x.flatten(2, 2).shape(), (Shape{2, 3, 4, 5}));
  EXPECT_TRUE(tensor_near(x.flatten(1), {2, 60}, x.to_vector()));
  EXPECT_EQ(tensor(2.0f).flatten().shape(), (Shape{1}));
}

TEST(Views, FlattenOfNonContiguousHasRightValues) {
  Tensor x = iota({2, 3});
  EXPECT_TRUE(tensor_near(x.t().flatten(), {6}, {0, 3, 1, 4, 2, 5}));
}

TEST(Views, Expand) {
  Tensor x = tensor({1, 2, 3});
  Tensor e = x.expand({2, 3});
  EXPECT_TRUE(tensor_near(e, {2, 3}, {1, 2, 3, 1, 2, 3}));
  EXPECT_EQ(e.strides()[0], 0);
  EXPECT_TRUE(shares_storage(e, x));
  Tensor c = from_vector({1, 2}, {2, 1});
  EXPECT_TRUE(tensor_near(c.expand({2, 3}), {2, 3}, {1, 1, 1, 2, 2, 2}));
  EXPECT_TRUE(tensor_near(c.expand({-1, 2}), {2, 2}, {1, 1, 2, 2}));
  EXPECT_TRUE(tensor_near(c.expand({2, -1, 2}), {2, 2, 2}, {1, 1, 2, 2, 1, 1, 2, 2}));
  EXPECT_TRUE(tensor_near(tensor(4.0f).expand({2, 2}), {2, 2}, {4, 4, 4, 4}));
}

TEST(Views, ExpandAs) {
  Tensor x = from_vector({1, 2}, {2, 1});
  Tensor e = x.expand_as(zeros({3, 2, 4}));
  EXPECT_EQ(e.shape(), (Shape{3, 2, 4}));
  EXPECT_FLOAT_EQ(e.at({2, 1, 3}), 2.0f);
  EXPECT_FLOAT_EQ(e.at({0, 0, 2}), 1.0f);
}

TEST(Views, ExpandedViewSeesBaseWrites) {
  Tensor x = tensor({1, 2});
  Tensor e = x.expand({3, 2});
  {
    NoGradGuard no_grad;
    x.fill_(5.0f);
  }
  EXPECT_TRUE(tensor_near(e, {3, 2}, {5, 5, 5, 5, 5, 5}));
}

TEST(Views, SliceBasicsAndStep) {
  Tensor x = iota({10});
  EXPECT_TRUE(tensor_near(x.slice(0, 2, 5), {3}, {2, 3, 4}));
  EXPECT_TRUE(tensor_near(x.slice(0, 1, 9, 3), {3}, {1, 4, 7}));
  EXPECT_TRUE(tensor_near(x.slice(0, 0, 10, 4), {3}, {0, 4, 8}));
  Tensor s = x.slice(0, 1, 9, 3);
  EXPECT_EQ(s.strides(), (Shape{3}));
  EXPECT_EQ(s.offset(), 1);
  EXPECT_TRUE(shares_storage(s, x));
}

TEST(Views, SliceNegativeAndClampedBounds) {
  Tensor x = iota({10});
  EXPECT_TRUE(tensor_near(x.slice(0, -3, 10), {3}, {7, 8, 9}));         // x[-3:]
  EXPECT_TRUE(tensor_near(x.slice(0, 0, -7), {3}, {0, 1, 2}));          // x[:-7]
  EXPECT_TRUE(tensor_near(x.slice(0, -100, 2), {2}, {0, 1}));           // clamped to 0
  EXPECT_TRUE(tensor_near(x.slice(0, 8, 100), {2}, {8, 9}));            // clamped to 10
  EXPECT_TRUE(tensor_near(x.slice(0, 8, Slice::kEnd), {2}, {8, 9}));
  EXPECT_EQ(x.slice(0, 5, 3).numel(), 0);                               // empty, as x[5:3]
  EXPECT_EQ(x.slice(0, 12, 20).numel(), 0);
}

TEST(Views, SliceInnerDim) {
  Tensor x = iota({3, 4});
  Tensor s = x.slice(1, 1, 3);
  EXPECT_TRUE(tensor_near(s, {3, 2}, {1, 2, 5, 6, 9, 10}));
  EXPECT_FALSE(s.is_contiguous());
  EXPECT_TRUE(tensor_near(x.slice(-1, 0, 4, 2), {3, 2}, {0, 2, 4, 6, 8, 10}));
}

TEST(Views, WritingThroughSliceChangesBase) {
  Tensor x = zeros({3, 4});
  {
    NoGradGuard no_grad;
    x.slice(1, 1, 3).copy_(ones({3, 2}));
    x.slice(0, 0, 3, 2).slice(1, 3, 4).fill_(7.0f);
  }
  EXPECT_TRUE(tensor_near(x, {3, 4}, {0, 1, 1, 7, 0, 1, 1, 0, 0, 1, 1, 7}));
}

TEST(Views, SelectAndOperatorIndex) {
  Tensor x = iota({2, 3, 4});
  EXPECT_TRUE(tensor_near(x.select(0, 1), {3, 4}, {12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23}));
  EXPECT_TRUE(tensor_near(x.select(1, 2), {2, 4}, {8, 9, 10, 11, 20, 21, 22, 23}));
  EXPECT_TRUE(tensor_near(x.select(2, -1), {2, 3}, {3, 7, 11, 15, 19, 23}));
  EXPECT_TRUE(tensor_near(x.select(0, -2), {3, 4}, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}));
  EXPECT_TRUE(tensors_near(x[1], x.select(0, 1)));
  EXPECT_TRUE(tensor_near(x[1][2], {4}, {20, 21, 22, 23}));
  EXPECT_TRUE(tensor_near(x[0][1][3], {}, {7}));
  EXPECT_FLOAT_EQ(x[1][0][2].item(), 14.0f);
  EXPECT_TRUE(shares_storage(x[1], x));
}

TEST(Views, WritingThroughSelectChangesBase) {
  Tensor x = zeros({2, 3});
  {
    NoGradGuard no_grad;
    x[1].fill_(2.0f);
    x.select(1, 0).copy_(tensor({-1, -2}));
  }
  EXPECT_TRUE(tensor_near(x, {2, 3}, {-1, 0, 0, -2, 2, 2}));
}

TEST(Views, IndexWithSlices) {
  Tensor img = iota({5, 6});
  const int64_t y = 1, x0 = 2, h = 3, w = 2;
  Tensor crop = img.index({Slice(y, y + h), Slice(x0, x0 + w)});
  EXPECT_TRUE(tensor_near(crop, {3, 2}, {8, 9, 14, 15, 20, 21}));
  EXPECT_TRUE(shares_storage(crop, img));
  EXPECT_TRUE(tensor_near(img.index({Slice(0, 5, 2)}), {3, 6},
                          {0, 1, 2, 3, 4, 5, 12, 13, 14, 15, 16, 17, 24, 25, 26, 27, 28, 29}));
  EXPECT_TRUE(tensor_near(img.index({Slice(), Slice(-2, Slice::kEnd)}), {5, 2},
                          {4, 5, 10, 11, 16, 17, 22, 23, 28, 29}));
}

TEST(Views, IndexMixedIntsAndSlices) {
  Tensor x = iota({2, 3, 4});
  EXPECT_TRUE(tensor_near(x.index({1, Slice(0, 2)}), {2, 4}, {12, 13, 14, 15, 16, 17, 18, 19}));
  EXPECT_TRUE(tensor_near(x.index({Slice(), 2, Slice(1, 3)}), {2, 2}, {9, 10, 21, 22}));
  EXPECT_TRUE(tensor_near(x.index({0, 1, 2}), {}, {6}));
  EXPECT_TRUE(tensor_near(x.index({-1, -1}), {4}, {20, 21, 22, 23}));
  EXPECT_TRUE(tensor_near(x.index({1}), {3, 4}, x[1].to_vector()));  // trailing dims kept
}

TEST(Views, WritingThroughIndexChangesBase) {
  Tensor x = zeros({4, 4});
  {
    NoGradGuard no_grad;
    x.index({Slice(1, 3), Slice(1, 3)}).fill_(1.0f);
  }
  EXPECT_TRUE(tensor_near(x, {4, 4}, {0, 0, 0, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0}));
}

TEST(Views, ContiguousReturnsSameImplWhenAlreadyContiguous) {
  Tensor x = iota({3, 4});
  EXPECT_TRUE(x.contiguous().same_impl(x));
  Tensor row = x[1];
  EXPECT_TRUE(row.is_contiguous());
  EXPECT_TRUE(row.contiguous().same_impl(row));
}

TEST(Views, ContiguousCopiesWhenNot) {
  Tensor x = iota({3, 4});
  Tensor t = x.t();
  Tensor c = t.contiguous();
  EXPECT_FALSE(c.same_impl(t));
  EXPECT_TRUE(c.is_contiguous());
  EXPECT_EQ(c.strides(), (Shape{3, 1}));
  EXPECT_TRUE(tensors_near(c, t));
  EXPECT_FALSE(shares_storage(c, x));
  Tensor e = tensor({1, 2}).expand({3, 2}).contiguous();
  EXPECT_TRUE(e.is_contiguous());
  EXPECT_TRUE(tensor_near(e, {3, 2}, {1, 2, 1, 2, 1, 2}));
}

TEST(Views, CloneHasOwnStorage) {
  Tensor x = iota({2, 2});
  Tensor c = x.clone();
  EXPECT_TRUE(tensors_near(c, x));
  EXPECT_FALSE(shares_storage(c, x));
  c.fill_(9.0f);
  EXPECT_TRUE(tensor_near(x, {2, 2}, {0, 1, 2, 3}));
  Tensor ct = x.t().clone();
  EXPECT_TRUE(tensor_near(ct, {2, 2}, {0, 2, 1, 3}));
}

TEST(Views, ChainedViewsComposeOffsets) {
  Tensor x = iota({4, 5, 6});
  Tensor v = x.slice(0, 1, 4).transpose(1, 2).select(2, 3).slice(1, 2, 6, 2);  // (3, 2)
  ASSERT_EQ(v.shape(), (Shape{3, 2}));
  for (int64_t a = 0; a < 3; ++a)
    for (int64_t b = 0; b < 2; ++b) ASSERT_EQ(v.at({a, b}), x.at({a + 1, 3, 2 + 2 * b}));
  EXPECT_TRUE(shares_storage(v, x));
}

TEST(Views, ViewsOnlyChangeMetadata) {
  Tensor x = iota({2, 3});
  const float* data = x.impl()->storage->data();
  for (const Tensor& v : {x.view({3, 2}), x.t(), x.unsqueeze(0), x.flatten(), x.slice(1, 1, 3),
                          x.select(0, 1), x.expand({4, 2, 3}), x.permute({1, 0}), x.movedim(0, 1),
                          x.reshape({6}), x.index({Slice(0, 1)}), x[0]}) {
    EXPECT_EQ(v.impl()->storage->data(), data);
  }
}

TEST(Views, ReshapeAndFlattenOfExpanded) {
  Tensor e = tensor({1, 2}).expand({3, 2});
  EXPECT_TRUE(tensor_near(e.reshape({6}), {6}, {1, 2, 1, 2, 1, 2}));
  EXPECT_TRUE(tensor_near(e.flatten(), {6}, {1, 2, 1, 2, 1, 2}));
}

TEST(Views, NegativeIndexingAndSteppedNegativeStart) {
  Tensor x = iota({4, 2});
  EXPECT_TRUE(tensor_near(x[-1], {2}, {6, 7}));
  Tensor v = iota({10});
  EXPECT_TRUE(tensor_near(v.slice(0, -5, Slice::kEnd, 2), {3}, {5, 7, 9}));  // v[-5::2]
  EXPECT_TRUE(tensor_near(v.index({Slice(-3, -1)}), {2}, {7, 8}));
}

TEST(Views, ItemAndAtOnViews) {
  Tensor x = iota({2, 3});
  EXPECT_FLOAT_EQ(x.t()[2][1].item(), 5.0f);
  EXPECT_FLOAT_EQ(x.slice(1, 1, 3).at({1, 1}), 5.0f);
  EXPECT_FLOAT_EQ(x.expand({4, 2, 3}).at({3, 1, 0}), 3.0f);
}

TEST(Views, FreeFunctionsAreTheMethods) {
  // For ports of torch.transpose(x, 0, 1), torch.movedim(x, 1, 0), ...
  Tensor x = arange(24.0f).reshape({2, 3, 4});
  EXPECT_TRUE(tensors_near(transpose(x, 0, 2), x.transpose(0, 2)));
  EXPECT_TRUE(tensors_near(movedim(x, 1, 0), x.movedim(1, 0)));
  EXPECT_TRUE(tensors_near(reshape(x, {6, 4}), x.reshape({6, 4})));
  EXPECT_TRUE(tensors_near(flatten(x, 1), x.flatten(1)));
  EXPECT_TRUE(tensors_near(permute(x, {2, 0, 1}), x.permute({2, 0, 1})));
  EXPECT_TRUE(tensors_near(unsqueeze(x, 1), x.unsqueeze(1)));
  EXPECT_TRUE(tensors_near(squeeze(unsqueeze(x, 1), 1), x));
  EXPECT_EQ(squeeze(zeros({1, 3, 1})).shape(), (Shape{3}));
}
