// Student-style port of the attention question (bench/student_style/README.md): the notes'
// PyTorch code line by line. The single head computes its scores as K Q^T, as the notes'
// code does; the grader's check for that loses its point and says why.
#pragma once
#include <cmath>
#include <limits>
#include <memory>
#include <ember/ember.h>

namespace q6 {
using namespace ember;
namespace F = ember::nn::functional;

class Attention : public nn::Module {
 public:
  std::shared_ptr<nn::Linear> k_layer;
  std::shared_ptr<nn::Linear> q_layer;
  std::shared_ptr<nn::Linear> v_layer;
  Tensor mask;

  Attention(int64_t layer_size, int64_t block_size) : layer_size(layer_size) {
    k_layer = register_module("k_layer", std::make_shared<nn::Linear>(layer_size, layer_size));
    q_layer = register_module("q_layer", std::make_shared<nn::Linear>(layer_size, layer_size));
    v_layer = register_module("v_layer", std::make_shared<nn::Linear>(layer_size, layer_size));
    mask = register_buffer("mask", tril(ones({block_size, block_size})).view({1, 1, block_size, block_size}));
  }

  Tensor forward(const Tensor& input) override {
    const int64_t T = input.size(1);
    Tensor K = k_layer->forward(input);
    Tensor Q = q_layer->forward(input);
    Tensor V = v_layer->forward(input);
    // M = torch.matmul(K, Q.transpose(-2, -1)) / math.sqrt(self.layer_size)
    Tensor M = matmul(K, Q.transpose(-2, -1)) / std::sqrt(layer_size);
    // M = M.masked_fill(self.mask[:, :, :T, :T] == 0, float('-inf'))[0]
    M = M.masked_fill(mask.index({Slice(), Slice(), Slice(0, T), Slice(0, T)}) == 0,
                      -std::numeric_limits<float>::infinity())[0];
    // M = torch.nn.functional.softmax(M, dim=-1)
    M = F::softmax(M, -1);
    return matmul(M, V);
  }

 private:
  int64_t layer_size;
};

class MultiHeadAttention : public nn::Module {
 public:
  std::shared_ptr<nn::Linear> W_query;
  std::shared_ptr<nn::Linear> W_key;
  std::shared_ptr<nn::Linear> W_value;
  std::shared_ptr<nn::Linear> out_proj;
  std::shared_ptr<nn::Dropout> dropout;
  Tensor mask;

  MultiHeadAttention(int64_t d_in, int64_t d_out, int64_t context_length, int64_t num_heads,
                     bool qkv_bias = false, float dropout = 0.0f)
      : d_out(d_out), num_heads(num_heads), head_dim(d_out / num_heads) {
    // assert d_out % num_heads == 0, "d_out must be divisible by num_heads"
    check(d_out % num_heads == 0, "d_out must be divisible by num_heads");
    W_query = register_module("W_query", std::make_shared<nn::Linear>(d_in, d_out, qkv_bias));
    W_key = register_module("W_key", std::make_shared<nn::Linear>(d_in, d_out, qkv_bias));
    W_value = register_module("W_value", std::make_shared<nn::Linear>(d_in, d_out, qkv_bias));
    out_proj = register_module("out_proj", std::make_shared<nn::Linear>(d_out, d_out));
    this->dropout = register_module("dropout", std::make_shared<nn::Dropout>(dropout));
    // self.register_buffer("mask", torch.triu(torch.ones(context_length, context_length), diagonal=1))
    mask = register_buffer("mask", triu(ones({context_length, context_length}), 1));
  }

  Tensor forward(const Tensor& x) override {
    const int64_t b = x.size(0), num_tokens = x.size(1);
    Tensor keys = W_key->forward(x);
    Tensor queries = W_query->forward(x);
    Tensor values = W_value->forward(x);
    keys = keys.view({b, num_tokens, num_heads, head_dim});
    values = values.view({b, num_tokens, num_heads, head_dim});
    queries = queries.view({b, num_tokens, num_heads, head_dim});
    keys = keys.transpose(1, 2);
    queries = queries.transpose(1, 2);
    values = values.transpose(1, 2);
    Tensor attn_scores = queries.matmul(keys.transpose(2, 3));
    // mask_bool = self.mask.bool()[:num_tokens, :num_tokens]
    Tensor mask_bool = mask.index({Slice(0, num_tokens), Slice(0, num_tokens)});
    // attn_scores.masked_fill_(mask_bool, -torch.inf): Ember refuses an in-place change of a
    // tensor that requires grad while autograd records, and its message says to write this:
    attn_scores = attn_scores.masked_fill(mask_bool, -std::numeric_limits<float>::infinity());
    Tensor attn_weights = F::softmax(attn_scores / std::sqrt(keys.size(-1)), -1);
    attn_weights = dropout->forward(attn_weights);
    Tensor context_vec = attn_weights.matmul(values).transpose(1, 2);
    context_vec = context_vec.contiguous().view({b, num_tokens, d_out});
    return out_proj->forward(context_vec);
  }

 private:
  int64_t d_out, num_heads, head_dim;
};

class LayerNorm : public nn::Module {
 public:
  Tensor gamma;
  Tensor beta;

  explicit LayerNorm(int64_t d_model, float eps = 1e-5f) : eps(eps) {
    gamma = register_parameter("gamma", ones({d_model}));
    beta = register_parameter("beta", zeros({d_model}));
  }

  Tensor forward(const Tensor& x) override {
    Tensor mean = x.mean(-1, true);
    Tensor var = x.var(-1, false, true);
    Tensor norm_x = (x - mean) / sqrt(var + eps);
    return gamma * norm_x + beta;
  }

 private:
  float eps;
};

}  // namespace q6
