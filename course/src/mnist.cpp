#include "ember_course/mnist.h"

#include <ember/creation.h>
#include <ember/error.h>
#include <ember/ops.h>
#include <fmt/format.h>

#include "ember_course/data_paths.h"
#include "ember_course/idx_file.h"

namespace ember::course {

MnistSplit load_mnist(const std::string& images_path, const std::string& labels_path) {
  IdxImages raw = read_idx_images(images_path);
  std::vector<uint8_t> digits = read_idx_labels(labels_path);
  check(static_cast<int64_t>(digits.size()) == raw.count,
        "load_mnist: {} holds {} images but {} holds {} labels; the two files must come from the "
        "same split",
        images_path, raw.count, labels_path, digits.size());

  const int64_t pixels_per_image = raw.rows * raw.cols;
  // Scale on the host, once: 0..255 -> [0, 1], so that inputs are small (as ToTensor() does).
  std::vector<float> labels(digits.begin(), digits.end());

  // The pixels go straight into the tensor (on the CPU its data is host memory), so the
  // 60,000 training images exist once as floats, not twice: this sets q3's peak memory.
  MnistSplit split;
  split.images = empty({raw.count, pixels_per_image});  // (N, rows * cols)
  float* pixels = split.images.data_ptr();
  for (size_t i = 0; i < raw.pixels.size(); ++i) pixels[i] = static_cast<float>(raw.pixels[i]) / 255.0f;
  split.labels = from_vector(labels, {static_cast<int64_t>(labels.size())});  // (N,)
  split.rows = raw.rows;
  split.cols = raw.cols;
  return split;
}

MnistSplit load_mnist_train() {
  return load_mnist(dataset_path("mnist/train-images-idx3-ubyte.gz"),
                    dataset_path("mnist/train-labels-idx1-ubyte.gz"));
}

MnistSplit load_mnist_test() {
  return load_mnist(dataset_path("mnist/t10k-images-idx3-ubyte.gz"),
                    dataset_path("mnist/t10k-labels-idx1-ubyte.gz"));
}

MnistSplit mnist_every(const MnistSplit& split, int64_t start, int64_t step) {
  check(step >= 1, "mnist_every: step must be at least 1, got {}", step);
  check(start >= 0 && start < split.size(),
        "mnist_every: start {} is out of range for a split of {} examples", start, split.size());
  // Row indices as a float tensor, as index_select takes them (exact below 2^24).
  std::vector<float> rows;
  for (int64_t i = start; i < split.size(); i += step) rows.push_back(static_cast<float>(i));
  // On the split's device, so that the gather runs where the images are.
  Tensor indices = from_vector(rows, {static_cast<int64_t>(rows.size())}, split.images.device());
  MnistSplit part;
  part.images = index_select(split.images, indices);  // (N, P) -> (K, P)
  part.labels = index_select(split.labels, indices);  // (N,) -> (K,)
  part.rows = split.rows;
  part.cols = split.cols;
  return part;
}

}  // namespace ember::course
