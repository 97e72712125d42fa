// Attack: write garbage into the channel to the checker before any request.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>
#include <unistd.h>
namespace attack {
inline const bool garbage = [] {
  const char junk[] = "\xff\xff\xff\xff\xff\xff\xff\x7f not a frame";
  for (int fd = 3; fd < 8; ++fd) { [[maybe_unused]] ssize_t n = ::write(fd, junk, sizeof junk); }
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

