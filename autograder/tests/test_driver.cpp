// End-to-end tests of ember_grade on fake question programs (tests/fake_questions/):
// passing checks, an unfinished stub, a crash, a hang, a hand-written protocol, a compile
// error, a missing program, and a real `cmake --build` of a tiny project.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using namespace ember_test;

Outcome run_driver(const std::string& args, const TempDir& dir, const std::string& env = "") {
  return run_shell(env + " " + quote(EMBER_GRADE_EXE) + " " + args, dir);
}

void link_question(const TempDir& dir, const std::string& question, const std::string& program) {
  fs::create_directories(dir.path() / "exe");
  fs::create_symlink(program, dir.path() / "exe" / ("grade_" + question));
}

bool process_is_gone(int pid) {
  const fs::path stat = "/proc/" + std::to_string(pid) + "/stat";
  std::ifstream in(stat);
  if (!in) return true;
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t paren = text.rfind(')');
  return paren != std::string::npos && paren + 2 < text.size() && text[paren + 2] == 'Z';
}

const Json& find_test(const Json& results, const std::string& name) {
  for (const Json& test : results.at("tests").array) {
    if (test.at("name").string == name) return test;
  }
  throw std::runtime_error("results.json has no test " + name);
}


}  // namespace

TEST(DriverEndToEnd, GradesEveryKindOfOutcome) {
  TempDir dir;
  link_question(dir, "q0", FAKE_PASS_Q0);
  link_question(dir, "q1", FAKE_NOTIMPL_Q1);
  link_question(dir, "q2", FAKE_SEGV_Q2);
  link_question(dir, "q3", FAKE_PROTOCOL_Q3);
  // q4: its checker does not compile (the fake build command says so); q5: never built. A
  // checker that cannot run lists no checks, so its question is worth nothing in the total
  // (the points are only ever the checker's): 28 of the fakes' 39. q7 has no fake either: like
  // q5, it builds "successfully" without a program.
  link_question(dir, "q6", FAKE_HANG_Q6);
  const std::string build_command = "sh " + quote(FAKE_BUILD_SCRIPT) + " {target} " +
                                    quote(TEST_CXX_COMPILER) + " " + quote(BROKEN_Q4_SOURCE);
  const std::string pid_file = dir / "grandchild.pid";

  const auto started = std::chrono::steady_clock::now();
  const Outcome outcome = run_driver(
      "--exe-dir " + quote(dir / "exe") + " --build-command " + quote(build_command) +
          " --results-json " + quote(dir / "results.json") + " --report " +
          quote(dir / "report.txt") + " --color never --no-timings --work-dir " +
          quote(dir / "work"),
      dir, "EMBER_GRADE_TIMEOUT_SCALE=0.03 FAKE_GRANDCHILD_PID_FILE=" + quote(pid_file));
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  ASSERT_EQ(outcome.status, 0) << outcome.err;
  const std::string& report = outcome.out;
  EXPECT_EQ(read_text(dir / "report.txt"), report);
  EXPECT_LT(seconds, 30.0);  // the hang costs its 1.8 s budget, not forever

  // q0: all pass; notes with a tab, a backslash and a newline survive the protocol.
  EXPECT_CONTAINS(report,
                  "Question q0\n===========\n"
                  "*** PASS: q0.shapes_add_up (1/1)\n"
                  "***     seed 0\n"
                  "*** PASS: q0.notes_survive_escaping (3/3)\n"
                  "***     tab[\t] backslash[\\] and\n"
                  "***     a second line\n"
                  "\n### Question q0: 4/4 ###\n");
  // q1: an unfinished stub fails with its message; a wrong answer shows expected vs got.
  EXPECT_CONTAINS(report,
                  "*** PASS: q1.weights_have_the_right_shape (2/2)\n"
                  "***     weights have shape (1x3)\n"
                  "*** FAIL: q1.prediction_is_a_sign (0/2)\n"
                  "***     exception: q1: PerceptronModel::get_prediction is not implemented\n"
                  "*** FAIL: q1.training_converges (0/2)\n");
  EXPECT_CONTAINS(report, "***     training accuracy 0.75 is below 1.0\n");
  EXPECT_CONTAINS(report, "***     training accuracy 0.7500 (threshold 1.0)\n");
  EXPECT_CONTAINS(report, "### Question q1: 2/6 ###");
  // q2: the crash costs the running check and the ones after it.
  EXPECT_CONTAINS(report,
                  "*** PASS: q2.before_the_crash (2/2)\n"
                  "*** FAIL: q2.crashes (0/2)\n"
                  "***     crashed with signal SIGSEGV (segmentation fault) during check "
                  "q2.crashes\n");
  EXPECT_CONTAINS(report, "***       about to crash\n");
  EXPECT_CONTAINS(report,
                  "*** FAIL: q2.after_the_crash (0/2)\n"
                  "***     not run: grade_q2 crashed with signal SIGSEGV (segmentation fault) "
                  "during check q2.crashes\n");
  EXPECT_CONTAINS(report, "### Question q2: 2/6 ###");
  // q3: the hand-written protocol; extra points capped, junk lines ignored.
  EXPECT_CONTAINS(report,
                  "*** PASS: q3.first (3/3)\n"
                  "***     line one\n"
                  "***     line two has a \t tab and a \\\n"
                  "*** PASS: q3.second (3/3)\n"
                  "***     claims 9 of 3 points\n"
                  "\n### Question q3: 6/6 ###\n");
  EXPECT_NOT_CONTAINS(report, "q3.broken");
  EXPECT_NOT_CONTAINS(report, "q3.unfinished");
  // q4: compile errors, without the build tool's chatter.
  EXPECT_CONTAINS(report,
                  "*** FAIL: q4.compile (0/0)\n"
                  "***     the grader's program grade_q4 does not compile (a problem with the autograder, "
                  "not with the submission). The first errors:\n");
  EXPECT_CONTAINS(report, "broken_q4.cpp:4:");
  EXPECT_CONTAINS(report, "error: 'undeclared_weight' was not declared in this scope");
  EXPECT_NOT_CONTAINS(report, "make[2]");
  EXPECT_NOT_CONTAINS(report, "Building CXX object");
  EXPECT_CONTAINS(report, "### Question q4: 0/0 ###");
  // q5: built "successfully" but there is no program.
  EXPECT_CONTAINS(report, "*** FAIL: q5.program (0/0)\n***     the build succeeded but grade_q5 is not in");
  // q6: the hang is reported on the check that was running.
  EXPECT_CONTAINS(report,
                  "*** PASS: q6.quick (2/2)\n"
                  "*** FAIL: q6.loops_forever (0/4)\n"
                  "***     timed out after 1.8 s during check q6.loops_forever\n");
  EXPECT_CONTAINS(report, "***       training epoch 1...\n");
  EXPECT_CONTAINS(report, "### Question q6: 2/6 ###");
  EXPECT_CONTAINS(report,
                  "Provisional grades\n==================\n"
                  "Question q0: 4/4\nQuestion q1: 2/6\nQuestion q2: 2/6\nQuestion q3: 6/6\n"
                  "Question q4: 0/0\nQuestion q5: 0/0\nQuestion q6: 2/6\nQuestion q7: 0/0\n"
                  "------------------\nTotal: 16/28\n");
  EXPECT_NOT_CONTAINS(report, "\033[");

  // results.json: valid JSON, the same totals, one entry per check (and per failure).
  const Json results = parse_json(read_text(dir / "results.json"));
  EXPECT_EQ(results.at("score").number, 16);
  EXPECT_EQ(results.at("max_score").number, 28);
  EXPECT_EQ(results.at("output").string, report);
  double score = 0;
  double max_score = 0;
  for (const Json& test : results.at("tests").array) {
    score += test.at("score").number;
    max_score += test.at("max_score").number;
  }
  EXPECT_EQ(score, 16);
  EXPECT_EQ(max_score, 28);
  EXPECT_EQ(find_test(results, "q0.notes_survive_escaping").at("output").string,
            "tab[\t] backslash[\\] and\na second line");
  EXPECT_CONTAINS(find_test(results, "q2.crashes").at("output").string, "SIGSEGV");
  EXPECT_EQ(find_test(results, "q2.crashes").at("max_score").number, 2);
  EXPECT_EQ(find_test(results, "q4.compile").at("max_score").number, 0);
  EXPECT_CONTAINS(find_test(results, "q4.compile").at("output").string, "undeclared_weight");
  EXPECT_CONTAINS(find_test(results, "q6.loops_forever").at("output").string, "timed out");
  EXPECT_EQ(find_test(results, "q6.quick").at("status").string, "passed");
  EXPECT_EQ(find_test(results, "q5.program").at("status").string, "failed");

  // The hanging check's own child process was killed with its process group.
  const std::string pid_text = read_text(pid_file);
  ASSERT_FALSE(pid_text.empty());
  const int grandchild = std::stoi(pid_text);
  bool gone = false;
  for (int i = 0; i < 200 && !gone; ++i) {
    gone = process_is_gone(grandchild);
    if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(gone) << "process " << grandchild << " survived the timeout";

  // --work-dir keeps the logs.
  EXPECT_TRUE(fs::exists(dir.path() / "work" / "q2" / "grade_q2.log"));
  EXPECT_TRUE(fs::exists(dir.path() / "work" / "grade_q4.build.log"));
}

TEST(DriverEndToEnd, SeedAndSelectedQuestions) {
  TempDir dir;
  link_question(dir, "q0", FAKE_PASS_Q0);
  link_question(dir, "q1", FAKE_NOTIMPL_Q1);
  const Outcome outcome = run_driver(
      "--no-build --exe-dir " + quote(dir / "exe") + " --questions q1,0 --seed 42 --no-timings "
      "--color never",
      dir);
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_CONTAINS(outcome.out, "*** PASS: q0.shapes_add_up (1/1)\n***     seed 42\n");
  // Questions come in their own order, whatever order they were asked for in.
  EXPECT_LT(outcome.out.find("Question q0"), outcome.out.find("Question q1"));
  EXPECT_CONTAINS(outcome.out, "Question q0: 4/4\nQuestion q1: 2/6\n------------------\nTotal: 6/10\n");
  EXPECT_NOT_CONTAINS(outcome.out, "Question q2");
}

TEST(DriverEndToEnd, TimingsAreShownByDefault) {
  TempDir dir;
  link_question(dir, "q0", FAKE_PASS_Q0);
  const Outcome outcome =
      run_driver("--no-build --exe-dir " + quote(dir / "exe") + " --questions q0", dir);
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_CONTAINS(outcome.out, "### Question q0: 4/4 ###\n(q0: ");
  EXPECT_NOT_CONTAINS(outcome.out, "\033[");  // auto colour: stdout is a file here
}

TEST(DriverEndToEnd, MissingProgramWithNoBuild) {
  TempDir dir;
  fs::create_directories(dir.path() / "exe");
  const Outcome outcome = run_driver("--no-build --exe-dir " + quote(dir / "exe") +
                                         " --questions q5 --no-timings --results-json " +
                                         quote(dir / "r.json"),
                                     dir);
  EXPECT_EQ(outcome.status, 0) << outcome.err;  // grading ran, even if the score is 0
  EXPECT_CONTAINS(outcome.out, "*** FAIL: q5.program (0/0)\n***     grade_q5 not found in ");
  EXPECT_CONTAINS(outcome.out, "Total: 0/0\n");
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("score").number, 0);
  EXPECT_EQ(results.at("max_score").number, 0);
}

TEST(DriverEndToEnd, ColourAlwaysOnlyOnStdout) {
  TempDir dir;
  link_question(dir, "q1", FAKE_NOTIMPL_Q1);
  const Outcome outcome =
      run_driver("--no-build --exe-dir " + quote(dir / "exe") +
                     " --questions q1 --color always --report " + quote(dir / "report.txt"),
                 dir);
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_CONTAINS(outcome.out, "*** \033[32mPASS\033[0m: q1.weights_have_the_right_shape");
  EXPECT_CONTAINS(outcome.out, "*** \033[31mFAIL\033[0m: q1.prediction_is_a_sign");
  EXPECT_NOT_CONTAINS(read_text(dir / "report.txt"), "\033[");
}

TEST(DriverEndToEnd, UsageErrorsExitWithTwo) {
  TempDir dir;
  fs::create_directories(dir.path() / "exe");
  const std::string exe = " --exe-dir " + quote(dir / "exe") + " --no-build";
  const std::pair<std::string, std::string> cases[] = {
      {"--questions q9" + exe, "unknown question 'q9'"},
      {"--questions ," + exe, "--questions needs at least one question"},
      {"", "--build-dir is required"},
      {"--build-dir " + quote(dir / "exe"), "is not a configured CMake build tree"},
      {"--color sometimes" + exe, "--color must be auto, always or never"},
      {"--timeout-scale -1" + exe, "must be a positive number"},
      {"--seed x" + exe, "--seed must be a non-negative integer"},
      {"--frobnicate" + exe, "unknown option '--frobnicate'"},
      {"--no-build=yes" + exe, "--no-build takes no value"},
      {"--report", "--report needs a value"},
      {"--no-html --html x.html" + exe, "--html and --no-html contradict each other"},
      {"--html ''" + exe, "--html needs a file name"},
      {"--device gpu" + exe, "EMBER_DEVICE='gpu' is not a device: use cpu (the default), cuda"},
  };
  for (const auto& [args, message] : cases) {
    const Outcome outcome = run_driver(args, dir);
    EXPECT_EQ(outcome.status, 2) << args;
    EXPECT_CONTAINS(outcome.err, message);
    EXPECT_EQ(outcome.out, "") << args;
  }
  const Outcome bad_env = run_driver(exe, dir, "EMBER_GRADE_TIMEOUT_SCALE=fast");
  EXPECT_EQ(bad_env.status, 2);
  EXPECT_CONTAINS(bad_env.err, "the time-budget scale must be a positive number, got 'fast'");

  const Outcome help = run_driver("--help", dir);
  EXPECT_EQ(help.status, 0);
  EXPECT_CONTAINS(help.out, "--build-dir DIR");
}

TEST(DriverEndToEnd, RealCMakeBuild) {
  TempDir dir;
  const std::string build = dir / "build";
  const Outcome configure =
      run_shell(quote(TEST_CMAKE_COMMAND) + " -S " + quote(MINI_PROJECT_DIR) + " -B " +
                    quote(build) + " -DCMAKE_CXX_COMPILER=" + quote(TEST_CXX_COMPILER),
                dir);
  ASSERT_EQ(configure.status, 0) << configure.out << configure.err;

  const Outcome outcome = run_driver(
      "--build-dir " + quote(build) + " --cmake " + quote(TEST_CMAKE_COMMAND) +
          " --questions q0,q1 --no-timings --color never --results-json " + quote(dir / "r.json"),
      dir);
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_CONTAINS(outcome.out, "*** PASS: q0.built_with_cmake (4/4)\n***     built by cmake --build\n");
  EXPECT_CONTAINS(outcome.out,
                  "*** FAIL: q1.compile (0/0)\n"
                  "***     the grader's program grade_q1 does not compile (a problem with the autograder, "
                  "not with the submission). The first errors:\n");
  EXPECT_CONTAINS(outcome.out, "broken_q1.cpp:2:");
  EXPECT_CONTAINS(outcome.out, "'missing_function' was not declared in this scope");
  EXPECT_CONTAINS(outcome.out, "Total: 4/4\n");
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("score").number, 4);
  EXPECT_EQ(results.at("max_score").number, 4);
  // With a build tree, the HTML report and the pictures live in it by default.
  EXPECT_CONTAINS(outcome.out, "Total: 4/4\nDevice: cpu\n\nHTML report: " + build + "/grade-report.html\n");
  EXPECT_CONTAINS(read_text(build + "/grade-report.html"), "Question q1");
  EXPECT_TRUE(fs::is_directory(build + "/pictures"));

  // A target the build tree does not have is explained as such.
  const Outcome missing = run_driver("--build-dir " + quote(build) + " --cmake " +
                                         quote(TEST_CMAKE_COMMAND) + " --questions q2 --no-timings",
                                     dir);
  ASSERT_EQ(missing.status, 0) << missing.err;
  EXPECT_CONTAINS(missing.out, "*** FAIL: q2.compile (0/0)\n***     the build tree has no target grade_q2");
}

TEST(Harness, RunsOnItsOwnAndWritesTheProtocol) {
  TempDir dir;
  const std::string results = dir / "results.txt";
  const Outcome outcome =
      run_shell(quote(FAKE_PASS_Q0) + " --results-file=" + quote(results) + " --seed=7", dir);
  EXPECT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  EXPECT_CONTAINS(outcome.out, "[  PASSED  ] 2 tests.");
  EXPECT_CONTAINS(outcome.out, "[   NOTE   ] seed 7");
  EXPECT_CONTAINS(outcome.out, "[  POINTS  ] q0: 4/4");
  EXPECT_EQ(read_text(results),
            "ember-grade\t1\n"
            "device\tcpu\t\n"
            "plan\tq0\tshapes_add_up\t1\n"
            "plan\tq0\tnotes_survive_escaping\t3\n"
            "start\tq0\tshapes_add_up\t1\n"
            "check\tq0\tshapes_add_up\t1\t1\tPASS\tseed 7\n"
            "start\tq0\tnotes_survive_escaping\t3\n"
            "check\tq0\tnotes_survive_escaping\t3\t3\tPASS\ttab[\\t] backslash[\\\\] and\\na second "
            "line\n"
            "done\n");

  // The GoogleTest filter decides what is planned.
  const Outcome filtered = run_shell("EMBER_GRADE_RESULTS=" + quote(results) + " " +
                                         quote(FAKE_PASS_Q0) + " --gtest_filter=q0.shapes_add_up",
                                     dir);
  EXPECT_EQ(filtered.status, 0);
  EXPECT_NOT_CONTAINS(read_text(results), "notes_survive_escaping");

  const Outcome failing = run_shell(quote(FAKE_NOTIMPL_Q1), dir);
  EXPECT_EQ(failing.status, 1);  // GoogleTest's exit status for failed tests
  EXPECT_CONTAINS(failing.out, "[  POINTS  ] q1: 2/6");
  EXPECT_CONTAINS(failing.out, "exception: q1: PerceptronModel::get_prediction is not implemented");

  const Outcome bad_seed = run_shell("EMBER_SEED=abc " + quote(FAKE_PASS_Q0), dir);
  EXPECT_EQ(bad_seed.status, 2);
  EXPECT_CONTAINS(bad_seed.err, "the seed must be a non-negative integer, got 'abc'");

  const Outcome bad_file =
      run_shell(quote(FAKE_PASS_Q0) + " --results-file=" + quote(dir / "no/such/dir/r.txt"), dir);
  EXPECT_EQ(bad_file.status, 2);
  EXPECT_CONTAINS(bad_file.err, "cannot open the results file");
}

TEST(DriverEndToEnd, HtmlReportWithPictures) {
  TempDir dir;
  link_question(dir, "q0", FAKE_PASS_Q0);
  link_question(dir, "q1", FAKE_NOTIMPL_Q1);
  link_question(dir, "q5", FAKE_PICTURES_Q5);
  const fs::path pictures = dir.path() / "pictures";
  fs::create_directories(pictures);
  std::ofstream(pictures / "q5_stale.svg") << "<svg><text>from an older run</text></svg>";
  std::ofstream(pictures / "q0_old.svg") << "<svg><text>older still</text></svg>";
  std::ofstream(pictures / "q2_not_graded.svg") << "<svg><text>q2 picture</text></svg>";
  fs::create_directories(dir.path() / "out");
  const std::string html_path = (dir.path() / "out" / ".." / "report.html").string();

  const Outcome outcome = run_driver(
      "--no-build --exe-dir " + quote(dir / "exe") + " --questions q0,q1,q5 --no-timings "
      "--color never --pictures-dir " + quote(pictures.string()) + " --html " + quote(html_path) +
      " --report " + quote(dir / "report.txt") + " --results-json " + quote(dir / "r.json"),
      dir);
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  // The path is printed at the end, absolute and normalised; the text report has it too,
  // results.json (Gradescope's) does not.
  const std::string line = "\nHTML report: " + (dir.path() / "report.html").string() + "\n";
  ASSERT_GE(outcome.out.size(), line.size());
  EXPECT_EQ(outcome.out.substr(outcome.out.size() - line.size()), line);
  EXPECT_CONTAINS(outcome.out, "Total: 10/14\nDevice: cpu\n" + line);
  EXPECT_EQ(read_text(dir / "report.txt"), outcome.out);
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_NOT_CONTAINS(results.at("output").string, "HTML report");
  EXPECT_EQ(results.at("score").number, 10);

  // q5 saw EMBER_PICTURES_DIR without its old picture, and drew two new ones.
  EXPECT_CONTAINS(outcome.out, "*** PASS: q5.draws_pictures (4/4)\n***     drew 2 pictures\n");
  EXPECT_FALSE(fs::exists(pictures / "q5_stale.svg"));
  EXPECT_TRUE(fs::exists(pictures / "q5_feature_maps.svg"));

  const std::string html = read_text(html_path);
  for (const char* question : {"q0", "q1", "q5"}) {
    EXPECT_CONTAINS(html, std::string("<section class=\"question\" id=\"") + question + "\">");
    EXPECT_CONTAINS(html, std::string(">Question ") + question + "</a>");
  }
  EXPECT_NOT_CONTAINS(html, "Question q2");
  EXPECT_CONTAINS(html, "<span class=\"verdict\">FAIL</span> <span class=\"check-name\">"
                        "q1.prediction_is_a_sign</span>");
  EXPECT_CONTAINS(html, "exception: q1: PerceptronModel::get_prediction is not implemented");
  // Pictures: under their own question, in name order, as images (data: URLs), with captions.
  const size_t q5 = html.find("id=\"q5\"");
  const size_t activations = html.find("<figcaption>activations");
  const size_t feature_maps = html.find("<figcaption>feature maps");
  ASSERT_NE(activations, std::string::npos) << html;
  ASSERT_NE(feature_maps, std::string::npos) << html;
  EXPECT_LT(q5, activations);
  EXPECT_LT(activations, feature_maps);
  const std::string image = "<figure>\n<img src=\"data:image/svg+xml;base64,";
  EXPECT_LT(q5, html.rfind(image, activations));
  EXPECT_LT(activations, html.rfind(image, feature_maps));
  EXPECT_CONTAINS(html, "<figcaption>feature maps<span class=\"file\">q5_feature_maps.svg</span>");
  // Old pictures of the graded questions are gone; those of other questions are left alone.
  EXPECT_NOT_CONTAINS(html, "from an older run");
  EXPECT_NOT_CONTAINS(html, "older still");
  EXPECT_FALSE(fs::exists(pictures / "q0_old.svg"));
  EXPECT_NOT_CONTAINS(html, "q2 picture");
  EXPECT_TRUE(fs::exists(pictures / "q2_not_graded.svg"));
  // The pictures' markup is never part of the page: its script, handlers and outside
  // references stay inside the images (browser_test.sh shows that they do nothing there).
  EXPECT_NOT_CONTAINS(html, "<svg");
  EXPECT_NOT_CONTAINS(html, "<script");
  EXPECT_NOT_CONTAINS(html, "example.invalid");
  EXPECT_NOT_CONTAINS(html, "<?xml");

  // --no-html: no page, no line.
  const Outcome none = run_driver(
      "--no-build --exe-dir " + quote(dir / "exe") + " --questions q0 --no-html", dir);
  ASSERT_EQ(none.status, 0) << none.err;
  EXPECT_NOT_CONTAINS(none.out, "HTML report");
}

TEST(DriverEndToEnd, PrefaceStartsEveryReport) {
  TempDir dir;
  link_question(dir, "q0", FAKE_PASS_Q0);
  // A student's folder name in it may hold control characters: shown as \xNN, not obeyed.
  std::ofstream(dir / "preface.txt") << "Files graded:\n  q0 <- tensor_shapes.hpp & <stuff>\n"
                                        "  q1 <- a\rb\007c\xc2\x9b" "2J/perceptron.hpp\n\n\n";
  const Outcome outcome = run_driver(
      "--no-build --exe-dir " + quote(dir / "exe") + " --questions q0 --no-timings --preface " +
          quote(dir / "preface.txt") + " --results-json " + quote(dir / "r.json") + " --html " +
          quote(dir / "r.html"),
      dir);
  ASSERT_EQ(outcome.status, 0) << outcome.err;
  EXPECT_EQ(outcome.out.rfind("Files graded:\n  q0 <- tensor_shapes.hpp & <stuff>\n"
                              "  q1 <- a\\x0db\\x07c\\xc2\\x9b2J/perceptron.hpp\n\nQuestion q0\n",
                              0),
            0u)
      << outcome.out;
  const Json results = parse_json(read_text(dir / "r.json"));
  EXPECT_EQ(results.at("output").string.rfind("Files graded:\n", 0), 0u);
  EXPECT_CONTAINS(read_text(dir / "r.html"),
                  "<pre class=\"preface\">Files graded:\n  q0 &lt;- tensor_shapes.hpp &amp; "
                  "&lt;stuff&gt;\n  q1 &lt;- a\\x0db\\x07c\\xc2\\x9b2J/perceptron.hpp</pre>");

  const Outcome missing = run_driver("--no-build --exe-dir " + quote(dir / "exe") +
                                         " --preface " + quote(dir / "nothing.txt"),
                                     dir);
  EXPECT_EQ(missing.status, 2);
  EXPECT_CONTAINS(missing.err, "cannot read the preface");
}
