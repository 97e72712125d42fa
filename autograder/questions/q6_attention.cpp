// Grader for question q6: attention (6 points).
//   attention_output_shape                    1  layers, mask buffer, (B, T, C) out
//   attention_weights_causal_and_normalised   1  weights 0 on future positions, rows sum to 1
//   attention_matches_reference               1  output = reference, T in {2, 4, 16}
//   multi_head_attention_matches_reference    2  the same for MultiHeadAttention
//   layer_norm_matches_reference              1  LayerNorm against mean / biased variance
//
// Every reference here is computed with plain loops in double precision from fresh random
// weights that this checker makes and sets into the student's layers: the reference shares no
// code path with the student's (no engine matmul, softmax or masked_fill), and a layer the
// student forgot to use changes the reference but not their output. The reference is computed
// from the numbers sent, never from what the runner reports back: a runner may report one thing
// and use another, or report shapes chosen to make the reference trivial (an out_proj of no
// columns made every reference 0) or to make these loops read or write past their vectors. So
// each layer must first report the shape the lesson gives it.
//
// How the attention weights are observed without an accessor: with v_layer set to the
// identity (weight = I, bias = 0) the output is weights @ input, and when the first T
// channels of the input at position s are the one-hot vector e_s, the first T channels of
// output row t are exactly row t of the attention weights.
//
// The student's layers live in the runner (runners/q6_attention.cpp), in the sandbox: this
// checker sets their weights by parameter name (q_layer.weight, ...), reads them back, and
// computes every reference itself. Devices (make grade DEVICE=cuda): the runner moves every
// layer (mask buffers included) and every input to the GPU.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <fmt/format.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Shape;
using ember::Tensor;
using ember::grading::RemoteModel;
using ember::grading::StudentError;

const std::vector<int64_t> kSequenceLengths = {2, 4, 16};

// A whole number in [low, high] from ember's seeded generator.
int64_t random_int(int64_t low, int64_t high) {
  return static_cast<int64_t>(ember::randint(low, high + 1, {1}).item());
}

// Sets a parameter of a layer in the runner to fresh random values (normal, times scale), and
// returns them.
Tensor randomize(RemoteModel& model, const std::string& name, const Shape& shape, float scale) {
  Tensor values = ember::randn(shape) * scale;
  model.set_parameter(name, values);
  return values;
}

// The parameters of a model, by name.
std::map<std::string, Tensor> parameters_of(RemoteModel& model) {
  std::map<std::string, Tensor> out;
  for (auto& [name, value] : model.named_parameters()) out[name] = value;
  return out;
}

// A Linear layer's numbers, for the loops below.
struct LinearValues {
  int64_t in = 0, out = 0;
  std::vector<float> weight;  // (out, in)
  std::vector<float> bias;    // (out,) or empty
  // x (rows, in) row-major -> (rows, out)
  std::vector<double> apply(const std::vector<double>& x, int64_t rows) const {
    std::vector<double> y(static_cast<size_t>(rows * out));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t o = 0; o < out; ++o) {
        double total = bias.empty() ? 0.0 : bias[static_cast<size_t>(o)];
        for (int64_t i = 0; i < in; ++i) {
          total += x[static_cast<size_t>(r * in + i)] * weight[static_cast<size_t>(o * in + i)];
        }
        y[static_cast<size_t>(r * out + o)] = total;
      }
    }
    return y;
  }
};

// Checks that the runner's layer `layer` reports the shape of Linear(in, out): weight (out, in),
// and a bias (out,) exactly when `has_bias`.
void check_linear_shape(const std::map<std::string, Tensor>& params, const std::string& layer, int64_t in,
                        int64_t out, bool has_bias) {
  const std::string linear = fmt::format("Linear({}, {}{})", in, out, has_bias ? "" : ", bias=false");
  const auto weight = params.find(layer + ".weight");
  if (weight == params.end()) {
    throw ember::grading::CheckFailure(
        fmt::format("the model has no parameter {}.weight (it should be a {})", layer, linear));
  }
  const Shape weight_shape{out, in}, bias_shape{out};
  if (weight->second.shape() != weight_shape) {
    throw ember::grading::CheckFailure(fmt::format("{}.weight has shape {}; a {} has {}", layer,
                                         ember::shape_str(weight->second.shape()), linear,
                                         ember::shape_str(weight_shape)));
  }
  const auto bias = params.find(layer + ".bias");
  if ((bias != params.end()) != has_bias) {
    throw ember::grading::CheckFailure(
        fmt::format("{} {}; it should be a {}", layer, has_bias ? "has no bias" : "has a bias", linear));
  }
  if (has_bias && bias->second.shape() != bias_shape) {
    throw ember::grading::CheckFailure(fmt::format("{}.bias has shape {}; a {} has {}", layer,
                                         ember::shape_str(bias->second.shape()), linear,
                                         ember::shape_str(bias_shape)));
  }
}

// Checks the layer's shape, sets it to fresh random numbers, and returns those.
LinearValues set_linear(RemoteModel& model, const std::map<std::string, Tensor>& params, const std::string& layer,
                        int64_t in, int64_t out, bool has_bias, float scale) {
  check_linear_shape(params, layer, in, out, has_bias);
  LinearValues values;
  values.in = in;
  values.out = out;
  values.weight = randomize(model, layer + ".weight", {out, in}, scale).to_vector();
  if (has_bias) values.bias = randomize(model, layer + ".bias", {out}, scale).to_vector();
  return values;
}

std::vector<double> to_doubles(const Tensor& t) {
  const std::vector<float> values = t.contiguous().to_vector();
  return std::vector<double>(values.begin(), values.end());
}

// The classic mistakes, as variants of the reference: when a student's output differs from
// the right answer but equals one of these, the check names that mistake.
struct Variant {
  bool keys_first = false;     // scores K Q^T instead of Q K^T
  enum Scale { SqrtWidth, None, Width } scale = SqrtWidth;  // 1/sqrt(d), nothing, 1/d
  bool keeps_future = false;   // the mask keeps s >= t instead of s <= t
};

// Causal attention for one sequence and a group of channels [first, first + width) of
// q, k, v (each (T, stride) row-major): softmax(q k^T / sqrt(width)) with s > t excluded
// (or one of the variants). Writes the weights (T, T) and adds weights @ v into out
// (T, stride) at those channels.
void reference_head(const std::vector<double>& q, const std::vector<double>& k,
                    const std::vector<double>& v, int64_t T, int64_t stride, int64_t first,
                    int64_t width, std::vector<double>& weights, std::vector<double>& out,
                    const Variant& variant = {}) {
  const double scale = variant.scale == Variant::SqrtWidth ? 1.0 / std::sqrt(static_cast<double>(width))
                       : variant.scale == Variant::Width   ? 1.0 / static_cast<double>(width)
                                                            : 1.0;
  const std::vector<double>& rows = variant.keys_first ? k : q;
  const std::vector<double>& columns = variant.keys_first ? q : k;
  weights.assign(static_cast<size_t>(T * T), 0.0);
  for (int64_t t = 0; t < T; ++t) {
    const auto kept = [&](int64_t s) { return variant.keeps_future ? s >= t : s <= t; };
    std::vector<double> scores(static_cast<size_t>(T), 0.0);
    double largest = -std::numeric_limits<double>::infinity();
    for (int64_t s = 0; s < T; ++s) {
      if (!kept(s)) continue;
      double dot = 0.0;
      for (int64_t c = first; c < first + width; ++c) {
        dot += rows[static_cast<size_t>(t * stride + c)] * columns[static_cast<size_t>(s * stride + c)];
      }
      scores[static_cast<size_t>(s)] = dot * scale;
      largest = std::max(largest, dot * scale);
    }
    double total = 0.0;
    for (int64_t s = 0; s < T; ++s) {
      if (kept(s)) total += (scores[static_cast<size_t>(s)] = std::exp(scores[static_cast<size_t>(s)] - largest));
    }
    for (int64_t s = 0; s < T; ++s) {
      if (!kept(s)) continue;
      const double a = scores[static_cast<size_t>(s)] / total;
      weights[static_cast<size_t>(t * T + s)] = a;
      for (int64_t c = first; c < first + width; ++c) {
        out[static_cast<size_t>(t * stride + c)] += a * v[static_cast<size_t>(s * stride + c)];
      }
    }
  }
}

// The single-head reference: (B, T, C) input -> (B, T, C).
struct AttentionLayers {
  LinearValues q, k, v;
};
std::vector<double> reference_attention(const AttentionLayers& layers, const Tensor& input,
                                        const Variant& variant = {}) {
  const int64_t B = input.size(0), T = input.size(1), C = input.size(2);
  const LinearValues &wq = layers.q, &wk = layers.k, &wv = layers.v;
  const std::vector<double> x = to_doubles(input);
  std::vector<double> result(static_cast<size_t>(B * T * C), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<double> rows(x.begin() + b * T * C, x.begin() + (b + 1) * T * C);
    const std::vector<double> q = wq.apply(rows, T), k = wk.apply(rows, T), v = wv.apply(rows, T);
    std::vector<double> out(static_cast<size_t>(T * C), 0.0), weights;
    reference_head(q, k, v, T, C, 0, C, weights, out, variant);
    std::copy(out.begin(), out.end(), result.begin() + b * T * C);
  }
  return result;
}

// The multi-head reference: (B, T, d_in) -> (B, T, d_out), heads of d_out / num_heads
// consecutive channels each.
struct MultiHeadLayers {
  LinearValues query, key, value, out_proj;
};
std::vector<double> reference_multi_head(const MultiHeadLayers& layers, const Tensor& input,
                                         int64_t num_heads, const Variant& variant = {}) {
  const int64_t B = input.size(0), T = input.size(1), d_in = input.size(2);
  const LinearValues &wq = layers.query, &wk = layers.key, &wv = layers.value, &wo = layers.out_proj;
  const int64_t d_out = wq.out, head_dim = d_out / num_heads;
  const std::vector<double> x = to_doubles(input);
  std::vector<double> result(static_cast<size_t>(B * T * d_out), 0.0);
  for (int64_t b = 0; b < B; ++b) {
    const std::vector<double> rows(x.begin() + b * T * d_in, x.begin() + (b + 1) * T * d_in);
    const std::vector<double> q = wq.apply(rows, T), k = wk.apply(rows, T), v = wv.apply(rows, T);
    std::vector<double> context(static_cast<size_t>(T * d_out), 0.0), weights;
    for (int64_t h = 0; h < num_heads; ++h) {
      reference_head(q, k, v, T, d_out, h * head_dim, head_dim, weights, context, variant);
    }
    const std::vector<double> out = wo.apply(context, T);
    std::copy(out.begin(), out.end(), result.begin() + b * T * d_out);
  }
  return result;
}

// The layer-norm reference along the last dim; with `unbiased`, the variance divides by d - 1,
// and with `eps_outside`, eps is added to the standard deviation instead of the variance (two
// classic mistakes, which the check names when a student's output matches them).
std::vector<double> reference_layer_norm(const Tensor& input, const Tensor& gamma,
                                         const Tensor& beta, double eps, bool unbiased = false,
                                         bool eps_outside = false) {
  const int64_t d = input.size(-1), rows = input.numel() / d;
  const std::vector<double> x = to_doubles(input), g = to_doubles(gamma), be = to_doubles(beta);
  std::vector<double> y(x.size());
  for (int64_t r = 0; r < rows; ++r) {
    double mean = 0.0, variance = 0.0;
    for (int64_t i = 0; i < d; ++i) mean += x[static_cast<size_t>(r * d + i)];
    mean /= static_cast<double>(d);
    for (int64_t i = 0; i < d; ++i) {
      const double centered = x[static_cast<size_t>(r * d + i)] - mean;
      variance += centered * centered;
    }
    variance /= static_cast<double>(unbiased && d > 1 ? d - 1 : d);  // biased unless asked
    const double spread = eps_outside ? std::sqrt(variance) + eps : std::sqrt(variance + eps);
    for (int64_t i = 0; i < d; ++i) {
      const size_t at = static_cast<size_t>(r * d + i);
      y[at] = (x[at] - mean) / spread * g[static_cast<size_t>(i)] + be[static_cast<size_t>(i)];
    }
  }
  return y;
}

bool all_close(const std::vector<float>& actual, const std::vector<double>& expected) {
  if (actual.size() != expected.size()) return false;
  for (size_t i = 0; i < actual.size(); ++i) {
    if (!(std::fabs(actual[i] - expected[i]) <= 1e-4 + 1e-4 * std::fabs(expected[i]))) return false;
  }
  return true;
}

// When a wrong attention output equals one of the classic mistakes, names it.
void diagnose_attention(const Tensor& actual, const std::function<std::vector<double>(const Variant&)>& reference) {
  if (!actual.defined()) return;
  struct Known {
    Variant variant;
    const char* cause;
    const char* section;
  };
  const Known known[] = {
      {{true, Variant::SqrtWidth, false},
       "the scores are K Q^T, the transpose of Q K^T: row t of the score table must hold query t "
       "against every key",
       "The T x T score table"},
      {{false, Variant::None, false}, "the scores are not scaled: divide Q K^T by sqrt(d), d the size of one head's vectors",
       "Scaling by sqrt(d)"},
      {{false, Variant::Width, false}, "the scores are divided by d instead of sqrt(d)", "Scaling by sqrt(d)"},
      {{false, Variant::SqrtWidth, true},
       "the mask keeps the future and hides the past: position t may look at positions s <= t, the "
       "lower triangle (tril)",
       "The causal mask, and why -inf"},
  };
  const std::vector<float> values = actual.contiguous().to_vector();
  for (const Known& k : known) {
    if (all_close(values, reference(k.variant))) {
      ember::grading::diagnose(k.cause, "q6_attention.md", k.section);
      return;
    }
  }
}

// "[1][0][3]": the position of row-major element `flat` in a tensor of this shape.
std::string index_str(const Shape& shape, int64_t flat) {
  std::string text;
  for (auto dim = shape.rbegin(); dim != shape.rend(); ++dim) {
    text = "[" + std::to_string(flat % *dim) + "]" + text;
    flat /= *dim;
  }
  return text;
}

// Compares a tensor with reference values; on the first mismatch fails the test with the
// position and both values and returns false. Also returns the largest difference.
bool expect_close(const Tensor& actual, const Shape& expected_shape,
                  const std::vector<double>& expected, const std::string& what,
                  double* largest_difference = nullptr) {
  GRADE_EXPECT(actual.defined()) << what << ": the output is an undefined tensor";
  if (!actual.defined()) return false;
  GRADE_EXPECT((actual.shape()) == (expected_shape))
      << what << ": output shape " << ember::shape_str(actual.shape()) << ", expected "
      << ember::shape_str(expected_shape);
  if (actual.shape() != expected_shape) return false;
  const std::vector<float> values = actual.contiguous().to_vector();
  double largest = 0.0;
  for (size_t i = 0; i < values.size(); ++i) {
    const double difference = std::fabs(values[i] - expected[i]);
    if (!(difference <= 1e-4 + 1e-4 * std::fabs(expected[i]))) {
      ADD_FAILURE() << fmt::format("{}: output{} is {:.6g}, the reference gives {:.6g}", what,
                                   index_str(expected_shape, static_cast<int64_t>(i)), values[i],
                                   expected[i]);
      return false;
    }
    largest = std::max(largest, difference);
  }
  if (largest_difference != nullptr) *largest_difference = std::max(*largest_difference, largest);
  return true;
}

std::string case_name(int64_t B, int64_t T, int64_t C) {
  return "B=" + std::to_string(B) + ", T=" + std::to_string(T) + ", C=" + std::to_string(C);
}

}  // namespace

GRADED_TEST(q6, attention_output_shape, 1) {
  const int64_t C = 6, block_size = 8;
  RemoteModel attention("Attention", C, block_size);
  // The constructor is given; check it was left intact (the other checks rely on it).
  const std::vector<std::string> layers = {"k_layer", "q_layer", "v_layer"};
  const std::vector<std::string> children = attention.children();
  for (const std::string& name : layers) {
    const bool found = std::find(children.begin(), children.end(), name) != children.end();
    GRADE_ASSERT(found) << "Attention has no submodule named '" << name << "'";
  }
  bool has_mask = false;
  for (const auto& [name, buffer] : attention.named_buffers()) {
    if (name != "mask") continue;
    has_mask = true;
    const Shape expected{1, 1, block_size, block_size};
    GRADE_ASSERT((buffer.shape()) == (expected)) << "the mask buffer has shape "
                                        << ember::shape_str(buffer.shape());
  }
  GRADE_ASSERT(has_mask) << "Attention has no buffer named 'mask'";
  for (int64_t T : {int64_t{1}, int64_t{3}, block_size}) {
    Tensor out = attention.call("forward", ember::randn({2, T, C}));
    GRADE_ASSERT(out.defined()) << "forward returned an undefined tensor";
    const Shape expected{2, T, C};
    GRADE_ASSERT((out.shape()) == (expected))
        << "forward on (2, " << T << ", " << C << ") returned " << ember::shape_str(out.shape())
        << "; expected " << ember::shape_str(expected);
  }
  grade_note("forward gave (B, T, C) for T = 1, 3, 8 with block_size 8");
}

GRADED_TEST(q6, attention_weights_causal_and_normalised, 1) {
  std::vector<double> last_weights;  // (T, T) of the first sequence of the longest case
  int64_t last_T = 0;
  for (int64_t T : kSequenceLengths) {
    const int64_t B = random_int(1, 3);
    const int64_t C = T + random_int(1, 6);  // room for T one-hot position channels
    RemoteModel attention("Attention", C, T + random_int(0, 4));
    const auto params = parameters_of(attention);
    AttentionLayers layers{set_linear(attention, params, "q_layer", C, C, true, 0.5f),
                           set_linear(attention, params, "k_layer", C, C, true, 0.5f), {}};
    // V = input, so output = weights @ input.
    check_linear_shape(params, "v_layer", C, C, true);
    layers.v.in = layers.v.out = C;
    layers.v.weight = ember::eye(C).to_vector();
    layers.v.bias.assign(static_cast<size_t>(C), 0.0f);
    attention.set_parameter("v_layer.weight", ember::eye(C));
    attention.set_parameter("v_layer.bias", ember::zeros({C}));
    // Channels 0..T-1 of position s hold e_s; the other channels are random.
    Tensor positions = ember::eye(T).unsqueeze(0).expand({B, T, T});                  // (B, T, T)
    Tensor input = ember::cat({positions, ember::randn({B, T, C - T})}, 2).contiguous();  // (B, T, C)
    Tensor out = attention.call("forward", input);
    const Shape expected{B, T, C};
    GRADE_ASSERT(out.defined() && out.shape() == expected)
        << "forward on " << ember::shape_str(expected) << " returned "
        << (out.defined() ? ember::shape_str(out.shape()) : std::string("an undefined tensor"));
    // weights[b][t][s] = out[b][t][s] for s < T.
    const std::vector<float> values = out.contiguous().to_vector();
    for (int64_t b = 0; b < B; ++b) {
      for (int64_t t = 0; t < T; ++t) {
        double row_sum = 0.0;
        for (int64_t s = 0; s < T; ++s) {
          const double a = values[static_cast<size_t>((b * T + t) * C + s)];
          row_sum += a;
          if (s > t) {
            if (!(std::fabs(a) <= 1e-6)) {
              ember::grading::diagnose(
                  "the mask does not hide the future: fill the scores of positions s > t (where the mask "
                  "is 0) with -inf before the softmax, so their weights become 0",
                  "q6_attention.md", "The causal mask, and why -inf");
            }
            GRADE_ASSERT((std::fabs(a)) <= (1e-6)) << fmt::format(
                "({}) position {} gives weight {:.6g} to the future position {}; masked weights "
                "must be 0",
                case_name(B, T, C), t, a, s);
          } else {
            GRADE_ASSERT((a) >= (-1e-6)) << fmt::format("({}) weight[{}][{}] is negative: {:.6g}",
                                               case_name(B, T, C), t, s, a);
          }
        }
        GRADE_ASSERT(std::fabs(static_cast<double>(row_sum) - static_cast<double>(1.0)) <= (1e-4)) << fmt::format(
            "({}) the attention weights of position {} sum to {:.6g}; softmax over the last dim "
            "makes each row sum to 1",
            case_name(B, T, C), t, row_sum);
      }
    }
    // Weights that are 0 on the future and sum to 1 could still be made up (every position
    // looking only at the first, say): they must also be the softmax of the masked scores of the
    // layers' Q and K, Q K^T or K Q^T, scaled right or wrong (this check is for the mask and the
    // softmax; attention_matches_reference names the scaling mistakes).
    bool from_scores = false;
    for (bool keys_first : {false, true}) {
      for (Variant::Scale scale : {Variant::SqrtWidth, Variant::None, Variant::Width}) {
        from_scores = from_scores || all_close(values, reference_attention(layers, input, {keys_first, scale, false}));
      }
    }
    GRADE_ASSERT(from_scores) << fmt::format(
        "({}) the weights are 0 on the future and every row sums to 1, but they are not the softmax of the masked "
        "scores of q_layer's Q and k_layer's K (set to random values by the grader): softmax(mask(Q K^T / sqrt(C)))",
        case_name(B, T, C));
    last_T = T;
    last_weights.assign(static_cast<size_t>(T * T), 0.0);
    for (int64_t t = 0; t < T; ++t) {
      for (int64_t s = 0; s < T; ++s) {
        last_weights[static_cast<size_t>(t * T + s)] = values[static_cast<size_t>(t * C + s)];
      }
    }
  }
  grade_note("for T = 2, 4, 16: weights on future positions are 0, every row sums to 1, and the weights are the "
             "softmax of the scores");

  // A picture of the weights just checked, when EMBER_PICTURES_DIR asks for one.
  const std::string problem = ember::course::svg::draw_picture("q6", "attention_weights", [&] {
    namespace svg = ember::course::svg;
    svg::Heatmap map(last_T, last_T, last_weights);
    map.title = fmt::format("q6: attention weights of one sequence (T = {}, random layers)", last_T);
    map.x_label = "key position s";
    map.y_label = "query position t";
    map.colour_min = 0;
    map.colour_bar_label = "weight";
    map.cell_size = 24;
    return map.svg();
  });
  if (!problem.empty()) grade_note("{}", problem);
}

GRADED_TEST(q6, attention_matches_reference, 1) {
  double largest = 0.0;
  for (int64_t T : kSequenceLengths) {
    const int64_t B = random_int(1, 4), C = random_int(2, 12);
    RemoteModel attention("Attention", C, T + random_int(0, 4));
    const auto params = parameters_of(attention);
    const AttentionLayers layers{set_linear(attention, params, "q_layer", C, C, true, 0.5f),
                                 set_linear(attention, params, "k_layer", C, C, true, 0.5f),
                                 set_linear(attention, params, "v_layer", C, C, true, 0.5f)};
    Tensor input = ember::randn({B, T, C});
    const std::vector<double> expected = reference_attention(layers, input);
    const Tensor out = attention.call("forward", input);
    if (!expect_close(out, {B, T, C}, expected, "Attention (" + case_name(B, T, C) + ")", &largest)) {
      diagnose_attention(out, [&](const Variant& v) { return reference_attention(layers, input, v); });
      grade_note("Attention differs from softmax(mask(Q K^T / sqrt(C))) V for {}",
                 case_name(B, T, C));
      return;
    }
  }
  grade_note("Attention matches the reference for T = 2, 4, 16 (largest difference {:.2e})",
             largest);
}

GRADED_TEST(q6, multi_head_attention_matches_reference, 2) {
  double largest = 0.0;
  int cases = 0;
  for (int64_t T : kSequenceLengths) {
    for (bool qkv_bias : {false, true}) {
      const int64_t B = random_int(1, 3), d_in = random_int(2, 10);
      const int64_t num_heads = random_int(1, 3), d_out = num_heads * random_int(1, 4);
      // Dropout must be off outside training: build one with dropout 0.5 and call eval().
      const float dropout = qkv_bias ? 0.5f : 0.0f;
      RemoteModel attention("MultiHeadAttention", d_in, d_out, T + random_int(0, 4), num_heads,
                            static_cast<int64_t>(qkv_bias), static_cast<double>(dropout));
      attention.eval();
      const std::string name = "MultiHeadAttention(d_in=" + std::to_string(d_in) +
                               ", d_out=" + std::to_string(d_out) +
                               ", num_heads=" + std::to_string(num_heads) +
                               ", qkv_bias=" + (qkv_bias ? "true" : "false") +
                               ", dropout=" + (qkv_bias ? "0.5, in eval mode" : "0") + ") on (" +
                               std::to_string(B) + ", " + std::to_string(T) + ", " +
                               std::to_string(d_in) + ")";
      const auto params = parameters_of(attention);
      // (Each layer's shape is checked first: W_query, W_key and W_value have a bias exactly when
      // qkv_bias is true; out_proj always has one.)
      const MultiHeadLayers layers{set_linear(attention, params, "W_query", d_in, d_out, qkv_bias, 0.5f),
                                   set_linear(attention, params, "W_key", d_in, d_out, qkv_bias, 0.5f),
                                   set_linear(attention, params, "W_value", d_in, d_out, qkv_bias, 0.5f),
                                   set_linear(attention, params, "out_proj", d_out, d_out, true, 0.5f)};
      Tensor input = ember::randn({B, T, d_in});
      const std::vector<double> expected = reference_multi_head(layers, input, num_heads);
      const Tensor out = attention.call("forward", input);
      if (!expect_close(out, {B, T, d_out}, expected, name, &largest)) {
        diagnose_attention(out, [&](const Variant& v) { return reference_multi_head(layers, input, num_heads, v); });
        grade_note("{} differs from the reference", name);
        return;
      }
      ++cases;
    }
  }
  // d_out must split evenly into heads.
  std::string message;
  try {
    RemoteModel bad("MultiHeadAttention", 4, 6, 8, 4, int64_t{0}, 0.0);
  } catch (const StudentError& error) {
    if (error.not_implemented()) throw;
    if (error.ember_error()) message = error.what();
  }
  GRADE_EXPECT(!(message.empty())) << "MultiHeadAttention(d_in=4, d_out=6, context_length=8, "
                                   "num_heads=4) should throw an ember::Error: 6 heads' worth of "
                                   "columns cannot be split into 4 equal heads";
  grade_note("MultiHeadAttention matches the reference in {} cases (largest difference {:.2e}); "
             "d_out=6, num_heads=4 throws: {}",
             cases, largest, message.empty() ? std::string("no") : message);
}

GRADED_TEST(q6, layer_norm_matches_reference, 1) {
  double largest = 0.0;
  struct Case {
    Shape shape;
    float eps;
  };
  const std::vector<Case> cases = {
      {{2, 5, 8}, 1e-5f}, {{7, 3}, 1e-5f}, {{3, 4, 16}, 0.5f}, {{4}, 1e-5f}};
  for (const Case& c : cases) {
    const int64_t d = c.shape.back();
    RemoteModel norm = c.eps == 1e-5f ? RemoteModel("LayerNorm", d)
                                      : RemoteModel("LayerNorm", d, static_cast<double>(c.eps));
    GRADE_ASSERT((norm.call_value("uses_nn_layer_norm").as_int("uses nn::LayerNorm")) == (0))
        << "LayerNorm should be written from mean and variance, not with nn::LayerNorm";
    const Shape d_shape{d};
    const auto parameters = parameters_of(norm);
    GRADE_ASSERT(parameters.count("gamma") && parameters.count("beta"))
        << "LayerNorm must register its parameters as \"gamma\" and \"beta\"";
    GRADE_ASSERT(parameters.at("gamma").shape() == d_shape && parameters.at("beta").shape() == d_shape)
        << "LayerNorm(" << d << "): gamma and beta must both have shape (" << d << ",)";
    for (float g : parameters.at("gamma").to_vector()) GRADE_ASSERT((g) == (1.0f)) << "gamma must start as ones";
    for (float b : parameters.at("beta").to_vector()) GRADE_ASSERT((b) == (0.0f)) << "beta must start as zeros";
    const Tensor gamma = randomize(norm, "gamma", d_shape, 1.0f);
    const Tensor beta = randomize(norm, "beta", d_shape, 1.0f);
    Tensor input = ember::randn(c.shape) * 3.0f + 2.0f;  // far from mean 0, variance 1
    const std::vector<double> expected = reference_layer_norm(input, gamma, beta, static_cast<double>(c.eps));
    const std::string name = "LayerNorm(" + std::to_string(d) + ", eps=" + std::to_string(c.eps) +
                             ") on " + ember::shape_str(c.shape);
    const Tensor out = norm.call("forward", input);
    if (!expect_close(out, c.shape, expected, name, &largest)) {
      const double eps = static_cast<double>(c.eps);
      const std::vector<float> values = out.defined() ? out.contiguous().to_vector() : std::vector<float>();
      if (all_close(values, reference_layer_norm(input, gamma, beta, eps, true))) {
        ember::grading::diagnose("the variance divides by d - 1 (unbiased); layer norm uses the biased variance, "
                                 "dividing by d, as PyTorch does",
                                 "q6_attention.md", "Part 3: Layer normalisation");
      } else if (all_close(values, reference_layer_norm(input, gamma, beta, eps, false, true))) {
        ember::grading::diagnose("eps is added outside the square root: (x - mean) / sqrt(var + eps)",
                                 "q6_attention.md", "Part 3: Layer normalisation");
      }
      grade_note("{} differs from (x - mean) / sqrt(biased variance + eps) * gamma + beta", name);
      return;
    }
  }
  grade_note("LayerNorm matches the reference in {} cases (largest difference {:.2e})",
             cases.size(), largest);
}
