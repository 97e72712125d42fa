// Grader for lesson q1 (the perceptron): the parameter, run, get_prediction, the update
// rule observed on one- and two-point datasets, and training on 500 separable points.
//
// The student's model lives in the runner (runners/q1_perceptron.cpp), in the sandbox; this
// checker never includes their code. It draws every input here, sends it, and judges what
// comes back. On a GPU run (make grade DEVICE=cuda) the runner moves the model and its inputs
// there; the values come back to the CPU.
#include <chrono>
#include <cmath>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Shape;
using ember::shape_str;
using ember::Tensor;
using ember::course::PerceptronDataset;

using ember::grading::RemoteModel;

// The model's only parameter, read from the runner: its name and value. Not get_weights,
// which is one of the things being checked.
std::pair<std::string, Tensor> parameter_of(RemoteModel& model) {
  const auto params = model.named_parameters();
  if (params.size() != 1) {
    throw std::runtime_error(fmt::format("the model should have exactly one parameter, it has {}", params.size()));
  }
  return params[0];
}

std::vector<float> weights_of(RemoteModel& model) { return parameter_of(model).second.to_vector(); }

void set_weights(RemoteModel& model, const Tensor& values) {
  model.set_parameter(parameter_of(model).first, values);
}

// Trains on points x (N, d) with labels (N, 1), stopping training after `limit` examples
// with a message built from `description`. Returns how many examples training asked for.
int64_t train(RemoteModel& model, const Tensor& x, const Tensor& labels, int64_t limit,
              const std::string& description) {
  return model.call_value("train", x, labels, limit, description).as_int("examples served");
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
    RemoteModel model("PerceptronModel", d);
    const auto params = model.named_parameters();
    GRADE_ASSERT((params.size()) == (1u)) << "PerceptronModel(" << d << ") has " << params.size()
                                 << " parameters; expected exactly one, named \"w\"";
    GRADE_EXPECT((params[0].first) == ("w")) << "the parameter is named \"" << params[0].first << "\"; expected \"w\"";
    const Shape expected = {1, d};
    if (params[0].second.shape() == Shape{d}) {
      ember::grading::diagnose("w is a vector (d,), not a row (1, d): the points come as rows (1, d), and the "
                               "score is x @ w^T",
                               "q1_perceptron.md", "Why w has shape (1, d)");
    }
    GRADE_ASSERT((params[0].second.shape()) == (expected)) << "PerceptronModel(" << d << ")'s parameter has shape "
                                                  << shape_str(params[0].second.shape()) << "; expected "
                                                  << shape_str(expected);
    const auto answer = model.call_value("get_weights").as_list("get_weights");
    const Tensor weights = answer.at(0).as_tensor("get_weights()");
    GRADE_ASSERT(weights.defined()) << "get_weights() returned an undefined tensor";
    GRADE_ASSERT((weights.shape()) == (expected)) << "get_weights() has shape " << shape_str(weights.shape())
                                         << "; expected " << shape_str(expected);
    GRADE_EXPECT((answer.at(1).as_int("same")) == (1)) << "get_weights() should return the parameter w itself, not a copy";
  }
  grade_note("dimensions 1 to 9: one parameter \"w\" of shape (1, d), returned by get_weights()");
}

GRADED_TEST(q1, run_is_dot_product, 1) {
  int cases = 0;
  for (int64_t d = 1; d <= 9; ++d) {
    RemoteModel model("PerceptronModel", d);
    for (int trial = 0; trial < 3; ++trial, ++cases) {
      const Tensor w = ember::randn({1, d});
      const Tensor x = ember::randn({1, d});
      set_weights(model, w);
      const Tensor score = model.call("run", x);
      GRADE_ASSERT(score.defined()) << "run returned an undefined tensor";
      GRADE_ASSERT((score.numel()) == (1)) << "run(x) for x of shape (1, " << d << ") returned shape "
                                  << shape_str(score.shape()) << "; expected one value, e.g. (1, 1)";
      const double expected = dot(w.to_vector(), x.to_vector());
      GRADE_ASSERT(std::fabs(static_cast<double>(score.item()) - static_cast<double>(expected)) <= (1e-4 * (1 + std::fabs(expected))))
          << "run(x) with w = " << values_str(w.to_vector()) << " and x = " << values_str(x.to_vector())
          << " returned " << score.item() << "; expected the dot product " << expected;
      GRADE_ASSERT(weights_of(model) == w.to_vector()) << "run changed w";
    }
  }
  grade_note("{} random (w, x) pairs, d = 1 to 9: run(x) is w . x", cases);
}

GRADED_TEST(q1, prediction_is_sign_of_score, 1) {
  int cases = 0;
  for (int64_t d = 1; d <= 9; ++d) {
    RemoteModel model("PerceptronModel", d);
    for (int trial = 0; trial < 4; ++trial) {
      const Tensor w = ember::randn({1, d});
      const Tensor x = ember::randn({1, d});
      set_weights(model, w);
      const double score = dot(w.to_vector(), x.to_vector());
      if (std::fabs(score) < 1e-3) continue;  // too close to 0 to judge float rounding
      ++cases;
      const int64_t expected = score >= 0 ? 1 : -1;
      const int64_t got = model.call_value("get_prediction", x).as_int("get_prediction");
      GRADE_ASSERT((got) == (expected)) << "get_prediction(x) with w = " << values_str(w.to_vector()) << " and x = "
                               << values_str(x.to_vector()) << " (score " << score << ") returned " << got
                               << "; expected " << expected;
    }
    // A score of exactly 0 counts as +1.
    const int64_t at_zero = model.call_value("get_prediction", ember::zeros({1, d})).as_int("get_prediction");
    GRADE_ASSERT((at_zero) == (1)) << "get_prediction of the point x = 0 (score exactly 0) returned " << at_zero
                          << "; expected +1";
  }
  grade_note("{} random points and 9 points of score 0: predictions are +1 / -1, and +1 at 0", cases);
}

GRADED_TEST(q1, update_rule, 1) {
  // (a) Points already classified correctly, one with a score of exactly 0 and label +1:
  //     training must look at them and leave w alone.
  {
    const int64_t d = 3;
    RemoteModel model("PerceptronModel", d);
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
    const int64_t served = train(model, ember::from_vector(points, {2, d}), ember::from_vector({label, 1.0f}, {2, 1}),
                                 1000,
                                 "two points the starting w already classifies correctly, one of them (0, 0, 0) "
                                 "with score exactly 0 and label +1");
    GRADE_EXPECT((served) >= (2)) << "train looked at " << served
                         << " examples of a two-point dataset; it should pass over all of them";
    GRADE_EXPECT(weights_of(model) == w.to_vector())
        << "train changed w on points it already classified correctly (w was " << values_str(w.to_vector())
        << ", now " << values_str(weights_of(model)) << "; the points were " << values_str(x) << " with label "
        << label << " and (0, 0, 0) with label +1)";
  }
  // (b) One misclassified point: exactly one update, w + label * x, fixes it. w is scaled so
  //     that |w . x| = |x|^2 / 4, so after the update the point is right by 3 |x|^2 / 4.
  int updates = 0;
  for (int64_t d : {1, 2, 3, 5, 8}) {
    for (int trial = 0; trial < 2; ++trial, ++updates) {
      RemoteModel model("PerceptronModel", d);
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
      train(model, ember::from_vector(x, {1, d}), ember::from_vector({label}, {1, 1}), 1000,
            "one point that a single update w + label * x classifies correctly");
      const std::vector<float> got = weights_of(model);
      std::vector<float> expected(w.size());
      for (size_t i = 0; i < w.size(); ++i) expected[i] = w[i] + label * x[i];
      for (size_t i = 0; i < w.size(); ++i) {
        // Written !(difference <= tolerance), so that a NaN from the runner fails.
        if (got.size() != w.size() || !(std::fabs(got[i] - expected[i]) <= 1e-6f * (1.0f + std::fabs(expected[i])))) {
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
    RemoteModel model("PerceptronModel", 2);
    set_weights(model, ember::tensor({{1.0f, -1.0f}}));
    train(model, ember::tensor({{1.0f, 1.0f}}), ember::tensor({{-1.0f}}), 1000,
          "one point x = (1, 1) with label -1 and w = (1, -1)");
    const std::vector<float> got = weights_of(model);
    GRADE_EXPECT(got == (std::vector<float>{0.0f, -2.0f}))
        << "w = (1, -1) and one point x = (1, 1) with label -1 (score 0, predicted +1, so a mistake): "
        << "after training w is " << values_str(got) << "; expected w - x = (0, -2)";
  }
  grade_note("no change on correct points; {} single mistakes each give exactly w + label * x; "
             "a score of 0 with label -1 is a mistake", updates);
}

GRADED_TEST(q1, classifies_all_points, 2) {
  const int64_t max_passes = 1000;
  const PerceptronDataset dataset;  // drawn here, from the checker's seed
  RemoteModel model("PerceptronModel", dataset.dimensions());
  const auto start = std::chrono::steady_clock::now();
  const int64_t served = train(model, dataset.x(), dataset.labels(), PerceptronDataset::kDefaultSize * max_passes,
                               "the 500 separable points of PerceptronDataset()");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Score every point with the trained w, independently of the model's own methods.
  const std::vector<float> w = weights_of(model);
  const std::vector<float> x = dataset.x().to_vector(), labels = dataset.labels().to_vector();
  const int64_t n = dataset.size(), d = dataset.dimensions();
  GRADE_ASSERT((static_cast<int64_t>(w.size())) == (d)) << "after train, w has " << w.size() << " numbers; expected " << d;
  int64_t correct = 0;
  for (int64_t i = 0; i < n; ++i) {
    double score = 0;
    for (int64_t j = 0; j < d; ++j) score += static_cast<double>(w[j]) * x[i * d + j];
    if ((score >= 0 ? 1.0f : -1.0f) == labels[i]) ++correct;
  }
  grade_note("{} of {} points classified correctly after {:.1f} passes ({} examples), {:.2f} s", correct, n,
             static_cast<double>(served) / n, served, seconds);
  GRADE_EXPECT((correct) == (n)) << "after train, w = " << values_str(w) << " classifies " << correct << " of " << n
                        << " points correctly; expected all of them";
  const std::string problem = ember::course::svg::draw_picture(
      "q1", "decision_line", [&] { return decision_line_picture(w, x, labels, d); });
  if (!problem.empty()) grade_note("{}", problem);
}
