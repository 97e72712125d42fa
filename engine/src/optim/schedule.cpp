#include "ember/optim/schedule.h"

#include <cmath>

#include "ember/error.h"

namespace ember::optim {

CosineSchedule::CosineSchedule(double max_lr, double min_lr, int64_t warmup_iters,
                               int64_t decay_iters)
    : max_lr_(max_lr), min_lr_(min_lr), warmup_iters_(warmup_iters), decay_iters_(decay_iters) {
  check(std::isfinite(max_lr) && std::isfinite(min_lr) && min_lr >= 0.0 && min_lr <= max_lr,
        "CosineSchedule: needs 0 <= min_lr <= max_lr (both finite), got max_lr {} and min_lr {}",
        max_lr, min_lr);
  check(warmup_iters >= 0, "CosineSchedule: warmup_iters must be >= 0, got {}", warmup_iters);
  check(decay_iters > warmup_iters,
        "CosineSchedule: decay_iters must be above warmup_iters, got decay_iters {} and "
        "warmup_iters {}",
        decay_iters, warmup_iters);
}

double CosineSchedule::lr_at(int64_t it) const {
  check(it >= 0, "CosineSchedule::lr_at: the iteration must be >= 0, got {}", it);
  // 1) linear warmup for warmup_iters steps
  if (it < warmup_iters_) {
    return max_lr_ * static_cast<double>(it + 1) / static_cast<double>(warmup_iters_ + 1);
  }
  // 2) after decay_iters, the minimum
  if (it > decay_iters_) return min_lr_;
  // 3) in between, a cosine from max_lr down to min_lr
  const double decay_ratio = static_cast<double>(it - warmup_iters_) /
                             static_cast<double>(decay_iters_ - warmup_iters_);
  const double pi = 3.14159265358979323846;
  const double coeff = 0.5 * (1.0 + std::cos(pi * decay_ratio));  // from 1 down to 0
  return min_lr_ + coeff * (max_lr_ - min_lr_);
}

}  // namespace ember::optim
