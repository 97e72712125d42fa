// The grading harness: what a question's grader file (autograder/questions/qN_*.cpp) uses.
//
//   #include "grading.h"
//   #include "digit_classification.hpp"      // the student's header
//
//   GRADED_TEST(q3, accuracy_on_test_half, 4) {
//     const double accuracy = ...;
//     grade_note("test accuracy {:.4f} (threshold {})", accuracy, 0.97);
//     EXPECT_GE(accuracy, 0.97) << "test accuracy " << accuracy << " is below the threshold 0.97";
//   }
//
// A GRADED_TEST is an ordinary GoogleTest test (suite q3, name accuracy_on_test_half) worth a
// number of points, all or nothing: it earns its points exactly when it passes. Inside, use
// EXPECT_* / ASSERT_* as usual. An exception escaping the body fails the check with the
// exception's message; an unfinished stub throws ember::NotImplemented, so the check fails
// at once with "q3: DigitClassificationModel::run is not implemented".
//
// The library also provides main(). Before every test it seeds the engine with
// ember::manual_seed(checker_seed("<question>.<check>")), a one-way hash of the grading seed and
// the check's name, so checks do not depend on the order they run in; the grading seed comes
// from --seed=N or the environment variable EMBER_SEED (default 0). With a results file
// (EMBER_GRADE_RESULTS_FD, the descriptor of an unlinked file the driver passes; or
// --results-file=PATH / EMBER_GRADE_RESULTS by hand), one line per check is written to it as
// the check finishes (see grade_protocol.h); the driver ember_grade reads it. The checks ask
// the question's runner, the student's code in the sandbox, for values (runner_client.h). Run on its
// own (./grade_q3) the program prints GoogleTest's usual output plus a points line.
//
// Devices (grade_device.h): the student's code runs on the CPU unless EMBER_DEVICE names a
// GPU (make grade DEVICE=cuda); the runner moves the model and its inputs there. When the
// device cannot be used (a build without CUDA, a machine without a GPU, a misspelt value),
// every GRADED_TEST fails before its body runs, with the reason: nothing silently runs on
// the CPU instead.
#pragma once

#include <cstdint>
#include <iomanip>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "grade_device.h"

namespace ember::grading {

// Attaches an informative line to the check that is running; the report shows it under the
// check, whether it passes or fails. Also printed to stdout.
void add_note(std::string note);

template <typename... Args>
void grade_note(fmt::format_string<Args...> format, Args&&... args) {
  add_note(fmt::format(format, std::forward<Args>(args)...));
}

// A check's failure found inside a helper, which throws it: the report shows its message alone,
// as a failed GRADE_ASSERT's (not as an exception of the grader's).
struct CheckFailure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The grading seed (EMBER_SEED / --seed). Checks do not seed from it directly: see checker_seed.
std::uint64_t grading_seed();

// A seed for the checker's own draws, from the grading seed and `purpose` (each test starts from
// checker_seed("<question>.<check>")): the first 63 bits of SHA-256 of both. The runner sees
// what the checker draws, and it links the engine: were the checker seeded with the grading seed
// itself, the runner could try seeds until one drew the same first input, and then foresee every
// other draw (it took half a second). Through a one-way hash it would have to try grading seeds
// instead, which a random seed of 60 bits or more puts out of reach (make gradescope draws one).
std::uint64_t checker_seed(const std::string& purpose);

// The first 63 bits of SHA-256 of "<domain>\n<grading seed>\n<key>": checker_seed's domain is
// "ember checker seed", the runner's seeds' "ember runner seed" (runner_client.cpp), so neither
// tells anything about the other.
std::uint64_t hashed_seed(const std::string& domain, const std::string& key);

// Checks the named files of the datasets folder (course::dataset_path) against the SHA-256
// sums listed in its SHA256SUMS before a check reads them: a changed or damaged file throws,
// naming the file and what to do, instead of grading on the wrong data. Each file is hashed
// once per program.
void verify_datasets(const std::vector<std::string>& relative_paths);

namespace detail {

// Records the points of one check; used by GRADED_TEST at static-initialisation time.
class CheckRegistrar {
 public:
  CheckRegistrar(const char* question, const char* check, int points) noexcept;
};

// Runs a check's body, turning an escaping exception into a failure with a readable message.
// When the grading device cannot be used, fails the check with the reason instead.
void run_check(void (*body)());

}  // namespace detail
}  // namespace ember::grading

using ember::grading::grade_note;

// GRADE_EXPECT(condition) << "what was expected, and what came";
// GRADE_ASSERT(condition) << "...";   (the same, and the check stops there)
// Like EXPECT_TRUE / ASSERT_TRUE, but a failure shows only the message, written in the
// student's terms (never GoogleTest's dump of the grader's own expression), and numbers in it
// print with six significant digits (0.97, not 0.96999999999999997).
#define GRADE_EXPECT(condition) \
  switch (0)                    \
  case 0:                       \
  default:                      \
    if (condition) {            \
    } else                      \
      ADD_FAILURE() << std::setprecision(6)
#define GRADE_ASSERT(condition) \
  switch (0)                    \
  case 0:                       \
  default:                      \
    if (condition) {            \
    } else                      \
      FAIL() << std::setprecision(6)

// A likely cause of a failure, found from what the student's code did, and the section of the
// lesson's note that explains it: shown under the check, e.g.
//   likely cause: run() returns probabilities ... (docs/lessons/q3_digits.md, "Cross entropy")
namespace ember::grading {
void diagnose(const std::string& cause, const std::string& note, const std::string& section);
}  // namespace ember::grading

// GRADED_TEST(question, check, points) { body }
// question and check must be identifiers (they name the GoogleTest suite and test);
// points must be an integer constant >= 0.
#define GRADED_TEST(question, check, points)                                                    \
  static_assert(std::is_integral_v<decltype(points)> && (points) >= 0,                          \
                "GRADED_TEST: points must be a non-negative integer constant");                 \
  static void ember_graded_body_##question##_##check();                                         \
  static const ::ember::grading::detail::CheckRegistrar ember_graded_registrar_##question##_##check( \
      #question, #check, (points));                                                             \
  TEST(question, check) { ::ember::grading::detail::run_check(&ember_graded_body_##question##_##check); } \
  static void ember_graded_body_##question##_##check()
