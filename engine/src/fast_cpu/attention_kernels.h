// The fast CPU attention behind Backend::attention and Backend::attention_backward: one
// (batch, head) pair at a time, each pair's matrix products on the packed GEMM (gemm.h), pairs
// shared out between threads whole.
#pragma once

#include <cstdint>

#include "ember/backend.h"

namespace ember::cpu {

// Arguments as Backend::attention (backend.h).
void attention_forward(const float* q, const StridedLayout& q_layout, const float* k,
                       const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                       float* out, const StridedLayout& out_layout, float* probs, float scale,
                       bool causal);
// Arguments as Backend::attention_backward (backend.h).
void attention_backward(const float* q, const StridedLayout& q_layout, const float* k,
                        const StridedLayout& k_layout, const float* v, const StridedLayout& v_layout,
                        const float* probs, const float* grad_out,
                        const StridedLayout& grad_out_layout, float* grad_q,
                        const StridedLayout& grad_q_layout, float* grad_k,
                        const StridedLayout& grad_k_layout, float* grad_v,
                        const StridedLayout& grad_v_layout, float scale, bool causal);

}  // namespace ember::cpu
