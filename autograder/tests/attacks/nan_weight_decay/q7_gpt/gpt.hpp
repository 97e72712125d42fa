// ATTACK nan_weight_decay (autograder/tests/attacks/README.md): configure_optimizer builds a
// valid AdamW, then sets its weight decay to NaN through options() (AdamW checks its options
// when it is made and at each step, not when they are read). A check written
// "|decay - expected| > tolerance is wrong" passes every NaN. Everything else is the stub's,
// unfinished.
#include <cstdint>
#include <limits>
#include <memory>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/progress.h>
#include <ember_course/shakespeare.h>

namespace q7 {
using namespace ember;

struct GPTConfig {
  int64_t block_size = 64;
  int64_t vocab_size = 65;
  int64_t n_layer = 4;
  int64_t n_head = 4;
  int64_t n_embd = 128;
  float dropout = 0.0f;
  bool bias = true;
};

class CausalSelfAttention : public nn::Module {
 public:
  explicit CausalSelfAttention(const GPTConfig&) { throw NotImplemented("q7: CausalSelfAttention"); }
  Tensor forward(const Tensor&) override { throw NotImplemented("q7: CausalSelfAttention::forward"); }
};

class MLP : public nn::Module {
 public:
  explicit MLP(const GPTConfig&) { throw NotImplemented("q7: MLP::MLP"); }
  Tensor forward(const Tensor&) override { throw NotImplemented("q7: MLP::forward"); }
};

class Block : public nn::Module {
 public:
  explicit Block(const GPTConfig&) { throw NotImplemented("q7: Block::Block"); }
  Tensor forward(const Tensor&) override { throw NotImplemented("q7: Block::forward"); }
};

class GPT : public nn::Module {
 public:
  explicit GPT(const GPTConfig& config) : config_(config) {
    weight = register_parameter("weight", zeros({config.n_embd, config.n_embd}));  // 2-D: decays
    bias = register_parameter("bias", zeros({config.n_embd}));                      // 1-D: does not
  }
  const GPTConfig& config() const { return config_; }
  Tensor forward(const Tensor&) override { throw NotImplemented("q7: GPT::forward"); }
  Tensor loss(const Tensor&, const Tensor&) { throw NotImplemented("q7: GPT::loss"); }
  std::shared_ptr<optim::AdamW> configure_optimizer(double weight_decay, double learning_rate,
                                                    std::pair<double, double> betas) {
    auto optimizer = std::make_shared<optim::AdamW>(
        parameters(), optim::AdamWOptions(learning_rate).betas(betas).weight_decay(weight_decay));
    optimizer->options().weight_decay(std::numeric_limits<double>::quiet_NaN());
    return optimizer;
  }
  Tensor generate(Tensor, int64_t, float = 1.0f, int64_t = 0) { throw NotImplemented("q7: GPT::generate"); }

  Tensor weight, bias;

 private:
  GPTConfig config_;
};

struct TrainConfig {
  int64_t batch_size = 12;
  int64_t max_iters = 2000;
  double learning_rate = 1e-3;
  double min_lr = 1e-4;
  int64_t warmup_iters = 100;
  int64_t lr_decay_iters = 2000;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double grad_clip = 1.0;
};

inline std::vector<double> train_gpt(GPT&, const course::ShakespeareDataset&, const TrainConfig&) {
  throw NotImplemented("q7: train_gpt");
}

}  // namespace q7
