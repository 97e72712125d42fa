// Grader for lesson q0 (tensor shapes): broadcast_shape and matmul_shape against the
// engine's own ops on many random shapes, split_heads / merge_heads, and fit_linear.
//
// The student's functions run in the runner (runners/q0_shapes.cpp), in the sandbox; this
// checker draws the cases, computes the engine's answers itself, and compares.
// Devices (make grade DEVICE=cuda): split_heads and merge_heads get tensors on the grading
// device. broadcast_shape and matmul_shape only compute shapes, and fit_linear makes its own
// tensors, so those run on the CPU whatever the device (the check says so in its note).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <utility>
#include <vector>

#include <ember/ember.h>

#include "grading.h"
#include "runner_client.h"

namespace {

using ember::Shape;
using ember::shape_str;
using ember::Tensor;
using ember::grading::call_function;
using ember::grading::StudentError;
using ember::grading::Value;

// ---- random shapes, drawn from the engine's seeded generator ---------------------------

int64_t draw(int64_t low, int64_t high) {  // inclusive
  return low + static_cast<int64_t>(ember::random_u64() % static_cast<uint64_t>(high - low + 1));
}
bool chance(int percent) { return draw(1, 100) <= percent; }

Shape random_shape(int64_t min_dims, int64_t max_dims) {
  Shape shape(static_cast<size_t>(draw(min_dims, max_dims)));
  for (int64_t& size : shape) size = chance(30) ? 1 : draw(1, 5);
  return shape;
}

// A shape with `dims` dims meant to broadcast against `base` most of the time: each
// position aligned with base keeps its size, becomes 1, or (sometimes) takes another size,
// which usually clashes.
Shape partner_shape(const Shape& base, int64_t dims) {
  Shape shape(static_cast<size_t>(dims));
  for (size_t i = 0; i < shape.size(); ++i) {
    const size_t from_right = shape.size() - 1 - i;
    if (from_right < base.size()) {
      const int64_t base_size = base[base.size() - 1 - from_right];
      shape[i] = chance(45) ? base_size : chance(45) ? 1 : draw(1, 5);
    } else {
      shape[i] = chance(30) ? 1 : draw(1, 5);
    }
  }
  return shape;
}

// ---- outcomes ---------------------------------------------------------------------------

// What a shape function did: returned a shape, threw ember::Error, or threw something else.
struct Outcome {
  enum Kind { Returned, EmberError, OtherException } kind = Returned;
  Shape shape;
  std::string message;

  std::string str() const {
    switch (kind) {
      case Returned: return shape_str(shape);
      case EmberError: return "ember::Error (\"" + message + "\")";
      case OtherException: return "a non-ember exception (\"" + message + "\")";
    }
    return "";
  }
};

// The engine's outcome for one pair: run here, in the checker.
template <typename F>
Outcome outcome_of(F&& f) {
  Outcome outcome;
  try {
    outcome.shape = f();
  } catch (const ember::Error& error) {
    outcome.kind = Outcome::EmberError;
    outcome.message = error.what();
  }
  return outcome;
}

bool same(const Outcome& student, const Outcome& engine) {
  if (engine.kind == Outcome::EmberError) return student.kind == Outcome::EmberError;
  return student.kind == Outcome::Returned && student.shape == engine.shape;
}

Value value_of(const Shape& shape) {
  std::vector<Value> sizes;
  for (int64_t size : shape) sizes.push_back(Value::of(size));
  return Value::list(std::move(sizes));
}

// The student's outcomes for every pair, from the runner (one request for all of them).
std::vector<Outcome> student_outcomes(const char* name, const std::vector<std::pair<Shape, Shape>>& cases) {
  std::vector<Value> pairs;
  for (const auto& [a, b] : cases) pairs.push_back(Value::list({value_of(a), value_of(b)}));
  const auto answers = call_function(name, Value::list(std::move(pairs))).as_list("outcomes");
  if (answers.size() != cases.size()) throw std::runtime_error("the runner answered for the wrong number of cases");
  std::vector<Outcome> outcomes;
  for (const Value& answer : answers) {
    const auto& parts = answer.as_list("an outcome");
    Outcome outcome;
    const std::string& kind = parts.at(0).as_text("an outcome's kind");
    if (kind == "shape") {
      for (const Value& size : parts.at(1).as_list("a shape")) outcome.shape.push_back(size.as_int("a size"));
    } else {
      outcome.kind = kind == "ember_error" ? Outcome::EmberError : Outcome::OtherException;
      outcome.message = parts.at(1).as_text("a message");
    }
    outcomes.push_back(std::move(outcome));
  }
  return outcomes;
}

// Compares the student's function with the engine on every pair; reports the first few
// differences and a summary.
template <typename Engine>
void compare_with_engine(const char* name, const std::vector<std::pair<Shape, Shape>>& cases, Engine engine_fn) {
  const std::vector<Outcome> students = student_outcomes(name, cases);
  int refused = 0, wrong = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& [a, b] = cases[i];
    const Outcome engine = outcome_of([&] { return engine_fn(a, b); });
    const Outcome& student = students[i];
    if (engine.kind == Outcome::EmberError) ++refused;
    if (same(student, engine)) continue;
    if (++wrong <= 3) {
      ADD_FAILURE() << name << "(" << shape_str(a) << ", " << shape_str(b) << ") gave "
                    << student.str() << "; expected "
                    << (engine.kind == Outcome::EmberError
                            ? "an ember::Error, as the engine throws \"" + engine.message + "\""
                            : engine.str() + ", as the engine computes");
    }
  }
  grade_note("{} of {} shape pairs agree with the engine ({} of them are ones the engine refuses)",
             static_cast<int>(cases.size()) - wrong, cases.size(), refused);
}

Shape engine_broadcast(const Shape& a, const Shape& b) {
  return (ember::zeros(a) + ember::zeros(b)).shape();
}

Shape engine_matmul(const Shape& a, const Shape& b) {
  return ember::matmul(ember::zeros(a), ember::zeros(b)).shape();
}

}  // namespace

GRADED_TEST(q0, broadcast_shape_matches_engine, 1) {
  std::vector<std::pair<Shape, Shape>> cases = {
      {{}, {}},           {{}, {3}},          {{2, 3}, {}},      {{2, 3}, {3}},
      {{2, 3}, {4}},      {{4, 1, 5}, {3, 1}}, {{1}, {1}},       {{3}, {1, 1, 3}},
      {{2, 1}, {1, 2}},   {{5, 4}, {5, 1, 4}}, {{2, 3}, {3, 2}}, {{1, 2, 3, 4}, {2, 1, 4}},
  };
  for (int i = 0; i < 400; ++i) {
    Shape a = random_shape(0, 4);
    Shape b = partner_shape(a, draw(0, 4));
    if (chance(50)) std::swap(a, b);
    cases.emplace_back(a, b);
  }
  compare_with_engine("broadcast_shape", cases, engine_broadcast);
}

GRADED_TEST(q0, matmul_shape_matches_engine, 1) {
  std::vector<std::pair<Shape, Shape>> cases = {
      {{3}, {3}},       {{3}, {4}},          {{3}, {3, 4}},        {{2, 3}, {3}},
      {{3}, {2, 3, 4}}, {{2, 3, 4}, {4}},    {{2, 3}, {3, 4}},     {{2, 3}, {2, 3}},
      {{5, 2, 3}, {3, 4}}, {{2, 3}, {5, 3, 4}}, {{5, 1, 2, 3}, {7, 3, 4}}, {{2, 2, 3}, {3, 3, 4}},
      {{}, {3}},        {{3}, {}},           {{}, {}},             {{1, 3}, {1}},
  };
  for (int i = 0; i < 400; ++i) {
    const int64_t m = draw(1, 4), k = draw(1, 4), n = draw(1, 4);
    const int64_t dims_a = chance(3) ? 0 : draw(1, 4);
    const int64_t dims_b = chance(3) ? 0 : draw(1, 4);
    const Shape batch_a = random_shape(std::max<int64_t>(dims_a - 2, 0), std::max<int64_t>(dims_a - 2, 0));
    const Shape batch_b = partner_shape(batch_a, std::max<int64_t>(dims_b - 2, 0));
    // Sometimes a different inner size, which the engine refuses.
    const int64_t k_b = chance(15) ? draw(1, 4) : k;
    Shape a, b;
    if (dims_a == 1) a = Shape{k};
    if (dims_a >= 2) {
      a = batch_a;
      a.insert(a.end(), {m, k});
    }
    if (dims_b == 1) b = Shape{k_b};
    if (dims_b >= 2) {
      b = batch_b;
      b.insert(b.end(), {k_b, n});
    }
    cases.emplace_back(a, b);
  }
  compare_with_engine("matmul_shape", cases, engine_matmul);
}

namespace {

struct HeadsCase {
  int64_t B, T, C, n_head;
};

// The first (b, h, t, d) where pair(b, h, t, d) = (got, want) differ, if any.
struct Mismatch {
  bool found = false;
  int64_t b = 0, h = 0, t = 0, d = 0;
  float got = 0, want = 0;
};

template <typename Pair>
Mismatch first_mismatch(const HeadsCase& c, Pair pair) {
  Mismatch m;
  for (int64_t b = 0; b < c.B; ++b)
    for (int64_t h = 0; h < c.n_head; ++h)
      for (int64_t t = 0; t < c.T; ++t)
        for (int64_t d = 0; d < c.C / c.n_head; ++d) {
          const auto [got, want] = pair(b, h, t, d);
          if (got != want) return Mismatch{true, b, h, t, d, got, want};
        }
  return m;
}

}  // namespace

GRADED_TEST(q0, split_and_merge_heads, 1) {
  using Case = HeadsCase;
  const std::vector<Case> cases = {{1, 1, 1, 1}, {2, 3, 8, 2}, {2, 5, 12, 3}, {3, 4, 16, 4},
                                   {1, 7, 6, 6}, {4, 2, 20, 5}, {2, 3, 8, 1}};
  for (const Case& c : cases) {
    const int64_t hs = c.C / c.n_head;
    const std::string where = fmt::format("x of shape ({}, {}, {}) and n_head = {}", c.B, c.T, c.C, c.n_head);
    const Tensor x = ember::randn({c.B, c.T, c.C});
    const auto split_answer = call_function("split_heads", x, c.n_head).as_list("split_heads");
    const Tensor heads = split_answer.at(0).as_tensor("split_heads");
    GRADE_ASSERT(heads.defined()) << "split_heads with " << where << " returned an undefined tensor";
    const Shape expected_shape = {c.B, c.n_head, c.T, hs};
    GRADE_ASSERT((heads.shape()) == (expected_shape))
        << "split_heads with " << where << " returned shape " << shape_str(heads.shape())
        << "; expected " << shape_str(expected_shape);
    GRADE_EXPECT((split_answer.at(1).as_int("shares")) == (1))
        << "split_heads with " << where << " copied the data; a view and a transpose give the same "
        << "numbers without copying (the result should share x's storage)";
    // Every element, by its index: out[b][h][t][d] = x[b][t][h * head_size + d].
    const std::vector<float> xv = x.to_vector(), hv = heads.to_vector();
    const Mismatch split = first_mismatch(c, [&](int64_t b, int64_t h, int64_t t, int64_t d) {
      return std::make_pair(hv[static_cast<size_t>(((b * c.n_head + h) * c.T + t) * hs + d)],
                            xv[static_cast<size_t>((b * c.T + t) * c.C + h * hs + d)]);
    });
    GRADE_ASSERT(!(split.found)) << "split_heads with " << where << ": out[" << split.b << "][" << split.h << "]["
                              << split.t << "][" << split.d << "] is " << split.got << "; expected x[" << split.b
                              << "][" << split.t << "][" << split.h * hs + split.d << "] = " << split.want;
    // Back again: the round trip must give x exactly.
    const Tensor merged = call_function("round_trip", x, c.n_head).as_tensor("merge_heads");
    GRADE_ASSERT((merged.shape()) == (x.shape())) << "merge_heads(split_heads(x)) with " << where
                                         << " has shape " << shape_str(merged.shape())
                                         << "; expected " << shape_str(x.shape());
    GRADE_ASSERT(merged.to_vector() == xv) << "merge_heads(split_heads(x)) differs from x for " << where;
    // merge_heads on its own, from a tensor that split_heads did not make:
    // out[b][t][h * head_size + d] = y[b][h][t][d].
    const Tensor y = ember::randn({c.B, c.n_head, c.T, hs});
    const Tensor joined = call_function("merge_heads", y).as_tensor("merge_heads");
    const Shape joined_shape = {c.B, c.T, c.C};
    GRADE_ASSERT((joined.shape()) == (joined_shape)) << "merge_heads of a tensor of shape " << shape_str(y.shape())
                                            << " returned shape " << shape_str(joined.shape())
                                            << "; expected " << shape_str(joined_shape);
    const std::vector<float> yv = y.to_vector(), jv = joined.to_vector();
    const Mismatch merge = first_mismatch(c, [&](int64_t b, int64_t h, int64_t t, int64_t d) {
      return std::make_pair(jv[static_cast<size_t>((b * c.T + t) * c.C + h * hs + d)],
                            yv[static_cast<size_t>(((b * c.n_head + h) * c.T + t) * hs + d)]);
    });
    GRADE_ASSERT(!(merge.found)) << "merge_heads of a tensor y of shape " << shape_str(y.shape()) << ": out["
                              << merge.b << "][" << merge.t << "][" << merge.h * hs + merge.d << "] is "
                              << merge.got << "; expected y[" << merge.b << "][" << merge.h << "][" << merge.t
                              << "][" << merge.d << "] = " << merge.want;
  }
  // C = 10 cannot be split into 3 equal heads.
  bool threw = false;
  try {
    call_function("split_heads", ember::randn({2, 3, 10}), 3);
  } catch (const StudentError& e) {
    if (e.not_implemented()) throw;
    threw = e.ember_error();
  }
  GRADE_EXPECT(threw) << "split_heads of a (2, 3, 10) tensor into 3 heads should throw ember::Error "
                        "(10 is not a multiple of 3)";
  grade_note("{} (B, T, C, n_head) cases: shapes, values, round trip and a view that shares x's storage",
             cases.size());
}

GRADED_TEST(q0, fit_linear_finds_7_8_3, 1) {
  const auto start = std::chrono::steady_clock::now();
  const auto fit = call_function("fit_linear").as_list("fit_linear");
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const Tensor weight = fit.at(0).as_tensor("weight"), bias = fit.at(1).as_tensor("bias");
  GRADE_ASSERT(weight.defined() && bias.defined()) << "fit_linear returned an undefined tensor";
  GRADE_ASSERT((weight.shape()) == ((Shape{2, 1})))
      << "weight has shape " << shape_str(weight.shape()) << "; expected (2, 1)";
  GRADE_ASSERT((bias.shape()) == ((Shape{1}))) << "bias has shape " << shape_str(bias.shape())
                                          << "; expected (1,)";
  const float w0 = weight.at({0, 0}), w1 = weight.at({1, 0}), b = bias.at({0});
  const double worst = std::max({std::fabs(w0 - 7.0), std::fabs(w1 - 8.0), std::fabs(b - 3.0)});
  grade_note("weight ({:.4f}, {:.4f}), bias {:.4f}: largest error {:.2g} (allowed 0.01), {:.2f} s{}", w0,
             w1, b, worst, seconds,
             ember::grading::on_gpu() ? " (fit_linear makes its own tensors, so it ran on the CPU)" : "");
  // Each one within 0.01, not only their largest error: std::max passes over a NaN.
  const bool close = std::fabs(w0 - 7.0) <= 0.01 && std::fabs(w1 - 8.0) <= 0.01 && std::fabs(b - 3.0) <= 0.01;
  GRADE_EXPECT(close) << "fit_linear gave weight (" << w0 << ", " << w1 << ") and bias " << b
                         << "; expected 7, 8 and 3 to within 0.01";
}
