// nn::Embedding: a lookup table of learned vectors, one row per token id.
//
//   auto embed = std::make_shared<nn::Embedding>(27, 16);   // 27 tokens, 16 dims each
//   Tensor ids = ember::tensor({{1, 5, 2}, {0, 0, 3}});      // (2, 3) whole numbers
//   Tensor vectors = embed->forward(ids);                     // (2, 3, 16)
#pragma once

#include <cstdint>
#include <string>

#include "ember/nn/module.h"

namespace ember::nn {

class Embedding : public Module {
 public:
  // weight (num_embeddings, embedding_dim) starts as standard normal draws (ember::randn).
  Embedding(int64_t num_embeddings, int64_t embedding_dim);
  // indices of any shape, holding whole numbers in [0, num_embeddings) as floats
  // -> shape + (embedding_dim,). Gradients flow into the rows that were looked up.
  Tensor forward(const Tensor& indices) override;
  std::string extra_repr() const override;

  int64_t num_embeddings() const { return num_embeddings_; }
  int64_t embedding_dim() const { return embedding_dim_; }

  Tensor weight;  // (num_embeddings, embedding_dim)

 private:
  int64_t num_embeddings_;
  int64_t embedding_dim_;
};

}  // namespace ember::nn
