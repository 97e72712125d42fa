#include "ember/nn/functional.h"

#include <cmath>
#include <vector>

#include "ember/autograd.h"
#include "ember/backend.h"
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
  for (const Tensor* p : {&weight, &bias}) {
    EMBER_CHECK(!p->defined() || p->device() == x.device(),
                "layer_norm: the input is on {} but the {} is on {} (move one with .to())",
                x.device().str(), p == &weight ? "weight" : "bias", p->device().str());
  }
  // One kernel each way (backend.h: layer_norm, layer_norm_backward). As ops it would read:
  //   centered = x - x.mean(-1, true);  variance = (centered * centered).mean(-1, true)  (biased)
  //   out = centered / (variance + eps).sqrt() * weight + bias
  // The kernel keeps each row's mean and 1/std for the backward.
  const int64_t rows = size == 0 ? 0 : x.numel() / size;
  const Tensor input = x.detach().contiguous();  // (rows, size)
  const Tensor w = weight.defined() ? weight.detach().contiguous() : Tensor();
  const Tensor b = bias.defined() ? bias.detach().contiguous() : Tensor();
  Tensor out = empty(x.shape(), x.device());
  Tensor mean = empty({rows}, x.device()), rstd = empty({rows}, x.device());
  Backend& backend = backend_for(x.device());
  if (out.numel() > 0) {
    backend.layer_norm(input.data_ptr(), w.defined() ? w.data_ptr() : nullptr,
                       b.defined() ? b.data_ptr() : nullptr, out.data_ptr(), mean.data_ptr(),
                       rstd.data_ptr(), rows, size, static_cast<float>(eps));
  }
  std::vector<Tensor> inputs{x};
  if (weight.defined()) inputs.push_back(weight);
  if (bias.defined()) inputs.push_back(bias);
  const bool has_weight = weight.defined(), has_bias = bias.defined();
  return record_op("layer_norm", inputs, out,
                   [input, w, mean, rstd, rows, size, has_weight, has_bias](const Tensor& grad) {
    const Tensor g = grad.contiguous();
    Tensor grad_in = empty(input.shape(), input.device());
    Tensor grad_weight = has_weight ? zeros({size}, input.device()) : Tensor();
    Tensor grad_bias = has_bias ? zeros({size}, input.device()) : Tensor();
    if (grad_in.numel() > 0) {
      backend_for(input.device())
          .layer_norm_backward(g.data_ptr(), input.data_ptr(), has_weight ? w.data_ptr() : nullptr,
                               mean.data_ptr(), rstd.data_ptr(), grad_in.data_ptr(),
                               has_weight ? grad_weight.data_ptr() : nullptr,
                               has_bias ? grad_bias.data_ptr() : nullptr, rows, size);
    }
    std::vector<Tensor> grads{grad_in};
    if (has_weight) grads.push_back(grad_weight);
    if (has_bias) grads.push_back(grad_bias);
    return grads;
  });
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
    // Class indices: the loss is -mean_b log_softmax(logits)[b, target[b]], the same value as
    // the one-hot form below, with the log-probabilities picked out of the flattened
    // (batch * classes) tensor instead of multiplied by a (batch, classes) one-hot matrix.
    // (Positions are floats, as every index in Ember: exact up to 2^24.)
    if (batch * classes <= (int64_t{1} << 24)) {
      std::vector<float> positions(static_cast<std::size_t>(batch));
      for (int64_t b = 0; b < batch; ++b) {
        positions[static_cast<std::size_t>(b)] = static_cast<float>(b * classes) + classes_given[static_cast<std::size_t>(b)];
      }
      const Tensor picked = index_select(log_softmax(logits, -1).reshape({-1}),
                                         from_vector(positions, {batch}, logits.device()));  // (batch,)
      return -picked.mean();
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
