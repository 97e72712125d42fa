// mlp.py: the q3 digit MLP 784-256-128-10 (ReLU, cross entropy, Adam 1e-3), one epoch.
//
// An epoch is 60,000 random inputs U[0, 1) with random labels, shuffled by randperm each
// epoch, batches gathered from the pre-built tensors with index_select (as X[idx] in the
// script; no DataLoader), at batch 64 and 256. The model and optimizer are made once per
// line and keep training through the warm-up and timed epochs, as in the script.
// A last line drives the same epoch through data::DataLoader, as a course harness would.
#include <algorithm>
#include <map>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "workloads.h"

namespace ember::bench {
namespace {

namespace F = nn::functional;

constexpr int64_t kSamples = 60000;
// fwd + bwd FLOPs per sample (layer 1 needs no input gradient), as mlp.py counts them.
constexpr int64_t kWeights1 = 784 * 256, kWeights2 = 256 * 128, kWeights3 = 128 * 10;
constexpr double kFlopPerSample = 2.0 * (2 * kWeights1 + 3 * kWeights2 + 3 * kWeights3);

struct DigitData {
  Tensor x;       // (60000, 784) uniform on [0, 1)
  Tensor labels;  // (60000,) whole numbers in [0, 10)
};

// Made once per device and shared by every line, like the script's X and Y.
const DigitData& digit_data(Device device) {
  static std::map<DeviceType, DigitData> cache;
  auto found = cache.find(device.type);
  if (found != cache.end()) return found->second;
  manual_seed(0);  // common.setup()
  DigitData data{rand({kSamples, 784}), randint(0, 10, {kSamples})};
  data.x = data.x.to(device);
  data.labels = data.labels.to(device);
  return cache.emplace(device.type, std::move(data)).first->second;
}

struct Trainer {
  std::shared_ptr<nn::Sequential> model;
  std::unique_ptr<optim::Adam> optimizer;

  explicit Trainer(Device device) {
    manual_seed(0);
    model = std::make_shared<nn::Sequential>(
        std::make_shared<nn::Linear>(784, 256), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(256, 128), std::make_shared<nn::ReLU>(),
        std::make_shared<nn::Linear>(128, 10));
    model->to(device);
    optimizer = std::make_unique<optim::Adam>(model->parameters(), optim::AdamOptions(1e-3));
  }

  void step(const Tensor& x, const Tensor& labels) {  // x (B, 784), labels (B,)
    phase("zero_grad");
    optimizer->zero_grad();
    phase("forward");
    Tensor logits = model->forward(x);  // (B, 10)
    phase("loss");
    Tensor loss = F::cross_entropy(logits, labels);
    phase("backward");
    loss.backward();
    phase("optimizer");
    optimizer->step();
    phase("release");  // the step's tensors are freed on return
  }
};

Measurement samples_per_second(Stats stats) {
  Measurement m;
  m.stats = stats;
  m.throughput = kSamples / stats.median;
  m.unit = "samples/s";
  return m;
}

Measurement measure_dataloader_epoch(int64_t batch_size) {
  const DigitData& data = digit_data(Device::cpu());
  Trainer trainer(Device::cpu());
  data::TensorDataset dataset(data.x, data.labels);
  data::DataLoader loader(dataset, batch_size, /*shuffle=*/true);
  Stats stats = time_it(
      [&] {
        phase("data");
        for (const data::Batch& batch : loader) {
          trainer.step(batch.x, batch.label);
          phase("data");
        }
      },
      {3, 1});
  return samples_per_second(stats);
}

}  // namespace

Measurement measure_mlp_epoch(int64_t batch_size, Device device) {
  const DigitData& data = digit_data(device);
  Trainer trainer(device);
  auto epoch = [&] {
    Tensor order = randperm(kSamples, device);  // (60000,)
    for (int64_t i = 0; i < kSamples; i += batch_size) {
      phase("data");
      Tensor index = order.slice(0, i, std::min(i + batch_size, kSamples));  // (B,)
      trainer.step(index_select(data.x, index), index_select(data.labels, index));
    }
    synchronize(trainer.model->parameters().front());
  };
  const Repetitions script = default_repetitions();
  Measurement m = samples_per_second(time_it(epoch, {std::min(script.reps, 5), 1}));
  m.notes.push_back(
      fmt::format("~{:.2f} GFLOP/s effective", kSamples * kFlopPerSample / m.stats.median / 1e9));
  return m;
}

void add_mlp_workloads(Registry& registry) {
  for (int64_t batch_size : {64, 256}) {
    registry.add("mlp", fmt::format("mlp epoch bs={} (60k)", batch_size),
                 [batch_size] { return measure_mlp_epoch(batch_size, Device::cpu()); });
  }
  registry.add("mlp", "mlp epoch bs=64 via DataLoader", [] { return measure_dataloader_epoch(64); });
}

}  // namespace ember::bench
