// Grader for question q4: language identification with a recurrent network (7 points).
//   run_output_shapes                       1  run(xs) gives (B, 5) for several B and L
//   loss_is_cross_entropy                   1  get_loss is a finite scalar, the mean CE
//   gradients_reach_characters_and_params   1  backward reaches every xs[t] and parameter
//   test_accuracy                           4  >= 0.81 on the 500 held-out test words
//
// The student's model lives in the runner (runners/q4_language_id.cpp), in the sandbox. train
// gets the training and dev words only; the test words go to the runner after training, a
// bucket at a time, and their languages never leave this checker, which counts the accuracy.
// Devices (make grade DEVICE=cuda): the runner moves the model, its inputs and the dataset
// there.
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
#include <fmt/format.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Tensor;
namespace F = ember::nn::functional;
using ember::grading::RemoteModel;
using ember::grading::Value;

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
double accuracy_on(RemoteModel& model, const ember::course::LanguageIDSplit& split) {
  model.eval();
  int64_t correct = 0;
  for (int64_t b = 0; b < split.num_buckets(); ++b) {
    const ember::data::Example batch = split.bucket(b);
    const int64_t count = batch.x.size(0);
    const Tensor scores = model.evaluate("run", ember::course::split_time_steps(batch.x));  // L x (B, 47) -> (B, 5)
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
std::string confusion_picture(RemoteModel& model, const ember::course::LanguageIDDataset& dataset,
                              double accuracy) {
  namespace svg = ember::course::svg;
  const ember::course::LanguageIDSplit& test = dataset.test();
  const size_t k = dataset.language_names().size();
  std::vector<std::vector<int64_t>> counts(k, std::vector<int64_t>(k, 0));
  model.eval();
  for (int64_t b = 0; b < test.num_buckets(); ++b) {
    const ember::data::Example batch = test.bucket(b);  // x (B, L, 47), label (B, 5)
    const Tensor scores = model.evaluate("run", ember::course::split_time_steps(batch.x));  // (B, 5)
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

Value texts(const std::vector<std::string>& items) {
  std::vector<Value> out;
  for (const std::string& item : items) out.push_back(Value::of(item));
  return Value::list(std::move(out));
}

// A split as the runner reads it: [indices, lengths, labels, [[start, end], ...]].
Value split_value(const ember::course::LangIdSplit& split) {
  std::vector<float> indices, lengths, labels;
  for (const auto& word : split.words) {
    lengths.push_back(static_cast<float>(word.size()));
    for (int index : word) indices.push_back(static_cast<float>(index));
  }
  for (int label : split.labels) labels.push_back(static_cast<float>(label));
  std::vector<Value> buckets;
  for (const auto& [start, end] : split.buckets) buckets.push_back(Value::list({Value::of(start), Value::of(end)}));
  const auto n = [](const std::vector<float>& v) { return static_cast<int64_t>(v.size()); };
  return Value::list({Value::of(ember::from_vector(indices, {n(indices)})),
                      Value::of(ember::from_vector(lengths, {n(lengths)})),
                      Value::of(ember::from_vector(labels, {n(labels)})), Value::list(std::move(buckets))});
}

}  // namespace

GRADED_TEST(q4, run_output_shapes, 1) {
  RemoteModel model("LanguageIDModel");
  GRADE_ASSERT(!(model.named_parameters().empty()))
      << "LanguageIDModel has no parameters: register its layers with register_module";
  // (batch size, word length): single words and single characters included.
  const std::vector<std::pair<int64_t, int64_t>> cases = {{1, 1}, {2, 3}, {7, 1}, {16, 10}, {5, 6}};
  for (const auto& [batch, length] : cases) {
    Tensor scores = model.call("run", random_characters(batch, length));
    GRADE_ASSERT(scores.defined()) << "run() returned an undefined tensor for B=" << batch
                                  << ", L=" << length;
    const ember::Shape expected{batch, kLanguages};
    GRADE_ASSERT((scores.shape()) == (expected))
        << "run() on " << length << " tensors of shape (" << batch << ", 47) returned shape "
        << ember::shape_str(scores.shape()) << "; expected " << ember::shape_str(expected);
    GRADE_ASSERT(all_finite(scores)) << "run() returned non-finite scores for B=" << batch
                                    << ", L=" << length;
  }
  grade_note("run() gave (B, 5) for (B, L) in (1,1) (2,3) (7,1) (16,10) (5,6)");
}

GRADED_TEST(q4, loss_is_cross_entropy, 1) {
  RemoteModel model("LanguageIDModel");
  std::vector<Tensor> xs = random_characters(8, 5);
  Tensor y = random_languages(8);
  Tensor loss = model.call("get_loss", xs, y);
  GRADE_ASSERT(loss.defined()) << "get_loss returned an undefined tensor";
  GRADE_ASSERT((loss.numel()) == (1)) << "get_loss should return one number (the mean over the batch), "
                             << "got shape " << ember::shape_str(loss.shape());
  const float value = loss.item();
  GRADE_ASSERT(std::isfinite(value) && value > 0.0f)
      << "get_loss returned " << value << "; a cross-entropy is finite and positive";
  // The same loss computed here from the model's own scores.
  const Tensor scores = model.call("run", xs);
  GRADE_ASSERT(scores.defined() && scores.shape() == (ember::Shape{8, kLanguages})) << "run(xs) should give (8, 5)";
  const float expected = F::cross_entropy(scores, y).item();
  grade_note("get_loss {:.5f}, cross_entropy(run(xs), y) {:.5f}", value, expected);
  GRADE_EXPECT(std::fabs(static_cast<double>(value) - static_cast<double>(expected)) <= (1e-4 * std::max(1.0f, std::fabs(expected))))
      << "get_loss should be the mean cross-entropy of run(xs) against the one-hot y";
}

GRADED_TEST(q4, gradients_reach_characters_and_params, 1) {
  RemoteModel model("LanguageIDModel");
  const int64_t batch = 8, length = 6;
  // The characters go as leaves that require grad; their gradients come back from the runner.
  std::vector<Value> xs;
  for (const Tensor& x : random_characters(batch, length)) xs.push_back(ember::grading::with_grad(x));
  Tensor loss = model.call("get_loss", Value::list(std::move(xs)), random_languages(batch));
  GRADE_ASSERT(loss.defined()) << "get_loss returned an undefined tensor";
  GRADE_ASSERT(loss.requires_grad())
      << "the loss does not depend on anything that requires grad: are the layers registered "
         "parameters, and is the graph kept (no detach, no NoGradGuard)?";
  ember::grading::backward_last_result();
  const std::vector<Tensor> grads = ember::grading::input_gradients();  // xs[0..L-1], then y
  GRADE_ASSERT((grads.size()) >= (static_cast<size_t>(length))) << "the runner lost track of the characters";
  // Which characters the scores depend on: only the last one is the classic broken recurrence.
  int64_t reached = 0;
  for (int64_t t = 0; t < length; ++t) {
    const Tensor& grad = grads[static_cast<size_t>(t)];
    if (grad.defined() && any_nonzero(grad)) ++reached;
  }
  const Tensor& last = grads[static_cast<size_t>(length - 1)];
  if (reached == 1 && last.defined() && any_nonzero(last)) {
    ember::grading::diagnose("only the last character reaches the scores: run() must carry the hidden state from "
                             "one character to the next (h = f(x_t W + h W_hidden)) and score the final h",
                             "q4_language_id.md", "The recurrence");
  } else if (reached == 0) {
    ember::grading::diagnose("no character reaches the scores: does run() use xs at all, and keep the graph (no "
                             "detach, no NoGradGuard, no to_vector)?",
                             "q4_language_id.md", "The recurrence");
  }
  for (int64_t t = 0; t < length; ++t) {
    const Tensor& grad = grads[static_cast<size_t>(t)];
    GRADE_ASSERT(grad.defined() && any_nonzero(grad))
        << "no gradient reached character " << t << " of " << length
        << ": every character must influence the scores (fold each xs[t] into the hidden state)";
  }
  int64_t with_grad = 0;
  const auto gradients = model.named_gradients();
  for (const auto& [name, grad] : gradients) {
    GRADE_EXPECT(grad.defined()) << "parameter '" << name << "' got no gradient: is it used in run()?";
    if (grad.defined()) ++with_grad;
  }
  grade_note("gradients reached all {} characters and {} of {} parameters", length, with_grad, gradients.size());
}

GRADED_TEST(q4, test_accuracy, 4) {
  RemoteModel model("LanguageIDModel");  // first, so that an unfinished constructor fails at once
  // Read here; the runner gets the training and dev words only.
  ember::grading::verify_datasets({"lang_id/alphabet.txt", "lang_id/languages.txt", "lang_id/buckets.tsv",
                                   "lang_id/train.tsv", "lang_id/dev.tsv", "lang_id/test.tsv"});
  ember::course::LangIdData data = ember::course::read_lang_id(ember::course::dataset_path("lang_id"));
  ember::grading::clear_training_history();  // what train() records, for the curves
  const auto start = std::chrono::steady_clock::now();
  model.call_value("train", texts(data.alphabet), texts(data.language_codes), texts(data.language_names),
                   split_value(data.train), split_value(data.dev));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ember::course::TrainingHistory history = ember::grading::training_history();
  const ember::course::LanguageIDDataset dataset(std::move(data));
  // Words the model never trained on, a bucket (one word length) at a time.
  const double accuracy = accuracy_on(model, dataset.test());
  const double dev_accuracy = accuracy_on(model, dataset.dev());
  grade_note("test accuracy {:.4f} on {} words (threshold {}); dev accuracy {:.4f}; training took "
             "{:.1f} s",
             accuracy, dataset.test().size(), kAccuracyThreshold, dev_accuracy, seconds);
  if (!(accuracy >= kAccuracyThreshold) && history.epochs.size() >= 2 &&
      !(history.epochs.back().loss <= history.epochs.front().loss * 1.5)) {
    ember::grading::diagnose("the training loss grew or became NaN: a learning rate that is too large, or "
                             "gradients that are never cleared (optimizer.zero_grad() before each backward)",
                             "q4_language_id.md", "Traps");
  }
  GRADE_EXPECT((accuracy) >= (kAccuracyThreshold))
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
