// Grader for question q7: a GPT (11 points).
//   shapes_at_every_stage             1  attention, MLP and Block (B, T, C) -> (B, T, C); GPT
//                                        (B, T) -> (B, T, 65); a too long sequence and heads that do
//                                        not divide n_embd throw an ember::Error
//   attention_is_causal               1  changing a later character never changes an earlier
//                                        position's outputs (attention alone, then the whole GPT), and
//                                        position t's logits depend on character t
//   loss_is_cross_entropy             1  loss(idx, targets) = the mean cross entropy of forward(idx)
//                                        over (B*T, 65) against the targets (B*T,)
//   untrained_loss_near_ln_65         1  an untrained GPT's loss on held-out text is within 0.3 of ln(65)
//   gradients_reach_every_parameter   1  backward from the loss gives every parameter a non-zero gradient
//   weight_decay_on_matrices_only     1  configure_optimizer: weight decay on every parameter of 2 or
//                                        more dims, none on the others, every parameter held once
//   generate_samples_reproducibly     1  generate keeps idx, adds valid ids, gives the same text for the
//                                        same seed and another for another seed, and with top_k = 1
//                                        is the greedy continuation (past block_size too)
//   validation_loss                   4  a small GPT trained by train_gpt reaches a loss of at most
//                                        kValLossThreshold on windows of the validation text, each
//                                        character predicted from the ones before it alone (the
//                                        model is sent prefixes: it never sees an answer first),
//                                        and not below kImplausibleValLoss (a copy of the text)
//
// The student's modules live in the runner (runners/q7_gpt.cpp), in the sandbox. This checker
// computes every loss it grades itself, from the logits the model returns. train gets the
// training text (the first 90% of tiny Shakespeare) and the vocabulary only; of the validation
// text (the last 10%) train never sees any; the runner gets the scored windows as prefixes that
// end before the character scored (validation_loss), and two whole windows for the causality
// probe once scoring is done. Devices (make grade DEVICE=cuda): the runner moves
// the models, their inputs and the training text there.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include <ember/ember.h>
#include <ember_course/shakespeare.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "grading.h"
#include "runner_client.h"
#include "svg_plot.h"

namespace {

using ember::Shape;
using ember::shape_str;
using ember::Tensor;
namespace F = ember::nn::functional;
using ember::grading::RemoteModel;
using ember::grading::StudentError;
using ember::grading::Value;

constexpr const char* kNote = "q7_gpt.md";
constexpr int64_t kVocab = 65;

// A model's sizes, as the runner reads them: (block_size, vocab_size, n_layer, n_head, n_embd,
// dropout, bias).
struct Config {
  int64_t block_size = 16;
  int64_t vocab_size = kVocab;
  int64_t n_layer = 2;
  int64_t n_head = 2;
  int64_t n_embd = 16;
  double dropout = 0.0;
  int64_t bias = 1;
  std::string str() const {
    return fmt::format("GPTConfig{{block_size={}, vocab_size={}, n_layer={}, n_head={}, n_embd={}, dropout={}, bias={}}}",
                       block_size, vocab_size, n_layer, n_head, n_embd, dropout, bias ? "true" : "false");
  }
};

RemoteModel make(const std::string& model, const Config& c) {
  return RemoteModel(model, c.block_size, c.vocab_size, c.n_layer, c.n_head, c.n_embd, c.dropout, c.bias);
}

// The model the training check trains, and how (see docs/grading-margins.md for the margins).
const Config kTrainedConfig{32, kVocab, 2, 4, 64, 0.0, 1};
struct TrainSettings {
  int64_t batch_size = 16;
  int64_t max_iters = 800;
  double learning_rate = 3e-3;
  double min_lr = 3e-4;
  int64_t warmup_iters = 50;
  int64_t lr_decay_iters = 800;
  double weight_decay = 0.1;
  double beta1 = 0.9;
  double beta2 = 0.99;
  double grad_clip = 1.0;
  Value value() const {
    return Value::list({Value::of(batch_size), Value::of(max_iters), Value::of(learning_rate), Value::of(min_lr),
                        Value::of(warmup_iters), Value::of(lr_decay_iters), Value::of(weight_decay),
                        Value::of(beta1), Value::of(beta2), Value::of(grad_clip)});
  }
};
const TrainSettings kTrainSettings;
constexpr double kValLossThreshold = 2.25;
// Below this no model of kTrainedConfig's size (0.1 M parameters) learns tiny Shakespeare in the
// question's time: nanoGPT's "baby GPT", 10 M parameters trained for 5,000 steps, reaches 1.47.
// A lower loss says the predictions come from a copy of the (public) validation text, not from
// what the model learned (docs/security.md, "A model that knows the held-out text").
constexpr double kImplausibleValLoss = 1.3;
// The validation windows: kValWindows windows of kTrainedConfig.block_size for the trained model
// (the first slots of validation_starts), the next kUntrainedWindows for the untrained one; sent
// kValBatchSize at a time.
constexpr int64_t kValWindows = 512;
constexpr int64_t kUntrainedWindows = 128;
constexpr int64_t kValBatchSize = 64;

const ember::course::ShakespeareDataset& shakespeare() {
  static const ember::course::ShakespeareDataset data = [] {
    ember::grading::verify_datasets({"tinyshakespeare/input.txt"});
    return ember::course::ShakespeareDataset();
  }();
  return data;
}

std::string shape_or_undefined(const Tensor& t) { return t.defined() ? shape_str(t.shape()) : "an undefined tensor"; }

bool all_finite(const std::vector<float>& values) {
  return std::all_of(values.begin(), values.end(), [](float v) { return std::isfinite(v); });
}

// The mean cross entropy of logits (B, T, V) against targets (B, T), in double precision.
double mean_cross_entropy(const Tensor& logits, const Tensor& targets) {
  const int64_t V = logits.size(-1);
  const std::vector<float> scores = logits.contiguous().to_vector();
  const std::vector<float> truth = targets.contiguous().to_vector();
  double total = 0.0;
  for (size_t row = 0; row < truth.size(); ++row) {
    const float* s = scores.data() + row * static_cast<size_t>(V);
    double largest = s[0];
    for (int64_t c = 1; c < V; ++c) largest = std::max(largest, static_cast<double>(s[c]));
    double sum = 0.0;
    for (int64_t c = 0; c < V; ++c) sum += std::exp(static_cast<double>(s[c]) - largest);
    total += largest + std::log(sum) - static_cast<double>(s[static_cast<int64_t>(truth[row])]);
  }
  return total / static_cast<double>(truth.size());
}

// forward(idx) of a GPT, checked to be finite (B, T, vocab) logits.
Tensor logits_of(RemoteModel& gpt, const Tensor& idx, int64_t vocab, const std::string& what) {
  Tensor logits = gpt.evaluate("forward", idx);  // no backward follows: no graph
  const Shape expected{idx.size(0), idx.size(1), vocab};
  if (!logits.defined() || logits.shape() != expected) {
    throw std::runtime_error(fmt::format("{}: forward on idx {} returned {}; expected logits {}", what,
                                         shape_str(idx.shape()), shape_or_undefined(logits), shape_str(expected)));
  }
  if (!all_finite(logits.to_vector())) {
    throw std::runtime_error(fmt::format("{}: forward on idx {} returned logits that are not all finite", what,
                                         shape_str(idx.shape())));
  }
  return logits;
}

// Where the windows the checker scores start in the validation text. The text is cut into slots
// of block_size + 1 characters (a window and the character after it), and the slots are shuffled
// once per grading seed by the checker's generator; a check takes `count` of them from `first`
// on. No two windows share a character, and the checks take different slots, so no window the
// runner is given holds another window's answers (validation_loss says why that matters).
std::vector<int64_t> validation_starts(int64_t first, int64_t count, int64_t block_size) {
  const ember::GeneratorState saved = ember::generator_state();
  ember::manual_seed(ember::grading::checker_seed("q7 validation slots"));
  const int64_t slots = shakespeare().val().size() / (block_size + 1);
  const std::vector<int64_t> order = ember::randperm_indices(slots);
  ember::set_generator_state(saved);
  std::vector<int64_t> starts;
  for (int64_t i = first; i < first + count && i < slots; ++i) {
    starts.push_back(order[static_cast<size_t>(i)] * (block_size + 1));
  }
  return starts;
}

// The mean loss of a GPT over the validation windows starting at `starts`, each character
// predicted from the characters before it only. A window's answers are its own next
// characters, so a forward pass over the whole window hands a model every answer but the last
// one as input: a model that reads ahead would score a loss near 0 while it looks causal to a
// probe (it can tell a probe from the real windows, or remember the real ones). Instead each
// window is sent as its prefixes, shortest first, (B, 1), (B, 2), ..., (B, T), and only the last
// position of each is scored: the model never sees a character before it has predicted it. For
// a causal model this is the same figure as scoring every position of the whole window.
double validation_loss(RemoteModel& gpt, const std::vector<int64_t>& starts, int64_t block_size) {
  gpt.eval();
  double total = 0.0;
  int64_t scored = 0;
  const size_t per_batch = static_cast<size_t>(kValBatchSize);
  for (size_t first = 0; first < starts.size(); first += per_batch) {
    const size_t last_window = std::min(starts.size(), first + per_batch);
    const std::vector<int64_t> chunk(starts.begin() + static_cast<std::ptrdiff_t>(first),
                                     starts.begin() + static_cast<std::ptrdiff_t>(last_window));
    const ember::data::Batch batch = shakespeare().val().batch_at(chunk, block_size);  // x, label (B, T)
    const int64_t B = batch.x.size(0);
    for (int64_t length = 1; length <= block_size; ++length) {
      const Tensor prefix = batch.x.slice(1, 0, length).contiguous();                   // (B, length)
      const Tensor last = logits_of(gpt, prefix, kVocab, "validation").select(1, length - 1);  // (B, 65)
      const Tensor answers = batch.label.select(1, length - 1).contiguous();           // (B,)
      total += mean_cross_entropy(last, answers) * static_cast<double>(B);
      scored += B;
    }
  }
  return scored > 0 ? total / static_cast<double>(scored) : std::numeric_limits<double>::quiet_NaN();
}

// Random character ids (B, T).
Tensor random_ids(int64_t B, int64_t T, int64_t vocab = kVocab) {
  return ember::randint(0, vocab, {B, T});
}

// Makes the weights of a model larger than their starting values (so that every input visibly
// changes the outputs), keeping each LayerNorm-like 1-D parameter as it is.
void enlarge_matrices(RemoteModel& model, float scale) {
  for (const auto& [name, p] : model.named_parameters()) {
    if (p.dim() >= 2) model.set_parameter(name, ember::randn(p.shape()) * scale);
  }
}

// Position of the largest difference between two (B, T, ...) tensors along dim 1, restricted
// to positions [from, to): the largest |a - b| there.
double largest_difference(const Tensor& a, const Tensor& b, int64_t from, int64_t to) {
  if (from >= to) return 0.0;
  const Tensor d = (a.slice(1, from, to) - b.slice(1, from, to)).abs();
  return static_cast<double>(d.max().item());
}

// Sets position s of every row of idx to another character.
Tensor change_position(const Tensor& idx, int64_t s, int64_t vocab) {
  std::vector<float> values = idx.contiguous().to_vector();
  const int64_t B = idx.size(0), T = idx.size(1);
  for (int64_t b = 0; b < B; ++b) {
    float& v = values[static_cast<size_t>(b * T + s)];
    v = static_cast<float>((static_cast<int64_t>(v) + 1 + b * 7) % vocab);
  }
  return ember::from_vector(values, idx.shape());
}

// What is missing for `gpt` (block_size T) to count as a model ("" when nothing): a stand-in that
// registers no weights and returns zeros has every shape right, and its loss is the cross entropy
// of uniform logits, ln 65, so the checks of shapes, of the loss and of the untrained loss ask
// this first. Its weight matrices are set to other random values, and the logits must change
// with them: a parameter that forward does not use does not count. (This changes the weights:
// call it when the check no longer needs the ones it had.)
std::string not_a_model(RemoteModel& gpt, int64_t T) {
  bool has_matrix = false;
  for (const auto& [name, p] : gpt.named_parameters()) has_matrix = has_matrix || p.dim() >= 2;
  if (!has_matrix) return "GPT registers no weight matrices (register_module / register_parameter)";
  const Tensor idx = random_ids(2, T);
  const Tensor before = logits_of(gpt, idx, kVocab, "GPT");
  enlarge_matrices(gpt, 0.2f);
  const Tensor after = logits_of(gpt, idx, kVocab, "GPT");
  const double moved = static_cast<double>((after - before).abs().max().item());
  if (!(moved > 1e-4)) {
    return "GPT's logits stay the same when its weight matrices are set to other values: forward does not use them";
  }
  return "";
}

// Whether calling a student's constructor throws an ember::Error (its message) or not ("").
std::string construction_error(const std::string& model, const Config& c) {
  try {
    make(model, c);
  } catch (const StudentError& error) {
    if (error.not_implemented()) throw;
    if (error.ember_error()) return error.what();
  }
  return "";
}

}  // namespace

GRADED_TEST(q7, shapes_at_every_stage, 1) {
  const Config c{8, kVocab, 2, 2, 12, 0.0, 1};
  const int64_t C = c.n_embd;
  // Part 1: attention, with its mask buffer.
  RemoteModel attention = make("CausalSelfAttention", c);
  bool has_mask = false;
  for (const auto& [name, buffer] : attention.named_buffers()) {
    if (name != "mask") continue;
    has_mask = true;
    const Shape expected{1, 1, c.block_size, c.block_size};
    GRADE_ASSERT(buffer.shape() == expected) << "CausalSelfAttention's mask buffer has shape "
                                             << shape_str(buffer.shape()) << "; expected " << shape_str(expected);
  }
  GRADE_ASSERT(has_mask) << "CausalSelfAttention has no buffer named 'mask' (register_buffer(\"mask\", ...))";
  // Part 1 and 2: attention, MLP and Block keep (B, T, C).
  for (const char* model : {"CausalSelfAttention", "MLP", "Block"}) {
    RemoteModel module = std::string(model) == "CausalSelfAttention" ? attention : make(model, c);
    for (int64_t T : {int64_t{1}, int64_t{5}, c.block_size}) {
      const Tensor out = module.call("forward", ember::randn({3, T, C}));
      const Shape expected{3, T, C};
      GRADE_ASSERT(out.defined() && out.shape() == expected)
          << model << "::forward on (3, " << T << ", " << C << ") returned " << shape_or_undefined(out)
          << "; expected " << shape_str(expected);
    }
  }
  // Part 3: the GPT, (B, T) ids -> (B, T, vocab) logits.
  RemoteModel gpt = make("GPT", c);
  for (int64_t T : {int64_t{1}, int64_t{3}, c.block_size}) {
    const Tensor logits = gpt.call("forward", random_ids(2, T));
    const Shape expected{2, T, kVocab};
    GRADE_ASSERT(logits.defined() && logits.shape() == expected)
        << "GPT::forward on idx (2, " << T << ") returned " << shape_or_undefined(logits) << "; expected "
        << shape_str(expected) << " (one row of " << kVocab << " scores per position)";
  }
  const std::string missing = not_a_model(gpt, c.block_size);
  GRADE_ASSERT(missing.empty()) << missing;
  // Too long a sequence, and heads that do not divide n_embd, are errors.
  std::string too_long;
  try {
    gpt.call("forward", random_ids(1, c.block_size + 1));
  } catch (const StudentError& error) {
    if (error.not_implemented()) throw;
    if (error.ember_error()) too_long = error.what();
  }
  GRADE_EXPECT(!too_long.empty()) << "GPT::forward on idx (1, " << c.block_size + 1
                                  << ") should throw an ember::Error: block_size is " << c.block_size
                                  << ", and there is no position embedding for position " << c.block_size;
  Config odd = c;
  odd.n_head = 5;  // 12 channels do not split into 5 heads
  const std::string heads = construction_error("CausalSelfAttention", odd);
  GRADE_EXPECT(!heads.empty()) << "CausalSelfAttention with n_embd 12 and n_head 5 should throw an ember::Error: "
                                  "12 channels cannot be split into 5 equal heads";
  grade_note("attention, MLP and Block give (3, T, 12) and GPT gives (2, T, 65) for T = 1 .. 8 ({}); T = 9 throws: "
             "{}; n_head 5 throws: {}",
             c.str(), too_long.empty() ? "no" : too_long, heads.empty() ? "no" : heads);
}

GRADED_TEST(q7, attention_is_causal, 1) {
  const Config c{12, kVocab, 2, 3, 12, 0.0, 1};
  const int64_t T = c.block_size, C = c.n_embd;
  // Attention alone: change the input at position s; outputs before s must not move.
  RemoteModel attention = make("CausalSelfAttention", c);
  attention.eval();
  enlarge_matrices(attention, 0.5f);
  const Tensor x = ember::randn({2, T, C});
  const Tensor out = attention.call("forward", x);
  GRADE_ASSERT(out.defined() && out.shape() == (Shape{2, T, C}))
      << "CausalSelfAttention::forward on (2, " << T << ", " << C << ") returned " << shape_or_undefined(out);
  bool attention_leaks = false;
  int64_t leak_s = -1;
  double leak = 0.0;
  for (int64_t s : {int64_t{1}, T / 2, T - 1}) {
    Tensor changed = x.clone();
    {
      ember::NoGradGuard no_grad;
      Tensor row = changed.slice(1, s, s + 1);
      row.copy_(ember::randn({2, 1, C}) * 3.0f);
    }
    const Tensor moved = attention.call("forward", changed);
    const double d = largest_difference(out, moved, 0, s);
    if (!(d <= 1e-5) && !attention_leaks) {  // a NaN from the runner counts as a leak
      attention_leaks = true;
      leak_s = s;
      leak = d;
    }
  }
  if (attention_leaks) {
    ember::grading::diagnose("the attention mask lets a position see later ones: fill the scores above the diagonal "
                             "(s > t, where the lower-triangular mask is 0) with -inf before the softmax",
                             kNote, "Part 1: CausalSelfAttention");
  }
  GRADE_ASSERT(!attention_leaks) << fmt::format(
      "CausalSelfAttention: changing the input at position {} changed the outputs of earlier positions (by up to "
      "{:.3g}); output t may depend on positions 0..t only",
      leak_s, leak);

  // The whole GPT: change character s; logits before s must not move, logits at s must.
  RemoteModel gpt = make("GPT", c);
  gpt.eval();
  enlarge_matrices(gpt, 0.3f);
  const Tensor idx = random_ids(2, T);
  const Tensor logits = logits_of(gpt, idx, kVocab, "GPT");
  for (int64_t s : {int64_t{0}, int64_t{1}, T / 2, T - 1}) {
    const Tensor moved = logits_of(gpt, change_position(idx, s, kVocab), kVocab, "GPT");
    const double before = largest_difference(logits, moved, 0, s);
    if (before > 1e-4) {
      ember::grading::diagnose("the attention is causal, but something else mixes positions: the logits of an "
                               "earlier position changed with a later character (a reduction over T, a view that "
                               "mixes B and T, or heads merged in the wrong order?)",
                               kNote, "Why one forward pass trains T predictions");
    }
    GRADE_ASSERT(before <= 1e-4) << fmt::format(
        "GPT: changing character {} changed the logits of earlier positions (by up to {:.3g}); the logits at "
        "position t may depend on characters 0..t only, or the model could read the answer it is trained to predict",
        s, before);
    const double at = largest_difference(logits, moved, s, s + 1);
    if (!(at > 1e-6)) {
      ember::grading::diagnose("the logits at position t do not depend on character t: does the mask also hide the "
                               "diagonal (a position must see itself), or are the logits shifted by one position?",
                               kNote, "Why one forward pass trains T predictions");
    }
    GRADE_ASSERT(at > 1e-6) << fmt::format(
        "GPT: changing character {} left the logits at position {} unchanged; they score the character that "
        "follows character {}, so they must depend on it",
        s, s, s);
  }
  grade_note("changing one input position (attention) or one character (GPT, T = {}) never changed an earlier "
             "position, and always changed the logits at that position",
             T);
}

GRADED_TEST(q7, loss_is_cross_entropy, 1) {
  const Config c{10, kVocab, 1, 2, 16, 0.0, 1};
  RemoteModel gpt = make("GPT", c);
  gpt.eval();
  // A model, whose logits move with its weights; and those weights now enlarged, so that the
  // logits are far from uniform and a wrong formula shows.
  const std::string missing = not_a_model(gpt, c.block_size);
  GRADE_ASSERT(missing.empty()) << missing;
  const int64_t B = 3, T = c.block_size;
  const Tensor idx = random_ids(B, T), targets = random_ids(B, T);
  const Tensor loss = gpt.call("loss", idx, targets);
  GRADE_ASSERT(loss.defined() && loss.numel() == 1)
      << "loss(idx, targets) should return one number (the mean over the B * T positions), got "
      << shape_or_undefined(loss);
  const double value = loss.item();
  const Tensor logits = logits_of(gpt, idx, kVocab, "GPT");
  const double expected = mean_cross_entropy(logits, targets);
  grade_note("loss {:.5f}; the mean cross entropy of forward(idx) over ({}, {}) against the targets: {:.5f}", value,
             B * T, kVocab, expected);
  const bool close = std::fabs(value - expected) <= 1e-4 * std::max(1.0, expected);
  if (!close) {
    const double n = static_cast<double>(B * T);
    if (std::fabs(value - expected * n) <= 1e-3 * expected * n) {
      ember::grading::diagnose(fmt::format("loss is {} times the mean: it sums over the B * T = {} positions "
                                           "instead of averaging",
                                           B * T, B * T),
                               kNote, "The loss");
    } else if (std::fabs(value - mean_cross_entropy(logits.softmax(-1), targets)) <= 1e-4 * std::max(1.0, expected)) {
      ember::grading::diagnose("loss applies softmax before cross_entropy: F::cross_entropy takes the logits as "
                               "they are and applies the softmax itself",
                               kNote, "The loss");
    }
  }
  GRADE_EXPECT(close) << fmt::format(
      "loss returned {:.6g}; the mean cross entropy of the logits (B*T, 65) against the targets (B*T,) is {:.6g}",
      value, expected);
}

GRADED_TEST(q7, untrained_loss_near_ln_65, 1) {
  RemoteModel gpt = make("GPT", kTrainedConfig);
  const double loss = validation_loss(
      gpt, validation_starts(kValWindows, kUntrainedWindows, kTrainedConfig.block_size), kTrainedConfig.block_size);
  const double ln_vocab = std::log(static_cast<double>(kVocab));
  grade_note("untrained {}: loss {:.4f} on windows of the validation text; ln(65) = {:.4f}", kTrainedConfig.str(),
             loss, ln_vocab);
  const std::string missing = not_a_model(gpt, kTrainedConfig.block_size);  // (after the loss: it changes the weights)
  GRADE_ASSERT(missing.empty()) << missing;
  if (loss > ln_vocab + 0.3) {
    ember::grading::diagnose("an untrained model is sure of wrong answers: its logits are too large. Start the "
                             "weights small (GPT-2's normal std 0.02), and do not tie lm_head to an embedding that "
                             "starts with std 1",
                             kNote, "Initialisation, and the loss of an untrained model");
  }
  GRADE_EXPECT(std::fabs(loss - ln_vocab) <= 0.3) << fmt::format(
      "an untrained GPT's loss is {:.4f}; with no knowledge yet every character should get about the same "
      "probability 1/65, a loss close to ln(65) = {:.4f} (allowed: within 0.3)",
      loss, ln_vocab);
}

GRADED_TEST(q7, gradients_reach_every_parameter, 1) {
  const Config c{8, kVocab, 2, 2, 16, 0.0, 1};
  RemoteModel gpt = make("GPT", c);
  const auto parameters = gpt.named_parameters();
  GRADE_ASSERT(!parameters.empty()) << "GPT has no parameters: register its modules with register_module";
  // Every position and every character of the vocabulary appear, so every row can get a gradient.
  std::vector<float> ids;
  for (int64_t i = 0; i < 9 * c.block_size; ++i) ids.push_back(static_cast<float>((i * 13) % kVocab));
  const Tensor idx = ember::from_vector(ids, {9, c.block_size});
  const Tensor loss = gpt.call("loss", idx, random_ids(9, c.block_size));
  GRADE_ASSERT(loss.defined() && loss.requires_grad())
      << "the loss does not depend on anything that requires grad: are the modules registered, and is the graph "
         "kept (no detach, no NoGradGuard in forward or loss)?";
  ember::grading::backward_last_result();
  int64_t reached = 0;
  std::vector<std::string> missing;
  for (const auto& [name, grad] : gpt.named_gradients()) {
    bool nonzero = false;
    if (grad.defined()) {
      const std::vector<float> values = grad.to_vector();
      nonzero = std::any_of(values.begin(), values.end(), [](float v) { return v != 0.0f; });
    }
    if (nonzero) {
      ++reached;
    } else {
      missing.push_back(name);
    }
  }
  for (const std::string& name : missing) {
    if (name.rfind("wpe", 0) == 0) {
      ember::grading::diagnose("the position embeddings (wpe) get no gradient: add wpe(arange(T)) to the token "
                               "embeddings in forward",
                               kNote, "Embeddings");
      break;
    }
  }
  GRADE_EXPECT(missing.empty()) << fmt::format(
      "{} of {} parameters got no (or an all-zero) gradient: {}; every registered parameter should be used in forward",
      missing.size(), parameters.size(), fmt::join(missing, ", "));
  grade_note("the loss's gradient reached {} of {} parameters", reached, parameters.size());
}

GRADED_TEST(q7, weight_decay_on_matrices_only, 1) {
  const Config c{8, kVocab, 2, 2, 16, 0.0, 1};
  RemoteModel gpt = make("GPT", c);
  std::map<std::string, int64_t> dims;
  for (const auto& [name, p] : gpt.named_parameters()) dims[name] = p.dim();
  const double decay = 0.125;
  const Value answer = gpt.call_value("decay_of_parameters", decay, 1e-3, 0.9, 0.99);
  const auto& entries = answer.as_list("the weight decays");
  GRADE_ASSERT(!entries.empty()) << "configure_optimizer: no answer";
  int64_t held = 0, decayed = 0, kept = 0;
  std::vector<std::string> wrong;
  bool vectors_decay = false;
  for (const Value& entry : entries) {
    const auto& pair = entry.as_list("a parameter's decay");
    const std::string& name = pair.at(0).as_text("a name");
    if (name.empty()) {
      held = pair.at(1).as_int("the count");
      continue;
    }
    const double value = pair.at(1).as_real("the decay");
    const int64_t dim = dims.count(name) ? dims[name] : 0;
    const double want = dim >= 2 ? decay : 0.0;
    if (value < 0) {
      wrong.push_back(name + " (not in the optimizer)");
    } else if (!(std::fabs(value - want) <= 1e-12)) {  // a NaN from the runner is wrong too
      wrong.push_back(fmt::format("{} ({}-D, decay {:g}, should be {:g})", name, dim, value, want));
      if (dim < 2) vectors_decay = true;
    } else {
      ++(dim >= 2 ? decayed : kept);
    }
  }
  if (vectors_decay) {
    ember::grading::diagnose("biases and LayerNorm weights are given weight decay: decay pulls them towards 0, "
                             "which a gain of 1 should not be; put every parameter with dim() < 2 in a group of "
                             "its own with weight decay 0",
                             kNote, "Weight decay on matrices only");
  }
  GRADE_EXPECT(wrong.empty()) << "configure_optimizer(" << decay << ", ...): " << fmt::format("{}", fmt::join(wrong, "; "));
  GRADE_EXPECT(held == static_cast<int64_t>(dims.size()))
      << "the optimizer holds " << held << " tensors, but the model has " << dims.size() << " parameters";
  grade_note("configure_optimizer: {} matrices decay by {}, {} vectors do not", decayed, decay, kept);
}

GRADED_TEST(q7, generate_samples_reproducibly, 1) {
  const Config c{8, kVocab, 1, 2, 16, 0.0, 1};
  RemoteModel gpt = make("GPT", c);
  enlarge_matrices(gpt, 0.3f);  // logits far from uniform: greedy choices are clear
  const Tensor idx = random_ids(2, 3);
  const auto generate = [&](const std::string& key, const Tensor& start, int64_t n, double temperature, int64_t top_k) {
    ember::grading::seed_runner(key);
    const Tensor out = gpt.call("generate", start, n, temperature, top_k);
    const Shape expected{start.size(0), start.size(1) + n};
    if (!out.defined() || out.shape() != expected) {
      throw std::runtime_error(fmt::format("generate(idx {}, max_new_tokens {}) returned {}; expected {}",
                                           shape_str(start.shape()), n, shape_or_undefined(out), shape_str(expected)));
    }
    return out;
  };
  const Tensor first = generate("first", idx, 20, 1.0, 0);
  const std::vector<float> values = first.to_vector();
  for (size_t i = 0; i < values.size(); ++i) {
    const float v = values[i];
    GRADE_ASSERT(std::isfinite(v) && v >= 0 && v < kVocab && v == std::floor(v))
        << "generate returned " << v << " at position " << i % 23 << " of row " << i / 23
        << "; every id must be a whole number in 0..64";
  }
  GRADE_ASSERT(first.slice(1, 0, 3).to_vector() == idx.to_vector())
      << "generate must return idx as it was, followed by the new characters: the first 3 columns changed";
  const Tensor again = generate("first", idx, 20, 1.0, 0);
  GRADE_ASSERT(again.to_vector() == values)
      << "generate gave different characters for the same seed: draw them with ember::multinomial (ember's seeded "
         "generator), not with another source of randomness";
  const Tensor other = generate("second", idx, 20, 1.0, 0);
  if (other.to_vector() == values) {
    ember::grading::diagnose("generate gives the same 20 characters whatever the seed: it picks the most likely "
                             "character instead of drawing one with multinomial",
                             kNote, "Part 4: Sampling");
  }
  GRADE_ASSERT(other.to_vector() != values)
      << "generate gave the same 40 characters for two different seeds; it should sample";
  // top_k = 1 keeps one character: the greedy continuation, computed here from forward, past
  // block_size (the model must read the last block_size characters only).
  const Tensor start = random_ids(2, c.block_size - 2);
  const int64_t n = 6;
  const Tensor greedy = generate("greedy", start, n, 0.7, 1);
  Tensor expected = start;
  for (int64_t step = 0; step < n; ++step) {
    const int64_t T = expected.size(1);
    const Tensor context = T <= c.block_size ? expected : expected.slice(1, T - c.block_size, T);
    const Tensor logits = logits_of(gpt, context, kVocab, "GPT");
    const Tensor last = logits.select(1, logits.size(1) - 1);  // (B, V)
    expected = ember::cat({expected, last.argmax(1, true)}, 1);
  }
  const bool same = greedy.to_vector() == expected.to_vector();
  if (!same) {
    ember::grading::diagnose("with top_k = 1 only the most likely character may be drawn: set every logit below the "
                             "k-th largest of its row to -inf before the softmax, and run the model on the last "
                             "block_size characters only",
                             kNote, "Top-k");
  }
  GRADE_EXPECT(same) << fmt::format(
      "generate(idx (2, {}), {}, temperature 0.7, top_k 1) gave {}; the greedy continuation (the largest logit "
      "of the last position, the model reading the last {} characters) is {}",
      c.block_size - 2, n, fmt::join(greedy.to_vector(), " "), c.block_size, fmt::join(expected.to_vector(), " "));
  grade_note("generate kept idx, gave ids in 0..64, the same text for the same seed, another for another seed, and "
             "the greedy continuation with top_k = 1 (past block_size {})",
             c.block_size);
}

GRADED_TEST(q7, validation_loss, 4) {
  RemoteModel gpt = make("GPT", kTrainedConfig);  // first, so that an unfinished constructor fails at once
  const ember::course::ShakespeareDataset& data = shakespeare();
  ember::grading::clear_training_history();
  const auto start = std::chrono::steady_clock::now();
  const Tensor losses = gpt.call("train", data.train().tensor(), data.vocab().symbols(), kTrainSettings.value());
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const ember::course::TrainingHistory history = ember::grading::training_history();
  const double loss =
      validation_loss(gpt, validation_starts(0, kValWindows, kTrainedConfig.block_size), kTrainedConfig.block_size);
  std::vector<float> steps = losses.defined() ? losses.to_vector() : std::vector<float>();
  const auto mean_of = [&](size_t from, size_t to) {
    double total = 0.0;
    for (size_t i = from; i < to; ++i) total += steps[i];
    return total / static_cast<double>(to - from);
  };
  std::string train_figures = "train_gpt returned no losses";
  double last_train = std::numeric_limits<double>::quiet_NaN();
  if (steps.size() >= 20) {
    last_train = mean_of(steps.size() - 20, steps.size());
    train_figures = fmt::format("training loss {:.3f} over the first 20 steps, {:.3f} over the last 20 of {}",
                                mean_of(0, 20), last_train, steps.size());
  }
  grade_note("validation loss {:.4f} on {} windows of {} characters of the held-out text (threshold {}); {}; "
             "training took {:.1f} s",
             loss, kValWindows, kTrainedConfig.block_size, kValLossThreshold, train_figures, seconds);
  grade_note("trained: {}; train_gpt with batch_size {}, max_iters {}, learning_rate {} to {} (warmup {}), "
             "weight_decay {}, betas ({}, {}), grad_clip {}",
             kTrainedConfig.str(), kTrainSettings.batch_size, kTrainSettings.max_iters, kTrainSettings.learning_rate,
             kTrainSettings.min_lr, kTrainSettings.warmup_iters, kTrainSettings.weight_decay, kTrainSettings.beta1,
             kTrainSettings.beta2, kTrainSettings.grad_clip);
  // A model that reads the future learns to copy the answer in training, and then fails on
  // the prefixes it is scored on: say so rather than the diagnoses of a weak model below. One
  // window, its second half changed: the first half's logits must not move.
  double moved = 0.0;
  {
    const ember::GeneratorState saved = ember::generator_state();
    ember::manual_seed(ember::grading::checker_seed("q7 causality probe after training"));
    const int64_t T = kTrainedConfig.block_size;
    const Tensor window = data.val().random_batch(2, T).x;
    Tensor changed = window.clone();
    {
      ember::NoGradGuard no_grad;
      Tensor later = changed.slice(1, T / 2, T);
      later.copy_(random_ids(2, T - T / 2));
    }
    ember::set_generator_state(saved);
    moved = largest_difference(logits_of(gpt, window, kVocab, "GPT"), logits_of(gpt, changed, kVocab, "GPT"), 0,
                               T / 2);
  }
  const bool reads_ahead = moved > 1e-4;
  if (reads_ahead) {
    ember::grading::diagnose("the trained model reads later characters: in training it learned to copy the answer "
                             "it could see, which it cannot do on text it has not seen yet. Make the attention "
                             "causal first",
                             kNote, "Why one forward pass trains T predictions");
  }
  if (!(loss <= kValLossThreshold) && !reads_ahead) {
    if (!std::isfinite(last_train) && !steps.empty()) {
      ember::grading::diagnose("training diverged (the loss became NaN or infinite): is the gradient clipped, and "
                               "the learning rate set from the schedule at every step?",
                               kNote, "Part 5: Training");
    } else if (std::isfinite(last_train) && last_train > 3.0) {
      ember::grading::diagnose("training hardly lowers the loss (about 3.3 is what the characters' frequencies "
                               "alone give): does each block add its results to x (x = x + attn(ln_1(x))), is the "
                               "learning rate set from the schedule, and does every step call backward and step?",
                               kNote, "Residual connections and pre-LN");
    } else if (std::isfinite(last_train) && last_train > 2.4) {
      ember::grading::diagnose("the model learns no more than which character follows which (a loss near 2.5 is "
                               "what pairs of characters give): does attention reach earlier positions, with the "
                               "position embeddings added and the heads merged back in order?",
                               kNote, "Why one forward pass trains T predictions");
    } else if (std::isfinite(last_train)) {
      ember::grading::diagnose("the model uses its context, but less than it could: are the position embeddings "
                               "added (without them attention cannot tell the order of the characters it reads), "
                               "and is attention scaled by sqrt(head size)?",
                               kNote, "Embeddings");
    }
  }
  GRADE_EXPECT(!reads_ahead) << fmt::format(
      "the trained model's logits at positions 0..{} changed (by up to {:.3g}) when only characters {}..{} "
      "changed: it reads the future",
      kTrainedConfig.block_size / 2 - 1, moved, kTrainedConfig.block_size / 2, kTrainedConfig.block_size - 1);
  GRADE_EXPECT(loss <= kValLossThreshold) << fmt::format(
      "validation loss {:.4f} is above the threshold {} (an untrained model has ln(65) = 4.17; predicting each "
      "character from the one before it alone gives about 2.48)",
      loss, kValLossThreshold);
  GRADE_EXPECT(loss >= kImplausibleValLoss) << fmt::format(
      "validation loss {:.4f} is below {}, less than a model of this size can learn in this time (nanoGPT's model "
      "of 10 M parameters reaches 1.47 after 5,000 steps): the predictions do not come from what the model learned",
      loss, kImplausibleValLoss);

  // A sample of what the trained model writes, from a newline (nanoGPT's sample.py start).
  std::string sample;
  try {
    ember::grading::seed_runner("sample");
    const Tensor text = gpt.call("generate", ember::zeros({1, 1}), int64_t{300}, 0.8, int64_t{0});  // (1, 301)
    sample = data.vocab().decode(text.slice(1, 1, text.size(1)));  // without the starting newline
  } catch (const std::exception& error) {
    grade_note("no sample: {}", error.what());
  }
  if (!sample.empty()) {
    grade_note("a sample of 300 characters (generate from \"\\n\", temperature 0.8, seed of this check):");
    size_t begin = 0;
    while (begin < sample.size()) {
      const size_t end = std::min(sample.find('\n', begin), sample.size());
      grade_note("  | {}", sample.substr(begin, end - begin));
      begin = end + 1;
    }
  }

  // The loss curve, when EMBER_PICTURES_DIR asks for pictures; it never changes the points.
  namespace svg = ember::course::svg;
  const std::string problem = svg::draw_picture("q7", "loss_curve", [&] {
    svg::Chart chart;
    chart.title = fmt::format("q7: training loss; validation loss {:.3f} (threshold {})", loss, kValLossThreshold);
    chart.x_label = "step";
    chart.y_label = "loss (cross entropy, nats)";
    std::vector<double> xs, ys;
    const size_t group = std::max<size_t>(1, steps.size() / 150);
    for (size_t i = 0; i + group <= steps.size(); i += group) {
      xs.push_back(static_cast<double>(i + group));
      ys.push_back(mean_of(i, i + group));
    }
    if (xs.empty()) {
      for (const auto& point : history.loss_curve) {
        xs.push_back(static_cast<double>(point.step));
        ys.push_back(point.loss);
      }
    }
    if (xs.empty()) throw std::runtime_error("train_gpt returned no losses and kept no course::TrainingProgress");
    const double x_end = xs.back();
    chart.add({"training loss", xs, ys});
    svg::Series val("validation loss after training", {x_end}, {loss});
    val.line = false;
    val.marker = svg::Marker::Circle;
    chart.add(val);
    svg::Series goal("threshold", {0, x_end}, {kValLossThreshold, kValLossThreshold});
    goal.dashed = true;
    chart.add(goal);
    svg::Series guess("ln(65): guessing", {0, x_end}, {std::log(65.0), std::log(65.0)});
    guess.dashed = true;
    chart.add(guess);
    chart.y_min = 1.5;
    return chart.svg();
  });
  if (!problem.empty()) grade_note("{}", problem);
}
