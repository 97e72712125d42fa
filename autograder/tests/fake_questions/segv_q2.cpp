// Fake question for the driver tests: the second of three checks crashes with SIGSEGV.
// The first keeps its points (2/6); the third never runs.
#include <csignal>
#include <cstdio>

#include "grading.h"

GRADED_TEST(q2, before_the_crash, 2) { SUCCEED(); }

GRADED_TEST(q2, crashes, 2) {
  std::printf("about to crash\n");
  std::fflush(stdout);
  // SIG_DFL first, so that a sanitizer's own handler cannot turn the crash into an exit(1).
  std::signal(SIGSEGV, SIG_DFL);
  std::raise(SIGSEGV);
}

GRADED_TEST(q2, after_the_crash, 2) { SUCCEED(); }
