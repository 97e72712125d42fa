#include "wire.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <ember/creation.h>
#include <fmt/format.h>

namespace ember::grading::wire {

namespace {

constexpr int kMaxDepth = 16;
constexpr std::size_t kMaxDims = 8;
// A frame of a few bytes per value could otherwise ask for gigabytes of Value objects.
constexpr std::uint64_t kMaxValues = 1 << 22;

const char* type_name(Value::Type type) {
  switch (type) {
    case Value::Type::None: return "nothing";
    case Value::Type::Int: return "a whole number";
    case Value::Type::Real: return "a number";
    case Value::Type::Text: return "a text";
    case Value::Type::Tensor: return "a tensor";
    case Value::Type::List: return "a list";
  }
  return "an unknown value";
}

void expect(const Value& value, Value::Type type, std::string_view what) {
  if (value.type != type) {
    throw ProtocolError(fmt::format("{}: expected {}, got {}", what, type_name(type),
                                    type_name(value.type)));
  }
}

// ---- encoding ----------------------------------------------------------------------------

// Where an encoded Value goes: a string (encode) or a file descriptor (write_frame). Small
// pieces are gathered; a tensor's numbers go straight from its memory.
class Sink {
 public:
  virtual ~Sink() = default;
  virtual void bytes(const char* data, std::size_t size) = 0;
};

class StringSink : public Sink {
 public:
  void bytes(const char* data, std::size_t size) override { out.append(data, size); }
  std::string out;
};

void write_all(int fd, const char* data, std::size_t size, Deadline deadline);

class FdSink : public Sink {
 public:
  FdSink(int fd, Deadline deadline) : fd_(fd), deadline_(deadline) {}
  ~FdSink() override = default;
  void bytes(const char* data, std::size_t size) override {
    if (size >= kDirect) {
      flush();
      write_all(fd_, data, size, deadline_);
      return;
    }
    buffer_.append(data, size);
    if (buffer_.size() >= kDirect) flush();
  }
  void flush() {
    if (!buffer_.empty()) write_all(fd_, buffer_.data(), buffer_.size(), deadline_);
    buffer_.clear();
  }

 private:
  static constexpr std::size_t kDirect = 1 << 16;
  int fd_;
  Deadline deadline_;
  std::string buffer_;
};

void put_u64(Sink& out, std::uint64_t value) {
  char bytes[8];
  for (int i = 0; i < 8; ++i) bytes[i] = static_cast<char>((value >> (8 * i)) & 0xff);
  out.bytes(bytes, 8);
}

void put_byte(Sink& out, std::uint8_t value) {
  const char c = static_cast<char>(value);
  out.bytes(&c, 1);
}

std::uint64_t encoded_size(const Value& value) {
  switch (value.type) {
    case Value::Type::None: return 1;
    case Value::Type::Int:
    case Value::Type::Real: return 9;
    case Value::Type::Text: return 9 + value.text.size();
    case Value::Type::Tensor:
      return 1 + 1 + 8 * static_cast<std::uint64_t>(value.tensor.dim()) + 1 + 8 +
             static_cast<std::uint64_t>(value.tensor.numel()) * sizeof(float);
    case Value::Type::List: {
      std::uint64_t size = 9;
      for (const Value& item : value.items) size += encoded_size(item);
      return size;
    }
  }
  return 1;
}

void put(Sink& out, const Value& value) {
  put_byte(out, static_cast<std::uint8_t>(value.type));
  switch (value.type) {
    case Value::Type::None: break;
    case Value::Type::Int: put_u64(out, static_cast<std::uint64_t>(value.integer)); break;
    case Value::Type::Real: {
      std::uint64_t bits = 0;
      std::memcpy(&bits, &value.real, sizeof bits);
      put_u64(out, bits);
      break;
    }
    case Value::Type::Text:
      put_u64(out, value.text.size());
      out.bytes(value.text.data(), value.text.size());
      break;
    case Value::Type::Tensor: {
      put_byte(out, static_cast<std::uint8_t>(value.tensor.dim()));
      for (std::int64_t size : value.tensor.shape()) put_u64(out, static_cast<std::uint64_t>(size));
      put_byte(out, value.requires_grad ? 1 : 0);
      const std::uint64_t count = static_cast<std::uint64_t>(value.tensor.numel());
      put_u64(out, count);
      if (count > 0) out.bytes(reinterpret_cast<const char*>(value.tensor.data_ptr()), count * sizeof(float));
      break;
    }
    case Value::Type::List:
      put_u64(out, value.items.size());
      for (const Value& item : value.items) put(out, item);
      break;
  }
}

// ---- decoding ----------------------------------------------------------------------------

class Reader {
 public:
  explicit Reader(std::string_view bytes) : bytes_(bytes) {}

  std::size_t left() const { return bytes_.size() - at_; }

  std::uint8_t byte() {
    need(1, "a type byte");
    return static_cast<std::uint8_t>(bytes_[at_++]);
  }
  std::uint64_t u64() {
    need(8, "an 8-byte number");
    std::uint64_t value = 0;
    for (int i = 0; i < 8; ++i) {
      value |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(bytes_[at_ + i])) << (8 * i);
    }
    at_ += 8;
    return value;
  }
  std::string_view take(std::uint64_t count, const char* what) {
    need(count, what);
    const std::string_view part = bytes_.substr(at_, static_cast<std::size_t>(count));
    at_ += static_cast<std::size_t>(count);
    return part;
  }

  Value value(int depth) {
    if (depth > kMaxDepth) throw ProtocolError("a message nests lists more than 16 deep");
    if (++values_ > kMaxValues) throw ProtocolError("a message of more than 4,194,304 values");
    Value v;
    const std::uint8_t type = byte();
    if (type > static_cast<std::uint8_t>(Value::Type::List)) {
      throw ProtocolError(fmt::format("unknown value type {}", type));
    }
    v.type = static_cast<Value::Type>(type);
    switch (v.type) {
      case Value::Type::None: break;
      case Value::Type::Int: v.integer = static_cast<std::int64_t>(u64()); break;
      case Value::Type::Real: {
        const std::uint64_t bits = u64();
        std::memcpy(&v.real, &bits, sizeof bits);
        break;
      }
      case Value::Type::Text: {
        const std::uint64_t size = u64();
        v.text = std::string(take(size, "a text"));
        break;
      }
      case Value::Type::Tensor: {
        const std::size_t dims = byte();
        if (dims > kMaxDims) throw ProtocolError(fmt::format("a tensor with {} dims (at most 8)", dims));
        std::uint64_t numel = 1;
        std::uint64_t span = 1;  // the product of the sizes with every 0 taken as 1: the strides' range
        Shape shape;
        for (std::size_t i = 0; i < dims; ++i) {
          const std::uint64_t size = u64();
          // Sizes are bounded so that their product cannot overflow; take() below then
          // checks that the frame really holds that many numbers. The product without the zeros
          // too: an empty tensor (one size 0) must not carry sizes whose strides would overflow,
          // such as (0, 2^31, 2^31, 2^31).
          constexpr std::uint64_t kLimit = 1ULL << 40;
          const std::uint64_t counted = std::max<std::uint64_t>(size, 1);
          if (size > (1ULL << 31) || span > kLimit / counted) {
            throw ProtocolError("a tensor larger than any frame");
          }
          numel *= size;
          span *= counted;
          shape.push_back(static_cast<std::int64_t>(size));
        }
        v.requires_grad = byte() != 0;
        const std::uint64_t count = u64();
        if (count != numel) {
          throw ProtocolError(fmt::format("a tensor of {} numbers for a shape of {}", count, numel));
        }
        const std::string_view raw = take(count * sizeof(float), "a tensor's numbers");
        v.tensor = empty(shape);  // (numbers straight from the frame)
        if (count > 0) std::memcpy(v.tensor.data_ptr(), raw.data(), raw.size());
        break;
      }
      case Value::Type::List: {
        const std::uint64_t count = u64();
        if (count > left()) throw ProtocolError("a list longer than its frame");
        v.items.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(count, 1024)));
        for (std::uint64_t i = 0; i < count; ++i) v.items.push_back(value(depth + 1));
        break;
      }
    }
    return v;
  }

 private:
  void need(std::uint64_t count, const char* what) const {
    if (count > left()) throw ProtocolError(fmt::format("the message ends inside {}", what));
  }
  std::string_view bytes_;
  std::size_t at_ = 0;
  std::uint64_t values_ = 0;
};

// ---- frames ------------------------------------------------------------------------------

void write_all(int fd, const char* data, std::size_t size, Deadline deadline) {
  using Clock = std::chrono::steady_clock;
  while (size > 0) {
    // Wait until the other side takes more, but not past the deadline: a runner that stops
    // reading must not hold the checker.
    int wait_ms = -1;
    if (deadline != Deadline::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) throw ChannelTimeout("the other side took nothing in time");
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1 << 30));
    }
    pollfd p{fd, POLLOUT, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0 && errno != EINTR) {
      throw ChannelClosed(fmt::format("cannot wait for the other side ({})", std::strerror(errno)));
    }
    if (ready <= 0) continue;
    // MSG_NOSIGNAL: a reader that has gone is an error, not SIGPIPE.
    ssize_t wrote = ::send(fd, data, size, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (wrote < 0 && errno == ENOTSOCK) wrote = ::write(fd, data, size);
    if (wrote < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      throw ChannelClosed(fmt::format("the other side stopped reading ({})", std::strerror(errno)));
    }
    data += wrote;
    size -= static_cast<std::size_t>(wrote);
  }
}

void read_all(int fd, char* data, std::size_t size, Deadline deadline) {
  using Clock = std::chrono::steady_clock;
  while (size > 0) {
    int wait_ms = -1;
    if (deadline != Deadline::max()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) throw ChannelTimeout("no answer in time");
      wait_ms = static_cast<int>(std::min<long long>(left.count(), 1 << 30));
    }
    pollfd p{fd, POLLIN, 0};
    const int ready = ::poll(&p, 1, wait_ms);
    if (ready < 0) {
      if (errno == EINTR) continue;
      throw ChannelClosed(fmt::format("cannot wait for the other side ({})", std::strerror(errno)));
    }
    if (ready == 0) continue;  // the deadline check above throws
    const ssize_t got = ::read(fd, data, size);
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      throw ChannelClosed(fmt::format("cannot read from the other side ({})", std::strerror(errno)));
    }
    if (got == 0) throw ChannelClosed("the other side closed the channel");
    data += got;
    size -= static_cast<std::size_t>(got);
  }
}

}  // namespace

Value Value::of(std::int64_t value) {
  Value v;
  v.type = Type::Int;
  v.integer = value;
  return v;
}

Value Value::of(double value) {
  Value v;
  v.type = Type::Real;
  v.real = value;
  return v;
}

Value Value::of(std::string value) {
  Value v;
  v.type = Type::Text;
  v.text = std::move(value);
  return v;
}

Value Value::of(const Tensor& tensor) {
  if (!tensor.defined()) return none();
  Value v;
  v.type = Type::Tensor;
  v.tensor = tensor.detach().cpu().contiguous();  // no copy for a contiguous CPU tensor
  v.requires_grad = tensor.requires_grad();
  return v;
}

Value Value::list(std::vector<Value> items) {
  Value v;
  v.type = Type::List;
  v.items = std::move(items);
  return v;
}

std::int64_t Value::as_int(std::string_view what) const {
  expect(*this, Type::Int, what);
  return integer;
}

double Value::as_real(std::string_view what) const {
  if (type == Type::Int) return static_cast<double>(integer);
  expect(*this, Type::Real, what);
  return real;
}

const std::string& Value::as_text(std::string_view what) const {
  expect(*this, Type::Text, what);
  return text;
}

const std::vector<Value>& Value::as_list(std::string_view what) const {
  expect(*this, Type::List, what);
  return items;
}

Tensor Value::as_tensor(std::string_view what) const {
  if (type == Type::None) return Tensor();
  expect(*this, Type::Tensor, what);
  Tensor t = tensor.detach();  // a leaf of its own over the same numbers
  if (requires_grad) t.requires_grad_(true);
  return t;
}

std::string encode(const Value& value) {
  StringSink out;
  put(out, value);
  return std::move(out.out);
}

Value decode(std::string_view bytes) {
  Reader reader(bytes);
  Value value = reader.value(0);
  if (reader.left() != 0) throw ProtocolError("bytes left over after the message");
  return value;
}

void write_frame(int fd, const Value& value, Deadline deadline) {
  FdSink out(fd, deadline);
  put_u64(out, encoded_size(value));
  put(out, value);
  out.flush();
}

Value read_frame(int fd, Deadline deadline, std::uint64_t max_bytes) {
  char header[8];
  read_all(fd, header, sizeof header, deadline);
  std::uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size |= static_cast<std::uint64_t>(static_cast<std::uint8_t>(header[i])) << (8 * i);
  if (size > max_bytes) {
    throw ProtocolError(fmt::format("a message of {} bytes (at most {})", size, max_bytes));
  }
  std::string body(static_cast<std::size_t>(size), '\0');
  read_all(fd, body.data(), body.size(), deadline);
  return decode(body);
}

}  // namespace ember::grading::wire
