// Unit tests of the driver's report helpers: rendering, JSON, compiler-error extraction.
#include <gtest/gtest.h>

#include <csignal>

#include "grader.h"
#include "process.h"
#include "report.h"

using namespace ember::grade;

namespace {

QuestionResult sample_question() {
  QuestionResult q;
  q.id = "q3";
  q.max = 6;
  q.earned = 2;
  q.seconds = 12.44;
  q.checks.push_back({"q3.gradients_reach_parameters", 2, 2, true,
                      "loss is a scalar; every parameter has a gradient"});
  q.checks.push_back({"q3.accuracy_on_test_half", 0, 4, false,
                      "test accuracy 0.9512 is below the threshold 0.97"});
  return q;
}

}  // namespace

TEST(Report, QuestionLooksLikeCs188) {
  EXPECT_EQ(render_question(sample_question(), {false, false}),
            "Question q3\n"
            "===========\n"
            "*** PASS: q3.gradients_reach_parameters (2/2)\n"
            "***     loss is a scalar; every parameter has a gradient\n"
            "*** FAIL: q3.accuracy_on_test_half (0/4)\n"
            "***     test accuracy 0.9512 is below the threshold 0.97\n"
            "\n"
            "### Question q3: 2/6 ###\n"
            "\n");
}

// A note can quote a student's file name ("ignored q1_perceptron/<name>"): its control
// characters are shown as \xNN, not sent to the terminal (a name may clear the screen).
TEST(Report, NotesShowControlCharacters) {
  QuestionResult q = sample_question();
  q.notes.push_back("ignored q1_perceptron/\033[2J\033]0;pwned\007\xc2\x9b" "31m.hpp");
  const std::string text = render_question(q, {false, false});
  EXPECT_NE(text.find("*** Note: ignored q1_perceptron/\\x1b[2J\\x1b]0;pwned\\x07\\xc2\\x9b31m.hpp\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find('\033'), std::string::npos) << text;
}

// A right-to-left override would show "q1_perceptron/gnp.exe" as "q1_perceptron/exe.png"; a
// line separator breaks the line in some viewers. Their bytes are shown instead; other
// non-ASCII text (José) is kept as it is.
TEST(Report, NotesShowInvisibleUnicodeControls) {
  QuestionResult q = sample_question();
  q.notes.push_back("José: q1_perceptron/\u202egnp.exe\u2028\u2066x\u2069");
  const std::string text = render_question(q, {false, false});
  EXPECT_NE(text.find("*** Note: José: q1_perceptron/\\xe2\\x80\\xaegnp.exe\\xe2\\x80\\xa8\\xe2\\x81\\xa6x"
                      "\\xe2\\x81\\xa9\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("\u202e"), std::string::npos) << text;
}

TEST(Report, TimingsAndColour) {
  const std::string text = render_question(sample_question(), {true, true});
  EXPECT_NE(text.find("*** \033[32mPASS\033[0m: q3.gradients"), std::string::npos) << text;
  EXPECT_NE(text.find("*** \033[31mFAIL\033[0m: q3.accuracy"), std::string::npos) << text;
  EXPECT_NE(text.find("### Question q3: 2/6 ###\n(q3: 12.4 s)\n"), std::string::npos) << text;
}

TEST(Report, MultiLineMessagesKeepThePrefix) {
  QuestionResult q = sample_question();
  q.checks = {{"q3.x", 0, 1, false, "first\n\nthird"}};
  const std::string text = render_question(q, {false, false});
  EXPECT_NE(text.find("***     first\n***\n***     third\n"), std::string::npos) << text;
}

TEST(Report, Summary) {
  QuestionResult q0;
  q0.id = "q0";
  q0.max = 4;
  q0.earned = 4;
  EXPECT_EQ(render_summary({q0, sample_question()}),
            "Provisional grades\n"
            "==================\n"
            "Question q0: 4/4\n"
            "Question q3: 2/6\n"
            "------------------\n"
            "Total: 6/10\n");
}

TEST(Report, SummarySaysWhichDevice) {
  QuestionResult q0;
  q0.id = "q0";
  q0.max = 4;
  q0.earned = 4;
  q0.device = "cpu";
  EXPECT_EQ(render_summary({q0}, summarize_device("cpu", {q0})),
            "Provisional grades\n"
            "==================\n"
            "Question q0: 4/4\n"
            "------------------\n"
            "Total: 4/4\n"
            "Device: cpu\n");
  // What the questions reported wins over what was asked for; with no report, the request.
  q0.device = "cuda:1";
  EXPECT_EQ(summarize_device("cuda:1", {q0}).line(), "Device: cuda:1");
  QuestionResult unbuilt;
  unbuilt.id = "q1";
  EXPECT_EQ(summarize_device("cpu", {unbuilt}).line(), "Device: cpu");
  EXPECT_EQ(summarize_device("cuda:0", {unbuilt}).line(),
            "Device: cuda:0 was asked for, but no question program ran to use it");
  EXPECT_EQ(summarize_device("cuda:0", {unbuilt, q0}).line(), "Device: cuda:1");
  // A device that could not be used: the first problem reported.
  QuestionResult q2 = unbuilt;
  q2.id = "q2";
  q2.device = "cuda:0";
  q2.device_problem = "EMBER_DEVICE=cuda: no CUDA device is available";
  const DeviceSummary failed = summarize_device("cuda:0", {unbuilt, q2});
  EXPECT_EQ(failed.name, "cuda:0");
  EXPECT_EQ(failed.line(), "Device: cuda:0 could not be used: EMBER_DEVICE=cuda: no CUDA device is available");
  const std::string json = render_results_json({q2}, "out", failed);
  EXPECT_NE(json.find("\"extra_data\": {\"device\": \"cuda:0\", \"device_problem\": \"EMBER_DEVICE=cuda: "
                      "no CUDA device is available\"},"),
            std::string::npos)
      << json;
  EXPECT_EQ(render_results_json({q2}, "out").find("extra_data"), std::string::npos);
}

TEST(Report, ResultsJson) {
  const std::string json = render_results_json({sample_question()}, "all \"the\" text\n");
  EXPECT_NE(json.find("\"score\": 2,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"max_score\": 6,"), std::string::npos) << json;
  EXPECT_NE(json.find("\"output\": \"all \\\"the\\\" text\\n\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"name\": \"q3.accuracy_on_test_half\""), std::string::npos) << json;
  EXPECT_NE(json.find("\"status\": \"failed\""), std::string::npos) << json;
  EXPECT_EQ(render_results_json({}, ""),
            "{\n  \"score\": 0,\n  \"max_score\": 0,\n  \"output\": \"\",\n  \"tests\": []\n}\n");
}

TEST(Report, JsonQuoteEscapesAndRepairsUtf8) {
  EXPECT_EQ(json_quote("a\"b\\c\n\t\x01"), "\"a\\\"b\\\\c\\n\\t\\u0001\"");
  EXPECT_EQ(json_quote("caf\xC3\xA9"), "\"caf\xC3\xA9\"");              // valid UTF-8 kept
  EXPECT_EQ(json_quote("bad\xFF"), "\"bad\xEF\xBF\xBD\"");               // invalid byte replaced
  EXPECT_EQ(json_quote("cut\xE2\x80"), "\"cut\xEF\xBF\xBD\xEF\xBF\xBD\"");  // truncated sequence
  EXPECT_EQ(sanitize_utf8("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");      // overlong
  EXPECT_EQ(sanitize_utf8("\xED\xA0\x80"), "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD");  // surrogate
}

TEST(Report, StripsAnsiEscapes) {
  EXPECT_EQ(strip_ansi("\033[01;31m\033[Kerror:\033[m\033[K x"), "error: x");
}

TEST(CompilerErrors, StartAtTheFirstErrorWithItsContext) {
  const std::string log =
      "[ 10%] Building CXX object engine/CMakeFiles/ember.dir/src/tensor.cpp.o\n"
      "[ 50%] Building CXX object autograder/CMakeFiles/grade_q4.dir/questions/q4.cpp.o\n"
      "In file included from /src/autograder/questions/q4_language_id.cpp:3:\n"
      "/src/lessons/q4_language_id/language_identification.hpp: In member function 'int "
      "M::run()':\n"
      "/src/lessons/q4_language_id/language_identification.hpp:31:12: error: 'w' was not "
      "declared in this scope\n"
      "   31 |     return w;\n"
      "      |            ^\n"
      "make[2]: *** [autograder/CMakeFiles/grade_q4.dir/build.make:76: q4.cpp.o] Error 1\n"
      "make[1]: *** [CMakeFiles/Makefile2:300: autograder/CMakeFiles/grade_q4.dir/all] Error 2\n"
      "gmake: *** [Makefile:91: all] Error 2\n";
  EXPECT_EQ(extract_compiler_errors(log),
            "In file included from /src/autograder/questions/q4_language_id.cpp:3:\n"
            "/src/lessons/q4_language_id/language_identification.hpp: In member function 'int "
            "M::run()':\n"
            "/src/lessons/q4_language_id/language_identification.hpp:31:12: error: 'w' was not "
            "declared in this scope\n"
            "   31 |     return w;\n"
            "      |            ^");
}

TEST(CompilerErrors, AtMostTheRequestedLines) {
  std::string log;
  for (int i = 0; i < 100; ++i) log += "f.cpp:" + std::to_string(i) + ": error: bad\n";
  const std::vector<std::string> lines = split_lines(extract_compiler_errors(log, 25));
  ASSERT_EQ(lines.size(), 26u);
  EXPECT_EQ(lines.front(), "f.cpp:0: error: bad");
  EXPECT_EQ(lines.back(), "...");
}

TEST(CompilerErrors, NinjaCommandLinesAreDropped) {
  const std::string log =
      "[1/2] Building CXX object x.o\n"
      "FAILED: autograder/CMakeFiles/grade_q1.dir/q.cpp.o\n"
      "/usr/bin/c++ -I/x -O2 -c /x/q.cpp -o q.cpp.o\n"
      "/x/q.cpp:2:14: error: 'missing' was not declared in this scope\n"
      "ninja: build stopped: subcommand failed.\n";
  EXPECT_EQ(extract_compiler_errors(log),
            "/x/q.cpp:2:14: error: 'missing' was not declared in this scope");
}

TEST(CompilerErrors, WithoutAnErrorLineShowTheEnd) {
  std::string log;
  for (int i = 0; i < 40; ++i) log += "line " + std::to_string(i) + "\n";
  const std::vector<std::string> lines = split_lines(extract_compiler_errors(log, 25));
  ASSERT_EQ(lines.size(), 25u);
  EXPECT_EQ(lines.front(), "line 15");
  EXPECT_EQ(lines.back(), "line 39");
  EXPECT_EQ(extract_compiler_errors(""), "");
}

TEST(OutputExcerpt, PrefersTheSanitizerReport) {
  std::string log;
  for (int i = 0; i < 30; ++i) log += "noise " + std::to_string(i) + "\n";
  log += "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x1\n#0 frame\n";
  EXPECT_EQ(output_excerpt(log),
            "==1==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x1\n#0 frame");
  EXPECT_EQ(output_excerpt("a\nb\nc\n\n", 2), "b\nc");
}

TEST(OutputExcerpt, OnlyTheRunningCheckWithoutGoogleTestChatter) {
  const std::string log =
      "[==========] Running 2 tests from 1 test suite.\n"
      "[ RUN      ] q2.first\n"
      "output of the first check\n"
      "[       OK ] q2.first (0 ms)\n"
      "[ RUN      ] q2.second\n"
      "epoch 1\n"
      "[   NOTE   ] loss 0.5\n"
      "epoch 2\n";
  EXPECT_EQ(output_excerpt(log, 15, "[ RUN      ] q2.second"), "epoch 1\nepoch 2");
  EXPECT_EQ(output_excerpt(log, 15), "output of the first check\nepoch 1\nepoch 2");
  EXPECT_EQ(output_excerpt("[ RUN      ] q2.x\n", 15, "[ RUN      ] q2.x"), "");
}

TEST(Driver, BuildCommandPlaceholdersAreQuoted) {
  EXPECT_EQ(expand_build_command("make {target} -C {build_dir} # {question} {other}", "grade_q3",
                                 "q3", "/tmp/it's here"),
            "make 'grade_q3' -C '/tmp/it'\\''s here' # 'q3' {other}");
}

TEST(Driver, QuestionTable) {
  const auto& questions = all_questions();
  ASSERT_EQ(questions.size(), 8u);  // q0 to q7
  EXPECT_EQ(questions[7].id, "q7");
  EXPECT_EQ(questions[7].files, std::vector<std::string>{"gpt.hpp"});
  EXPECT_EQ(questions[3].id, "q3");
  EXPECT_EQ(questions[3].lesson, "q3_digits");
  EXPECT_EQ(questions[3].files, std::vector<std::string>{"digit_classification.hpp"});
  EXPECT_EQ(questions[3].timeout_seconds, 180);
  EXPECT_EQ(format_seconds(180), "180");
  EXPECT_EQ(format_seconds(1.8), "1.8");
}

TEST(Driver, SignalNames) {
  EXPECT_EQ(describe_signal(SIGSEGV), "SIGSEGV (segmentation fault)");
  EXPECT_EQ(describe_signal(SIGABRT), "SIGABRT (aborted)");
  EXPECT_EQ(describe_signal(77), "signal 77");
}
