// ember::Error: the one exception type every misuse of the engine throws.
//
// Messages name the operation and the shapes or values involved, for example
// "matmul: cannot multiply (64x784) by (256x128)", so a student can find the
// offending line without a debugger. Nothing in the engine aborts the process.
#pragma once

#include <stdexcept>
#include <string>
#include <utility>

#include <fmt/format.h>

namespace ember {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

// Thrown by an unfinished lesson stub: "q3: DigitClassificationModel::run is not implemented".
class NotImplemented : public Error {
 public:
  explicit NotImplemented(const std::string& what_is_missing)
      : Error(what_is_missing + " is not implemented") {}
};

// check(cond, "op: message {}", args...) throws ember::Error when cond is false.
// The message is only formatted on failure, but the arguments are evaluated on every
// call: when they cost something (shape_str(...)), use EMBER_CHECK instead.
template <typename... Args>
inline void check(bool condition, fmt::format_string<Args...> format, Args&&... args) {
  if (!condition) throw Error(fmt::format(format, std::forward<Args>(args)...));
}

// The same as check(), but the message arguments are evaluated only when the check
// fails. The engine's ops use it: they run millions of times and must not pay for
// formatting shapes into messages that are never shown.
#define EMBER_CHECK(condition, ...)                                  \
  do {                                                               \
    if (!(condition)) throw ::ember::Error(fmt::format(__VA_ARGS__)); \
  } while (false)

}  // namespace ember
