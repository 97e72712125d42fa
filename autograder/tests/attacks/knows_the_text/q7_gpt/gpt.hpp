// ATTACK knows_the_text (autograder/tests/attacks/README.md): a "GPT" with no model at all that
// carries the validation text (the public last 10% of tiny Shakespeare) in its source and looks
// each prefix it is given up in it: the checker cuts that text into slots of block_size + 1
// characters (its source is public too), so a prefix of three or more characters nearly always
// names its slot, and the next character is the answer. Its loss is far below what any honest
// model of the size reaches; the checker refuses a loss that low. test_attacks.cpp writes the
// text in place of the marker below before grading (the corpus does not ship a second copy of
// it). Everything but forward and train_gpt is the stub's, unfinished.
#include <cstdint>
#include <string_view>
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
    const int64_t B = idx.size(0), T = idx.size(1), V = config_.vocab_size, slot = config_.block_size + 1;
    const std::vector<float> ids = idx.contiguous().to_vector();
    std::vector<float> logits(static_cast<size_t>(B * T * V), 0.0f);
    const std::vector<int64_t>& text = known_text();
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < T; ++t) {
        // The first slot whose first t + 1 characters are this prefix; its next one is the answer.
        for (int64_t start = 0; start + t + 1 < static_cast<int64_t>(text.size()); start += slot) {
          bool same = true;
          for (int64_t i = 0; i <= t && same; ++i) {
            same = text[static_cast<size_t>(start + i)] == static_cast<int64_t>(ids[static_cast<size_t>(b * T + i)]);
          }
          if (!same) continue;
          logits[static_cast<size_t>((b * T + t) * V + text[static_cast<size_t>(start + t + 1)])] = 10.0f;
          break;
        }
      }
    }
    return from_vector(logits, {B, T, V});
  }

  // The validation text as ids (train_gpt encodes it with the vocabulary it is given).
  static std::vector<int64_t>& known_text() {
    static std::vector<int64_t> ids;
    return ids;
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

inline constexpr std::string_view kValidationText = R"EMBER_TEXT(@VALIDATION_TEXT@)EMBER_TEXT";

inline std::vector<double> train_gpt(GPT&, const course::ShakespeareDataset& data, const TrainConfig&) {
  GPT::known_text() = data.vocab().encode(kValidationText);
  return {};  // no training
}

}  // namespace q7
