// Grader for lesson q2 (non-linear regression): the loss and its gradients, the loss value,
// and the fit after training, on the 200 training points and on points it never saw.
//
// The student's model lives in the runner (runners/q2_regression.cpp), in the sandbox: this
// checker draws the points, sends them, and computes every loss it judges by itself.
// Devices (make grade DEVICE=cuda): the runner moves the model, the inputs and the dataset
// to the grading device; the values come back to the CPU.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/regression_dataset.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Shape;
using ember::shape_str;
using ember::Tensor;
using ember::course::RegressionDataset;
using ember::grading::RemoteModel;

constexpr double kTargetLoss = 0.02;

std::vector<float> sin_of(const std::vector<float>& x) {
  std::vector<float> y(x.size());
  for (size_t i = 0; i < x.size(); ++i) y[i] = static_cast<float>(std::sin(static_cast<double>(x[i])));
  return y;
}

// The mean squared error of the model's predictions, computed here rather than by get_loss.
double mean_squared_error(RemoteModel& model, const Tensor& x, const std::vector<float>& y) {
  const Tensor prediction = model.call("forward", x);
  if (!prediction.defined()) throw std::runtime_error("forward(x) returned an undefined tensor");
  if (prediction.shape() != x.shape()) {
    throw std::runtime_error(fmt::format("forward(x) for x of shape {} returned shape {}; expected {}",
                                         shape_str(x.shape()), shape_str(prediction.shape()),
                                         shape_str(x.shape())));
  }
  const std::vector<float> p = prediction.to_vector();
  double sum = 0;
  for (size_t i = 0; i < p.size(); ++i) sum += (static_cast<double>(p[i]) - y[i]) * (static_cast<double>(p[i]) - y[i]);
  return sum / static_cast<double>(p.size());
}

// Why a trained model misses the threshold, from what it predicts on x.
void diagnose_fit(RemoteModel& model, const Tensor& x, const std::vector<float>& y) {
  // A second forward: its answer is checked again (one per point) before it is read against y.
  const Tensor out = model.call("forward", x);
  if (!out.defined() || out.numel() != static_cast<int64_t>(y.size())) return;
  const std::vector<float> p = out.contiguous().to_vector();
  bool finite = true, negative_target = false, negative_prediction = false;
  double mean = 0, spread = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    finite = finite && std::isfinite(p[i]);
    negative_target = negative_target || y[i] < -0.1f;
    negative_prediction = negative_prediction || p[i] < -1e-6f;
    mean += p[i];
  }
  mean /= static_cast<double>(p.size());
  for (float v : p) spread += (v - mean) * (v - mean);
  spread = std::sqrt(spread / static_cast<double>(p.size()));
  if (!finite) {
    ember::grading::diagnose("the predictions are not finite (NaN or inf): training diverged; a learning rate "
                             "that is too large, or gradients that are never cleared (optimizer.zero_grad()), "
                             "make the loss blow up",
                             "q2_regression.md", "Training with Adam");
  } else if (negative_target && !negative_prediction) {
    ember::grading::diagnose("the model never predicts a negative value, but sin(x) is negative half the time: "
                             "is there a ReLU (or another activation that is never negative) after the last "
                             "layer?",
                             "q2_regression.md", "Why no ReLU on the last layer");
  } else if (spread < 0.05) {
    ember::grading::diagnose(fmt::format("the model predicts about the same value ({:.3g}) everywhere: it did not "
                                         "learn. Are the layers registered (register_module) and their "
                                         "parameters given to the optimizer, and does train() call backward() "
                                         "and step() for every batch?",
                                         mean),
                             "q2_regression.md", "Putting it in a Module");
  }
}

// The model trained once for the two checks that look at the result (while the same runner
// lives). Training starts from the same seed whichever check asks first, so each check's
// figure is the same run alone.
struct Trained {
  std::shared_ptr<RegressionDataset> dataset;
  std::shared_ptr<RemoteModel> model;
  std::uint64_t generation = 0;
  double seconds = 0;
};

const Trained& trained() {
  static std::unique_ptr<Trained> result;
  if (!result || result->generation != ember::grading::runner_generation()) {
    auto t = std::make_unique<Trained>();
    t->dataset = std::make_shared<RegressionDataset>();
    t->model = std::make_shared<RemoteModel>("RegressionModel");
    ember::grading::seed_runner("q2 training");
    const auto start = std::chrono::steady_clock::now();
    t->model->call_value("train", t->dataset->x(), t->dataset->y());
    t->seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    t->generation = ember::grading::runner_generation();
    result = std::move(t);
  }
  return *result;
}

// sin(x) and the trained model's curve over [-2 pi, 2 pi], with the training points.
std::string fit_picture(RemoteModel& model, const RegressionDataset& dataset, double loss) {
  namespace svg = ember::course::svg;
  const int64_t n = 400;
  const Tensor x = ember::linspace(static_cast<float>(RegressionDataset::kLow),
                                   static_cast<float>(RegressionDataset::kHigh), n)
                       .unsqueeze(1);  // (400,) -> (400, 1)
  const std::vector<float> predictions = model.call("forward", x).to_vector();
  const std::vector<float> xs = x.to_vector();
  if (predictions.size() != xs.size()) {
    throw std::runtime_error(fmt::format("forward gave {} values for {} points", predictions.size(), xs.size()));
  }
  const std::vector<float> sines = sin_of(xs);
  svg::Chart chart;
  chart.title = fmt::format("sin(x) and the trained model (mean squared error {:.4f})", loss);
  chart.x_label = "x";
  chart.y_label = "y";
  chart.chart_width = 640;
  svg::Series truth("sin(x)", std::vector<double>(xs.begin(), xs.end()),
                    std::vector<double>(sines.begin(), sines.end()));
  truth.colour = "#a0aec0";
  truth.line_width = 5;
  svg::Series fitted("the model", std::vector<double>(xs.begin(), xs.end()),
                     std::vector<double>(predictions.begin(), predictions.end()));
  fitted.colour = "#dd6b20";
  const std::vector<float> train_x = dataset.x().to_vector(), train_y = dataset.y().to_vector();
  svg::Series samples("training points", std::vector<double>(train_x.begin(), train_x.end()),
                      std::vector<double>(train_y.begin(), train_y.end()));
  samples.line = false;
  samples.marker = svg::Marker::Circle;
  samples.colour = "#2b6cb0";
  chart.add(truth).add(samples).add(fitted);
  return chart.svg();
}

}  // namespace

GRADED_TEST(q2, loss_and_gradients, 1) {
  RemoteModel model("RegressionModel");
  const auto params = model.named_parameters();
  GRADE_ASSERT(!(params.empty())) << "RegressionModel has no parameters; register its layers in the constructor";
  for (int64_t batch : {1, 2, 4}) {
    const Tensor x_cpu = ember::uniform({batch, 1}, -6.28f, 6.28f);
    const Tensor y = ember::from_vector(sin_of(x_cpu.to_vector()), {batch, 1});
    const Tensor& x = x_cpu;
    const Tensor prediction = model.call("forward", x);
    GRADE_ASSERT(prediction.defined()) << "forward returned an undefined tensor";
    GRADE_ASSERT((prediction.shape()) == ((Shape{batch, 1}))) << "forward(x) for x of shape (" << batch
                                                     << ", 1) returned shape " << shape_str(prediction.shape())
                                                     << "; expected (" << batch << ", 1)";
    model.zero_grad();
    const Tensor loss = model.call("get_loss", x, y);
    GRADE_ASSERT(loss.defined()) << "get_loss returned an undefined tensor";
    GRADE_ASSERT((loss.numel()) == (1)) << "get_loss for a batch of " << batch << " returned shape "
                               << shape_str(loss.shape()) << "; expected a scalar (one value)";
    GRADE_ASSERT(loss.requires_grad()) << "the loss does not depend on any parameter (it does not require grad)";
    ember::grading::backward_last_result();
    const auto grads = model.named_gradients();
    GRADE_ASSERT((grads.size()) == (params.size())) << "the model's parameters changed during backward";
    for (size_t i = 0; i < params.size(); ++i) {
      const auto& [name, param] = params[i];
      const Tensor& grad = grads[i].second;
      GRADE_EXPECT(grad.defined()) << "after get_loss(...).backward() with a batch of " << batch
                                  << ", parameter \"" << name << "\" has no gradient: it is not used by the loss";
      if (grad.defined()) {
        GRADE_EXPECT((grad.shape()) == (param.shape())) << "the gradient of \"" << name << "\" has shape "
                                               << shape_str(grad.shape()) << "; expected " << shape_str(param.shape());
      }
    }
  }
  grade_note("batches of 1, 2 and 4: forward gives (B, 1), the loss is one value, and its gradient reaches all "
             "{} parameters", params.size());
}

GRADED_TEST(q2, loss_is_mean_squared_error, 1) {
  RemoteModel model("RegressionModel");
  const Tensor x = ember::uniform({16, 1}, -6.28f, 6.28f);
  const std::vector<float> targets = ember::uniform({16, 1}, -1.0f, 1.0f).to_vector();
  const Tensor y = ember::from_vector(targets, {16, 1});
  const double expected = mean_squared_error(model, x, targets);
  const Tensor loss = model.call("get_loss", x, y);
  GRADE_ASSERT(loss.defined() && loss.numel() == 1) << "get_loss should return one value";
  const double got = loss.item();
  grade_note("get_loss {:.6f}, mean of squared errors {:.6f}", got, expected);
  const bool right = std::fabs(got - expected) <= 1e-5 + 1e-4 * expected;
  if (!right && std::fabs(got - 16 * expected) <= 1e-4 * (1 + 16 * expected)) {
    ember::grading::diagnose("get_loss is 16 times the mean for a batch of 16: it sums the squared errors "
                             "instead of averaging them (mse_loss averages)",
                             "q2_regression.md", "Training with Adam");
  } else if (!right && std::fabs(got - std::sqrt(expected)) <= 1e-4 * (1 + expected)) {
    ember::grading::diagnose("get_loss is the square root of the mean squared error", "q2_regression.md",
                             "Training with Adam");
  }
  GRADE_EXPECT(right) << "get_loss(x, y) returned " << got << "; the mean of (forward(x) - y)^2 over the batch is "
                      << expected;
}

GRADED_TEST(q2, fits_training_points, 2) {
  const Trained& t = trained();
  const double loss = mean_squared_error(*t.model, t.dataset->x(), t.dataset->y().to_vector());
  grade_note("loss over the {} training points {:.5f} (threshold {}), training {:.2f} s", t.dataset->size(), loss,
             kTargetLoss, t.seconds);
  if (!(loss <= kTargetLoss)) diagnose_fit(*t.model, t.dataset->x(), t.dataset->y().to_vector());
  GRADE_EXPECT((loss) <= (kTargetLoss)) << "after train, the mean squared error over the " << t.dataset->size()
                               << " training points is " << loss << "; it must be at most " << kTargetLoss;
  const std::string problem = ember::course::svg::draw_picture(
      "q2", "fit", [&] { return fit_picture(*t.model, *t.dataset, loss); });
  if (!problem.empty()) grade_note("{}", problem);
}

GRADED_TEST(q2, fits_unseen_points, 2) {
  const Trained& t = trained();
  // Fresh points anywhere in [-2 pi, 2 pi], drawn after training from a seed of their own.
  ember::manual_seed(ember::grading::checker_seed("q2 unseen points"));
  const int64_t n = 1000;
  const Tensor x = ember::uniform({n, 1}, static_cast<float>(RegressionDataset::kLow),
                                  static_cast<float>(RegressionDataset::kHigh));
  const double loss = mean_squared_error(*t.model, x, sin_of(x.to_vector()));
  grade_note("loss over {} points the model never saw {:.5f} (threshold {})", n, loss, kTargetLoss);
  if (!(loss <= kTargetLoss)) diagnose_fit(*t.model, x, sin_of(x.to_vector()));
  GRADE_EXPECT((loss) <= (kTargetLoss)) << "after train, the mean squared error over " << n
                               << " new points in [-2 pi, 2 pi] is " << loss << "; it must be at most "
                               << kTargetLoss;
}
