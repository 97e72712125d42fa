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
    // BEGIN SOLUTION q7 CausalSelfAttention::CausalSelfAttention
    check(config.n_embd > 0 && config.n_head > 0 && config.block_size > 0,
          "CausalSelfAttention: n_embd, n_head and block_size must be positive, got {}, {} and {}",
          config.n_embd, config.n_head, config.block_size);
    check(config.n_embd % config.n_head == 0,
          "CausalSelfAttention: n_embd ({}) must be divisible by n_head ({}), so that every head gets "
          "n_embd / n_head channels",
          config.n_embd, config.n_head);
    n_embd_ = config.n_embd;
    n_head_ = config.n_head;
    block_size_ = config.block_size;
    const int64_t C = config.n_embd, T = config.block_size;
    c_attn = register_module("c_attn", std::make_shared<nn::Linear>(C, 3 * C, config.bias));
    c_proj = register_module("c_proj", std::make_shared<nn::Linear>(C, C, config.bias));
    attn_dropout = register_module("attn_dropout", std::make_shared<nn::Dropout>(config.dropout));
    resid_dropout = register_module("resid_dropout", std::make_shared<nn::Dropout>(config.dropout));
    mask = register_buffer("mask", tril(ones({T, T})).view({1, 1, T, T}));
    // END SOLUTION
  }

  // x: (B, T, C) with T <= block_size. returns: (B, T, C).
  // c_attn(x) is (B, T, 3C): channels 0..C-1 are the queries, C..2C-1 the keys, 2C..3C-1
  // the values (slice(2, start, end)). Split each into heads (B, n_head, T, head_size),
  // attend as in q6 (scale by sqrt(head_size), -inf above the diagonal, softmax, dropout),
  // merge the heads back to (B, T, C), then c_proj and resid_dropout. (Without dropout,
  // F::scaled_dot_product_attention(q, k, v, true) is the same attention in one, faster op.)
  Tensor forward(const Tensor& x) override {
    // BEGIN SOLUTION q7 CausalSelfAttention::forward
    check(x.dim() == 3 && x.size(2) == n_embd_, "CausalSelfAttention::forward: expected x (B, T, {}), got shape {}",
          n_embd_, shape_str(x.shape()));
    const int64_t B = x.size(0), T = x.size(1), C = n_embd_, H = n_head_, hs = C / H;
    check(T <= block_size_, "CausalSelfAttention::forward: sequence length {} is longer than block_size {}", T,
          block_size_);
    Tensor qkv = c_attn->forward(x);  // (B, T, C) -> (B, T, 3C)
    // (B, T, C) -> (B, T, H, hs) -> (B, H, T, hs); the slices are not contiguous, so reshape
    Tensor q = qkv.slice(2, 0, C).reshape({B, T, H, hs}).transpose(1, 2);
    Tensor k = qkv.slice(2, C, 2 * C).reshape({B, T, H, hs}).transpose(1, 2);
    Tensor v = qkv.slice(2, 2 * C, 3 * C).reshape({B, T, H, hs}).transpose(1, 2);
    // q6's attention is plain_attention below:
    //   att = q.matmul(k.transpose(2, 3)) * (1 / sqrt(hs))                   (B, H, T, T)
    //   att = att.masked_fill(mask[0, 0, :T, :T] == 0, -inf)                 causal
    //   att = attn_dropout(att.softmax(-1))
    //   y = att.matmul(v)                                                    (B, H, T, hs)
    // F::scaled_dot_product_attention(q, k, v, true) computes the same in one op, with its own
    // gradient (nanoGPT's "flash" path). It has no dropout, so with dropout on while training
    // the four lines run instead.
    const bool dropping = is_training() && attn_dropout->p() > 0.0;
    Tensor y = dropping ? plain_attention(q, k, v) : F::scaled_dot_product_attention(q, k, v, /*is_causal=*/true);
    y = y.transpose(1, 2).contiguous().view({B, T, C});  // (B, H, T, hs) -> (B, T, H, hs) -> (B, T, C)
    return resid_dropout->forward(c_proj->forward(y));   // (B, T, C)
    // END SOLUTION
  }

 private:
  // BEGIN SOLUTION
  int64_t n_embd_ = 0;
  int64_t n_head_ = 0;
  int64_t block_size_ = 0;

  // q6's causal attention, op by op: q, k, v (B, H, T, hs) -> (B, H, T, hs).
  Tensor plain_attention(const Tensor& q, const Tensor& k, const Tensor& v) {
    const int64_t T = q.size(2);
    const float scale = 1.0f / std::sqrt(static_cast<float>(q.size(3)));
    Tensor att = q.matmul(k.transpose(2, 3)) * scale;  // (B, H, T, hs) @ (B, H, hs, T) -> (B, H, T, T)
    Tensor causal = mask.index({0, 0, Slice(0, T), Slice(0, T)});  // (T, T)
    att = att.masked_fill(causal == 0.0f, -std::numeric_limits<float>::infinity());
    att = attn_dropout->forward(att.softmax(-1));  // (B, H, T, T), row t is 0 after column t
    return att.matmul(v);                          // (B, H, T, T) @ (B, H, T, hs) -> (B, H, T, hs)
  }
  // END SOLUTION
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
    // BEGIN SOLUTION q7 MLP::MLP
    const int64_t C = config.n_embd;
    c_fc = register_module("c_fc", std::make_shared<nn::Linear>(C, 4 * C, config.bias));
    gelu = register_module("gelu", std::make_shared<nn::GELU>());
    c_proj = register_module("c_proj", std::make_shared<nn::Linear>(4 * C, C, config.bias));
    dropout = register_module("dropout", std::make_shared<nn::Dropout>(config.dropout));
    // END SOLUTION
  }

  // x: (B, T, C). returns: (B, T, C).
  Tensor forward(const Tensor& x) override {
    // BEGIN SOLUTION q7 MLP::forward
    Tensor h = gelu->forward(c_fc->forward(x));      // (B, T, C) -> (B, T, 4C)
    return dropout->forward(c_proj->forward(h));     // (B, T, 4C) -> (B, T, C)
    // END SOLUTION
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
    // BEGIN SOLUTION q7 Block::Block
    ln_1 = register_module("ln_1", std::make_shared<LayerNorm>(config.n_embd, config.bias));
    attn = register_module("attn", std::make_shared<CausalSelfAttention>(config));
    ln_2 = register_module("ln_2", std::make_shared<LayerNorm>(config.n_embd, config.bias));
    mlp = register_module("mlp", std::make_shared<MLP>(config));
    // END SOLUTION
  }

  // x: (B, T, C). returns: (B, T, C).
  Tensor forward(const Tensor& x) override {
    // BEGIN SOLUTION q7 Block::forward
    Tensor h = x + attn->forward(ln_1->forward(x));  // (B, T, C)
    return h + mlp->forward(ln_2->forward(h));       // (B, T, C)
    // END SOLUTION
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
    // BEGIN SOLUTION q7 GPT::GPT
    check(config.vocab_size > 0 && config.block_size > 0 && config.n_layer > 0 && config.n_embd > 0,
          "GPT: vocab_size, block_size, n_layer and n_embd must be positive, got {}, {}, {} and {}",
          config.vocab_size, config.block_size, config.n_layer, config.n_embd);
    wte = register_module("wte", std::make_shared<nn::Embedding>(config.vocab_size, config.n_embd));
    wpe = register_module("wpe", std::make_shared<nn::Embedding>(config.block_size, config.n_embd));
    drop = register_module("drop", std::make_shared<nn::Dropout>(config.dropout));
    h = register_module("h", std::make_shared<nn::Sequential>());
    for (int64_t layer = 0; layer < config.n_layer; ++layer) h->push_back(std::make_shared<Block>(config));
    ln_f = register_module("ln_f", std::make_shared<LayerNorm>(config.n_embd, config.bias));
    lm_head = register_module("lm_head", std::make_shared<nn::Linear>(config.n_embd, config.vocab_size, false));

    // GPT-2's initialisation, written into the registered tensors in place.
    NoGradGuard no_grad;
    const float projection_std = 0.02f / std::sqrt(2.0f * static_cast<float>(config.n_layer));
    for (auto& [name, p] : named_parameters()) {
      const bool is_projection = name.size() > 13 && name.compare(name.size() - 13, 13, "c_proj.weight") == 0;
      if (p.dim() == 2) {
        p.copy_(randn(p.shape()) * (is_projection ? projection_std : 0.02f));  // Linear weights, embeddings
      } else if (name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0) {
        p.fill_(0.0f);  // Linear biases (LayerNorm biases are 0 already)
      }
    }
    // END SOLUTION
  }

  const GPTConfig& config() const { return config_; }

  // idx: (B, T) character ids (whole numbers stored as floats), T <= block_size; throw an
  // ember::Error naming both lengths when T is longer. returns: logits (B, T, vocab_size),
  // where logits[b][t] scores the character that follows idx[b][0..t].
  // The positions 0..T-1 are arange(T, idx.device()).
  Tensor forward(const Tensor& idx) override {
    // BEGIN SOLUTION q7 GPT::forward
    check(idx.dim() == 2, "GPT::forward: expected idx (B, T) of character ids, got shape {}", shape_str(idx.shape()));
    const int64_t T = idx.size(1);
    check(T <= config_.block_size, "GPT::forward: cannot read a sequence of length {}, block_size is only {}", T,
          config_.block_size);
    Tensor tok_emb = wte->forward(idx);                          // (B, T) -> (B, T, C)
    Tensor pos_emb = wpe->forward(arange(static_cast<float>(T), idx.device()));  // (T,) -> (T, C)
    Tensor x = drop->forward(tok_emb + pos_emb);                 // (B, T, C) + (T, C) -> (B, T, C)
    x = h->forward(x);                                           // n_layer blocks: (B, T, C)
    x = ln_f->forward(x);                                        // (B, T, C)
    return lm_head->forward(x);                                  // (B, T, C) -> (B, T, vocab_size)
    // END SOLUTION
  }

  // The mean cross entropy of every position's logits against the next character:
  // idx and targets (B, T), targets[b][t] = the character after idx[b][t]. Flatten the
  // logits to (B*T, vocab_size) and the targets to (B*T,) for F::cross_entropy.
  Tensor loss(const Tensor& idx, const Tensor& targets) {
    // BEGIN SOLUTION q7 GPT::loss
    check(targets.shape() == idx.shape(), "GPT::loss: targets have shape {}, idx {}; they must be the same",
          shape_str(targets.shape()), shape_str(idx.shape()));
    Tensor logits = forward(idx);  // (B, T, V)
    const int64_t V = logits.size(2);
    return F::cross_entropy(logits.reshape({-1, V}), targets.reshape({-1}));  // (B*T, V) against (B*T,)
    // END SOLUTION
  }

  // AdamW over two parameter groups, as nanoGPT's configure_optimizers: every parameter with
  // 2 or more dims (the Linear weights and the embeddings) decays by weight_decay; the
  // others (biases, LayerNorm weights) do not decay (weight decay 0). Every parameter must
  // be in exactly one group.
  std::shared_ptr<optim::AdamW> configure_optimizer(double weight_decay, double learning_rate,
                                                    std::pair<double, double> betas) {
    // BEGIN SOLUTION q7 GPT::configure_optimizer
    std::vector<Tensor> decay, no_decay;
    for (const Tensor& p : parameters()) (p.dim() >= 2 ? decay : no_decay).push_back(p);
    std::vector<optim::ParamGroup> groups = {{decay, weight_decay}, {no_decay, 0.0}};
    return std::make_shared<optim::AdamW>(groups, optim::AdamWOptions(learning_rate).betas(betas));
    // END SOLUTION
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
    // BEGIN SOLUTION q7 GPT::generate
    check(idx.dim() == 2 && idx.size(1) >= 1, "GPT::generate: expected idx (B, T) with T >= 1, got shape {}",
          shape_str(idx.shape()));
    check(max_new_tokens >= 0, "GPT::generate: max_new_tokens must be >= 0, got {}", max_new_tokens);
    check(temperature > 0.0f && std::isfinite(temperature), "GPT::generate: temperature must be > 0, got {}",
          temperature);
    check(top_k >= 0, "GPT::generate: top_k must be >= 0 (0: no limit), got {}", top_k);
    NoGradGuard no_grad;
    const bool was_training = is_training();
    eval();
    for (int64_t step = 0; step < max_new_tokens; ++step) {
      const int64_t T = idx.size(1);
      // The last block_size characters at most: (B, T) -> (B, min(T, block_size))
      Tensor context = T <= config_.block_size ? idx : idx.slice(1, T - config_.block_size, T);
      Tensor logits = forward(context);                              // (B, t, V)
      logits = logits.select(1, logits.size(1) - 1) / temperature;   // the last position: (B, V)
      if (top_k > 0) {
        const int64_t k = std::min(top_k, logits.size(1));
        Tensor kth = topk(logits, k, -1).values.slice(1, k - 1, k);  // (B, 1): the k-th largest
        logits = logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
      }
      Tensor probs = logits.softmax(-1);         // (B, V)
      Tensor next = multinomial(probs, 1);       // (B, 1)
      idx = cat({idx, next}, 1);                 // (B, T + 1)
    }
    train(was_training);
    return idx;
    // END SOLUTION
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
  // BEGIN SOLUTION q7 train_gpt
  std::shared_ptr<optim::AdamW> optimizer =
      model.configure_optimizer(config.weight_decay, config.learning_rate, {config.beta1, config.beta2});
  const optim::CosineSchedule schedule(config.learning_rate, config.min_lr, config.warmup_iters,
                                       config.lr_decay_iters);
  const std::vector<Tensor> params = model.parameters();
  course::TrainingProgress progress(1, config.max_iters);
  std::vector<double> losses;
  model.train();
  for (int64_t it = 0; it < config.max_iters; ++it) {
    optimizer->options().lr(schedule.lr_at(it));
    const data::Batch batch = data.train().random_batch(config.batch_size, model.config().block_size);
    Tensor loss = model.loss(batch.x, batch.label);  // x, label (B, T) -> ()
    optimizer->zero_grad();
    loss.backward();
    if (config.grad_clip > 0.0) nn::utils::clip_grad_norm_(params, config.grad_clip);
    optimizer->step();
    const double value = loss.item();
    losses.push_back(value);
    progress.step(value);
  }
  progress.end_epoch();
  progress.finish();
  return losses;
  // END SOLUTION
}

}  // namespace q7
