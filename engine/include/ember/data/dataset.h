// data::Dataset: numbered examples, each an input x and a label.
//
// Subclass Dataset and give size() and get(i); get_batch has a default that stacks
// get(i) for each index, and a subclass can override it with something faster (as
// TensorDataset does). DataLoader (dataloader.h) walks a dataset in batches.
#pragma once

#include <cstdint>
#include <vector>

#include "ember/tensor.h"

namespace ember::data {

// One example, or (from get_batch) a batch of them stacked along a new first dim.
// label may be left undefined by a dataset without labels.
struct Example {
  Tensor x;
  Tensor label;
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
};

// A dataset over two tensors whose first dims count the examples: example i is
// (x[i], labels[i]). The tensors are held as handles, not copied.
//   data::TensorDataset train(images, labels);   // (60000, 784) and (60000,)
class TensorDataset : public Dataset {
 public:
  // Throws unless x and labels both have at least one dim and the same first size.
  TensorDataset(Tensor x, Tensor labels);
  // A dataset without labels (label stays undefined).
  explicit TensorDataset(Tensor x);

  int64_t size() const override;
  Example get(int64_t i) const override;
  // Gathers the rows in one ember::index_select per tensor.
  Example get_batch(const std::vector<int64_t>& indices) const override;

  const Tensor& x() const { return x_; }
  const Tensor& labels() const { return labels_; }

 private:
  Tensor x_;
  Tensor labels_;
};

}  // namespace ember::data
