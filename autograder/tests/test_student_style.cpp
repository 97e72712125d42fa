// The student's path (bench/student_style): the lessons written the way a student coming
// from CS188's PyTorch project writes them, graded by the real driver. Every question gets
// full marks, a per-pixel Convolve included, except q6's single attention head: it is the
// notes' own code, which computes the scores as K Q^T, and the one check that catches that
// must fail and say so.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using namespace ember_test;

TEST(StudentStyle, FullMarksButTheNotesKQtLosesOneCheckAndIsNamed) {
  TempDir dir;
  const Outcome outcome = run_shell(
      "EMBER_MUTE=1 " + quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " + quote(GRADERS_DIR) + " --toolchain " +
          quote(RUNNER_TOOLCHAIN) + " --student-dir " + quote(STUDENT_STYLE_DIR) +
          " --questions q0,q1,q2,q3,q4,q5,q6 --jobs 2 --no-html --color never --results-json " +
          quote(dir / "r.json"),
      dir);
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  for (const char* question : {"Question q0: 4/4", "Question q1: 6/6", "Question q2: 6/6", "Question q3: 6/6",
                               "Question q4: 7/7", "Question q5: 4/4", "Question q6: 5/6"}) {
    EXPECT_CONTAINS(outcome.out, question);
  }
  EXPECT_CONTAINS(outcome.out, "*** FAIL: q6.attention_matches_reference (0/1)");
  EXPECT_CONTAINS(outcome.out, "likely cause: the scores are K Q^T");
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("score").number, results.at("max_score").number - 1) << outcome.out;
}

}  // namespace
