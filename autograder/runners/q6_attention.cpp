// The runner of q6 (attention): the student's Attention, MultiHeadAttention and LayerNorm, as
// the checker (questions/q6_attention.cpp) asks for them. Their forward(x) is the harness's
// (every module has one); the checker sets and reads their weights by parameter name.
#include <ember/ember.h>

#include "attention.hpp"
#include "runner.h"

void ember::runner::define_question(Question& q) {
  q.model("Attention", [](const Args& a) {
    return std::make_shared<q6::Attention>(a.at(0).as_int("layer_size"), a.at(1).as_int("block_size"));
  });
  // (d_in, d_out, context_length, num_heads, qkv_bias, dropout)
  q.model("MultiHeadAttention", [](const Args& a) {
    return std::make_shared<q6::MultiHeadAttention>(
        a.at(0).as_int("d_in"), a.at(1).as_int("d_out"), a.at(2).as_int("context_length"),
        a.at(3).as_int("num_heads"), a.at(4).as_int("qkv_bias") != 0, static_cast<float>(a.at(5).as_real("dropout")));
  });
  // (d_model) or (d_model, eps): the one-argument form checks the default eps.
  q.model("LayerNorm", [](const Args& a) {
    if (a.size() == 1) return std::make_shared<q6::LayerNorm>(a.at(0).as_int("d_model"));
    return std::make_shared<q6::LayerNorm>(a.at(0).as_int("d_model"), static_cast<float>(a.at(1).as_real("eps")));
  });
  // 1 when some submodule is the engine's nn::LayerNorm (the lesson asks for it by hand).
  q.method<q6::LayerNorm>("uses_nn_layer_norm", [](q6::LayerNorm& m, const Args&) {
    for (const auto& child : m.named_children()) {
      if (std::dynamic_pointer_cast<nn::LayerNorm>(child.second)) return Value::of(1);
    }
    return Value::of(0);
  });
}
