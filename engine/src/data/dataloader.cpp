#include "ember/data/dataloader.h"

#include <algorithm>
#include <numeric>

#include "ember/error.h"
#include "ember/random.h"

namespace ember::data {

namespace {

void check_options(const DataLoaderOptions& options) {
  check(options.batch_size >= 1, "DataLoader: batch_size must be at least 1, got {}",
        options.batch_size);
}

}  // namespace

DataLoader::DataLoader(const Dataset& dataset, DataLoaderOptions options)
    : dataset_(&dataset), options_(options) {
  check_options(options_);
}

DataLoader::DataLoader(const Dataset& dataset, int64_t batch_size, bool shuffle, bool drop_last)
    : DataLoader(dataset, DataLoaderOptions{batch_size, shuffle, drop_last}) {}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, DataLoaderOptions options)
    : owned_(std::move(dataset)), dataset_(owned_.get()), options_(options) {
  check(dataset_ != nullptr, "DataLoader: the dataset pointer is null");
  check_options(options_);
}

DataLoader::DataLoader(std::shared_ptr<const Dataset> dataset, int64_t batch_size, bool shuffle,
                       bool drop_last)
    : DataLoader(std::move(dataset), DataLoaderOptions{batch_size, shuffle, drop_last}) {}

int64_t DataLoader::size() const {
  const int64_t n = dataset_->size();
  const int64_t b = options_.batch_size;
  return options_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> DataLoader::batch_indices(const std::vector<int64_t>& order,
                                               int64_t batch) const {
  const int64_t n = static_cast<int64_t>(order.size());
  const int64_t start = batch * options_.batch_size;
  const int64_t stop = std::min(n, start + options_.batch_size);
  return std::vector<int64_t>(order.begin() + start, order.begin() + stop);
}

DataLoader::Iterator DataLoader::begin() const {
  const int64_t n = dataset_->size();
  check(n >= 0, "DataLoader: the dataset reports a negative size {}", n);
  std::vector<int64_t> order;
  if (options_.shuffle) {
    order = randperm_indices(n);
  } else {
    order.resize(static_cast<std::size_t>(n));
    std::iota(order.begin(), order.end(), int64_t{0});
  }
  return Iterator(this, std::make_shared<const std::vector<int64_t>>(std::move(order)), 0);
}

DataLoader::Iterator DataLoader::end() const { return Iterator(this, nullptr, size()); }

DataLoader::Iterator::Iterator(const DataLoader* loader,
                               std::shared_ptr<const std::vector<int64_t>> order,
                               int64_t position)
    : loader_(loader), order_(std::move(order)), position_(position) {
  if (order_ != nullptr) load();
}

void DataLoader::Iterator::load() {
  if (position_ < loader_->size()) {
    const Dataset& dataset = *loader_->dataset_;
    batch_ = dataset.get_batch(loader_->batch_indices(*order_, position_));
    // After dataset.to(device): a no-op for a TensorDataset (its batches are gathered there),
    // a copy for a dataset that builds its batches on the CPU.
    if (const auto& device = dataset.target_device()) batch_ = batch_.to(*device);
  } else {
    batch_ = Batch();
  }
}

DataLoader::Iterator& DataLoader::Iterator::operator++() {
  check(order_ != nullptr && position_ < loader_->size(),
        "DataLoader: cannot advance an iterator past the end");
  ++position_;
  load();
  return *this;
}

}  // namespace ember::data
