#include "ember_course/convolution_dataset.h"

namespace ember::course {

DigitConvolutionDataset::DigitConvolutionDataset()
    : DigitConvolutionDataset(load_mnist_train(), load_mnist_test(), CourseSizes{}) {}

DigitConvolutionDataset::DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& t10k, CourseSizes)
    // Spread over the whole file (its two halves come from different writers), and disjoint:
    // validation takes every 20th image from 0, test every 10th from 1 (even and odd indices).
    : MnistDigits("DigitConvolutionDataset", train, mnist_every(t10k, 0, t10k.size() / kValidationImages),
                  mnist_every(t10k, 1, t10k.size() / kTestImages), kTrainingImages) {}

DigitConvolutionDataset::DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& t10k,
                                                 int64_t training_images)
    : MnistDigits("DigitConvolutionDataset", train, t10k, training_images) {}

DigitConvolutionDataset::DigitConvolutionDataset(const MnistSplit& train, const MnistSplit& validation,
                                                 const MnistSplit& test, int64_t training_images)
    : MnistDigits("DigitConvolutionDataset", train, validation, test, training_images) {}

}  // namespace ember::course
