// nn::functional: the stateless building blocks behind the layers and the losses.
// Spell it short in your own code:
//   namespace F = ember::nn::functional;
//   Tensor loss = F::cross_entropy(logits, labels);
#pragma once

#include <cstdint>
#include <optional>

#include "ember/ops.h"
#include "ember/tensor.h"

namespace ember::nn::functional {

// ---- activations ------------------------------------------------------------------
// The engine's own ops, made visible here so that F::relu(x) reads like PyTorch. They are
// the same functions as ember::relu etc. (using-declarations), so calling relu(x) with
// both namespaces in view is not ambiguous.
using ember::relu;         // max(0, x)
using ember::sigmoid;      // 1 / (1 + exp(-x))
using ember::tanh;
using ember::softmax;      // softmax(x, dim): exp(x) / sum(exp(x)) along dim, computed stably
using ember::log_softmax;  // log_softmax(x, dim): log(softmax(x, dim)) without a log of 0
using ember::gelu;         // gelu(x, approximate = "none"): x * Phi(x), or its "tanh" form

// ---- layers -----------------------------------------------------------------------
// x.matmul(weight.t()) + bias for x (*, in), weight (out, in), bias (out,) or undefined.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());
// Training: zero each element with probability p and scale the rest by 1/(1-p), with the
// mask drawn through ember::rand (seeded). Not training, or p == 0: returns x. p in [0, 1).
Tensor dropout(const Tensor& x, double p, bool training = true);
// Normalises over the last dim (biased variance), then * weight + bias (either may be
// undefined to skip it); weight and bias have shape (x.size(-1),).
Tensor layer_norm(const Tensor& x, const Tensor& weight, const Tensor& bias, double eps = 1e-5);

// ---- attention --------------------------------------------------------------------
// PyTorch's F.scaled_dot_product_attention (without its mask and dropout arguments): for each
// batch and head, softmax(q k^T * scale) v, where with is_causal query i sees keys 0..i only
// (-inf above the diagonal, as masked_fill with tril(ones({L, S})) == 0).
//   q (B, H, L, E), k (B, H, S, E), v (B, H, S, Ev) -> (B, H, L, Ev); or all without H.
// scale defaults to 1 / sqrt(E). Exactly q6's four ops (matmul, masked_fill, softmax, matmul),
// as one op with its own gradient: each (batch, head) pair in one pass, nothing copied to make
// q, k, v dense. The result is a view of memory laid out (B, L, H, Ev), as PyTorch's fused
// kernels give it, so y.transpose(1, 2).contiguous() copies nothing.
Tensor scaled_dot_product_attention(const Tensor& q, const Tensor& k, const Tensor& v,
                                    bool is_causal = false,
                                    std::optional<double> scale = std::nullopt);

// ---- losses -----------------------------------------------------------------------
// Mean over the batch of -sum_c target[b, c] * log_softmax(logits)[b, c].
// logits: (B, C) raw scores. target: either (B, C) probabilities (e.g. one-hot rows) or
// (B,) class indices stored as floats, whole numbers in [0, C).
Tensor cross_entropy(const Tensor& logits, const Tensor& target);
// mean((prediction - target)^2); the two shapes must be equal (no broadcasting, which
// silently turns (B, 1) against (B,) into a (B, B) matrix).
Tensor mse_loss(const Tensor& prediction, const Tensor& target);

}  // namespace ember::nn::functional
