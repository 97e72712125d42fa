// Fake question for the driver tests: the second check never ends, and it has started a
// child process that never ends either; the driver must kill both. The first check keeps
// its points (2/6).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "grading.h"

GRADED_TEST(q6, quick, 2) { SUCCEED(); }

GRADED_TEST(q6, loops_forever, 4) {
  const pid_t child = ::fork();
  if (child == 0) {
    for (;;) ::pause();
  }
  if (const char* path = std::getenv("FAKE_GRANDCHILD_PID_FILE"); path != nullptr && child > 0) {
    if (std::FILE* file = std::fopen(path, "w"); file != nullptr) {
      std::fprintf(file, "%d\n", static_cast<int>(child));
      std::fclose(file);
    }
  }
  std::printf("training epoch 1...\n");
  std::fflush(stdout);
  for (;;) std::this_thread::sleep_for(std::chrono::milliseconds(50));
}
