// make gpt: trains lesson q7's GPT with nanoGPT's settings for a laptop CPU, on tiny
// Shakespeare, and says how it went:
//
//   model     4 layers, 4 heads, 128 channels, context 64, dropout 0, no biases (nanoGPT's
//             default), an lm_head of its own (nanoGPT ties it to the token embedding)
//   training  batch 12, 2000 iterations, AdamW lr 1e-3 (betas 0.9 / 0.99, weight decay 0.1
//             on matrices), 100 warmup iterations then cosine decay to 1e-4, clipping at 1.0
//   data      characters, nanoGPT's split (first 90% train, last 10% validation)
//
// The model and the training loop are the lesson's (GPT, train_gpt in q7_gpt/gpt.hpp, from
// solutions/ or, with make gpt GPT_DIR=lessons, your own). Its last line:
//
//   gpt: val loss L after N iterations in S s
//
// L is the mean loss of 200 random validation batches (nanoGPT's estimate_loss), S the time of
// the training loop alone. Options: --iters N, --device cpu|cuda, --seed N, --sample N
// (characters to generate, 0 for none), --precision highest|high|medium (float32 matrix products,
// as torch.set_float32_matmul_precision; "medium" lets a CPU with AMX or AVX512-BF16 multiply
// in bfloat16, see ember/precision.h; the default is "highest"), --baby (nanoGPT's "baby GPT"
// for a GPU: 6 layers, 6 heads, 384 channels, context 256, batch 64, dropout 0.2, 5000
// iterations; the target on one GPU is a val loss <= 1.48 within 5 minutes). bench/gpt.py is the default run
// in PyTorch.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>

#include <fmt/format.h>

#include "gpt.hpp"

namespace {

int usage(const char* program) {
  std::cerr << "usage: " << program << " [--baby] [--iters N] [--device cpu|cuda] [--seed N] [--sample N]\n"
            << "       [--precision highest|high|medium]\n";
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace ember;
  int64_t iters = -1, sample = 500;  // iters: the preset's unless given
  bool baby = false;
  uint64_t seed = 1337;  // nanoGPT's
  std::string device = "cpu";
  std::string precision = "highest";
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--baby") {
      baby = true;
      continue;
    }
    if (i + 1 >= argc) return usage(argv[0]);
    const std::string value = argv[++i];
    if (arg == "--iters") iters = std::stoll(value);
    else if (arg == "--device") device = value;
    else if (arg == "--seed") seed = std::stoull(value);
    else if (arg == "--sample") sample = std::stoll(value);
    else if (arg == "--precision") precision = value;
    else return usage(argv[0]);
  }
  try {
    manual_seed(seed);
    set_float32_matmul_precision(precision);
    course::ShakespeareDataset data;
    const Device where = device == "cpu" ? Device::cpu() : device == "cuda" ? Device::cuda() : throw Error("--device must be cpu or cuda, got '" + device + "'");
    data.to(where);

    q7::GPTConfig config;  // nanoGPT's laptop model (the struct's defaults)
    config.vocab_size = data.vocab().size();
    config.bias = false;  // nanoGPT train.py's default
    q7::TrainConfig training;  // nanoGPT's laptop training (the struct's defaults)
    if (baby) {  // nanoGPT's config/train_shakespeare_char.py as it is
      config.n_layer = 6;
      config.n_head = 6;
      config.n_embd = 384;
      config.block_size = 256;
      config.dropout = 0.2f;
      training.batch_size = 64;
      training.max_iters = 5000;
    }
    if (iters < 0) iters = training.max_iters;
    training.max_iters = iters;
    q7::GPT model(config);
    model.to(where);
    training.lr_decay_iters = iters;
    if (training.warmup_iters >= iters) training.warmup_iters = iters / 10;  // short runs (--iters) warm up less
    int64_t parameters = 0;
    for (const Tensor& p : model.parameters()) parameters += p.numel();
    const bool bf16 = precision == "medium" && where.is_cpu() && cpu_has_bf16_matmul() &&
                      std::string(backend_for(where).name()) != "reference";
    fmt::print("gpt: {} parameters, {} layers, {} heads, {} channels, context {}; batch {}, {} iterations on {}; "
               "matrix products in {}\n",
               parameters, config.n_layer, config.n_head, config.n_embd, config.block_size,
               training.batch_size, iters, where.str(),
               bf16 ? fmt::format("bfloat16 (precision \"medium\", {})", cpu_bf16_matmul_unit())
                    : "float32");
    std::fflush(stdout);  // before the progress lines, which go to stderr

    const auto start = std::chrono::steady_clock::now();
    q7::train_gpt(model, data, training);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::fflush(stderr);
    const double val_loss = q7::estimate_loss(model, data.val(), training.batch_size, 200);
    if (sample > 0) {
      const Tensor first = data.vocab().encode_tensor("\n", where).view({1, 1});
      const Tensor text = model.generate(first, sample, /*temperature=*/0.8f, /*top_k=*/200);
      fmt::print("---- a sample (temperature 0.8, top-k 200)\n{}\n----\n", data.vocab().decode(text.cpu()[0]));
    }
    fmt::print("gpt: val loss {:.4f} after {} iterations in {:.1f} s\n", val_loss, iters, seconds);
  } catch (const std::exception& e) {
    std::cerr << "gpt: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
