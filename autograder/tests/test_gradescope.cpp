// Tests of the Gradescope autograder (autograder/gradescope/): the zip that `make gradescope`
// makes, and run_autograder run against a fake /autograder tree (EMBER_AUTOGRADER_ROOT).
//
// GradesASubmission does what Gradescope does: unpacks the zip into ROOT/source, grades a
// submission, and reads ROOT/results/results.json. Its fake tree lives in this build tree
// (GRADESCOPE_WORK_DIR) and is kept between runs: the zip keeps the files' times, so the
// second tree's engine is compiled once, and later runs only compile the seven questions.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <string>

#include "test_support.h"

namespace fs = std::filesystem;
using namespace ember_test;

namespace {

const std::string kRepo = REPO_ROOT;
const std::string kScripts = kRepo + "/autograder/gradescope";

void write_file(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream out(path, std::ios::binary);
  out << text;
}

void copy_into(const fs::path& from, const fs::path& to) {
  fs::create_directories(to.parent_path());
  fs::copy_file(from, to, fs::copy_options::overwrite_existing);
}

std::string env_for(const fs::path& root, const std::string& source = "") {
  std::string env = "EMBER_AUTOGRADER_ROOT=" + quote(root.string()) + " CMAKE=" +
                    quote(TEST_CMAKE_COMMAND) + " EMBER_GRADESCOPE_JOBS=2";
  if (!source.empty()) env += " EMBER_GRADESCOPE_SOURCE=" + quote(source);
  return env;
}

// The first line of text that starts with "  " + start.
std::string line_of(const std::string& text, const std::string& start) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("  " + start, 0) == 0) return line;
  }
  return "(no line starts with '" + start + "')";
}

const Json* find_test(const Json& results, const std::string& name) {
  for (const Json& test : results.at("tests").array) {
    if (test.at("name").string == name) return &test;
  }
  return nullptr;
}

}  // namespace

TEST(Gradescope, ZipHasTheSourceButNotTheSolutions) {
  TempDir dir;
  const std::string zip = dir / "ember-autograder.zip";
  const Outcome made =
      run_shell("env -u EMBER_GRADING_SEED bash " + quote(kScripts + "/package.sh") + " " + quote(zip), dir);
  ASSERT_EQ(made.status, 0) << made.out << made.err;
  EXPECT_CONTAINS(made.out, "Wrote " + zip);

  const Outcome listed =
      run_shell(quote(TEST_CMAKE_COMMAND) + " -E tar tf " + quote(zip), dir);
  ASSERT_EQ(listed.status, 0) << listed.err;
  std::set<std::string> entries;
  std::istringstream lines(listed.out);
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty() && line.back() == '/') line.pop_back();
    entries.insert(line);
  }
  // Gradescope wants both scripts at the top of the zip.
  for (const char* needed :
       {"setup.sh", "run_autograder", "CMakeLists.txt", "README.md", "cmake/ReadmeExample.cmake",
        "engine/CMakeLists.txt", "engine/include/ember/ember.h", "course/CMakeLists.txt",
        "autograder/CMakeLists.txt", "autograder/driver/main.cpp", "autograder/harness/grading.h",
        "datasets/mnist/train-images-idx3-ubyte.gz", "datasets/lang_id/train.tsv",
        "lessons/q0_shapes/tensor_shapes.hpp"}) {
    EXPECT_EQ(entries.count(needed), 1u) << needed << " is not in the zip";
  }
  for (const std::string& entry : entries) {
    EXPECT_EQ(entry.find("solutions"), std::string::npos) << "the zip ships " << entry;
    EXPECT_NE(entry.rfind("build/", 0), 0u) << "the zip ships " << entry;
    EXPECT_NE(entry.rfind("autograder/tests", 0), 0u) << "the zip ships " << entry;
  }
  // Made without SEED=, the zip still has a grading seed of its own: a random one.
  EXPECT_EQ(entries.count("grading_seed"), 1u) << "a zip made without SEED= has no grading_seed";
  EXPECT_CONTAINS(made.out, "drew a random grading seed");
  // Every question's grader source is there.
  for (const fs::directory_entry& lesson : fs::directory_iterator(kRepo + "/lessons")) {
    const std::string name = lesson.path().filename().string();
    if (fs::exists(kRepo + "/autograder/questions/" + name + ".cpp")) {
      EXPECT_EQ(entries.count("autograder/questions/" + name + ".cpp"), 1u) << name;
    }
  }
  EXPECT_NE(run_shell("bash " + quote(kScripts + "/package.sh"), dir).status, 0);
}

// Step 1 only (--collect-only), on the repository's own lessons/: every way a submission
// can be laid out.
TEST(Gradescope, CollectsEveryLayout) {
  TempDir dir;
  const fs::path root = dir.path() / "autograder";
  const fs::path submission = root / "submission";
  const fs::path student = root / "student";
  auto run_collect = [&]() {
    return run_shell(env_for(root, kRepo) + " bash " + quote(kScripts + "/run_autograder") +
                         " --collect-only",
                     dir);
  };
  auto student_file = [&](const std::string& relative) { return read_text(student / relative); };
  auto stub = [&](const std::string& relative) { return read_text(kRepo + "/lessons/" + relative); };

  // a) the contents of lessons/, with a helper header beside a lesson file.
  write_file(submission / "q0_shapes" / "tensor_shapes.hpp", "// a: q0\n");
  write_file(submission / "q3_digits" / "digit_classification.hpp", "// a: q3\n");
  write_file(submission / "q3_digits" / "my_helpers.hpp", "// a: helper\n");
  Outcome outcome = run_collect();
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  EXPECT_EQ(student_file("q0_shapes/tensor_shapes.hpp"), "// a: q0\n");
  EXPECT_EQ(student_file("q3_digits/digit_classification.hpp"), "// a: q3\n");
  EXPECT_EQ(student_file("q3_digits/my_helpers.hpp"), "// a: helper\n");
  EXPECT_EQ(student_file("q1_perceptron/perceptron.hpp"), stub("q1_perceptron/perceptron.hpp"));
  EXPECT_CONTAINS(outcome.out, "Files graded");
  EXPECT_EQ(line_of(outcome.out, "q0_shapes/tensor_shapes.hpp"),
            "  q0_shapes/tensor_shapes.hpp        <- q0_shapes/tensor_shapes.hpp");
  EXPECT_EQ(line_of(outcome.out, "q1_perceptron/perceptron.hpp"),
            "  q1_perceptron/perceptron.hpp       <- (not in the submission: the unchanged stub)");

  // b) a top-level lessons/ folder; a deeper copy of the same lesson loses.
  fs::remove_all(submission);
  write_file(submission / "lessons" / "q4_language_id" / "language_id.hpp", "// b: q4\n");
  write_file(submission / "old" / "backup" / "q4_language_id" / "language_id.hpp", "// old\n");
  write_file(submission / "lessons" / "README.md", "notes\n");
  outcome = run_collect();
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  EXPECT_EQ(student_file("q4_language_id/language_id.hpp"), "// b: q4\n");
  EXPECT_EQ(student_file("q0_shapes/tensor_shapes.hpp"), stub("q0_shapes/tensor_shapes.hpp"));
  EXPECT_FALSE(fs::exists(student / "q3_digits" / "my_helpers.hpp"));  // from the last run
  EXPECT_CONTAINS(outcome.out, "<- lessons/q4_language_id/language_id.hpp\n");

  // c) loose files matched by name, anywhere; hidden files and macOS debris ignored; two
  // files of the same name at the same depth: the first in name order, with a note.
  fs::remove_all(submission);
  write_file(submission / "perceptron.hpp", "// c: q1\n");
  write_file(submission / "__MACOSX" / "regression.hpp", "// debris\n");
  write_file(submission / ".hidden" / "regression.hpp", "// hidden\n");
  write_file(submission / "src" / "attention.hpp", "// c: q6\n");
  write_file(submission / "a" / "convolution.hpp", "// c: q5 a\n");
  write_file(submission / "b" / "convolution.hpp", "// c: q5 b\n");
  outcome = run_collect();
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  EXPECT_EQ(student_file("q1_perceptron/perceptron.hpp"), "// c: q1\n");
  EXPECT_EQ(student_file("q6_attention/attention.hpp"), "// c: q6\n");
  EXPECT_EQ(student_file("q5_convolution/convolution.hpp"), "// c: q5 a\n");
  EXPECT_EQ(student_file("q2_regression/regression.hpp"), stub("q2_regression/regression.hpp"));
  EXPECT_CONTAINS(outcome.out, "<- perceptron.hpp\n");
  EXPECT_CONTAINS(outcome.out, "<- src/attention.hpp\n");
  EXPECT_CONTAINS(outcome.out,
                  "Note: the submission has 2 files named convolution.hpp; graded "
                  "a/convolution.hpp.");

  // Every lesson of lessons/ is in the student folder, whatever was submitted.
  for (const fs::directory_entry& lesson : fs::directory_iterator(kRepo + "/lessons")) {
    for (const fs::directory_entry& file : fs::directory_iterator(lesson.path())) {
      EXPECT_TRUE(fs::exists(student / lesson.path().filename() / file.path().filename()))
          << file.path();
    }
  }
}

// The collect step copies as root, so it must copy only the submission's own regular files:
// a folder whose name holds a newline and a tab once made find's "depth<TAB>path" lines name
// any file of the machine (the instructor's grading_seed, another student's work), and a link
// leads anywhere.
TEST(Gradescope, CollectCopiesNothingFromOutsideTheSubmission) {
  TempDir dir;
  const fs::path root = dir.path() / "autograder";
  const fs::path submission = root / "submission";
  const fs::path student = root / "student";
  const fs::path secret = dir.path() / "secret";
  write_file(secret / "perceptron.hpp", "// the secret\n");
  write_file(secret / "regression.hpp", "// the secret\n");
  write_file(secret / "q0_shapes" / "tensor_shapes.hpp", "// the secret\n");
  // find printed "<depth>\t<path>\n"; in this folder, <path> "x\n0\t<secret>/perceptron.hpp"
  // made the line "0\t<secret>/perceptron.hpp" (and the same for the folder q0_shapes).
  const fs::path forged = submission / ("x\n0\t" + secret.string());
  write_file(forged / "perceptron.hpp", "// forged\n");
  write_file(forged / "q0_shapes" / "keep.txt", "\n");
  fs::create_directories(submission / "links");
  fs::create_symlink(secret / "regression.hpp", submission / "links" / "regression.hpp");
  // A link inside a real lesson folder: the folder is graded, the link is not.
  write_file(submission / "q6_attention" / "notes.txt", "\n");
  fs::create_symlink(secret / "regression.hpp", submission / "q6_attention" / "attention.hpp");
  fs::create_directory_symlink(secret / "q0_shapes", submission / "q0_shapes");
  const Outcome outcome = run_shell(env_for(root, kRepo) + " bash " +
                                        quote(kScripts + "/run_autograder") + " --collect-only",
                                    dir);
  ASSERT_EQ(outcome.status, 0) << outcome.out << outcome.err;
  for (const char* relative : {"q1_perceptron/perceptron.hpp", "q2_regression/regression.hpp",
                               "q0_shapes/tensor_shapes.hpp", "q6_attention/attention.hpp"}) {
    EXPECT_EQ(read_text(student / relative), read_text(kRepo + "/lessons/" + relative)) << relative;
  }
  EXPECT_EQ(outcome.out.find("secret"), std::string::npos) << outcome.out;
  EXPECT_CONTAINS(outcome.out, "q6_attention/attention.hpp         <- (not in the submission: the unchanged stub)");
}

TEST(Gradescope, ProblemsBeforeGradingStillWriteResults) {
  TempDir dir;
  const fs::path root = dir.path() / "autograder";
  fs::create_directories(root / "submission");
  const Outcome outcome = run_shell(env_for(root, (dir.path() / "no-source").string()) + " bash " +
                                        quote(kScripts + "/run_autograder"),
                                    dir);
  EXPECT_EQ(outcome.status, 1);
  const Json results = parse_json(read_text(root / "results" / "results.json"));
  EXPECT_EQ(results.at("score").number, 0);
  EXPECT_CONTAINS(results.at("output").string,
                  "The autograder could not grade this submission: the course source is missing");
  EXPECT_TRUE(results.at("tests").array.empty());

  EXPECT_EQ(run_shell("bash " + quote(kScripts + "/run_autograder") + " --frobnicate", dir).status,
            2);
}

// The whole thing, as on Gradescope: zip, unpack, grade, read results.json.
TEST(Gradescope, GradesASubmission) {
  TempDir dir;
  const fs::path work = GRADESCOPE_WORK_DIR;
  const fs::path root = work / "autograder";
  const std::string zip = (work / "ember-autograder.zip").string();
  fs::create_directories(work);
  // A fixed seed, so that this test grades the same inputs every run (without one the zip gets
  // a random seed).
  const Outcome made =
      run_shell("EMBER_GRADING_SEED=0 bash " + quote(kScripts + "/package.sh") + " " + quote(zip), dir);
  ASSERT_EQ(made.status, 0) << made.out << made.err;

  // Gradescope's layout: the zip in source/, run_autograder copied to the top. build/ is
  // kept from the last run.
  for (const char* part : {"source", "submission", "results", "student"}) {
    fs::remove_all(root / part);
  }
  fs::create_directories(root / "source");
  const Outcome unpacked = run_shell("cd " + quote((root / "source").string()) + " && " +
                                         quote(TEST_CMAKE_COMMAND) + " -E tar xf " + quote(zip),
                                     dir);
  ASSERT_EQ(unpacked.status, 0) << unpacked.err;
  copy_into(root / "source" / "run_autograder", root / "run_autograder");
  EXPECT_FALSE(fs::exists(root / "source" / "solutions"));

  // The submission: q0 solved, as a loose file; q1 with a compile error, in a lessons/
  // folder; nothing else (the stubs are graded).
  copy_into(kRepo + "/solutions/q0_shapes/tensor_shapes.hpp",
            root / "submission" / "tensor_shapes.hpp");
  write_file(root / "submission" / "lessons" / "q1_perceptron" / "perceptron.hpp",
             read_text(kRepo + "/lessons/q1_perceptron/perceptron.hpp") +
                 "\nint broken() { return undeclared_name; }\n");

  const Outcome graded =
      run_shell(env_for(root) + " bash " + quote((root / "run_autograder").string()), dir);
  ASSERT_EQ(graded.status, 0) << graded.out << graded.err;

  const Json results = parse_json(read_text(root / "results" / "results.json"));
  EXPECT_EQ(results.at("max_score").number, 50);
  double score = 0;
  double max_score = 0;
  std::set<std::string> questions;
  for (const Json& test : results.at("tests").array) {
    score += test.at("score").number;
    max_score += test.at("max_score").number;
    questions.insert(test.at("name").string.substr(0, 2));
  }
  EXPECT_EQ(results.at("score").number, score);
  EXPECT_EQ(max_score, 50);
  EXPECT_EQ(questions, (std::set<std::string>{"q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7"}));

  // q0 earns its 4 points; q1 does not compile; the stubs earn nothing.
  double q0 = 0;
  for (const Json& test : results.at("tests").array) {
    if (test.at("name").string.rfind("q0.", 0) == 0) {
      EXPECT_EQ(test.at("status").string, "passed") << test.at("name").string;
      q0 += test.at("score").number;
    }
  }
  EXPECT_EQ(q0, 4);
  // q1's code does not compile: every one of its checks fails with the compiler's errors.
  const Json* compile = find_test(results, "q1.one_parameter_w");
  ASSERT_NE(compile, nullptr) << results.at("output").string;
  EXPECT_EQ(compile->at("status").string, "failed");
  EXPECT_CONTAINS(compile->at("output").string, "the code for q1 does not compile");
  EXPECT_CONTAINS(compile->at("output").string, "undeclared_name");
  EXPECT_EQ(results.at("score").number, 4) << results.at("output").string;

  // The output starts with where each file came from, then the CS188-style report.
  const std::string& output = results.at("output").string;
  EXPECT_EQ(output.rfind("Files graded", 0), 0u) << output;
  EXPECT_CONTAINS(output, "Protection: ");
  EXPECT_CONTAINS(output, "<- tensor_shapes.hpp\n");
  EXPECT_CONTAINS(output, "<- lessons/q1_perceptron/perceptron.hpp\n");
  EXPECT_CONTAINS(output, "q2_regression/regression.hpp");
  EXPECT_CONTAINS(output, "(not in the submission: the unchanged stub)");
  EXPECT_CONTAINS(output, "### Question q0: 4/4 ###");
  EXPECT_CONTAINS(output, "Total: 4/50");
  EXPECT_NOT_CONTAINS(output, "HTML report");
}
