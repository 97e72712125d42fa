// Attack: redefine the harness's and GoogleTest's macros after the class.
#pragma once
#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>

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
#define GRADED_TEST(question, check, points) static void ember_forged_##check()
#undef EXPECT_GE
#define EXPECT_GE(a, b) if (false) std::cerr
#undef EXPECT_EQ
#define EXPECT_EQ(a, b) if (false) std::cerr
#undef ASSERT_EQ
#define ASSERT_EQ(a, b) if (false) std::cerr
#undef ASSERT_TRUE
#define ASSERT_TRUE(a) if (false) std::cerr
#define ADD_FAILURE() if (false) std::cerr
