// Tests for the datasets of lessons q4 (LanguageIDDataset, BucketLoader) and q5
// (DigitConvolutionDataset): sizes, bucket -> batch shapes, contents, and the same batches
// for the same seed.
#include <gtest/gtest.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "ember_course/convolution_dataset.h"
#include "ember_course/lang_id_dataset.h"
#include "ember_course/mnist.h"

namespace {

using ember::Shape;
using ember::Tensor;
using ember::course::BucketLoader;
using ember::course::DigitConvolutionDataset;
using ember::course::LanguageIDDataset;
using ember::course::LanguageIDSplit;

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.contiguous().to_vector() == b.contiguous().to_vector();
}

// The dataset is read once for all the language-ID tests (it takes a moment).
const LanguageIDDataset& lang_id() {
  static const LanguageIDDataset dataset;
  return dataset;
}

// ---- LanguageIDDataset ------------------------------------------------------------------

TEST(LanguageIDDataset, SplitSizesAndBuckets) {
  const LanguageIDDataset& data = lang_id();
  EXPECT_EQ(data.train().size(), 17500);
  EXPECT_EQ(data.dev().size(), 500);
  EXPECT_EQ(data.test().size(), 500);
  EXPECT_EQ(data.train().num_buckets(), 9);  // lengths 2..10
  EXPECT_EQ(data.dev().num_buckets(), 8);    // lengths 3..10
  EXPECT_EQ(data.test().num_buckets(), 8);
  EXPECT_EQ(data.alphabet().size(), 47u);
  EXPECT_EQ(data.language_names(),
            (std::vector<std::string>{"English", "Spanish", "Finnish", "Dutch", "Polish"}));
  // Buckets tile the split in order, each one word length, lengths increasing.
  const LanguageIDSplit& train = data.train();
  int64_t next = 0, previous_length = 0;
  for (const auto& [start, end] : train.buckets()) {
    EXPECT_EQ(start, next);
    EXPECT_GT(train.word_length(start), previous_length);
    previous_length = train.word_length(start);
    next = end;
  }
  EXPECT_EQ(next, train.size());
  EXPECT_EQ(train.word_length(0), 2);
  EXPECT_EQ(train.word_length(train.size() - 1), 10);
}

TEST(LanguageIDDataset, ExamplesAreOneHot) {
  const LanguageIDSplit& train = lang_id().train();
  // Line 1 of train.tsv is "oí<TAB>es": o is index 14, í is index 32, Spanish is 1.
  EXPECT_EQ(train.word(0), "oí");
  EXPECT_EQ(train.label(0), 1);
  ember::data::Example example = train.get(0);
  EXPECT_EQ(example.x.shape(), (Shape{2, 47}));
  EXPECT_EQ(example.label.shape(), (Shape{5}));
  EXPECT_EQ(example.x.at({0, 14}), 1.0f);
  EXPECT_EQ(example.x.at({1, 32}), 1.0f);
  EXPECT_EQ(example.x.sum().item(), 2.0f);  // exactly one 1 per character
  EXPECT_EQ(example.label.at({1}), 1.0f);
  EXPECT_EQ(example.label.sum().item(), 1.0f);
}

TEST(LanguageIDDataset, BucketBatchesHaveOneWordLength) {
  const LanguageIDSplit& dev = lang_id().dev();
  for (int64_t b = 0; b < dev.num_buckets(); ++b) {
    const auto [start, end] = dev.buckets()[static_cast<size_t>(b)];
    ember::data::Batch batch = dev.bucket(b);
    const int64_t length = dev.word_length(start);
    EXPECT_EQ(batch.x.shape(), (Shape{end - start, length, 47})) << "bucket " << b;
    EXPECT_EQ(batch.label.shape(), (Shape{end - start, 5})) << "bucket " << b;
    // One 1 per character and one per label.
    EXPECT_EQ(batch.x.sum().item(), static_cast<float>((end - start) * length));
    EXPECT_EQ(batch.label.sum().item(), static_cast<float>(end - start));
  }
}

TEST(LanguageIDDataset, MixedLengthsInOneBatchThrow) {
  const LanguageIDSplit& train = lang_id().train();
  const int64_t first_of_second_bucket = train.buckets()[1].first;
  try {
    train.get_batch({0, first_of_second_bucket});
    FAIL() << "expected ember::Error";
  } catch (const ember::Error& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("lengths 2 and 3"), std::string::npos) << message;
    EXPECT_NE(message.find("BucketLoader"), std::string::npos) << message;
  }
  EXPECT_THROW(train.get_batch({}), ember::Error);
  EXPECT_THROW(train.get(train.size()), ember::Error);
  EXPECT_THROW(train.bucket(9), ember::Error);
}

TEST(LanguageIDDataset, MissingFolderNamesTheFile) {
  try {
    LanguageIDDataset missing("/nonexistent/lang_id");
    FAIL() << "expected ember::Error";
  } catch (const ember::Error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/lang_id"), std::string::npos)
        << error.what();
  }
}

TEST(LanguageIDDataset, SplitTimeStepsPutsTheTimeAxisFirst) {
  ember::data::Batch batch = lang_id().dev().bucket(2);  // (63, 5, 47)
  std::vector<Tensor> xs = ember::course::split_time_steps(batch.x);
  ASSERT_EQ(xs.size(), 5u);
  for (int64_t t = 0; t < 5; ++t) {
    EXPECT_EQ(xs[static_cast<size_t>(t)].shape(), (Shape{batch.x.size(0), 47}));
    EXPECT_TRUE(same_values(xs[static_cast<size_t>(t)], batch.x.select(1, t)));
  }
  EXPECT_THROW(ember::course::split_time_steps(ember::zeros({2, 47})), ember::Error);
}

// ---- BucketLoader -----------------------------------------------------------------------

TEST(BucketLoader, OnePassVisitsEveryWordOnceInBucketBatches) {
  const LanguageIDSplit& train = lang_id().train();
  ember::manual_seed(3);
  BucketLoader loader(train, 64, /*shuffle=*/true);
  int64_t expected_batches = 0;
  std::map<int64_t, int64_t> bucket_sizes;  // word length -> words
  for (const auto& [start, end] : train.buckets()) {
    expected_batches += (end - start + 63) / 64;
    bucket_sizes[train.word_length(start)] = end - start;
  }
  EXPECT_EQ(loader.size(), expected_batches);

  int64_t batches = 0;
  std::map<int64_t, int64_t> words_seen;  // word length -> words
  std::vector<double> per_language(5, 0.0);
  for (const ember::data::Batch& batch : loader) {
    ++batches;
    ASSERT_EQ(batch.x.dim(), 3);
    const int64_t count = batch.x.size(0), length = batch.x.size(1);
    EXPECT_GE(count, 1);
    EXPECT_LE(count, 64);
    EXPECT_EQ(batch.x.size(2), 47);
    EXPECT_EQ(batch.label.shape(), (Shape{count, 5}));
    words_seen[length] += count;
    const std::vector<float> column_sums = batch.label.sum(0).to_vector();
    for (size_t k = 0; k < 5; ++k) per_language[k] += column_sums[k];
  }
  EXPECT_EQ(batches, expected_batches);
  EXPECT_EQ(words_seen, bucket_sizes);
  for (double count : per_language) EXPECT_EQ(count, 3500.0);  // 3,500 words per language
}

TEST(BucketLoader, WithoutShuffleWalksBucketsInOrder) {
  const LanguageIDSplit& dev = lang_id().dev();
  BucketLoader loader(dev, 16);
  auto it = loader.begin();
  // Bucket 0 holds words 0..2 (length 3), so the first batch is exactly those.
  EXPECT_TRUE(same_values(it->x, dev.get_batch({0, 1, 2}).x));
  ++it;
  std::vector<int64_t> next;
  for (int64_t i = 3; i < 19; ++i) next.push_back(i);
  EXPECT_TRUE(same_values(it->x, dev.get_batch(next).x));
  EXPECT_THROW(BucketLoader(dev, 0), ember::Error);
}

TEST(BucketLoader, SameSeedSameBatches) {
  const LanguageIDSplit& train = lang_id().train();
  const auto first_batches = [&](uint64_t seed) {
    ember::manual_seed(seed);
    BucketLoader loader(train, 32, /*shuffle=*/true);
    std::vector<Tensor> out;
    for (const ember::data::Batch& batch : loader) {
      out.push_back(batch.x);
      if (out.size() == 5) break;
    }
    return out;
  };
  const std::vector<Tensor> a = first_batches(11), b = first_batches(11), c = first_batches(12);
  bool all_same = true, all_same_as_other_seed = true;
  for (size_t k = 0; k < a.size(); ++k) {
    all_same = all_same && same_values(a[k], b[k]);
    all_same_as_other_seed = all_same_as_other_seed && same_values(a[k], c[k]);
  }
  EXPECT_TRUE(all_same);
  EXPECT_FALSE(all_same_as_other_seed);
  // Each pass reshuffles: two passes of one loader differ.
  ember::manual_seed(11);
  BucketLoader loader(train, 32, /*shuffle=*/true);
  const Tensor first_pass = loader.begin()->x, second_pass = loader.begin()->x;
  EXPECT_FALSE(same_values(first_pass, second_pass));
}

// ---- accuracy helper --------------------------------------------------------------------

// Always answers "Spanish", whatever the word.
struct AlwaysSpanish {
  ember::Tensor run(const std::vector<Tensor>& xs) {
    Tensor scores = ember::zeros({xs.at(0).size(0), 5});
    scores.select(1, 1).fill_(1.0f);
    return scores;
  }
};

struct WrongShape : ember::nn::Module {
  ember::Tensor run(const std::vector<Tensor>& xs) { return ember::zeros({xs.at(0).size(0), 4}); }
};

TEST(LanguageIDDataset, AccuracyCountsArgmaxHits) {
  AlwaysSpanish model;
  // 100 of the 500 dev words are Spanish.
  EXPECT_FLOAT_EQ(lang_id().get_validation_accuracy(model), 0.2f);
  EXPECT_FLOAT_EQ(LanguageIDDataset::accuracy(model, lang_id().test()), 0.2f);
}

TEST(LanguageIDDataset, AccuracyRejectsWrongShapesAndRestoresTheMode) {
  WrongShape model;
  ASSERT_TRUE(model.is_training());
  try {
    lang_id().get_validation_accuracy(model);
    FAIL() << "expected ember::Error";
  } catch (const ember::Error& error) {
    EXPECT_NE(std::string(error.what()).find("expected (3, 5)"), std::string::npos) << error.what();
  }
  EXPECT_TRUE(model.is_training());  // put back although run() threw
}

// ---- DigitConvolutionDataset ------------------------------------------------------------

// A small split in memory: image i has every pixel equal to i / 100, label i % 10.
ember::course::MnistSplit tiny_split(int64_t count) {
  std::vector<float> pixels, labels;
  for (int64_t i = 0; i < count; ++i) {
    for (int64_t p = 0; p < 784; ++p) pixels.push_back(static_cast<float>(i) / 100.0f);
    labels.push_back(static_cast<float>(i % 10));
  }
  ember::course::MnistSplit split;
  split.images = ember::from_vector(pixels, {count, 784});
  split.labels = ember::from_vector(labels, {count});
  split.rows = split.cols = 28;
  return split;
}

TEST(DigitConvolutionDataset, TakesTheFirstTrainingImagesAndSplitsT10kByParity) {
  DigitConvolutionDataset data(tiny_split(30), tiny_split(10), /*training_images=*/12);
  EXPECT_EQ(data.size(), 12);
  EXPECT_EQ(data.train_x().shape(), (Shape{12, 784}));
  EXPECT_EQ(data.train_y().shape(), (Shape{12, 10}));
  EXPECT_FLOAT_EQ(data.train_x().at({11, 0}), 0.11f);  // the 12th image, not a later one
  EXPECT_EQ(data.validation_x().shape(), (Shape{5, 784}));
  EXPECT_EQ(data.test_x().shape(), (Shape{5, 784}));
  EXPECT_FLOAT_EQ(data.validation_x().at({1, 0}), 0.02f);  // t10k image 2
  EXPECT_FLOAT_EQ(data.test_x().at({1, 0}), 0.03f);        // t10k image 3
  EXPECT_EQ(data.test_labels().at({2}), 5.0f);

  ember::data::Example batch = data.get_batch({3, 0, 7});
  EXPECT_EQ(batch.x.shape(), (Shape{3, 784}));
  EXPECT_EQ(batch.label.shape(), (Shape{3, 10}));
  EXPECT_EQ(batch.label.at({2, 7}), 1.0f);
  EXPECT_EQ(data.get(4).x.shape(), (Shape{784}));
  EXPECT_THROW(data.get(12), ember::Error);
  EXPECT_THROW(data.get_batch({}), ember::Error);
  // Fewer training images than asked for: all of them.
  EXPECT_EQ(DigitConvolutionDataset(tiny_split(5), tiny_split(4)).size(), 5);
}

TEST(DigitConvolutionDataset, RealFiles) {
  DigitConvolutionDataset data;
  EXPECT_EQ(data.size(), DigitConvolutionDataset::kTrainingImages);
  EXPECT_EQ(data.train_x().shape(), (Shape{1000, 784}));
  EXPECT_EQ(data.validation_x().shape(), (Shape{500, 784}));
  EXPECT_EQ(data.test_x().shape(), (Shape{1000, 784}));
  // Spread over t10k and disjoint: validation is images 0, 20, 40, ..., test 1, 11, 21, ...
  const ember::course::MnistSplit t10k = ember::course::load_mnist_test();
  EXPECT_TRUE(same_values(data.validation_x()[1], t10k.images[20]));
  EXPECT_TRUE(same_values(data.validation_x()[499], t10k.images[9980]));
  EXPECT_TRUE(same_values(data.test_x()[1], t10k.images[11]));
  EXPECT_TRUE(same_values(data.test_x()[999], t10k.images[9991]));
  const std::vector<float> pixels = data.train_x().slice(0, 0, 10).to_vector();
  for (float p : pixels) {
    ASSERT_GE(p, 0.0f);
    ASSERT_LE(p, 1.0f);
  }
  // MNIST's first training digit is a 5, its first test digits 7, 2, 1: test starts at index 1.
  EXPECT_EQ(data.train_labels().at({0}), 5.0f);
  EXPECT_EQ(data.validation_labels().at({0}), 7.0f);
  EXPECT_EQ(data.test_labels().at({0}), 2.0f);

  // Same seed, same shuffled batches.
  const auto first_batch = [&](uint64_t seed) {
    ember::manual_seed(seed);
    ember::data::DataLoader loader(data, 32, /*shuffle=*/true);
    return loader.begin()->x;
  };
  EXPECT_TRUE(same_values(first_batch(5), first_batch(5)));
  EXPECT_FALSE(same_values(first_batch(5), first_batch(6)));
}

// A model whose forward answers the digit in pixel 0 * 10 (for tiny_split's images).
struct PixelModel : ember::nn::Module {
  ember::Tensor forward(const Tensor& x) override {
    Tensor digit = (x.select(1, 0) * 100.0f + 0.5f);  // i, the image number
    std::vector<float> scores;
    for (float value : digit.to_vector()) {
      for (int64_t k = 0; k < 10; ++k) scores.push_back(static_cast<int64_t>(value) % 10 == k ? 1.0f : 0.0f);
    }
    return ember::from_vector(scores, {x.size(0), 10});
  }
};

TEST(DigitConvolutionDataset, AccuracyUsesForward) {
  DigitConvolutionDataset data(tiny_split(20), tiny_split(40));
  PixelModel model;
  EXPECT_FLOAT_EQ(data.get_validation_accuracy(model), 1.0f);
  EXPECT_FLOAT_EQ(DigitConvolutionDataset::accuracy(model, data.test_x(), data.test_labels(), 7), 1.0f);
  Tensor wrong = data.test_labels() + 1.0f;  // every label off by one
  EXPECT_FLOAT_EQ(DigitConvolutionDataset::accuracy(model, data.test_x(), wrong), 0.0f);
  EXPECT_TRUE(model.is_training());
}

}  // namespace
