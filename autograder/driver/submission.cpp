#include "submission.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <filesystem>
#include <fstream>
#include <stdexcept>

#include <fmt/format.h>

namespace ember::grade {

namespace {
namespace fs = std::filesystem;
constexpr std::uintmax_t kMaxFileBytes = 1 << 20;
}  // namespace

Intake take_files(const std::string& student_dir, const std::string& lesson,
                  const std::vector<std::string>& expected, const std::string& dest) {
  Intake intake;
  intake.complete = true;
  const fs::path folder = fs::path(student_dir) / lesson;
  fs::create_directories(dest);
  std::error_code folder_error;
  if (fs::is_symlink(fs::symlink_status(folder, folder_error))) {
    // It could lead to another student's work: nothing in it is taken.
    intake.complete = false;
    intake.problem = fmt::format("the lesson folder {} is a symbolic link; only a real folder is graded", lesson);
    return intake;
  }
  for (const std::string& name : expected) {
    const fs::path source = folder / name;
    const std::string shown = lesson + "/" + name;
    std::error_code error;
    const fs::file_status status = fs::symlink_status(source, error);
    std::string why;
    if (error || !fs::exists(status)) {
      why = fmt::format("the submission has no {}", shown);
    } else if (fs::is_symlink(status)) {
      why = fmt::format("{} is a symbolic link; only regular files are graded", shown);
    } else if (!fs::is_regular_file(status)) {
      why = fmt::format("{} is not a regular file", shown);
    } else if (fs::file_size(source, error) > kMaxFileBytes || error) {
      why = fmt::format("{} is larger than 1 MiB", shown);
    }
    if (why.empty()) {
      // Opened without following a link, and checked again once open: the file cannot be
      // swapped for a link between the look above and the read.
      const int fd = ::open(source.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      struct stat info;
      if (fd < 0 || ::fstat(fd, &info) != 0 || !S_ISREG(info.st_mode) ||
          static_cast<std::uintmax_t>(info.st_size) > kMaxFileBytes) {
        why = fmt::format("{} could not be read as a regular file", shown);
      } else {
        std::string text(static_cast<size_t>(info.st_size), '\0');
        size_t got = 0;
        while (got < text.size()) {
          const ssize_t n = ::read(fd, text.data() + got, text.size() - got);
          if (n <= 0) break;
          got += static_cast<size_t>(n);
        }
        text.resize(got);
        std::ofstream out(fs::path(dest) / name, std::ios::binary | std::ios::trunc);
        out << text;
        if (!out) why = fmt::format("{} could not be copied", shown);
      }
      if (fd >= 0) ::close(fd);
    }
    if (!why.empty()) {
      intake.complete = false;
      intake.problem += (intake.problem.empty() ? "" : "\n") + why;
    }
  }
  // Whatever else is in the lesson's folder is left out, and the report says so.
  std::error_code error;
  std::vector<std::string> ignored;
  for (fs::directory_iterator it(folder, error), end; !error && it != end; it.increment(error)) {
    const std::string name = it->path().filename().string();
    bool wanted = false;
    for (const std::string& e : expected) wanted = wanted || e == name;
    if (!wanted) ignored.push_back(name);
  }
  std::sort(ignored.begin(), ignored.end());
  for (const std::string& name : ignored) {
    intake.notes.push_back(fmt::format("ignored {}/{}: only {} is graded", lesson, name,
                                       expected.size() == 1 ? expected[0] : "the lesson's files"));
  }
  return intake;
}

Toolchain read_toolchain(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw std::runtime_error(fmt::format("cannot read {} (configure and build the grader's tree first)", path));
  }
  Toolchain t;
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (line.empty()) continue;
    const size_t eq = line.find('=');
    if (eq == std::string::npos) throw std::runtime_error(fmt::format("{}:{}: no '='", path, number));
    const std::string key = line.substr(0, eq), value = line.substr(eq + 1);
    if (key == "compiler") t.compiler = value;
    else if (key == "flag") t.flags.push_back(value);
    else if (key == "include") t.includes.push_back(value);
    else if (key == "sources") t.sources = value;
    else if (key == "lib") t.libs.push_back(value);
    else if (key == "link") t.link.push_back(value);
    else if (key == "visible") t.visible.push_back(value);
    else throw std::runtime_error(fmt::format("{}:{}: unknown setting '{}'", path, number, key));
  }
  if (t.compiler.empty() || t.sources.empty()) {
    throw std::runtime_error(fmt::format("{} names no compiler or no sources", path));
  }
  return t;
}

std::vector<std::string> runner_compile_command(const Toolchain& t, const std::string& lesson,
                                                const std::string& stage, const std::string& output) {
  std::vector<std::string> argv = {t.compiler};
  argv.insert(argv.end(), t.flags.begin(), t.flags.end());
  for (const std::string& dir : t.includes) argv.push_back("-I" + dir);
  argv.push_back("-I" + stage);  // last: a student's grading.h or runner.h cannot shadow ours
  argv.push_back(t.sources + "/" + lesson + ".cpp");
  argv.insert(argv.end(), t.libs.begin(), t.libs.end());
  argv.insert(argv.end(), t.link.begin(), t.link.end());
  argv.insert(argv.end(), {"-o", output});
  return argv;
}

}  // namespace ember::grade
