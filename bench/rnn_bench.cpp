// rnn.py: the q4 language-ID RNN, one training step (forward, backward, Adam).
//
// char Linear(47, 256), hidden Linear(256, 256), middle Linear(256, 256), output
// Linear(256, 5); h = relu(char(x0)), then h = relu(char(xi) + hidden(h)) for the other
// characters, h = relu(middle(h)), logits = output(h). Batch 64, words of 10 characters,
// one-hot inputs: a list of 10 tensors (64, 47).
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "workloads.h"

namespace ember::bench {
namespace {

namespace F = nn::functional;

constexpr int64_t kBatch = 64, kLength = 10, kAlphabet = 47, kHidden = 256, kLanguages = 5;

struct LanguageId : nn::Module {
  std::shared_ptr<nn::Linear> character, hidden, middle, output;

  LanguageId() : Module("LanguageId") {
    character = register_module("char", std::make_shared<nn::Linear>(kAlphabet, kHidden));
    hidden = register_module("hidden", std::make_shared<nn::Linear>(kHidden, kHidden));
    middle = register_module("middle", std::make_shared<nn::Linear>(kHidden, kHidden));
    output = register_module("output", std::make_shared<nn::Linear>(kHidden, kLanguages));
  }

  using Module::forward;
  // xs: kLength tensors (B, 47) -> logits (B, 5)
  Tensor forward(const std::vector<Tensor>& xs) {
    Tensor h = relu(character->forward(xs[0]));  // (B, 256)
    for (std::size_t i = 1; i < xs.size(); ++i) {
      h = relu(character->forward(xs[i]) + hidden->forward(h));
    }
    h = relu(middle->forward(h));
    return output->forward(h);
  }
};

Measurement measure_step() {
  manual_seed(0);
  auto model = std::make_shared<LanguageId>();
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  std::vector<Tensor> xs;
  for (int64_t i = 0; i < kLength; ++i) {
    xs.push_back(one_hot(randint(0, kAlphabet, {kBatch}), kAlphabet));  // (B, 47)
  }
  Tensor labels = randint(0, kLanguages, {kBatch});  // (B,)
  auto step = [&] {
    phase("zero_grad");
    optimizer.zero_grad();
    phase("forward");
    Tensor logits = model->forward(xs);  // (B, 5)
    phase("loss");
    Tensor loss = F::cross_entropy(logits, labels);
    phase("backward");
    loss.backward();
    phase("optimizer");
    optimizer.step();
    phase("release");
  };
  const Repetitions script = default_repetitions();
  Measurement m;
  m.stats = time_it(step, {std::max(script.reps, 51), 5});
  m.throughput = 1.0 / m.stats.median;
  m.unit = "steps/s";
  return m;
}

}  // namespace

void add_rnn_workloads(Registry& registry) {
  registry.add("rnn", fmt::format("rnn step B={} L={}", kBatch, kLength), measure_step);
}

}  // namespace ember::bench
