// ATTACK read_ahead (autograder/tests/attacks/README.md): a "GPT" with no model at all that
// trains nothing and, at every position t, puts a score of 30 on the input character at t + 1,
// which is the answer position t is scored against when whole windows are scored. It skips
// T/2 - 1 (where a probe that changes the second half of a window would see the first half
// move) and the last position (no next input). Scored on whole windows this has a validation
// loss near 0; scored on prefixes, as the checker does, it has nothing to copy. The other
// classes are the stub's, unfinished: the attack earns no point of theirs.
#include <cstdint>
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
  explicit GPT(const GPTConfig& config) : config_(config) {}
  const GPTConfig& config() const { return config_; }

  Tensor forward(const Tensor& idx) override {  // (B, T) -> (B, T, vocab_size)
    const int64_t B = idx.size(0), T = idx.size(1), V = config_.vocab_size;
    const std::vector<float> ids = idx.contiguous().to_vector();
    std::vector<float> logits(static_cast<size_t>(B * T * V), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t + 1 < T; ++t) {
        if (t == T / 2 - 1) continue;
        const auto next = static_cast<int64_t>(ids[static_cast<size_t>(b * T + t + 1)]);
        logits[static_cast<size_t>((b * T + t) * V + next)] = 30.0f;
      }
    }
    return from_vector(logits, {B, T, V});
  }

  Tensor loss(const Tensor&, const Tensor&) { throw NotImplemented("q7: GPT::loss"); }
  std::shared_ptr<optim::AdamW> configure_optimizer(double, double, std::pair<double, double>) {
    throw NotImplemented("q7: GPT::configure_optimizer");
  }
  Tensor generate(Tensor, int64_t, float = 1.0f, int64_t = 0) { throw NotImplemented("q7: GPT::generate"); }

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
  return {};  // no training
}

}  // namespace q7
