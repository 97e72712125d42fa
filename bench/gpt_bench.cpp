// gpt.py: lesson q7's GPT, one training step with nanoGPT's laptop settings.
//
// The model and its optimizer are the lesson's (GPT and configure_optimizer in
// solutions/q7_gpt/gpt.hpp, the same code make gpt trains): 4 layers, 4 heads, 128 channels,
// context 64, no biases, dropout 0; AdamW (betas 0.9 / 0.99, weight decay 0.1 on matrices).
// One step, as bench/gpt.py's: the learning rate of the cosine schedule, a batch of 12
// random windows of tiny Shakespeare's training text, the loss, zero_grad, backward,
// clip_grad_norm_ to 1.0, the AdamW step. One measurement is 20 steps (iterations 200..219
// of a 2000-iteration schedule), reported per step; median of BENCH_REPS after BENCH_WARMUP,
// as the script. The "bf16" workload is the same step under float32_matmul_precision("medium")
// (bfloat16 products on a CPU with AMX or AVX512-BF16, float32 elsewhere), as
// bench/gpt.py --precision medium.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "gpt.hpp"
#include "workloads.h"

namespace ember::bench {
namespace {

constexpr int64_t kBatch = 12, kSteps = 20;

Measurement measure_gpt_step(const char* precision) {
  const std::string saved = get_float32_matmul_precision();
  set_float32_matmul_precision(precision);
  manual_seed(1337);
  course::ShakespeareDataset data;
  q7::GPTConfig config;  // nanoGPT's laptop model
  config.vocab_size = data.vocab().size();
  config.bias = false;
  q7::GPT model(config);
  q7::TrainConfig training;  // nanoGPT's laptop training
  std::shared_ptr<optim::AdamW> optimizer =
      model.configure_optimizer(training.weight_decay, training.learning_rate, {training.beta1, training.beta2});
  const optim::CosineSchedule schedule(training.learning_rate, training.min_lr, training.warmup_iters,
                                       training.lr_decay_iters);
  const std::vector<Tensor> params = model.parameters();
  model.train();

  auto steps = [&] {
    for (int64_t it = 200; it < 200 + kSteps; ++it) {
      phase("data");
      optimizer->options().lr(schedule.lr_at(it));
      const data::Batch batch = data.train().random_batch(kBatch, config.block_size);
      phase("forward");
      Tensor loss = model.loss(batch.x, batch.label);  // (B, T) -> ()
      phase("zero_grad");
      optimizer->zero_grad();
      phase("backward");
      loss.backward();
      phase("clip");
      nn::utils::clip_grad_norm_(params, training.grad_clip);
      phase("optimizer");
      optimizer->step();
      phase("release");
    }
  };
  Measurement m;
  m.stats = time_it(steps, default_repetitions());
  m.stats.median /= kSteps;
  m.stats.min /= kSteps;
  m.stats.max /= kSteps;
  m.throughput = 1.0 / m.stats.median;
  m.unit = "steps/s";
  set_float32_matmul_precision(saved);
  return m;
}

}  // namespace

void add_gpt_workloads(Registry& registry) {
  // The name bench/gpt.py prints, so bench/compare.sh puts the two on one row.
  registry.add("gpt", "gpt train step B=12 T=64 (nanoGPT laptop)", [] { return measure_gpt_step("highest"); });
  registry.add("gpt", "gpt train step B=12 T=64 (nanoGPT laptop) bf16", [] { return measure_gpt_step("medium"); });
}

}  // namespace ember::bench
