// optim::CosineSchedule (issue 13): nanoGPT's get_lr, value by value, and its errors.
#include "gradcheck.h"

#include <cmath>
#include <limits>

#include "ember/optim/schedule.h"

using namespace ember;
using namespace ember_test;

TEST(OptimCosineSchedule, NanoGptsLaptopSettings) {
  // learning_rate 1e-3, min_lr 1e-4, warmup_iters 100, lr_decay_iters 2000.
  optim::CosineSchedule schedule(1e-3, 1e-4, 100, 2000);
  // Warmup: max_lr * (it + 1) / (warmup_iters + 1).
  EXPECT_DOUBLE_EQ(schedule.lr_at(0), 1e-3 * 1.0 / 101.0);
  EXPECT_DOUBLE_EQ(schedule.lr_at(49), 1e-3 * 50.0 / 101.0);
  EXPECT_DOUBLE_EQ(schedule.lr_at(99), 1e-3 * 100.0 / 101.0);
  // The cosine starts at max_lr, is halfway at the middle and ends at min_lr.
  EXPECT_DOUBLE_EQ(schedule.lr_at(100), 1e-3);
  EXPECT_NEAR(schedule.lr_at(1050), 0.55e-3, 1e-15);
  const double quarter = 1e-4 + 0.5 * (1.0 + std::cos(3.14159265358979323846 * 0.25)) * 9e-4;
  EXPECT_NEAR(schedule.lr_at(575), quarter, 1e-15);
  EXPECT_NEAR(schedule.lr_at(2000), 1e-4, 1e-15);
  // After decay_iters: min_lr.
  EXPECT_DOUBLE_EQ(schedule.lr_at(2001), 1e-4);
  EXPECT_DOUBLE_EQ(schedule.lr_at(1000000), 1e-4);
  EXPECT_DOUBLE_EQ(schedule.max_lr(), 1e-3);
  EXPECT_DOUBLE_EQ(schedule.min_lr(), 1e-4);
  EXPECT_EQ(schedule.warmup_iters(), 100);
  EXPECT_EQ(schedule.decay_iters(), 2000);
}

TEST(OptimCosineSchedule, FallsMonotonicallyAfterWarmup) {
  optim::CosineSchedule schedule(6e-4, 6e-5, 10, 500);
  double previous = schedule.lr_at(0);
  for (int64_t it = 1; it <= 10; ++it) {  // up to max_lr at warmup_iters
    EXPECT_GT(schedule.lr_at(it), previous) << it;
    previous = schedule.lr_at(it);
  }
  for (int64_t it = 11; it <= 600; ++it) {
    const double lr = schedule.lr_at(it);
    EXPECT_LE(lr, previous + 1e-18) << it;
    EXPECT_GE(lr, 6e-5 - 1e-18) << it;
    previous = lr;
  }
}

TEST(OptimCosineSchedule, NoWarmupAndConstantRate) {
  optim::CosineSchedule no_warmup(1.0, 0.0, 0, 4);
  EXPECT_DOUBLE_EQ(no_warmup.lr_at(0), 1.0);
  EXPECT_NEAR(no_warmup.lr_at(2), 0.5, 1e-15);
  EXPECT_NEAR(no_warmup.lr_at(4), 0.0, 1e-15);
  optim::CosineSchedule constant(0.1, 0.1, 0, 1);
  for (int64_t it : {0, 1, 2, 100}) EXPECT_NEAR(constant.lr_at(it), 0.1, 1e-15);
}

TEST(OptimCosineSchedule, ErrorsNameTheProblem) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_TRUE(throws_error_all([] { optim::CosineSchedule s(1e-4, 1e-3, 10, 100); },
                               {"CosineSchedule", "min_lr", "0.001", "0.0001"}));
  EXPECT_TRUE(throws_error_all([] { optim::CosineSchedule s(1e-3, -1e-4, 10, 100); },
                               {"CosineSchedule", "min_lr"}));
  EXPECT_TRUE(throws_error_all([&] { optim::CosineSchedule s(nan, 0.0, 10, 100); },
                               {"CosineSchedule", "max_lr", "nan"}));
  EXPECT_TRUE(throws_error_all([] { optim::CosineSchedule s(1e-3, 1e-4, -1, 100); },
                               {"CosineSchedule", "warmup_iters", "-1"}));
  EXPECT_TRUE(throws_error_all([] { optim::CosineSchedule s(1e-3, 1e-4, 100, 100); },
                               {"CosineSchedule", "decay_iters", "100"}));
  EXPECT_TRUE(throws_error_all([] { optim::CosineSchedule s(1e-3, 1e-4, 100, 50); },
                               {"CosineSchedule", "decay_iters 50", "warmup_iters 100"}));
  optim::CosineSchedule ok(1e-3, 1e-4, 10, 100);
  EXPECT_TRUE(throws_error_all([&] { ok.lr_at(-1); }, {"lr_at", "-1"}));
}
