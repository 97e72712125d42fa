// Lesson q7's GPT saved and loaded through nn::Module::save/load (the issue's "saving and
// loading a trained GPT works through the existing module save/load"): a model trained a few
// steps, saved, and loaded into a fresh one gives the same logits and the same sample.
#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "gpt.hpp"

namespace {

using namespace ember;

q7::GPTConfig small_config() {
  q7::GPTConfig config;
  config.n_layer = 2;
  config.n_head = 2;
  config.n_embd = 16;
  config.block_size = 8;
  config.vocab_size = 65;
  return config;
}

TEST(GptSaveLoad, TrainedModelRoundTrips) {
  const course::ShakespeareDataset data = course::ShakespeareDataset::from_text(
      "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n");
  manual_seed(3);
  q7::GPTConfig config = small_config();
  config.vocab_size = data.vocab().size();
  q7::GPT trained(config);
  q7::TrainConfig training;
  training.batch_size = 4;
  training.max_iters = 5;
  training.warmup_iters = 1;
  training.lr_decay_iters = 5;
  q7::train_gpt(trained, data, training);

  const std::string path =
      (std::filesystem::temp_directory_path() / ("ember_gpt_" + std::to_string(::getpid()) + ".bin")).string();
  trained.save(path);
  manual_seed(4);  // a different initialisation, so the load has something to change
  q7::GPT loaded(config);
  loaded.load(path);
  std::remove(path.c_str());

  const Tensor idx = data.vocab().encode_tensor("Speak, s").view({1, 8});
  trained.eval();
  loaded.eval();
  EXPECT_EQ(trained.forward(idx).to_vector(), loaded.forward(idx).to_vector());  // bit for bit
  manual_seed(5);
  const std::vector<float> first = trained.generate(idx.slice(1, 0, 2), 10).to_vector();
  manual_seed(5);
  EXPECT_EQ(loaded.generate(idx.slice(1, 0, 2), 10).to_vector(), first);
}

}  // namespace
