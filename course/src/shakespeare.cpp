#include "ember_course/shakespeare.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iterator>
#include <utility>

#include <ember/backend.h>
#include <ember/creation.h>
#include <ember/error.h>
#include <ember/shape.h>
#include <fmt/format.h>

namespace ember::course {

namespace {

// 'a', '\n', ' ' or, for a byte that does not print, its code: "byte 0xc3".
std::string describe_char(char c) {
  const auto byte = static_cast<unsigned char>(c);
  if (c == '\n') return "'\\n' (newline)";
  if (c == '\t') return "'\\t' (tab)";
  if (c == '\r') return "'\\r' (carriage return)";
  if (byte >= 0x20 && byte < 0x7f) return fmt::format("'{}'", c);
  return fmt::format("byte 0x{:02x}", static_cast<unsigned>(byte));
}

}  // namespace

// ---- CharVocab ----------------------------------------------------------------------------

std::array<int16_t, 256> CharVocab::make_empty_ids() {
  std::array<int16_t, 256> ids{};
  ids.fill(-1);
  return ids;
}

CharVocab CharVocab::from_text(std::string_view text) {
  std::array<bool, 256> seen{};
  for (char c : text) seen[static_cast<unsigned char>(c)] = true;
  std::string symbols;
  for (int byte = 0; byte < 256; ++byte) {
    if (seen[static_cast<size_t>(byte)]) symbols.push_back(static_cast<char>(byte));
  }
  check(!symbols.empty(), "CharVocab::from_text: the text is empty, so there is no character to number");
  return CharVocab(std::move(symbols));
}

CharVocab::CharVocab(std::string symbols) : symbols_(std::move(symbols)) {
  check(!symbols_.empty(), "CharVocab: the list of characters is empty");
  for (size_t i = 0; i < symbols_.size(); ++i) {
    int16_t& slot = ids_[static_cast<unsigned char>(symbols_[i])];
    check(slot < 0, "CharVocab: character {} is listed twice (ids {} and {})", describe_char(symbols_[i]),
          slot, i);
    slot = static_cast<int16_t>(i);
  }
}

int64_t CharVocab::id_of(char c) const {
  const int16_t id = ids_[static_cast<unsigned char>(c)];
  check(id >= 0, "CharVocab: character {} is not among the {} characters of the vocabulary", describe_char(c),
        size());
  return id;
}

char CharVocab::char_of(int64_t id) const {
  check(id >= 0 && id < size(), "CharVocab: id {} is outside the vocabulary's ids 0..{}", id, size() - 1);
  return symbols_[static_cast<size_t>(id)];
}

std::vector<int64_t> CharVocab::encode(std::string_view text) const {
  std::vector<int64_t> ids;
  ids.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    const int16_t id = ids_[static_cast<unsigned char>(text[i])];
    check(id >= 0, "CharVocab::encode: character {} at position {} is not among the {} characters of the vocabulary",
          describe_char(text[i]), i, size());
    ids.push_back(id);
  }
  return ids;
}

Tensor CharVocab::encode_tensor(std::string_view text, Device device) const {
  const std::vector<int64_t> ids = encode(text);
  std::vector<float> values(ids.begin(), ids.end());
  return from_vector(values, {static_cast<int64_t>(values.size())}, device);
}

std::string CharVocab::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  text.reserve(ids.size());
  for (size_t i = 0; i < ids.size(); ++i) {
    check(ids[i] >= 0 && ids[i] < size(), "CharVocab::decode: id {} at position {} is outside the vocabulary's ids 0..{}",
          ids[i], i, size() - 1);
    text.push_back(symbols_[static_cast<size_t>(ids[i])]);
  }
  return text;
}

std::string CharVocab::decode(const Tensor& ids) const {
  check(ids.defined(), "CharVocab::decode: the tensor of ids is undefined");
  const std::vector<float> values = ids.contiguous().to_vector();
  std::vector<int64_t> whole;
  whole.reserve(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    check(std::isfinite(v) && v == std::floor(v),
          "CharVocab::decode: element {} of the ids (shape {}) is {}, not a whole number", i, shape_str(ids.shape()), v);
    whole.push_back(static_cast<int64_t>(v));
  }
  return decode(whole);
}

// ---- TextSplit ----------------------------------------------------------------------------

TextSplit::TextSplit(std::vector<float> ids) : ids_(std::move(ids)) {
  for (size_t i = 0; i < ids_.size(); ++i) {
    const float v = ids_[i];
    check(std::isfinite(v) && v >= 0.0f && v == std::floor(v),
          "TextSplit: id {} at position {} is not a whole number >= 0", v, i);
  }
}

Tensor TextSplit::tensor() const { return from_vector(ids_, {size()}); }

data::Batch TextSplit::batch_at(const std::vector<int64_t>& starts, int64_t block_size) const {
  check(!starts.empty(), "TextSplit::batch_at: the list of starting positions is empty");
  check(block_size >= 1, "TextSplit::batch_at: block_size must be at least 1, got {}", block_size);
  check(size() >= block_size + 1,
        "TextSplit: a window of {} characters and the character after it need {} ids, but the text has {}",
        block_size, block_size + 1, size());
  const auto batch = static_cast<int64_t>(starts.size());
  std::vector<float> x(static_cast<size_t>(batch * block_size));
  std::vector<float> y(x.size());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t start = starts[static_cast<size_t>(b)];
    check(start >= 0 && start + block_size < size(),
          "TextSplit::batch_at: a window of {} starting at {} needs the ids up to {}, but the text has {} (starts "
          "go from 0 to {})",
          block_size, start, start + block_size, size(), size() - block_size - 1);
    const auto from = ids_.begin() + static_cast<std::ptrdiff_t>(start);
    std::copy(from, from + block_size, x.begin() + b * block_size);
    std::copy(from + 1, from + 1 + block_size, y.begin() + b * block_size);
  }
  data::Batch out;
  out.x = from_vector(x, {batch, block_size}, device_);
  out.label = from_vector(y, {batch, block_size}, device_);
  return out;
}

data::Batch TextSplit::random_batch(int64_t batch_size, int64_t block_size) const {
  check(batch_size >= 1 && block_size >= 1,
        "TextSplit::random_batch: batch_size and block_size must be at least 1, got {} and {}", batch_size,
        block_size);
  check(size() >= block_size + 1,
        "TextSplit: a window of {} characters and the character after it need {} ids, but the text has {}",
        block_size, block_size + 1, size());
  // nanoGPT: torch.randint(len(data) - block_size, (batch_size,)), here through ember's generator.
  const std::vector<float> drawn = randint(0, size() - block_size, {batch_size}).to_vector();
  std::vector<int64_t> starts(drawn.begin(), drawn.end());
  return batch_at(starts, block_size);
}

TextSplit& TextSplit::to(Device device) {
  backend_for(device);  // throws, changing nothing, when the device cannot be used
  device_ = device;
  return *this;
}

// ---- ShakespeareDataset -------------------------------------------------------------------

namespace {

std::string read_text_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  check(static_cast<bool>(in),
        "ShakespeareDataset: cannot open {} (restore it with git checkout -- datasets/tinyshakespeare, or set "
        "EMBER_DATASETS to a folder that has tinyshakespeare/input.txt)",
        path);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  check(!in.bad(), "ShakespeareDataset: reading {} failed", path);
  check(!text.empty(), "ShakespeareDataset: {} is empty", path);
  return text;
}

std::vector<float> ids_of(const CharVocab& vocab, std::string_view text) {
  const std::vector<int64_t> ids = vocab.encode(text);
  return std::vector<float>(ids.begin(), ids.end());
}

}  // namespace

ShakespeareDataset::ShakespeareDataset(const std::string& path)
    : ShakespeareDataset(from_text(read_text_file(path))) {}

ShakespeareDataset::ShakespeareDataset(CharVocab vocab, TextSplit train, TextSplit val)
    : vocab_(std::move(vocab)), train_(std::move(train)), val_(std::move(val)) {
  check(vocab_.size() > 0, "ShakespeareDataset: the vocabulary is empty");
  for (const TextSplit* split : {&train_, &val_}) {
    const char* name = split == &train_ ? "training" : "validation";
    for (size_t i = 0; i < split->ids().size(); ++i) {
      check(split->ids()[i] < static_cast<float>(vocab_.size()),
            "ShakespeareDataset: the {} text has id {} at position {}, outside the vocabulary's ids 0..{}", name,
            split->ids()[i], i, vocab_.size() - 1);
    }
  }
}

ShakespeareDataset ShakespeareDataset::from_text(std::string_view text, double train_fraction) {
  check(!text.empty(), "ShakespeareDataset::from_text: the text is empty");
  check(train_fraction > 0.0 && train_fraction <= 1.0,
        "ShakespeareDataset::from_text: train_fraction must be in (0, 1], got {}", train_fraction);
  CharVocab vocab = CharVocab::from_text(text);
  // nanoGPT's prepare.py: n = len(data); train = data[:int(n*0.9)], val = data[int(n*0.9):].
  const auto n = static_cast<double>(text.size());
  const auto cut = static_cast<size_t>(n * train_fraction);
  TextSplit train(ids_of(vocab, text.substr(0, cut)));
  TextSplit val(ids_of(vocab, text.substr(cut)));
  return ShakespeareDataset(std::move(vocab), std::move(train), std::move(val));
}

ShakespeareDataset& ShakespeareDataset::to(Device device) {
  train_.to(device);  // the first throws, changing nothing, when the device cannot be used
  val_.to(device);
  return *this;
}

}  // namespace ember::course
