// The attack corpus (attacks/, described in attacks/README.md), each submission graded by the
// real driver with the real checkers. For every attack: it earns no more than its honest part
// (nothing, or run_shapes' one point for read_test_data), the solutions graded right after it
// still earn full marks, the files the grader relies on are unchanged, and no process it
// started is left.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "sha256.h"
#include "test_support.h"

namespace fs = std::filesystem;

namespace {

using namespace ember_test;

struct Graded {
  int status = -1;
  double score = -1;
  double max_score = -1;
  std::string report;  // the text report, as written to report.txt
  std::string out;     // what the driver printed (stdout and stderr together)
  Json results;
  double seconds = 0;
};

// Grades `student_dir` (laid out like lessons/) on `questions` with the real driver. Its
// stdout and stderr go through a pipe to `cat`: a student process that kept them open would
// make this hang (the test's own time limit would then fail it).
Graded grade(const fs::path& student_dir, const std::string& questions, const TempDir& dir,
             const std::string& extra = "") {
  const auto start = std::chrono::steady_clock::now();
  // The driver's folders for the student's side go under dir/tmp, so that this test can tell
  // its own student processes from those of tests running beside it. The student user must be
  // able to pass through to them.
  fs::create_directories(dir.path() / "tmp");
  ::chmod(dir.path().c_str(), 0711);
  ::chmod((dir.path() / "tmp").c_str(), 0711);
  const std::string results = dir / "results.json", report = dir / "report.txt";
  fs::remove(results);
  fs::remove(report);
  const Outcome outcome = run_shell(
      "TMPDIR=" + quote(dir / "tmp") + " EMBER_MUTE=1 " + quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " + quote(GRADERS_DIR) +
          " --toolchain " + quote(RUNNER_TOOLCHAIN) + " --student-dir " + quote(student_dir.string()) +
          " --questions " + questions + " --no-html --color never --results-json " + quote(results) +
          " --report " + quote(report) + " " + extra + " 2>&1 | cat",
      dir);
  Graded graded;
  graded.status = outcome.status;
  graded.out = outcome.out;
  graded.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  graded.report = read_text(report);
  const std::string json = read_text(results);
  if (!json.empty()) {
    graded.results = parse_json(json);
    graded.score = graded.results.at("score").number;
    graded.max_score = graded.results.at("max_score").number;
  }
  return graded;
}

// The files the grader trusts: the checkers, the runner libraries and toolchain, the
// datasets, the solutions and the grader's sources. Path -> SHA-256.
std::map<std::string, std::string> protected_files() {
  std::map<std::string, std::string> sums;
  const auto add_tree = [&](const fs::path& root) {
    std::error_code error;
    for (fs::recursive_directory_iterator it(root, error), end; !error && it != end; it.increment(error)) {
      if (it->path().filename() == "runner_cache") {
        it.disable_recursion_pending();
        continue;
      }
      if (it->is_regular_file()) sums[it->path().string()] = ember::grading::sha256_file(it->path().string());
    }
  };
  add_tree(fs::path(REPO_ROOT) / "datasets");
  add_tree(fs::path(REPO_ROOT) / "solutions");
  add_tree(fs::path(REPO_ROOT) / "autograder" / "questions");
  add_tree(fs::path(REPO_ROOT) / "autograder" / "runners");
  for (const char* q : {"q0", "q1", "q2", "q3", "q4", "q5", "q6", "q7"}) {
    const fs::path checker = fs::path(GRADERS_DIR) / (std::string("grade_") + q);
    if (fs::exists(checker)) sums[checker.string()] = ember::grading::sha256_file(checker.string());
  }
  sums[RUNNER_TOOLCHAIN] = ember::grading::sha256_file(RUNNER_TOOLCHAIN);
  return sums;
}

// Processes still running from a student's side of this test's grading: their command line or
// program lives in the driver's student folders under `dir`.
std::vector<std::string> leftover_student_processes(const TempDir& dir) {
  const std::string marker = (dir.path() / "tmp" / "ember_student.").string();
  std::vector<std::string> found;
  std::error_code error;
  for (const auto& entry : fs::directory_iterator("/proc", error)) {
    const std::string pid = entry.path().filename().string();
    if (pid.find_first_not_of("0123456789") != std::string::npos) continue;
    std::string cmdline = read_text(entry.path() / "cmdline");
    std::error_code ignored;
    const std::string exe = fs::read_symlink(entry.path() / "exe", ignored).string();
    for (char& c : cmdline) c = c == '\0' ? ' ' : c;
    if (cmdline.find(marker) != std::string::npos || exe.find(marker) != std::string::npos) {
      // A zombie waiting for its parent is gone in all but name.
      const std::string stat = read_text(entry.path() / "stat");
      const size_t paren = stat.rfind(')');
      if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') continue;
      found.push_back(pid + ": " + cmdline);
    }
  }
  return found;
}

bool sandboxed(const Graded& graded) {
  return graded.report.find("Protection: sandbox") != std::string::npos ||
         graded.report.find(", as user ") != std::string::npos;
}

fs::path attack(const std::string& name) { return fs::path(ATTACKS_DIR) / name; }

// Grades the attack on `question`, then the solutions on the same question, and checks the
// four promises. Returns the attack's grading for attack-specific checks.
Graded check_attack(const fs::path& submission, const std::string& question, double honest_points,
                    double full_marks, const std::string& extra = "") {
  TempDir dir;
  const std::map<std::string, std::string> before = protected_files();
  const Graded attacked = grade(submission, question, dir, extra);
  EXPECT_EQ(attacked.status, 0) << attacked.out;
  EXPECT_EQ(attacked.max_score, full_marks) << attacked.report;
  EXPECT_LE(attacked.score, honest_points) << "the attack earned points it should not have:\n" << attacked.report;
  // Give an escaped process a moment to do its worst before looking.
  ::usleep(300 * 1000);
  EXPECT_EQ(leftover_student_processes(dir), std::vector<std::string>{});

  const Graded honest = grade(SOLUTIONS_DIR, question, dir);
  EXPECT_EQ(honest.score, full_marks) << "the solutions graded after the attack:\n" << honest.report;
  EXPECT_EQ(protected_files(), before) << "the attack changed a file the grader relies on";
  EXPECT_EQ(leftover_student_processes(dir), std::vector<std::string>{});
  return attacked;
}

}  // namespace

TEST(Attacks, ForgedResultsFromAnAtexitHandlerCountForNothing) {
  const Graded g = check_attack(attack("forge_results_atexit"), "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "q1: PerceptronModel::PerceptronModel is not implemented");
}

TEST(Attacks, PrintedPassLinesAndAnEarlyExitCountForNothing) {
  const Graded g = check_attack(attack("forge_output_and_exit"), "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "the runner");
}

TEST(Attacks, RedefinedMacrosReachNoCheck) {
  const Graded g = check_attack(attack("redefine_macros"), "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "is not implemented");
}

TEST(Attacks, ShadowHeadersBesideTheLessonAreIgnored) {
  const Graded g = check_attack(attack("shadow_headers"), "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "Note: ignored q1_perceptron/grading.h: only perceptron.hpp is graded");
  EXPECT_NOT_CONTAINS(g.report, "a forged header was compiled");
}

TEST(Attacks, AnEscapedProcessIsStoppedBeforeTheReportsAreWritten) {
  const Graded g = check_attack(attack("escape_and_rewrite"), "q1", 0, 6);
  EXPECT_LT(g.seconds, 60) << "the driver waited for the escaped process";
  EXPECT_NOT_CONTAINS(g.out, "still here");
}

TEST(Attacks, TheTestDataIsOutOfReach) {
  const Graded g = check_attack(attack("read_test_data"), "q3", 1, 6);
  if (!sandboxed(g)) GTEST_SKIP() << "no sandbox here, and the datasets are readable to the grader's own user";
  EXPECT_CONTAINS(g.report, "*** FAIL: q3.test_accuracy (0/4)");
}

TEST(Attacks, AModelThatReadsTheAnswerAheadScoresNothingForIt) {
  const Graded g = check_attack(attack("read_ahead"), "q7", 1, 11);
  EXPECT_CONTAINS(g.report, "*** FAIL: q7.validation_loss (0/4)");
  EXPECT_CONTAINS(g.report, "validation loss 4.1744");
}

TEST(Attacks, ANaNWeightDecayIsWrong) {
  const Graded g = check_attack(attack("nan_weight_decay"), "q7", 0, 11);
  EXPECT_CONTAINS(g.report, "*** FAIL: q7.weight_decay_on_matrices_only (0/1)");
  EXPECT_CONTAINS(g.report, "decay nan, should be 0.125");
}

TEST(Attacks, ShapesTheRunnerMakesUpAreRefused) {
  const Graded g = check_attack(attack("runner_chosen_shapes"), "q6", 1, 6);
  EXPECT_CONTAINS(g.report, "*** FAIL: q6.multi_head_attention_matches_reference (0/2)");
  EXPECT_CONTAINS(g.report, "out_proj.weight has shape (");
}

TEST(Attacks, CausalWeightsThatComeFromNoScoresAreWrong) {
  const Graded g = check_attack(attack("made_up_weights"), "q6", 1, 6);
  EXPECT_CONTAINS(g.report, "*** FAIL: q6.attention_weights_causal_and_normalised (0/1)");
  EXPECT_CONTAINS(g.report, "but they are not the softmax of the masked scores");
}

TEST(Attacks, AConstantConvolveHasTheWrongGradient) {
  const Graded g = check_attack(attack("constant_convolve"), "q5", 0, 4);
  EXPECT_CONTAINS(g.report, "*** FAIL: q5.convolve_weight_gradient (0/1)");
  EXPECT_CONTAINS(g.report, "does not depend on its input");
}

TEST(Attacks, AGPTWithoutWeightsEarnsNothing) {
  const Graded g = check_attack(attack("empty_gpt"), "q7", 0, 11);
  EXPECT_CONTAINS(g.report, "GPT registers no weight matrices");
}

TEST(Attacks, AModelThatKnowsTheValidationTextIsRefused) {
  // The attack carries the validation text, tiny Shakespeare's last 10%, written in here.
  const std::string text = read_text(fs::path(REPO_ROOT) / "datasets" / "tinyshakespeare" / "input.txt");
  ASSERT_EQ(text.size(), 1115394u);
  const std::string validation = text.substr(text.size() * 9 / 10);
  std::string source = read_text(attack("knows_the_text") / "q7_gpt" / "gpt.hpp");
  const size_t marker = source.find("@VALIDATION_TEXT@");
  ASSERT_NE(marker, std::string::npos);
  source.replace(marker, std::string("@VALIDATION_TEXT@").size(), validation);
  TempDir dir;
  fs::create_directories(dir.path() / "submission" / "q7_gpt");
  {
    std::ofstream out(dir.path() / "submission" / "q7_gpt" / "gpt.hpp", std::ios::binary);
    out << source;
  }
  const Graded g = check_attack(dir.path() / "submission", "q7", 0, 11);
  EXPECT_CONTAINS(g.report, "*** FAIL: q7.validation_loss (0/4)");
  EXPECT_CONTAINS(g.report, "less than a model of this size can learn in this time");
}

TEST(Attacks, TheStudentCodeCanWriteNothingOfOurs) {
  const Graded g = check_attack(attack("write_anywhere"), "q1", 0, 6);
  if (!sandboxed(g)) GTEST_SKIP() << "no sandbox and no user of its own: student code writes what the grader may";
  EXPECT_CONTAINS(g.report, "files this code could write: none");
}

TEST(Attacks, ACompilerThatEatsMemoryIsStopped) {
  const Graded g = check_attack(attack("include_dev_zero"), "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "the code for q1 does not compile");
  EXPECT_LT(g.seconds, 300);
}

TEST(Attacks, ACompileThatRunsForMinutesIsStoppedAtItsBudget) {
  const Graded g = check_attack(attack("slow_compile"), "q1", 0, 6, "--compile-timeout 10");
  EXPECT_CONTAINS(g.report, "compiling the code for q1 took longer than 10 s");
  EXPECT_LT(g.seconds, 60) << "the compile was not stopped at its budget";
}

TEST(Attacks, TerminalEscapesAreShownNotObeyed) {
  const Graded g = check_attack(attack("terminal_escapes"), "q1", 0, 6);
  EXPECT_EQ(g.out.find('\x1b'), std::string::npos) << "an escape sequence reached the terminal";
  EXPECT_EQ(g.report.find('\x1b'), std::string::npos);
  EXPECT_CONTAINS(g.report, "\\x1b[2J");
}

TEST(Attacks, GarbageInTheChannelCountsForNothing) {
  const Graded g = check_attack(attack("channel_garbage"), "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "not an answer");
}

TEST(Attacks, ForkingAndFillingTheDiskCostOnlyTheQuestion) {
  check_attack(attack("fork_and_fill"), "q1", 0, 6);
}

TEST(Attacks, AHangBeforeMainCostsOnlyTheQuestionsTime) {
  // q1's budget of 60 s, scaled down to 3 s.
  const Graded g = check_attack(attack("hang_before_main"), "q1", 0, 6, "--timeout-scale 0.05");
  EXPECT_CONTAINS(g.report, "time budget");
  EXPECT_LT(g.seconds, 30);
}

TEST(Attacks, ASymlinkIsNotFollowed) {
  TempDir dir;
  fs::create_directories(dir.path() / "submission" / "q1_perceptron");
  fs::create_symlink("/etc/passwd", dir.path() / "submission" / "q1_perceptron" / "perceptron.hpp");
  const Graded g = check_attack(dir.path() / "submission", "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "q1_perceptron/perceptron.hpp is a symbolic link; only regular files are graded");
  EXPECT_NOT_CONTAINS(g.report, "root:");
}

TEST(Attacks, ASymlinkedLessonFolderIsNotFollowed) {
  // A lesson folder that leads to someone else's work (here, the solutions).
  TempDir dir;
  fs::create_directories(dir.path() / "submission");
  fs::create_directory_symlink(fs::path(SOLUTIONS_DIR) / "q1_perceptron", dir.path() / "submission" / "q1_perceptron");
  const Graded g = check_attack(dir.path() / "submission", "q1", 0, 6);
  EXPECT_CONTAINS(g.report, "the lesson folder q1_perceptron is a symbolic link");
}

TEST(Attacks, WithoutBubblewrapTheVerdictStillBelongsToTheChecker) {
  // The fallback level (EMBER_SANDBOX=limits): forged output, early exits and escapees still
  // earn nothing and leave nothing behind.
  for (const char* name : {"forge_results_atexit", "forge_output_and_exit", "escape_and_rewrite", "channel_garbage"}) {
    SCOPED_TRACE(name);
    TempDir dir;
    fs::create_directories(dir.path() / "tmp");
    ::chmod(dir.path().c_str(), 0711);
    ::chmod((dir.path() / "tmp").c_str(), 0711);
    const Outcome limited = run_shell(
        "TMPDIR=" + quote(dir / "tmp") + " EMBER_SANDBOX=limits EMBER_MUTE=1 " + quote(EMBER_GRADE_EXE) + " --no-build --exe-dir " + quote(GRADERS_DIR) +
            " --toolchain " + quote(RUNNER_TOOLCHAIN) + " --student-dir " + quote(attack(name).string()) +
            " --questions q1 --no-html --color never --results-json " + quote(dir / "limited.json") + " 2>&1 | cat",
        dir);
    EXPECT_EQ(limited.status, 0) << limited.out;
    EXPECT_CONTAINS(limited.out, "Protection: limits only");
    // As root the student's code runs as another user, who may read what everyone may: the
    // driver warns on stderr (in limited.out here), and the report does not carry it.
    bool open = true;  // every folder from / to solutions/ lets others through
    for (fs::path at = SOLUTIONS_DIR; open; at = at.parent_path()) {
      struct stat info {};
      open = ::stat(at.c_str(), &info) == 0 && (info.st_mode & S_IXOTH) != 0;
      if (at == at.root_path()) break;
    }
    if (::geteuid() == 0 && open) {
      EXPECT_CONTAINS(limited.out, "solutions (open to every user)");
    }
    EXPECT_NOT_CONTAINS(read_text(dir / "limited.json"), "open to every user");
    EXPECT_CONTAINS(limited.out, "Total: 0/6");
    const Json results = parse_json(read_text(dir / "limited.json"));
    EXPECT_EQ(results.at("score").number, 0);
    ::usleep(300 * 1000);
    EXPECT_EQ(leftover_student_processes(dir), std::vector<std::string>{});
  }
}
