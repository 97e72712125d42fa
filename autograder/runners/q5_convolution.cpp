// The runner of q5 (convolution): the student's Convolve and DigitConvolutionalModel, as the
// checker (questions/q5_convolution.cpp) asks for them. See runner/runner.h.
//
// train gets the training and validation images from the checker; the dataset it builds has
// no test images (they never leave the checker), and the runner cannot read datasets/.
#include <ember/ember.h>
#include <ember_course/convolution_dataset.h>

#include "convolution.hpp"
#include "runner.h"

void ember::runner::define_question(Question& q) {
  q.function("Convolve", [](const Args& a) { return result(q5::Convolve(tensor_arg(a, 0), tensor_arg(a, 1))); });
  // sum(Convolve(input, weight) * projection): a scalar whose gradient reaches the weight.
  q.function("projected_convolve", [](const Args& a) {
    const Tensor input = tensor_arg(a, 0), weight = tensor_arg(a, 1), projection = tensor_arg(a, 2);
    return result((q5::Convolve(input, weight) * projection).sum());
  });
  using Model = q5::DigitConvolutionalModel;
  q.model("DigitConvolutionalModel", [](const Args&) { return std::make_shared<Model>(); });
  q.method<Model>("forward", [](Model& m, const Args& a) { return result(m.forward(tensor_arg(a, 0))); });
  q.method<Model>("get_loss", [](Model& m, const Args& a) {
    return result(m.get_loss(tensor_arg(a, 0), tensor_arg(a, 1)));
  });
  // train(training images (N, 784), their digits (N,), validation images, their digits)
  q.method<Model>("train", [](Model& m, const Args& a) {
    const course::MnistSplit train{cpu_tensor_arg(a, 0), cpu_tensor_arg(a, 1), 28, 28};
    const course::MnistSplit validation{cpu_tensor_arg(a, 2), cpu_tensor_arg(a, 3), 28, 28};
    const course::MnistSplit held_out{zeros({0, course::MnistDigits::kPixels}), zeros({0}), 28, 28};
    course::DigitConvolutionDataset dataset(train, validation, held_out, train.size());
    dataset.to(device());
    m.train(dataset);
    return Value::none();
  });
}
