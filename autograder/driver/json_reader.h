// A small JSON reader, enough for the grader's results.json: the class tool reads every
// submission's, and the autograder's tests check theirs. (No JSON library among the project's
// dependencies. The file is the driver's own output, written by render_results_json in
// report.cpp, but it is read defensively all the same: nesting is bounded, and anything
// malformed throws.)
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace ember::grade {

struct Json {
  enum class Type { Null, Bool, Number, String, Array, Object };
  Type type = Type::Null;
  bool boolean = false;
  double number = 0;
  std::string string;
  std::vector<Json> array;
  std::vector<std::pair<std::string, Json>> object;  // in the document's order

  const Json* find(std::string_view key) const;  // the member named key, or nullptr
  const Json& at(std::string_view key) const;    // the same, or throws std::runtime_error
};

// The document in text. Throws std::runtime_error naming source, what is wrong and where
// ("results.json: an unfinished string at byte 120").
Json parse_json(std::string_view text, std::string_view source = "JSON");

}  // namespace ember::grade
