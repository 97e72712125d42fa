// data::Dataset: numbered examples, each an input x and a label.
//
// Subclass Dataset and give size() and get(i); get_batch has a default that stacks
// get(i) for each index, and a subclass can override it with something faster (as
// TensorDataset does). DataLoader (dataloader.h) walks a dataset in batches.
//
// Devices: dataset.to(Device::cuda()) makes a DataLoader deliver the dataset's batches on
// the GPU (a TensorDataset moves its tensors there, so batches are gathered on the GPU);
// batch.to(device) moves one batch.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ember/device.h"
#include "ember/tensor.h"

namespace ember::data {

// One example, or (from get_batch) a batch of them stacked along a new first dim.
// label may be left undefined by a dataset without labels.
struct Example {
  Tensor x;
  Tensor label;

  // The same example with x and label on device (an undefined label stays undefined). A
  // tensor already there is not copied; otherwise the copy is recorded by autograd, as
  // Tensor::to is. Throws ember::Error when the device cannot be used (e.g. no GPU).
  //   for (const data::Batch& batch : loader) {
  //     const data::Batch b = batch.to(Device::cuda());   // b.x, b.label on the GPU
  Example to(Device device) const;
};

class Dataset {
 public:
  virtual ~Dataset() = default;
  // The number of examples.
  virtual int64_t size() const = 0;
  // Example i, for 0 <= i < size().
  virtual Example get(int64_t i) const = 0;
  // The examples at indices, stacked: x (B, ...) and label (B, ...). The default stacks
  // get(i) with ember::stack; every example must have the same shapes, and either all or
  // none must have a label. Throws for an empty list of indices.
  virtual Example get_batch(const std::vector<int64_t>& indices) const;

  // Makes the dataset deliver its examples on device: a DataLoader moves every batch that
  // get_batch returns there (nothing is copied when it is already there). Subclasses that
  // keep their data in tensors override it to move the tensors themselves, as
  // TensorDataset does, so that batches are gathered where the data lives; an override
  // calls Dataset::to(device) too. Throws ember::Error, leaving the dataset as it was, when
  // the device cannot be used (a build without CUDA, a machine without a GPU).
  virtual Dataset& to(Device device);
  // The device given to the last to(), or std::nullopt when to() was never called (then a
  // DataLoader delivers batches wherever get_batch makes them).
  const std::optional<Device>& target_device() const { return target_device_; }

 private:
  std::optional<Device> target_device_;
};

// A dataset over two tensors whose first dims count the examples: example i is
// (x[i], labels[i]). The tensors are held as handles, not copied.
//   data::TensorDataset train(images, labels);   // (60000, 784) and (60000,)
class TensorDataset : public Dataset {
 public:
  // Throws unless x and labels both have at least one dim and the same first size, and
  // live on the same device.
  TensorDataset(Tensor x, Tensor labels);
  // A dataset without labels (label stays undefined).
  explicit TensorDataset(Tensor x);

  int64_t size() const override;
  Example get(int64_t i) const override;
  // Gathers the rows in one ember::index_select per tensor.
  Example get_batch(const std::vector<int64_t>& indices) const override;
  // Moves x and labels to device (new handles: tensors given to the constructor stay where
  // they were), so that x(), labels(), get and get_batch all give tensors on device.
  TensorDataset& to(Device device) override;

  const Tensor& x() const { return x_; }
  const Tensor& labels() const { return labels_; }

 private:
  Tensor x_;
  Tensor labels_;
};

}  // namespace ember::data
