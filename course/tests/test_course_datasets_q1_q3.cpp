// Tests for the datasets of lessons q1-q3: the perceptron's separable points, the sine
// samples of the regression, MNIST as tensors (mnist.h) and the digit classification splits.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "ember_course/data_paths.h"
#include "ember_course/digit_dataset.h"
#include "ember_course/mnist.h"
#include "ember_course/perceptron_dataset.h"
#include "ember_course/regression_dataset.h"

namespace {

using ember::Shape;
using ember::Tensor;
using ember::course::DigitClassificationDataset;
using ember::course::MnistSplit;
using ember::course::PerceptronDataset;
using ember::course::RegressionDataset;

constexpr double kPi = 3.14159265358979323846;

// ---- the perceptron's points ----------------------------------------------------------------

TEST(PerceptronDataset, ShapesAndValues) {
  ember::manual_seed(0);
  const PerceptronDataset dataset;
  ASSERT_EQ(dataset.size(), 500);
  EXPECT_EQ(dataset.dimensions(), 3);
  EXPECT_EQ(dataset.x().shape(), (Shape{500, 3}));
  EXPECT_EQ(dataset.labels().shape(), (Shape{500, 1}));
  const std::vector<float> x = dataset.x().to_vector(), labels = dataset.labels().to_vector();
  int positives = 0;
  for (int64_t i = 0; i < 500; ++i) {
    EXPECT_GE(x[i * 3], -1.0f);
    EXPECT_LE(x[i * 3], 1.0f);
    EXPECT_GE(x[i * 3 + 1], -1.0f);
    EXPECT_LE(x[i * 3 + 1], 1.0f);
    EXPECT_EQ(x[i * 3 + 2], 1.0f) << "the third feature is the constant 1";
    EXPECT_TRUE(labels[i] == 1.0f || labels[i] == -1.0f) << labels[i];
    positives += labels[i] > 0;
  }
  // The line stays well inside the square, so both sides have plenty of points.
  EXPECT_GT(positives, 50);
  EXPECT_LT(positives, 450);
}

// A plain perceptron on the host must converge: the points are separable with a margin.
TEST(PerceptronDataset, LinearlySeparableForEverySeed) {
  for (uint64_t seed = 0; seed < 20; ++seed) {
    ember::manual_seed(seed);
    const PerceptronDataset dataset;
    const std::vector<float> x = dataset.x().to_vector(), labels = dataset.labels().to_vector();
    double w[3] = {0, 0, 0};
    int passes = 0;
    for (bool mistake = true; mistake && passes < 10000; ++passes) {
      mistake = false;
      for (int64_t i = 0; i < dataset.size(); ++i) {
        const double score = w[0] * x[i * 3] + w[1] * x[i * 3 + 1] + w[2] * x[i * 3 + 2];
        if ((score >= 0 ? 1.0 : -1.0) != labels[i]) {
          for (int j = 0; j < 3; ++j) w[j] += labels[i] * x[i * 3 + j];
          mistake = true;
        }
      }
    }
    EXPECT_LT(passes, 10000) << "seed " << seed << ": the points are not separable";
  }
}

TEST(PerceptronDataset, SameSeedSamePoints) {
  ember::manual_seed(5);
  const PerceptronDataset a;
  ember::manual_seed(5);
  const PerceptronDataset b;
  ember::manual_seed(6);
  const PerceptronDataset c;
  EXPECT_EQ(a.x().to_vector(), b.x().to_vector());
  EXPECT_EQ(a.labels().to_vector(), b.labels().to_vector());
  EXPECT_NE(a.x().to_vector(), c.x().to_vector());
}

TEST(PerceptronDataset, OtherSizes) {
  ember::manual_seed(0);
  const PerceptronDataset one(1);
  EXPECT_EQ(one.x().shape(), (Shape{1, 3}));
  const PerceptronDataset many(2000);
  EXPECT_EQ(many.labels().shape(), (Shape{2000, 1}));
  EXPECT_THROW(PerceptronDataset(0), ember::Error);
}

TEST(PerceptronDataset, BatchesOfOneVisitEveryPointOncePerPass) {
  ember::manual_seed(1);
  const PerceptronDataset dataset(50);
  ember::data::DataLoader loader(dataset, 1, /*shuffle=*/true);
  const std::vector<float> x = dataset.x().to_vector();
  for (int pass = 0; pass < 3; ++pass) {
    std::multiset<std::vector<float>> seen;
    int64_t batches = 0;
    for (const ember::data::Batch& batch : loader) {
      ASSERT_EQ(batch.x.shape(), (Shape{1, 3}));
      ASSERT_EQ(batch.label.shape(), (Shape{1, 1}));
      seen.insert(batch.x.to_vector());
      ++batches;
    }
    EXPECT_EQ(batches, 50);
    std::multiset<std::vector<float>> all;
    for (int64_t i = 0; i < 50; ++i) all.insert(std::vector<float>(x.begin() + i * 3, x.begin() + i * 3 + 3));
    EXPECT_EQ(seen, all) << "pass " << pass;
  }
}

TEST(PerceptronDataset, GivenPoints) {
  Tensor x = ember::tensor({{1, 2}, {3, 4}});
  const PerceptronDataset dataset(x, ember::tensor({{1}, {-1}}));
  EXPECT_EQ(dataset.size(), 2);
  EXPECT_EQ(dataset.dimensions(), 2);
  x.fill_(0.0f);  // the dataset keeps its own copy
  EXPECT_EQ(dataset.x().to_vector(), (std::vector<float>{1, 2, 3, 4}));
  EXPECT_THROW(PerceptronDataset(ember::tensor({{1, 2}}), ember::tensor({{0.5f}})), ember::Error);
  EXPECT_THROW(PerceptronDataset(ember::tensor({{1, 2}}), ember::tensor({1.0f})), ember::Error);
  EXPECT_THROW(PerceptronDataset(ember::tensor({1.0f, 2.0f}), ember::tensor({{1.0f}, {1.0f}})), ember::Error);
  EXPECT_THROW(PerceptronDataset(ember::tensor({{1, 2}}), ember::tensor({{1}, {1}})), ember::Error);
}

// ---- the regression's sine samples ----------------------------------------------------------

TEST(RegressionDataset, GridOfSines) {
  const RegressionDataset dataset;
  ASSERT_EQ(dataset.size(), 200);
  EXPECT_EQ(dataset.x().shape(), (Shape{200, 1}));
  EXPECT_EQ(dataset.y().shape(), (Shape{200, 1}));
  const std::vector<float> x = dataset.x().to_vector(), y = dataset.y().to_vector();
  for (size_t i = 0; i < x.size(); ++i) EXPECT_NEAR(y[i], std::sin(static_cast<double>(x[i])), 1e-6);
  std::vector<float> sorted = x;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 200; ++i) {
    EXPECT_NEAR(sorted[i], -2 * kPi + 4 * kPi * static_cast<double>(i) / 199.0, 1e-5);
  }
  EXPECT_NE(sorted, x) << "the points should be in a shuffled order";
}

TEST(RegressionDataset, SameWhateverTheSeedAndLeavesTheGeneratorAlone) {
  ember::manual_seed(0);
  const RegressionDataset a;
  ember::manual_seed(123);
  const ember::GeneratorState before = ember::generator_state();
  const RegressionDataset b;
  const ember::GeneratorState after = ember::generator_state();
  EXPECT_EQ(a.x().to_vector(), b.x().to_vector());
  EXPECT_EQ(a.y().to_vector(), b.y().to_vector());
  EXPECT_EQ(before.seed, after.seed);
  EXPECT_EQ(before.offset, after.offset);
}

TEST(RegressionDataset, BatchesAndSizes) {
  const RegressionDataset dataset;
  ember::data::DataLoader loader(dataset, 20, /*shuffle=*/true);
  int64_t batches = 0;
  double sum_x = 0;
  for (const ember::data::Batch& batch : loader) {
    EXPECT_EQ(batch.x.shape(), (Shape{20, 1}));
    EXPECT_EQ(batch.label.shape(), (Shape{20, 1}));
    sum_x += batch.x.sum().item();
    ++batches;
  }
  EXPECT_EQ(batches, 10);
  EXPECT_NEAR(sum_x, 0.0, 1e-3) << "the grid is symmetric about 0, and each pass sees all of it";
  EXPECT_EQ(RegressionDataset(2).x().shape(), (Shape{2, 1}));
  EXPECT_THROW(RegressionDataset(1), ember::Error);
}

// ---- MNIST as tensors -------------------------------------------------------------------------

TEST(Mnist, TestSplit) {
  const MnistSplit test = ember::course::load_mnist_test();
  ASSERT_EQ(test.size(), 10000);
  EXPECT_EQ(test.images.shape(), (Shape{10000, 784}));
  EXPECT_EQ(test.labels.shape(), (Shape{10000}));
  EXPECT_EQ(test.rows, 28);
  EXPECT_EQ(test.cols, 28);
  EXPECT_GE(test.images.min().item(), 0.0f);
  EXPECT_EQ(test.images.max().item(), 1.0f);
  const std::vector<float> labels = test.labels.to_vector();
  for (float label : labels) ASSERT_TRUE(label >= 0 && label <= 9 && label == std::floor(label)) << label;
  // The first t10k digits are well known: 7, 2, 1, 0, 4.
  EXPECT_EQ(std::vector<float>(labels.begin(), labels.begin() + 5), (std::vector<float>{7, 2, 1, 0, 4}));
}

TEST(Mnist, EveryOtherRow) {
  MnistSplit split;
  split.images = ember::arange(0.0f, 10.0f).view({5, 2});  // rows (0, 1), (2, 3), ... (8, 9)
  split.labels = ember::tensor({0.0f, 1.0f, 2.0f, 3.0f, 4.0f});
  split.rows = 1;
  split.cols = 2;
  const MnistSplit even = ember::course::mnist_every(split, 0, 2);
  const MnistSplit odd = ember::course::mnist_every(split, 1, 2);
  EXPECT_EQ(even.labels.to_vector(), (std::vector<float>{0, 2, 4}));
  EXPECT_EQ(even.images.to_vector(), (std::vector<float>{0, 1, 4, 5, 8, 9}));
  EXPECT_EQ(odd.labels.to_vector(), (std::vector<float>{1, 3}));
  EXPECT_EQ(odd.images.to_vector(), (std::vector<float>{2, 3, 6, 7}));
  EXPECT_EQ(odd.rows, 1);
  EXPECT_EQ(odd.cols, 2);
  EXPECT_THROW(ember::course::mnist_every(split, 5, 2), ember::Error);
  EXPECT_THROW(ember::course::mnist_every(split, 0, 0), ember::Error);
}

TEST(Mnist, FileProblemsNameTheFiles) {
  const std::string images = ember::course::dataset_path("mnist/t10k-images-idx3-ubyte.gz");
  const std::string train_labels = ember::course::dataset_path("mnist/train-labels-idx1-ubyte.gz");
  try {
    ember::course::load_mnist(images, train_labels);
    FAIL() << "10,000 images with 60,000 labels should throw";
  } catch (const ember::Error& error) {
    EXPECT_NE(std::string(error.what()).find("t10k-images"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find("train-labels"), std::string::npos) << error.what();
  }
  try {
    ember::course::load_mnist("/nonexistent/images.gz", train_labels);
    FAIL() << "a missing file should throw";
  } catch (const ember::Error& error) {
    EXPECT_NE(std::string(error.what()).find("/nonexistent/images.gz"), std::string::npos) << error.what();
  }
}

// ---- the digit classification splits -----------------------------------------------------

// A small fake MNIST: image i is filled with the value i / 100, its digit is i % 10.
MnistSplit fake_split(int64_t n) {
  std::vector<float> pixels, labels;
  for (int64_t i = 0; i < n; ++i) {
    pixels.insert(pixels.end(), 784, static_cast<float>(i) / 100.0f);
    labels.push_back(static_cast<float>(i % 10));
  }
  MnistSplit split;
  split.images = ember::from_vector(pixels, {n, 784});
  split.labels = ember::from_vector(labels, {n});
  split.rows = split.cols = 28;
  return split;
}

TEST(DigitClassificationDataset, SplitsFromGivenData) {
  const DigitClassificationDataset dataset(fake_split(30), fake_split(11));
  EXPECT_EQ(dataset.size(), 30);
  EXPECT_EQ(dataset.train_x().shape(), (Shape{30, 784}));
  EXPECT_EQ(dataset.train_y().shape(), (Shape{30, 10}));
  EXPECT_EQ(dataset.validation_labels().to_vector(), (std::vector<float>{0, 2, 4, 6, 8, 0}));
  EXPECT_EQ(dataset.test_labels().to_vector(), (std::vector<float>{1, 3, 5, 7, 9}));
  EXPECT_FLOAT_EQ(dataset.test_x().at({0, 0}), 0.01f);       // t10k image 1
  EXPECT_FLOAT_EQ(dataset.validation_x().at({1, 5}), 0.02f);  // t10k image 2

  const ember::data::Example example = dataset.get(13);
  EXPECT_EQ(example.x.shape(), (Shape{784}));
  EXPECT_EQ(example.label.shape(), (Shape{10}));
  std::vector<float> expected(10, 0.0f);
  expected[3] = 1.0f;
  EXPECT_EQ(example.label.to_vector(), expected);
  EXPECT_THROW(dataset.get(30), ember::Error);

  const ember::data::Example batch = dataset.get_batch({4, 13, 29});
  EXPECT_EQ(batch.x.shape(), (Shape{3, 784}));
  EXPECT_EQ(batch.label.shape(), (Shape{3, 10}));
  EXPECT_EQ(batch.label.argmax(1).to_vector(), (std::vector<float>{4, 3, 9}));
  EXPECT_FLOAT_EQ(batch.x.at({1, 0}), 0.13f);
  EXPECT_THROW(dataset.get_batch({}), ember::Error);
  EXPECT_THROW(dataset.get_batch({30}), ember::Error);

  MnistSplit wrong = fake_split(5);
  wrong.images = wrong.images.view({5, 28, 28});
  EXPECT_THROW(DigitClassificationDataset(wrong, fake_split(4)), ember::Error);
}

// Predicts digit d for an image filled with d / 100 ... and records the mode it ran in.
struct FixedModel : ember::nn::Module {
  bool ran_in_training_mode = true;
  bool recorded_gradients = true;
  Tensor run(const Tensor& x) {
    ran_in_training_mode = is_training();
    recorded_gradients = ember::grad_enabled();
    // One-hot of (round(pixel * 100) % 10): image i's own digit.
    std::vector<float> logits;
    for (float pixel : x.select(1, 0).to_vector()) {
      std::vector<float> row(10, 0.0f);
      row[static_cast<int64_t>(std::lround(pixel * 100.0f)) % 10] = 1.0f;
      logits.insert(logits.end(), row.begin(), row.end());
    }
    return ember::from_vector(logits, {x.size(0), 10});
  }
};

TEST(DigitClassificationDataset, ValidationAccuracy) {
  const DigitClassificationDataset dataset(fake_split(30), fake_split(2001));
  FixedModel model;
  EXPECT_FLOAT_EQ(dataset.get_validation_accuracy(model), 1.0f);
  EXPECT_FALSE(model.ran_in_training_mode) << "run should see evaluation mode";
  EXPECT_FALSE(model.recorded_gradients) << "run should run without recording gradients";
  EXPECT_TRUE(model.is_training()) << "the model's mode should be put back";
  EXPECT_TRUE(ember::grad_enabled());

  // A model that always says 0: validation holds the even t10k images 0, 2, ..., 2000,
  // whose digits (i % 10) are 0, 2, 4, 6, 8, ..., so 201 of the 1001 are zeros.
  struct Zeros {
    Tensor run(const Tensor& x) { return ember::one_hot(ember::zeros({x.size(0)}), 10); }
  } zeros;
  EXPECT_NEAR(dataset.get_validation_accuracy(zeros), 201.0 / 1001.0, 1e-6);

  struct WrongShape {
    Tensor run(const Tensor& x) { return ember::zeros({x.size(0), 9}); }
  } wrong_shape;
  EXPECT_THROW(dataset.get_validation_accuracy(wrong_shape), ember::Error);
}

TEST(DigitClassificationDataset, RealMnist) {
  const DigitClassificationDataset dataset;
  ASSERT_EQ(dataset.size(), 60000);
  EXPECT_EQ(dataset.train_x().shape(), (Shape{60000, 784}));
  EXPECT_EQ(dataset.validation_x().shape(), (Shape{5000, 784}));
  EXPECT_EQ(dataset.test_x().shape(), (Shape{5000, 784}));
  // One-hot rows agree with the digits.
  EXPECT_EQ(dataset.train_y().argmax(1).to_vector(), dataset.train_labels().to_vector());
  EXPECT_EQ(dataset.train_y().sum(1).to_vector(), std::vector<float>(60000, 1.0f));
  // The first training digits are well known: 5, 0, 4, 1, 9; t10k starts 7, 2, 1, 0, 4.
  const std::vector<float> train = dataset.train_labels().slice(0, 0, 5).to_vector();
  EXPECT_EQ(train, (std::vector<float>{5, 0, 4, 1, 9}));
  EXPECT_EQ(dataset.validation_labels().slice(0, 0, 3).to_vector(), (std::vector<float>{7, 1, 4}));
  EXPECT_EQ(dataset.test_labels().slice(0, 0, 2).to_vector(), (std::vector<float>{2, 0}));
  ember::manual_seed(0);
  ember::data::DataLoader loader(dataset, 100, /*shuffle=*/true);
  EXPECT_EQ(loader.size(), 600);
  const ember::data::Batch batch = *loader.begin();
  EXPECT_EQ(batch.x.shape(), (Shape{100, 784}));
  EXPECT_EQ(batch.label.shape(), (Shape{100, 10}));
}

}  // namespace
