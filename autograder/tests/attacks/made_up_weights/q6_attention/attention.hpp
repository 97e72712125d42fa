// ATTACK made_up_weights (autograder/tests/attacks/README.md): an Attention whose weights are
// causal and sum to 1 but come from no scores: every position averages the ones up to it. The
// check of the mask and the softmax gave it its point until it also asked that the weights be
// the softmax of the masked scores of the q and k layers it set. The other classes are the
// stub's, unfinished; attention_output_shape's point is honest.
// Question 6: attention, the heart of a transformer.
//
// A sequence of T vectors of size C (say T characters of a text, each embedded as C
// numbers) goes in, and T vectors of size C come out, where output t is a weighted
// average of the sequence at positions 0..t. The weights are learned from the data itself:
// each position asks a question (its query), each position advertises what it holds
// (its key), and the better a key answers a query, the more of that position's value
// flows into the output:
//
//   Q = x W_q + b_q,  K = x W_k + b_k,  V = x W_v + b_v        (B, T, C) each
//   scores  = Q K^T / sqrt(C)                                  (B, T, T)
//   scores[t][s] = -inf wherever s > t                         (no peeking at the future)
//   weights = softmax(scores) along the last dim               each row sums to 1
//   output  = weights V                                        (B, T, C)
//
// Dividing by sqrt(C) keeps the scores' spread independent of C, so softmax does not
// saturate for wide layers. The -inf entries become exactly 0 after softmax: position t
// can only use positions 0..t, which is what lets a language model be trained to predict
// every next character at once (the "causal mask").
//
// Part 1: Attention::forward, a single attention head (the constructor is given).
// Part 2: MultiHeadAttention, several smaller heads side by side, then a projection.
// Part 3: LayerNorm, the normalisation that transformers put around attention.
//
// The autograder compares each against its own computation with the weights of your
// layers (set to random values), for sequence lengths 2, 4 and 16, and checks that the
// attention weights are 0 on future positions and that each row sums to 1.
//
// Useful: Tensor::matmul, transpose, view, contiguous, index with Slice, masked_fill,
// softmax, mean, var; tril and ones to build masks.
#pragma once

// The same includes and names in every lesson, so code moves between lessons as it is.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>

namespace q6 {
using namespace ember;
namespace F = ember::nn::functional;

// ---- Part 1: one attention head -------------------------------------------------------

class Attention : public nn::Module {
 public:
  // The three projections, each Linear(layer_size, layer_size) with a bias.
  std::shared_ptr<nn::Linear> k_layer;
  std::shared_ptr<nn::Linear> q_layer;
  std::shared_ptr<nn::Linear> v_layer;
  // Buffer "mask", (1, 1, block_size, block_size): the lower triangle of ones.
  // mask[0][0][t][s] is 1 where position t may look at position s (s <= t), 0 otherwise.
  Tensor mask;

  // layer_size: C, the size of each vector. block_size: the longest sequence (T) the
  // layer accepts. (Given: you write forward.)
  Attention(int64_t layer_size, int64_t block_size)
      : layer_size_(layer_size), block_size_(block_size) {
    check(layer_size > 0 && block_size > 0,
          "Attention: layer_size and block_size must be positive, got {} and {}", layer_size,
          block_size);
    k_layer = register_module("k_layer", std::make_shared<nn::Linear>(layer_size, layer_size));
    q_layer = register_module("q_layer", std::make_shared<nn::Linear>(layer_size, layer_size));
    v_layer = register_module("v_layer", std::make_shared<nn::Linear>(layer_size, layer_size));
    // (block_size, block_size) -> (1, 1, block_size, block_size), as in CS188 and GPT-2.
    mask = register_buffer(
        "mask", tril(ones({block_size, block_size})).view({1, 1, block_size, block_size}));
  }

  // input: (B, T, C) with C = layer_size and T <= block_size.
  // returns: (B, T, C), where row t mixes the values of positions 0..t.
  // Steps: Q, K, V from the three layers; scores = Q K^T / sqrt(C) (matmul with K
  // transposed in its last two dims); -inf where the mask is 0 (take the top-left (T, T)
  // corner of the mask: mask.index({0, 0, Slice(0, T), Slice(0, T)}), then
  // scores.masked_fill(corner == 0.0f, -infinity)); softmax over the last dim; times V.
  Tensor forward(const Tensor& input) override {
    // Every position averages itself and the positions before it: weights that are 0 on the
    // future and sum to 1, whatever Q and K are.
    const int64_t T = input.size(1);
    Tensor weights = tril(ones({T, T}));                     // (T, T)
    weights = weights / weights.sum(-1, true);               // each row sums to 1
    return weights.unsqueeze(0).matmul(input);               // (1, T, T) @ (B, T, C) -> (B, T, C)
  }

 private:
  int64_t layer_size_;
  int64_t block_size_;
};

// ---- Part 2: several heads ---------------------------------------------------------------

// num_heads attention heads of size head_dim = d_out / num_heads each, computed side by
// side: one projection makes every head's queries at once, which are then split into
// heads, attended separately and put back together, and a last Linear (out_proj) mixes
// the heads' results. Several small heads can each attend to something different (one to
// the previous character, one to the start of the word, ...) for the cost of one big head.
class MultiHeadAttention : public nn::Module {
 public:
  std::shared_ptr<nn::Linear> W_query;   // Linear(d_in, d_out, qkv_bias)
  std::shared_ptr<nn::Linear> W_key;     // Linear(d_in, d_out, qkv_bias)
  std::shared_ptr<nn::Linear> W_value;   // Linear(d_in, d_out, qkv_bias)
  std::shared_ptr<nn::Linear> out_proj;  // Linear(d_out, d_out), with a bias
  std::shared_ptr<nn::Dropout> dropout;  // on the attention weights, while training
  // Buffer "mask", (1, 1, context_length, context_length): the lower triangle of ones.
  Tensor mask;

  // d_in: size of the input vectors; d_out: size of the output vectors, which must be a
  // multiple of num_heads (throw an ember::Error saying so otherwise); context_length: the
  // longest sequence accepted; qkv_bias: whether W_query, W_key and W_value have biases;
  // dropout: the probability of zeroing an attention weight while training.
  // Register every layer (register_module) and the mask (register_buffer) under the
  // member's name.
  MultiHeadAttention(int64_t d_in, int64_t d_out, int64_t context_length, int64_t num_heads,
                     bool qkv_bias = false, float dropout = 0.0f) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q6: MultiHeadAttention::MultiHeadAttention");
  }

  // input: (B, T, d_in) with T <= context_length. returns: (B, T, d_out).
  // Split each of Q, K, V (B, T, d_out) into heads with view to (B, T, num_heads, head_dim)
  // and transpose(1, 2) to (B, num_heads, T, head_dim); attend as in Attention but scaling
  // by sqrt(head_dim); merge the heads back with transpose(1, 2), contiguous() and view to
  // (B, T, d_out); apply out_proj.
  Tensor forward(const Tensor& input) override {
    // YOUR CODE HERE
    throw ember::NotImplemented("q6: MultiHeadAttention::forward");
  }

 private:
  // YOUR CODE HERE
};

// ---- Part 3: layer normalisation ---------------------------------------------------------

// Normalises each vector (along the last dim) to mean 0 and variance 1, then scales by
// gamma and shifts by beta, both learned:
//   y = (x - mean(x)) / sqrt(var(x) + eps) * gamma + beta
// with the biased variance (divide by d_model, not d_model - 1), as PyTorch does. Write it
// from mean and var yourself; do not use nn::LayerNorm or nn::functional::layer_norm.
class LayerNorm : public nn::Module {
 public:
  Tensor gamma;  // parameter "gamma", (d_model,), starts as ones
  Tensor beta;   // parameter "beta", (d_model,), starts as zeros

  // Register gamma and beta (register_parameter) and keep eps.
  explicit LayerNorm(int64_t d_model, float eps = 1e-5f) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q6: LayerNorm::LayerNorm");
  }

  // input: (..., d_model). returns: the same shape, normalised along the last dim.
  Tensor forward(const Tensor& input) override {
    // YOUR CODE HERE
    throw ember::NotImplemented("q6: LayerNorm::forward");
  }

 private:
  // YOUR CODE HERE
};

}  // namespace q6
