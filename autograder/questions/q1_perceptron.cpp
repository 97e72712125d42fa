// Grader for lesson q1 (the perceptron): the parameter, run, get_prediction, the update
// rule observed on one- and two-point datasets, and training on 500 separable points.
//
// Devices (make grade DEVICE=cuda): every model is moved to the grading device, and so are
// the points given to run / get_prediction and the datasets given to train (their batches
// are then gathered there). Values are drawn on the CPU, as on a CPU run, and read back with
// to_vector() / item() for the comparisons.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <ember_course/svg_plot.h>

#include "grading.h"
#include "perceptron.hpp"

namespace {

using ember::Shape;
using ember::shape_str;
using ember::Tensor;
using ember::course::PerceptronDataset;
using ember::grading::move_dataset_to_device;
using ember::grading::move_to_device;
using ember::grading::on_device;

// A PerceptronDataset that counts the examples training asks for and stops a training that
// runs too long by throwing: a wrong update rule can loop forever, and this turns that into
// a failed check with a message instead of a timeout for the whole question.
class LimitedDataset : public PerceptronDataset {
 public:
  // description says what the points are, for the message.
  LimitedDataset(Tensor x, Tensor labels, int64_t limit, std::string description)
      : PerceptronDataset(std::move(x), std::move(labels)), limit_(limit), description_(std::move(description)) {
    move_dataset_to_device(*this);
  }
  explicit LimitedDataset(int64_t limit)
      : PerceptronDataset(), limit_(limit), description_("the 500 separable points of PerceptronDataset()") {
    move_dataset_to_device(*this);
  }

  ember::data::Example get(int64_t i) const override {
    count(1);
    return PerceptronDataset::get(i);
  }
  ember::data::Example get_batch(const std::vector<int64_t>& indices) const override {
    count(static_cast<int64_t>(indices.size()));
    return PerceptronDataset::get_batch(indices);
  }
  int64_t served() const { return served_; }

 private:
  void count(int64_t n) const {
    served_ += n;
    if (served_ > limit_) {
      throw std::runtime_error(fmt::format(
          "train did not stop: after more than {} examples (about {} passes) it still found "
          "mistakes in {}. Check the update rule, the stopping test, and that a score of exactly "
          "0 counts as +1",
          limit_, limit_ / size(), description_));
    }
  }
  int64_t limit_;
  std::string description_;
  mutable int64_t served_ = 0;
};

// The registered parameter (not get_weights, which is one of the things being checked).
Tensor parameter_of(q1::PerceptronModel& model) {
  const auto params = model.named_parameters();
  if (params.size() != 1) {
    throw std::runtime_error(fmt::format("the model should have exactly one parameter, it has {}", params.size()));
  }
  return params[0].second;
}

void set_weights(q1::PerceptronModel& model, const Tensor& values) {
  ember::NoGradGuard no_grad;
  parameter_of(model).copy_(on_device(values));
}

// The points of the dataset by label and the line w0 x0 + w1 x1 + w2 = 0 the trained
// weights draw between them (pictures are only drawn when EMBER_PICTURES_DIR is set).
std::string decision_line_picture(const std::vector<float>& w, const std::vector<float>& x,
                                  const std::vector<float>& labels, int64_t d) {
  namespace svg = ember::course::svg;
  svg::Chart chart;
  chart.title = "the points and the trained perceptron's line";
  chart.x_label = "x0";
  chart.y_label = "x1";
  chart.chart_width = 520;
  chart.chart_height = 500;
  chart.x_min = chart.y_min = -1.05;
  chart.x_max = chart.y_max = 1.05;
  svg::Series positive("label +1", {}, {}), negative("label -1", {}, {});
  positive.line = negative.line = false;
  positive.marker = svg::Marker::Circle;
  negative.marker = svg::Marker::Cross;
  for (size_t i = 0; i < labels.size(); ++i) {
    svg::Series& side = labels[i] > 0 ? positive : negative;
    side.x.push_back(x[i * static_cast<size_t>(d)]);
    side.y.push_back(x[i * static_cast<size_t>(d) + 1]);
  }
  chart.add(positive).add(negative);
  if (d == 3) {
    // Solve for the coordinate with the larger weight, so a steep line stays accurate.
    const double w0 = w[0], w1 = w[1], w2 = w[2];
    svg::Series line("w . (x0, x1, 1) = 0", {}, {});
    line.colour = "#1a202c";
    if (std::fabs(w1) >= std::fabs(w0) && w1 != 0) {
      line.x = {-2, 2};
      line.y = {-(w0 * -2 + w2) / w1, -(w0 * 2 + w2) / w1};
    } else if (w0 != 0) {
      line.y = {-2, 2};
      line.x = {-(w1 * -2 + w2) / w0, -(w1 * 2 + w2) / w0};
    }
    if (!line.x.empty()) chart.add(line);
  }
  return chart.svg();
}

double dot(const std::vector<float>& a, const std::vector<float>& b) {
  double sum = 0;
  for (size_t i = 0; i < a.size(); ++i) sum += static_cast<double>(a[i]) * b[i];
  return sum;
}

std::string values_str(const std::vector<float>& v) {
  std::string out = "(";
  for (size_t i = 0; i < v.size(); ++i) out += fmt::format("{}{:.6g}", i ? ", " : "", v[i]);
  return out + ")";
}

}  // namespace

GRADED_TEST(q1, one_parameter_w, 1) {
  for (int64_t d = 1; d <= 9; ++d) {
    q1::PerceptronModel model(d);
    move_to_device(model);
    const auto params = model.named_parameters();
    ASSERT_EQ(params.size(), 1u) << "PerceptronModel(" << d << ") has " << params.size()
                                 << " parameters; expected exactly one, named \"w\"";
    EXPECT_EQ(params[0].first, "w") << "the parameter is named \"" << params[0].first << "\"; expected \"w\"";
    const Shape expected = {1, d};
    ASSERT_EQ(params[0].second.shape(), expected) << "PerceptronModel(" << d << ")'s parameter has shape "
                                                  << shape_str(params[0].second.shape()) << "; expected "
                                                  << shape_str(expected);
    const Tensor weights = model.get_weights();
    ASSERT_TRUE(weights.defined()) << "get_weights() returned an undefined tensor";
    ASSERT_EQ(weights.shape(), expected) << "get_weights() has shape " << shape_str(weights.shape())
                                         << "; expected " << shape_str(expected);
    EXPECT_EQ(weights.data_ptr(), params[0].second.data_ptr())
        << "get_weights() should return the parameter w itself, not a copy";
  }
  grade_note("dimensions 1 to 9: one parameter \"w\" of shape (1, d), returned by get_weights()");
}

GRADED_TEST(q1, run_is_dot_product, 1) {
  int cases = 0;
  for (int64_t d = 1; d <= 9; ++d) {
    q1::PerceptronModel model(d);
    move_to_device(model);
    for (int trial = 0; trial < 3; ++trial, ++cases) {
      const Tensor w = ember::randn({1, d});
      const Tensor x = ember::randn({1, d});
      set_weights(model, w);
      const Tensor score = model.run(on_device(x));
      ASSERT_TRUE(score.defined()) << "run returned an undefined tensor";
      ASSERT_EQ(score.numel(), 1) << "run(x) for x of shape (1, " << d << ") returned shape "
                                  << shape_str(score.shape()) << "; expected one value, e.g. (1, 1)";
      const double expected = dot(w.to_vector(), x.to_vector());
      ASSERT_NEAR(score.item(), expected, 1e-4 * (1 + std::fabs(expected)))
          << "run(x) with w = " << values_str(w.to_vector()) << " and x = " << values_str(x.to_vector())
          << " returned " << score.item() << "; expected the dot product " << expected;
      ASSERT_TRUE(parameter_of(model).to_vector() == w.to_vector()) << "run changed w";
    }
  }
  grade_note("{} random (w, x) pairs, d = 1 to 9: run(x) is w . x", cases);
}

GRADED_TEST(q1, prediction_is_sign_of_score, 1) {
  int cases = 0;
  for (int64_t d = 1; d <= 9; ++d) {
    q1::PerceptronModel model(d);
    move_to_device(model);
    for (int trial = 0; trial < 4; ++trial) {
      const Tensor w = ember::randn({1, d});
      const Tensor x = ember::randn({1, d});
      set_weights(model, w);
      const double score = dot(w.to_vector(), x.to_vector());
      if (std::fabs(score) < 1e-3) continue;  // too close to 0 to judge float rounding
      ++cases;
      const int expected = score >= 0 ? 1 : -1;
      ASSERT_EQ(model.get_prediction(on_device(x)), expected)
          << "get_prediction(x) with w = " << values_str(w.to_vector()) << " and x = "
          << values_str(x.to_vector()) << " (score " << score << ") returned "
          << model.get_prediction(on_device(x)) << "; expected " << expected;
    }
    // A score of exactly 0 counts as +1.
    const int at_zero = model.get_prediction(on_device(ember::zeros({1, d})));
    ASSERT_EQ(at_zero, 1) << "get_prediction of the point x = 0 (score exactly 0) returned " << at_zero
                          << "; expected +1";
  }
  grade_note("{} random points and 9 points of score 0: predictions are +1 / -1, and +1 at 0", cases);
}

GRADED_TEST(q1, update_rule, 1) {
  // (a) Points already classified correctly, one with a score of exactly 0 and label +1:
  //     training must look at them and leave w alone.
  {
    const int64_t d = 3;
    q1::PerceptronModel model(d);
    move_to_device(model);
    const Tensor w = ember::randn({1, d});
    set_weights(model, w);
    std::vector<float> x = ember::randn({1, d}).to_vector();
    // Keep the score clear of 0, where float rounding could flip the prediction.
    // Moving x along w by t changes the score by t |w|^2.
    const std::vector<float> wv = w.to_vector();
    if (std::fabs(dot(wv, x)) < 0.1) {
      const double t = (dot(wv, x) >= 0 ? 0.5 : -0.5) / dot(wv, wv);
      for (size_t i = 0; i < x.size(); ++i) x[i] += static_cast<float>(t * wv[i]);
    }
    const double score = dot(w.to_vector(), x);
    const float label = score >= 0 ? 1.0f : -1.0f;
    std::vector<float> points = x;
    points.insert(points.end(), {0.0f, 0.0f, 0.0f});  // score 0 -> predicted +1, and it is +1
    LimitedDataset dataset(ember::from_vector(points, {2, d}), ember::from_vector({label, 1.0f}, {2, 1}), 1000,
                           "two points the starting w already classifies correctly, one of them (0, 0, 0) "
                           "with score exactly 0 and label +1");
    model.train(dataset);
    EXPECT_GE(dataset.served(), 2) << "train looked at " << dataset.served()
                                   << " examples of a two-point dataset; it should pass over all of them";
    EXPECT_TRUE(parameter_of(model).to_vector() == w.to_vector())
        << "train changed w on points it already classified correctly (w was " << values_str(w.to_vector())
        << ", now " << values_str(parameter_of(model).to_vector()) << "; the points were "
        << values_str(x) << " with label " << label << " and (0, 0, 0) with label +1)";
  }
  // (b) One misclassified point: exactly one update, w + label * x, fixes it. w is scaled so
  //     that |w . x| = |x|^2 / 4, so after the update the point is right by 3 |x|^2 / 4.
  int updates = 0;
  for (int64_t d : {1, 2, 3, 5, 8}) {
    for (int trial = 0; trial < 2; ++trial, ++updates) {
      q1::PerceptronModel model(d);
      move_to_device(model);
      const std::vector<float> x = ember::randn({1, d}).to_vector();
      std::vector<float> w = ember::randn({1, d}).to_vector();
      double score = dot(w, x);
      if (std::fabs(score) < 1e-3) w[0] += 0.5f * (x[0] >= 0 ? 1.0f : -1.0f);  // keep away from 0
      score = dot(w, x);
      const double scale = 0.25 * dot(x, x) / std::fabs(score);
      for (float& value : w) value = static_cast<float>(value * scale);
      score = dot(w, x);
      const float label = score >= 0 ? -1.0f : 1.0f;  // the wrong side
      set_weights(model, ember::from_vector(w, {1, d}));
      LimitedDataset dataset(ember::from_vector(x, {1, d}), ember::from_vector({label}, {1, 1}), 1000,
                             "one point that a single update w + label * x classifies correctly");
      model.train(dataset);
      const std::vector<float> got = parameter_of(model).to_vector();
      std::vector<float> expected(w.size());
      for (size_t i = 0; i < w.size(); ++i) expected[i] = w[i] + label * x[i];
      for (size_t i = 0; i < w.size(); ++i) {
        if (std::fabs(got[i] - expected[i]) > 1e-6f * (1.0f + std::fabs(expected[i]))) {
          ADD_FAILURE() << "one point x = " << values_str(x) << " with label " << label
                        << ", misclassified by w = " << values_str(w) << ": after training w is "
                        << values_str(got) << "; expected exactly one update, w + label * x = "
                        << values_str(expected);
          break;
        }
      }
    }
  }
  // (c) A score of exactly 0 with label -1 is a mistake (0 counts as +1): w = (1, -1),
  //     x = (1, 1) must give w - x = (0, -2).
  {
    q1::PerceptronModel model(2);
    move_to_device(model);
    set_weights(model, ember::tensor({{1.0f, -1.0f}}));
    LimitedDataset dataset(ember::tensor({{1.0f, 1.0f}}), ember::tensor({{-1.0f}}), 1000,
                           "one point x = (1, 1) with label -1 and w = (1, -1)");
    model.train(dataset);
    const std::vector<float> got = parameter_of(model).to_vector();
    EXPECT_TRUE(got == (std::vector<float>{0.0f, -2.0f}))
        << "w = (1, -1) and one point x = (1, 1) with label -1 (score 0, predicted +1, so a mistake): "
        << "after training w is " << values_str(got) << "; expected w - x = (0, -2)";
  }
  grade_note("no change on correct points; {} single mistakes each give exactly w + label * x; "
             "a score of 0 with label -1 is a mistake", updates);
}

GRADED_TEST(q1, classifies_all_points, 2) {
  const int64_t max_passes = 1000;
  LimitedDataset dataset(PerceptronDataset::kDefaultSize * max_passes);
  q1::PerceptronModel model(dataset.dimensions());
  move_to_device(model);
  const auto start = std::chrono::steady_clock::now();
  model.train(dataset);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Score every point with the trained w, independently of the model's own methods.
  const std::vector<float> w = parameter_of(model).to_vector();
  const std::vector<float> x = dataset.x().to_vector(), labels = dataset.labels().to_vector();
  const int64_t n = dataset.size(), d = dataset.dimensions();
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    double score = 0;
    for (int64_t j = 0; j < d; ++j) score += static_cast<double>(w[j]) * x[i * d + j];
    if ((score >= 0 ? 1.0f : -1.0f) == labels[i]) ++correct;
  }
  grade_note("{} of {} points classified correctly after {:.1f} passes ({} examples), {:.2f} s", correct, n,
             static_cast<double>(dataset.served()) / n, dataset.served(), seconds);
  EXPECT_EQ(correct, n) << "after train, w = " << values_str(w) << " classifies " << correct << " of " << n
                        << " points correctly; expected all of them";
  const std::string problem = ember::course::svg::draw_picture(
      "q1", "decision_line", [&] { return decision_line_picture(w, x, labels, d); });
  if (!problem.empty()) grade_note("{}", problem);
}
