// Unit tests of the results-file protocol.
#include <gtest/gtest.h>

#include "grade_protocol.h"

namespace protocol = ember::grading::protocol;

TEST(Protocol, EscapeRoundTrips) {
  for (const std::string text : {"", "plain", "tab\there", "two\nlines", "back\\slash", "\\n",
                                 "cr\r\n", "\\\\t\t\n", "trailing\\"}) {
    const std::string escaped = protocol::escape(text);
    EXPECT_EQ(escaped.find('\t'), std::string::npos) << text;
    EXPECT_EQ(escaped.find('\n'), std::string::npos) << text;
    EXPECT_EQ(protocol::unescape(escaped), text);
  }
  EXPECT_EQ(protocol::escape("a\tb\nc\\d"), "a\\tb\\nc\\\\d");
}

TEST(Protocol, UnescapeKeepsUnknownEscapes) {
  EXPECT_EQ(protocol::unescape("a\\qb"), "a\\qb");
  EXPECT_EQ(protocol::unescape("end\\"), "end\\");
}

TEST(Protocol, CheckLineHasTheDocumentedShape) {
  EXPECT_EQ(protocol::check_line("q3", "accuracy_on_test_half", 0, 4, false, "got 0.95\nneed 0.97"),
            "check\tq3\taccuracy_on_test_half\t0\t4\tFAIL\tgot 0.95\\nneed 0.97\n");
  EXPECT_EQ(protocol::start_line("q3", "x", 2), "start\tq3\tx\t2\n");
  EXPECT_EQ(protocol::plan_line("q3", "x", 2), "plan\tq3\tx\t2\n");
  EXPECT_EQ(protocol::header_line(), "ember-grade\t1\n");
  EXPECT_EQ(protocol::done_line(), "done\n");
}

TEST(Protocol, ParsesWhatItWrites) {
  std::string line = protocol::check_line("q3", "acc", 4, 4, true, "a\tb\nc");
  line.pop_back();
  const auto record = protocol::parse_line(line);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->kind, protocol::Kind::Check);
  EXPECT_EQ(record->question, "q3");
  EXPECT_EQ(record->name, "acc");
  EXPECT_EQ(record->earned, 4);
  EXPECT_EQ(record->max, 4);
  EXPECT_TRUE(record->passed);
  EXPECT_EQ(record->message, "a\tb\nc");

  const auto start = protocol::parse_line("start\tq1\tname\t3\r");
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(start->kind, protocol::Kind::Start);
  EXPECT_EQ(start->max, 3);
  const auto header = protocol::parse_line("ember-grade\t1");
  ASSERT_TRUE(header.has_value());
  EXPECT_EQ(header->version, 1);
  ASSERT_TRUE(protocol::parse_line("done").has_value());
}

TEST(Protocol, DeviceLineRoundTrips) {
  EXPECT_EQ(protocol::device_line("cpu", ""), "device\tcpu\t\n");
  std::string line = protocol::device_line("cuda:0", "no CUDA device\tis available\n(really)");
  line.pop_back();
  const auto record = protocol::parse_line(line);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->kind, protocol::Kind::Device);
  EXPECT_EQ(record->name, "cuda:0");
  EXPECT_EQ(record->message, "no CUDA device\tis available\n(really)");
  for (const char* bad : {"device", "device\tcpu", "device\t\tproblem", "device\tcpu\ta\tb"}) {
    EXPECT_FALSE(protocol::parse_line(bad).has_value()) << bad;
  }
}

TEST(Protocol, NormalizesDeviceNames) {
  EXPECT_EQ(protocol::normalize_device(""), "cpu");
  EXPECT_EQ(protocol::normalize_device("cpu"), "cpu");
  EXPECT_EQ(protocol::normalize_device("cuda"), "cuda:0");
  EXPECT_EQ(protocol::normalize_device("cuda:0"), "cuda:0");
  EXPECT_EQ(protocol::normalize_device("cuda:1"), "cuda:1");
  EXPECT_EQ(protocol::normalize_device("cuda:12"), "cuda:12");
  for (const char* junk : {"gpu", "CPU", "Cuda", " cuda", "cuda:", "cuda:-1", "cuda:01", "cuda:1x",
                           "cuda:99999", "cuda0", "cpu:0", "mps"}) {
    EXPECT_FALSE(protocol::normalize_device(junk).has_value()) << junk;
  }
  const std::string message = protocol::bad_device_message("gpu");
  EXPECT_NE(message.find("EMBER_DEVICE='gpu' is not a device"), std::string::npos) << message;
  EXPECT_NE(message.find("cpu (the default), cuda (the first GPU, cuda:0) or cuda:N"),
            std::string::npos)
      << message;
}

TEST(Protocol, RejectsMalformedLines) {
  for (const char* line : {"", "nonsense", "check\tq3\tx\t1\t2\tPASS",  // too few fields
                           "check\tq3\tx\tone\t2\tPASS\tm", "check\tq3\tx\t1\t2\tMAYBE\tm",
                           "check\tq3\tx\t-1\t2\tPASS\tm", "check\t\tx\t1\t2\tPASS\tm",
                           "check\tq3\tx\t99999999999\t2\tPASS\tm", "plan\tq3\tx", "start\tq3\tx\t",
                           "done\textra", "ember-grade\tv1"}) {
    EXPECT_FALSE(protocol::parse_line(line).has_value()) << line;
  }
}

TEST(Protocol, TidiesGoogleTestExceptionMessages) {
  EXPECT_EQ(protocol::tidy_failure_message(
                "C++ exception with description \"q3: DigitClassificationModel::run is not "
                "implemented\" thrown in the test body."),
            "exception: q3: DigitClassificationModel::run is not implemented");
  EXPECT_EQ(protocol::tidy_failure_message(
                "C++ exception with description \"say \"hi\"\" thrown in SetUp()."),
            "exception: say \"hi\" (thrown in SetUp())");
  EXPECT_EQ(protocol::tidy_failure_message("Unknown C++ exception thrown in the test body."),
            "exception: an exception not derived from std::exception");
  EXPECT_EQ(protocol::tidy_failure_message("Expected equality\n  a\n\nStack trace:\nframe 1\n"),
            "Expected equality\n  a");
  EXPECT_EQ(protocol::tidy_failure_message("plain text  \n"), "plain text");
  EXPECT_EQ(protocol::tidy_failure_message("Failed\nexception: boom"), "exception: boom");
  EXPECT_EQ(protocol::tidy_failure_message("Failed"), "Failed");
}
