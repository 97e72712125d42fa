#include "ember_course/progress.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <mutex>
#include <string_view>
#include <utility>

#include <fmt/format.h>

#include <ember/error.h>

namespace ember::course {

namespace {

std::mutex g_latest_mutex;
TrainingHistory g_latest;  // guarded by g_latest_mutex

std::optional<std::string> environment(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr) return std::nullopt;
  return std::string(value);
}

bool fd_is_open(int fd) { return fd >= 0 && ::fcntl(fd, F_GETFD) != -1; }

// Writes all of text, without letting a closed pipe raise SIGPIPE (which would end the
// program): SIGPIPE is blocked around the write and, if the write raised it, taken back.
bool write_all(int fd, std::string_view text) {
  sigset_t pipe_only, previous;
  sigemptyset(&pipe_only);
  sigaddset(&pipe_only, SIGPIPE);
  if (::pthread_sigmask(SIG_BLOCK, &pipe_only, &previous) != 0) return false;
  sigset_t pending;
  sigemptyset(&pending);
  ::sigpending(&pending);
  const bool was_pending = sigismember(&pending, SIGPIPE) == 1;
  bool ok = true;
  int error = 0;
  while (!text.empty()) {
    const ssize_t written = ::write(fd, text.data(), text.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      error = errno;
      ok = false;
      break;
    }
    text.remove_prefix(static_cast<size_t>(written));
  }
  if (!ok && error == EPIPE && !was_pending) {
    const struct timespec no_wait = {0, 0};
    ::sigtimedwait(&pipe_only, nullptr, &no_wait);
  }
  ::pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return ok;
}

// The terminal's width, or 0 when it cannot be told.
size_t terminal_width(int fd) {
  struct winsize size;
  std::memset(&size, 0, sizeof size);
  if (::ioctl(fd, TIOCGWINSZ, &size) != 0) return 0;
  return size.ws_col;
}

std::string format_loss(double loss) {
  return std::isfinite(loss) ? fmt::format("{:.4f}", loss) : std::string("nan");
}

double steady_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

}  // namespace

// ---- TrainingHistory ---------------------------------------------------------------------

double TrainingHistory::epoch_of_step(int64_t step) const {
  int64_t before = 0;  // steps in the epochs already passed
  for (size_t e = 0; e < epochs.size(); ++e) {
    const int64_t in_epoch = epochs[e].batches;
    if (step <= before + in_epoch && in_epoch > 0) {
      return static_cast<double>(e) + static_cast<double>(step - before) / static_cast<double>(in_epoch);
    }
    before += in_epoch;
  }
  int64_t per_epoch = batches_per_epoch;
  if (per_epoch <= 0 && !epochs.empty()) per_epoch = epochs.back().batches;
  if (per_epoch <= 0) per_epoch = std::max<int64_t>(1, step);  // nothing known: all in one epoch
  return static_cast<double>(epochs.size()) +
         static_cast<double>(step - before) / static_cast<double>(per_epoch);
}

// ---- ProgressOutput ----------------------------------------------------------------------

ProgressOutput ProgressOutput::from_environment() {
  const std::optional<std::string> mute = environment("EMBER_MUTE");
  if (mute && !mute->empty() && *mute != "0") return none();
  ProgressOutput output;
  output.fd = STDERR_FILENO;
  if (const auto fd_text = environment("EMBER_PROGRESS_FD"); fd_text && !fd_text->empty()) {
    char* end = nullptr;
    errno = 0;
    const long fd = std::strtol(fd_text->c_str(), &end, 10);
    // A bad value or a descriptor that is not open (the program was started some other
    // way than the variable expects) falls back to stderr.
    if (errno == 0 && end != nullptr && *end == '\0' && fd >= 0 && fd <= 1 << 20 &&
        fd_is_open(static_cast<int>(fd))) {
      output.fd = static_cast<int>(fd);
    }
  }
  const std::optional<std::string> tty = environment("EMBER_PROGRESS_TTY");
  if (tty && *tty == "1") {
    output.terminal = true;
  } else if (tty && *tty == "0") {
    output.terminal = false;
  } else {
    output.terminal = ::isatty(output.fd) == 1;
  }
  return output;
}

// ---- TrainingProgress --------------------------------------------------------------------

TrainingProgress::TrainingProgress(int64_t epochs, int64_t batches_per_epoch,
                                   ProgressOptions options)
    : options_(std::move(options)) {
  check(epochs >= 0 && batches_per_epoch >= 0,
        "TrainingProgress: epochs and batches_per_epoch must be >= 0 (0: not known), got {} and {}",
        epochs, batches_per_epoch);
  output_ = options_.output ? *options_.output : ProgressOutput::from_environment();
  history_.label = options_.label;
  history_.planned_epochs = epochs;
  history_.batches_per_epoch = batches_per_epoch;
  // About 25 points an epoch, so that a few epochs still give a curve with some detail.
  group_size_ = std::max<int64_t>(1, batches_per_epoch / 25);
  start_ = now();
  last_line_ = start_;
  publish();
}

TrainingProgress::~TrainingProgress() {
  try {
    finish();
  } catch (...) {
    // A destructor must not throw; the display is only a convenience.
  }
}

double TrainingProgress::now() const {
  return options_.clock ? options_.clock() : steady_seconds();
}

double TrainingProgress::seconds_elapsed() const { return now() - start_; }

void TrainingProgress::step(const Tensor& loss) {
  if (finished_) return;
  check(loss.defined(), "TrainingProgress::step: the loss is an undefined tensor");
  step(static_cast<double>(loss.item()));  // item() says so when it is not one element
}

void TrainingProgress::step(double loss) {
  if (finished_) return;
  ++total_steps_;
  ++epoch_steps_;
  if (std::isfinite(loss)) {
    epoch_loss_sum_ += loss;
    ++epoch_loss_count_;
  }
  add_to_curve(loss);
  const double t = now();
  if (output_.fd < 0) return;
  if (output_.terminal) {
    if (t - last_draw_ >= options_.redraw_interval) draw(true);
  } else if (t - last_line_ >= options_.batch_line_interval) {
    std::string line = options_.label.empty() ? "" : options_.label + ": ";
    line += fmt::format("epoch {}", history_.epochs.size() + 1);
    if (history_.planned_epochs > 0) line += fmt::format("/{}", history_.planned_epochs);
    line += fmt::format(", batch {}", epoch_steps_);
    if (history_.batches_per_epoch > 0) line += fmt::format("/{}", history_.batches_per_epoch);
    line += fmt::format(": loss {}", format_loss(epoch_loss_sum_ / std::max<int64_t>(1, epoch_loss_count_)));
    line += fmt::format(" ({}", format_duration(t - start_));
    if (const auto left = seconds_left()) line += ", about " + format_duration(*left) + " left";
    write_line(line + ")");
  }
}

void TrainingProgress::add_to_curve(double loss) {
  ++group_steps_;
  if (std::isfinite(loss)) {
    group_loss_sum_ += loss;
    ++group_loss_count_;
  }
  if (group_steps_ >= group_size_) flush_curve_group();
}

void TrainingProgress::flush_curve_group() {
  if (group_steps_ == 0) return;
  LossPoint point;
  point.step = total_steps_;
  if (group_loss_count_ > 0) point.loss = group_loss_sum_ / static_cast<double>(group_loss_count_);
  history_.loss_curve.push_back(point);
  group_steps_ = 0;
  group_loss_sum_ = 0;
  group_loss_count_ = 0;
  std::vector<LossPoint>& curve = history_.loss_curve;
  if (curve.size() <= TrainingHistory::kMaxLossPoints) return;
  // Too many points: merge neighbours (a lone last point stays) and make the groups twice
  // as long from now on, so a long run keeps a bounded record.
  std::vector<LossPoint> merged;
  merged.reserve(curve.size() / 2 + 1);
  for (size_t i = 0; i < curve.size(); i += 2) {
    if (i + 1 == curve.size()) {
      merged.push_back(curve[i]);
      break;
    }
    LossPoint pair;
    pair.step = curve[i + 1].step;
    const double a = curve[i].loss, b = curve[i + 1].loss;
    pair.loss = std::isfinite(a) && std::isfinite(b) ? (a + b) / 2 : (std::isfinite(a) ? a : b);
    merged.push_back(pair);
  }
  curve = std::move(merged);
  group_size_ *= 2;
}

void TrainingProgress::end_epoch() { record_epoch(std::nullopt); }

void TrainingProgress::end_epoch(double accuracy) { record_epoch(accuracy); }

void TrainingProgress::record_epoch(std::optional<double> accuracy) {
  if (finished_) return;
  const double t = now();
  EpochRecord record;
  record.epoch = static_cast<int64_t>(history_.epochs.size()) + 1;
  record.batches = epoch_steps_;
  if (epoch_loss_count_ > 0) record.loss = epoch_loss_sum_ / static_cast<double>(epoch_loss_count_);
  record.accuracy = accuracy;
  record.seconds = t - start_;
  history_.epochs.push_back(record);
  if (accuracy) last_accuracy_ = accuracy;
  epoch_steps_ = 0;
  epoch_loss_sum_ = 0;
  epoch_loss_count_ = 0;
  if (output_.fd < 0) return;
  if (output_.terminal) {
    draw(true);
    return;
  }
  // The last planned epoch is left to the summary line.
  const bool last = history_.planned_epochs > 0 && record.epoch >= history_.planned_epochs;
  if (last || t - last_line_ < options_.epoch_line_interval) return;
  std::string line = options_.label.empty() ? "" : options_.label + ": ";
  line += fmt::format("epoch {}", record.epoch);
  if (history_.planned_epochs > 0) line += fmt::format("/{}", history_.planned_epochs);
  line += fmt::format(": loss {}", format_loss(record.loss));
  if (record.accuracy) line += fmt::format(", accuracy {:.4f}", *record.accuracy);
  line += fmt::format(" ({}", format_duration(record.seconds));
  if (const auto left = seconds_left()) line += ", about " + format_duration(*left) + " left";
  write_line(line + ")");
}

void TrainingProgress::finish() {
  if (finished_) return;
  finished_ = true;
  flush_curve_group();
  publish();
  if (output_.fd < 0 || total_steps_ == 0) return;  // nothing happened: nothing to say
  const std::string summary = summary_line();
  if (output_.terminal) {
    std::string text = "\r" + summary;
    if (summary.size() < drawn_width_) text += std::string(drawn_width_ - summary.size(), ' ');
    write(text + "\n");
    drawn_width_ = 0;
  } else {
    write_line(summary);
  }
}

std::optional<double> TrainingProgress::seconds_left() const {
  if (history_.planned_epochs <= 0) return std::nullopt;
  int64_t per_epoch = history_.batches_per_epoch;
  if (per_epoch <= 0 && !history_.epochs.empty()) per_epoch = history_.epochs.front().batches;
  double done = static_cast<double>(history_.epochs.size());  // in epochs
  if (per_epoch > 0) {
    done += std::min(1.0, static_cast<double>(epoch_steps_) / static_cast<double>(per_epoch));
  }
  if (done <= 0) return std::nullopt;
  const double planned = static_cast<double>(history_.planned_epochs);
  if (done >= planned) return 0.0;
  const double elapsed = seconds_elapsed();
  return std::max(0.0, elapsed / done * (planned - done));
}

std::string TrainingProgress::status_line() const {
  std::string line = options_.label.empty() ? "" : options_.label + "  ";
  const int64_t epoch = static_cast<int64_t>(history_.epochs.size()) + (epoch_steps_ > 0 ? 1 : 0);
  line += fmt::format("epoch {}", std::max<int64_t>(1, epoch));
  if (history_.planned_epochs > 0) line += fmt::format("/{}", history_.planned_epochs);
  // Between epochs the line shows the epoch just finished, with all its batches.
  const int64_t batch = epoch_steps_ > 0 || history_.epochs.empty() ? epoch_steps_
                                                                    : history_.epochs.back().batches;
  line += fmt::format("  batch {}", batch);
  if (history_.batches_per_epoch > 0) line += fmt::format("/{}", history_.batches_per_epoch);
  double loss = std::numeric_limits<double>::quiet_NaN();
  if (epoch_loss_count_ > 0) {
    loss = epoch_loss_sum_ / static_cast<double>(epoch_loss_count_);
  } else if (!history_.epochs.empty()) {
    loss = history_.epochs.back().loss;
  }
  line += "  loss " + format_loss(loss);
  if (last_accuracy_) line += fmt::format("  accuracy {:.4f}", *last_accuracy_);
  line += "  " + format_duration(seconds_elapsed());
  // "~" rather than "about": the line must fit an 80-column terminal.
  if (const auto left = seconds_left()) line += " (~" + format_duration(*left) + " left)";
  return line;
}

std::string TrainingProgress::summary_line() const {
  std::string line = options_.label.empty() ? "" : options_.label + ": ";
  const size_t epochs = history_.epochs.size();
  line += fmt::format("trained {} epoch{} ({} batches) in {}", epochs, epochs == 1 ? "" : "s",
                      total_steps_, format_duration(seconds_elapsed()));
  if (!history_.epochs.empty()) {
    line += ": loss " + format_loss(history_.epochs.back().loss);
    if (last_accuracy_) line += fmt::format(", accuracy {:.4f}", *last_accuracy_);
  }
  return line;
}

void TrainingProgress::draw(bool force) {
  const double t = now();
  if (!force && t - last_draw_ < options_.redraw_interval) return;
  last_draw_ = t;
  std::string line = status_line();
  // A line wider than the terminal would wrap, and the carriage return would then only go
  // back to the start of its last part.
  const size_t width = terminal_width(output_.fd);
  if (width > 1 && line.size() > width - 1) line.resize(width - 1);
  std::string text = "\r" + line;
  if (line.size() < drawn_width_) text += std::string(drawn_width_ - line.size(), ' ');
  drawn_width_ = line.size();
  write(text);
}

void TrainingProgress::write_line(const std::string& line) {
  last_line_ = now();
  write(line + "\n");
}

void TrainingProgress::write(const std::string& text) {
  if (output_.fd < 0) return;
  if (!write_all(output_.fd, text)) output_.fd = -1;  // gone: stop showing, keep training
}

void TrainingProgress::publish() const {
  std::lock_guard<std::mutex> lock(g_latest_mutex);
  g_latest = history_;
}

// ---- free functions ----------------------------------------------------------------------

TrainingHistory latest_training_history() {
  std::lock_guard<std::mutex> lock(g_latest_mutex);
  return g_latest;
}

void clear_latest_training_history() {
  std::lock_guard<std::mutex> lock(g_latest_mutex);
  g_latest = TrainingHistory();
}

std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  if (seconds < 59.95) return fmt::format("{:.1f} s", seconds);
  const auto whole = static_cast<int64_t>(std::llround(seconds));
  const int64_t hours = whole / 3600, minutes = whole / 60 % 60, rest = whole % 60;
  if (hours > 0) return fmt::format("{}:{:02}:{:02}", hours, minutes, rest);
  return fmt::format("{}:{:02}", minutes, rest);
}

}  // namespace ember::course
