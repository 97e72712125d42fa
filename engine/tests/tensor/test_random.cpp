// Random creation functions and the global generator: ranges, rough statistics on large
// samples (bounds are several standard errors wide, so they do not flake), determinism
// under manual_seed, generator state save/restore.
#include "gradcheck.h"

#include <set>

using namespace ember;
using namespace ember_test;

namespace {

struct Stats {
  double mean = 0, var = 0, min = 0, max = 0;
};

Stats stats_of(const std::vector<float>& v) {
  Stats s;
  s.min = v.empty() ? 0 : v[0];
  s.max = s.min;
  for (float x : v) {
    s.mean += x;
    s.min = std::min<double>(s.min, x);
    s.max = std::max<double>(s.max, x);
  }
  s.mean /= v.size();
  for (float x : v) s.var += (x - s.mean) * (x - s.mean);
  s.var /= v.size();
  return s;
}

constexpr int64_t kLarge = 200000;

}  // namespace

TEST(Random, RandInUnitIntervalWithUniformStatistics) {
  manual_seed(1);
  Tensor x = rand({kLarge});
  EXPECT_EQ(x.shape(), (Shape{kLarge}));
  std::vector<float> v = x.to_vector();
  Stats s = stats_of(v);
  EXPECT_GE(s.min, 0.0);
  EXPECT_LT(s.max, 1.0);
  EXPECT_NEAR(s.mean, 0.5, 0.01);         // standard error ~ 0.00065
  EXPECT_NEAR(s.var, 1.0 / 12.0, 0.005);  // ~0.0833
  // Each tenth of [0, 1) gets about a tenth of the draws.
  std::vector<int> bins(10, 0);
  for (float f : v) bins[std::min(9, static_cast<int>(f * 10))]++;
  for (int b : bins) EXPECT_NEAR(b, kLarge / 10, kLarge / 100);
}

TEST(Random, RandnHasStandardNormalStatistics) {
  manual_seed(2);
  Tensor x = randn({kLarge});
  std::vector<float> v = x.to_vector();
  Stats s = stats_of(v);
  EXPECT_NEAR(s.mean, 0.0, 0.02);
  EXPECT_NEAR(std::sqrt(s.var), 1.0, 0.02);
  int within1 = 0, within2 = 0;
  for (float f : v) {
    ASSERT_TRUE(std::isfinite(f));
    within1 += std::fabs(f) < 1.0f;
    within2 += std::fabs(f) < 2.0f;
  }
  EXPECT_NEAR(static_cast<double>(within1) / kLarge, 0.6827, 0.01);
  EXPECT_NEAR(static_cast<double>(within2) / kLarge, 0.9545, 0.01);
  EXPECT_LT(s.min, -3.0);  // with 200k draws both tails reach past 3 sigma
  EXPECT_GT(s.max, 3.0);
}

TEST(Random, RandintWholeNumbersInHalfOpenRange) {
  manual_seed(3);
  Tensor x = randint(-3, 4, {kLarge});
  std::vector<float> v = x.to_vector();
  std::vector<int> counts(7, 0);
  for (float f : v) {
    ASSERT_EQ(f, std::floor(f)) << "not a whole number: " << f;
    ASSERT_GE(f, -3.0f);
    ASSERT_LT(f, 4.0f);
    counts[static_cast<int>(f) + 3]++;
  }
  for (int c : counts) EXPECT_NEAR(c, kLarge / 7, kLarge / 70);  // every value, evenly
  EXPECT_NEAR(stats_of(v).mean, 0.0, 0.03);
}

TEST(Random, RandintShapeAndSingleValueRange) {
  Tensor x = randint(5, 6, {3, 4});
  EXPECT_TRUE(tensor_near(x, {3, 4}, std::vector<float>(12, 5.0f)));
}

TEST(Random, UniformRangeAndMean) {
  manual_seed(4);
  Tensor x = uniform({kLarge}, -2.0f, 6.0f);
  Stats s = stats_of(x.to_vector());
  EXPECT_GE(s.min, -2.0);
  EXPECT_LT(s.max, 6.0);
  EXPECT_NEAR(s.mean, 2.0, 0.05);
  EXPECT_NEAR(s.var, 64.0 / 12.0, 0.1);
  EXPECT_LT(s.min, -1.9);
  EXPECT_GT(s.max, 5.9);
}

TEST(Random, RandpermIsAPermutation) {
  manual_seed(5);
  for (int64_t n : {1, 2, 10, 1000}) {
    Tensor p = randperm(n);
    ASSERT_EQ(p.shape(), (Shape{n}));
    std::vector<float> v = p.to_vector();
    std::sort(v.begin(), v.end());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(v[i], static_cast<float>(i)) << "n=" << n;
  }
}

TEST(Random, RandpermShuffles) {
  manual_seed(6);
  std::vector<float> v = randperm(1000).to_vector();
  int fixed_points = 0;
  for (int i = 0; i < 1000; ++i) fixed_points += v[i] == static_cast<float>(i);
  EXPECT_LT(fixed_points, 10);  // expected about 1 for a uniform permutation
}

TEST(Random, RandpermIndicesIsAPermutation) {
  manual_seed(7);
  std::vector<int64_t> p = randperm_indices(500);
  ASSERT_EQ(p.size(), 500u);
  std::set<int64_t> seen(p.begin(), p.end());
  EXPECT_EQ(seen.size(), 500u);
  EXPECT_EQ(*seen.begin(), 0);
  EXPECT_EQ(*seen.rbegin(), 499);
  std::vector<int64_t> sorted(500);
  std::iota(sorted.begin(), sorted.end(), 0);
  EXPECT_NE(p, sorted);
}

TEST(Random, SameSeedGivesIdenticalValues) {
  manual_seed(42);
  std::vector<float> a1 = rand({100}).to_vector();
  std::vector<float> b1 = randn({3, 7}).to_vector();
  std::vector<float> c1 = randint(0, 1000, {50}).to_vector();
  std::vector<float> d1 = randperm(64).to_vector();
  std::vector<float> e1 = uniform({20}, -1.0f, 1.0f).to_vector();
  manual_seed(42);
  EXPECT_EQ(rand({100}).to_vector(), a1);
  EXPECT_EQ(randn({3, 7}).to_vector(), b1);
  EXPECT_EQ(randint(0, 1000, {50}).to_vector(), c1);
  EXPECT_EQ(randperm(64).to_vector(), d1);
  EXPECT_EQ(uniform({20}, -1.0f, 1.0f).to_vector(), e1);
}

TEST(Random, DifferentSeedsGiveDifferentValues) {
  manual_seed(1);
  std::vector<float> a = rand({100}).to_vector();
  std::vector<float> an = randn({100}).to_vector();
  manual_seed(2);
  std::vector<float> b = rand({100}).to_vector();
  std::vector<float> bn = randn({100}).to_vector();
  EXPECT_NE(a, b);
  EXPECT_NE(an, bn);
}

TEST(Random, ConsecutiveDrawsDiffer) {
  manual_seed(9);
  std::vector<float> a = rand({100}).to_vector();
  std::vector<float> b = rand({100}).to_vector();
  EXPECT_NE(a, b);
  std::set<float> distinct(a.begin(), a.end());
  EXPECT_GT(distinct.size(), 95u);
}

TEST(Random, FillValuesDoNotDependOnShape) {
  // Value i of a fill depends only on (seed, offset, i).
  manual_seed(11);
  std::vector<float> flat = randn({60}).to_vector();
  manual_seed(11);
  std::vector<float> shaped = randn({3, 4, 5}).to_vector();
  EXPECT_EQ(flat, shaped);
}

TEST(Random, GeneratorStateSaveAndRestore) {
  manual_seed(123);
  rand({10});  // advance
  GeneratorState saved = generator_state();
  EXPECT_EQ(saved.seed, 123u);
  std::vector<float> a = rand({17}).to_vector();
  std::vector<float> an = randn({5}).to_vector();
  set_generator_state(saved);
  EXPECT_EQ(generator_state().seed, saved.seed);
  EXPECT_EQ(generator_state().offset, saved.offset);
  EXPECT_EQ(rand({17}).to_vector(), a);
  EXPECT_EQ(randn({5}).to_vector(), an);
}

TEST(Random, ManualSeedResetsOffset) {
  manual_seed(5);
  EXPECT_EQ(generator_state().seed, 5u);
  EXPECT_EQ(generator_state().offset, 0u);
  rand({100});
  EXPECT_GT(generator_state().offset, 0u);
  manual_seed(5);
  EXPECT_EQ(generator_state().offset, 0u);
}

TEST(Random, ReserveRandomAdvancesOffset) {
  manual_seed(8);
  uint64_t first = reserve_random(1000);
  uint64_t second = reserve_random(1000);
  EXPECT_EQ(first, 0u);
  EXPECT_GT(second, first);
  EXPECT_GE(generator_state().offset, second);
}

TEST(Random, RandomU64IsSeededAndVaries) {
  manual_seed(77);
  uint64_t a = random_u64(), b = random_u64();
  EXPECT_NE(a, b);
  manual_seed(77);
  EXPECT_EQ(random_u64(), a);
  EXPECT_EQ(random_u64(), b);
}

TEST(Random, RandomTensorsAreLeavesWithoutGrad) {
  Tensor x = randn({3});
  EXPECT_TRUE(x.is_leaf());
  EXPECT_FALSE(x.requires_grad());
}
