// Learning-rate schedules. CosineSchedule is nanoGPT's get_lr: a linear warmup, a cosine
// decay from max_lr to min_lr, then min_lr:
//   optim::CosineSchedule schedule(1e-3, 1e-4, 100, 2000);
//   for (int64_t it = 0; it < 2000; ++it) {
//     optimizer.options().lr(schedule.lr_at(it));
//     ...
//   }
#pragma once

#include <cstdint>

namespace ember::optim {

class CosineSchedule {
 public:
  // Throws ember::Error unless 0 <= min_lr <= max_lr (both finite), warmup_iters >= 0 and
  // decay_iters > warmup_iters.
  CosineSchedule(double max_lr, double min_lr, int64_t warmup_iters, int64_t decay_iters);

  // The learning rate of iteration it (from 0; a negative it throws):
  //   it < warmup_iters:   max_lr * (it + 1) / (warmup_iters + 1)
  //   it > decay_iters:    min_lr
  //   otherwise:           min_lr + 0.5 * (1 + cos(pi * r)) * (max_lr - min_lr),
  //                        r = (it - warmup_iters) / (decay_iters - warmup_iters)
  double lr_at(int64_t it) const;

  double max_lr() const { return max_lr_; }
  double min_lr() const { return min_lr_; }
  int64_t warmup_iters() const { return warmup_iters_; }
  int64_t decay_iters() const { return decay_iters_; }

 private:
  double max_lr_;
  double min_lr_;
  int64_t warmup_iters_;
  int64_t decay_iters_;
};

}  // namespace ember::optim
