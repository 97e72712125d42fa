// data::Dataset, TensorDataset and DataLoader: batching, order, shuffling determinism,
// drop_last, the default get_batch, lifetime rules and errors.
#include <ember/data/dataloader.h>
#include <ember/data/dataset.h>

#include <algorithm>
#include <set>
#include <type_traits>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::tensor_near;
using ember_test::throws_error;
namespace data = ember::data;

// x[i] = (i, 10 i), label[i] = 100 + i: every row says which example it is.
data::TensorDataset numbered(int64_t n) {
  std::vector<float> x, labels;
  for (int64_t i = 0; i < n; ++i) {
    x.push_back(static_cast<float>(i));
    x.push_back(static_cast<float>(10 * i));
    labels.push_back(static_cast<float>(100 + i));
  }
  return data::TensorDataset(ember::from_vector(x, {n, 2}), ember::from_vector(labels, {n}));
}

// The example numbers of a batch, checking that x and label agree row by row.
std::vector<int64_t> ids(const data::Batch& batch) {
  std::vector<float> x = batch.x.to_vector(), labels = batch.label.to_vector();
  std::vector<int64_t> out;
  EXPECT_EQ(x.size(), 2 * labels.size());
  for (size_t r = 0; r < labels.size(); ++r) {
    EXPECT_EQ(x[2 * r + 1], 10 * x[2 * r]);
    EXPECT_EQ(labels[r], 100 + x[2 * r]);
    out.push_back(static_cast<int64_t>(x[2 * r]));
  }
  return out;
}

std::vector<std::vector<int64_t>> epoch(const data::DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (const data::Batch& batch : loader) out.push_back(ids(batch));
  return out;
}

TEST(DataTensorDataset, GetAndGetBatch) {
  data::TensorDataset ds = numbered(5);
  EXPECT_EQ(ds.size(), 5);
  data::Example e = ds.get(3);
  EXPECT_TRUE(tensor_near(e.x, {2}, {3, 30}));
  EXPECT_TRUE(tensor_near(e.label, {}, {103}));
  data::Example b = ds.get_batch({4, 0, 4});
  EXPECT_TRUE(tensor_near(b.x, {3, 2}, {4, 40, 0, 0, 4, 40}));
  EXPECT_TRUE(tensor_near(b.label, {3}, {104, 100, 104}));

  data::TensorDataset unlabelled(ember::zeros({3, 4}));
  EXPECT_FALSE(unlabelled.get(0).label.defined());
  EXPECT_EQ(unlabelled.get_batch({0, 1}).x.shape(), (ember::Shape{2, 4}));
}

TEST(DataTensorDataset, Errors) {
  EXPECT_TRUE(throws_error([] { data::TensorDataset(ember::zeros({100, 784}), ember::zeros({99})); },
                           "TensorDataset: x has 100 examples (shape (100, 784)) but labels has 99 "
                           "(shape (99,))"));
  EXPECT_TRUE(throws_error([] { data::TensorDataset(ember::tensor(1.0f), ember::zeros({1})); },
                           "got a scalar"));
  data::TensorDataset ds = numbered(5);
  EXPECT_TRUE(throws_error([&] { ds.get(5); },
                           "TensorDataset: index 5 is out of range for a dataset of 5 examples"));
  EXPECT_TRUE(throws_error([&] { ds.get_batch({1, -1}); }, "index -1 is out of range"));
  EXPECT_TRUE(throws_error([&] { ds.get_batch({}); }, "the list of indices is empty"));
}

// A dataset that builds its examples on the fly, to exercise the default get_batch.
class Squares : public data::Dataset {
 public:
  int64_t size() const override { return 7; }
  data::Example get(int64_t i) const override {
    const float v = static_cast<float>(i);
    return {ember::tensor({v, v * v}), ember::tensor(v * v)};
  }
};

TEST(DataDataset, DefaultGetBatchStacks) {
  Squares squares;
  data::Example b = squares.get_batch({2, 5});
  EXPECT_TRUE(tensor_near(b.x, {2, 2}, {2, 4, 5, 25}));
  EXPECT_TRUE(tensor_near(b.label, {2}, {4, 25}));

  data::DataLoader loader(squares, 3);
  std::vector<int64_t> sizes;
  for (const auto& batch : loader) sizes.push_back(batch.x.size(0));
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 3, 1}));
}

TEST(DataDataset, DefaultGetBatchRejectsMixedLabels) {
  class Mixed : public data::Dataset {
   public:
    int64_t size() const override { return 2; }
    data::Example get(int64_t i) const override {
      return {ember::zeros({2}), i == 0 ? ember::zeros({}) : Tensor()};
    }
  };
  Mixed mixed;
  EXPECT_TRUE(throws_error([&] { mixed.get_batch({0, 1}); },
                           "Dataset::get_batch: example 1 lacks a label but example 0 does"));
}

TEST(DataLoader, BatchesInOrderAndKeepsThePartialLastBatch) {
  data::TensorDataset ds = numbered(10);
  data::DataLoader loader(ds, 3);
  EXPECT_EQ(loader.size(), 4);
  EXPECT_EQ(epoch(loader), (std::vector<std::vector<int64_t>>{
                               {0, 1, 2}, {3, 4, 5}, {6, 7, 8}, {9}}));
  auto it = loader.begin();
  const data::Batch& first = *it;
  EXPECT_EQ(first.x.shape(), (ember::Shape{3, 2}));
  EXPECT_EQ(it->label.shape(), (ember::Shape{3}));
  // Every spelling of the loop compiles: by const reference, by reference, by value.
  int count = 0;
  for (auto& batch : loader) count += static_cast<int>(batch.x.size(0));
  for (data::Batch batch : loader) count += static_cast<int>(batch.label.size(0));
  EXPECT_EQ(count, 20);
  EXPECT_EQ(first.label.shape(), (ember::Shape{3}));
}

TEST(DataLoader, DropLast) {
  data::TensorDataset ds = numbered(10);
  data::DataLoader loader(ds, {3, false, /*drop_last=*/true});
  EXPECT_EQ(loader.size(), 3);
  EXPECT_EQ(epoch(loader),
            (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6, 7, 8}}));
  // An exact multiple loses nothing.
  data::DataLoader exact(ds, 5, false, true);
  EXPECT_EQ(exact.size(), 2);
  // Fewer examples than one batch: nothing with drop_last, one batch without.
  data::DataLoader big(ds, 64, false, true);
  EXPECT_EQ(big.size(), 0);
  EXPECT_TRUE(big.begin() == big.end());
  EXPECT_EQ(data::DataLoader(ds, 64).size(), 1);
}

TEST(DataLoader, ShuffleIsAPermutationReshuffledEachEpochAndSeeded) {
  data::TensorDataset ds = numbered(20);
  data::DataLoader loader(ds, {6, /*shuffle=*/true});
  ember::manual_seed(123);
  auto first = epoch(loader);
  auto second = epoch(loader);
  ASSERT_EQ(first.size(), 4u);
  EXPECT_EQ(first.back().size(), 2u);
  for (const auto& pass : {first, second}) {
    std::vector<int64_t> all;
    for (const auto& batch : pass) all.insert(all.end(), batch.begin(), batch.end());
    std::sort(all.begin(), all.end());
    std::vector<int64_t> expected(20);
    for (int64_t i = 0; i < 20; ++i) expected[static_cast<size_t>(i)] = i;
    EXPECT_EQ(all, expected);  // every example exactly once
  }
  EXPECT_NE(first, second);  // 20! orders: a repeat means no reshuffle
  std::vector<std::vector<int64_t>> in_order = {
      {0, 1, 2, 3, 4, 5}, {6, 7, 8, 9, 10, 11}, {12, 13, 14, 15, 16, 17}, {18, 19}};
  EXPECT_NE(first, in_order);

  ember::manual_seed(123);
  EXPECT_EQ(epoch(loader), first);
  EXPECT_EQ(epoch(loader), second);
}

TEST(DataLoader, AnIteratorKeepsItsOrderWhenANewPassStarts) {
  data::TensorDataset ds = numbered(12);
  data::DataLoader loader(ds, {4, true});
  ember::manual_seed(9);
  auto it = loader.begin();
  std::vector<int64_t> first = ids(*it);
  auto other = loader.begin();  // reshuffles for its own pass
  (void)other;
  ember::manual_seed(9);
  auto reference = epoch(loader);
  ++it;
  EXPECT_EQ(first, reference[0]);
  EXPECT_EQ(ids(*it), reference[1]);
  ++it;
  ++it;
  EXPECT_TRUE(it == loader.end());
  EXPECT_TRUE(throws_error([&] { ++it; }, "past the end"));
}

TEST(DataLoader, SharedPointerKeepsTheDatasetAlive) {
  data::DataLoader loader(std::make_shared<data::TensorDataset>(numbered(4)), 2);
  EXPECT_EQ(epoch(loader), (std::vector<std::vector<int64_t>>{{0, 1}, {2, 3}}));
  EXPECT_EQ(loader.dataset().size(), 4);
}

TEST(DataLoader, DoesNotAcceptATemporaryDataset) {
  static_assert(std::is_constructible<data::DataLoader, const data::TensorDataset&, int64_t>::value,
                "a named dataset works");
  static_assert(!std::is_constructible<data::DataLoader, data::TensorDataset&&, int64_t>::value,
                "a temporary dataset would dangle, so it must not compile");
  static_assert(
      !std::is_constructible<data::DataLoader, data::TensorDataset, data::DataLoaderOptions>::value,
      "a temporary dataset would dangle, so it must not compile");
  SUCCEED();
}

TEST(DataLoader, Errors) {
  data::TensorDataset ds = numbered(4);
  EXPECT_TRUE(throws_error([&] { data::DataLoader(ds, 0); },
                           "DataLoader: batch_size must be at least 1, got 0"));
  EXPECT_TRUE(throws_error([&] { data::DataLoader(ds, {-3}); }, "got -3"));
  EXPECT_TRUE(throws_error(
      [] { data::DataLoader(std::shared_ptr<const data::Dataset>(), 2); }, "pointer is null"));
}

TEST(DataLoader, EmptyDataset) {
  data::TensorDataset empty(ember::zeros({0, 3}), ember::zeros({0}));
  data::DataLoader loader(empty, 4, true);
  EXPECT_EQ(loader.size(), 0);
  int batches = 0;
  for (const auto& batch : loader) {
    (void)batch;
    ++batches;
  }
  EXPECT_EQ(batches, 0);
}

}  // namespace
