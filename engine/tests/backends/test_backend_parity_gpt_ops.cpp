// The fast CPU backend against the reference backend for issue 13's kernels: gelu's forward
// and backward maps (exact and tanh) and the AdamW update. Both backends compute the same
// formulas (formulas.h) and must give the same bits.
#include "gradcheck.h"

#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend_registry.h"
#include "ember/backend.h"

using namespace ember;
using namespace ember_test;

namespace {

using Buffer = std::vector<float>;

::testing::AssertionResult same_bits(const Buffer& got, const Buffer& expected) {
  for (size_t i = 0; i < expected.size(); ++i) {
    const bool both_nan = std::isnan(got[i]) && std::isnan(expected[i]);
    if (!both_nan && std::memcmp(&got[i], &expected[i], sizeof(float)) != 0) {
      return ::testing::AssertionFailure() << "[" << i << "] fast " << got[i] << ", reference " << expected[i];
    }
  }
  return ::testing::AssertionSuccess();
}

// Uniform values with zeros of both signs, infinities, NaN and large magnitudes mixed in.
Buffer awkward_values(int64_t n, uint32_t seed) {
  Buffer values = host_uniform(n, -6.0f, 6.0f, seed);
  const float specials[] = {0.0f, -0.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(),
                            std::numeric_limits<float>::quiet_NaN(), 20.0f, -20.0f, 1e-20f};
  for (size_t i = 0; i < values.size(); i += 13) values[i] = specials[(i / 13) % 8];
  return values;
}

}  // namespace

TEST(BackendParityGptOps, GeluForwardBothForms) {
  const int64_t count = 70000;  // past the fast backend's grain: threaded
  const Buffer x = awkward_values(count, 61);
  for (UnaryOp op : {UnaryOp::Gelu, UnaryOp::GeluTanh}) {
    Buffer got(x.size()), expected(x.size());
    fast_cpu_backend().unary(op, x.data(), got.data(), count, 0.0f, 0.0f);
    reference_backend().unary(op, x.data(), expected.data(), count, 0.0f, 0.0f);
    EXPECT_TRUE(same_bits(got, expected)) << "unary op " << static_cast<int>(op);
  }
}

TEST(BackendParityGptOps, GeluBackwardBothFormsWithBroadcasting) {
  // grad (4, 3, 5) against x (3, 5) repeated along dim 0, and a contiguous pair.
  const Buffer grad = awkward_values(60, 62), x = awkward_values(15, 63);
  const StridedLayout grad_layout(Shape{4, 3, 5}, Shape{15, 5, 1}, 0);
  const StridedLayout x_layout(Shape{4, 3, 5}, Shape{0, 5, 1}, 0);
  for (BinaryOp op : {BinaryOp::GeluBackward, BinaryOp::GeluTanhBackward}) {
    Buffer got(60), expected(60);
    fast_cpu_backend().binary(op, grad.data(), grad_layout, x.data(), x_layout, got.data(), grad_layout);
    reference_backend().binary(op, grad.data(), grad_layout, x.data(), x_layout, expected.data(), grad_layout);
    EXPECT_TRUE(same_bits(got, expected)) << "binary op " << static_cast<int>(op);
  }
  const int64_t count = 50000;
  const Buffer big_grad = awkward_values(count, 64), big_x = awkward_values(count, 65);
  const StridedLayout dense(Shape{count}, Shape{1}, 0);
  for (BinaryOp op : {BinaryOp::GeluBackward, BinaryOp::GeluTanhBackward}) {
    Buffer got(count), expected(count);
    fast_cpu_backend().binary(op, big_grad.data(), dense, big_x.data(), dense, got.data(), dense);
    reference_backend().binary(op, big_grad.data(), dense, big_x.data(), dense, expected.data(), dense);
    EXPECT_TRUE(same_bits(got, expected)) << "binary op " << static_cast<int>(op);
  }
}

TEST(BackendParityGptOps, AdamWStepsGiveTheSameBits) {
  const int64_t count = 40000;  // past the fast backend's grain: threaded and vectorised
  const Buffer param = host_uniform(count, -1.0f, 1.0f, 66);
  const Buffer grads[] = {host_uniform(count, -1.0f, 1.0f, 67), host_uniform(count, -1.0f, 1.0f, 68),
                          host_uniform(count, -1.0f, 1.0f, 69)};
  for (float weight_decay : {0.0f, 0.1f}) {
    Buffer p_fast = param, p_reference = param;
    Buffer m_fast(count, 0.0f), m_reference(count, 0.0f), v_fast(count, 0.0f), v_reference(count, 0.0f);
    for (int64_t step = 1; step <= 3; ++step) {
      const float lr = 1e-3f * static_cast<float>(step);  // as a schedule changes it
      fast_cpu_backend().adamw_step(p_fast.data(), grads[step - 1].data(), m_fast.data(), v_fast.data(),
                                    count, lr, 0.9f, 0.99f, 1e-8f, weight_decay, step);
      reference_backend().adamw_step(p_reference.data(), grads[step - 1].data(), m_reference.data(),
                                     v_reference.data(), count, lr, 0.9f, 0.99f, 1e-8f, weight_decay, step);
    }
    EXPECT_TRUE(same_bits(p_fast, p_reference)) << "weight_decay " << weight_decay;
    EXPECT_TRUE(same_bits(m_fast, m_reference));
    EXPECT_TRUE(same_bits(v_fast, v_reference));
  }
}

TEST(BackendParityGptOps, AdamWWithoutDecayIsAdam) {
  const int64_t count = 1000;
  const Buffer param = host_uniform(count, -1.0f, 1.0f, 70), grad = host_uniform(count, -1.0f, 1.0f, 71);
  for (Backend* backend : {&fast_cpu_backend(), &reference_backend()}) {
    Buffer p_w = param, p_a = param, m_w(count, 0.0f), m_a(count, 0.0f), v_w(count, 0.0f), v_a(count, 0.0f);
    for (int64_t step = 1; step <= 2; ++step) {
      backend->adamw_step(p_w.data(), grad.data(), m_w.data(), v_w.data(), count, 1e-2f, 0.9f, 0.999f, 1e-8f,
                          0.0f, step);
      backend->adam_step(p_a.data(), grad.data(), m_a.data(), v_a.data(), count, 1e-2f, 0.9f, 0.999f, 1e-8f,
                         0.0f, step);
    }
    EXPECT_TRUE(same_bits(p_w, p_a)) << backend->name();
  }
}
