#include "ember/nn/embedding.h"

#include <cmath>
#include <vector>

#include <fmt/format.h>

#include "ember/creation.h"
#include "ember/error.h"
#include "ember/ops.h"
#include "ember/shape.h"

namespace ember::nn {

Embedding::Embedding(int64_t num_embeddings, int64_t embedding_dim)
    : Module("Embedding"), num_embeddings_(num_embeddings), embedding_dim_(embedding_dim) {
  check(num_embeddings > 0 && embedding_dim > 0,
        "Embedding: num_embeddings and embedding_dim must be positive, got Embedding({}, {})",
        num_embeddings, embedding_dim);
  weight = register_parameter("weight", randn({num_embeddings, embedding_dim}));
}

Tensor Embedding::forward(const Tensor& indices) {
  check(indices.defined(), "Embedding: the indices are an undefined tensor");
  check(indices.device() == weight.device(),
        "Embedding: the indices are on {} but the table is on {} (move one with .to())",
        indices.device().str(), weight.device().str());
  // Check on the host so the message can say which index is wrong and where.
  const std::vector<float> values = indices.to_vector();
  for (std::size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    check(v >= 0.0f && v < static_cast<float>(num_embeddings_) && v == std::floor(v),
          "Embedding({}, {}): index {} at flat position {} of indices with shape {} is not a "
          "whole number in [0, {})",
          num_embeddings_, embedding_dim_, v, i, shape_str(indices.shape()), num_embeddings_);
  }
  Shape out_shape = indices.shape();
  out_shape.push_back(embedding_dim_);
  Tensor rows = index_select(weight, indices.reshape({-1}));
  return rows.reshape(out_shape);
}

std::string Embedding::extra_repr() const {
  return fmt::format("{}, {}", num_embeddings_, embedding_dim_);
}

}  // namespace ember::nn
