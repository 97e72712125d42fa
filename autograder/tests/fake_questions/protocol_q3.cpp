// Fake question for the driver tests that writes the results protocol by hand (no harness):
// escaped messages, a line that is not protocol, a malformed record, points above the
// maximum (capped), and an unfinished last line. It exits with status 1 after `done`,
// as GoogleTest does when a check fails, which is not a crash. Scores 6/6.
#include <cstdio>
#include <cstdlib>

int main() {
  // The driver passes its results file as an open descriptor (EMBER_GRADE_RESULTS_FD).
  const char* fd = std::getenv("EMBER_GRADE_RESULTS_FD");
  if (fd == nullptr) return 2;
  std::FILE* out = fdopen(std::atoi(fd), "w");
  if (out == nullptr) return 2;
  std::fputs("ember-grade\t1\n", out);
  std::fputs("plan\tq3\tfirst\t3\n", out);
  std::fputs("plan\tq3\tsecond\t3\n", out);
  std::fputs("this line is not part of the protocol\n", out);
  std::fputs("start\tq3\tfirst\t3\n", out);
  std::fputs("check\tq3\tfirst\t3\t3\tPASS\tline one\\nline two has a \\t tab and a \\\\\n", out);
  std::fputs("start\tq3\tsecond\t3\n", out);
  std::fputs("check\tq3\tsecond\t9\t3\tPASS\tclaims 9 of 3 points\n", out);
  std::fputs("check\tq3\tbroken\tnine\t3\tPASS\tmalformed\n", out);
  std::fputs("done\n", out);
  std::fputs("check\tq3\tunfinished\t5\t5\tPA", out);
  std::fclose(out);
  return 1;
}
