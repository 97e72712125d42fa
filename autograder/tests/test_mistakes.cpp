// The mistake corpus: the classic mistakes of the course, each made from a solution by one
// change, graded by the real driver. Each must lose the points it should and be named: the
// report says "likely cause: ..." with the note's section. Made at test time from solutions/,
// so the corpus follows the solutions; a change that no longer applies fails the test.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using namespace ember_test;

struct Mistake {
  const char* name;
  const char* question;  // "q3"
  const char* lesson;    // "q3_digits"
  const char* file;      // "digit_classification.hpp"
  const char* before;    // text in the solution ...
  const char* after;     // ... replaced by this
  int at_most;           // points it may still earn
  int full;              // the question's points
  const char* diagnosis;  // what the report must say
  const char* failing_check;  // a check that must fail
};

const Mistake kMistakes[] = {
    {"perceptron weight of shape (d,)", "q1", "q1_perceptron", "perceptron.hpp",
     "register_parameter(\"w\", ones({1, dimensions}))", "register_parameter(\"w\", ones({dimensions}))", 1, 6,
     "the parameter \"w\" has shape (3,), but the checks give it values of shape (1, 3)", "q1.run_is_dot_product"},
    {"ReLU on the regressor's output", "q2", "q2_regression", "regression.hpp",
     "std::make_shared<nn::Linear>(64, 1)));", "std::make_shared<nn::Linear>(64, 1), std::make_shared<nn::ReLU>()));",
     2, 6, "likely cause: the model never predicts a negative value", "q2.fits_training_points"},
    {"summed squared errors", "q2", "q2_regression", "regression.hpp", "return F::mse_loss(forward(x), y);",
     "return F::mse_loss(forward(x), y) * static_cast<float>(x.size(0));", 5, 6,
     "likely cause: get_loss is 16 times the mean", "q2.loss_is_mean_squared_error"},
    {"softmax before cross_entropy", "q3", "q3_digits", "digit_classification.hpp",
     "return F::cross_entropy(run(x), y);", "return F::cross_entropy(run(x).softmax(-1), y);", 5, 6,
     "likely cause: get_loss applies softmax before cross_entropy", "q3.loss_and_gradients"},
    {"squared error on one-hot labels", "q3", "q3_digits", "digit_classification.hpp",
     "return F::cross_entropy(run(x), y);", "return F::mse_loss(run(x), y);", 5, 6,
     "likely cause: get_loss is the squared error of the logits", "q3.loss_and_gradients"},
    {"only the last character", "q4", "q4_language_id", "language_id.hpp",
     "h = (input_layer_->forward(xs[t]) + hidden_layer_->forward(h)).relu();",
     "h = (input_layer_->forward(xs[t]) + hidden_layer_->forward(h.detach() * 0.0f)).relu();", 6, 7,
     "likely cause: only the last character reaches the scores", "q4.gradients_reach_characters_and_params"},
    {"output one pixel short", "q5", "q5_convolution", "convolution.hpp",
     "const int64_t out_h = input.size(-2) - h + 1, out_w = input.size(-1) - w + 1;",
     "const int64_t out_h = input.size(-2) - h, out_w = input.size(-1) - w;", 2, 4,
     "likely cause: the output is one row and one column short", "q5.convolve_matches_reference"},
    {"flipped kernel", "q5", "q5_convolution", "convolution.hpp", "Tensor term = window * weight.index({i, j});",
     "Tensor term = window * weight.index({h - 1 - i, w - 1 - j});", 3, 4, "likely cause: Convolve flips the kernel",
     "q5.convolve_matches_reference"},
    {"scores K Q^T", "q6", "q6_attention", "attention.hpp",
     "Tensor scores = Q.matmul(K.transpose(1, 2)) * scale;", "Tensor scores = K.matmul(Q.transpose(1, 2)) * scale;",
     5, 6, "likely cause: the scores are K Q^T", "q6.attention_matches_reference"},
    {"no scaling", "q6", "q6_attention", "attention.hpp", "Tensor scores = Q.matmul(K.transpose(1, 2)) * scale;",
     "Tensor scores = Q.matmul(K.transpose(1, 2));", 5, 6, "likely cause: the scores are not scaled",
     "q6.attention_matches_reference"},
    {"mask keeps the future", "q6", "q6_attention", "attention.hpp",
     "    scores = scores.masked_fill(causal == 0.0f, -std::numeric_limits<float>::infinity());\n"
     "    Tensor weights = scores.softmax(-1);  // (B, T, T); row t is 0 after column t",
     "    scores = scores.masked_fill(causal.t() == 0.0f, -std::numeric_limits<float>::infinity());\n"
     "    Tensor weights = scores.softmax(-1);  // (B, T, T); row t is 0 after column t",
     4, 6, "likely cause: the mask does not hide the future", "q6.attention_weights_causal_and_normalised"},
    {"unbiased variance", "q6", "q6_attention", "attention.hpp",
     "input.var(-1, /*unbiased=*/false, /*keepdim=*/true);", "input.var(-1, /*unbiased=*/true, /*keepdim=*/true);", 5,
     6, "likely cause: the variance divides by d - 1", "q6.layer_norm_matches_reference"},
    // q7 trains for its validation check (about 10 s), so only two of its mistakes are here.
    {"GPT mask keeps the future", "q7", "q7_gpt", "gpt.hpp",
     "F::scaled_dot_product_attention(q, k, v, /*is_causal=*/true)",
     "F::scaled_dot_product_attention(q, k, v, /*is_causal=*/false)", 6, 11,
     "likely cause: the attention mask lets a position see later ones", "q7.attention_is_causal"},
    {"weight decay on every parameter", "q7", "q7_gpt", "gpt.hpp", "(p.dim() >= 2 ? decay : no_decay).push_back(p);",
     "decay.push_back(p);", 10, 11, "likely cause: biases and LayerNorm weights are given weight decay",
     "q7.weight_decay_on_matrices_only"},
};

// Test names and failure messages show the mistake's name, not its bytes.
void PrintTo(const Mistake& mistake, std::ostream* out) { *out << mistake.name; }

// The solutions with one mistake in one lesson file.
fs::path make_submission(const Mistake& mistake, const TempDir& dir) {
  const fs::path root = dir.path() / "submission";
  fs::create_directories(root / mistake.lesson);
  const std::string solution =
      read_text(fs::path(SOLUTIONS_DIR) / mistake.lesson / mistake.file);
  const size_t at = solution.find(mistake.before);
  if (at == std::string::npos) {
    ADD_FAILURE() << "the solution " << mistake.lesson << "/" << mistake.file << " no longer contains: "
                  << mistake.before;
    return root;
  }
  std::string changed = solution;
  changed.replace(at, std::string(mistake.before).size(), mistake.after);
  std::ofstream(root / mistake.lesson / mistake.file) << changed;
  return root;
}

class Mistakes : public ::testing::TestWithParam<Mistake> {};

TEST_P(Mistakes, LosesItsPointsAndIsNamed) {
  const Mistake& mistake = GetParam();
  TempDir dir;
  const fs::path submission = make_submission(mistake, dir);
  if (::testing::Test::HasFailure()) return;
  const Outcome outcome = run_shell(
      "EMBER_MUTE=1 " + quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " + quote(GRADERS_DIR) + " --toolchain " +
          quote(RUNNER_TOOLCHAIN) + " --student-dir " + quote(submission.string()) + " --questions " +
          mistake.question + " --no-html --color never --results-json " + quote(dir / "r.json"),
      dir);
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("max_score").number, mistake.full);
  EXPECT_LE(results.at("score").number, mistake.at_most) << outcome.out;
  EXPECT_CONTAINS(outcome.out, std::string("*** FAIL: ") + mistake.failing_check);
  EXPECT_CONTAINS(outcome.out, mistake.diagnosis);
  // Messages in the student's terms: never GoogleTest's dump of the grader's expressions.
  EXPECT_NOT_CONTAINS(outcome.out, "Expected equality of these values");
  EXPECT_NOT_CONTAINS(outcome.out, "which exceeds");
  EXPECT_NOT_CONTAINS(outcome.out, "Value of:");
}

// One mistake costs one check: a flipped kernel's gradient is still autograd's gradient of
// the student's own Convolve, so convolve_weight_gradient's point stays (it compares with the
// definition's gradient first, and then with finite differences of the student's function).
TEST(MistakesCost, AFlippedKernelKeepsTheGradientPoint) {
  const Mistake* flipped = nullptr;
  for (const Mistake& m : kMistakes) {
    if (std::string(m.name) == "flipped kernel") flipped = &m;
  }
  ASSERT_NE(flipped, nullptr);
  TempDir dir;
  const fs::path submission = make_submission(*flipped, dir);
  if (::testing::Test::HasFailure()) return;
  const Outcome outcome = run_shell("EMBER_MUTE=1 " + quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " +
                                        quote(GRADERS_DIR) + " --toolchain " + quote(RUNNER_TOOLCHAIN) +
                                        " --student-dir " + quote(submission.string()) +
                                        " --questions q5 --no-html --color never",
                                    dir);
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  EXPECT_CONTAINS(outcome.out, "*** FAIL: q5.convolve_matches_reference");
  EXPECT_CONTAINS(outcome.out, "*** PASS: q5.convolve_weight_gradient (1/1)");
  EXPECT_CONTAINS(outcome.out, "agrees with finite differences of your Convolve");
}

std::string name_of(const ::testing::TestParamInfo<Mistake>& info) {
  std::string name;
  for (const char* p = info.param.name; *p; ++p) name += std::isalnum(static_cast<unsigned char>(*p)) ? *p : '_';
  return name;
}

INSTANTIATE_TEST_SUITE_P(Corpus, Mistakes, ::testing::ValuesIn(kMistakes), name_of);

}  // namespace
