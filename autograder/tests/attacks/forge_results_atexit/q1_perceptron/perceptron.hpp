// Attack: forge the verdict from an atexit handler.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
namespace attack {
inline void forge() {
  const char* lines = "check\tq1\tone_parameter_w\t1\t1\tPASS\t\ncheck\tq1\trun_is_dot_product\t1\t1\tPASS\t\n"
                      "check\tq1\tclassifies_all_points\t2\t2\tPASS\t\ndone\n";
  if (const char* path = std::getenv("EMBER_GRADE_RESULTS")) {
    if (std::FILE* f = std::fopen(path, "a")) { std::fputs(lines, f); std::fclose(f); }
  }
  std::error_code e;
  for (const char* root : {"/tmp", "."}) {
    for (std::filesystem::recursive_directory_iterator it(root, std::filesystem::directory_options::skip_permission_denied, e), end; !e && it != end; it.increment(e)) {
      if (it->path().extension() == ".results" || it->path().filename() == "results.json") {
        if (std::FILE* f = std::fopen(it->path().c_str(), "a")) { std::fputs(lines, f); std::fclose(f); }
      }
    }
  }
}
inline const bool registered = (std::atexit(forge), true);
}  // namespace attack
namespace q1 {
using namespace ember;
class PerceptronModel : public nn::Module {
 public:
  explicit PerceptronModel(int64_t) { throw ember::NotImplemented("q1: PerceptronModel::PerceptronModel"); }
  Tensor get_weights() { throw ember::NotImplemented("q1: PerceptronModel::get_weights"); }
  Tensor run(const Tensor&) { throw ember::NotImplemented("q1: PerceptronModel::run"); }
  int get_prediction(const Tensor&) { throw ember::NotImplemented("q1: PerceptronModel::get_prediction"); }
  void train(const course::PerceptronDataset&) { throw ember::NotImplemented("q1: PerceptronModel::train"); }
  using nn::Module::train;
};
}  // namespace q1

