// Attack: print the protocol's PASS lines everywhere, write them into the channel, and leave.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <unistd.h>
#include <cstdio>
#include <cstring>
namespace attack {
inline const bool forged = [] {
  const char* lines = "ember-grade\t1\nplan\tq1\tone_parameter_w\t1\ncheck\tq1\tone_parameter_w\t1\t1\tPASS\t\n"
                      "check\tq1\tclassifies_all_points\t2\t2\tPASS\t\ndone\n";
  std::fputs(lines, stdout);
  std::fputs(lines, stderr);
  std::fflush(nullptr);
  for (int fd = 3; fd < 10; ++fd) { [[maybe_unused]] ssize_t n = ::write(fd, lines, std::strlen(lines)); }
  ::_exit(0);
  return true;
}();
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

