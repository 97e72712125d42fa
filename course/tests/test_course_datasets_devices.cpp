// The course datasets on devices: dataset.to(device) for the digits (MnistDigits, q3 and q5),
// language ID (q4), the perceptron's points (q1) and the sine samples (q2).
//
// On the CPU, to(Device::cpu()) must change nothing: the same tensors (no copy), the same
// batches for the same seed, the same accuracies. Without a GPU, to(cuda) must fail with the
// engine's reason and leave the dataset as it was. With a GPU (the tests that need one skip
// themselves with "no CUDA device ..."), every tensor and batch must come on the GPU with the
// same values as on the CPU, and the accuracy helpers must count there.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "ember_course/convolution_dataset.h"
#include "ember_course/digit_dataset.h"
#include "ember_course/lang_id_dataset.h"
#include "ember_course/mnist.h"
#include "ember_course/model_device.h"
#include "ember_course/perceptron_dataset.h"
#include "ember_course/regression_dataset.h"

namespace {

using ember::Device;
using ember::Shape;
using ember::Tensor;
using ember::course::BucketLoader;
using ember::course::DigitClassificationDataset;
using ember::course::DigitConvolutionDataset;
using ember::course::LanguageIDDataset;
using ember::course::LanguageIDSplit;
using ember::course::MnistSplit;
using ember::course::PerceptronDataset;
using ember::course::RegressionDataset;

const Device kCpu = Device::cpu();
const Device kCuda = Device::cuda(0);

// What moving to cuda:0 says here when it cannot work.
const char* kNoCudaMessage =
#ifdef EMBER_HAS_CUDA_BACKEND
    "no CUDA device: cannot use cuda:0";
#else
    "cuda:0: Ember was built without CUDA";
#endif

#define SKIP_WITHOUT_CUDA()                                                                 \
  do {                                                                                      \
    if (!ember::cuda::is_available()) {                                                     \
      GTEST_SKIP() << "no CUDA device: ember::cuda::is_available() is false in this build " \
                      "or on this machine";                                                 \
    }                                                                                       \
  } while (0)

#define SKIP_WITH_CUDA()                                                                          \
  do {                                                                                            \
    if (ember::cuda::is_available()) GTEST_SKIP() << "this machine has a GPU; this test checks " \
                                                     "life without one";                         \
  } while (0)

bool same_values(const Tensor& a, const Tensor& b) {
  return a.shape() == b.shape() && a.contiguous().to_vector() == b.contiguous().to_vector();
}

std::string message_of_move(const std::function<void()>& move) {
  try {
    move();
  } catch (const ember::Error& error) {
    return error.what();
  }
  return "";
}

// ---- digits -----------------------------------------------------------------------------

// A small MNIST in memory that a one-parameter model can read: image i has a 1 in pixel
// d(i) and zeros elsewhere, where d(i) is its digit i % 10 except for every third image
// (i % 3 == 0), which shows (i + 1) % 10 instead. So SliceModel below is right exactly on
// the images with i % 3 != 0.
MnistSplit readable_split(int64_t n) {
  std::vector<float> pixels(static_cast<size_t>(n * 784), 0.0f), labels;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t shown = i % 3 == 0 ? (i + 1) % 10 : i % 10;
    pixels[static_cast<size_t>(i * 784 + shown)] = 1.0f;
    labels.push_back(static_cast<float>(i % 10));
  }
  MnistSplit split;
  split.images = ember::from_vector(pixels, {n, 784});
  split.labels = ember::from_vector(labels, {n});
  split.rows = split.cols = 28;
  return split;
}

// The fraction of the images start, start + 2, ... (< n) of readable_split(n) with i % 3 != 0:
// what SliceModel scores on the validation (start 0) or test (start 1) half.
double readable_fraction(int64_t n, int64_t start) {
  int64_t right = 0, total = 0;
  for (int64_t i = start; i < n; i += 2, ++total) right += i % 3 != 0;
  return static_cast<double>(right) / static_cast<double>(total);
}

// Scores digit d by pixel d, times a parameter of ones: an op that needs x on the device of
// the parameter, so it fails when the accuracy helper hands it inputs elsewhere.
struct SliceModel : ember::nn::Module {
  Tensor scale;
  bool ran_in_training_mode = true;
  SliceModel() { scale = register_parameter("scale", ember::ones({10})); }
  Tensor run(const Tensor& x) {
    ran_in_training_mode = is_training();
    return x.slice(1, 0, 10) * scale;  // (B, 784) -> (B, 10)
  }
  Tensor forward(const Tensor& x) override { return run(x); }
};

// No parameters, scores always made on the CPU: the accuracy must compare them with labels
// that may live elsewhere.
struct HostScores {
  Tensor run(const Tensor& x) { return ember::from_vector(x.slice(1, 0, 10).to_vector(), {x.size(0), 10}); }
  Tensor forward(const Tensor& x) { return run(x); }
};

TEST(CourseDevices, ModelDeviceIsWhereTheParametersAre) {
  SliceModel module;
  EXPECT_EQ(ember::course::model_device(module), std::optional<Device>(kCpu));
  HostScores plain;
  EXPECT_FALSE(ember::course::model_device(plain).has_value());
  struct NoParameters : ember::nn::Module {} empty;
  EXPECT_FALSE(ember::course::model_device(empty).has_value());
  const Tensor x = ember::zeros({2, 3});
  EXPECT_TRUE(ember::course::on_model_device(x, std::nullopt).same_impl(x));
  EXPECT_TRUE(ember::course::on_model_device(x, kCpu).same_impl(x));
}

TEST(CourseDevices, DigitsToCpuChangesNothing) {
  ember::manual_seed(3);
  DigitClassificationDataset dataset(readable_split(40), readable_split(30));
  EXPECT_FALSE(dataset.target_device().has_value());
  SliceModel model;
  const float validation_before = dataset.get_validation_accuracy(model);
  const float test_before = DigitClassificationDataset::accuracy(model, dataset.test_x(), dataset.test_labels(), 4);
  EXPECT_NEAR(validation_before, readable_fraction(30, 0), 1e-6);  // a count that can be wrong
  EXPECT_NEAR(test_before, readable_fraction(30, 1), 1e-6);
  const Tensor train_x = dataset.train_x(), validation_x = dataset.validation_x(), test_labels = dataset.test_labels();
  const ember::data::Example batch_before = dataset.get_batch({7, 0, 39});
  ember::manual_seed(9);
  const ember::data::Batch first_before = *ember::data::DataLoader(dataset, 8, /*shuffle=*/true).begin();

  EXPECT_EQ(&dataset.to(kCpu), &dataset);
  EXPECT_EQ(dataset.target_device(), std::optional<Device>(kCpu));
  EXPECT_EQ(dataset.device(), kCpu);
  // No copies: the dataset holds the very same tensors.
  EXPECT_TRUE(dataset.train_x().same_impl(train_x));
  EXPECT_TRUE(dataset.validation_x().same_impl(validation_x));
  EXPECT_TRUE(dataset.test_labels().same_impl(test_labels));
  // The same batches and the same counts.
  const ember::data::Example batch_after = dataset.get_batch({7, 0, 39});
  EXPECT_TRUE(same_values(batch_after.x, batch_before.x));
  EXPECT_TRUE(same_values(batch_after.label, batch_before.label));
  EXPECT_EQ(batch_after.x.device(), kCpu);
  ember::manual_seed(9);
  const ember::data::Batch first_after = *ember::data::DataLoader(dataset, 8, /*shuffle=*/true).begin();
  EXPECT_TRUE(same_values(first_after.x, first_before.x));
  EXPECT_TRUE(same_values(first_after.label, first_before.label));
  EXPECT_EQ(dataset.get_validation_accuracy(model), validation_before);
  EXPECT_EQ(DigitClassificationDataset::accuracy(model, dataset.test_x(), dataset.test_labels(), 4), test_before);
  EXPECT_FALSE(model.ran_in_training_mode);
}

TEST(CourseDevices, ConvolutionDigitsToCpuChangesNothing) {
  DigitConvolutionDataset dataset(readable_split(40), readable_split(30), /*training_images=*/25);
  SliceModel model;
  const float before = dataset.get_validation_accuracy(model);
  EXPECT_NEAR(before, readable_fraction(30, 0), 1e-6);
  const Tensor train_y = dataset.train_y();
  dataset.to(kCpu);
  EXPECT_EQ(dataset.device(), kCpu);
  EXPECT_TRUE(dataset.train_y().same_impl(train_y));
  EXPECT_EQ(dataset.size(), 25);
  EXPECT_EQ(dataset.get_validation_accuracy(model), before);
}

TEST(CourseDevices, DigitsWithoutAGpuRefuseCudaAndStayAsTheyWere) {
  SKIP_WITH_CUDA();
  DigitClassificationDataset dataset(readable_split(20), readable_split(10));
  const Tensor train_x = dataset.train_x();
  const std::string message = message_of_move([&] { dataset.to(kCuda); });
  EXPECT_NE(message.find(kNoCudaMessage), std::string::npos) << message;
  EXPECT_FALSE(dataset.target_device().has_value());
  EXPECT_EQ(dataset.device(), kCpu);
  EXPECT_TRUE(dataset.train_x().same_impl(train_x));
  EXPECT_EQ(dataset.get_batch({1, 2}).x.device(), kCpu);
}

TEST(CourseDevices, DigitsOnCuda) {
  SKIP_WITHOUT_CUDA();
  ember::manual_seed(3);
  const DigitClassificationDataset on_cpu(readable_split(40), readable_split(30));
  DigitClassificationDataset dataset(readable_split(40), readable_split(30));
  EXPECT_EQ(&dataset.to(kCuda), &dataset);
  EXPECT_EQ(dataset.device(), kCuda);
  EXPECT_EQ(dataset.target_device(), std::optional<Device>(kCuda));
  for (const Tensor* t : {&dataset.train_x(), &dataset.train_y(), &dataset.train_labels(), &dataset.validation_x(),
                          &dataset.validation_labels(), &dataset.test_x(), &dataset.test_labels()}) {
    EXPECT_EQ(t->device(), kCuda);
  }
  EXPECT_TRUE(same_values(dataset.test_x(), on_cpu.test_x()));
  EXPECT_TRUE(same_values(dataset.validation_labels(), on_cpu.validation_labels()));

  // get, get_batch and the DataLoader's batches: on the GPU, with the CPU's values.
  const ember::data::Example example = dataset.get(5);
  EXPECT_EQ(example.x.device(), kCuda);
  EXPECT_TRUE(same_values(example.label, on_cpu.get(5).label));
  const ember::data::Example batch = dataset.get_batch({7, 0, 39});
  EXPECT_EQ(batch.x.device(), kCuda);
  EXPECT_EQ(batch.label.device(), kCuda);
  EXPECT_TRUE(same_values(batch.x, on_cpu.get_batch({7, 0, 39}).x));
  EXPECT_TRUE(same_values(batch.label, on_cpu.get_batch({7, 0, 39}).label));
  EXPECT_THROW(dataset.get_batch({40}), ember::Error);
  ember::manual_seed(9);
  const ember::data::Batch first_cpu = *ember::data::DataLoader(on_cpu, 8, /*shuffle=*/true).begin();
  ember::manual_seed(9);
  const ember::data::Batch first_gpu = *ember::data::DataLoader(dataset, 8, /*shuffle=*/true).begin();
  EXPECT_EQ(first_gpu.x.device(), kCuda);
  EXPECT_EQ(first_gpu.label.device(), kCuda);
  EXPECT_TRUE(same_values(first_gpu.x, first_cpu.x));
  EXPECT_TRUE(same_values(first_gpu.label, first_cpu.label));

  // Accuracies: a model on the GPU (whose op refuses CPU inputs) gets GPU images.
  SliceModel model;
  model.to(kCuda);
  EXPECT_NEAR(dataset.get_validation_accuracy(model), readable_fraction(30, 0), 1e-6);
  EXPECT_NEAR(DigitClassificationDataset::accuracy(model, dataset.test_x(), dataset.test_labels(), 4),
              readable_fraction(30, 1), 1e-6);
  EXPECT_EQ(model.scale.device(), kCuda) << "the accuracy must not move the model";
  // The same model with the CPU dataset's images: they are handed to it on the GPU.
  EXPECT_NEAR(on_cpu.get_validation_accuracy(model), readable_fraction(30, 0), 1e-6);
  // A model on the CPU with the GPU dataset: images come back to it; it is not moved.
  SliceModel host_model;
  EXPECT_NEAR(dataset.get_validation_accuracy(host_model), readable_fraction(30, 0), 1e-6);
  EXPECT_EQ(host_model.scale.device(), kCpu);
  // Scores made on the CPU by a model without parameters are compared with GPU labels.
  HostScores plain;
  EXPECT_NEAR(dataset.get_validation_accuracy(plain), readable_fraction(30, 0), 1e-6);

  // Back to the CPU.
  dataset.to(kCpu);
  EXPECT_EQ(dataset.test_x().device(), kCpu);
  EXPECT_EQ(dataset.get_batch({1}).x.device(), kCpu);
}

TEST(CourseDevices, ConvolutionDigitsOnCudaUseForward) {
  SKIP_WITHOUT_CUDA();
  DigitConvolutionDataset dataset(readable_split(40), readable_split(30), /*training_images=*/25);
  dataset.to(kCuda);
  EXPECT_EQ(dataset.train_x().device(), kCuda);
  EXPECT_EQ(dataset.size(), 25);
  SliceModel model;
  model.to(kCuda);
  EXPECT_NEAR(dataset.get_validation_accuracy(model), readable_fraction(30, 0), 1e-6);
  EXPECT_NEAR(DigitConvolutionDataset::accuracy(model, dataset.test_x(), dataset.test_labels()),
              readable_fraction(30, 1), 1e-6);
  ember::data::DataLoader loader(dataset, 10);
  int64_t batches = 0;
  for (const ember::data::Batch& batch : loader) {
    EXPECT_EQ(batch.x.device(), kCuda);
    ++batches;
  }
  EXPECT_EQ(batches, 3);
}

TEST(CourseDevices, DigitsFromSplitsOnTwoDevicesAreRefused) {
  SKIP_WITHOUT_CUDA();
  MnistSplit t10k = readable_split(10);
  t10k.images = t10k.images.to(kCuda);
  try {
    DigitClassificationDataset dataset(readable_split(20), t10k);
    FAIL() << "expected ember::Error";
  } catch (const ember::Error& error) {
    EXPECT_NE(std::string(error.what()).find("must be on one device"), std::string::npos) << error.what();
  }
  // All on the GPU is fine, and the dataset starts there.
  MnistSplit train = readable_split(20);
  train.images = train.images.to(kCuda);
  train.labels = train.labels.to(kCuda);
  t10k.labels = t10k.labels.to(kCuda);
  const DigitConvolutionDataset dataset(train, t10k, 12);
  EXPECT_EQ(dataset.device(), kCuda);
  EXPECT_EQ(dataset.test_labels().device(), kCuda);
  EXPECT_EQ(dataset.get_batch({0, 11}).x.device(), kCuda);
}

// ---- language ID ------------------------------------------------------------------------

// Always answers "Spanish", through a parameter: run needs its inputs on the parameter's device.
struct SpanishModel : ember::nn::Module {
  Tensor bias;
  SpanishModel() { bias = register_parameter("bias", ember::from_vector({0, 1, 0, 0, 0}, {5})); }
  Tensor run(const std::vector<Tensor>& xs) {
    return xs.at(0).slice(1, 0, 5) * 0.0f + bias;  // (B, 47) -> (B, 5)
  }
};

std::vector<Tensor> first_batches(const LanguageIDSplit& split, uint64_t seed, size_t count) {
  ember::manual_seed(seed);
  BucketLoader loader(split, 32, /*shuffle=*/true);
  std::vector<Tensor> out;
  for (const ember::data::Batch& batch : loader) {
    out.push_back(batch.x);
    out.push_back(batch.label);
    if (out.size() == 2 * count) break;
  }
  return out;
}

TEST(CourseDevices, LanguageIDToCpuChangesNothing) {
  LanguageIDDataset dataset;
  SpanishModel model;
  const float before = dataset.get_validation_accuracy(model);
  EXPECT_FLOAT_EQ(before, 0.2f);  // 100 of the 500 dev words are Spanish
  const std::vector<Tensor> batches_before = first_batches(dataset.train(), 4, 3);
  const ember::data::Example bucket_before = dataset.test().bucket(2);

  EXPECT_EQ(&dataset.to(kCpu), &dataset);
  EXPECT_EQ(dataset.device(), kCpu);
  for (const LanguageIDSplit* split : {&dataset.train(), &dataset.dev(), &dataset.test()}) {
    EXPECT_EQ(split->target_device(), std::optional<Device>(kCpu));
  }
  const std::vector<Tensor> batches_after = first_batches(dataset.train(), 4, 3);
  ASSERT_EQ(batches_after.size(), batches_before.size());
  for (size_t k = 0; k < batches_after.size(); ++k) {
    EXPECT_EQ(batches_after[k].device(), kCpu);
    EXPECT_TRUE(same_values(batches_after[k], batches_before[k])) << k;
  }
  const ember::data::Example bucket_after = dataset.test().bucket(2);
  EXPECT_TRUE(same_values(bucket_after.x, bucket_before.x));
  EXPECT_TRUE(same_values(bucket_after.label, bucket_before.label));
  EXPECT_EQ(dataset.get_validation_accuracy(model), before);
}

TEST(CourseDevices, LanguageIDWithoutAGpuRefusesCudaAndStaysAsItWas) {
  SKIP_WITH_CUDA();
  LanguageIDDataset dataset;
  const std::string message = message_of_move([&] { dataset.to(kCuda); });
  EXPECT_NE(message.find(kNoCudaMessage), std::string::npos) << message;
  EXPECT_EQ(dataset.device(), kCpu);
  for (const LanguageIDSplit* split : {&dataset.train(), &dataset.dev(), &dataset.test()}) {
    EXPECT_FALSE(split->target_device().has_value());
  }
  EXPECT_EQ(dataset.dev().bucket(0).x.device(), kCpu);
}

TEST(CourseDevices, LanguageIDOnCuda) {
  SKIP_WITHOUT_CUDA();
  const LanguageIDDataset on_cpu;
  LanguageIDDataset dataset;
  EXPECT_EQ(&dataset.to(kCuda), &dataset);
  EXPECT_EQ(dataset.device(), kCuda);
  for (const LanguageIDSplit* split : {&dataset.train(), &dataset.dev(), &dataset.test()}) {
    EXPECT_EQ(split->device(), kCuda);
    const ember::data::Example bucket = split->bucket(0);
    EXPECT_EQ(bucket.x.device(), kCuda);
    EXPECT_EQ(bucket.label.device(), kCuda);
  }
  // BucketLoader's batches: on the GPU, the same words as on the CPU for the same seed.
  const std::vector<Tensor> gpu = first_batches(dataset.train(), 4, 3), cpu = first_batches(on_cpu.train(), 4, 3);
  ASSERT_EQ(gpu.size(), cpu.size());
  for (size_t k = 0; k < gpu.size(); ++k) {
    EXPECT_EQ(gpu[k].device(), kCuda) << k;
    EXPECT_TRUE(same_values(gpu[k], cpu[k])) << k;
  }
  const ember::data::Example word = dataset.dev().get(3);
  EXPECT_EQ(word.x.device(), kCuda);
  EXPECT_TRUE(same_values(word.x, on_cpu.dev().get(3).x));
  EXPECT_TRUE(same_values(dataset.test().get_batch({0, 1}).label, on_cpu.test().get_batch({0, 1}).label));

  // Accuracy: counted on the GPU for a GPU model; a CPU dataset's buckets go to the model.
  SpanishModel model;
  model.to(kCuda);
  EXPECT_FLOAT_EQ(dataset.get_validation_accuracy(model), 0.2f);
  EXPECT_FLOAT_EQ(LanguageIDDataset::accuracy(model, dataset.test()), 0.2f);
  EXPECT_FLOAT_EQ(on_cpu.get_validation_accuracy(model), 0.2f);
  EXPECT_EQ(model.bias.device(), kCuda);
  SpanishModel host_model;
  EXPECT_FLOAT_EQ(dataset.get_validation_accuracy(host_model), 0.2f);
  EXPECT_EQ(host_model.bias.device(), kCpu);
}

// ---- the perceptron's points and the sine samples (data::TensorDataset) -------------------

TEST(CourseDevices, PerceptronAndRegressionToCpuChangeNothing) {
  ember::manual_seed(1);
  PerceptronDataset points;
  RegressionDataset samples;
  const Tensor x = points.x(), y = samples.y();
  ember::manual_seed(2);
  const ember::data::Batch before = *ember::data::DataLoader(samples, 20, /*shuffle=*/true).begin();
  EXPECT_EQ(&points.to(kCpu), &points);
  samples.to(kCpu);
  EXPECT_TRUE(points.x().same_impl(x));
  EXPECT_TRUE(samples.y().same_impl(y));
  EXPECT_EQ(points.dimensions(), 3);
  ember::manual_seed(2);
  const ember::data::Batch after = *ember::data::DataLoader(samples, 20, /*shuffle=*/true).begin();
  EXPECT_TRUE(same_values(after.x, before.x));
  EXPECT_TRUE(same_values(after.label, before.label));
}

TEST(CourseDevices, PerceptronAndRegressionOnCuda) {
  SKIP_WITHOUT_CUDA();
  ember::manual_seed(1);
  const PerceptronDataset points_cpu;
  ember::manual_seed(1);
  PerceptronDataset points;
  points.to(kCuda);
  EXPECT_EQ(points.x().device(), kCuda);
  EXPECT_EQ(points.labels().device(), kCuda);
  EXPECT_EQ(points.dimensions(), 3);
  EXPECT_TRUE(same_values(points.x(), points_cpu.x()));
  ember::manual_seed(2);
  const ember::data::Batch point = *ember::data::DataLoader(points, 1, /*shuffle=*/true).begin();
  ember::manual_seed(2);
  const ember::data::Batch point_cpu = *ember::data::DataLoader(points_cpu, 1, /*shuffle=*/true).begin();
  EXPECT_EQ(point.x.device(), kCuda);
  EXPECT_EQ(point.x.shape(), (Shape{1, 3}));
  EXPECT_TRUE(same_values(point.x, point_cpu.x));
  EXPECT_TRUE(same_values(point.label, point_cpu.label));
  // Given points already on the GPU stay there.
  const PerceptronDataset given(points.x(), points.labels());
  EXPECT_EQ(given.x().device(), kCuda);

  const RegressionDataset samples_cpu;
  RegressionDataset samples;
  samples.to(kCuda);
  EXPECT_EQ(samples.x().device(), kCuda);
  EXPECT_EQ(samples.y().device(), kCuda);
  EXPECT_TRUE(same_values(samples.y(), samples_cpu.y()));
  for (const ember::data::Batch& batch : ember::data::DataLoader(samples, 50)) {
    EXPECT_EQ(batch.x.device(), kCuda);
    EXPECT_EQ(batch.label.device(), kCuda);
  }
}

}  // namespace
