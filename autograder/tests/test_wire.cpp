// The checker-runner channel (wire/wire.h): every kind of value survives the trip, and a
// malformed frame from a hostile runner is an error, never a crash or a huge allocation.
#include <gtest/gtest.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <string>
#include <thread>

#include <ember/ember.h>

#include "wire.h"

namespace {

using ember::grading::wire::ChannelClosed;
using ember::grading::wire::ChannelTimeout;
using ember::grading::wire::ProtocolError;
using ember::grading::wire::Value;
namespace wire = ember::grading::wire;

std::string u64(std::uint64_t v) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
  return out;
}

TEST(Wire, EveryKindOfValueRoundTrips) {
  ember::Tensor view = ember::arange(12.0f).view({3, 4}).t();  // not contiguous: sent row-major
  Value grad = Value::of(ember::ones({2}));
  grad.requires_grad = true;
  const Value original = Value::list({Value::none(), Value::of(int64_t{-7}), Value::of(2.5), Value::of("tab\there"),
                                      Value::of(view), grad, Value::of(ember::Tensor()),
                                      Value::list({Value::of(ember::zeros({0, 3}))})});
  const Value back = wire::decode(wire::encode(original));
  const auto& items = back.as_list("test");
  ASSERT_EQ(items.size(), 8u);
  EXPECT_TRUE(items[0].is(Value::Type::None));
  EXPECT_EQ(items[1].as_int("i"), -7);
  EXPECT_EQ(items[2].as_real("r"), 2.5);
  EXPECT_EQ(items[3].as_text("t"), "tab\there");
  const ember::Tensor t = items[4].as_tensor("view");
  EXPECT_EQ(t.shape(), (ember::Shape{4, 3}));
  EXPECT_EQ(t.to_vector(), view.to_vector());
  EXPECT_FALSE(t.requires_grad());
  EXPECT_TRUE(items[5].as_tensor("grad").requires_grad());
  EXPECT_TRUE(items[6].is(Value::Type::None));  // an undefined tensor is sent as nothing
  EXPECT_EQ(items[7].as_list("l")[0].as_tensor("empty").shape(), (ember::Shape{0, 3}));
  EXPECT_THROW(items[1].as_text("an int as text"), ProtocolError);
}

TEST(Wire, MalformedMessagesAreErrors) {
  const std::string good = wire::encode(Value::of(ember::ones({2, 2})));
  for (size_t cut = 0; cut < good.size(); ++cut) {
    EXPECT_THROW(wire::decode(good.substr(0, cut)), ProtocolError) << "cut at " << cut;
  }
  EXPECT_THROW(wire::decode(good + "x"), ProtocolError);                      // bytes left over
  EXPECT_THROW(wire::decode(std::string(1, '\x09')), ProtocolError);          // no such type
  // A tensor that claims 2^39 x 2^39 numbers, and one whose count disagrees with its shape.
  EXPECT_THROW(wire::decode(std::string("\x04\x02", 2) + u64(1ULL << 39) + u64(1ULL << 39) + '\0' + u64(0)),
               ProtocolError);
  EXPECT_THROW(wire::decode(std::string("\x04\x01", 2) + u64(3) + '\0' + u64(2) + std::string(8, '\0')),
               ProtocolError);
  EXPECT_THROW(wire::decode(std::string("\x04\x09", 2)), ProtocolError);     // 9 dims
  // A list that claims more items than its frame could hold, and lists nested too deep.
  EXPECT_THROW(wire::decode(std::string(1, '\x05') + u64(1ULL << 60)), ProtocolError);
  // A wide list of tiny values: millions of Value objects from a few megabytes.
  EXPECT_THROW(wire::decode(std::string(1, '\x05') + u64(5'000'000) + std::string(5'000'000, '\0')), ProtocolError);
  // An empty tensor whose other size would overflow its strides.
  EXPECT_THROW(wire::decode(std::string("\x04\x02", 2) + u64(0) + u64(1ULL << 40) + '\0' + u64(0)), ProtocolError);
  // ... and one whose other sizes are each allowed but together overflow the strides.
  EXPECT_THROW(wire::decode(std::string("\x04\x04", 2) + u64(0) + u64(1ULL << 31) + u64(1ULL << 31) +
                            u64(1ULL << 31) + '\0' + u64(0)),
               ProtocolError);
  // A large but possible empty tensor is fine: (0, 2^20, 2^20).
  EXPECT_EQ(wire::decode(std::string("\x04\x03", 2) + u64(0) + u64(1ULL << 20) + u64(1ULL << 20) + '\0' + u64(0))
                .tensor.numel(),
            0);
  std::string deep;
  for (int i = 0; i < 40; ++i) deep += std::string(1, '\x05') + u64(1);
  EXPECT_THROW(wire::decode(deep + std::string(1, '\0')), ProtocolError);
}

TEST(Wire, FramesOverASocket) {
  int pair[2];
  ASSERT_EQ(::socketpair(AF_UNIX, SOCK_STREAM, 0, pair), 0);
  // Large enough to need many writes and reads.
  const ember::Tensor big = ember::randn({1000, 784});
  std::thread writer([&] { wire::write_frame(pair[0], Value::list({Value::of("train"), Value::of(big)})); });
  const Value got = wire::read_frame(pair[1]);
  writer.join();
  EXPECT_EQ(got.as_list("m")[1].as_tensor("big").to_vector(), big.to_vector());

  // Nothing comes: a time-out. A frame too long for the reader: an error, without reading it.
  const auto soon = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
  EXPECT_THROW(wire::read_frame(pair[1], soon), ChannelTimeout);
  const std::string header = u64(1ULL << 40);
  ASSERT_EQ(::write(pair[0], header.data(), header.size()), 8);
  EXPECT_THROW(wire::read_frame(pair[1], wire::Deadline::max(), 1 << 20), ProtocolError);
  ::close(pair[0]);
  EXPECT_THROW(wire::read_frame(pair[1]), ChannelClosed);
  EXPECT_THROW(wire::write_frame(pair[1], Value::of("to nobody")), ChannelClosed);
  ::close(pair[1]);
}

}  // namespace
