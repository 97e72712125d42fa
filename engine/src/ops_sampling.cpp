// topk and multinomial: choosing elements by rank or at random.
//
// Both decide on the host: the values (a few rows of logits or probabilities when a model
// generates text) are copied there, ranked or drawn in double precision, and the answer is
// copied back to the tensor's device. Every backend therefore gives the same result, and
// multinomial's draws come from the seeded generator (random.h) whatever the device.
#include <algorithm>
#include <cmath>
#include <memory>
#include <numeric>
#include <vector>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/ops.h"
#include "ember/random.h"
#include "philox.h"
#include "tensor_internal.h"

namespace ember {

using Grads = std::vector<Tensor>;

// ---- topk -----------------------------------------------------------------------------------

ValuesAndIndices topk(const Tensor& x, int64_t k, int64_t dim, bool largest) {
  check_defined(x, "topk");
  EMBER_CHECK(x.dim() >= 1, "topk: cannot take the top k of a scalar (shape ()); view it as (1,)");
  const int64_t d = normalize_dim(dim, x.dim(), "topk");
  const int64_t n = x.size(d);
  EMBER_CHECK(k >= 0 && k <= n, "topk: k = {} is out of range for dim {} of size {} (shape {})", k,
              d, n, shape_str(x.shape()));
  // Work on (rows, n): the chosen dim last, made contiguous.
  const Tensor moved = x.detach().movedim(d, -1).contiguous();
  const std::vector<float> values_in = moved.to_vector();
  const int64_t rows = n == 0 ? 0 : moved.numel() / n;
  Shape out_shape = moved.shape();
  out_shape[out_shape.size() - 1] = k;

  // Ranks a before b: the larger (smaller) value first, a NaN before every number when
  // largest (after every number otherwise, as PyTorch), equal values in index order.
  auto indices_kept = std::make_shared<std::vector<int64_t>>(static_cast<size_t>(rows * k));
  std::vector<float> values_out(static_cast<size_t>(rows * k)), indices_out(values_out.size());
  std::vector<int64_t> order(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    const float* row = values_in.data() + r * n;
    auto before = [row, largest](int64_t a, int64_t b) {
      const float va = row[a], vb = row[b];
      const bool nan_a = va != va, nan_b = vb != vb;
      if (nan_a || nan_b) return nan_a && nan_b ? a < b : (largest ? nan_a : nan_b);
      if (va != vb) return largest ? va > vb : va < vb;
      return a < b;
    };
    std::iota(order.begin(), order.end(), int64_t{0});
    std::partial_sort(order.begin(), order.begin() + k, order.end(), before);
    for (int64_t j = 0; j < k; ++j) {
      const size_t out = static_cast<size_t>(r * k + j);
      (*indices_kept)[out] = order[static_cast<size_t>(j)];
      values_out[out] = row[order[static_cast<size_t>(j)]];
      indices_out[out] = static_cast<float>(order[static_cast<size_t>(j)]);
    }
  }
  const Device device = x.device();
  Tensor values = from_vector(values_out, out_shape, device).movedim(-1, d).contiguous();
  Tensor indices = from_vector(indices_out, out_shape, device).movedim(-1, d).contiguous();

  // The gradient of each value goes to the position it came from; the others get 0.
  const Shape moved_shape = moved.shape();
  values = record_op("topk", {x}, values,
                     [indices_kept, moved_shape, rows, n, k, d, device](const Tensor& grad) {
    const std::vector<float> grad_values = grad.movedim(d, -1).contiguous().to_vector();
    std::vector<float> grad_in(static_cast<size_t>(rows * n), 0.0f);
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t j = 0; j < k; ++j) {
        const size_t chosen = static_cast<size_t>(r * k + j);
        grad_in[static_cast<size_t>(r * n + (*indices_kept)[chosen])] += grad_values[chosen];
      }
    }
    return Grads{from_vector(grad_in, moved_shape, device).movedim(-1, d).contiguous()};
  });
  return {values, indices};
}

// ---- multinomial ----------------------------------------------------------------------------

namespace {

// Draw i of a multinomial call whose draws start at block `offset`: a double uniform in
// [0, 1) with 53 random bits, from two words of its own Philox block (stream 4, which no other
// use of the generator takes).
double uniform53_at(uint64_t seed, uint64_t offset, int64_t i) {
  const philox::Block block = philox::generate(seed, offset + static_cast<uint64_t>(i), 4);
  const uint64_t bits = (static_cast<uint64_t>(block.word[0] >> 5) << 26) | (block.word[1] >> 6);
  return static_cast<double>(bits) * (1.0 / 9007199254740992.0);  // 2^-53
}

}  // namespace

Tensor multinomial(const Tensor& probs, int64_t num_samples, bool replacement) {
  check_defined(probs, "multinomial");
  EMBER_CHECK(probs.dim() == 1 || probs.dim() == 2,
              "multinomial: probs must be 1-D (n) or 2-D (rows, n), got shape {}",
              shape_str(probs.shape()));
  const int64_t n = probs.size(-1);
  const int64_t rows = probs.dim() == 2 ? probs.size(0) : 1;
  EMBER_CHECK(n > 0, "multinomial: probs (shape {}) has no categories", shape_str(probs.shape()));
  EMBER_CHECK(num_samples > 0, "multinomial: num_samples must be positive, got {}", num_samples);
  EMBER_CHECK(replacement || num_samples <= n,
              "multinomial: cannot draw {} samples without replacement from {} categories "
              "(shape {}); pass replacement = true",
              num_samples, n, shape_str(probs.shape()));
  const std::vector<float> weights = probs.detach().contiguous().to_vector();
  for (int64_t r = 0; r < rows; ++r) {
    double total = 0.0;
    int64_t positive = 0;
    for (int64_t i = 0; i < n; ++i) {
      const float w = weights[static_cast<size_t>(r * n + i)];
      EMBER_CHECK(std::isfinite(w) && w >= 0.0f,
                  "multinomial: weights must be finite and >= 0, got {} at index {} of row {} "
                  "(shape {})",
                  w, i, r, shape_str(probs.shape()));
      total += w;
      positive += w > 0.0f ? 1 : 0;
    }
    EMBER_CHECK(total > 0.0, "multinomial: row {} of probs (shape {}) sums to 0", r,
                shape_str(probs.shape()));
    EMBER_CHECK(replacement || positive >= num_samples,
                "multinomial: row {} of probs (shape {}) has {} non-zero weights, too few for {} "
                "samples without replacement",
                r, shape_str(probs.shape()), positive, num_samples);
  }

  std::vector<float> samples(static_cast<size_t>(rows * num_samples));
  const uint64_t seed = generator_state().seed;
  if (replacement) {
    // Each sample: a uniform u, and the first index whose running sum passes u * total.
    const uint64_t offset = reserve_random(rows * num_samples);
    std::vector<double> cumulative(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r) {
      double running = 0.0;
      int64_t last_positive = 0;
      for (int64_t i = 0; i < n; ++i) {
        const float w = weights[static_cast<size_t>(r * n + i)];
        running += w;
        cumulative[static_cast<size_t>(i)] = running;
        if (w > 0.0f) last_positive = i;
      }
      for (int64_t s = 0; s < num_samples; ++s) {
        const double target = uniform53_at(seed, offset, r * num_samples + s) * running;
        const auto found = std::upper_bound(cumulative.begin(), cumulative.end(), target);
        const int64_t index = found == cumulative.end()
                                  ? last_positive
                                  : static_cast<int64_t>(found - cumulative.begin());
        samples[static_cast<size_t>(r * num_samples + s)] = static_cast<float>(index);
      }
    }
  } else {
    // The exponential race: index i finishes at E_i / w_i with E_i exponential(1); the first
    // num_samples to finish, in order, are distributed exactly as drawing one index at a
    // time, each in proportion to the weights left (PyTorch draws the same way).
    const uint64_t offset = reserve_random(rows * n);
    std::vector<double> finish(static_cast<size_t>(n));
    std::vector<int64_t> order(static_cast<size_t>(n));
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t i = 0; i < n; ++i) {
        const double w = weights[static_cast<size_t>(r * n + i)];
        const double exponential = -std::log(1.0 - uniform53_at(seed, offset, r * n + i));
        finish[static_cast<size_t>(i)] = w > 0.0 ? exponential / w : INFINITY;
      }
      std::iota(order.begin(), order.end(), int64_t{0});
      std::partial_sort(order.begin(), order.begin() + num_samples, order.end(),
                        [&finish](int64_t a, int64_t b) {
                          const double fa = finish[static_cast<size_t>(a)];
                          const double fb = finish[static_cast<size_t>(b)];
                          return fa != fb ? fa < fb : a < b;
                        });
      for (int64_t s = 0; s < num_samples; ++s) {
        samples[static_cast<size_t>(r * num_samples + s)] =
            static_cast<float>(order[static_cast<size_t>(s)]);
      }
    }
  }
  Shape out_shape = probs.dim() == 2 ? Shape{rows, num_samples} : Shape{num_samples};
  return from_vector(samples, out_shape, probs.device());
}

}  // namespace ember
