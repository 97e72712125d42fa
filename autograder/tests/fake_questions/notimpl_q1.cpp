// Fake question for the driver tests: an unfinished stub (ember::NotImplemented) and a
// wrong answer; one check passes (2/6).
#include <ember/error.h>

#include "grading.h"

namespace {

struct PerceptronModel {
  int get_prediction(int) const {
    // YOUR CODE HERE
    throw ember::NotImplemented("q1: PerceptronModel::get_prediction");
  }
};

}  // namespace

GRADED_TEST(q1, weights_have_the_right_shape, 2) { grade_note("weights have shape (1x3)"); }

GRADED_TEST(q1, prediction_is_a_sign, 2) {
  PerceptronModel model;
  EXPECT_EQ(model.get_prediction(3), 1);
}

GRADED_TEST(q1, training_converges, 2) {
  const double accuracy = 0.75;
  grade_note("training accuracy {:.4f} (threshold 1.0)", accuracy);
  EXPECT_GE(accuracy, 1.0) << "training accuracy " << accuracy << " is below 1.0";
}
