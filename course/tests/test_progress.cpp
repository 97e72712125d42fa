// Tests of course::TrainingProgress: the plain-line format, the terminal line with carriage
// returns, muting and the environment, the time-left estimate and the recorded history.
#include "ember_course/progress.h"
#include "scoped_env.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <optional>
#include <string>

#include <gtest/gtest.h>

#include <ember/creation.h>
#include <ember/error.h>

namespace {

using ember::course::EpochRecord;
using ember::course::ProgressOptions;
using ember::course::ProgressOutput;
using ember::course::TrainingHistory;
using ember::course::TrainingProgress;

// A temporary file to write progress into, read back as a string.
class Capture {
 public:
  Capture() : file_(std::tmpfile()) {}
  ~Capture() {
    if (file_ != nullptr) std::fclose(file_);
  }
  Capture(const Capture&) = delete;
  Capture& operator=(const Capture&) = delete;

  int fd() const { return fileno(file_); }
  std::string text() const {
    std::string out;
    const off_t size = ::lseek(fd(), 0, SEEK_END);
    out.resize(static_cast<size_t>(size));
    if (size > 0) {
      const ssize_t got = ::pread(fd(), out.data(), out.size(), 0);
      out.resize(got > 0 ? static_cast<size_t>(got) : 0);
    }
    return out;
  }

 private:
  std::FILE* file_;
};

// A clock the test moves by hand.
struct FakeClock {
  double now = 100.0;  // any start: only differences matter
};

ProgressOptions options_for(const Capture& capture, bool terminal, FakeClock& clock,
                            std::string label = "q9") {
  ProgressOptions options;
  options.label = std::move(label);
  options.output = ProgressOutput{capture.fd(), terminal};
  options.clock = [&clock] { return clock.now; };
  return options;
}

size_t count(const std::string& text, char c) {
  return static_cast<size_t>(std::count(text.begin(), text.end(), c));
}

// Sends stderr into a Capture for the lifetime of the object.
class StderrRedirect {
 public:
  explicit StderrRedirect(const Capture& capture) : saved_(::dup(STDERR_FILENO)) {
    std::fflush(stderr);
    ::dup2(capture.fd(), STDERR_FILENO);
  }
  ~StderrRedirect() {
    std::fflush(stderr);
    ::dup2(saved_, STDERR_FILENO);
    ::close(saved_);
  }
  StderrRedirect(const StderrRedirect&) = delete;
  StderrRedirect& operator=(const StderrRedirect&) = delete;

 private:
  int saved_;
};

}  // namespace

TEST(Progress, PlainLinesOnePerEpochAndASummary) {
  Capture capture;
  FakeClock clock;
  {
    TrainingProgress progress(3, 4, options_for(capture, /*terminal=*/false, clock));
    const double losses[3] = {0.5, 0.25, 0.125};
    for (int epoch = 0; epoch < 3; ++epoch) {
      for (int batch = 0; batch < 4; ++batch) {
        clock.now += 1.0;
        progress.step(losses[epoch]);
      }
      progress.end_epoch(0.9 + 0.01 * epoch);
    }
  }  // the destructor finishes
  EXPECT_EQ(capture.text(),
            "q9: epoch 1/3: loss 0.5000, accuracy 0.9000 (4.0 s, about 8.0 s left)\n"
            "q9: epoch 2/3: loss 0.2500, accuracy 0.9100 (8.0 s, about 4.0 s left)\n"
            "q9: trained 3 epochs (12 batches) in 12.0 s: loss 0.1250, accuracy 0.9200\n");
}

TEST(Progress, PlainLinesAreRateLimited) {
  Capture capture;
  FakeClock clock;
  {
    // 48 quick epochs of 2 batches, 1/8 s each: an epoch line at most once a second.
    // (Steps of 1/16 s add up exactly in binary.)
    TrainingProgress progress(0, 2, options_for(capture, false, clock, ""));
    for (int epoch = 0; epoch < 48; ++epoch) {
      for (int batch = 0; batch < 2; ++batch) {
        clock.now += 0.0625;
        progress.step(1.0);
      }
      progress.end_epoch();
    }
    progress.finish();
    progress.step(2.0);  // ignored after finish
  }
  const std::string text = capture.text();
  EXPECT_EQ(count(text, '\n'), 6u + 1u) << text;  // 6 s of training, then the summary
  EXPECT_EQ(text.substr(0, text.find('\n') + 1), "epoch 8: loss 1.0000 (1.0 s)\n") << text;
  EXPECT_EQ(text.find("left"), std::string::npos) << "no estimate without a number of epochs";
  EXPECT_NE(text.find("\ntrained 48 epochs (96 batches) in 6.0 s: loss 1.0000\n"), std::string::npos)
      << text;
  EXPECT_EQ(text.find('\r'), std::string::npos);
}

TEST(Progress, PlainLineInsideALongEpoch) {
  Capture capture;
  FakeClock clock;
  TrainingProgress progress(2, 30, options_for(capture, false, clock));
  for (int batch = 0; batch < 12; ++batch) {
    clock.now += 1.0;
    progress.step(0.75);
  }
  // 10 s in: one line for batch 10 of the first epoch (a sixth of the way: 50 s left).
  EXPECT_EQ(capture.text(), "q9: epoch 1/2, batch 10/30: loss 0.7500 (10.0 s, about 50.0 s left)\n");
}

TEST(Progress, TerminalRedrawsOneLineWithCarriageReturns) {
  Capture capture;
  FakeClock clock;
  TrainingProgress progress(2, 50, options_for(capture, /*terminal=*/true, clock));
  for (int epoch = 0; epoch < 2; ++epoch) {
    for (int batch = 0; batch < 50; ++batch) {
      clock.now += 0.01;
      progress.step(0.5);
    }
    progress.end_epoch(0.75);
  }
  const std::string during = capture.text();
  EXPECT_EQ(during.find('\n'), std::string::npos) << "no newline until training ends";
  ASSERT_FALSE(during.empty());
  EXPECT_EQ(during[0], '\r');
  // Redrawn at most every 0.1 s (1 s of batches) plus once per epoch end.
  EXPECT_GE(count(during, '\r'), 5u);
  EXPECT_LE(count(during, '\r'), 14u);
  EXPECT_NE(during.find("q9  epoch 1/2  batch 50/50  loss 0.5000  accuracy 0.7500  0.5 s (~0.5 s left)"),
            std::string::npos)
      << during;
  progress.finish();
  const std::string after = capture.text();
  ASSERT_EQ(after.back(), '\n');
  EXPECT_EQ(count(after, '\n'), 1u);
  // The summary overwrites the line, padded with spaces to clear what was there.
  const std::string summary = "q9: trained 2 epochs (100 batches) in 1.0 s: loss 0.5000, accuracy 0.7500";
  const size_t last = after.rfind('\r');
  ASSERT_NE(last, std::string::npos);
  EXPECT_EQ(after.substr(last, summary.size() + 1), "\r" + summary);
  const std::string padding = after.substr(last + 1 + summary.size());
  EXPECT_EQ(padding.back(), '\n');
  EXPECT_EQ(padding.find_first_not_of(' '), padding.size() - 1) << "only spaces, then the newline";
}

TEST(Progress, NothingIsWrittenWhenNothingHappened) {
  Capture capture;
  FakeClock clock;
  {
    // A stub's train() makes the object and throws NotImplemented before the first step.
    TrainingProgress progress(3, 10, options_for(capture, true, clock));
  }
  EXPECT_EQ(capture.text(), "");
}

TEST(Progress, MutedByTheEnvironmentButStillRecorded) {
  Capture capture;
  ScopedEnv mute("EMBER_MUTE", "1");
  ScopedEnv fd("EMBER_PROGRESS_FD", nullptr);
  ScopedEnv tty("EMBER_PROGRESS_TTY", "0");
  const ProgressOutput output = ProgressOutput::from_environment();
  EXPECT_EQ(output.fd, -1);
  {
    StderrRedirect redirect(capture);
    TrainingProgress progress(1, 2);
    progress.step(1.0);
    progress.step(3.0);
    progress.end_epoch(0.5);
    progress.finish();
    ASSERT_EQ(progress.history().epochs.size(), 1u);
    EXPECT_DOUBLE_EQ(progress.history().epochs[0].loss, 2.0);
  }
  EXPECT_EQ(capture.text(), "");
}

TEST(Progress, EnvironmentChoosesTheDescriptorAndTheMode) {
  Capture capture;
  ScopedEnv mute("EMBER_MUTE", "0");
  {
    ScopedEnv fd("EMBER_PROGRESS_FD", std::to_string(capture.fd()).c_str());
    ScopedEnv tty("EMBER_PROGRESS_TTY", "1");
    const ProgressOutput output = ProgressOutput::from_environment();
    EXPECT_EQ(output.fd, capture.fd());
    EXPECT_TRUE(output.terminal);
    TrainingProgress progress(1, 1);
    progress.step(0.5);
    progress.end_epoch();
    progress.finish();
    EXPECT_EQ(capture.text().substr(0, 7), "\repoch ");
  }
  {
    // A descriptor that is not open (or not a number) falls back to stderr.
    ScopedEnv fd("EMBER_PROGRESS_FD", "987654");
    ScopedEnv tty("EMBER_PROGRESS_TTY", "0");
    const ProgressOutput output = ProgressOutput::from_environment();
    EXPECT_EQ(output.fd, STDERR_FILENO);
    EXPECT_FALSE(output.terminal);
  }
  {
    ScopedEnv fd("EMBER_PROGRESS_FD", "three");
    EXPECT_EQ(ProgressOutput::from_environment().fd, STDERR_FILENO);
  }
  {
    ScopedEnv fd("EMBER_PROGRESS_FD", nullptr);
    ScopedEnv tty("EMBER_PROGRESS_TTY", nullptr);
    const ProgressOutput output = ProgressOutput::from_environment();
    EXPECT_EQ(output.fd, STDERR_FILENO);
    EXPECT_EQ(output.terminal, ::isatty(STDERR_FILENO) == 1);
  }
}

TEST(Progress, TimeLeftFromTheTimePerBatch) {
  FakeClock clock;
  ProgressOptions options;
  options.output = ProgressOutput::none();
  options.clock = [&clock] { return clock.now; };
  TrainingProgress progress(2, 10, options);
  EXPECT_FALSE(progress.seconds_left()) << "nothing done yet";
  for (int i = 0; i < 5; ++i) {
    clock.now += 1.0;
    progress.step(1.0);
  }
  // A quarter done in 5 s: 15 s to go.
  ASSERT_TRUE(progress.seconds_left());
  EXPECT_DOUBLE_EQ(*progress.seconds_left(), 15.0);
  for (int i = 0; i < 5; ++i) {
    clock.now += 3.0;  // slower now
    progress.step(1.0);
  }
  clock.now += 10.0;  // validation
  progress.end_epoch(0.5);
  EXPECT_DOUBLE_EQ(*progress.seconds_left(), 30.0);  // half done in 30 s
  for (int i = 0; i < 10; ++i) progress.step(1.0);
  progress.end_epoch(0.6);
  EXPECT_DOUBLE_EQ(*progress.seconds_left(), 0.0);
}

TEST(Progress, TimeLeftLearnsTheEpochLengthAndNeedsTheEpochCount) {
  FakeClock clock;
  ProgressOptions options;
  options.output = ProgressOutput::none();
  options.clock = [&clock] { return clock.now; };
  {
    TrainingProgress progress(4, /*batches_per_epoch=*/0, options);
    for (int i = 0; i < 8; ++i) {
      clock.now += 0.5;
      progress.step(1.0);
    }
    progress.end_epoch();
    EXPECT_DOUBLE_EQ(*progress.seconds_left(), 12.0);  // 1 of 4 epochs in 4 s
    for (int i = 0; i < 4; ++i) {
      clock.now += 0.5;
      progress.step(1.0);
    }
    EXPECT_DOUBLE_EQ(*progress.seconds_left(), 6.0 / 1.5 * 2.5);
  }
  TrainingProgress open_ended(0, 10, options);
  clock.now += 1.0;
  open_ended.step(1.0);
  EXPECT_FALSE(open_ended.seconds_left());
}

TEST(Progress, HistoryRecordsEpochsAndALossCurve) {
  ember::course::clear_latest_training_history();
  EXPECT_TRUE(ember::course::latest_training_history().empty());
  FakeClock clock;
  ProgressOptions options;
  options.label = "q3";
  options.output = ProgressOutput::none();
  options.clock = [&clock] { return clock.now; };
  {
    TrainingProgress progress(2, 100, options);  // 100 batches: a curve point every 4
    for (int epoch = 0; epoch < 2; ++epoch) {
      for (int batch = 0; batch < 100; ++batch) {
        clock.now += 0.01;
        progress.step(batch % 2 == 0 ? 1.0 : 3.0);
      }
      progress.end_epoch(0.5 + 0.25 * epoch);
    }
    progress.step(std::numeric_limits<double>::quiet_NaN());  // a partial third epoch
  }
  const TrainingHistory history = ember::course::latest_training_history();
  EXPECT_EQ(history.label, "q3");
  EXPECT_EQ(history.planned_epochs, 2);
  ASSERT_EQ(history.epochs.size(), 2u);
  const EpochRecord& second = history.epochs[1];
  EXPECT_EQ(second.epoch, 2);
  EXPECT_EQ(second.batches, 100);
  EXPECT_DOUBLE_EQ(second.loss, 2.0);
  ASSERT_TRUE(second.accuracy);
  EXPECT_DOUBLE_EQ(*second.accuracy, 0.75);
  EXPECT_NEAR(second.seconds, 2.0, 1e-9);
  ASSERT_EQ(history.loss_curve.size(), 51u);  // 200 / 4, and the lone last step
  EXPECT_EQ(history.loss_curve[0].step, 4);
  EXPECT_DOUBLE_EQ(history.loss_curve[0].loss, 2.0);
  EXPECT_TRUE(std::isnan(history.loss_curve.back().loss));
  EXPECT_DOUBLE_EQ(history.epoch_of_step(50), 0.5);
  EXPECT_DOUBLE_EQ(history.epoch_of_step(200), 2.0);
  EXPECT_DOUBLE_EQ(history.epoch_of_step(250), 2.5);
  // A new TrainingProgress starts a new record.
  TrainingProgress next(1, 1, options);
  EXPECT_TRUE(ember::course::latest_training_history().empty());
}

TEST(Progress, LongRunsKeepABoundedCurve) {
  ProgressOptions options;
  options.output = ProgressOutput::none();
  TrainingProgress progress(0, 0, options);  // a point per batch at first
  for (int i = 1; i <= 5000; ++i) progress.step(static_cast<double>(i));
  progress.finish();
  const TrainingHistory& history = progress.history();
  EXPECT_LE(history.loss_curve.size(), TrainingHistory::kMaxLossPoints);
  EXPECT_GE(history.loss_curve.size(), TrainingHistory::kMaxLossPoints / 2);
  EXPECT_EQ(history.loss_curve.back().step, 5000);
  for (size_t i = 1; i < history.loss_curve.size(); ++i) {
    EXPECT_LT(history.loss_curve[i - 1].step, history.loss_curve[i].step);
    EXPECT_LT(history.loss_curve[i - 1].loss, history.loss_curve[i].loss);
  }
}

TEST(Progress, StepReadsATensorAndChecksIt) {
  ProgressOptions options;
  options.output = ProgressOutput::none();
  TrainingProgress progress(1, 2, options);
  progress.step(ember::tensor({0.25f}));
  progress.step(ember::tensor({0.75f}).sum());
  EXPECT_THROW(progress.step(ember::tensor({1.0f, 2.0f})), ember::Error);
  EXPECT_THROW(progress.step(ember::Tensor()), ember::Error);
  progress.end_epoch();
  EXPECT_DOUBLE_EQ(progress.history().epochs[0].loss, 0.5);
  EXPECT_THROW(TrainingProgress(-1, 2, options), ember::Error);
}

TEST(Progress, AClosedPipeStopsTheDisplayNotTheProgram) {
  int fds[2];
  ASSERT_EQ(::pipe(fds), 0);
  ::close(fds[0]);  // nobody reads: a write raises SIGPIPE unless it is handled
  ProgressOptions options;
  options.output = ProgressOutput{fds[1], true};
  {
    TrainingProgress progress(1, 3, options);
    progress.step(1.0);
    progress.step(1.0);
    progress.end_epoch();
  }
  ::close(fds[1]);
  SUCCEED();
}

TEST(Progress, FormatDuration) {
  using ember::course::format_duration;
  EXPECT_EQ(format_duration(0.04), "0.0 s");
  EXPECT_EQ(format_duration(3.14), "3.1 s");
  EXPECT_EQ(format_duration(59.9), "59.9 s");
  EXPECT_EQ(format_duration(59.97), "1:00");
  EXPECT_EQ(format_duration(65), "1:05");
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "?");
  EXPECT_EQ(format_duration(std::numeric_limits<double>::infinity()), "?");
}
