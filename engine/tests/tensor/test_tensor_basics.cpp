// Tensor metadata and element access: shape, size, dim, numel, item, to_vector, at,
// strides/offset/contiguity, handle semantics; and the shape.h / device.h helpers.
#include "gradcheck.h"

#include <thread>

using namespace ember;
using namespace ember_test;

// ---- shape.h -------------------------------------------------------------------------

TEST(ShapeHelpers, NumelOfShapes) {
  EXPECT_EQ(shape_numel({2, 3, 4}), 24);
  EXPECT_EQ(shape_numel({5}), 5);
  EXPECT_EQ(shape_numel({}), 1);  // a scalar holds one element
  EXPECT_EQ(shape_numel({3, 0, 2}), 0);
}

TEST(ShapeHelpers, ContiguousStridesAreRowMajor) {
  EXPECT_EQ(contiguous_strides({2, 3, 4}), (Shape{12, 4, 1}));
  EXPECT_EQ(contiguous_strides({7}), (Shape{1}));
  EXPECT_EQ(contiguous_strides({}), (Shape{}));
  EXPECT_EQ(contiguous_strides({5, 1, 2}), (Shape{2, 2, 1}));
}

TEST(ShapeHelpers, ShapeStrMatchesTorchSize) {
  EXPECT_EQ(shape_str({2, 3}), "(2, 3)");
  EXPECT_EQ(shape_str({5}), "(5,)");
  EXPECT_EQ(shape_str({}), "()");
  EXPECT_EQ(shape_str({64, 784}), "(64, 784)");
}

TEST(ShapeHelpers, NormalizeDimMapsNegativeDims) {
  EXPECT_EQ(normalize_dim(-1, 3, "op"), 2);
  EXPECT_EQ(normalize_dim(-3, 3, "op"), 0);
  EXPECT_EQ(normalize_dim(0, 3, "op"), 0);
  EXPECT_EQ(normalize_dim(2, 3, "op"), 2);
}

TEST(ShapeHelpers, NormalizeDimOutOfRangeMessage) {
  EXPECT_TRUE(throws_error([] { normalize_dim(3, 2, "myop"); },
                           "myop: dim 3 is out of range for a tensor with 2 dims (expected -2 to 1)"));
  EXPECT_TRUE(throws_error([] { normalize_dim(-3, 2, "myop"); }, "myop: dim -3 is out of range"));
}

TEST(ShapeHelpers, BroadcastShapes) {
  EXPECT_EQ(broadcast_shapes({3, 1}, {1, 4}, "op"), (Shape{3, 4}));
  EXPECT_EQ(broadcast_shapes({2, 3}, {3}, "op"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({}, {2, 3}, "op"), (Shape{2, 3}));
  EXPECT_EQ(broadcast_shapes({5, 1, 4}, {3, 1}, "op"), (Shape{5, 3, 4}));
  EXPECT_EQ(broadcast_shapes({2, 3}, {2, 3}, "op"), (Shape{2, 3}));
}

TEST(ShapeHelpers, BroadcastShapesFailureMessage) {
  EXPECT_TRUE(throws_error([] { broadcast_shapes({2, 3}, {4}, "add"); },
                           "add: shapes (2, 3) and (4,) cannot be broadcast (dim -1: 3 vs 4)"));
}

TEST(DeviceHelpers, DeviceStrAndEquality) {
  EXPECT_EQ(Device::cpu().str(), "cpu");
  EXPECT_EQ(Device::cuda().str(), "cuda:0");
  EXPECT_EQ(Device::cuda(1).str(), "cuda:1");
  EXPECT_TRUE(Device::cpu() == Device::cpu());
  EXPECT_TRUE(Device::cpu() != Device::cuda());
  EXPECT_TRUE(Device::cuda(0) != Device::cuda(1));
  EXPECT_TRUE(Device::cpu().is_cpu());
  EXPECT_TRUE(Device::cuda().is_cuda());
}

TEST(DeviceHelpers, CudaAvailableIffDevicesCounted) {
  EXPECT_EQ(cuda::is_available(), cuda::device_count() > 0);
}

// ---- metadata ----------------------------------------------------------------------

TEST(TensorBasics, ShapeDimNumel) {
  Tensor x = zeros({2, 3, 4});
  EXPECT_TRUE(x.defined());
  EXPECT_EQ(x.shape(), (Shape{2, 3, 4}));
  EXPECT_EQ(x.dim(), 3);
  EXPECT_EQ(x.numel(), 24);
  EXPECT_EQ(x.device(), Device::cpu());
}

TEST(TensorBasics, SizeWithPositiveAndNegativeDims) {
  Tensor x = zeros({2, 3, 4});
  EXPECT_EQ(x.size(0), 2);
  EXPECT_EQ(x.size(1), 3);
  EXPECT_EQ(x.size(2), 4);
  EXPECT_EQ(x.size(-1), 4);
  EXPECT_EQ(x.size(-2), 3);
  EXPECT_EQ(x.size(-3), 2);
}

TEST(TensorBasics, ScalarTensorHasNoDims) {
  Tensor s = tensor(2.5f);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.shape(), Shape{});
  EXPECT_EQ(s.numel(), 1);
  EXPECT_FLOAT_EQ(s.item(), 2.5f);
  EXPECT_EQ(s.to_vector(), std::vector<float>{2.5f});
}

TEST(TensorBasics, DefaultTensorIsUndefined) {
  Tensor t;
  EXPECT_FALSE(t.defined());
}

TEST(TensorBasics, ItemOfOneElementTensors) {
  EXPECT_FLOAT_EQ(tensor({7.0f}).item(), 7.0f);
  EXPECT_FLOAT_EQ(full({1, 1, 1}, -3.5f).item(), -3.5f);
  EXPECT_FLOAT_EQ(tensor({{1, 2}, {3, 4}}).sum().item(), 10.0f);
}

TEST(TensorBasics, ToVectorIsRowMajor) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  EXPECT_EQ(x.to_vector(), (std::vector<float>{1, 2, 3, 4, 5, 6}));
  // Of a view: row-major order of the view, not of the storage.
  EXPECT_EQ(x.t().to_vector(), (std::vector<float>{1, 4, 2, 5, 3, 6}));
}

TEST(TensorBasics, AtReadsFullIndex) {
  Tensor x = from_vector({0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19,
                          20, 21, 22, 23},
                         {2, 3, 4});
  EXPECT_FLOAT_EQ(x.at({0, 0, 0}), 0.0f);
  EXPECT_FLOAT_EQ(x.at({1, 2, 3}), 23.0f);
  EXPECT_FLOAT_EQ(x.at({1, 0, 2}), 14.0f);
  EXPECT_FLOAT_EQ(x.at({0, 2, 1}), 9.0f);
  // Through a transposed view.
  Tensor y = x.transpose(0, 2);  // (4, 3, 2)
  EXPECT_FLOAT_EQ(y.at({2, 0, 1}), x.at({1, 0, 2}));
  EXPECT_FLOAT_EQ(y.at({3, 2, 1}), 23.0f);
}

TEST(TensorBasics, AtOnScalar) { EXPECT_FLOAT_EQ(tensor(4.0f).at({}), 4.0f); }

TEST(TensorBasics, ContiguousLayoutMetadata) {
  Tensor x = zeros({2, 3, 4});
  EXPECT_EQ(x.strides(), (Shape{12, 4, 1}));
  EXPECT_EQ(x.offset(), 0);
  EXPECT_TRUE(x.is_contiguous());
  Tensor t = x.transpose(0, 1);
  EXPECT_EQ(t.shape(), (Shape{3, 2, 4}));
  EXPECT_EQ(t.strides(), (Shape{4, 12, 1}));
  EXPECT_FALSE(t.is_contiguous());
  Tensor s = x.select(0, 1);
  EXPECT_EQ(s.offset(), 12);
  EXPECT_TRUE(s.is_contiguous());
}

TEST(TensorBasics, CopyingAHandleSharesData) {
  Tensor a = zeros({3});
  Tensor b = a;
  EXPECT_TRUE(a.same_impl(b));
  b.fill_(2.0f);
  EXPECT_EQ(a.to_vector(), (std::vector<float>{2, 2, 2}));
}

TEST(TensorBasics, DataPtrPointsAtElementZeroOfView) {
  Tensor x = arange(10.0f);
  Tensor s = x.slice(0, 3, 8);
  EXPECT_EQ(s.data_ptr(), x.data_ptr() + 3);
  EXPECT_FLOAT_EQ(*s.data_ptr(), 3.0f);
}

TEST(TensorBasics, StorageIsSharedAndSized) {
  Tensor x = zeros({4, 5});
  ASSERT_NE(x.impl(), nullptr);
  ASSERT_NE(x.impl()->storage, nullptr);
  EXPECT_GE(x.impl()->storage->count(), 20);
  Tensor v = x.view({20});
  EXPECT_EQ(v.impl()->storage, x.impl()->storage);
  EXPECT_FALSE(v.same_impl(x));  // a view gets its own TensorImpl
}

TEST(TensorBasics, ToCpuOnCpuTensorKeepsValues) {
  Tensor x = tensor({1, 2, 3});
  Tensor y = x.cpu();
  EXPECT_EQ(y.device(), Device::cpu());
  EXPECT_EQ(y.to_vector(), x.to_vector());
}

// ---- in-place arithmetic on tensors that do not require grad ------------------------

TEST(TensorInPlace, CompoundAssignmentWithTensors) {
  Tensor x = tensor({1, 2, 3});
  x += tensor({10, 20, 30});
  EXPECT_EQ(x.to_vector(), (std::vector<float>{11, 22, 33}));
  x -= tensor({1, 2, 3});
  EXPECT_EQ(x.to_vector(), (std::vector<float>{10, 20, 30}));
  x *= tensor({2, 0.5f, -1});
  EXPECT_EQ(x.to_vector(), (std::vector<float>{20, 10, -30}));
}

TEST(TensorInPlace, CompoundAssignmentBroadcastsOther) {
  Tensor x = zeros({2, 3});
  x += tensor({1, 2, 3});
  EXPECT_TRUE(tensor_near(x, {2, 3}, {1, 2, 3, 1, 2, 3}));
  x *= from_vector({2, 3}, {2, 1});
  EXPECT_TRUE(tensor_near(x, {2, 3}, {2, 4, 6, 3, 6, 9}));
}

TEST(TensorInPlace, CompoundAssignmentWithScalars) {
  Tensor x = tensor({1, 2, 4});
  x += 1.0f;
  EXPECT_EQ(x.to_vector(), (std::vector<float>{2, 3, 5}));
  x -= 2.0f;
  EXPECT_EQ(x.to_vector(), (std::vector<float>{0, 1, 3}));
  x *= 4.0f;
  EXPECT_EQ(x.to_vector(), (std::vector<float>{0, 4, 12}));
  x /= 8.0f;
  EXPECT_EQ(x.to_vector(), (std::vector<float>{0, 0.5f, 1.5f}));
}

TEST(TensorInPlace, InPlaceKeepsTheSameImpl) {
  Tensor x = tensor({1, 2});
  Tensor alias = x;
  x += 1.0f;
  x.fill_(9.0f);
  EXPECT_TRUE(x.same_impl(alias));
  EXPECT_EQ(alias.to_vector(), (std::vector<float>{9, 9}));
}

TEST(TensorInPlace, FillAndZero) {
  Tensor x = ones({2, 2});
  x.fill_(3.5f);
  EXPECT_TRUE(tensor_near(x, {2, 2}, {3.5f, 3.5f, 3.5f, 3.5f}));
  x.zero_();
  EXPECT_TRUE(tensor_near(x, {2, 2}, {0, 0, 0, 0}));
}

TEST(TensorInPlace, CopyBroadcastsSource) {
  Tensor x = zeros({2, 3});
  x.copy_(tensor({1, 2, 3}));
  EXPECT_TRUE(tensor_near(x, {2, 3}, {1, 2, 3, 1, 2, 3}));
  x.copy_(tensor(7.0f));
  EXPECT_TRUE(tensor_near(x, {2, 3}, {7, 7, 7, 7, 7, 7}));
}

TEST(TensorInPlace, CopyFromNonContiguousSource) {
  Tensor x = zeros({3, 2});
  x.copy_(tensor({{1, 2, 3}, {4, 5, 6}}).t());
  EXPECT_TRUE(tensor_near(x, {3, 2}, {1, 4, 2, 5, 3, 6}));
}

TEST(TensorInPlace, InPlaceBroadcastsTheOtherOperand) {
  Tensor x = tensor({{1, 2, 3}, {4, 5, 6}});
  x += tensor({10, 20, 30});
  EXPECT_TRUE(tensor_near(x, {2, 3}, {11, 22, 33, 14, 25, 36}));
  x -= tensor({{1}, {2}});
  EXPECT_TRUE(tensor_near(x, {2, 3}, {10, 21, 32, 12, 23, 34}));
  x *= tensor(0.5f);
  EXPECT_TRUE(tensor_near(x, {2, 3}, {5, 10.5f, 16, 6, 11.5f, 17}));
  // The result must keep this tensor's shape: (3,) += (2, 3) cannot be done in place.
  Tensor row = zeros({3});
  EXPECT_TRUE(throws_error([&] { row += zeros({2, 3}); }, "+=: the result would have shape (2, 3)"));
}

TEST(TensorInPlace, InPlaceWithItselfOrAnOverlappingView) {
  Tensor x = tensor({1, 2, 3, 4});
  x += x;  // the same memory as both operands
  EXPECT_TRUE(tensor_near(x, {4}, {2, 4, 6, 8}));
  Tensor y = tensor({1, 2, 3, 4});
  y.slice(0, 1, 4) *= y.slice(0, 0, 3);  // reads what it writes: the out-of-place answer
  EXPECT_TRUE(tensor_near(y, {4}, {1, 2, 6, 12}));
}

TEST(TensorInPlace, InPlaceOnNonContiguousView) {
  Tensor x = zeros({2, 3});
  Tensor col = x.t();  // (3, 2), non-contiguous
  col += tensor({1, 2});
  EXPECT_TRUE(tensor_near(x, {2, 3}, {1, 1, 1, 2, 2, 2}));
}

// In-place ops whose source overlaps the destination: PyTorch refuses partial overlap;
// an engine may also buffer the source. Either an Error or the out-of-place answer is
// right; silently reading half-updated values (or memcpy on overlapping ranges, which
// EMBER_SANITIZE=ON reports) is not.
TEST(TensorInPlace, AddOwnTransposeGivesCorrectResultOrThrows) {
  for (int64_t n : {2, 65}) {
    Tensor x = arange(static_cast<float>(n * n)).view({n, n});
    Tensor expected = x + x.t();
    try {
      x += x.t();
      EXPECT_TRUE(tensors_near(x, expected)) << "n = " << n;
    } catch (const Error&) {
      SUCCEED();
    }
  }
}

TEST(TensorInPlace, CopyFromOverlappingSliceGivesCorrectResultOrThrows) {
  for (int64_t n : {5, 100000}) {
    std::vector<float> right(n), left(n);
    for (int64_t i = 0; i < n; ++i) {
      right[i] = static_cast<float>(i == 0 ? 0 : i - 1);
      left[i] = static_cast<float>(i == n - 1 ? i : i + 1);
    }
    Tensor y = arange(static_cast<float>(n));
    try {
      y.slice(0, 1, n).copy_(y.slice(0, 0, n - 1));  // shift right by one
      EXPECT_TRUE(tensor_near(y, {n}, right)) << "n = " << n;
    } catch (const Error&) {
      SUCCEED();
    }
    Tensor z = arange(static_cast<float>(n));
    try {
      z.slice(0, 0, n - 1).copy_(z.slice(0, 1, n));  // shift left by one
      EXPECT_TRUE(tensor_near(z, {n}, left)) << "n = " << n;
    } catch (const Error&) {
      SUCCEED();
    }
  }
}

TEST(TensorInPlace, CopyFromOverlappingStridedSliceGivesCorrectResultOrThrows) {
  // y[2::2] = y[:8:2]: every element read is also written, one step earlier.
  Tensor y = arange(10.0f);
  try {
    y.slice(0, 2, 10, 2).copy_(y.slice(0, 0, 8, 2));
    EXPECT_TRUE(tensor_near(y, {10}, {0, 1, 0, 3, 2, 5, 4, 7, 6, 9}));
  } catch (const Error&) {
    SUCCEED();
  }
}

// Ops called from several threads at once (as data-loader workers or a student's own
// threads do) give the same numbers as when called one at a time.
TEST(TensorThreads, ConcurrentOpsMatchSequentialResults) {
  Tensor a = make_input({300, 400}, -1, 1, 91);
  Tensor b = make_input({400, 200}, -1, 1, 92);
  auto work = [&](int i) {
    Tensor y = matmul(a * static_cast<float>(i + 1), b).softmax(-1).sum(0);
    return y.to_vector();
  };
  std::vector<std::vector<float>> expected;
  for (int i = 0; i < 4; ++i) expected.push_back(work(i));
  std::vector<std::vector<float>> got(4);
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back([&, i] { got[i] = work(i); });
  for (auto& t : threads) t.join();
  for (int i = 0; i < 4; ++i)
    EXPECT_TRUE(tensor_near(from_vector(got[i], {200}), {200}, expected[i], 1e-5, 1e-5))
        << "thread " << i;
}
