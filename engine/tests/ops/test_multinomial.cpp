// multinomial (issue 13), as torch.multinomial: indices (as floats) drawn in proportion to
// the weights through the seeded generator, with or without replacement.
#include "gradcheck.h"

#include <cmath>
#include <limits>
#include <set>
#include <vector>

using namespace ember;
using namespace ember_test;

namespace {

// Pearson's statistic of observed counts against the expected probabilities.
double chi_square(const std::vector<int64_t>& counts, const std::vector<double>& probabilities) {
  int64_t total = 0;
  for (int64_t c : counts) total += c;
  double statistic = 0.0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const double expected = probabilities[i] * static_cast<double>(total);
    const double diff = static_cast<double>(counts[i]) - expected;
    statistic += diff * diff / expected;
  }
  return statistic;
}

std::vector<int64_t> count(const std::vector<float>& samples, int64_t n) {
  std::vector<int64_t> counts(static_cast<size_t>(n), 0);
  for (float s : samples) {
    EXPECT_EQ(s, std::floor(s));
    EXPECT_GE(s, 0.0f);
    EXPECT_LT(s, static_cast<float>(n));
    if (s >= 0.0f && s < static_cast<float>(n)) counts[static_cast<size_t>(s)] += 1;
  }
  return counts;
}

}  // namespace

TEST(Multinomial, FrequenciesMatchTheProbabilitiesWithReplacement) {
  manual_seed(11);
  Tensor probs = ember::tensor({0.1f, 0.2f, 0.3f, 0.4f});
  Tensor samples = multinomial(probs, 20000, true);
  EXPECT_EQ(samples.shape(), (Shape{20000}));
  // Three degrees of freedom: P(chi^2 > 40) is about 1e-8; the seed is fixed anyway.
  EXPECT_LT(chi_square(count(samples.to_vector(), 4), {0.1, 0.2, 0.3, 0.4}), 40.0);
}

TEST(Multinomial, WeightsNeedNotSumToOne) {
  manual_seed(12);
  Tensor weights = ember::tensor({1.0f, 0.0f, 3.0f, 4.0f});  // index 1 can never come up
  std::vector<int64_t> counts = count(multinomial(weights, 16000, true).to_vector(), 4);
  EXPECT_EQ(counts[1], 0);
  EXPECT_LT(chi_square({counts[0], counts[2], counts[3]}, {0.125, 0.375, 0.5}), 40.0);
}

TEST(Multinomial, FirstDrawWithoutReplacementFollowsTheProbabilities) {
  // 8000 rows of the same distribution, one draw each (the default: no replacement).
  manual_seed(13);
  std::vector<float> rows;
  for (int r = 0; r < 8000; ++r) rows.insert(rows.end(), {0.1f, 0.2f, 0.3f, 0.4f});
  Tensor samples = multinomial(from_vector(rows, {8000, 4}), 1);
  EXPECT_EQ(samples.shape(), (Shape{8000, 1}));
  EXPECT_LT(chi_square(count(samples.to_vector(), 4), {0.1, 0.2, 0.3, 0.4}), 40.0);
}

TEST(Multinomial, SecondDrawWithoutReplacementFollowsTheWeightsLeft) {
  // Weights (0.5, 0.3, 0.2): P(second = j) = sum over i != j of p_i p_j / (1 - p_i):
  // 0.3*0.5/0.7 + 0.2*0.5/0.8 = 0.33929, 0.5*0.3/0.5 + 0.2*0.3/0.8 = 0.375,
  // 0.5*0.2/0.5 + 0.3*0.2/0.7 = 0.28571.
  manual_seed(14);
  std::vector<float> rows;
  for (int r = 0; r < 8000; ++r) rows.insert(rows.end(), {0.5f, 0.3f, 0.2f});
  std::vector<float> samples = multinomial(from_vector(rows, {8000, 3}), 2).to_vector();
  std::vector<float> second;
  for (size_t i = 0; i < samples.size(); i += 2) {
    EXPECT_NE(samples[i], samples[i + 1]);
    second.push_back(samples[i + 1]);
  }
  EXPECT_LT(chi_square(count(second, 3), {0.3392857, 0.375, 0.2857143}), 40.0);
}

TEST(Multinomial, WithoutReplacementEveryIndexAtMostOnce) {
  manual_seed(15);
  Tensor probs = make_input({6, 10}, 0.1f, 1.0f, 51);
  std::vector<float> all = multinomial(probs, 10).to_vector();
  for (int r = 0; r < 6; ++r) {
    std::set<float> seen(all.begin() + r * 10, all.begin() + (r + 1) * 10);
    EXPECT_EQ(seen.size(), 10u) << "row " << r;  // a permutation of 0..9
  }
  // Zero weights are drawn by nobody: two draws from (0.5, 0, 0.5) are {0, 2}.
  for (int i = 0; i < 20; ++i) {
    std::vector<float> two = multinomial(ember::tensor({0.5f, 0.0f, 0.5f}), 2).to_vector();
    EXPECT_EQ(std::set<float>(two.begin(), two.end()), (std::set<float>{0.0f, 2.0f}));
  }
}

TEST(Multinomial, SameSeedSameDraws) {
  Tensor probs = make_input({3, 7}, 0.0f, 1.0f, 52);
  for (bool replacement : {false, true}) {
    manual_seed(99);
    std::vector<float> first = multinomial(probs, 5, replacement).to_vector();
    std::vector<float> next = multinomial(probs, 5, replacement).to_vector();
    manual_seed(99);
    EXPECT_EQ(multinomial(probs, 5, replacement).to_vector(), first);
    EXPECT_EQ(multinomial(probs, 5, replacement).to_vector(), next);
    EXPECT_NE(first, next);  // the generator moved on between the calls
    manual_seed(100);
    EXPECT_NE(multinomial(probs, 5, replacement).to_vector(), first);
  }
}

TEST(Multinomial, ShapesAndNoGradient) {
  manual_seed(16);
  Tensor probs = make_input({5}, 0.1f, 1.0f, 53);
  probs.set_requires_grad(true);
  Tensor one = multinomial(probs, 1);
  EXPECT_EQ(one.shape(), (Shape{1}));
  EXPECT_FALSE(one.requires_grad());
  EXPECT_EQ(multinomial(probs.view({1, 5}), 3).shape(), (Shape{1, 3}));
  EXPECT_EQ(multinomial(probs, 12, true).shape(), (Shape{12}));
  // A non-contiguous (rows, n) view.
  Tensor columns = make_input({4, 3}, 0.1f, 1.0f, 54).t();
  EXPECT_EQ(multinomial(columns, 2).shape(), (Shape{3, 2}));
  // A single category is always drawn.
  EXPECT_TRUE(tensor_near(multinomial(ember::tensor({2.5f}), 3, true), {3}, {0.0f, 0.0f, 0.0f}, 0.0, 0.0));
}

TEST(Multinomial, ErrorsNameTheOpAndTheProblem) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  Tensor ok = ember::tensor({0.2f, 0.8f});
  EXPECT_TRUE(throws_error_all([&] { multinomial(ember::tensor({0.5f, -0.1f}), 1); },
                               {"multinomial", "-0.1", "index 1"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ember::tensor({0.5f, nan}), 1); },
                               {"multinomial", "nan", "index 1"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ember::tensor({inf, 1.0f}), 1); },
                               {"multinomial", "inf", "index 0"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ember::tensor({{0.5f, 0.5f}, {0.0f, 0.0f}}), 1); },
                               {"multinomial", "row 1", "sums to 0"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ok, 3); },
                               {"multinomial", "3 samples", "2 categories", "replacement"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ember::tensor({0.5f, 0.0f, 0.5f}), 3); },
                               {"multinomial", "2 non-zero", "3 samples"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ok, 0); }, {"multinomial", "num_samples", "0"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(zeros({2, 2, 2}), 1); },
                               {"multinomial", "(2, 2, 2)"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(ember::tensor(1.0f), 1); },
                               {"multinomial", "()"}));
  EXPECT_TRUE(throws_error_all([&] { multinomial(zeros({3, 0}), 1); },
                               {"multinomial", "(3, 0)"}));
  EXPECT_TRUE(throws_error([&] { multinomial(Tensor(), 1); }, "multinomial"));
}
