// ATTACK empty_gpt (autograder/tests/attacks/README.md): classes that register no weights and
// return zeros of the right shapes. Its shapes are right, its loss is the cross entropy of
// uniform logits, ln(65), which is also an untrained model's: three points for nothing until the
// checker asked first that the GPT have weight matrices and logits that depend on them.
// Question 7: a GPT, trained from scratch on tiny Shakespeare.
//
// A language model reads T characters and, at every position t, gives scores (logits) for
// the character that comes next. GPT builds it from the pieces of q6:
//
//   idx (B, T) character ids
//   x = wte(idx) + wpe(0..T-1)                      (B, T, C)  token and position embeddings
//   n_layer times:  x = x + attn(ln_1(x))            (B, T, C)  causal self-attention
//                   x = x + mlp(ln_2(x))             (B, T, C)  Linear(C, 4C), GELU, Linear(4C, C)
//   logits = lm_head(ln_f(x))                        (B, T, vocab_size)
//
// Because attention is causal, the scores at position t depend on idx[:, 0..t] only, so one
// forward pass gives T predictions at once, each trained against the next character: the
// loss is the cross entropy of all B * T of them, logits (B*T, vocab) against targets (B*T,).
// An untrained model gives every character about the same score, so its loss is close to
// ln(65) = 4.17.
//
// Part 1: CausalSelfAttention (q6's multi-head attention, with one Linear for Q, K and V).
// Part 2: MLP and Block.
// Part 3: GPT: the constructor, forward, loss and configure_optimizer.
// Part 4: generate, which samples new text one character at a time.
// Part 5: train_gpt, the training loop: AdamW, warmup and cosine decay, gradient clipping.
//
// The autograder checks the shapes of every part, that no position sees a later one (changing
// a later character never changes an earlier position's logits), that gradients reach every
// parameter, that an untrained model's loss is about ln(65), that only matrices are given
// weight decay, that generate gives valid characters and the same text for the same seed, and
// that a small GPT trained with your train_gpt reaches a low loss on text it never saw.
//
// Useful: nn::Linear, nn::Embedding, nn::Dropout, nn::Sequential, F::gelu, Tensor::slice,
// view, transpose, contiguous, masked_fill, softmax, F::scaled_dot_product_attention (the same
// attention in one op, for speed), F::cross_entropy, topk, multinomial,
// cat, optim::AdamW with optim::ParamGroup, optim::CosineSchedule,
// nn::utils::clip_grad_norm_, course::ShakespeareDataset.
#pragma once

// The same includes and names in every lesson, so code moves between lessons as it is.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/progress.h>
#include <ember_course/shakespeare.h>

namespace q7 {
using namespace ember;
namespace F = ember::nn::functional;

// The model's sizes (nanoGPT's GPTConfig). The defaults are nanoGPT's settings for a laptop
// CPU on tiny Shakespeare; the autograder builds smaller ones.
struct GPTConfig {
  int64_t block_size = 64;   // the longest context T the model reads
  int64_t vocab_size = 65;   // characters of tiny Shakespeare
  int64_t n_layer = 4;       // blocks
  int64_t n_head = 4;        // attention heads per block; n_embd must be a multiple
  int64_t n_embd = 128;      // C, the size of every position's vector
  float dropout = 0.0f;      // probability, in attention, after attention and after the MLP
  bool bias = true;          // biases in the Linear layers and the LayerNorms
};

// (Given.) Layer normalisation over the last dim with an optional bias, as nanoGPT's
// LayerNorm: you wrote one in q6; this one calls the engine's F::layer_norm.
class LayerNorm : public nn::Module {
 public:
  Tensor weight;  // (n_embd,), starts as ones
  Tensor bias;    // (n_embd,), starts as zeros; undefined when built with bias = false

  LayerNorm(int64_t n_embd, bool bias) {
    weight = register_parameter("weight", ones({n_embd}));
    if (bias) this->bias = register_parameter("bias", zeros({n_embd}));
  }
  // (..., n_embd) -> (..., n_embd)
  Tensor forward(const Tensor& input) override { return F::layer_norm(input, weight, bias, 1e-5); }
};

// ---- Part 1: causal self-attention ---------------------------------------------------------

// q6's MultiHeadAttention with d_in = d_out = n_embd, except that one Linear(C, 3C) makes the
// queries, keys and values of every head at once (one matrix product instead of three).
class CausalSelfAttention : public nn::Module {
 public:
  std::shared_ptr<nn::Linear> c_attn;          // Linear(C, 3C, bias): Q, K and V side by side
  std::shared_ptr<nn::Linear> c_proj;          // Linear(C, C, bias): mixes the heads' results
  std::shared_ptr<nn::Dropout> attn_dropout;   // on the attention weights
  std::shared_ptr<nn::Dropout> resid_dropout;  // on the output
  // Buffer "mask", (1, 1, block_size, block_size): the lower triangle of ones.
  Tensor mask;

  // Register the four modules and the mask under the members' names. n_embd must be a
  // multiple of n_head (throw an ember::Error saying so otherwise).
  explicit CausalSelfAttention(const GPTConfig& config) {
    // YOUR CODE HERE
    check(config.n_embd % config.n_head == 0, "n_head must divide n_embd");
    mask = register_buffer("mask", zeros({1, 1, config.block_size, config.block_size}));
  }

  // x: (B, T, C) with T <= block_size. returns: (B, T, C).
  // c_attn(x) is (B, T, 3C): channels 0..C-1 are the queries, C..2C-1 the keys, 2C..3C-1
  // the values (slice(2, start, end)). Split each into heads (B, n_head, T, head_size),
  // attend as in q6 (scale by sqrt(head_size), -inf above the diagonal, softmax, dropout),
  // merge the heads back to (B, T, C), then c_proj and resid_dropout. (Without dropout,
  // F::scaled_dot_product_attention(q, k, v, true) is the same attention in one, faster op.)
  Tensor forward(const Tensor& x) override {
    // YOUR CODE HERE
    return zeros(x.shape());
  }

 private:
  // YOUR CODE HERE
};

// ---- Part 2: the MLP and the block ---------------------------------------------------------

// Each position on its own: Linear(C, 4C), GELU (the exact form), Linear(4C, C), dropout.
class MLP : public nn::Module {
 public:
  std::shared_ptr<nn::Linear> c_fc;     // Linear(C, 4C, bias)
  std::shared_ptr<nn::GELU> gelu;       // nn::GELU() (approximate "none")
  std::shared_ptr<nn::Linear> c_proj;   // Linear(4C, C, bias)
  std::shared_ptr<nn::Dropout> dropout;

  explicit MLP(const GPTConfig& config) {
    // YOUR CODE HERE
    
  }

  // x: (B, T, C). returns: (B, T, C).
  Tensor forward(const Tensor& x) override {
    // YOUR CODE HERE
    return zeros(x.shape());
  }
};

// A transformer block with the normalisation before each half ("pre-LN", as GPT-2):
//   x = x + attn(ln_1(x))      communication: each position gathers from earlier ones
//   x = x + mlp(ln_2(x))       computation: each position thinks about what it gathered
class Block : public nn::Module {
 public:
  std::shared_ptr<LayerNorm> ln_1;
  std::shared_ptr<CausalSelfAttention> attn;
  std::shared_ptr<LayerNorm> ln_2;
  std::shared_ptr<MLP> mlp;

  explicit Block(const GPTConfig& config) {
    // YOUR CODE HERE
    
  }

  // x: (B, T, C). returns: (B, T, C).
  Tensor forward(const Tensor& x) override {
    // YOUR CODE HERE
    return zeros(x.shape());
  }
};

// ---- Part 3: the model ---------------------------------------------------------------------

class GPT : public nn::Module {
 public:
  std::shared_ptr<nn::Embedding> wte;  // Embedding(vocab_size, n_embd): one vector per character
  std::shared_ptr<nn::Embedding> wpe;  // Embedding(block_size, n_embd): one vector per position
  std::shared_ptr<nn::Dropout> drop;
  std::shared_ptr<nn::Sequential> h;   // the n_layer Blocks, one after another
  std::shared_ptr<LayerNorm> ln_f;     // the final LayerNorm
  std::shared_ptr<nn::Linear> lm_head; // Linear(n_embd, vocab_size, bias = false)

  // Register the modules above under the members' names, then start the weights as GPT-2
  // does: every Linear weight and both embeddings normal with std 0.02 (Linear biases at 0),
  // and the c_proj weights (the last layer of each residual branch) with std
  // 0.02 / sqrt(2 * n_layer), so the residual stream does not grow with depth.
  explicit GPT(const GPTConfig& config) : config_(config) {
    // YOUR CODE HERE
    
  }

  const GPTConfig& config() const { return config_; }

  // idx: (B, T) character ids (whole numbers stored as floats), T <= block_size; throw an
  // ember::Error naming both lengths when T is longer. returns: logits (B, T, vocab_size),
  // where logits[b][t] scores the character that follows idx[b][0..t].
  // The positions 0..T-1 are arange(T, idx.device()).
  Tensor forward(const Tensor& idx) override {
    // YOUR CODE HERE
    check(idx.size(1) <= config_.block_size, "too long");
    return zeros({idx.size(0), idx.size(1), config_.vocab_size});
  }

  // The mean cross entropy of every position's logits against the next character:
  // idx and targets (B, T), targets[b][t] = the character after idx[b][t]. Flatten the
  // logits to (B*T, vocab_size) and the targets to (B*T,) for F::cross_entropy.
  Tensor loss(const Tensor& idx, const Tensor& targets) {
    // YOUR CODE HERE
    return F::cross_entropy(zeros({idx.numel(), config_.vocab_size}), targets.reshape({targets.numel()}));
  }

  // AdamW over two parameter groups, as nanoGPT's configure_optimizers: every parameter with
  // 2 or more dims (the Linear weights and the embeddings) decays by weight_decay; the
  // others (biases, LayerNorm weights) do not decay (weight decay 0). Every parameter must
  // be in exactly one group.
  std::shared_ptr<optim::AdamW> configure_optimizer(double weight_decay, double learning_rate,
                                                    std::pair<double, double> betas) {
    // YOUR CODE HERE
    return std::make_shared<optim::AdamW>(std::vector<Tensor>{}, optim::AdamWOptions(learning_rate));
  }

  // ---- Part 4: sampling ----------------------------------------------------------------------

  // Extends each row of idx (B, T0) by max_new_tokens characters, one at a time, and returns
  // (B, T0 + max_new_tokens) with idx as its first T0 columns. Each step: run the model on
  // the last block_size characters at most; take the logits of the last position (B,
  // vocab); divide them by temperature (> 0; below 1 sharpens, above 1 flattens); with
  // top_k > 0 set every logit below the k-th largest of its row to -inf; softmax; draw one
  // character per row with multinomial (through ember's seeded generator, so the same seed
  // gives the same text); append it. No gradients are needed: use a NoGradGuard. Run in
  // evaluation mode (no dropout) and leave the model in the mode it was in.
  Tensor generate(Tensor idx, int64_t max_new_tokens, float temperature = 1.0f, int64_t top_k = 0) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q7: GPT::generate");
  }

 private:
  GPTConfig config_;
};

// ---- Part 5: training ----------------------------------------------------------------------

// The training settings (nanoGPT's for a laptop CPU on tiny Shakespeare by default).
struct TrainConfig {
  int64_t batch_size = 12;      // B windows per step
  int64_t max_iters = 2000;     // steps
  double learning_rate = 1e-3;  // the peak, reached after the warmup
  double min_lr = 1e-4;         // where the cosine decay ends
  int64_t warmup_iters = 100;   // steps of linear warmup
  int64_t lr_decay_iters = 2000;  // the step where the decay reaches min_lr
  double weight_decay = 0.1;    // for the matrices only (configure_optimizer)
  double beta1 = 0.9;
  double beta2 = 0.99;
  double grad_clip = 1.0;       // clip the gradients' total norm to this; 0: no clipping
};

// (Given.) The mean loss of the model on iters random batches of split (in evaluation mode,
// without gradients), restoring the model's mode afterwards: nanoGPT's estimate_loss.
inline double estimate_loss(GPT& model, const course::TextSplit& split, int64_t batch_size, int64_t iters) {
  NoGradGuard no_grad;
  const bool was_training = model.is_training();
  model.eval();
  double total = 0.0;
  for (int64_t i = 0; i < iters; ++i) {
    const data::Batch batch = split.random_batch(batch_size, model.config().block_size);
    total += model.loss(batch.x, batch.label).item();
  }
  model.train(was_training);
  return total / static_cast<double>(iters);
}

// Trains model on data.train() for config.max_iters steps and returns every step's loss.
// Each step: set the learning rate from an optim::CosineSchedule(learning_rate, min_lr,
// warmup_iters, lr_decay_iters) (optimizer->options().lr(schedule.lr_at(it))); draw a batch
// of windows (data.train().random_batch(batch_size, block_size)); compute the loss; zero the
// gradients; backward; clip the gradients' total norm to grad_clip (when it is > 0) with
// nn::utils::clip_grad_norm_; step. The optimizer comes from model.configure_optimizer.
// To watch it run and give the grader its loss curve, keep a course::TrainingProgress:
//   course::TrainingProgress progress(1, config.max_iters);   // before the loop
//   progress.step(loss);                                       // after each step
inline std::vector<double> train_gpt(GPT& model, const course::ShakespeareDataset& data, const TrainConfig& config) {
  // YOUR CODE HERE
  throw ember::NotImplemented("q7: train_gpt");
}

}  // namespace q7
