#include "ember_course/digit_dataset.h"

#include <optional>

namespace ember::course {

DigitClassificationDataset::DigitClassificationDataset()
    : DigitClassificationDataset(load_mnist_train(), load_mnist_test()) {}

// std::nullopt: every training image, used as it is.
DigitClassificationDataset::DigitClassificationDataset(const MnistSplit& train, const MnistSplit& t10k)
    : MnistDigits("DigitClassificationDataset", train, t10k, std::nullopt) {}

DigitClassificationDataset::DigitClassificationDataset(const MnistSplit& train, const MnistSplit& validation,
                                                       const MnistSplit& test)
    : MnistDigits("DigitClassificationDataset", train, validation, test, std::nullopt) {}

}  // namespace ember::course
