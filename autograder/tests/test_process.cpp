// Unit tests of run_process: exit statuses, signals, time budgets, environment, logs.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "process.h"

using namespace ember::grade;
namespace fs = std::filesystem;

namespace {

class ProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern =
        std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/ember_process_test.XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(dir_, ignored);
  }

  ProcessOutcome shell(const std::string& script, double timeout = 10,
                       std::vector<std::pair<std::string, std::string>> env = {}) {
    ProcessSpec spec;
    spec.argv = {"/bin/sh", "-c", script};
    spec.env = std::move(env);
    spec.log_path = log_path();
    spec.timeout_seconds = timeout;
    return run_process(spec);
  }
  std::string log_path() const { return (dir_ / "log.txt").string(); }
  std::string log() const {
    std::ifstream in(log_path());
    std::ostringstream out;
    out << in.rdbuf();
    return out.str();
  }

  fs::path dir_;
};

}  // namespace

TEST_F(ProcessTest, ExitStatusAndCapturedOutput) {
  const ProcessOutcome outcome = shell("echo out; echo err >&2; read x; echo \"[$x]\"; exit 3");
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::Exited);
  EXPECT_EQ(outcome.exit_code, 3);
  EXPECT_EQ(log(), "out\nerr\n[]\n");  // stdin is /dev/null
}

TEST_F(ProcessTest, Signals) {
  const ProcessOutcome outcome = shell("kill -SEGV $$");
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::Signaled);
  EXPECT_EQ(outcome.signal, SIGSEGV);
}

TEST_F(ProcessTest, TimeBudgetKillsTheWholeGroup) {
  const std::string marker = (dir_ / "survivor").string();
  const ProcessOutcome outcome =
      shell("(sleep 1; touch '" + marker + "') & while :; do sleep 0.05; done", 0.3);
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::TimedOut);
  EXPECT_GE(outcome.seconds, 0.3);
  EXPECT_LT(outcome.seconds, 5.0);
  ::usleep(1300 * 1000);
  EXPECT_FALSE(fs::exists(marker)) << "a child of the timed-out program kept running";
}

TEST_F(ProcessTest, EnvironmentIsSetOrReplaced) {
  ::setenv("EMBER_PROCESS_TEST_KEEP", "kept", 1);
  ::setenv("EMBER_PROCESS_TEST_REPLACE", "old", 1);
  const ProcessOutcome outcome =
      shell("echo $EMBER_PROCESS_TEST_KEEP $EMBER_PROCESS_TEST_REPLACE $EMBER_PROCESS_TEST_NEW",
            10, {{"EMBER_PROCESS_TEST_REPLACE", "new"}, {"EMBER_PROCESS_TEST_NEW", "added"}});
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::Exited);
  EXPECT_EQ(log(), "kept new added\n");
}

TEST_F(ProcessTest, ProgramsThatCannotStart) {
  ProcessSpec spec;
  spec.argv = {"/no/such/program"};
  spec.log_path = log_path();
  ProcessOutcome outcome = run_process(spec);
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::FailedToStart);
  EXPECT_EQ(outcome.error, "cannot run /no/such/program: No such file or directory");

  spec.argv = {"ember-no-such-program-in-path"};
  outcome = run_process(spec);
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::FailedToStart);

  spec.argv = {"/bin/true"};
  spec.log_path = (dir_ / "no" / "dir" / "log.txt").string();
  outcome = run_process(spec);
  EXPECT_EQ(outcome.status, ProcessOutcome::Status::FailedToStart);
  EXPECT_NE(outcome.error.find("cannot create the log file"), std::string::npos);

  spec.argv = {};
  EXPECT_EQ(run_process(spec).status, ProcessOutcome::Status::FailedToStart);
}

TEST_F(ProcessTest, FileSizeLimit) {
  ProcessSpec spec;
  spec.argv = {"/bin/sh", "-c", "head -c 100000 /dev/zero"};
  spec.log_path = log_path();
  spec.timeout_seconds = 10;
  spec.max_file_bytes = 1000;
  const ProcessOutcome outcome = run_process(spec);
  // head gets SIGXFSZ; the shell reports it as 128+SIGXFSZ or dies of it itself.
  const bool limited = (outcome.status == ProcessOutcome::Status::Signaled &&
                        outcome.signal == SIGXFSZ) ||
                       (outcome.status == ProcessOutcome::Status::Exited &&
                        outcome.exit_code == 128 + SIGXFSZ);
  EXPECT_TRUE(limited) << static_cast<int>(outcome.status) << " " << outcome.exit_code;
  EXPECT_LE(fs::file_size(log_path()), 1000u);
}
