#include "ember_course/lang_id_dataset.h"

#include <algorithm>
#include <utility>

#include <ember/creation.h>
#include <ember/random.h>
#include <fmt/format.h>

namespace ember::course {

// ---- LanguageIDSplit ----------------------------------------------------------------

LanguageIDSplit::LanguageIDSplit(LangIdSplit split, std::vector<std::string> alphabet,
                                 int64_t num_languages)
    : split_(std::move(split)), alphabet_(std::move(alphabet)), num_languages_(num_languages) {
  check(split_.words.size() == split_.labels.size(),
        "LanguageIDSplit: {} words but {} labels", split_.words.size(), split_.labels.size());
  check(!alphabet_.empty() && num_languages_ > 0,
        "LanguageIDSplit: needs a non-empty alphabet and at least one language (got {} and {})",
        alphabet_.size(), num_languages_);
  for (size_t i = 0; i < split_.words.size(); ++i) {
    check(!split_.words[i].empty(), "LanguageIDSplit: word {} is empty", i);
    for (int c : split_.words[i]) {
      check(c >= 0 && c < num_characters(),
            "LanguageIDSplit: word {} has character index {}, outside 0..{}", i, c,
            num_characters() - 1);
    }
    check(split_.labels[i] >= 0 && split_.labels[i] < num_languages_,
          "LanguageIDSplit: word {} has label {}, outside 0..{}", i, split_.labels[i],
          num_languages_ - 1);
  }
  for (const auto& [start, end] : split_.buckets) {
    check(start >= 0 && start < end && end <= size(),
          "LanguageIDSplit: bucket [{}, {}) is not a range of rows 0..{}", start, end, size());
    for (int64_t i = start; i < end; ++i) {
      check(word_length(i) == word_length(start),
            "LanguageIDSplit: bucket [{}, {}) mixes words of length {} and {}", start, end,
            word_length(start), word_length(i));
    }
  }
}

void LanguageIDSplit::check_index(int64_t i, const char* op) const {
  check(i >= 0 && i < size(), "{}: index {} is out of range for a split of {} words", op, i,
        size());
}

int64_t LanguageIDSplit::word_length(int64_t i) const {
  check_index(i, "LanguageIDSplit::word_length");
  return static_cast<int64_t>(split_.words[static_cast<size_t>(i)].size());
}

int64_t LanguageIDSplit::label(int64_t i) const {
  check_index(i, "LanguageIDSplit::label");
  return split_.labels[static_cast<size_t>(i)];
}

std::string LanguageIDSplit::word(int64_t i) const {
  check_index(i, "LanguageIDSplit::word");
  std::string text;
  for (int c : split_.words[static_cast<size_t>(i)]) text += alphabet_[static_cast<size_t>(c)];
  return text;
}

data::Example LanguageIDSplit::get(int64_t i) const {
  check_index(i, "LanguageIDSplit::get");
  data::Example batch = get_batch({i});
  return {batch.x[0], batch.label[0]};  // (1, L, 47) -> (L, 47), (1, 5) -> (5,)
}

data::Example LanguageIDSplit::get_batch(const std::vector<int64_t>& indices) const {
  check(!indices.empty(), "LanguageIDSplit::get_batch: the list of indices is empty");
  for (int64_t i : indices) check_index(i, "LanguageIDSplit::get_batch");
  const int64_t count = static_cast<int64_t>(indices.size());
  const int64_t length = word_length(indices[0]);
  const int64_t width = num_characters();
  // One-hot rows written straight into a flat buffer: cheaper than stacking B * L tensors.
  std::vector<float> x(static_cast<size_t>(count * length * width), 0.0f);
  std::vector<float> y(static_cast<size_t>(count * num_languages_), 0.0f);
  for (int64_t b = 0; b < count; ++b) {
    const std::vector<int>& characters = split_.words[static_cast<size_t>(indices[b])];
    check(static_cast<int64_t>(characters.size()) == length,
          "LanguageIDSplit::get_batch: words {} and {} have lengths {} and {}; a batch holds "
          "words of one length only (draw batches within a bucket, see BucketLoader)",
          indices[0], indices[b], length, characters.size());
    for (int64_t t = 0; t < length; ++t) {
      x[static_cast<size_t>((b * length + t) * width + characters[static_cast<size_t>(t)])] = 1.0f;
    }
    y[static_cast<size_t>(b * num_languages_ + split_.labels[static_cast<size_t>(indices[b])])] = 1.0f;
  }
  // Built on the host, then copied once to the split's device (nothing to copy on the CPU).
  return {from_vector(x, {count, length, width}, device()),
          from_vector(y, {count, num_languages_}, device())};
}

data::Example LanguageIDSplit::bucket(int64_t b) const {
  check(b >= 0 && b < num_buckets(), "LanguageIDSplit::bucket: bucket {} is out of range (0..{})",
        b, num_buckets() - 1);
  const auto [start, end] = split_.buckets[static_cast<size_t>(b)];
  std::vector<int64_t> indices;
  for (int64_t i = start; i < end; ++i) indices.push_back(i);
  return get_batch(indices);
}

LanguageIDSplit& LanguageIDSplit::to(Device device) {
  // The words stay host-side indices; only where get_batch puts its tensors changes.
  data::Dataset::to(device);  // checks that the device can be used, before anything changes
  return *this;
}

// ---- BucketLoader ---------------------------------------------------------------------

BucketLoader::BucketLoader(const LanguageIDSplit& split, int64_t batch_size, bool shuffle)
    : split_(&split), batch_size_(batch_size), shuffle_(shuffle) {
  check(batch_size >= 1, "BucketLoader: batch_size must be at least 1, got {}", batch_size);
}

int64_t BucketLoader::size() const {
  int64_t count = 0;
  for (const auto& [start, end] : split_->buckets()) {
    count += (end - start + batch_size_ - 1) / batch_size_;
  }
  return count;
}

BucketLoader::Iterator BucketLoader::begin() const {
  auto batches = std::make_shared<std::vector<std::vector<int64_t>>>();
  for (const auto& [start, end] : split_->buckets()) {
    const int64_t count = end - start;
    std::vector<int64_t> order(static_cast<size_t>(count));
    if (shuffle_) {
      order = randperm_indices(count);
    } else {
      for (int64_t k = 0; k < count; ++k) order[static_cast<size_t>(k)] = k;
    }
    for (int64_t first = 0; first < count; first += batch_size_) {
      std::vector<int64_t> batch;
      for (int64_t k = first; k < std::min(first + batch_size_, count); ++k) {
        batch.push_back(start + order[static_cast<size_t>(k)]);
      }
      batches->push_back(std::move(batch));
    }
  }
  if (shuffle_) {
    // Interleave the buckets, so that training does not see all short words, then all long.
    std::vector<int64_t> permutation = randperm_indices(static_cast<int64_t>(batches->size()));
    std::vector<std::vector<int64_t>> shuffled;
    shuffled.reserve(batches->size());
    for (int64_t k : permutation) shuffled.push_back(std::move((*batches)[static_cast<size_t>(k)]));
    *batches = std::move(shuffled);
  }
  return Iterator(split_, std::move(batches), 0);
}

BucketLoader::Iterator BucketLoader::end() const { return Iterator(split_, nullptr, size()); }

BucketLoader::Iterator::Iterator(const LanguageIDSplit* split,
                                 std::shared_ptr<const std::vector<std::vector<int64_t>>> batches,
                                 int64_t position)
    : split_(split), batches_(std::move(batches)), position_(position) {
  load();
}

void BucketLoader::Iterator::load() {
  if (batches_ == nullptr || position_ >= static_cast<int64_t>(batches_->size())) return;
  batch_ = split_->get_batch((*batches_)[static_cast<size_t>(position_)]);
}

BucketLoader::Iterator& BucketLoader::Iterator::operator++() {
  ++position_;
  load();
  return *this;
}

// ---- helpers and LanguageIDDataset ------------------------------------------------------

LanguageIDDataset& LanguageIDDataset::to(Device device) {
  // The first call throws, changing nothing, when the device cannot be used; then the
  // others cannot fail.
  train_.to(device);
  dev_.to(device);
  test_.to(device);
  return *this;
}

std::vector<Tensor> split_time_steps(const Tensor& words) {
  check(words.defined() && words.dim() == 3,
        "split_time_steps: expected one-hot words (B, L, C), got shape {}",
        words.defined() ? shape_str(words.shape()) : std::string("(undefined)"));
  Tensor steps = words.movedim(1, 0);  // (B, L, C) -> (L, B, C)
  std::vector<Tensor> xs;
  for (int64_t t = 0; t < steps.size(0); ++t) xs.push_back(steps[t]);  // (B, C) each
  return xs;
}

LanguageIDDataset::LanguageIDDataset(const std::string& dir) : LanguageIDDataset(read_lang_id(dir)) {}

LanguageIDDataset::LanguageIDDataset(LangIdData data)
    : alphabet_(data.alphabet),
      language_names_(data.language_names),
      train_(std::move(data.train), data.alphabet, static_cast<int64_t>(data.language_names.size())),
      dev_(std::move(data.dev), data.alphabet, static_cast<int64_t>(data.language_names.size())),
      test_(std::move(data.test), data.alphabet, static_cast<int64_t>(data.language_names.size())) {
  check(static_cast<int64_t>(alphabet_.size()) == kNumCharacters &&
            static_cast<int64_t>(language_names_.size()) == kNumLanguages,
        "LanguageIDDataset: expected {} characters and {} languages, the files have {} and {}",
        kNumCharacters, kNumLanguages, alphabet_.size(), language_names_.size());
}

}  // namespace ember::course
