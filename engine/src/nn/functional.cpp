#include "ember/nn/functional.h"

#include <cmath>
#include <vector>

#include "ember/autograd.h"
#include "ember/creation.h"
#include "ember/error.h"
#include "ember/ops.h"
#include "ember/shape.h"

namespace ember::nn::functional {

namespace {

void check_defined(const Tensor& x, const char* op, const char* what) {
  check(x.defined(), "{}: {} is an undefined tensor", op, what);
}

}  // namespace

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_defined(x, "linear", "the input");
  check_defined(weight, "linear", "the weight");
  EMBER_CHECK(weight.dim() == 2,
        "linear: expected a 2-D weight (out_features, in_features), got shape {}",
        shape_str(weight.shape()));
  EMBER_CHECK(x.dim() >= 1 && x.size(-1) == weight.size(1),
        "linear: expected input with {} features in its last dim, got shape {} (weight has shape "
        "{})",
        weight.size(1), shape_str(x.shape()), shape_str(weight.shape()));
  if (bias.defined()) {
    EMBER_CHECK(bias.dim() == 1 && bias.size(0) == weight.size(0),
          "linear: expected a bias of shape ({},) to match weight {}, got shape {}",
          weight.size(0), shape_str(weight.shape()), shape_str(bias.shape()));
  }
  // A single vector (in,) goes through as a batch of one, so the product only ever sees a
  // matrix or a batch of matrices on the left.
  const bool vector_input = x.dim() == 1;
  const Tensor input = vector_input ? x.unsqueeze(0) : x;  // (*, in)
  // The same ops, and so the same graph, as writing it by hand: matmul and add record
  // themselves, and their gradients are the ones autograd uses everywhere. The GEMM reads
  // weight.t() in place, and matmul's backward hands the weight a dense (out, in) gradient.
  Tensor out = input.matmul(weight.t());  // (*, in) @ (in, out) -> (*, out)
  if (bias.defined()) out = out + bias;   // (*, out) + (out,)
  return vector_input ? out.squeeze(0) : out;
}

Tensor dropout(const Tensor& x, double p, bool training) {
  check_defined(x, "dropout", "the input");
  check(p >= 0.0 && p < 1.0, "dropout: p must be in [0, 1), got {}", p);
  if (!training || p == 0.0) return x;
  // Keep an element where a uniform draw on [0, 1) is >= p: probability 1 - p.
  Tensor keep = ember::rand(x.shape(), x.device()) >= static_cast<float>(p);
  return x * (keep * static_cast<float>(1.0 / (1.0 - p)));
}

Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps) {
  check_defined(x, "layer_norm", "the input");
  check(x.dim() >= 1, "layer_norm: expected at least one dim, got a scalar");
  check(eps >= 0.0, "layer_norm: eps must be >= 0, got {}", eps);
  const int64_t size = x.size(-1);
  const Shape expected{size};
  if (weight.defined()) {
    EMBER_CHECK(weight.shape() == expected,
          "layer_norm: the weight must have shape {} to match input {}, got {}",
          shape_str(expected), shape_str(x.shape()), shape_str(weight.shape()));
  }
  if (bias.defined()) {
    EMBER_CHECK(bias.shape() == expected,
          "layer_norm: the bias must have shape {} to match input {}, got {}",
          shape_str(expected), shape_str(x.shape()), shape_str(bias.shape()));
  }
  Tensor centered = x - x.mean(-1, /*keepdim=*/true);
  Tensor variance = (centered * centered).mean(-1, /*keepdim=*/true);  // biased, as PyTorch
  Tensor out = centered / (variance + static_cast<float>(eps)).sqrt();
  if (weight.defined()) out = out * weight;
  if (bias.defined()) out = out + bias;
  return out;
}

Tensor cross_entropy(const Tensor& logits, const Tensor& target) {
  check_defined(logits, "cross_entropy", "logits");
  check_defined(target, "cross_entropy", "target");
  EMBER_CHECK(logits.dim() == 2,
        "cross_entropy: expected logits of shape (batch, classes), got shape {}",
        shape_str(logits.shape()));
  const int64_t batch = logits.size(0);
  const int64_t classes = logits.size(1);
  EMBER_CHECK(batch > 0 && classes > 0, "cross_entropy: logits of shape {} are empty",
        shape_str(logits.shape()));
  EMBER_CHECK(target.device() == logits.device(),
        "cross_entropy: logits are on {} but target is on {}", logits.device().str(),
        target.device().str());

  Tensor probabilities;
  if (target.dim() == 2) {
    EMBER_CHECK(target.shape() == logits.shape(),
          "cross_entropy: a (batch, classes) target must have the logits' shape {}, got {}",
          shape_str(logits.shape()), shape_str(target.shape()));
    probabilities = target;
  } else {
    EMBER_CHECK(target.dim() == 1 && target.size(0) == batch,
          "cross_entropy: expected target of shape ({},) (class indices) or {} "
          "(probabilities) for logits {}, got shape {}",
          batch, shape_str(logits.shape()), shape_str(logits.shape()),
          shape_str(target.shape()));
    const std::vector<float> classes_given = target.to_vector();
    for (int64_t b = 0; b < batch; ++b) {
      const float c = classes_given[static_cast<std::size_t>(b)];
      EMBER_CHECK(c >= 0.0f && c < static_cast<float>(classes) && c == std::floor(c),
            "cross_entropy: target[{}] = {} is not a class index in [0, {}) for logits of "
            "shape {}",
            b, c, classes, shape_str(logits.shape()));
    }
    probabilities = one_hot(target, classes);
  }
  // A class with probability 0 contributes 0, even where its log-probability is -inf (a logit
  // of -inf): 0 * -inf would be NaN. PyTorch's class-index form never touches those entries.
  Tensor log_probabilities = log_softmax(logits, -1);  // (batch, classes)
  Tensor used = where(probabilities != 0.0f, log_probabilities, 0.0f);  // (batch, classes)
  return -(probabilities * used).sum(-1).mean();
}

Tensor mse_loss(const Tensor& prediction, const Tensor& target) {
  check_defined(prediction, "mse_loss", "prediction");
  check_defined(target, "mse_loss", "target");
  EMBER_CHECK(prediction.shape() == target.shape(),
        "mse_loss: prediction has shape {} but target has shape {}; they must match (reshape "
        "one of them, e.g. with unsqueeze(-1) or squeeze(-1))",
        shape_str(prediction.shape()), shape_str(target.shape()));
  Tensor difference = prediction - target;
  return (difference * difference).mean();
}

}  // namespace ember::nn::functional
