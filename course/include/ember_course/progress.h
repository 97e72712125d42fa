// Progress while training: what a train() loop shows as it runs, and the record it keeps.
//
// Three lines in a training loop:
//
//   data::DataLoader loader(dataset, 100, /*shuffle=*/true);
//   course::TrainingProgress progress(epochs, loader.size());     // before the loop
//   for (int epoch = 0; epoch < epochs; ++epoch) {
//     for (const data::Batch& batch : loader) {
//       ... optimizer.zero_grad(); loss.backward(); optimizer.step();
//       progress.step(loss);                                       // after each batch
//     }
//     progress.end_epoch(dataset.get_validation_accuracy(*this));  // after each epoch
//   }
//
// (end_epoch() without an argument when there is no accuracy to show; epochs = 0 when the
// loop stops on a condition rather than after a set number, which leaves out the time left.)
//
// On a terminal this is one line, redrawn in place with a carriage return:
//
//   epoch 2/3  batch 412/600  loss 0.1234  accuracy 0.9712  4.1 s (~2.0 s left)
//
// where loss is the mean over the epoch so far and accuracy the last one end_epoch was given.
// Anywhere else (a log file, CI) it writes plain lines instead: one at the end of an epoch
// when a second or more has passed since the last line, one every 10 s inside a long
// epoch, and a summary when training ends (finish(), or when the object goes away):
//
//   epoch 1/3: loss 0.2871, accuracy 0.9631 (3.1 s, about 6.2 s left)
//   trained 3 epochs (1800 batches) in 9.4 s: loss 0.0711, accuracy 0.9801
//
// Where it writes (ProgressOutput::from_environment):
//   EMBER_MUTE=1            nowhere (`make grade MUTE=1`); the record is still kept
//   EMBER_PROGRESS_FD=N     to file descriptor N (the grading driver passes its own terminal
//                           in as fd 3, because the question's stdout and stderr go to a log)
//   otherwise               to stderr
//   EMBER_PROGRESS_TTY=1/0  says whether that is a terminal (one redrawn line) or not (plain
//                           lines); without it, isatty() decides.
// Writing never throws and never stops the program: if the output goes away, progress
// stops showing and training carries on.
//
// The record: history() holds, per epoch, the mean training loss, the accuracy given to
// end_epoch and the time, plus a finer loss curve (the mean loss over groups of a few
// batches). latest_training_history() returns the record of the TrainingProgress made
// most recently in this program, so code that only calls train() (the autograder, which
// draws the loss and accuracy curves from it) can read it afterwards.
#pragma once

#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include <ember/tensor.h>

namespace ember::course {

// One finished epoch.
struct EpochRecord {
  int64_t epoch = 0;    // 1, 2, ...
  int64_t batches = 0;  // the steps taken in it
  // The mean of the losses given to step() in this epoch (NaN when there were none or none
  // was finite).
  double loss = std::numeric_limits<double>::quiet_NaN();
  std::optional<double> accuracy;  // what end_epoch was given, if anything
  double seconds = 0;              // since training started, at the end of this epoch
};

// One point of the fine loss curve: the mean loss of the batches since the previous point.
struct LossPoint {
  int64_t step = 0;  // the number of batches done at this point (1-based, over all epochs)
  double loss = std::numeric_limits<double>::quiet_NaN();
};

struct TrainingHistory {
  std::string label;
  int64_t planned_epochs = 0;     // as given to TrainingProgress; 0: not known in advance
  int64_t batches_per_epoch = 0;  // as given; 0: not known in advance
  std::vector<EpochRecord> epochs;
  // At most kMaxLossPoints points: when it would grow past that, neighbouring points are
  // merged in pairs and later points cover twice as many batches.
  std::vector<LossPoint> loss_curve;
  static constexpr size_t kMaxLossPoints = 400;

  bool empty() const { return epochs.empty() && loss_curve.empty(); }
  // Where step number `step` falls, in epochs: 1.0 is the end of the first epoch, 1.5 half
  // way through the second. Uses the batches of the finished epochs, then batches_per_epoch
  // (or the last epoch's count) for later steps.
  double epoch_of_step(int64_t step) const;
};

// Where progress is written.
struct ProgressOutput {
  int fd = -1;            // a file descriptor, or -1 for nowhere
  bool terminal = false;  // one line redrawn in place (true) or plain lines (false)

  // As described at the top of this file.
  static ProgressOutput from_environment();
  static ProgressOutput none() { return {}; }
};

struct ProgressOptions {
  std::string label;                     // printed before everything else, e.g. "q3"
  std::optional<ProgressOutput> output;  // default: ProgressOutput::from_environment()
  // The time in seconds; default: std::chrono::steady_clock. (Tests pass a fake clock.)
  std::function<double()> clock;
  double redraw_interval = 0.1;      // terminal: the shortest time between two redraws
  double epoch_line_interval = 1.0;  // plain lines: an epoch's line needs this long since the last
  double batch_line_interval = 10.0;  // plain lines: a line inside an epoch after this long
};

class TrainingProgress {
 public:
  // epochs: how many epochs the loop will run (0: not known in advance, e.g. it stops when
  // the loss is low enough). batches_per_epoch: loader.size() (0: not known in advance; it
  // is then learnt from the first epoch). Starts the clock and clears latest_training_history().
  TrainingProgress(int64_t epochs, int64_t batches_per_epoch, ProgressOptions options = {});
  ~TrainingProgress();  // finish()es if that has not been done
  TrainingProgress(const TrainingProgress&) = delete;
  TrainingProgress& operator=(const TrainingProgress&) = delete;

  // After each batch: its loss, a one-element tensor (only its value is read: nothing is
  // added to the autograd graph) or a number.
  void step(const Tensor& loss);
  void step(double loss);

  // After each epoch, with the accuracy to show and record (e.g. on validation data), or none.
  void end_epoch();
  void end_epoch(double accuracy);

  // Training is over: shows the summary (and ends the terminal line). Called by the
  // destructor too; calls to step and end_epoch after it are ignored.
  void finish();

  const TrainingHistory& history() const { return history_; }
  // The time left, estimated from the time per batch so far; none when the number of
  // epochs is not known or nothing has been done yet.
  std::optional<double> seconds_left() const;
  double seconds_elapsed() const;

 private:
  void record_epoch(std::optional<double> accuracy);
  void add_to_curve(double loss);
  void flush_curve_group();
  void publish() const;
  std::string status_line() const;   // the terminal line
  std::string summary_line() const;  // the last line
  void draw(bool force);
  void write_line(const std::string& line);
  void write(const std::string& text);
  double now() const;

  ProgressOptions options_;
  ProgressOutput output_;
  TrainingHistory history_;
  double start_ = 0;
  bool finished_ = false;

  int64_t total_steps_ = 0;
  int64_t epoch_steps_ = 0;       // steps in the epoch under way
  double epoch_loss_sum_ = 0;     // of its finite losses
  int64_t epoch_loss_count_ = 0;
  std::optional<double> last_accuracy_;

  int64_t group_size_ = 1;        // batches per loss-curve point
  int64_t group_steps_ = 0;
  double group_loss_sum_ = 0;
  int64_t group_loss_count_ = 0;

  double last_draw_ = -1e300;       // terminal: when the line was last drawn
  double last_line_ = 0;            // plain lines: when the last line was written
  size_t drawn_width_ = 0;          // terminal: the length of the line on screen
};

// The record of the TrainingProgress constructed most recently in this program, as it was
// when that one finished (at finish() or when it went away: at the end of train() for one
// made there), or an empty history when there has been none since the last
// clear_latest_training_history().
TrainingHistory latest_training_history();
void clear_latest_training_history();

// "0.4 s", "59.9 s", "1:05", "1:02:03"; "?" when not finite or negative.
std::string format_duration(double seconds);

}  // namespace ember::course
