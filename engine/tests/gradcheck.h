// Shared helpers for the engine's unit tests:
//   * deterministic host-side input generators (independent of Ember's own generator, so
//     tests of the generator and gradient checks never disturb each other);
//   * value comparisons that report shape and the first mismatching elements;
//   * throws_error(): checks that a call throws ember::Error with a given message;
//   * gradcheck(): compares autograd gradients with central finite differences.
#pragma once

#if __has_include(<ember/ember.h>)
#include <ember/ember.h>
#else
#include <ember/autograd.h>
#include <ember/creation.h>
#include <ember/error.h>
#include <ember/ops.h>
#include <ember/random.h>
#include <ember/tensor.h>
#endif

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <functional>
#include <numeric>
#include <random>
#include <regex.h>
#include <sstream>
#include <string>
#include <vector>

namespace ember_test {

using ember::Shape;
using ember::Tensor;

// ---- inputs --------------------------------------------------------------------------

inline int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

inline std::string shape_text(const Shape& shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i) os << (i ? ", " : "") << shape[i];
  if (shape.size() == 1) os << ",";
  os << ")";
  return os.str();
}

// n values uniform in [lo, hi), from a fixed-seed std::mt19937.
inline std::vector<float> host_uniform(int64_t n, float lo, float hi, uint32_t seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(static_cast<size_t>(n));
  for (auto& x : v) x = dist(gen);
  return v;
}

// A contiguous tensor of uniform values in [lo, hi).
inline Tensor make_input(const Shape& shape, float lo = -1.0f, float hi = 1.0f,
                         uint32_t seed = 1) {
  return ember::from_vector(host_uniform(numel_of(shape), lo, hi, seed), shape);
}

// Magnitudes in [min_abs, max_abs] with random signs: keeps abs/relu/sign away from the
// kink at 0 by far more than a finite-difference step.
inline Tensor make_away_from_zero(const Shape& shape, float min_abs = 0.2f,
                                  float max_abs = 1.5f, uint32_t seed = 2) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<float> mag(min_abs, max_abs);
  std::bernoulli_distribution neg(0.5);
  std::vector<float> v(static_cast<size_t>(numel_of(shape)));
  for (auto& x : v) x = neg(gen) ? -mag(gen) : mag(gen);
  return ember::from_vector(v, shape);
}

// Pairwise distinct values at least `gap` apart (a shuffled progression centred on 0):
// max/min/argmax never have near-ties that a finite-difference step could flip.
inline Tensor make_distinct(const Shape& shape, float gap = 0.1f, uint32_t seed = 3) {
  const int64_t n = numel_of(shape);
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = gap * (static_cast<float>(i) - 0.5f * (n - 1));
  std::mt19937 gen(seed);
  std::shuffle(v.begin(), v.end(), gen);
  return ember::from_vector(v, shape);
}

// ---- comparisons ---------------------------------------------------------------------

inline bool close(double actual, double expected, double atol, double rtol) {
  if (std::isnan(expected)) return std::isnan(actual);
  if (std::isinf(expected)) return actual == expected;
  return std::fabs(actual - expected) <= atol + rtol * std::fabs(expected);
}

// Shape and every value (row-major) of `actual` against expectations.
inline ::testing::AssertionResult tensor_near(const Tensor& actual, const Shape& shape,
                                              const std::vector<float>& expected,
                                              double atol = 1e-5, double rtol = 1e-5) {
  if (!actual.defined()) return ::testing::AssertionFailure() << "tensor is undefined";
  if (actual.shape() != shape)
    return ::testing::AssertionFailure() << "shape " << shape_text(actual.shape())
                                         << ", expected " << shape_text(shape);
  std::vector<float> got = actual.to_vector();
  if (got.size() != expected.size())
    return ::testing::AssertionFailure() << "to_vector() gave " << got.size()
                                         << " values, expected " << expected.size();
  int bad = 0;
  std::ostringstream os;
  for (size_t i = 0; i < got.size(); ++i) {
    if (!close(got[i], expected[i], atol, rtol)) {
      if (bad < 8) os << "\n  [" << i << "] got " << got[i] << ", expected " << expected[i];
      ++bad;
    }
  }
  if (bad) return ::testing::AssertionFailure() << bad << " value(s) differ:" << os.str();
  return ::testing::AssertionSuccess();
}

// Two tensors with equal shapes and close values.
inline ::testing::AssertionResult tensors_near(const Tensor& actual, const Tensor& expected,
                                               double atol = 1e-5, double rtol = 1e-5) {
  if (!expected.defined()) return ::testing::AssertionFailure() << "expected is undefined";
  return tensor_near(actual, expected.shape(), expected.to_vector(), atol, rtol);
}

// ---- errors --------------------------------------------------------------------------

// Runs f; succeeds when it throws ember::Error whose message passes `accept`.
template <typename F, typename Accept>
::testing::AssertionResult throws_matching(F&& f, Accept&& accept, const std::string& wanted) {
  try {
    f();
  } catch (const ember::Error& e) {
    if (accept(std::string(e.what()))) return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure() << "ember::Error message \"" << e.what()
                                         << "\" does not contain " << wanted;
  } catch (const std::exception& e) {
    return ::testing::AssertionFailure() << "threw a std::exception that is not ember::Error: \""
                                         << e.what() << "\" (wanted " << wanted << ")";
  } catch (...) {
    return ::testing::AssertionFailure() << "threw something that is not ember::Error";
  }
  return ::testing::AssertionFailure() << "did not throw (wanted ember::Error with " << wanted
                                       << ")";
}

// The message contains `substring` (case-sensitive).
template <typename F>
::testing::AssertionResult throws_error(F&& f, const std::string& substring) {
  return throws_matching(
      std::forward<F>(f),
      [&](const std::string& m) { return m.find(substring) != std::string::npos; },
      "\"" + substring + "\"");
}

// The message contains every one of `substrings`.
template <typename F>
::testing::AssertionResult throws_error_all(F&& f, const std::vector<std::string>& substrings) {
  std::string wanted;
  for (const auto& s : substrings) wanted += (wanted.empty() ? "\"" : ", \"") + s + "\"";
  return throws_matching(
      std::forward<F>(f),
      [&](const std::string& m) {
        for (const auto& s : substrings)
          if (m.find(s) == std::string::npos) return false;
        return true;
      },
      "all of " + wanted);
}

// The message matches the extended regular expression `pattern` somewhere, ignoring case.
// POSIX <regex.h> rather than std::regex: GCC 12 warns inside <regex> under the sanitizers.
template <typename F>
::testing::AssertionResult throws_error_re(F&& f, const std::string& pattern) {
  regex_t re;
  if (regcomp(&re, pattern.c_str(), REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
    return ::testing::AssertionFailure() << "bad regular expression /" << pattern << "/";
  }
  ::testing::AssertionResult result = throws_matching(
      std::forward<F>(f),
      [&](const std::string& m) { return regexec(&re, m.c_str(), 0, nullptr, 0) == 0; },
      "a match for /" + pattern + "/i");
  regfree(&re);
  return result;
}

// ---- gradient checking ---------------------------------------------------------------
//
// gradcheck(f, inputs) checks the gradients autograd computes for f against central
// finite differences. It makes fresh leaves (requires_grad) holding the inputs' values,
// computes L = sum(f(leaves) * W) for fixed random weights W (so every output element
// contributes with a different weight and errors cannot cancel), runs L.backward(), and
// compares each leaf's grad with (L(x + eps e_i) - L(x - eps e_i)) / (2 eps).
//
// Why eps = 1e-2 and atol = rtol = 1e-2: the engine is float32 only. A forward pass
// carries rounding error of roughly 1e-7..1e-6 relative to its magnitude; a difference
// quotient divides that by 2*eps, so eps = 1e-2 turns it into about 1e-5..1e-4, while the
// truncation error of the central difference is about eps^2/6 * |f'''| ~ 2e-5 * |f'''|.
// With inputs of moderate size (|x| <= ~2) both stay two orders of magnitude below the
// tolerance, yet a wrong gradient (a missing factor, a wrong sign, a transposed or
// un-reduced broadcast) is off by O(1) and fails. L is accumulated in double on the host,
// and the step actually taken is measured after rounding x +- eps to float.
// Inputs must stay away from kinks by more than eps (see make_away_from_zero and
// make_distinct), or the difference quotient straddles the kink.
struct GradcheckOptions {
  double eps = 1e-2;
  double atol = 1e-2;
  double rtol = 1e-2;
  uint32_t weight_seed = 12345;
};

using Function = std::function<Tensor(const std::vector<Tensor>&)>;

inline ::testing::AssertionResult gradcheck(const Function& f, const std::vector<Tensor>& inputs,
                                            const GradcheckOptions& options = {}) {
  using ember::from_vector;
  std::vector<std::vector<float>> values;
  std::vector<Shape> shapes;
  for (const Tensor& x : inputs) {
    values.push_back(x.to_vector());
    shapes.push_back(x.shape());
  }

  // Analytic gradients.
  std::vector<Tensor> leaves;
  for (size_t i = 0; i < inputs.size(); ++i) {
    Tensor leaf = from_vector(values[i], shapes[i]);
    leaf.set_requires_grad(true);
    leaves.push_back(leaf);
  }
  Tensor out = f(leaves);
  if (!out.defined()) return ::testing::AssertionFailure() << "f returned an undefined tensor";
  if (!out.requires_grad())
    return ::testing::AssertionFailure() << "f's output does not require grad";
  const Shape out_shape = out.shape();
  const std::vector<float> weights = host_uniform(out.numel(), -1.0f, 1.0f, options.weight_seed);
  Tensor w = out_shape.empty() ? ember::tensor(weights[0]) : from_vector(weights, out_shape);
  Tensor loss = (out * w).sum();
  loss.backward();

  std::vector<std::vector<float>> analytic;
  for (size_t i = 0; i < leaves.size(); ++i) {
    Tensor g = leaves[i].grad();
    if (!g.defined()) {
      analytic.emplace_back(values[i].size(), 0.0f);  // checked against numerics below
      continue;
    }
    if (g.shape() != shapes[i])
      return ::testing::AssertionFailure()
             << "input " << i << ": grad shape " << shape_text(g.shape())
             << " differs from input shape " << shape_text(shapes[i]);
    if (g.requires_grad())
      return ::testing::AssertionFailure() << "input " << i << ": grad requires grad";
    analytic.push_back(g.to_vector());
  }

  // Numeric gradients.
  ember::NoGradGuard no_grad;
  auto weighted_sum = [&](const std::vector<std::vector<float>>& vals, bool& ok) {
    std::vector<Tensor> xs;
    for (size_t i = 0; i < vals.size(); ++i) xs.push_back(from_vector(vals[i], shapes[i]));
    Tensor y = f(xs);
    ok = y.defined() && y.shape() == out_shape;
    double s = 0.0;
    if (!ok) return s;
    std::vector<float> yv = y.to_vector();
    for (size_t k = 0; k < yv.size(); ++k) s += static_cast<double>(yv[k]) * weights[k];
    return s;
  };

  std::ostringstream report;
  int bad = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    for (size_t j = 0; j < values[i].size(); ++j) {
      std::vector<std::vector<float>> vals = values;
      const float x0 = values[i][j];
      const float up = static_cast<float>(x0 + options.eps);
      const float down = static_cast<float>(x0 - options.eps);
      bool ok_up = false, ok_down = false;
      vals[i][j] = up;
      const double l_up = weighted_sum(vals, ok_up);
      vals[i][j] = down;
      const double l_down = weighted_sum(vals, ok_down);
      if (!ok_up || !ok_down)
        return ::testing::AssertionFailure() << "f changed its output shape under perturbation";
      const double numeric = (l_up - l_down) / (static_cast<double>(up) - down);
      const double got = analytic[i][j];
      if (!close(got, numeric, options.atol, options.rtol)) {
        if (bad < 10)
          report << "\n  input " << i << " " << shape_text(shapes[i]) << " element " << j
                 << " (x = " << x0 << "): autograd " << got << ", finite difference "
                 << numeric;
        ++bad;
      }
    }
  }
  if (bad) return ::testing::AssertionFailure() << bad << " gradient element(s) differ:" << report.str();
  return ::testing::AssertionSuccess();
}

// One-input convenience form.
inline ::testing::AssertionResult gradcheck1(const std::function<Tensor(const Tensor&)>& f,
                                             const Tensor& input,
                                             const GradcheckOptions& options = {}) {
  return gradcheck([&](const std::vector<Tensor>& v) { return f(v[0]); }, {input}, options);
}

}  // namespace ember_test
