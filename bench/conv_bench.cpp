// conv.py (naive variant): the q5 model, one training batch of 64 images 28x28.
//
// The course's naive Convolve: for every output pixel, one autograd op for the 3x3 slice
// times the kernel and one for its sum; each output row is a stack of 26 such scalars,
// each image a stack of 26 rows, the batch a stack of 64 images. Then flatten (676) ->
// Linear(676, 128)-ReLU-Linear(128, 64)-ReLU-Linear(64, 10), cross entropy, Adam 1e-3.
// The 3x3 kernel starts as ones and is trained too. (The script's second line, F.conv2d,
// has no Ember counterpart: Ember has no convolution op.)
#include <memory>
#include <vector>

#include <fmt/format.h>

#include "workloads.h"

namespace ember::bench {
namespace {

namespace F = nn::functional;

constexpr int64_t kBatch = 64;

// image (28, 28), kernel (3, 3) -> (26, 26), exactly as the course's Convolve loops.
Tensor convolve(const Tensor& image, const Tensor& kernel) {
  const int64_t kernel_h = kernel.size(0), kernel_w = kernel.size(1);
  const int64_t out_h = image.size(0) - kernel_h + 1, out_w = image.size(1) - kernel_w + 1;
  std::vector<Tensor> rows;
  for (int64_t y = 0; y < out_h; ++y) {
    std::vector<Tensor> row;
    for (int64_t x = 0; x < out_w; ++x) {
      row.push_back((image.index({Slice(y, y + kernel_h), Slice(x, x + kernel_w)}) * kernel).sum());
    }
    rows.push_back(stack(row));  // (26,)
  }
  return stack(rows);  // (26, 26)
}

struct ConvNet : nn::Module {
  Tensor kernel;  // (3, 3)
  std::shared_ptr<nn::Sequential> mlp;

  ConvNet() : Module("ConvNet") {
    kernel = register_parameter("w", ones({3, 3}));
    mlp = register_module("mlp", std::make_shared<nn::Sequential>(
                                     std::make_shared<nn::Linear>(676, 128), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::Linear>(128, 64), std::make_shared<nn::ReLU>(),
                                     std::make_shared<nn::Linear>(64, 10)));
  }

  Tensor forward(const Tensor& input) override {  // (B, 784) -> (B, 10)
    Tensor images = input.reshape({input.size(0), 28, 28});
    phase("convolve");
    std::vector<Tensor> convolved;
    for (int64_t i = 0; i < images.size(0); ++i) convolved.push_back(convolve(images[i], kernel));
    Tensor features = stack(convolved).flatten(1);  // (B, 26, 26) -> (B, 676)
    phase("mlp forward");
    return mlp->forward(features);
  }
};

Measurement measure_naive_batch() {
  manual_seed(0);  // common.setup(), then the data, as the script
  Tensor x = rand({kBatch, 784});
  Tensor labels = randint(0, 10, {kBatch});
  manual_seed(0);
  auto model = std::make_shared<ConvNet>();
  optim::Adam optimizer(model->parameters(), optim::AdamOptions(1e-3));
  auto step = [&] {
    phase("zero_grad");
    optimizer.zero_grad();
    Tensor logits = model->forward(x);  // (B, 10)
    phase("loss");
    Tensor loss = F::cross_entropy(logits, labels);
    phase("backward");
    loss.backward();
    phase("optimizer");
    optimizer.step();
    phase("release");
  };
  Measurement m;
  m.stats = time_it(step, {5, 1});
  m.throughput = kBatch / m.stats.median;
  m.unit = "images/s";
  return m;
}

}  // namespace

void add_conv_workloads(Registry& registry) {
  registry.add("conv", fmt::format("conv batch B={} naive Convolve", kBatch), measure_naive_batch);
}

}  // namespace ember::bench
