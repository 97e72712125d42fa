// Tests for lesson q7's data (ember_course/shakespeare.h): the vocabulary of tiny
// Shakespeare, nanoGPT's 90/10 split, encode/decode and their errors, and the random
// windows (shapes, targets one character later, the same batches for the same seed).
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "ember_course/shakespeare.h"
#include "scoped_env.h"

namespace {

using ember::Shape;
using ember::Tensor;
using ember::course::CharVocab;
using ember::course::ShakespeareDataset;
using ember::course::TextSplit;

const ShakespeareDataset& shakespeare() {
  static const ShakespeareDataset dataset;
  return dataset;
}

std::string error_of(const std::function<void()>& body) {
  try {
    body();
  } catch (const ember::Error& error) {
    return error.what();
  }
  return "";
}

TEST(ShakespeareDataset, VocabularyIsNanoGptsSixtyFiveCharacters) {
  const CharVocab& vocab = shakespeare().vocab();
  EXPECT_EQ(vocab.size(), 65);
  EXPECT_EQ(vocab.size(), ShakespeareDataset::kVocabSize);
  EXPECT_EQ(vocab.symbols(), "\n !$&',-.3:;?ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz");
  EXPECT_EQ(vocab.id_of('\n'), 0);
  EXPECT_EQ(vocab.id_of(' '), 1);
  EXPECT_EQ(vocab.id_of('A'), 13);
  EXPECT_EQ(vocab.id_of('a'), 39);
  EXPECT_EQ(vocab.id_of('z'), 64);
  EXPECT_EQ(vocab.char_of(58), 't');
}

TEST(ShakespeareDataset, SplitIsFirstNinetyPercentAndLastTen) {
  const ShakespeareDataset& data = shakespeare();
  EXPECT_EQ(data.train().size(), 1003854);  // int(1115394 * 0.9), as nanoGPT's prepare.py
  EXPECT_EQ(data.val().size(), 111540);
  // The text starts "First Citizen:" and the validation part starts where training ends.
  std::vector<int64_t> head;
  for (int i = 0; i < 14; ++i) head.push_back(static_cast<int64_t>(data.train().ids()[static_cast<size_t>(i)]));
  EXPECT_EQ(data.vocab().decode(head), "First Citizen:");
  EXPECT_EQ(data.vocab().encode("First"), (std::vector<int64_t>{18, 47, 56, 57, 58}));
  std::vector<int64_t> tail;
  for (size_t i = data.val().ids().size() - 6; i < data.val().ids().size(); ++i) {
    tail.push_back(static_cast<int64_t>(data.val().ids()[i]));
  }
  EXPECT_EQ(data.vocab().decode(tail), "king.\n");   // the last characters: "Whiles thou art waking.\n"
}

TEST(CharVocab, EncodeDecodeRoundTrip) {
  const CharVocab& vocab = shakespeare().vocab();
  const std::string text = "ROMEO:\nBut, soft! what light through yonder window breaks?";
  EXPECT_EQ(vocab.decode(vocab.encode(text)), text);
  const Tensor ids = vocab.encode_tensor("Hi ");
  EXPECT_EQ(ids.shape(), (Shape{3}));
  EXPECT_EQ(ids.to_vector(), (std::vector<float>{20, 47, 1}));
  EXPECT_EQ(vocab.decode(ids), "Hi ");
  EXPECT_EQ(vocab.decode(ids.view({1, 3})), "Hi ");  // any shape, row-major
  EXPECT_EQ(vocab.decode(std::vector<int64_t>{}), "");
}

TEST(CharVocab, FromTextIsSortedAndDistinct) {
  const CharVocab vocab = CharVocab::from_text("hello, world");
  EXPECT_EQ(vocab.symbols(), " ,dehlorw");
  EXPECT_TRUE(vocab.contains('w'));
  EXPECT_FALSE(vocab.contains('x'));
}

TEST(CharVocab, ClearErrors) {
  const CharVocab& vocab = shakespeare().vocab();
  EXPECT_NE(error_of([&] { vocab.encode("caf\xc3\xa9"); }).find("byte 0xc3 at position 3 is not among the 65"),
            std::string::npos);
  EXPECT_NE(error_of([&] { vocab.encode("x = 1"); }).find("'=' at position 2"), std::string::npos);
  EXPECT_NE(error_of([&] { vocab.encode("a\tb"); }).find("'\\t' (tab) at position 1"), std::string::npos);
  EXPECT_NE(error_of([&] { vocab.id_of('#'); }).find("'#' is not among"), std::string::npos);
  EXPECT_NE(error_of([&] { vocab.char_of(65); }).find("id 65 is outside the vocabulary's ids 0..64"),
            std::string::npos);
  EXPECT_NE(error_of([&] { vocab.decode(std::vector<int64_t>{3, -1}); }).find("id -1 at position 1"),
            std::string::npos);
  EXPECT_NE(error_of([&] { vocab.decode(ember::tensor({1.0f, 2.5f})); }).find("is 2.5, not a whole number"),
            std::string::npos);
  EXPECT_NE(error_of([] { CharVocab("abca"); }).find("'a' is listed twice"), std::string::npos);
  EXPECT_NE(error_of([] { CharVocab(""); }).find("empty"), std::string::npos);
  EXPECT_NE(error_of([] { CharVocab::from_text(""); }).find("empty"), std::string::npos);
}

TEST(TextSplit, RandomBatchShapesAndTargets) {
  const TextSplit& train = shakespeare().train();
  ember::manual_seed(0);
  const ember::data::Batch batch = train.random_batch(12, 64);
  ASSERT_EQ(batch.x.shape(), (Shape{12, 64}));
  ASSERT_EQ(batch.label.shape(), (Shape{12, 64}));
  const std::vector<float> x = batch.x.to_vector(), y = batch.label.to_vector();
  for (int64_t b = 0; b < 12; ++b) {
    // Each row is a window of the text, and label is the same window one character on.
    for (int64_t t = 0; t + 1 < 64; ++t) EXPECT_EQ(y[static_cast<size_t>(b * 64 + t)], x[static_cast<size_t>(b * 64 + t + 1)]);
    for (int64_t t = 0; t < 64; ++t) {
      const float v = x[static_cast<size_t>(b * 64 + t)];
      EXPECT_TRUE(v >= 0 && v < 65 && v == static_cast<float>(static_cast<int>(v)));
    }
  }
}

TEST(TextSplit, SameSeedSameBatches) {
  const TextSplit& train = shakespeare().train();
  ember::manual_seed(7);
  const Tensor a1 = train.random_batch(4, 16).x, a2 = train.random_batch(4, 16).x;
  ember::manual_seed(7);
  const Tensor b1 = train.random_batch(4, 16).x, b2 = train.random_batch(4, 16).x;
  EXPECT_EQ(a1.to_vector(), b1.to_vector());
  EXPECT_EQ(a2.to_vector(), b2.to_vector());
  EXPECT_NE(a1.to_vector(), a2.to_vector());  // the generator moves on
  ember::manual_seed(8);
  EXPECT_NE(train.random_batch(4, 16).x.to_vector(), a1.to_vector());
}

TEST(TextSplit, StartsCoverTheWholeRange) {
  // A text of 6 ids and windows of 4: starts 0 and 1 only (nanoGPT's randint(len - T)), and
  // every window's target is the next id.
  const TextSplit split(std::vector<float>{0, 1, 2, 3, 4, 5});
  ember::manual_seed(1);
  std::set<float> firsts;
  for (int i = 0; i < 200; ++i) {
    const ember::data::Batch batch = split.random_batch(1, 4);
    firsts.insert(batch.x.to_vector()[0]);
    const std::vector<float> x = batch.x.to_vector(), y = batch.label.to_vector();
    for (size_t t = 0; t < 4; ++t) EXPECT_EQ(y[t], x[t] + 1);
  }
  EXPECT_EQ(firsts, (std::set<float>{0, 1}));
}

TEST(TextSplit, BatchAtAndErrors) {
  const TextSplit split(std::vector<float>{5, 6, 7, 8, 9});
  const ember::data::Batch batch = split.batch_at({0, 2}, 2);
  EXPECT_EQ(batch.x.to_vector(), (std::vector<float>{5, 6, 7, 8}));
  EXPECT_EQ(batch.label.to_vector(), (std::vector<float>{6, 7, 8, 9}));
  EXPECT_NE(error_of([&] { split.batch_at({3}, 2); }).find("starting at 3"), std::string::npos);
  EXPECT_NE(error_of([&] { split.random_batch(2, 5); }).find("need 6 ids, but the text has 5"), std::string::npos);
  EXPECT_NE(error_of([&] { split.random_batch(0, 2); }).find("at least 1"), std::string::npos);
  EXPECT_NE(error_of([] { TextSplit(std::vector<float>{1, 2.5f}); }).find("not a whole number"), std::string::npos);
  EXPECT_NE(error_of([] { ShakespeareDataset(CharVocab("ab"), TextSplit(std::vector<float>{0, 2}), TextSplit()); })
                .find("id 2 at position 1"),
            std::string::npos);
  EXPECT_NE(error_of([] { ShakespeareDataset("/nonexistent/input.txt"); }).find("cannot open /nonexistent/input.txt"),
            std::string::npos);
}

TEST(ShakespeareDataset, FromTextSplitsLikeNanoGpt) {
  const ShakespeareDataset data = ShakespeareDataset::from_text("abcdefghij");  // 10 characters: 9 and 1
  EXPECT_EQ(data.vocab().size(), 10);
  EXPECT_EQ(data.train().size(), 9);
  EXPECT_EQ(data.val().size(), 1);
  EXPECT_EQ(data.val().ids(), (std::vector<float>{9}));
}

TEST(ShakespeareDataset, FollowsEmberDatasets) {
  ScopedEnv env("EMBER_DATASETS", "/nonexistent-datasets");
  EXPECT_NE(error_of([] { ShakespeareDataset(); }).find("/nonexistent-datasets/tinyshakespeare/input.txt"),
            std::string::npos);
}

TEST(ShakespeareDataset, DeviceErrorsChangeNothing) {
  ShakespeareDataset data = ShakespeareDataset::from_text("abcdefghijklmnopqrst");
  if (ember::cuda::is_available()) GTEST_SKIP() << "a GPU is present: the move succeeds";
  EXPECT_FALSE(error_of([&] { data.to(ember::Device::cuda()); }).empty());
  EXPECT_EQ(data.device(), ember::Device::cpu());
  EXPECT_EQ(data.train().random_batch(2, 3).x.device(), ember::Device::cpu());
}

}  // namespace
