// regression.py: the q2 MLP 1-256-256-128-1 (ReLU) fitting y = sin(x), MSE, Adam 1e-3.
//
// x = linspace(-2pi, 2pi, 200) as a column, batch 64, shuffled each epoch (batches of
// 64, 64, 64 and 8). Two lines: the time of one epoch, and the time (and epochs) until
// the mean of an epoch's batch losses drops below 0.01, capped at 2000 epochs.
#include <algorithm>
#include <cmath>
#include <memory>
#include <optional>
#include <vector>

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "workloads.h"

namespace ember::bench {
namespace {

namespace F = nn::functional;

constexpr int64_t kPoints = 200;
constexpr int64_t kBatchSize = 64;
constexpr double kPi = 3.14159265358979323846;

struct SineData {
  Tensor x;  // (200, 1)
  Tensor y;  // (200, 1) sin(x)
};

SineData sine_data() {
  Tensor x = linspace(static_cast<float>(-2 * kPi), static_cast<float>(2 * kPi), kPoints).unsqueeze(1);
  // Ember has no sin op; the targets are data, so compute them on the host.
  std::vector<float> y = x.to_vector();
  for (float& value : y) value = std::sin(value);
  return {x, from_vector(y, {kPoints, 1})};
}

struct Regression {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> optimizer;

  explicit Regression(uint64_t seed) {
    manual_seed(seed);
    model = std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(1, 256), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(256, 256), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(256, 128), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(128, 1));
    optimizer = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions(1e-3));
  }

  // One shuffled epoch; returns the mean of its batch losses.
  double epoch(const SineData& data) {
    Tensor order = randperm(kPoints);
    double total = 0.0;
    int batches = 0;
    for (int64_t i = 0; i < kPoints; i += kBatchSize) {
      phase("data");
      Tensor index = order.slice(0, i, std::min(i + kBatchSize, kPoints));  // (B,)
      Tensor x = index_select(data.x, index), y = index_select(data.y, index);  // (B, 1)
      phase("zero_grad");
      optimizer->zero_grad();
      phase("forward");
      Tensor prediction = model->forward(x);
      phase("loss");
      Tensor loss = F::mse_loss(prediction, y);
      phase("backward");
      loss.backward();
      phase("optimizer");
      optimizer->step();
      phase("item");
      total += loss.item();
      ++batches;
      phase("release");
    }
    return total / batches;
  }
};

struct Convergence {
  double seconds;
  std::optional<int> epochs;  // empty when the loss never dropped below 0.01
};

Convergence converge(const SineData& data, uint64_t seed) {
  Regression regression(seed);
  const double start = measured_seconds();
  for (int e = 1; e <= 2000; ++e) {
    if (regression.epoch(data) < 0.01) return {measured_seconds() - start, e};
  }
  return {measured_seconds() - start, std::nullopt};
}

std::string epochs_str(std::optional<int> epochs) {
  return epochs ? std::to_string(*epochs) : "None";
}

Measurement measure_epoch() {
  const SineData data = sine_data();
  Regression regression(0);
  const Repetitions script = default_repetitions();
  Measurement m;
  m.stats = time_it([&] { regression.epoch(data); }, {std::max(script.reps, 101), 10});
  m.throughput = 1.0 / m.stats.median;
  m.unit = "epochs/s";
  return m;
}

Measurement measure_convergence() {
  const SineData data = sine_data();
  const Repetitions runs = effective({std::max(settings().reps / 2 + 2, 5), 0});
  std::vector<double> times;
  std::optional<int> epochs;
  for (int r = 0; r < runs.reps; ++r) {
    Convergence c = converge(data, 0);
    times.push_back(c.seconds);
    epochs = c.epochs;
  }
  std::sort(times.begin(), times.end());
  Measurement m;
  m.stats = {times[times.size() / 2], times.front(), times.back()};  // as the script: upper median
  m.name_suffix = fmt::format(" ({} ep)", epochs_str(epochs));
  if (!settings().quick) {
    std::vector<std::string> others;
    for (uint64_t seed = 1; seed <= 4; ++seed) others.push_back(epochs_str(converge(data, seed).epochs));
    m.notes.push_back(fmt::format("epochs to converge for seeds 1-4: [{}]", fmt::join(others, ", ")));
  }
  return m;
}

}  // namespace

void add_regression_workloads(Registry& registry) {
  registry.add("regression", "regression epoch (200 pts, bs=64)", measure_epoch);
  registry.add("regression", "regression to loss<0.01 seed0", measure_convergence);
}

}  // namespace ember::bench
