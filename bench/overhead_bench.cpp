// Ember-only lines (no reference script): the fixed cost of one op, measured on tensors so
// small that the arithmetic is free. This is what the naive Convolve, the RNN and small
// batches pay hundreds of thousands of times, so it is worth watching on its own.
//
//   op overhead, no grad: 10,000 adds of two one-element tensors, nothing recorded
//   op overhead, autograd: a chain of 10,000 such adds on a tensor that requires grad,
//     then backward() through all of them (recording, the graph walk, the backward closures)
#include "workloads.h"

namespace ember::bench {
namespace {

constexpr int kOps = 10000;

Measurement per_op(Stats stats) {
  Measurement m;
  m.stats = stats;
  m.throughput = stats.median / kOps * 1e9;
  m.unit = "ns/op";
  return m;
}

Measurement measure_no_grad() {
  Tensor a = full({1}, 1.0f), b = full({1}, 2.0f);
  return per_op(time_it(
      [&] {
        Tensor sum = a;
        for (int i = 0; i < kOps; ++i) sum = sum + b;
      },
      default_repetitions()));
}

Measurement measure_autograd() {
  Tensor a = full({1}, 1.0f).set_requires_grad(true), b = full({1}, 2.0f);
  return per_op(time_it(
      [&] {
        a.zero_grad();
        phase("forward");
        Tensor sum = a;
        for (int i = 0; i < kOps; ++i) sum = sum + b;
        phase("backward");
        sum.sum().backward();
        phase("release");
      },
      default_repetitions()));
}

}  // namespace

void add_overhead_workloads(Registry& registry) {
  registry.add("overhead", "op overhead, no grad (1-element add)", measure_no_grad);
  registry.add("overhead", "op overhead, autograd (add fwd+bwd)", measure_autograd);
}

}  // namespace ember::bench
