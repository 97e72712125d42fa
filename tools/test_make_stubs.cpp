// Tests of ember_make_stubs: the transform of one file, and whole directories in temp dirs.
// make_stubs.cpp is compiled into this test with EMBER_MAKE_STUBS_NO_MAIN.
#include "make_stubs.cpp"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <chrono>
#include <cstdlib>

namespace {

using ember::stubs::make_stub;
using ember::stubs::MarkerError;
namespace fs = std::filesystem;

// The error make_stub reports for `text`, or "" when there is none.
std::string stub_error(const std::string& text, const std::string& question = "") {
  try {
    make_stub(text, "sol/q3_digits/x.hpp", question);
  } catch (const MarkerError& e) {
    return e.what();
  }
  return "";
}

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ember_make_stubs_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  fs::path operator/(const std::string& name) const { return path_ / name; }

 private:
  fs::path path_;
};

void put(const fs::path& path, const std::string& content) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

std::string get(const fs::path& path) { return ember::stubs::read_bytes(path); }

struct RunResult {
  int status;
  std::string out;
  std::string err;
};

RunResult run_tool(const std::vector<std::string>& args) {
  std::ostringstream out;
  std::ostringstream err;
  const int status = ember::stubs::run(args, out, err);
  return {status, out.str(), err.str()};
}

const char* const kSolution =
    "#pragma once\n"
    "#include <ember/ember.h>\n"
    "\n"
    "class DigitClassificationModel {\n"
    " public:\n"
    "  Tensor run(const Tensor& x) {\n"
    "    // BEGIN SOLUTION q3 DigitClassificationModel::run\n"
    "    return model_->forward(x);\n"
    "    // END SOLUTION\n"
    "  }\n"
    "\n"
    " private:\n"
    "  // BEGIN SOLUTION\n"
    "  std::shared_ptr<nn::Sequential> model_;   // solution-only members/helpers\n"
    "  // END SOLUTION\n"
    "};\n";

const char* const kStub =
    "#pragma once\n"
    "#include <ember/ember.h>\n"
    "\n"
    "class DigitClassificationModel {\n"
    " public:\n"
    "  Tensor run(const Tensor& x) {\n"
    "    // YOUR CODE HERE\n"
    "    throw ember::NotImplemented(\"q3: DigitClassificationModel::run\");\n"
    "  }\n"
    "\n"
    " private:\n"
    "  // YOUR CODE HERE\n"
    "};\n";

}  // namespace

// ---- one file ------------------------------------------------------------------------------

TEST(MakeStub, ReplacesRegionsAtTheirIndentation) {
  EXPECT_EQ(make_stub(kSolution, "x.hpp", "q3"), kStub);
}

TEST(MakeStub, TextWithoutMarkersIsCopiedAsItIs) {
  for (const std::string text : {"", "\n", "int x;", "int x;\n\n", "a\r\nb\r\n", "\tint y;  \n"}) {
    EXPECT_EQ(make_stub(text, "x.hpp"), text);
  }
}

TEST(MakeStub, TabsAndFlexibleMarkerSpacing) {
  EXPECT_EQ(make_stub("\t\t//BEGIN SOLUTION   q12   Model::fit  \nx\n\t\t//   END SOLUTION  \n", "x.hpp"),
            "\t\t// YOUR CODE HERE\n\t\tthrow ember::NotImplemented(\"q12: Model::fit\");\n");
}

TEST(MakeStub, KeepsWindowsLineEndings) {
  EXPECT_EQ(make_stub("a\r\n  // BEGIN SOLUTION q1 f\r\n  x;\r\n  // END SOLUTION\r\nb", "x.hpp"),
            "a\r\n  // YOUR CODE HERE\r\n  throw ember::NotImplemented(\"q1: f\");\r\nb");
}

TEST(MakeStub, FunctionNamesAreEscapedInTheLiteral) {
  EXPECT_EQ(make_stub("// BEGIN SOLUTION q2 operator\"\" _x \\ y\n// END SOLUTION\n", "x.hpp"),
            "// YOUR CODE HERE\nthrow ember::NotImplemented(\"q2: operator\\\"\\\" _x \\\\ y\");\n");
}

TEST(MakeStub, EmptyRegion) {
  EXPECT_EQ(make_stub("  // BEGIN SOLUTION\n  // END SOLUTION\nrest\n", "x.hpp"),
            "  // YOUR CODE HERE\nrest\n");
}

TEST(MakeStub, MarkerErrorsNameTheFileAndLine) {
  EXPECT_EQ(stub_error("// BEGIN SOLUTION q3 f\n// BEGIN SOLUTION\n// END SOLUTION\n"),
            "sol/q3_digits/x.hpp:2: error: BEGIN SOLUTION inside the region opened at line 1 "
            "(regions cannot nest)");
  EXPECT_EQ(stub_error("int x;\n// END SOLUTION\n"),
            "sol/q3_digits/x.hpp:2: error: END SOLUTION without a BEGIN SOLUTION");
  EXPECT_EQ(stub_error("a\n  // BEGIN SOLUTION q3 f\nb\n"),
            "sol/q3_digits/x.hpp:2: error: BEGIN SOLUTION is never closed by an END SOLUTION");
  EXPECT_EQ(stub_error("// BEGIN SOLUTION q3\n// END SOLUTION\n"),
            "sol/q3_digits/x.hpp:1: error: BEGIN SOLUTION q3 needs the function it is in too, "
            "e.g. 'BEGIN SOLUTION q3 DigitClassificationModel::run'");
  EXPECT_NE(stub_error("// BEGIN SOLUTION Model::run\n// END SOLUTION\n")
                .find("x.hpp:1: error: BEGIN SOLUTION must be followed by a question and a "
                      "function"),
            std::string::npos);
  EXPECT_NE(stub_error("\nint x;  // BEGIN SOLUTION\n").find("x.hpp:2: error: a solution marker "
                                                            "must be a // comment alone"),
            std::string::npos);
  EXPECT_NE(stub_error("/* BEGIN SOLUTION */\n").find("x.hpp:1: error: a solution marker"),
            std::string::npos);
  EXPECT_EQ(stub_error("// BEGIN SOLUTION\n// END SOLUTION q3\n"),
            "sol/q3_digits/x.hpp:2: error: END SOLUTION takes nothing after it, got 'q3'");
  EXPECT_NE(stub_error("// BEGIN SOLUTIONS\n").find("x.hpp:1: error: unknown marker"),
            std::string::npos);
  EXPECT_EQ(stub_error("// BEGIN SOLUTION q4 f\n// END SOLUTION\n", "q3"),
            "sol/q3_digits/x.hpp:1: error: the marker is for q4, but the file belongs to q3");
  EXPECT_EQ(stub_error("// BEGIN SOLUTION q3 f\n// END SOLUTION\n", "q3"), "");
}

TEST(MakeStub, QuestionOfPath) {
  using ember::stubs::question_of_path;
  EXPECT_EQ(question_of_path("q3_digits/digit_classification.hpp"), "q3");
  EXPECT_EQ(question_of_path("q12_x/sub/y.hpp"), "q12");
  EXPECT_EQ(question_of_path("common/y.hpp"), "");
  EXPECT_EQ(question_of_path("q3_file.hpp"), "");
  EXPECT_EQ(question_of_path("qx_folder/y.hpp"), "");
}

// ---- directories ---------------------------------------------------------------------------

TEST(MakeStubsTool, WritesLessonsAndChecksThem) {
  TempDir dir;
  const fs::path solutions = dir / "solutions";
  const fs::path lessons = dir / "lessons";
  put(solutions / "q3_digits" / "digit_classification.hpp", kSolution);
  const std::string readme = "Markers look like // BEGIN SOLUTION q3 f (not a source file).\n";
  put(solutions / "q3_digits" / "README.md", readme);
  const std::string binary("\x00\x01\xFF BEGIN SOLUTION", 19);
  put(solutions / "q0_shapes" / "data" / "blob.bin", binary);
  put(lessons / "q3_digits" / "notes_of_the_student.txt", "keep me\n");

  const std::vector<std::string> args = {"--solutions", solutions.string(), "--lessons",
                                         lessons.string()};
  std::vector<std::string> check_args = args;
  check_args.push_back("--check");

  // Before: everything is missing.
  RunResult check = run_tool(check_args);
  EXPECT_EQ(check.status, 1);
  EXPECT_NE(check.out.find("missing: " + (lessons / "q3_digits" / "digit_classification.hpp").string()),
            std::string::npos)
      << check.out;
  EXPECT_FALSE(fs::exists(lessons / "q3_digits" / "digit_classification.hpp"));  // wrote nothing

  RunResult write = run_tool(args);
  ASSERT_EQ(write.status, 0) << write.err;
  EXPECT_NE(write.out.find("3 file(s) written, 0 already up to date"), std::string::npos)
      << write.out;
  EXPECT_EQ(get(lessons / "q3_digits" / "digit_classification.hpp"), kStub);
  EXPECT_EQ(get(lessons / "q3_digits" / "README.md"), readme);
  EXPECT_EQ(get(lessons / "q0_shapes" / "data" / "blob.bin"), binary);
  EXPECT_EQ(get(lessons / "q3_digits" / "notes_of_the_student.txt"), "keep me\n");

  // After: up to date; writing again changes nothing (not even modification times).
  check = run_tool(check_args);
  EXPECT_EQ(check.status, 0) << check.out;
  EXPECT_EQ(check.out, "");
  const fs::path stub = lessons / "q3_digits" / "digit_classification.hpp";
  const auto old_time = fs::file_time_type::clock::now() - std::chrono::hours(24);
  fs::last_write_time(stub, old_time);
  write = run_tool(args);
  EXPECT_EQ(write.status, 0);
  EXPECT_NE(write.out.find("0 file(s) written, 3 already up to date"), std::string::npos);
  EXPECT_EQ(fs::last_write_time(stub), old_time);

  // A lesson edited by hand is reported with its first differing lines.
  std::string edited = kStub;
  edited.replace(edited.find("    throw"), 4, "  ");
  put(stub, edited);
  check = run_tool(check_args);
  EXPECT_EQ(check.status, 1);
  EXPECT_NE(check.out.find(stub.string() + " differs from the stub of "), std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("@@ line 8 @@\n-  throw ember::NotImplemented(\"q3: "
                           "DigitClassificationModel::run\");\n+    throw ember::NotImplemented("),
            std::string::npos)
      << check.out;
  EXPECT_NE(check.out.find("1 file(s) in "), std::string::npos) << check.out;
}

TEST(MakeStubsTool, MarkerErrorsWriteNothing) {
  TempDir dir;
  const fs::path solutions = dir / "solutions";
  const fs::path lessons = dir / "lessons";
  put(solutions / "q1_perceptron" / "good.hpp", "int a;\n");
  put(solutions / "q2_regression" / "bad.hpp", "int f() {\n  // BEGIN SOLUTION q2 f\n  return 1;\n}\n");
  put(solutions / "q4_language_id" / "worse.cpp", "// END SOLUTION\n");
  const RunResult result = run_tool({"--solutions", solutions.string(), "--lessons", lessons.string()});
  EXPECT_EQ(result.status, 2);
  EXPECT_NE(result.err.find((solutions / "q2_regression" / "bad.hpp").string() +
                            ":2: error: BEGIN SOLUTION is never closed"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find((solutions / "q4_language_id" / "worse.cpp").string() +
                            ":1: error: END SOLUTION without a BEGIN SOLUTION"),
            std::string::npos)
      << result.err;
  EXPECT_NE(result.err.find("2 file(s) with marker errors; nothing written"), std::string::npos);
  EXPECT_FALSE(fs::exists(lessons));
}

TEST(MakeStubsTool, UsageErrors) {
  TempDir dir;
  fs::create_directories(dir / "solutions");
  EXPECT_EQ(run_tool({}).status, 2);
  EXPECT_EQ(run_tool({"--solutions"}).status, 2);
  EXPECT_EQ(run_tool({"--solutions", (dir / "solutions").string()}).status, 2);
  EXPECT_EQ(run_tool({"--bogus"}).status, 2);
  const RunResult missing =
      run_tool({"--solutions", (dir / "nope").string(), "--lessons", (dir / "l").string()});
  EXPECT_EQ(missing.status, 2);
  EXPECT_NE(missing.err.find("is not a directory"), std::string::npos);
  const RunResult nested = run_tool({"--solutions", (dir / "solutions").string(), "--lessons",
                                     (dir / "solutions" / "lessons").string()});
  EXPECT_EQ(nested.status, 2);
  EXPECT_NE(nested.err.find("must be separate directories"), std::string::npos);
  EXPECT_EQ(run_tool({"--help"}).status, 0);
  // Empty solutions: nothing to do, nothing differs.
  EXPECT_EQ(run_tool({"--check", "--solutions=" + (dir / "solutions").string(),
                      "--lessons=" + (dir / "l").string()})
                .status,
            0);
}

TEST(MakeStubsTool, TheProgramItself) {
  TempDir dir;
  put(dir / "solutions" / "q0_shapes" / "shapes.hpp",
      "int f() {\n  // BEGIN SOLUTION q0 f\n  return 1;\n  // END SOLUTION\n}\n");
  const std::string base = std::string("'") + MAKE_STUBS_EXE + "' --solutions '" +
                           (dir / "solutions").string() + "' --lessons '" +
                           (dir / "lessons").string() + "'";
  auto status = [](const std::string& command) {
    const int raw = std::system((command + " >/dev/null 2>&1").c_str());
    return raw != -1 && WIFEXITED(raw) ? WEXITSTATUS(raw) : -1;
  };
  EXPECT_EQ(status(base + " --check"), 1);
  EXPECT_EQ(status(base), 0);
  EXPECT_EQ(status(base + " --check"), 0);
  EXPECT_EQ(get(dir / "lessons" / "q0_shapes" / "shapes.hpp"),
            "int f() {\n  // YOUR CODE HERE\n  throw ember::NotImplemented(\"q0: f\");\n}\n");
}
