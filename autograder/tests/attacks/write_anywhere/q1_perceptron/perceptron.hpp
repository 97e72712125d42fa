// Attack: find every file this process may write (the checkout, the grader's build tree,
// the datasets, other students' work). To stay harmless when run by hand it writes nothing:
// the constructor reports what it could have changed.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <fcntl.h>
#include <unistd.h>
#include <filesystem>
#include <string>
namespace attack {
inline std::string writable_files() {
  namespace fs = std::filesystem;
  std::string found;
  int count = 0, seen = 0;
  std::error_code e;
  for (fs::recursive_directory_iterator it("/", fs::directory_options::skip_permission_denied, e), end; !e && it != end && seen < 200000; it.increment(e)) {
    const std::string path = it->path().string();
    if (path == "/proc" || path == "/sys" || path == "/dev" || path == "/usr" || path == "/tmp" || path == "/var" || path == "/run" || path == "/etc" || path == "/boot") { it.disable_recursion_pending(); continue; }
    std::error_code ignored;
    if (!it->is_regular_file(ignored)) continue;
    ++seen;
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC);
    if (fd < 0) continue;
    ::close(fd);
    if (++count <= 5) found += " " + path;
  }
  return count == 0 ? std::string("none") : std::to_string(count) + " files, e.g." + found;
}
}  // namespace attack
namespace q1 {
using namespace ember;
class PerceptronModel : public nn::Module {
 public:
  explicit PerceptronModel(int64_t) { throw ember::Error("files this code could write: " + attack::writable_files()); }
  Tensor get_weights() { throw ember::NotImplemented("q1: PerceptronModel::get_weights"); }
  Tensor run(const Tensor&) { throw ember::NotImplemented("q1: PerceptronModel::run"); }
  int get_prediction(const Tensor&) { throw ember::NotImplemented("q1: PerceptronModel::get_prediction"); }
  void train(const course::PerceptronDataset&) { throw ember::NotImplemented("q1: PerceptronModel::train"); }
  using nn::Module::train;
};
}  // namespace q1

