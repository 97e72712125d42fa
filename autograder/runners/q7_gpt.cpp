// The runner of q7 (a GPT): what the checker (questions/q7_gpt.cpp) may ask of the student's
// CausalSelfAttention, MLP, Block and GPT. See runner/runner.h.
//
// Every model is built from a GPTConfig sent as seven numbers: (block_size, vocab_size,
// n_layer, n_head, n_embd, dropout, bias). forward(x) is the harness's (every module has one).
// train gets the training text's ids and the vocabulary from the checker; the dataset it
// builds has no validation text (it never leaves the checker), and the runner cannot read
// datasets/.
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/shakespeare.h>

#include "gpt.hpp"
#include "runner.h"

namespace {

using namespace ember::runner;

q7::GPTConfig config_of(const Args& a) {
  q7::GPTConfig config;
  config.block_size = a.at(0).as_int("block_size");
  config.vocab_size = a.at(1).as_int("vocab_size");
  config.n_layer = a.at(2).as_int("n_layer");
  config.n_head = a.at(3).as_int("n_head");
  config.n_embd = a.at(4).as_int("n_embd");
  config.dropout = static_cast<float>(a.at(5).as_real("dropout"));
  config.bias = a.at(6).as_int("bias") != 0;
  return config;
}

// [batch_size, max_iters, learning_rate, min_lr, warmup_iters, lr_decay_iters, weight_decay,
//  beta1, beta2, grad_clip]
q7::TrainConfig train_config_of(const Value& value) {
  const auto& v = value.as_list("the training settings");
  q7::TrainConfig config;
  config.batch_size = v.at(0).as_int("batch_size");
  config.max_iters = v.at(1).as_int("max_iters");
  config.learning_rate = v.at(2).as_real("learning_rate");
  config.min_lr = v.at(3).as_real("min_lr");
  config.warmup_iters = v.at(4).as_int("warmup_iters");
  config.lr_decay_iters = v.at(5).as_int("lr_decay_iters");
  config.weight_decay = v.at(6).as_real("weight_decay");
  config.beta1 = v.at(7).as_real("beta1");
  config.beta2 = v.at(8).as_real("beta2");
  config.grad_clip = v.at(9).as_real("grad_clip");
  return config;
}

}  // namespace

void ember::runner::define_question(Question& q) {
  q.model("CausalSelfAttention", [](const Args& a) { return std::make_shared<q7::CausalSelfAttention>(config_of(a)); });
  q.model("MLP", [](const Args& a) { return std::make_shared<q7::MLP>(config_of(a)); });
  q.model("Block", [](const Args& a) { return std::make_shared<q7::Block>(config_of(a)); });
  q.model("GPT", [](const Args& a) { return std::make_shared<q7::GPT>(config_of(a)); });

  using Model = q7::GPT;
  // loss(idx, targets)
  q.method<Model>("loss", [](Model& m, const Args& a) { return result(m.loss(tensor_arg(a, 0), tensor_arg(a, 1))); });
  // generate(idx, max_new_tokens, temperature, top_k)
  q.method<Model>("generate", [](Model& m, const Args& a) {
    return result(m.generate(tensor_arg(a, 0), a.at(1).as_int("max_new_tokens"),
                             static_cast<float>(a.at(2).as_real("temperature")), a.at(3).as_int("top_k")));
  });
  // configure_optimizer(weight_decay, learning_rate, beta1, beta2) -> [[name, weight decay], ...]
  // for every parameter of the model, in named_parameters() order; -1 for a parameter the
  // optimizer does not hold, and a last entry ["", count] with the number of tensors it holds.
  q.method<Model>("decay_of_parameters", [](Model& m, const Args& a) {
    std::shared_ptr<optim::AdamW> optimizer = m.configure_optimizer(
        a.at(0).as_real("weight_decay"), a.at(1).as_real("learning_rate"),
        {a.at(2).as_real("beta1"), a.at(3).as_real("beta2")});
    if (!optimizer) throw std::runtime_error("configure_optimizer returned no optimizer (a null pointer)");
    std::unordered_map<const TensorImpl*, double> decay;
    const std::vector<Tensor>& held = optimizer->parameters();
    for (std::size_t i = 0; i < held.size(); ++i) decay[held[i].impl().get()] = optimizer->weight_decay_of(i);
    std::vector<Value> out;
    for (const auto& [name, p] : m.named_parameters()) {
      const auto it = decay.find(p.impl().get());
      out.push_back(Value::list({Value::of(name), Value::of(it == decay.end() ? -1.0 : it->second)}));
    }
    out.push_back(Value::list({Value::of(""), Value::of(static_cast<int64_t>(held.size()))}));
    return Value::list(std::move(out));
  });
  // train(training ids (N,), vocabulary characters, training settings) -> the steps' losses
  q.method<Model>("train", [](Model& m, const Args& a) {
    course::ShakespeareDataset data(course::CharVocab(a.at(1).as_text("the vocabulary")),
                                    course::TextSplit(cpu_tensor_arg(a, 0).to_vector()), course::TextSplit());
    data.to(device());
    const std::vector<double> losses = q7::train_gpt(m, data, train_config_of(a.at(2)));
    std::vector<float> values(losses.begin(), losses.end());
    return Value::of(from_vector(values, {static_cast<int64_t>(values.size())}));
  });
}
