// Grader for question q4: language identification with a recurrent network (7 points).
//   run_output_shapes                       1  run(xs) gives (B, 5) for several B and L
//   loss_is_cross_entropy                   1  get_loss is a finite scalar, the mean CE
//   gradients_reach_characters_and_params   1  backward reaches every xs[t] and parameter
//   test_accuracy                           4  >= 0.81 on the 500 held-out test words
//
// Devices (make grade DEVICE=cuda): the model and the characters and labels given to run and
// get_loss are moved to the grading device (the characters of the gradient check stay CPU
// leaves: their gradients come back through the move), and so is the dataset
// (LanguageIDDataset::to): its splits build every batch of course::BucketLoader, every bucket
// and the inputs of dataset.get_validation_accuracy(*this) there. The test and dev words are
// counted here a bucket at a time, on the grading device.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/lang_id_dataset.h>
#include <ember_course/progress.h>
#include <ember_course/svg_plot.h>
#include <fmt/format.h>

#include "grading.h"
#include "language_id.hpp"

namespace {

using ember::Tensor;
namespace F = ember::nn::functional;
using ember::grading::move_dataset_to_device;
using ember::grading::move_to_device;
using ember::grading::on_device;

constexpr int64_t kChars = 47;
constexpr int64_t kLanguages = 5;
constexpr double kAccuracyThreshold = 0.81;

// L random characters for B words: L one-hot tensors (B, 47). With requires_grad they
// are leaves whose .grad() shows whether the loss depends on that character.
std::vector<Tensor> random_characters(int64_t batch, int64_t length, bool requires_grad = false) {
  std::vector<Tensor> xs;
  for (int64_t t = 0; t < length; ++t) {
    Tensor x = ember::one_hot(ember::randint(0, kChars, {batch}), kChars);  // (B, 47)
    if (requires_grad) x.set_requires_grad(true);
    xs.push_back(x);
  }
  return xs;
}

Tensor random_languages(int64_t batch) {
  return ember::one_hot(ember::randint(0, kLanguages, {batch}), kLanguages);  // (B, 5)
}

bool all_finite(const Tensor& t) {
  for (float v : t.to_vector()) {
    if (!std::isfinite(v)) return false;
  }
  return true;
}

bool any_nonzero(const Tensor& t) {
  for (float v : t.to_vector()) {
    if (v != 0.0f) return true;
  }
  return false;
}

// The fraction of a split's words whose highest score is the right language, a bucket (one
// word length) at a time: LanguageIDDataset::accuracy's count, with each bucket moved to the
// grading device first.
double accuracy_on(q4::LanguageIDModel& model, const ember::course::LanguageIDSplit& split) {
  ember::NoGradGuard no_grad;
  ember::course::EvalModeGuard eval_mode(model);
  int64_t correct = 0;
  for (int64_t b = 0; b < split.num_buckets(); ++b) {
    const ember::data::Batch batch = split.bucket(b).to(ember::grading::device());
    const int64_t count = batch.x.size(0);
    const Tensor scores = model.run(ember::course::split_time_steps(batch.x));  // L x (B, 47) -> (B, 5)
    ember::check(scores.defined() && scores.shape() == ember::Shape{count, kLanguages},
                 "run(xs) returned shape {} for a batch of {} words of {} characters; expected ({}, {})",
                 scores.defined() ? ember::shape_str(scores.shape()) : std::string("(undefined)"), count,
                 batch.x.size(1), count, kLanguages);
    correct += static_cast<int64_t>((scores.argmax(1) == batch.label.argmax(1)).sum().item());
  }
  return static_cast<float>(correct) / static_cast<float>(split.size());  // as the course counts
}

// Which language the trained model gives the test words of each language: counts with the
// true language in rows and the predicted one in columns.
std::string confusion_picture(q4::LanguageIDModel& model,
                              const ember::course::LanguageIDDataset& dataset, double accuracy) {
  namespace svg = ember::course::svg;
  const ember::course::LanguageIDSplit& test = dataset.test();
  const size_t k = dataset.language_names().size();
  std::vector<std::vector<int64_t>> counts(k, std::vector<int64_t>(k, 0));
  ember::NoGradGuard no_grad;
  static_cast<ember::nn::Module&>(model).eval();  // through Module: train(dataset) hides train(bool)
  for (int64_t b = 0; b < test.num_buckets(); ++b) {
    const ember::data::Batch batch = test.bucket(b).to(ember::grading::device());  // x (B, L, 47), label (B, 5)
    const Tensor scores = model.run(ember::course::split_time_steps(batch.x));  // (B, 5)
    const std::vector<float> predicted = scores.argmax(1).to_vector();
    const std::vector<float> truth = batch.label.argmax(1).to_vector();
    for (size_t i = 0; i < predicted.size() && i < truth.size(); ++i) {
      const auto row = static_cast<size_t>(truth[i]), column = static_cast<size_t>(predicted[i]);
      if (row < k && column < k) ++counts[row][column];
    }
  }
  const svg::Heatmap map = svg::confusion_matrix(
      counts, dataset.language_names(),
      fmt::format("q4: languages of the {} test words (accuracy {:.4f})", test.size(), accuracy));
  return map.svg();
}

}  // namespace

GRADED_TEST(q4, run_output_shapes, 1) {
  q4::LanguageIDModel model;
  move_to_device(model);
  ASSERT_FALSE(model.parameters().empty())
      << "LanguageIDModel has no parameters: register its layers with register_module";
  // (batch size, word length): single words and single characters included.
  const std::vector<std::pair<int64_t, int64_t>> cases = {{1, 1}, {2, 3}, {7, 1}, {16, 10}, {5, 6}};
  for (const auto& [batch, length] : cases) {
    Tensor scores = model.run(on_device(random_characters(batch, length)));
    ASSERT_TRUE(scores.defined()) << "run() returned an undefined tensor for B=" << batch
                                  << ", L=" << length;
    const ember::Shape expected{batch, kLanguages};
    ASSERT_EQ(scores.shape(), expected)
        << "run() on " << length << " tensors of shape (" << batch << ", 47) returned shape "
        << ember::shape_str(scores.shape()) << "; expected " << ember::shape_str(expected);
    ASSERT_TRUE(all_finite(scores)) << "run() returned non-finite scores for B=" << batch
                                    << ", L=" << length;
  }
  grade_note("run() gave (B, 5) for (B, L) in (1,1) (2,3) (7,1) (16,10) (5,6)");
}

GRADED_TEST(q4, loss_is_cross_entropy, 1) {
  q4::LanguageIDModel model;
  move_to_device(model);
  std::vector<Tensor> xs = on_device(random_characters(8, 5));
  Tensor y = on_device(random_languages(8));
  Tensor loss = model.get_loss(xs, y);
  ASSERT_TRUE(loss.defined()) << "get_loss returned an undefined tensor";
  ASSERT_EQ(loss.numel(), 1) << "get_loss should return one number (the mean over the batch), "
                             << "got shape " << ember::shape_str(loss.shape());
  const float value = loss.item();
  ASSERT_TRUE(std::isfinite(value) && value > 0.0f)
      << "get_loss returned " << value << "; a cross-entropy is finite and positive";
  // The same loss computed here from the model's own scores.
  const float expected = F::cross_entropy(model.run(xs), y).item();
  grade_note("get_loss {:.5f}, cross_entropy(run(xs), y) {:.5f}", value, expected);
  EXPECT_NEAR(value, expected, 1e-4 * std::max(1.0f, std::fabs(expected)))
      << "get_loss should be the mean cross-entropy of run(xs) against the one-hot y";
}

GRADED_TEST(q4, gradients_reach_characters_and_params, 1) {
  q4::LanguageIDModel model;
  move_to_device(model);
  const int64_t batch = 8, length = 6;
  // Leaves on the CPU; on a GPU, their gradients come back through on_device's copy.
  std::vector<Tensor> xs = random_characters(batch, length, /*requires_grad=*/true);
  Tensor loss = model.get_loss(on_device(xs), on_device(random_languages(batch)));
  ASSERT_TRUE(loss.requires_grad())
      << "the loss does not depend on anything that requires grad: are the layers registered "
         "parameters, and is the graph kept (no detach, no NoGradGuard)?";
  loss.backward();
  for (int64_t t = 0; t < length; ++t) {
    const Tensor grad = xs[static_cast<size_t>(t)].grad();
    ASSERT_TRUE(grad.defined() && any_nonzero(grad))
        << "no gradient reached character " << t << " of " << length
        << ": every character must influence the scores (fold each xs[t] into the hidden state)";
  }
  int64_t with_grad = 0;
  for (const auto& [name, parameter] : model.named_parameters()) {
    EXPECT_TRUE(parameter.grad().defined())
        << "parameter '" << name << "' got no gradient: is it used in run()?";
    if (parameter.grad().defined()) ++with_grad;
  }
  grade_note("gradients reached all {} characters and {} of {} parameters", length, with_grad,
             model.named_parameters().size());
}

GRADED_TEST(q4, test_accuracy, 4) {
  q4::LanguageIDModel model;  // first, so that an unfinished constructor fails at once
  move_to_device(model);
  ember::course::LanguageIDDataset dataset;
  move_dataset_to_device(dataset);  // its splits build their batches on the grading device
  ember::course::clear_latest_training_history();  // what train() records, for the curves
  const auto start = std::chrono::steady_clock::now();
  model.train(dataset);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ember::course::TrainingHistory history = ember::course::latest_training_history();
  // Words the model never trained on, a bucket (one word length) at a time.
  const double accuracy = accuracy_on(model, dataset.test());
  const double dev_accuracy = accuracy_on(model, dataset.dev());
  grade_note("test accuracy {:.4f} on {} words (threshold {}); dev accuracy {:.4f}; training took "
             "{:.1f} s",
             accuracy, dataset.test().size(), kAccuracyThreshold, dev_accuracy, seconds);
  EXPECT_GE(accuracy, kAccuracyThreshold)
      << fmt::format("test accuracy {:.4f} is below the threshold {}", accuracy, kAccuracyThreshold);

  // Pictures, when EMBER_PICTURES_DIR asks for them; they never change the points.
  namespace svg = ember::course::svg;
  if (history.empty()) {
    if (svg::pictures_dir()) {
      grade_note("no training curves: train() kept no course::TrainingProgress (see the comment above train())");
    }
  } else {
    const std::string problem = svg::draw_picture("q4", "training_curves", [&] {
      return svg::training_curves(history, "q4: training", kAccuracyThreshold, accuracy);
    });
    if (!problem.empty()) grade_note("{}", problem);
  }
  const std::string problem = svg::draw_picture(
      "q4", "confusion_matrix", [&] { return confusion_picture(model, dataset, accuracy); });
  if (!problem.empty()) grade_note("{}", problem);
}
