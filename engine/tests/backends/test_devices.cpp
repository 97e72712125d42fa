// Devices across the engine, as a training loop meets them: a module and its buffers moved
// with to(), batches moved with Example::to or delivered on a device by a DataLoader after
// dataset.to(device), optimizers stepping wherever their parameters live, and the errors
// for an op given tensors from two devices or a device that cannot be used.
//
// Tests that need a GPU skip themselves with the reason ("no CUDA device: ..."); the
// DevicesWithoutAGpu tests check the errors of a build or machine without one and skip on a
// machine that has one.
#include "cuda_skip.h"
#include "gradcheck.h"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <ember/data/dataloader.h>
#include <ember/data/dataset.h>
#include <ember/nn/functional.h>
#include <ember/nn/linear.h>
#include <ember/nn/module.h>
#include <ember/optim/adam.h>
#include <ember/optim/sgd.h>

using namespace ember;
using ember_test::make_input;
using ember_test::throws_error;

namespace {

const Device kCuda = Device::cuda(0);


// What moving to cuda:0 says here when it cannot work.
const char* kNoCudaMessage =
#ifdef EMBER_HAS_CUDA_BACKEND
    "no CUDA device: cannot use cuda:0";
#else
    "cuda:0: Ember was built without CUDA";
#endif

// A dataset that builds every example on the CPU, as course datasets do: i -> (i, 2i), 10 + i.
class HostDataset : public data::Dataset {
 public:
  explicit HostDataset(int64_t n) : n_(n) {}
  int64_t size() const override { return n_; }
  data::Example get(int64_t i) const override {
    return data::Example{from_vector({static_cast<float>(i), static_cast<float>(2 * i)}, {2}),
                         from_vector({static_cast<float>(10 + i)}, {1})};
  }

 private:
  int64_t n_;
};

struct Net : nn::Module {
  std::shared_ptr<nn::Linear> fc;
  Tensor scale;  // a buffer: it must move with the parameters
  Net() {
    fc = register_module("fc", std::make_shared<nn::Linear>(3, 2));
    scale = register_buffer("scale", full({2}, 0.5f));
  }
  Tensor forward(const Tensor& x) override { return fc->forward(x) * scale; }
};

}  // namespace

// ---- everywhere ---------------------------------------------------------------------------

TEST(Devices, ExampleToItsOwnDeviceKeepsTheTensors) {
  data::Example example{make_input({2, 3}), make_input({2})};
  data::Example same = example.to(Device::cpu());
  EXPECT_TRUE(same.x.same_impl(example.x));
  EXPECT_TRUE(same.label.same_impl(example.label));
  data::Example unlabelled{make_input({4}), Tensor()};
  data::Example moved = unlabelled.to(Device::cpu());
  EXPECT_TRUE(moved.x.same_impl(unlabelled.x));
  EXPECT_FALSE(moved.label.defined());
}

TEST(Devices, DatasetToRecordsTheDeviceTheLoaderDeliversOn) {
  HostDataset dataset(5);
  EXPECT_FALSE(dataset.target_device().has_value());
  data::Dataset& same = dataset.to(Device::cpu());
  EXPECT_EQ(&same, &dataset);
  ASSERT_TRUE(dataset.target_device().has_value());
  EXPECT_EQ(*dataset.target_device(), Device::cpu());
  data::DataLoader loader(dataset, 2);
  int64_t rows = 0;
  for (const data::Batch& batch : loader) {
    EXPECT_EQ(batch.x.device(), Device::cpu());
    EXPECT_EQ(batch.label.device(), Device::cpu());
    rows += batch.x.size(0);
  }
  EXPECT_EQ(rows, 5);
}

TEST(Devices, TensorDatasetToItsOwnDeviceKeepsItsTensors) {
  Tensor x = make_input({6, 3}), labels = make_input({6});
  data::TensorDataset dataset(x, labels);
  data::TensorDataset& same = dataset.to(Device::cpu());
  EXPECT_EQ(&same, &dataset);
  EXPECT_TRUE(dataset.x().same_impl(x));
  EXPECT_TRUE(dataset.labels().same_impl(labels));
  EXPECT_EQ(*dataset.target_device(), Device::cpu());
}

// ---- without a GPU -------------------------------------------------------------------------

TEST(DevicesWithoutAGpu, MovingAModuleFailsClearlyAndLeavesItWhole) {
  if (cuda::is_available()) GTEST_SKIP() << "this machine has a GPU; this test checks life without one";
  manual_seed(3);
  Net net;
  net.forward(make_input({2, 3})).sum().backward();
  const std::vector<float> weight = net.fc->weight.to_vector();
  const std::vector<float> grad = net.fc->weight.grad().to_vector();
  EXPECT_TRUE(throws_error([&] { net.to(kCuda); }, kNoCudaMessage));
  for (const Tensor& t : net.parameters()) EXPECT_EQ(t.device(), Device::cpu());
  EXPECT_EQ(net.scale.device(), Device::cpu());
  EXPECT_EQ(net.fc->weight.to_vector(), weight);
  EXPECT_EQ(net.fc->weight.grad().to_vector(), grad);
}

TEST(DevicesWithoutAGpu, MovingDataFailsClearlyAndLeavesItWhole) {
  if (cuda::is_available()) GTEST_SKIP() << "this machine has a GPU; this test checks life without one";
  Tensor x = make_input({4, 2}), labels = make_input({4});
  EXPECT_TRUE(throws_error([&] { data::Example{x, labels}.to(kCuda); }, kNoCudaMessage));

  data::TensorDataset tensors(x, labels);
  EXPECT_TRUE(throws_error([&] { tensors.to(kCuda); }, kNoCudaMessage));
  EXPECT_TRUE(tensors.x().same_impl(x));
  EXPECT_TRUE(tensors.labels().same_impl(labels));
  EXPECT_FALSE(tensors.target_device().has_value());

  HostDataset host(3);
  EXPECT_TRUE(throws_error([&] { host.to(kCuda); }, kNoCudaMessage));
  EXPECT_FALSE(host.target_device().has_value());
  data::DataLoader loader(host, 3);
  EXPECT_EQ((*loader.begin()).x.device(), Device::cpu());
}

// ---- with a GPU -----------------------------------------------------------------------------

TEST(DevicesOnCuda, ModuleToMovesParametersBuffersAndGradients) {
  SKIP_WITHOUT_CUDA();
  manual_seed(3);
  Net net;
  Tensor weight = net.fc->weight;  // a handle taken before the move
  net.forward(make_input({2, 3})).sum().backward();
  const std::vector<float> values = weight.to_vector(), grad = weight.grad().to_vector();
  net.to(kCuda);
  for (const Tensor& t : net.parameters()) EXPECT_EQ(t.device(), kCuda);
  for (const Tensor& t : net.buffers()) EXPECT_EQ(t.device(), kCuda);
  EXPECT_EQ(weight.device(), kCuda);
  EXPECT_EQ(weight.grad().device(), kCuda);
  EXPECT_EQ(weight.to_vector(), values);
  EXPECT_EQ(weight.grad().to_vector(), grad);
  EXPECT_EQ(net.forward(make_input({2, 3}).to(kCuda)).device(), kCuda);
}

TEST(DevicesOnCuda, BatchesMoveAndLoadersDeliverOnTheDatasetsDevice) {
  SKIP_WITHOUT_CUDA();
  // Example::to, there and back.
  data::Example example{make_input({2, 3}), make_input({2})};
  data::Example there = example.to(kCuda);
  EXPECT_EQ(there.x.device(), kCuda);
  EXPECT_EQ(there.label.device(), kCuda);
  data::Example back = there.to(Device::cpu());
  EXPECT_EQ(back.x.to_vector(), example.x.to_vector());
  EXPECT_EQ(back.label.to_vector(), example.label.to_vector());

  // A TensorDataset moves its tensors: batches are gathered on the GPU.
  std::vector<float> xs, ys;
  for (int i = 0; i < 7; ++i) {
    xs.insert(xs.end(), {static_cast<float>(i), static_cast<float>(2 * i)});
    ys.push_back(static_cast<float>(10 + i));
  }
  data::TensorDataset tensors(from_vector(xs, {7, 2}), from_vector(ys, {7}));
  tensors.to(kCuda);
  EXPECT_EQ(tensors.x().device(), kCuda);
  EXPECT_EQ(tensors.labels().device(), kCuda);
  EXPECT_EQ(tensors.get(3).x.device(), kCuda);

  // A dataset that builds its examples on the CPU: the loader moves each batch.
  HostDataset host(7);
  host.to(kCuda);
  for (const data::Dataset* dataset : {static_cast<const data::Dataset*>(&tensors),
                                       static_cast<const data::Dataset*>(&host)}) {
    manual_seed(5);
    data::DataLoader loader(*dataset, 3, /*shuffle=*/true);
    int64_t rows = 0;
    for (const data::Batch& batch : loader) {
      ASSERT_EQ(batch.x.device(), kCuda);
      ASSERT_EQ(batch.label.device(), kCuda);
      const std::vector<float> x = batch.x.to_vector(), label = batch.label.to_vector();
      for (int64_t r = 0; r < batch.x.size(0); ++r) {
        EXPECT_EQ(x[2 * r + 1], 2 * x[2 * r]);
        EXPECT_EQ(label[r], 10 + x[2 * r]);
      }
      rows += batch.x.size(0);
    }
    EXPECT_EQ(rows, 7);
  }
}

TEST(DevicesOnCuda, OpsOnTwoDevicesThrowAClearError) {
  SKIP_WITHOUT_CUDA();
  Tensor cpu = make_input({2, 3}), gpu = make_input({2, 3}).to(kCuda);
  const std::string same = "expected all tensors on the same device, but found";
  EXPECT_TRUE(throws_error([&] { (void)(cpu + gpu); }, same));
  EXPECT_TRUE(throws_error([&] { (void)(gpu * cpu); }, same));
  EXPECT_TRUE(throws_error([&] { matmul(cpu, gpu.t()); }, same));
  EXPECT_TRUE(throws_error([&] { cat({cpu, gpu}, 0); }, same));
  EXPECT_TRUE(throws_error([&] { index_select(gpu, tensor({0, 1})); }, same));
  EXPECT_TRUE(throws_error([&] { nn::functional::mse_loss(gpu, cpu); }, "cpu"));
  EXPECT_TRUE(throws_error([&] { nn::functional::cross_entropy(gpu, tensor({0, 2})); },
                           "cross_entropy: logits are on cuda:0 but target is on cpu"));
  nn::Linear layer(3, 4);
  layer.to(kCuda);
  EXPECT_TRUE(throws_error([&] { layer.forward(cpu); },
                           "Linear: the input is on cpu but the layer's weight is on cuda:0"));
  EXPECT_TRUE(throws_error([&] { data::TensorDataset both(cpu, gpu); },
                           "TensorDataset: x is on cpu but labels is on cuda:0"));
}

TEST(DevicesOnCuda, OptimizersFollowTheirParametersToTheGpu) {
  SKIP_WITHOUT_CUDA();
  namespace F = nn::functional;
  // Three steps on the CPU, then the model moves to the GPU and takes three more with the
  // same optimizer (its momentum or moment estimates must move too), against six steps on
  // the CPU.
  for (bool use_adam : {false, true}) {
    SCOPED_TRACE(use_adam ? "Adam" : "SGD with momentum");
    auto run = [&](bool move_halfway) {
      manual_seed(13);
      Net net;
      std::unique_ptr<optim::Optimizer> optimizer;
      if (use_adam) {
        optimizer = std::make_unique<optim::Adam>(net.parameters(), optim::AdamOptions(1e-2));
      } else {
        optimizer = std::make_unique<optim::SGD>(net.parameters(), optim::SGDOptions(0.1).momentum(0.9));
      }
      const Tensor x = make_input({8, 3}, -1, 1, 41), y = make_input({8, 2}, -1, 1, 42);
      for (int step = 0; step < 6; ++step) {
        if (move_halfway && step == 3) net.to(kCuda);
        const Device device = net.fc->weight.device();
        optimizer->zero_grad();
        Tensor loss = F::mse_loss(net.forward(x.to(device)), y.to(device));
        loss.backward();
        optimizer->step();
      }
      EXPECT_EQ(net.fc->weight.device(), move_halfway ? kCuda : Device::cpu());
      std::vector<float> values = net.fc->weight.to_vector();
      for (float v : net.fc->bias.to_vector()) values.push_back(v);
      return values;
    };
    const std::vector<float> cpu = run(false), moved = run(true);
    ASSERT_EQ(cpu.size(), moved.size());
    for (size_t i = 0; i < cpu.size(); ++i) EXPECT_NEAR(moved[i], cpu[i], 1e-4) << "parameter value " << i;
  }
}
