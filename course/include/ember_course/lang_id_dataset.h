// The language-identification dataset of question q4, as tensors a model can read.
//
// Each word becomes a (L, 47) matrix of one-hot rows, one row per character (the 47
// characters of datasets/lang_id/alphabet.txt), and its language a one-hot (5,) row
// (English, Spanish, Finnish, Dutch, Polish). Words have different lengths, so a batch
// can only hold words of one length: the words of each split come in *buckets* of equal
// length, and every batch is drawn from inside one bucket. A batch is then
//   x     (B, L, 47)   B words of L characters each
//   label (B, 5)       one-hot languages
// A recurrent model reads one character at a time, so it wants the time axis first:
//   std::vector<Tensor> xs;                       // L tensors of shape (B, 47)
//   Tensor steps = batch.x.movedim(1, 0);         // (B, L, 47) -> (L, B, 47)
//   for (int64_t t = 0; t < steps.size(0); ++t) xs.push_back(steps[t]);
//
// Training loop, as with data::DataLoader:
//   course::LanguageIDDataset dataset;                        // reads datasets/lang_id/
//   course::BucketLoader loader(dataset.train(), 64, /*shuffle=*/true);
//   for (int epoch = 0; epoch < 3; ++epoch) {
//     for (const data::Batch& batch : loader) { ... }        // one pass over the 17,500 words
//   }
//   float accuracy = dataset.get_validation_accuracy(model);  // on the 500 dev words
//
// The test split (500 words) is held out for the autograder: train on train(), tune on
// dev(), and leave test() alone.
//
// Devices: dataset.to(Device::cuda()) makes all three splits build their batches on the
// GPU: those of BucketLoader, get/get_batch, bucket(b), and so the inputs of the accuracy
// counts. The words themselves stay on the host as character indices; only the one-hot
// tensors are made on the device. The accuracy counts hand the model its inputs on the
// device of its parameters; the model itself is never moved.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <ember/autograd.h>
#include <ember/data/dataloader.h>  // data::Batch
#include <ember/data/dataset.h>
#include <ember/device.h>
#include <ember/error.h>
#include <ember/nn/module.h>
#include <ember/ops.h>
#include <ember/shape.h>
#include <ember/tensor.h>

#include "ember_course/data_paths.h"
#include "ember_course/eval_mode.h"
#include "ember_course/lang_id_file.h"
#include "ember_course/model_device.h"

namespace ember::course {

// One split (train, dev or test) as a data::Dataset: example i is one word,
// x (L, 47) and label (5,), where L is that word's length.
class LanguageIDSplit : public data::Dataset {
 public:
  // split: words as character indices and labels, as read_lang_id gives them; the
  // alphabet's size and num_languages are the widths of the one-hot rows. Every index is
  // checked against them.
  LanguageIDSplit(LangIdSplit split, std::vector<std::string> alphabet, int64_t num_languages);

  int64_t size() const override { return static_cast<int64_t>(split_.words.size()); }
  // Word i: x (L, 47), label (5,).
  data::Example get(int64_t i) const override;
  // Words at indices, which must all have the same length L: x (B, L, 47), label (B, 5).
  // Words of different lengths throw (a batch cannot hold them without padding).
  data::Example get_batch(const std::vector<int64_t>& indices) const override;

  // The [start, end) index ranges of equal word length, shortest words first.
  const std::vector<std::pair<int64_t, int64_t>>& buckets() const { return split_.buckets; }
  int64_t num_buckets() const { return static_cast<int64_t>(split_.buckets.size()); }
  // All words of bucket b as one batch: x (B, L, 47), label (B, 5).
  data::Example bucket(int64_t b) const;

  // Makes get, get_batch and bucket (and so BucketLoader and a data::DataLoader) build
  // their tensors on device. Throws ember::Error, changing nothing, when the device cannot
  // be used ("no CUDA device", "built without CUDA").
  LanguageIDSplit& to(Device device) override;
  // Where batches are built: the CPU until to() says otherwise.
  Device device() const { return target_device().value_or(Device::cpu()); }

  int64_t word_length(int64_t i) const;
  int64_t label(int64_t i) const;  // the language index 0..4
  std::string word(int64_t i) const;  // the word itself, UTF-8 (for printing mistakes)

  int64_t num_characters() const { return static_cast<int64_t>(alphabet_.size()); }
  int64_t num_languages() const { return num_languages_; }

 private:
  void check_index(int64_t i, const char* op) const;

  LangIdSplit split_;
  std::vector<std::string> alphabet_;
  int64_t num_languages_;
};

// Walks a split in batches that never mix word lengths, as data::DataLoader walks a
// Dataset. One pass visits every word once: each bucket is cut into batches of
// batch_size words (its last batch may be smaller), and with shuffle on, every begin()
// shuffles the words inside each bucket and then the order of all the batches, drawing
// from ember's seeded generator (so ember::manual_seed makes training reproducible).
// Batches come on the split's device (see LanguageIDSplit::to). The split must outlive the
// loader.
class BucketLoader {
 public:
  BucketLoader(const LanguageIDSplit& split, int64_t batch_size, bool shuffle = false);
  BucketLoader(const LanguageIDSplit&& split, int64_t batch_size, bool shuffle = false) = delete;

  class Iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = data::Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const data::Batch*;
    using reference = const data::Batch&;

    const data::Batch& operator*() const { return batch_; }
    const data::Batch* operator->() const { return &batch_; }
    Iterator& operator++();
    bool operator==(const Iterator& other) const { return position_ == other.position_; }
    bool operator!=(const Iterator& other) const { return position_ != other.position_; }

   private:
    friend class BucketLoader;
    Iterator(const LanguageIDSplit* split,
             std::shared_ptr<const std::vector<std::vector<int64_t>>> batches, int64_t position);
    void load();

    const LanguageIDSplit* split_ = nullptr;
    std::shared_ptr<const std::vector<std::vector<int64_t>>> batches_;
    int64_t position_ = 0;
    data::Batch batch_;
  };

  // Starts a pass (reshuffling first when shuffle is on).
  Iterator begin() const;
  Iterator end() const;
  // The number of batches in one pass.
  int64_t size() const;
  int64_t batch_size() const { return batch_size_; }

 private:
  const LanguageIDSplit* split_;
  int64_t batch_size_;
  bool shuffle_;
};

// (B, L, C) one-hot words -> L tensors (B, C), one per character position: the list a
// recurrent model's run() takes. (The helper the accuracy functions below use; lesson q4
// asks you to write the same two lines yourself in train().)
std::vector<Tensor> split_time_steps(const Tensor& words);

class LanguageIDDataset {
 public:
  static constexpr int64_t kNumCharacters = 47;
  static constexpr int64_t kNumLanguages = 5;

  // Reads datasets/lang_id/ (or another folder in the same format); file problems throw
  // ember::Error naming the file (see lang_id_file.h).
  explicit LanguageIDDataset(const std::string& dir = dataset_path("lang_id"));
  // From words already read (the autograder's runner gets train and dev from the checker,
  // and an empty test split: the test words stay with the grader).
  explicit LanguageIDDataset(LangIdData data);

  const LanguageIDSplit& train() const { return train_; }  // 17,500 words, lengths 2-10
  const LanguageIDSplit& dev() const { return dev_; }      // 500 words, for tuning
  const LanguageIDSplit& test() const { return test_; }    // 500 words, held out for grading

  const std::vector<std::string>& alphabet() const { return alphabet_; }
  const std::vector<std::string>& language_names() const { return language_names_; }

  // Makes train(), dev() and test() build their batches, buckets and accuracy inputs on
  // device (LanguageIDSplit::to). Throws ember::Error, changing nothing, when the device
  // cannot be used.
  LanguageIDDataset& to(Device device);
  // Where the splits build their tensors: the CPU until to() says otherwise.
  Device device() const { return train_.device(); }

  // The fraction of dev words whose highest score in model.run(xs) is the right language.
  template <typename Model>
  float get_validation_accuracy(Model& model) const {
    return accuracy(model, dev_);
  }

  // The same on any split, a bucket at a time. Runs without recording gradients and, for
  // an nn::Module, in evaluation mode (restoring the mode it found afterwards). A bucket is
  // built on the split's device and handed to run on the device of the model's parameters
  // (model_device.h) when that is elsewhere; the scores are compared with the languages on
  // the device they come back on.
  template <typename Model>
  static float accuracy(Model& model, const LanguageIDSplit& split) {
    NoGradGuard no_grad;
    const auto eval_mode = eval_mode_if_module(model);  // restored also when run() throws
    const std::optional<Device> input_device = model_device(model);
    int64_t correct = 0;
    for (int64_t b = 0; b < split.num_buckets(); ++b) {
      data::Batch batch = split.bucket(b);  // x (B, L, 47), label (B, 5)
      if (input_device) batch = batch.to(*input_device);  // no copy when already there
      const int64_t count = batch.x.size(0);
      Tensor scores = model.run(split_time_steps(batch.x));  // L x (B, 47) -> (B, 5)
      check(scores.defined() && scores.shape() == Shape{count, split.num_languages()},
            "LanguageIDDataset::accuracy: run(xs) returned shape {} for a batch of {} words of {} "
            "characters; expected ({}, {})",
            scores.defined() ? shape_str(scores.shape()) : std::string("(undefined)"), count,
            batch.x.size(1), count, split.num_languages());
      Tensor truth = batch.label.argmax(1);  // (B,)
      if (truth.device() != scores.device()) truth = truth.to(scores.device());
      correct += static_cast<int64_t>((scores.argmax(1) == truth).sum().item());
    }
    return static_cast<float>(correct) / static_cast<float>(split.size());
  }

 private:
  std::vector<std::string> alphabet_;
  std::vector<std::string> language_names_;
  LanguageIDSplit train_, dev_, test_;
};

}  // namespace ember::course
