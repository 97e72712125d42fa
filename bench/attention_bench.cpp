// attention.py: the q6 single causal attention head, forward + backward (no optimizer).
//
// B = 32, C = 128, T = 8, 64, 256. K, Q, V = Linear(C, C) each on x (B, T, C);
// M = K @ Q^T / sqrt(C), causal mask (-inf above the diagonal), softmax over the last dim,
// out = M @ V, loss = out.sum(). The throughput counts 3x the forward matmul FLOPs as a
// rough fwd + bwd figure, as the script does ("GFLOP/s~").
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include <fmt/format.h>

#include "workloads.h"

namespace ember::bench {
namespace {

constexpr int64_t kBatch = 32, kChannels = 128;

}  // namespace

Measurement measure_attention(int64_t T, Device device) {
  const int64_t B = kBatch, C = kChannels;
  manual_seed(0);
  nn::Linear key(C, C), query(C, C), value(C, C);
  for (nn::Linear* layer : {&key, &query, &value}) layer->to(device);
  std::vector<Tensor> params;
  for (nn::Linear* layer : {&key, &query, &value}) {
    for (const Tensor& p : layer->parameters()) params.push_back(p);
  }
  Tensor x = rand({B, T, C}, device).set_requires_grad(true);  // (B, T, C)
  Tensor mask = tril(ones({T, T}, device));                      // (T, T)
  const float scale = static_cast<float>(std::sqrt(static_cast<double>(C)));

  auto step = [&] {
    phase("zero_grad");
    for (Tensor& p : params) p.zero_grad();
    x.zero_grad();
    phase("linear k,q,v");
    Tensor K = key.forward(x), Q = query.forward(x), V = value.forward(x);  // (B, T, C)
    phase("scores");
    Tensor M = matmul(K, Q.transpose(1, 2)) / scale;                        // (B, T, T)
    phase("mask");
    M = M.masked_fill(mask == 0.0f, -std::numeric_limits<float>::infinity());  // causal
    phase("softmax");
    M = softmax(M, -1);
    phase("M @ V");
    Tensor out = matmul(M, V);  // (B, T, T) @ (B, T, C) -> (B, T, C)
    phase("backward");
    out.sum().backward();
    synchronize(x.grad());
    phase("release");
  };

  const double forward_flop = 3.0 * 2 * B * T * C * C + 2.0 * 2 * B * T * T * C;
  const Repetitions script = default_repetitions();
  const Repetitions runs = {std::max(script.reps, T < 256 ? 101 : 11), T < 256 ? 5 : 2};
  Measurement m;
  m.stats = time_it(step, runs);
  m.throughput = 3 * forward_flop / m.stats.median / 1e9;
  m.unit = "GFLOP/s~";
  return m;
}

void add_attention_workloads(Registry& registry) {
  for (int64_t T : {8, 64, 256}) {
    registry.add("attention", fmt::format("attention step B={} T={} C={}", kBatch, T, kChannels),
                 [T] { return measure_attention(T, Device::cpu()); });
  }
}

}  // namespace ember::bench
