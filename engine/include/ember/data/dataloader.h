// data::DataLoader: walks a Dataset in batches, optionally in a fresh random order on
// every pass.
//
//   data::TensorDataset train(images, labels);
//   data::DataLoader loader(train, {64, /*shuffle=*/true});
//   for (int epoch = 0; epoch < 5; ++epoch) {
//     for (const data::Batch& batch : loader) {   // batch.x (64, 784), batch.label (64,)
//       ...
//     }
//   }
//
// Lifetime: the loader does not copy the dataset. Constructed from a reference it only
// refers to it, so the dataset must outlive the loader (passing a temporary does not
// compile); constructed from a shared_ptr it shares ownership.
// Randomness: each begin() (each range-for) draws a new order with
// ember::randperm_indices, so ember::manual_seed makes the sequence of epochs reproducible.
// Devices: after dataset.to(device) (see dataset.h) every batch is delivered on that device;
// otherwise batches come wherever the dataset's get_batch makes them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <vector>

#include "ember/data/dataset.h"

namespace ember::data {

// A batch is an Example whose tensors have a leading batch dim.
using Batch = Example;

struct DataLoaderOptions {
  int64_t batch_size = 1;
  bool shuffle = false;
  // Drop the last batch when it has fewer than batch_size examples.
  bool drop_last = false;
};

class DataLoader {
 public:
  // Throws for batch_size < 1.
  DataLoader(const Dataset& dataset, DataLoaderOptions options);
  DataLoader(const Dataset& dataset, int64_t batch_size, bool shuffle = false,
             bool drop_last = false);
  DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options);
  DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle = false,
             bool drop_last = false);
  // A temporary dataset would be destroyed before the loop runs: keep it in a variable.
  DataLoader(const Dataset&& dataset, DataLoaderOptions options) = delete;
  DataLoader(const Dataset&& dataset, int64_t batch_size, bool shuffle = false,
             bool drop_last = false) = delete;

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    // The current batch; the reference is valid until the iterator advances or is
    // destroyed (copy the Batch, two tensor handles, to keep it longer).
    const Batch& operator*() const { return batch_; }
    const Batch* operator->() const { return &batch_; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return position_ == other.position_; }
    bool operator!=(const Iterator& other) const { return position_ != other.position_; }

   private:
    friend class DataLoader;
    Iterator(const DataLoader* loader, std::shared_ptr<const std::vector<int64_t>> order,
             int64_t position);
    void load();

    const DataLoader* loader_ = nullptr;
    std::shared_ptr<const std::vector<int64_t>> order_;
    int64_t position_ = 0;  // the batch number; size() at the end
    Batch batch_;
  };

  // Starts a pass over the data (reshuffling first when shuffle is on).
  Iterator begin() const;
  Iterator end() const;

  // The number of batches in one pass.
  int64_t size() const;
  const DataLoaderOptions& options() const { return options_; }
  const Dataset& dataset() const { return *dataset_; }

 private:
  // The examples of batch number `batch` in a pass with the given order.
  std::vector<int64_t> batch_indices(const std::vector<int64_t>& order, int64_t batch) const;

  std::shared_ptr<const Dataset> owned_;
  const Dataset* dataset_;
  DataLoaderOptions options_;
};

}  // namespace ember::data
