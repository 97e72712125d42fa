// MNIST as tensors: the IDX files of datasets/mnist/ read (idx_file.h) and turned into what
// a model eats. Shared by the lessons that use the digits (q3 digit classification, q5
// convolution).
//
//   course::MnistSplit train = course::load_mnist_train();  // 60,000 images
//   train.images;   // (60000, 784), pixel / 255, so in [0, 1]
//   train.labels;   // (60000,), the digit 0..9 of each image, as floats
//   train.images.view({-1, 1, 28, 28});   // as images, for a convolution
//
// Missing or damaged files throw ember::Error from the reader, naming the file and how to
// restore it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <ember/tensor.h>

namespace ember::course {

struct MnistSplit {
  Tensor images;  // (N, rows * cols): row-major pixels scaled from 0..255 to [0, 1]
  Tensor labels;  // (N,): digits 0..9 stored as floats, as class indices (F::cross_entropy, one_hot)
  int64_t rows = 0;  // 28 for MNIST
  int64_t cols = 0;  // 28 for MNIST

  int64_t size() const { return images.defined() ? images.size(0) : 0; }
};

// Reads an images file and its labels file (gzipped or plain IDX) into one split. Throws
// ember::Error naming both files when they hold different numbers of examples.
MnistSplit load_mnist(const std::string& images_path, const std::string& labels_path);

// datasets/mnist/train-*: the 60,000 training images.
MnistSplit load_mnist_train();
// datasets/mnist/t10k-*: the 10,000 test images.
MnistSplit load_mnist_test();

// The examples start, start + step, start + 2 * step, ... of a split, copied into a split of
// their own: mnist_every(test, 0, 2) is the even-indexed half, mnist_every(test, 1, 2) the odd.
MnistSplit mnist_every(const MnistSplit& split, int64_t start, int64_t step);

}  // namespace ember::course
