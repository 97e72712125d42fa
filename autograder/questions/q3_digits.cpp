// Grader for lesson q3 (digit classification): shapes, the loss and its gradients, and the
// accuracy after training on the held-out half of MNIST's test images.
//
// The student's model lives in the runner (runners/q3_digits.cpp), in the sandbox. train gets
// the training and validation images only; the test images go to the runner after training,
// a batch at a time, and their labels never leave this checker, which counts the accuracy.
// Devices (make grade DEVICE=cuda): the runner moves the model and its inputs to the GPU.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember_course/digit_dataset.h>
#include <ember_course/progress.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Shape;
using ember::shape_str;
using ember::Tensor;
using ember::course::DigitClassificationDataset;
using ember::grading::RemoteModel;

constexpr double kTargetAccuracy = 0.97;

// The fraction of images whose largest logit is the right digit, counted here (not with the
// dataset's helper), in batches, in evaluation mode. With predictions, also every image's
// predicted digit.
double accuracy_of(RemoteModel& model, const Tensor& images, const Tensor& digits,
                   std::vector<int64_t>* predictions = nullptr) {
  model.eval();
  const std::vector<float> labels = digits.to_vector();
  const int64_t n = images.size(0), batch = 500;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min(n, start + batch);
    const Tensor logits = model.evaluate("run", images.slice(0, start, end));
    if (!logits.defined() || logits.shape() != Shape{end - start, 10}) {
      throw std::runtime_error(fmt::format("run(x) for x of shape ({}, 784) returned shape {}; expected ({}, 10)",
                                           end - start, logits.defined() ? shape_str(logits.shape()) : "undefined", end - start));
    }
    const std::vector<float> scores = logits.to_vector();
    for (int64_t i = 0; i < end - start; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < 10; ++c) {
        if (scores[i * 10 + c] > scores[i * 10 + best]) best = c;
      }
      if (static_cast<float>(best) == labels[start + i]) ++correct;
      if (predictions != nullptr) predictions->push_back(best);
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

// The first test images the model gets wrong, with what it said and what they are.
std::string misclassified_picture(const DigitClassificationDataset& dataset,
                                  const std::vector<int64_t>& predictions) {
  namespace svg = ember::course::svg;
  constexpr size_t kShown = 32;
  const std::vector<float> digits = dataset.test_labels().to_vector();
  std::vector<float> pixels;
  std::vector<std::string> captions;
  size_t wrong = 0;
  for (size_t i = 0; i < predictions.size() && i < digits.size(); ++i) {
    if (static_cast<float>(predictions[i]) == digits[i]) continue;
    if (++wrong > kShown) continue;
    const std::vector<float> image = dataset.test_x()[static_cast<int64_t>(i)].to_vector();  // (784,)
    pixels.insert(pixels.end(), image.begin(), image.end());
    captions.push_back(fmt::format("said {}\nis {}", predictions[i], static_cast<int>(digits[i])));
  }
  const int64_t shown = static_cast<int64_t>(captions.size());
  svg::ImageGrid grid(ember::from_vector(pixels, {shown, 28, 28}), captions, 8);
  grid.title = wrong == 0 ? std::string("the model got every test digit right")
                          : fmt::format("test digits the model got wrong: the first {} of {}", shown, wrong);
  return grid.svg();
}

// The mean cross entropy of rows of 10 scores against digits, in double precision.
double mean_cross_entropy(const std::vector<float>& scores, const std::vector<float>& digits) {
  double total = 0;
  for (size_t i = 0; i < digits.size(); ++i) {
    double largest = scores[i * 10];
    for (size_t c = 1; c < 10; ++c) largest = std::max(largest, static_cast<double>(scores[i * 10 + c]));
    double sum = 0;
    for (size_t c = 0; c < 10; ++c) sum += std::exp(scores[i * 10 + c] - largest);
    total += -(scores[i * 10 + static_cast<size_t>(digits[i])] - largest - std::log(sum));
  }
  return total / static_cast<double>(digits.size());
}

// Why a trained classifier misses its threshold, from its scores on some images, its training
// record and whether training changed its parameters.
void diagnose_training(const std::vector<float>& scores, const ember::course::TrainingHistory& history,
                       bool parameters_changed, const char* note, const char* method) {
  bool finite = true, probabilities = !scores.empty(), never_negative = true;
  for (size_t i = 0; i + 10 <= scores.size(); i += 10) {
    double row = 0;
    for (size_t c = 0; c < 10; ++c) {
      const float v = scores[i + c];
      finite = finite && std::isfinite(v);
      never_negative = never_negative && v >= 0.0f;
      probabilities = probabilities && v >= 0.0f && v <= 1.0f;
      row += v;
    }
    probabilities = probabilities && std::fabs(row - 1.0) < 1e-3;
  }
  bool loss_blew_up = false;
  if (history.epochs.size() >= 2) {
    const double first = history.epochs.front().loss, last = history.epochs.back().loss;
    loss_blew_up = !std::isfinite(last) || last > first * 1.5;
  }
  if (!finite || loss_blew_up) {
    ember::grading::diagnose("training diverged (the scores or the training loss are NaN, infinite or growing): "
                             "a learning rate that is too large, or gradients that are never cleared "
                             "(optimizer.zero_grad() before each backward)",
                             note, "Traps");
  } else if (!parameters_changed) {
    ember::grading::diagnose("train() changed no parameter: are the layers registered (register_module), their "
                             "parameters given to the optimizer, and backward() and step() called for every batch?",
                             note, "The model");
  } else if (probabilities) {
    ember::grading::diagnose(fmt::format("{}() returns probabilities (every row sums to 1): it should return the "
                                         "logits, and cross_entropy applies the softmax itself",
                                         method),
                             note, "Logits, softmax and cross entropy");
  } else if (never_negative) {
    ember::grading::diagnose(fmt::format("{}() never returns a negative score: is there a ReLU (or another "
                                         "activation) after the last layer? The last layer's outputs are the "
                                         "logits, as they are",
                                         method),
                             note, "Logits");
  }
}

}  // namespace

GRADED_TEST(q3, run_shapes, 1) {
  RemoteModel model("DigitClassificationModel");
  for (int64_t batch : {1, 3, 64}) {
    const Tensor x = ember::rand({batch, 784});
    const Tensor logits = model.call("run", x);
    GRADE_ASSERT(logits.defined()) << "run returned an undefined tensor";
    GRADE_ASSERT((logits.shape()) == ((Shape{batch, 10}))) << "run(x) for x of shape (" << batch << ", 784) returned shape "
                                                  << shape_str(logits.shape()) << "; expected (" << batch << ", 10)";
  }
  grade_note("run maps (B, 784) to (B, 10) for B = 1, 3, 64");
}

GRADED_TEST(q3, loss_and_gradients, 1) {
  RemoteModel model("DigitClassificationModel");
  const auto params = model.named_parameters();
  GRADE_ASSERT(!(params.empty())) << "DigitClassificationModel has no parameters; register its layers in the constructor";
  const int64_t batch = 8;
  const Tensor x = ember::rand({batch, 784});
  const std::vector<float> digits = ember::randint(0, 10, {batch}).to_vector();
  const Tensor y = ember::one_hot(ember::from_vector(digits, {batch}), 10);  // (8, 10)
  model.zero_grad();
  const Tensor loss = model.call("get_loss", x, y);
  GRADE_ASSERT(loss.defined()) << "get_loss returned an undefined tensor";
  GRADE_ASSERT((loss.numel()) == (1)) << "get_loss returned shape " << shape_str(loss.shape())
                             << "; expected a scalar (one value)";
  GRADE_ASSERT(loss.requires_grad()) << "the loss does not depend on any parameter (it does not require grad)";
  // The value: cross entropy of run(x), computed here from the logits.
  ember::grading::backward_last_result();  // the loss's, before run() replaces it
  const auto grads = model.named_gradients();
  const Tensor run_logits = model.call("run", x);
  GRADE_ASSERT(run_logits.defined() && run_logits.numel() == batch * 10) << "run(x) should give (8, 10)";
  const std::vector<float> logits = run_logits.to_vector();
  const double expected = mean_cross_entropy(logits, digits);
  const double got = loss.item();
  if (!(std::fabs(got - expected) <= 1e-4 * (1 + expected))) {
    // Which classic mistake gives this number?
    std::vector<float> probabilities = logits;
    double squared = 0;
    for (int64_t i = 0; i < batch; ++i) {
      double total = 0, largest = logits[i * 10];
      for (int64_t c = 1; c < 10; ++c) largest = std::max(largest, static_cast<double>(logits[i * 10 + c]));
      for (int64_t c = 0; c < 10; ++c) total += std::exp(logits[i * 10 + c] - largest);
      for (int64_t c = 0; c < 10; ++c) {
        probabilities[i * 10 + c] = static_cast<float>(std::exp(logits[i * 10 + c] - largest) / total);
        const double target = c == static_cast<int64_t>(digits[i]) ? 1.0 : 0.0;
        squared += (logits[i * 10 + c] - target) * (logits[i * 10 + c] - target);
      }
    }
    const auto near = [&](double value) { return std::fabs(got - value) <= 1e-4 * (1 + std::fabs(value)); };
    if (near(mean_cross_entropy(probabilities, digits))) {
      ember::grading::diagnose("get_loss applies softmax before cross_entropy, which applies log_softmax itself: "
                               "give cross_entropy the logits",
                               "q3_digits.md", "Cross entropy");
    } else if (near(expected * static_cast<double>(batch))) {
      ember::grading::diagnose("get_loss is 8 times the mean for a batch of 8: it sums over the batch instead of "
                               "averaging",
                               "q3_digits.md", "Cross entropy");
    } else if (near(squared / static_cast<double>(batch * 10)) || near(squared / static_cast<double>(batch))) {
      ember::grading::diagnose("get_loss is the squared error of the logits against the one-hot labels; a "
                               "classifier learns with cross entropy (F::cross_entropy)",
                               "q3_digits.md", "Cross entropy");
    }
  }
  GRADE_EXPECT(std::fabs(got - expected) <= 1e-4 * (1 + expected))
      << "get_loss returned " << got << "; the cross entropy of run(x) against the one-hot labels is "
      << expected;
  GRADE_ASSERT((grads.size()) == (params.size())) << "the model's parameters changed during backward";
  for (size_t i = 0; i < params.size(); ++i) {
    const auto& [name, param] = params[i];
    const Tensor& grad = grads[i].second;
    GRADE_EXPECT(grad.defined()) << "after get_loss(...).backward(), parameter \"" << name
                                << "\" has no gradient: it is not used by the loss";
    if (grad.defined()) {
      GRADE_EXPECT((grad.shape()) == (param.shape())) << "the gradient of \"" << name << "\" has shape "
                                             << shape_str(grad.shape()) << "; expected " << shape_str(param.shape());
    }
  }
  grade_note("loss {:.4f} (cross entropy of run(x): {:.4f}); its gradient reaches all {} parameters", loss.item(),
             expected, params.size());
}

GRADED_TEST(q3, test_accuracy, 4) {
  RemoteModel model("DigitClassificationModel");  // first: an unfinished model fails before the data loads
  ember::grading::verify_datasets({"mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz",
                                   "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"});
  const DigitClassificationDataset dataset;          // read here; the runner cannot open datasets/
  ember::grading::clear_training_history();          // what train() records, for the curves
  const auto before = model.named_parameters();
  const auto start = std::chrono::steady_clock::now();
  model.call_value("train", dataset.train_x(), dataset.train_labels(), dataset.validation_x(),
                   dataset.validation_labels());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ember::course::TrainingHistory history = ember::grading::training_history();
  const double validation = accuracy_of(model, dataset.validation_x(), dataset.validation_labels());
  std::vector<int64_t> predictions;
  const double test = accuracy_of(model, dataset.test_x(), dataset.test_labels(), &predictions);
  grade_note("test accuracy {:.4f} (threshold {}) on {} held-out images; validation {:.4f}; training {:.1f} s", test,
             kTargetAccuracy, dataset.test_x().size(0), validation, seconds);
  if (!(test >= kTargetAccuracy)) {
    const auto after = model.named_parameters();
    bool changed = false;
    for (size_t i = 0; i < before.size() && i < after.size(); ++i) {
      changed = changed || before[i].second.to_vector() != after[i].second.to_vector();
    }
    diagnose_training(model.call("run", dataset.test_x().slice(0, 0, 100)).to_vector(), history, changed,
                      "q3_digits.md", "run");
  }
  GRADE_EXPECT((test) >= (kTargetAccuracy)) << fmt::format(
      "accuracy on the held-out test images is {:.4f}; it must be at least {}", test, kTargetAccuracy);

  // Pictures, when EMBER_PICTURES_DIR asks for them; they never change the points.
  namespace svg = ember::course::svg;
  if (history.empty()) {
    if (svg::pictures_dir()) {
      grade_note("no training curves: train() kept no course::TrainingProgress (see the comment above train())");
    }
  } else {
    const std::string problem = svg::draw_picture("q3", "training_curves", [&] {
      return svg::training_curves(history, "q3: training", kTargetAccuracy, test);
    });
    if (!problem.empty()) grade_note("{}", problem);
  }
  const std::string problem = svg::draw_picture(
      "q3", "misclassified", [&] { return misclassified_picture(dataset, predictions); });
  if (!problem.empty()) grade_note("{}", problem);
}
