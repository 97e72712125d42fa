// The JSON reader behind the class tool and the autograder's tests (driver/json_reader.h).
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

#include "json_reader.h"

namespace ember::grade {
namespace {

std::string error_of(const std::string& text) {
  try {
    parse_json(text, "results.json");
  } catch (const std::runtime_error& e) {
    return e.what();
  }
  return "";
}

TEST(JsonReader, ReadsTheValuesResultsJsonHolds) {
  const Json doc = parse_json(R"( {"score": 7.5, "tests": [{"name": "q1.a", "ok": true}, null],
                                   "output": "line\none \"two\" \u00e9\ud83d\ude00"} )");
  ASSERT_EQ(doc.type, Json::Type::Object);
  EXPECT_EQ(doc.at("score").number, 7.5);
  const Json& tests = doc.at("tests");
  ASSERT_EQ(tests.array.size(), 2u);
  EXPECT_EQ(tests.array[0].at("name").string, "q1.a");
  EXPECT_TRUE(tests.array[0].at("ok").boolean);
  EXPECT_EQ(tests.array[1].type, Json::Type::Null);
  EXPECT_EQ(doc.at("output").string, "line\none \"two\" \xc3\xa9\xf0\x9f\x98\x80");  // UTF-8
  EXPECT_EQ(doc.find("missing"), nullptr);
  EXPECT_THROW(doc.at("missing"), std::runtime_error);
}

TEST(JsonReader, MalformedTextThrowsNamingTheSourceAndThePlace) {
  EXPECT_EQ(error_of(R"({"a": 1} x)"), "results.json: text after the end at byte 9");
  EXPECT_EQ(error_of(R"({"a": "unfinished)"), "results.json: an unfinished string at byte 17");
  EXPECT_EQ(error_of(R"({"a" 1})"), "results.json: expected ':' at byte 5");
  EXPECT_EQ(error_of(""), "results.json: an unexpected end at byte 0");
  EXPECT_NE(error_of(R"(["\q"])").find("an unknown escape"), std::string::npos);
  EXPECT_EQ(error_of("[\"a\tb\"]"), "results.json: a control character in a string at byte 4");
  EXPECT_NE(error_of(R"(["\ud83d\u0041"])").find("a high surrogate without its low half"), std::string::npos);
}

TEST(JsonReader, DeepNestingIsRefused) {
  // A hostile file cannot make the reader recurse without bound.
  const std::string deep = std::string(100, '[') + std::string(100, ']');
  EXPECT_NE(error_of(deep).find("nesting too deep"), std::string::npos);
  const std::string fine = std::string(30, '[') + std::string(30, ']');
  EXPECT_EQ(error_of(fine), "");
}

}  // namespace
}  // namespace ember::grade
