// The runner's main loop: read a request from the channel (fd EMBER_RUNNER_FD, default 3),
// answer it (runner_main.cpp), until the checker closes the channel. See runner.h.
#include <cstdio>
#include <cstdlib>
#include <exception>

#include "runner.h"
#include "wire.h"

int main() {
  using namespace ember::runner;
  int fd = 3;
  if (const char* text = std::getenv("EMBER_RUNNER_FD"); text != nullptr && *text != '\0') fd = std::atoi(text);
  try {
    define_question(question());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "runner: cannot set up the question: %s\n", e.what());
    return 2;
  }
  while (true) {
    Value request;
    try {
      request = ember::grading::wire::read_frame(fd);
    } catch (const ember::grading::wire::ChannelClosed&) {
      return 0;  // the checker is done
    } catch (const std::exception& e) {
      std::fprintf(stderr, "runner: %s\n", e.what());
      return 2;
    }
    try {
      ember::grading::wire::write_frame(fd, answer(request));
    } catch (const std::exception& e) {
      std::fprintf(stderr, "runner: cannot answer: %s\n", e.what());
      return 2;
    }
    std::fflush(stdout);
  }
}
