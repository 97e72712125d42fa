// Grader for question q5: convolution (4 points).
//   convolve_matches_reference   1  Convolve = plain loops, for many input and kernel shapes
//   convolve_weight_gradient     1  d(loss)/d(weight) from autograd = the definition's (or, when
//                                   the forward differs, finite differences of the student's own)
//   test_accuracy                2  >= 0.80 on 1,000 held-out t10k digits, with the
//                                   convolution weights registered and in use
//
// The student's code runs in the runner (runners/q5_convolution.cpp), in the sandbox. train
// gets the training and validation images only; the test images go to the runner after
// training, a batch at a time, and their labels never leave this checker, which counts the
// accuracy. Devices (make grade DEVICE=cuda): the runner moves everything it gets there.
//
// The lesson asks for Convolve written with slices and element-wise ops. Ember has no
// built-in convolution op (no conv2d in ops.h or nn/), so there is no engine shortcut for
// this grader to detect; should one be added, this file must check that Convolve does not
// call it (e.g. by inspecting the grad_fn names of its result).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/convolution_dataset.h>
#include <fmt/format.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Shape;
using ember::Tensor;
using ember::grading::call_function;
using ember::grading::RemoteModel;

constexpr double kAccuracyThreshold = 0.80;

// The definition, in loops: out[y][x] = sum_ij input[y + i][x + j] * weight[i][j].
std::vector<double> reference_convolve(const Tensor& input, const Tensor& weight) {
  const int64_t H = input.size(0), W = input.size(1), h = weight.size(0), w = weight.size(1);
  const std::vector<float> in = input.contiguous().to_vector(), k = weight.contiguous().to_vector();
  const int64_t out_h = H - h + 1, out_w = W - w + 1;
  std::vector<double> out(static_cast<size_t>(out_h * out_w), 0.0);
  for (int64_t y = 0; y < out_h; ++y) {
    for (int64_t x = 0; x < out_w; ++x) {
      double total = 0.0;
      for (int64_t i = 0; i < h; ++i) {
        for (int64_t j = 0; j < w; ++j) {
          total += static_cast<double>(in[static_cast<size_t>((y + i) * W + x + j)]) *
                   k[static_cast<size_t>(i * w + j)];
        }
      }
      out[static_cast<size_t>(y * out_w + x)] = total;
    }
  }
  return out;
}

std::string shapes(const Shape& input, const Shape& weight) {
  return "input " + ember::shape_str(input) + ", weight " + ember::shape_str(weight);
}

// (input shape, weight shape): square and not, kernels of 1 x 1 and of the whole input,
// a single row and a single column, and the 28 x 28 digit with the model's 3 x 3 kernel.
const std::vector<std::pair<Shape, Shape>> kCases = {
    {{5, 5}, {3, 3}}, {{7, 4}, {2, 3}}, {{4, 9}, {3, 1}}, {{6, 6}, {1, 1}},
    {{4, 6}, {4, 6}}, {{1, 1}, {1, 1}}, {{1, 8}, {1, 3}}, {{8, 3}, {5, 2}},
    {{28, 28}, {3, 3}}};

// The learned kernel, a test digit, and that digit convolved with the kernel (computed
// here with the loops above, not with the student's Convolve).
std::string kernel_picture(const Tensor& kernel, const Tensor& digit, int digit_label) {
  namespace svg = ember::course::svg;
  Tensor weights = kernel.detach();
  svg::Heatmap kernel_map(weights);
  kernel_map.title = "learned 3 x 3 kernel";
  kernel_map.scale = svg::ColourScale::Diverging;
  kernel_map.show_values = true;
  kernel_map.cell_size = 56;
  kernel_map.colour_bar_label = "weight";

  const Tensor image = digit.reshape({28, 28});
  const std::vector<double> convolved = reference_convolve(image, weights);
  svg::Heatmap before(image);
  before.title = fmt::format("a test digit ({})", digit_label);
  before.scale = svg::ColourScale::Ink;
  before.index_labels = false;
  before.colour_bar = false;
  before.cell_size = 7;
  svg::Heatmap after(26, 26, convolved);
  after.title = "convolved with the kernel";
  after.scale = svg::ColourScale::Diverging;
  after.index_labels = false;
  after.cell_size = 7;
  return svg::row_svg({&kernel_map, &before, &after}, "q5: the convolution the model learned");
}

// The fraction of images whose largest score from forward is the right digit, counted here in
// batches of 1,000, in evaluation mode.
double accuracy_of(RemoteModel& model, const Tensor& images, const Tensor& digits) {
  model.eval();
  const std::vector<float> labels = digits.to_vector();
  const int64_t n = images.size(0), batch = 1000;
  int64_t correct = 0;
  for (int64_t start = 0; start < n; start += batch) {
    const int64_t end = std::min(n, start + batch);
    const Tensor scores = model.evaluate("forward", images.slice(0, start, end));
    if (!scores.defined() || scores.shape() != Shape{end - start, 10}) {
      throw std::runtime_error(fmt::format("forward(x) for x of shape ({}, 784) returned {}; expected ({}, 10)",
                                           end - start,
                                           scores.defined() ? ember::shape_str(scores.shape()) : "an undefined tensor",
                                           end - start));
    }
    const std::vector<float> values = scores.to_vector();
    for (int64_t i = 0; i < end - start; ++i) {
      int64_t best = 0;
      for (int64_t c = 1; c < 10; ++c) {
        if (values[i * 10 + c] > values[i * 10 + best]) best = c;
      }
      if (static_cast<float>(best) == labels[start + i]) ++correct;
    }
  }
  return static_cast<double>(correct) / static_cast<double>(n);
}

}  // namespace

GRADED_TEST(q5, convolve_matches_reference, 1) {
  double largest = 0.0;
  for (const auto& [input_shape, weight_shape] : kCases) {
    Tensor input = ember::randn(input_shape);
    Tensor weight = ember::randn(weight_shape);
    Tensor out = call_function("Convolve", input, weight).as_tensor("Convolve");
    const Shape expected_shape{input_shape[0] - weight_shape[0] + 1,
                               input_shape[1] - weight_shape[1] + 1};
    GRADE_ASSERT(out.defined()) << "Convolve returned an undefined tensor for "
                               << shapes(input_shape, weight_shape);
    if (out.shape() != expected_shape && out.dim() == 2 && out.size(0) == expected_shape[0] - 1 &&
        out.size(1) == expected_shape[1] - 1) {
      ember::grading::diagnose("the output is one row and one column short: an input of H rows has H - h + 1 "
                               "windows of h rows (the last one starts at row H - h), so the loops run to H - h "
                               "inclusive",
                               "q5_convolution.md", "No padding, and the output size");
    }
    GRADE_ASSERT((out.shape()) == (expected_shape))
        << "Convolve(" << shapes(input_shape, weight_shape) << ") returned shape "
        << ember::shape_str(out.shape()) << "; expected " << ember::shape_str(expected_shape);
    const std::vector<double> expected = reference_convolve(input, weight);
    const std::vector<float> actual = out.contiguous().to_vector();
    for (size_t k = 0; k < actual.size(); ++k) {
      const double difference = std::fabs(actual[k] - expected[k]);
      if (!(difference <= 1e-4 + 1e-4 * std::fabs(expected[k]))) {
        // The classic mix-up: the convolution of signal processing flips the kernel.
        std::vector<float> reversed = weight.to_vector();  // row-major (h, w) reversed = flipped both ways
        std::reverse(reversed.begin(), reversed.end());
        const std::vector<double> flipped = reference_convolve(input, ember::from_vector(reversed, weight.shape()));
        bool matches_flipped = true;
        for (size_t i = 0; i < actual.size(); ++i) {
          matches_flipped = matches_flipped && std::fabs(actual[i] - flipped[i]) <= 1e-4 + 1e-4 * std::fabs(flipped[i]);
        }
        if (matches_flipped) {
          ember::grading::diagnose("Convolve flips the kernel (weight[h - 1 - i][w - 1 - j]): the lesson's Convolve "
                                   "multiplies input[y + i][x + j] by weight[i][j], unflipped",
                                   "q5_convolution.md", "Sliding a kernel over a picture");
        }
      }
      GRADE_ASSERT((difference) <= (1e-4 + 1e-4 * std::fabs(expected[k]))) << fmt::format(
          "Convolve({}): output[{}][{}] is {:.6g}, expected {:.6g} = sum_ij input[y + i][x + j] * "
          "weight[i][j] (the kernel is not flipped)",
          shapes(input_shape, weight_shape), k / static_cast<size_t>(expected_shape[1]),
          k % static_cast<size_t>(expected_shape[1]), actual[k], expected[k]);
      largest = std::max(largest, difference);
    }
  }
  grade_note("Convolve matches the loops in all {} cases (largest difference {:.2e})",
             kCases.size(), largest);
}

GRADED_TEST(q5, convolve_weight_gradient, 1) {
  // loss = sum(Convolve(input, weight) * R) for a fixed random R: its gradient with respect to the
  // weight, from autograd, must be the definition's (sum over y, x of R[y][x] * input[y + i][x + j],
  // which is the reference convolution of the input with R) or, when the student's forward
  // differs from the definition (convolve_matches_reference's point, not this one's), the
  // gradient of the student's own Convolve, by central differences (exact up to rounding:
  // Convolve is linear in the weight). A Convolve that does not read its input, or whose
  // gradient is 0, does not count: a constant has gradient 0 both ways.
  const std::vector<std::pair<Shape, Shape>> cases = {{{6, 5}, {3, 3}}, {{5, 7}, {2, 4}},
                                                      {{4, 4}, {4, 4}}, {{3, 5}, {1, 1}}};
  double largest = 0.0;
  bool own_forward = false;  // passed only against the student's own Convolve
  for (const auto& [input_shape, weight_shape] : cases) {
    Tensor input = ember::randn(input_shape);
    Tensor weight = ember::randn(weight_shape);  // sent as a leaf that requires grad
    Tensor projection = ember::randn({input_shape[0] - weight_shape[0] + 1, input_shape[1] - weight_shape[1] + 1});
    Tensor loss = call_function("projected_convolve", input, ember::grading::with_grad(weight), projection)
                      .as_tensor("the loss");
    GRADE_ASSERT(loss.defined()) << "Convolve returned an undefined tensor";
    GRADE_ASSERT(loss.requires_grad())
        << "Convolve(" << shapes(input_shape, weight_shape) << ") is not connected to the weight "
        << "in the autograd graph: compute it with tensor ops on weight (no to_vector / at)";
    ember::grading::backward_last_result();
    const std::vector<Tensor> grads = ember::grading::input_gradients();  // input, weight, projection
    Tensor grad = grads.size() == 3 ? grads[1] : Tensor();
    GRADE_ASSERT(grad.defined() && grad.shape() == weight_shape)
        << "no gradient of shape " << ember::shape_str(weight_shape) << " reached the weight";
    const std::vector<float> analytic = grad.contiguous().to_vector();
    const std::vector<double> expected = reference_convolve(input, projection);  // (h, w)
    bool matches = true;
    for (size_t k = 0; k < analytic.size(); ++k) {
      matches = matches && std::fabs(analytic[k] - expected[k]) <= 1e-3 * std::max(1.0, std::fabs(expected[k]));
    }
    if (matches) {
      for (size_t k = 0; k < analytic.size(); ++k) largest = std::max(largest, std::fabs(analytic[k] - expected[k]));
      continue;
    }
    // Against the student's own Convolve.
    const std::vector<float> base = weight.to_vector();
    const auto convolve = [&](const Tensor& image, const std::vector<float>& kernel) {
      const Tensor out =
          call_function("Convolve", image, ember::from_vector(kernel, weight_shape)).as_tensor("Convolve");
      if (!out.defined() || out.shape() != projection.shape()) {
        throw ember::grading::CheckFailure("Convolve changed its shape");
      }
      return out;
    };
    const double moved_by_input =
        static_cast<double>((convolve(input, base) - convolve(ember::randn(input_shape), base)).abs().max().item());
    bool consistent = true, nonzero = false;
    std::string first_difference;
    for (size_t k = 0; k < base.size(); ++k) {
      const float step = 1e-2f;
      std::vector<float> up = base, down = base;
      up[k] += step;
      down[k] -= step;
      const Tensor difference = (convolve(input, up) - convolve(input, down)) * projection;
      const double numeric = static_cast<double>(difference.sum().item()) / (2.0 * step);
      nonzero = nonzero || std::fabs(numeric) > 1e-3;
      const bool agrees = std::fabs(analytic[k] - numeric) <= 1e-2 * std::max(1.0, std::fabs(numeric));
      if (!agrees && consistent) {
        const size_t columns = static_cast<size_t>(weight_shape[1]);
        first_difference = fmt::format("d(loss)/d(weight[{}][{}]) is {:.6g} by autograd, {:.6g} by finite differences "
                                       "of your Convolve and {:.6g} by the definition",
                                       k / columns, k % columns, analytic[k], numeric, expected[k]);
      }
      consistent = consistent && agrees;
    }
    GRADE_ASSERT(consistent) << "Convolve(" << shapes(input_shape, weight_shape) << "): " << first_difference;
    GRADE_ASSERT(moved_by_input > 1e-6 && nonzero)
        << "Convolve(" << shapes(input_shape, weight_shape) << ") "
        << (moved_by_input > 1e-6 ? "has gradient 0 with respect to the weight" : "does not depend on its input")
        << ": it is not a convolution of the input with the weight";
    own_forward = true;
  }
  if (own_forward) {
    grade_note("autograd's weight gradient agrees with finite differences of your Convolve, whose forward differs from "
               "the definition (see convolve_matches_reference)");
  } else {
    grade_note("the weight gradient matches the definition's in {} cases (largest difference {:.2e})", cases.size(),
               largest);
  }
}

GRADED_TEST(q5, test_accuracy, 2) {
  RemoteModel model("DigitConvolutionalModel");
  // Sanity first: the kernel is a registered (3, 3) parameter and forward uses it.
  bool registered = false;
  for (const auto& [name, parameter] : model.named_parameters()) {
    if (name == "convolution_weights") registered = parameter.shape() == Shape{3, 3};
  }
  GRADE_ASSERT(registered) << "the model has no (3, 3) parameter named \"convolution_weights\"";
  Tensor scores = model.call("forward", ember::rand({4, 784}));
  GRADE_ASSERT(scores.defined() && scores.shape() == Shape({4, 10}))
      << "forward on (4, 784) returned "
      << (scores.defined() ? ember::shape_str(scores.shape()) : std::string("an undefined tensor"))
      << "; expected (4, 10)";
  model.zero_grad();
  model.call("get_loss", ember::rand({4, 784}), ember::one_hot(ember::randint(0, 10, {4}), 10));
  ember::grading::backward_last_result();
  bool reached = false;
  for (const auto& [name, grad] : model.named_gradients()) {
    if (name == "convolution_weights") reached = grad.defined();
  }
  GRADE_ASSERT(reached) << "no gradient reached convolution_weights: forward must convolve the images with it";
  model.zero_grad();

  // Read here; the runner gets the training and validation images only.
  ember::grading::verify_datasets({"mnist/train-images-idx3-ubyte.gz", "mnist/train-labels-idx1-ubyte.gz",
                                   "mnist/t10k-images-idx3-ubyte.gz", "mnist/t10k-labels-idx1-ubyte.gz"});
  const ember::course::DigitConvolutionDataset dataset;
  const auto start = std::chrono::steady_clock::now();
  model.call_value("train", dataset.train_x(), dataset.train_labels(), dataset.validation_x(),
                   dataset.validation_labels());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double accuracy = accuracy_of(model, dataset.test_x(), dataset.test_labels());
  const double validation_accuracy = accuracy_of(model, dataset.validation_x(), dataset.validation_labels());
  grade_note("test accuracy {:.4f} on {} held-out digits (threshold {}); validation accuracy "
             "{:.4f}; training took {:.1f} s",
             accuracy, dataset.test_x().size(0), kAccuracyThreshold, validation_accuracy, seconds);
  GRADE_EXPECT((accuracy) >= (kAccuracyThreshold))
      << fmt::format("test accuracy {:.4f} is below the threshold {}", accuracy, kAccuracyThreshold);

  // A picture, when EMBER_PICTURES_DIR asks for one; it never changes the points.
  const Tensor kernel = model.parameter("convolution_weights");
  const std::string problem = ember::course::svg::draw_picture("q5", "kernel", [&] {
    return kernel_picture(kernel, dataset.test_x()[0], static_cast<int>(dataset.test_labels()[0].item()));
  });
  if (!problem.empty()) grade_note("{}", problem);
}
