// The channel between a question's checker (trusted: the checks and their points) and its
// runner (untrusted: the student's code, the engine and a small harness). The checker asks,
// the runner answers; nothing the runner sends can name a check or a point, only values.
//
// A message is one Value. A Value is nothing, a whole number, a real number, a text, a
// float tensor (shape and numbers, row-major) or a list of Values:
//
//   request   ["call", 3, "run", <tensor (4, 784)>]          a list: the command, then its arguments
//   answer    ["ok", <tensor (4, 10)>]                       the result
//             ["error", "not_implemented", "q3: ... is not implemented"]
//
// On the wire a message is a frame: its length (8 bytes, little-endian) and then the
// encoded Value: a type byte and its payload (integers and floats little-endian; texts and
// lists with their length first). A tensor's numbers go from its memory to the socket and
// from the frame into a new tensor, one copy each way: q3 sends 60,000 images. Decoding never trusts the sender: every length is checked
// against what is left of the frame, tensors have at most 8 dims and exactly as many numbers
// as their shape says, lists nest at most 16 deep. A bad frame is an error, never a crash.
#pragma once

#include <chrono>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <ember/tensor.h>

namespace ember::grading::wire {

struct Value {
  enum class Type : std::uint8_t { None = 0, Int = 1, Real = 2, Text = 3, Tensor = 4, List = 5 };

  Type type = Type::None;
  std::int64_t integer = 0;          // Int
  double real = 0;                   // Real
  std::string text;                  // Text
  Tensor tensor;                     // Tensor: on the CPU, contiguous (row-major)
  bool requires_grad = false;        // Tensor: the receiver makes it a leaf that needs a gradient
  std::vector<Value> items;          // List

  Value() = default;
  static Value none() { return {}; }
  static Value of(std::int64_t value);
  static Value of(int value) { return of(static_cast<std::int64_t>(value)); }
  static Value of(double value);
  static Value of(std::string value);
  static Value of(const char* value) { return of(std::string(value)); }
  // A tensor's numbers on the CPU, row-major (an undefined tensor becomes None). Shares the
  // tensor's memory when it is already a contiguous CPU tensor: nothing is copied until the
  // frame is written, straight from it.
  static Value of(const Tensor& tensor);
  static Value list(std::vector<Value> items);

  bool is(Type t) const { return type == t; }
  // The accessors throw ProtocolError naming `what` when the value has another type.
  std::int64_t as_int(std::string_view what) const;
  double as_real(std::string_view what) const;  // an Int is accepted too
  const std::string& as_text(std::string_view what) const;
  const std::vector<Value>& as_list(std::string_view what) const;
  // A CPU tensor with these numbers, a leaf of its own (requires_grad as sent). None gives an
  // undefined tensor.
  Tensor as_tensor(std::string_view what) const;
};

// A message that does not follow this file's rules, or a value of the wrong type.
struct ProtocolError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The other side went away (end of file) or did not answer in time.
struct ChannelClosed : std::runtime_error {
  using std::runtime_error::runtime_error;
};
struct ChannelTimeout : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string encode(const Value& value);
// Throws ProtocolError when bytes is not exactly one well-formed Value.
Value decode(std::string_view bytes);

// Frames on a file descriptor (a socket or a pipe).
inline constexpr std::uint64_t kDefaultMaxFrameBytes = 1ULL << 31;  // 2 GiB: MNIST fits many times
using Deadline = std::chrono::steady_clock::time_point;

// Writes one frame; throws ChannelClosed when the reader has gone, ChannelTimeout when it
// stops taking bytes until the deadline.
void write_frame(int fd, const Value& value, Deadline deadline = Deadline::max());
// Reads one frame. Throws ChannelClosed at end of file, ChannelTimeout when deadline passes
// first, ProtocolError for a frame longer than max_bytes or malformed.
Value read_frame(int fd, Deadline deadline = Deadline::max(),
                 std::uint64_t max_bytes = kDefaultMaxFrameBytes);

}  // namespace ember::grading::wire
