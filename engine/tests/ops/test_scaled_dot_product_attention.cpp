// F::scaled_dot_product_attention: against the composition q6 teaches (matmul, masked_fill,
// softmax, matmul) by value and by gradient, against finite differences, on the strided slices
// a GPT cuts out of one Linear(C, 3C), past the fast kernel's causal blocks, and its errors.
#include "gradcheck.h"

#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "ember/nn/functional.h"

using namespace ember;
using namespace ember_test;
namespace F = ember::nn::functional;

namespace {

// The plain composition: scores, mask, softmax, weighted sum.
Tensor plain_attention(const Tensor& q, const Tensor& k, const Tensor& v, bool causal,
                       std::optional<double> scale = std::nullopt) {
  const int64_t L = q.size(-2), S = k.size(-2);
  const float factor = static_cast<float>(scale ? *scale : 1.0 / std::sqrt(static_cast<double>(q.size(-1))));
  Tensor att = q.matmul(k.transpose(-2, -1)) * factor;
  if (causal) att = att.masked_fill(tril(ones({L, S})) == 0.0f, -std::numeric_limits<float>::infinity());
  return att.softmax(-1).matmul(v);
}

struct Case {
  Shape q, k, v;
  bool causal;
};

// Both ways on the same inputs: values and the gradients of a weighted sum.
void expect_same_as_plain(const Case& c, uint32_t seed, double tolerance = 2e-5) {
  SCOPED_TRACE("query " + shape_text(c.q) + " key " + shape_text(c.k) + " value " + shape_text(c.v) +
               (c.causal ? " causal" : ""));
  const Tensor q0 = make_input(c.q, -1.5f, 1.5f, seed), k0 = make_input(c.k, -1.5f, 1.5f, seed + 1);
  const Tensor v0 = make_input(c.v, -1.5f, 1.5f, seed + 2);
  std::vector<Tensor> fused_inputs, plain_inputs;
  for (const Tensor& t : {q0, k0, v0}) {
    fused_inputs.push_back(t.clone().set_requires_grad(true));
    plain_inputs.push_back(t.clone().set_requires_grad(true));
  }
  const Tensor fused = F::scaled_dot_product_attention(fused_inputs[0], fused_inputs[1], fused_inputs[2], c.causal);
  const Tensor plain = plain_attention(plain_inputs[0], plain_inputs[1], plain_inputs[2], c.causal);
  ASSERT_EQ(fused.shape(), plain.shape());
  EXPECT_TRUE(tensors_near(fused, plain, tolerance, tolerance));
  const Tensor weights = make_input(plain.shape(), -1.0f, 1.0f, seed + 3);
  (fused * weights).sum().backward();
  (plain * weights).sum().backward();
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(fused_inputs[i].grad().defined()) << "input " << i;
    EXPECT_TRUE(tensors_near(fused_inputs[i].grad(), plain_inputs[i].grad(), tolerance, tolerance)) << "input " << i;
  }
}

}  // namespace

TEST(ScaledDotProductAttention, MatchesTheCompositionFourDims) {
  expect_same_as_plain({{2, 3, 5, 4}, {2, 3, 5, 4}, {2, 3, 5, 4}, false}, 10);
  expect_same_as_plain({{2, 3, 5, 4}, {2, 3, 5, 4}, {2, 3, 5, 4}, true}, 20);
  // More keys than queries, and values of another width; causal is the top-left triangle.
  expect_same_as_plain({{2, 2, 5, 4}, {2, 2, 7, 4}, {2, 2, 7, 6}, false}, 30);
  expect_same_as_plain({{2, 2, 5, 4}, {2, 2, 7, 4}, {2, 2, 7, 6}, true}, 40);
  expect_same_as_plain({{1, 2, 7, 3}, {1, 2, 4, 3}, {1, 2, 4, 2}, true}, 50);
}

TEST(ScaledDotProductAttention, MatchesTheCompositionThreeDims) {
  expect_same_as_plain({{3, 6, 4}, {3, 6, 4}, {3, 6, 5}, true}, 60);
  expect_same_as_plain({{3, 6, 4}, {3, 9, 4}, {3, 9, 5}, false}, 70);
}

TEST(ScaledDotProductAttention, MatchesTheCompositionPastTheCausalBlocks) {
  // The fast kernel takes queries 32 at a time when causal: 70 rows is two blocks and a bit.
  expect_same_as_plain({{2, 2, 70, 8}, {2, 2, 70, 8}, {2, 2, 70, 8}, true}, 80, 5e-5);
  expect_same_as_plain({{1, 3, 64, 32}, {1, 3, 64, 32}, {1, 3, 64, 32}, true}, 90, 5e-5);
  expect_same_as_plain({{1, 2, 40, 8}, {1, 2, 70, 8}, {1, 2, 70, 4}, true}, 100, 5e-5);
}

TEST(ScaledDotProductAttention, ExplicitScale) {
  const Tensor q = make_input({2, 2, 4, 3}, -1, 1, 110), k = make_input({2, 2, 4, 3}, -1, 1, 111);
  const Tensor v = make_input({2, 2, 4, 3}, -1, 1, 112);
  EXPECT_TRUE(tensors_near(F::scaled_dot_product_attention(q, k, v, true, 0.7),
                           plain_attention(q, k, v, true, 0.7), 1e-6, 1e-5));
  EXPECT_TRUE(tensors_near(F::scaled_dot_product_attention(q, k, v, false, 0.0),
                           plain_attention(q, k, v, false, 0.0), 1e-6, 1e-5));  // uniform weights
}

TEST(ScaledDotProductAttention, SlicesOfOneLinearAsAGptCutsThem) {
  // q, k, v as a GPT's attention makes them: one (B, T, 3C) tensor, sliced along the channels,
  // split into heads and moved to (B, H, T, hs): strided views, read in place.
  const int64_t B = 3, T = 9, C = 12, H = 3, hs = C / H;
  const Tensor qkv_value = make_input({B, T, 3 * C}, -1.5f, 1.5f, 120);
  Tensor qkv_fused = qkv_value.clone().set_requires_grad(true);
  Tensor qkv_plain = qkv_value.clone().set_requires_grad(true);
  auto heads = [&](const Tensor& qkv, int64_t part) {
    return qkv.slice(2, part * C, (part + 1) * C).reshape({B, T, H, hs}).transpose(1, 2);
  };
  const Tensor y_fused = F::scaled_dot_product_attention(heads(qkv_fused, 0), heads(qkv_fused, 1), heads(qkv_fused, 2), true);
  const Tensor y_plain = plain_attention(heads(qkv_plain, 0).contiguous(), heads(qkv_plain, 1).contiguous(),
                                         heads(qkv_plain, 2).contiguous(), true);
  EXPECT_TRUE(tensors_near(y_fused, y_plain, 1e-5, 1e-5));
  // Merging the heads back copies nothing: the result is laid out (B, T, H, hs).
  EXPECT_TRUE(y_fused.transpose(1, 2).is_contiguous());
  const Tensor merged = y_fused.transpose(1, 2).contiguous().view({B, T, C});
  const Tensor weights = make_input({B, T, C}, -1, 1, 121);
  (merged * weights).sum().backward();
  (y_plain.transpose(1, 2).contiguous().view({B, T, C}) * weights).sum().backward();
  EXPECT_TRUE(tensors_near(qkv_fused.grad(), qkv_plain.grad(), 1e-5, 1e-5));
}

TEST(ScaledDotProductAttention, FiniteDifferenceGradients) {
  for (bool causal : {false, true}) {
    SCOPED_TRACE(causal ? "causal" : "full");
    EXPECT_TRUE(gradcheck(
        [causal](const std::vector<Tensor>& x) { return F::scaled_dot_product_attention(x[0], x[1], x[2], causal); },
        {make_input({2, 2, 3, 2}, -1, 1, 130), make_input({2, 2, 4, 2}, -1, 1, 131),
         make_input({2, 2, 4, 3}, -1, 1, 132)}));
    EXPECT_TRUE(gradcheck(
        [causal](const std::vector<Tensor>& x) {
          return F::scaled_dot_product_attention(x[0].transpose(0, 1), x[1], x[2], causal, 0.5);
        },
        {make_input({3, 2, 2}, -1, 1, 133), make_input({2, 3, 2}, -1, 1, 134), make_input({2, 3, 2}, -1, 1, 135)}));
  }
}

TEST(ScaledDotProductAttention, CausalOutputsIgnoreLaterKeysAndValues) {
  const Tensor q = make_input({1, 2, 6, 4}, -1, 1, 140);
  Tensor k = make_input({1, 2, 6, 4}, -1, 1, 141), v = make_input({1, 2, 6, 4}, -1, 1, 142);
  const std::vector<float> before = F::scaled_dot_product_attention(q, k, v, true).slice(2, 0, 3).contiguous().to_vector();
  {
    NoGradGuard no_grad;
    k.slice(2, 3, 6).fill_(5.0f);
    v.slice(2, 3, 6).fill_(-7.0f);
  }
  const std::vector<float> after = F::scaled_dot_product_attention(q, k, v, true).slice(2, 0, 3).contiguous().to_vector();
  EXPECT_EQ(before, after);
}

TEST(ScaledDotProductAttention, EmptyQueries) {
  const Tensor out = F::scaled_dot_product_attention(zeros({2, 3, 0, 4}), ones({2, 3, 5, 4}), ones({2, 3, 5, 6}), true);
  EXPECT_EQ(out.shape(), (Shape{2, 3, 0, 6}));
}

TEST(ScaledDotProductAttention, Errors) {
  const Tensor q = zeros({2, 3, 4, 5});
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(q, zeros({2, 3, 4, 6}), zeros({2, 3, 4, 5})); },
                           "scaled_dot_product_attention: query and key must have the same last dim"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(q, zeros({2, 3, 4, 5}), zeros({2, 3, 7, 5})); },
                           "key and value must have the same number of positions"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(q, zeros({2, 2, 4, 5}), zeros({2, 2, 4, 5})); },
                           "the batch dims (all but the last two) must be equal"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(q, zeros({3, 4, 5}), zeros({3, 4, 5})); },
                           "expected query, key and value all (B, H, L, E) or all (B, L, E), got query "
                           "(2, 3, 4, 5), key (3, 4, 5)"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(zeros({4, 5}), zeros({4, 5}), zeros({4, 5})); },
                           "expected query, key and value all"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(q, zeros({2, 3, 0, 5}), zeros({2, 3, 0, 5})); },
                           "there are no keys to attend to"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(zeros({2, 4, 0}), zeros({2, 4, 0}), zeros({2, 4, 3})); },
                           "no features"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(q, q, q, false, std::numeric_limits<double>::infinity()); },
                           "scale must be finite"));
  EXPECT_TRUE(throws_error([&] { F::scaled_dot_product_attention(Tensor(), q, q); }, "undefined"));
}
