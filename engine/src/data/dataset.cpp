#include "ember/data/dataset.h"

#include "ember/backend.h"
#include "ember/creation.h"
#include "ember/error.h"
#include "ember/ops.h"
#include "ember/shape.h"

namespace ember::data {

Example Example::to(Device device) const {
  Example moved;
  if (x.defined()) moved.x = x.to(device);
  if (label.defined()) moved.label = label.to(device);
  return moved;
}

Dataset& Dataset::to(Device device) {
  // Fail here, with the engine's own explanation ("built without CUDA", "no CUDA device"),
  // rather than at the first batch.
  backend_for(device);
  target_device_ = device;
  return *this;
}

Example Dataset::get_batch(const std::vector<int64_t>& indices) const {
  check(!indices.empty(), "Dataset::get_batch: the list of indices is empty");
  std::vector<Tensor> xs;
  std::vector<Tensor> labels;
  xs.reserve(indices.size());
  for (std::size_t k = 0; k < indices.size(); ++k) {
    Example example = get(indices[k]);
    check(example.x.defined(), "Dataset::get_batch: example {} has an undefined x", indices[k]);
    const bool labelled = example.label.defined();
    check(k == 0 || labelled == !labels.empty(),
          "Dataset::get_batch: example {} {} a label but example {} {}", indices[k],
          labelled ? "has" : "lacks", indices[0], labelled ? "does not" : "does");
    xs.push_back(std::move(example.x));
    if (labelled) labels.push_back(std::move(example.label));
  }
  Example batch;
  batch.x = stack(xs, 0);
  if (!labels.empty()) batch.label = stack(labels, 0);
  return batch;
}

TensorDataset::TensorDataset(Tensor x, Tensor labels) : x_(std::move(x)), labels_(std::move(labels)) {
  check(x_.defined(), "TensorDataset: x is an undefined tensor");
  check(labels_.defined(), "TensorDataset: labels is an undefined tensor");
  check(x_.dim() >= 1, "TensorDataset: x must have a first dim counting the examples, got a "
        "scalar");
  check(labels_.dim() >= 1,
        "TensorDataset: labels must have a first dim counting the examples, got a scalar");
  check(x_.size(0) == labels_.size(0),
        "TensorDataset: x has {} examples (shape {}) but labels has {} (shape {})", x_.size(0),
        shape_str(x_.shape()), labels_.size(0), shape_str(labels_.shape()));
  check(x_.device() == labels_.device(),
        "TensorDataset: x is on {} but labels is on {}; move one with .to(device)",
        x_.device().str(), labels_.device().str());
}

TensorDataset::TensorDataset(Tensor x) : x_(std::move(x)) {
  check(x_.defined(), "TensorDataset: x is an undefined tensor");
  check(x_.dim() >= 1, "TensorDataset: x must have a first dim counting the examples, got a "
        "scalar");
}

int64_t TensorDataset::size() const { return x_.size(0); }

TensorDataset& TensorDataset::to(Device device) {
  // Copy first, then swap, so that a failed copy leaves the dataset as it was.
  Tensor x = x_.to(device);
  Tensor labels = labels_.defined() ? labels_.to(device) : Tensor();
  Dataset::to(device);
  x_ = std::move(x);
  labels_ = std::move(labels);
  return *this;
}

Example TensorDataset::get(int64_t i) const {
  check(i >= 0 && i < size(), "TensorDataset: index {} is out of range for a dataset of {} examples",
        i, size());
  Example example;
  example.x = x_.select(0, i);
  if (labels_.defined()) example.label = labels_.select(0, i);
  return example;
}

namespace {

// Indices are stored as floats, which hold whole numbers exactly up to 2^24.
constexpr int64_t kExactFloatLimit = int64_t{1} << 24;

Tensor gather(const Tensor& source, const std::vector<float>& indices) {
  Tensor index_tensor =
      from_vector(indices, {static_cast<int64_t>(indices.size())}, source.device());
  return index_select(source, index_tensor);
}

}  // namespace

Example TensorDataset::get_batch(const std::vector<int64_t>& indices) const {
  check(!indices.empty(), "TensorDataset::get_batch: the list of indices is empty");
  if (size() > kExactFloatLimit) return Dataset::get_batch(indices);
  std::vector<float> as_floats;
  as_floats.reserve(indices.size());
  for (int64_t i : indices) {
    check(i >= 0 && i < size(),
          "TensorDataset: index {} is out of range for a dataset of {} examples", i, size());
    as_floats.push_back(static_cast<float>(i));
  }
  Example batch;
  batch.x = gather(x_, as_floats);
  if (labels_.defined()) batch.label = gather(labels_, as_floats);
  return batch;
}

}  // namespace ember::data
