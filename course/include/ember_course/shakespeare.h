// Tiny Shakespeare for lesson q7 (a GPT): the text as character ids, nanoGPT's split, and
// random (B, T) windows with their next-character targets.
//
// datasets/tinyshakespeare/input.txt is 1,115,394 bytes of plain ASCII with 65 distinct
// characters (datasets/README.md). A character-level language model reads it one byte at a
// time: each character gets an id, its place in the sorted list of the text's characters,
// exactly as nanoGPT's data/shakespeare_char/prepare.py numbers them:
//
//   id:   0    1    2   3   4   5   6   7   8   9   10  11  12  13  ...  38  39  ...  64
//   char: \n  ' '   !   $   &   '   ,   -   .   3   :   ;   ?   A   ...  Z   a   ...  z
//
//   course::ShakespeareDataset data;                         // reads datasets/tinyshakespeare/
//   data.vocab().encode("First")                             // {18, 47, 56, 57, 58}
//   data.vocab().decode({20, 47, 1})                         // "Hi "
//   data.train().size()                                      // 1,003,854: the first 90%
//   data.val().size()                                        // 111,540: the last 10%
//   data::Batch batch = data.train().random_batch(12, 64);   // x (12, 64), label (12, 64)
//
// A batch, as nanoGPT's get_batch makes it: B starting points s_b drawn uniformly from
// [0, size - T) through ember's seeded generator (so manual_seed(n) gives the same batches
// every run), x[b] = ids[s_b .. s_b + T) and label[b] = ids[s_b + 1 .. s_b + T + 1): label[b][t]
// is the character that follows x[b][t]. Ids are stored as floats (whole numbers), as every
// index in Ember is, ready for nn::Embedding and F::cross_entropy.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <ember/data/dataloader.h>  // data::Batch
#include <ember/device.h>
#include <ember/tensor.h>

#include "ember_course/data_paths.h"

namespace ember::course {

// The characters of a text, each with an id. A character is one byte.
class CharVocab {
 public:
  // The distinct bytes of text, sorted by byte value (nanoGPT's sorted(set(text))).
  static CharVocab from_text(std::string_view text);
  // The characters in id order: symbols[i] has id i. They must be distinct and there must be
  // at least one; otherwise throws ember::Error.
  explicit CharVocab(std::string symbols);
  CharVocab() = default;  // empty: encodes nothing

  int64_t size() const { return static_cast<int64_t>(symbols_.size()); }
  const std::string& symbols() const { return symbols_; }
  bool contains(char c) const { return ids_[static_cast<unsigned char>(c)] >= 0; }

  // The id of a character; throws ember::Error naming it when it is not in the vocabulary.
  int64_t id_of(char c) const;
  // The character of an id; throws ember::Error for an id outside 0..size()-1.
  char char_of(int64_t id) const;

  // Text -> ids. A character outside the vocabulary throws ember::Error saying which one and
  // where ("character 'é' (byte 0xc3) at position 12 is not among the 65 characters ...").
  std::vector<int64_t> encode(std::string_view text) const;
  // The same ids as a (N,) tensor of floats on device.
  Tensor encode_tensor(std::string_view text, Device device = Device::cpu()) const;
  // Ids -> text; an id outside 0..size()-1 throws.
  std::string decode(const std::vector<int64_t>& ids) const;
  // A tensor of ids, of any shape (read in row-major order), on any device. Each element
  // must be a whole number in 0..size()-1.
  std::string decode(const Tensor& ids) const;

 private:
  std::string symbols_;
  std::array<int16_t, 256> ids_ = make_empty_ids();
  static std::array<int16_t, 256> make_empty_ids();
};

// A text as a run of character ids (one split: the training or the validation text), and
// random windows of it.
class TextSplit {
 public:
  TextSplit() = default;
  // ids: whole numbers >= 0 (checked), as floats.
  explicit TextSplit(std::vector<float> ids);

  int64_t size() const { return static_cast<int64_t>(ids_.size()); }
  bool empty() const { return ids_.empty(); }
  const std::vector<float>& ids() const { return ids_; }
  // All the ids as one (N,) tensor on the CPU.
  Tensor tensor() const;

  // nanoGPT's get_batch: batch_size windows of block_size ids starting at positions drawn
  // uniformly from [0, size() - block_size) with ember's generator; x (B, T) the windows,
  // label (B, T) the ids one position later. Built on device() (see to()). Throws
  // ember::Error unless both sizes are positive and the text holds block_size + 1 ids.
  data::Batch random_batch(int64_t batch_size, int64_t block_size) const;
  // The windows starting at the given positions (each in [0, size() - block_size)); x and
  // label as random_batch. For evaluating on chosen windows.
  data::Batch batch_at(const std::vector<int64_t>& starts, int64_t block_size) const;

  // Makes the batches come on device. Throws ember::Error, changing nothing, when the
  // device cannot be used.
  TextSplit& to(Device device);
  Device device() const { return device_; }

 private:
  std::vector<float> ids_;
  Device device_ = Device::cpu();
};

// nanoGPT's character-level tiny Shakespeare: the vocabulary of the whole text, the first
// 90% of its characters for training and the last 10% for validation.
class ShakespeareDataset {
 public:
  static constexpr int64_t kVocabSize = 65;  // of datasets/tinyshakespeare/input.txt
  static constexpr double kTrainFraction = 0.9;

  // Reads the text (datasets/tinyshakespeare/input.txt by default); a missing, unreadable or
  // empty file throws ember::Error naming it.
  explicit ShakespeareDataset(const std::string& path = dataset_path("tinyshakespeare/input.txt"));
  // From a vocabulary and splits already made (the autograder's runner gets the training
  // ids and the vocabulary from the checker, and an empty validation split: the validation
  // text stays with the grader). Every id must be below vocab.size() (checked).
  ShakespeareDataset(CharVocab vocab, TextSplit train, TextSplit val);
  // Any text, split the same way: the first floor(n * train_fraction) characters train.
  static ShakespeareDataset from_text(std::string_view text, double train_fraction = kTrainFraction);

  const CharVocab& vocab() const { return vocab_; }
  const TextSplit& train() const { return train_; }
  const TextSplit& val() const { return val_; }

  // Both splits make their batches on device (TextSplit::to).
  ShakespeareDataset& to(Device device);
  Device device() const { return train_.device(); }

 private:
  CharVocab vocab_;
  TextSplit train_, val_;
};

}  // namespace ember::course
