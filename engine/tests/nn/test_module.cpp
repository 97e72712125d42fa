// nn::Module: registration, dotted names, de-duplication, modes, zero_grad, device
// moves, printing, and nn::Sequential.
#include <ember/nn/activation.h>
#include <ember/nn/dropout.h>
#include <ember/nn/flatten.h>
#include <ember/nn/linear.h>
#include <ember/nn/module.h>
#include <ember/nn/parameter.h>
#include <ember/nn/sequential.h>

#include "gradcheck.h"

namespace {

using ember::Tensor;
using ember_test::tensor_near;
using ember_test::throws_error;
using ember_test::throws_error_all;
namespace nn = ember::nn;

std::vector<std::string> names_of(const std::vector<nn::NamedTensor>& named) {
  std::vector<std::string> names;
  for (const auto& entry : named) names.push_back(entry.first);
  return names;
}

// A two-layer model with a buffer, written as a student would.
struct Net : nn::Module {
  std::shared_ptr<nn::Linear> fc1, fc2;
  Tensor scale;
  Tensor counter;
  Net() {
    fc1 = register_module("fc1", std::make_shared<nn::Linear>(4, 3));
    scale = register_parameter("scale", ember::ones({1}));
    fc2 = register_module("fc2", std::make_shared<nn::Linear>(3, 2));
    counter = register_buffer("counter", ember::zeros({1}));
  }
  Tensor forward(const Tensor& x) override {
    return fc2->forward(fc1->forward(x).relu()) * scale;
  }
};

struct NoForward : nn::Module {};

TEST(NnModule, ParametersAreListedRecursivelyInRegistrationOrder) {
  Net net;
  EXPECT_EQ(names_of(net.named_parameters()),
            (std::vector<std::string>{"scale", "fc1.weight", "fc1.bias", "fc2.weight",
                                      "fc2.bias"}));
  std::vector<Tensor> params = net.parameters();
  ASSERT_EQ(params.size(), 5u);
  EXPECT_TRUE(params[0].same_impl(net.scale));
  EXPECT_TRUE(params[1].same_impl(net.fc1->weight));
  EXPECT_TRUE(params[4].same_impl(net.fc2->bias));
  for (const Tensor& p : params) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  EXPECT_EQ(names_of(net.named_parameters(/*recurse=*/false)), std::vector<std::string>{"scale"});
  EXPECT_EQ(names_of(net.named_buffers()), std::vector<std::string>{"counter"});
  EXPECT_FALSE(net.counter.requires_grad());
  EXPECT_EQ(net.buffers().size(), 1u);

  auto children = net.named_children();
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].first, "fc1");
  EXPECT_EQ(children[0].second.get(), net.fc1.get());
  EXPECT_EQ(net.children()[1].get(), net.fc2.get());
}

TEST(NnModule, RegisterParameterMarksTheSameHandle) {
  nn::Module m("holder");
  Tensor t = ember::zeros({2});
  Tensor p = m.register_parameter("p", t);
  EXPECT_TRUE(p.same_impl(t));  // a leaf is marked in place
  EXPECT_TRUE(t.requires_grad());

  // A computed tensor is detached into a fresh leaf.
  Tensor w = ember::ones({2});
  w.set_requires_grad(true);
  Tensor computed = w * 2.0f;
  Tensor q = m.register_parameter("q", computed);
  EXPECT_TRUE(q.is_leaf());
  EXPECT_TRUE(q.requires_grad());
  EXPECT_TRUE(tensor_near(q, {2}, {2.0f, 2.0f}));
}

TEST(NnModule, ParameterHelperMakesLeaves) {
  Tensor p = nn::Parameter(ember::zeros({3}));
  EXPECT_TRUE(p.requires_grad());
  EXPECT_TRUE(p.is_leaf());
  EXPECT_TRUE(throws_error([] { nn::Parameter(Tensor()); }, "nn::Parameter"));
}

TEST(NnModule, SharedModulesAndTiedWeightsAreListedOnce) {
  auto shared = std::make_shared<nn::Linear>(2, 2);
  nn::Module outer("outer");
  outer.register_module("a", shared);
  outer.register_module("b", shared);
  auto other = outer.register_module("c", std::make_shared<nn::Linear>(2, 2, false));
  other->weight = shared->weight;  // not registered: still only the original handle
  outer.register_parameter("tied", shared->weight);
  EXPECT_EQ(names_of(outer.named_parameters()),
            (std::vector<std::string>{"tied", "a.bias", "c.weight"}));
  EXPECT_EQ(outer.parameters().size(), 3u);
}

TEST(NnModule, RegistrationErrorsNameTheModuleAndTheName) {
  Net net;
  EXPECT_TRUE(throws_error_all([&] { net.register_parameter("scale", ember::ones({1})); },
                               {"Net", "'scale' is already a parameter"}));
  EXPECT_TRUE(throws_error([&] { net.register_buffer("fc1", ember::ones({1})); },
                           "'fc1' is already a child module"));
  EXPECT_TRUE(throws_error([&] { net.register_module("counter", std::make_shared<nn::ReLU>()); },
                           "'counter' is already a buffer"));
  EXPECT_TRUE(throws_error([&] { net.register_parameter("a.b", ember::ones({1})); },
                           "must not contain '.'"));
  EXPECT_TRUE(throws_error([&] { net.register_parameter("", ember::ones({1})); },
                           "must not be empty"));
  EXPECT_TRUE(throws_error([&] { net.register_parameter("u", Tensor()); }, "undefined"));
  EXPECT_TRUE(throws_error(
      [&] { net.register_module("none", std::shared_ptr<nn::Linear>()); }, "is null"));
}

TEST(NnModule, RegisteringAnAncestorIsRejected) {
  auto outer = std::make_shared<nn::Sequential>();
  auto inner = std::make_shared<nn::Sequential>();
  outer->push_back(inner);
  EXPECT_TRUE(throws_error([&] { inner->push_back(outer); }, "its own descendant"));
  EXPECT_TRUE(throws_error([&] { inner->register_module("self", inner); }, "its own descendant"));
}

TEST(NnModule, TrainAndEvalAreRecursive) {
  auto model = std::make_shared<nn::Sequential>(std::make_shared<nn::Linear>(2, 2),
                                                std::make_shared<nn::Dropout>(0.5));
  EXPECT_TRUE(model->is_training());
  model->eval();
  EXPECT_FALSE(model->is_training());
  EXPECT_FALSE((*model)[0]->is_training());
  EXPECT_FALSE((*model)[1]->is_training());
  model->train();
  EXPECT_TRUE((*model)[1]->is_training());
  model->train(false);
  EXPECT_FALSE((*model)[0]->is_training());
}

TEST(NnModule, ZeroGradDropsEveryGradient) {
  Net net;
  Tensor loss = net.forward(ember::ones({5, 4})).sum();
  loss.backward();
  for (const Tensor& p : net.parameters()) ASSERT_TRUE(p.grad().defined());
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

TEST(NnModule, DefaultForwardThrowsWithTheName) {
  NoForward m;
  EXPECT_TRUE(throws_error([&] { m.forward(ember::ones({1})); },
                           "nn::Module 'NoForward': forward(Tensor) is not defined"));
  m.set_name("custom");
  EXPECT_TRUE(throws_error([&] { m(ember::ones({1})); },
                           "nn::Module 'custom': forward(Tensor) is not defined"));
  EXPECT_EQ(nn::Linear(2, 3).name(), "Linear");
  EXPECT_EQ(Net().name(), "Net");
}

TEST(NnModule, CallOperatorRunsForward) {
  ember::manual_seed(3);
  Net net;
  Tensor x = ember::linspace(-1.0f, 1.0f, 8).reshape({2, 4});
  EXPECT_TRUE(ember_test::tensors_near(net(x), net.forward(x)));
}

TEST(NnModule, ToKeepsEveryHandle) {
  Net net;
  Tensor weight = net.fc1->weight;
  std::vector<float> before = weight.to_vector();
  net.forward(ember::ones({1, 4})).sum().backward();
  Tensor grad = weight.grad();
  net.to(ember::Device::cpu());
  EXPECT_TRUE(weight.same_impl(net.fc1->weight));
  EXPECT_EQ(weight.to_vector(), before);
  EXPECT_EQ(weight.grad().to_vector(), grad.to_vector());
}

TEST(NnModule, ToCudaMovesInPlaceWhenAGpuIsPresent) {
  if (!ember::cuda::is_available()) GTEST_SKIP() << "no CUDA device in this build or machine";
  Net net;
  Tensor weight = net.fc1->weight;
  Tensor counter = net.counter;
  std::vector<float> before = weight.to_vector();
  net.forward(ember::ones({1, 4})).sum().backward();
  std::vector<float> grad_before = weight.grad().to_vector();

  net.to(ember::Device::cuda());
  EXPECT_TRUE(weight.device().is_cuda());
  EXPECT_TRUE(counter.device().is_cuda());
  EXPECT_TRUE(weight.grad().device().is_cuda());
  EXPECT_EQ(weight.to_vector(), before);
  EXPECT_EQ(weight.grad().to_vector(), grad_before);
  EXPECT_TRUE(weight.requires_grad());
  Tensor y = net.forward(ember::ones({2, 4}, ember::Device::cuda()));
  EXPECT_TRUE(y.device().is_cuda());

  net.to(ember::Device::cpu());
  EXPECT_TRUE(weight.device().is_cpu());
  EXPECT_EQ(weight.to_vector(), before);
}

TEST(NnModule, PrintsAsATree) {
  nn::Sequential model{std::make_shared<nn::Linear>(2, 3), std::make_shared<nn::ReLU>(),
                       std::make_shared<nn::Dropout>(0.25), std::make_shared<nn::Flatten>()};
  EXPECT_EQ(model.str(),
            "Sequential(\n"
            "  (0): Linear(in_features=2, out_features=3, bias=true)\n"
            "  (1): ReLU()\n"
            "  (2): Dropout(p=0.25)\n"
            "  (3): Flatten(start_dim=1, end_dim=-1)\n"
            ")");
}

// ---- Sequential -----------------------------------------------------------------------

TEST(NnSequential, NamesChildrenByPositionAndChainsForward) {
  ember::manual_seed(0);
  nn::Sequential model{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::Tanh>()};
  auto last = model.push_back(std::make_shared<nn::Linear>(4, 2));
  EXPECT_EQ(model.size(), 3u);
  EXPECT_EQ(names_of(model.named_parameters()),
            (std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"}));
  EXPECT_EQ(model[2].get(), last.get());

  Tensor x = ember::linspace(-1.0f, 1.0f, 6).reshape({2, 3});
  Tensor expected = model[2]->forward(model[1]->forward(model[0]->forward(x)));
  EXPECT_TRUE(ember_test::tensors_near(model.forward(x), expected));
  EXPECT_EQ(model.at<nn::Linear>(0)->out_features(), 4);

  nn::Sequential empty;
  EXPECT_TRUE(ember_test::tensors_near(empty.forward(x), x));
}

TEST(NnSequential, Errors) {
  nn::Sequential model{std::make_shared<nn::Linear>(3, 4), std::make_shared<nn::ReLU>()};
  EXPECT_TRUE(throws_error([&] { model[2]; }, "Sequential: index 2 is out of range for 2 layers"));
  EXPECT_TRUE(throws_error([&] { model.at<nn::Linear>(1); }, "layer 1 is a ReLU"));
  EXPECT_TRUE(throws_error([&] { model.push_back(std::shared_ptr<nn::ReLU>()); },
                           "Sequential: layer 2 is a null module pointer"));
  // An error inside a layer says which layer it came from.
  EXPECT_TRUE(throws_error([&] { model.forward(ember::ones({2, 5})); },
                           "Sequential[0] (Linear): Linear: expected input with 3 features in "
                           "its last dim, got shape (2, 5)"));
}

TEST(NnSequential, KeepsTheTypeOfNotImplemented) {
  struct Stub : nn::Module {
    Tensor forward(const Tensor&) override { throw ember::NotImplemented("q1: Stub::forward"); }
  };
  nn::Sequential model{std::make_shared<Stub>()};
  EXPECT_THROW(model.forward(ember::ones({1})), ember::NotImplemented);
}

}  // namespace
