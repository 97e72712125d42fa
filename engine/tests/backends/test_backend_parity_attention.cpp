// The fast CPU backend against the reference backend for the layer norm and attention kernels
// (forward and backward), called directly with the layouts a GPT gives them: q, k and v as
// strided slices of one (B, T, 3C) buffer, results laid out (B, T, H, hs). The two backends
// sum in different orders (and the fast softmax has its own exp), so they agree to rounding.
// (What each keeps in the probabilities' workspace is its own business: the fast backend keeps
// them transposed. Only the results are compared.)
#include "gradcheck.h"

#include <cmath>
#include <vector>

#include "backend_registry.h"
#include "ember/backend.h"

using namespace ember;
using namespace ember_test;

namespace {

using Buffer = std::vector<float>;

::testing::AssertionResult near(const Buffer& got, const Buffer& expected, double tolerance) {
  int bad = 0;
  std::ostringstream report;
  for (size_t i = 0; i < expected.size(); ++i) {
    if (!close(got[i], expected[i], tolerance, tolerance)) {
      if (bad < 8) report << "\n  [" << i << "] fast " << got[i] << ", reference " << expected[i];
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << bad << " value(s) differ:" << report.str();
  return ::testing::AssertionSuccess();
}

}  // namespace

TEST(BackendParityAttention, LayerNormForwardAndBackward) {
  const int64_t rows = 300, cols = 96;  // several of the fast kernel's row blocks, threaded
  const Buffer x = host_uniform(rows * cols, -3.0f, 3.0f, 1), w = host_uniform(cols, 0.5f, 1.5f, 2);
  const Buffer b = host_uniform(cols, -1.0f, 1.0f, 3), g = host_uniform(rows * cols, -1.0f, 1.0f, 4);
  Buffer out[2], mean[2], rstd[2], dx[2], dw[2], db[2];
  Backend* backends[2] = {&fast_cpu_backend(), &reference_backend()};
  for (int i = 0; i < 2; ++i) {
    out[i].resize(rows * cols), mean[i].resize(rows), rstd[i].resize(rows);
    dx[i].resize(rows * cols), dw[i].resize(cols), db[i].resize(cols);
    backends[i]->layer_norm(x.data(), w.data(), b.data(), out[i].data(), mean[i].data(), rstd[i].data(), rows,
                            cols, 1e-5f);
    backends[i]->layer_norm_backward(g.data(), x.data(), w.data(), mean[i].data(), rstd[i].data(), dx[i].data(),
                                     dw[i].data(), db[i].data(), rows, cols);
  }
  EXPECT_TRUE(near(out[0], out[1], 1e-5)) << "out";
  EXPECT_TRUE(near(mean[0], mean[1], 1e-6)) << "mean";
  EXPECT_TRUE(near(rstd[0], rstd[1], 1e-5)) << "rstd";
  EXPECT_TRUE(near(dx[0], dx[1], 1e-5)) << "grad_in";
  EXPECT_TRUE(near(dw[0], dw[1], 1e-4)) << "grad_weight";
  EXPECT_TRUE(near(db[0], db[1], 1e-4)) << "grad_bias";
}

TEST(BackendParityAttention, CausalAttentionOnSlicesOfOneBuffer) {
  const int64_t B = 3, T = 45, H = 4, hs = 8, C = H * hs;
  const Buffer qkv = host_uniform(B * T * 3 * C, -1.5f, 1.5f, 5);
  const Buffer grad_out = host_uniform(B * T * C, -1.0f, 1.0f, 6);
  // q, k, v: (B, H, T, hs) views of the (B, T, 3C) buffer; results (B, H, T, hs) over (B, T, H, hs).
  auto part = [&](int64_t p) { return StridedLayout(Shape{B, H, T, hs}, Shape{T * 3 * C, hs, 3 * C, 1}, p * C); };
  const StridedLayout interleaved(Shape{B, H, T, hs}, Shape{T * C, hs, C, 1}, 0);
  for (bool causal : {true, false}) {
    SCOPED_TRACE(causal ? "causal" : "full");
    Buffer out[2], probs[2], dq[2], dk[2], dv[2];
    Backend* backends[2] = {&fast_cpu_backend(), &reference_backend()};
    for (int i = 0; i < 2; ++i) {
      out[i].resize(B * T * C), probs[i].resize(B * H * T * T);
      dq[i].resize(B * T * C), dk[i].resize(B * T * C), dv[i].resize(B * T * C);
      backends[i]->attention(qkv.data(), part(0), qkv.data(), part(1), qkv.data(), part(2), out[i].data(),
                             interleaved, probs[i].data(), 0.35f, causal);
      backends[i]->attention_backward(qkv.data(), part(0), qkv.data(), part(1), qkv.data(), part(2),
                                      probs[i].data(), grad_out.data(), interleaved, dq[i].data(), interleaved,
                                      dk[i].data(), interleaved, dv[i].data(), interleaved, 0.35f, causal);
    }
    EXPECT_TRUE(near(out[0], out[1], 1e-5)) << "out";
    EXPECT_TRUE(near(dq[0], dq[1], 1e-5)) << "grad_q";
    EXPECT_TRUE(near(dk[0], dk[1], 1e-5)) << "grad_k";
    EXPECT_TRUE(near(dv[0], dv[1], 1e-5)) << "grad_v";
  }
}

TEST(BackendParityAttention, StridedLastDimGoesThroughACopy) {
  // k read with a last-dim stride of 2 (every other float), out written transposed.
  const int64_t B = 2, H = 2, L = 5, S = 6, E = 3;
  const Buffer q = host_uniform(B * H * L * E, -1, 1, 7), k = host_uniform(B * H * S * E * 2, -1, 1, 8);
  const Buffer v = host_uniform(B * H * S * E, -1, 1, 9);
  const StridedLayout q_layout(Shape{B, H, L, E}, Shape{H * L * E, L * E, E, 1}, 0);
  const StridedLayout k_layout(Shape{B, H, S, E}, Shape{H * S * E * 2, S * E * 2, E * 2, 2}, 1);
  const StridedLayout v_layout(Shape{B, H, S, E}, Shape{H * S * E, S * E, E, 1}, 0);
  const StridedLayout out_layout(Shape{B, H, L, E}, Shape{H * L * E, L * E, 1, L}, 0);
  Buffer out[2], probs[2];
  Backend* backends[2] = {&fast_cpu_backend(), &reference_backend()};
  for (int i = 0; i < 2; ++i) {
    out[i].resize(B * H * L * E), probs[i].resize(B * H * L * S);
    backends[i]->attention(q.data(), q_layout, k.data(), k_layout, v.data(), v_layout, out[i].data(), out_layout,
                           probs[i].data(), 0.5f, true);
  }
  EXPECT_TRUE(near(out[0], out[1], 1e-6));
}
