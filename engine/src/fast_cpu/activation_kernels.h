// The fast CPU GELU kernels behind Backend::unary (UnaryOp::Gelu, GeluTanh) and
// Backend::binary (BinaryOp::GeluBackward, GeluTanhBackward) on dense buffers.
//
// GELU runs on every hidden value of a transformer's MLP, forward and backward, so it gets
// loops of its own: vectorised (target clones with FMA, see activation_kernels.cpp) and split
// across the thread pool. The formulas are formulas.h's, written with arithmetic and fmaf only
// (no erff or expf) so that they vectorise; the reference backend computes the same formulas
// element by element and gets the same bits.
#pragma once

#include <cstdint>

namespace ember::cpu {

// out[i] = gelu(in[i]) (tanh_form: the tanh approximation); in and out dense, count elements.
void gelu_forward(bool tanh_form, const float* in, float* out, int64_t count);
// grad_in[i] = grad[i] * gelu'(x[i]); all three dense, count elements.
void gelu_backward(bool tanh_form, const float* grad, const float* x, float* grad_in, int64_t count);

}  // namespace ember::cpu
