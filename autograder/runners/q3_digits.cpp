// The runner of q3 (digit classification): what the checker (questions/q3_digits.cpp) may ask
// of the student's DigitClassificationModel. See runner/runner.h.
//
// train gets the training and validation images from the checker; the dataset it builds has
// no test images (they never leave the checker), and the runner cannot read datasets/.
#include <ember/ember.h>
#include <ember_course/digit_dataset.h>

#include "digit_classification.hpp"
#include "runner.h"

void ember::runner::define_question(Question& q) {
  using Model = q3::DigitClassificationModel;
  q.model("DigitClassificationModel", [](const Args&) { return std::make_shared<Model>(); });
  q.method<Model>("run", [](Model& m, const Args& a) { return result(m.run(tensor_arg(a, 0))); });
  q.method<Model>("get_loss", [](Model& m, const Args& a) {
    return result(m.get_loss(tensor_arg(a, 0), tensor_arg(a, 1)));
  });
  // train(training images (N, 784), their digits (N,), validation images, their digits)
  q.method<Model>("train", [](Model& m, const Args& a) {
    const course::MnistSplit train{cpu_tensor_arg(a, 0), cpu_tensor_arg(a, 1), 28, 28};
    const course::MnistSplit validation{cpu_tensor_arg(a, 2), cpu_tensor_arg(a, 3), 28, 28};
    const course::MnistSplit held_out{zeros({0, course::MnistDigits::kPixels}), zeros({0}), 28, 28};
    course::DigitClassificationDataset dataset(train, validation, held_out);
    dataset.to(device());
    m.train(dataset);
    return Value::none();
  });
}
