// Printing in PyTorch's style. Expected strings are what PyTorch 2.x prints for the same
// float32 values (torch.set_printoptions defaults: precision 4).
#include "gradcheck.h"

#include <sstream>

using namespace ember;
using namespace ember_test;

namespace {
std::string streamed(const Tensor& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}
}  // namespace

TEST(Printing, IntegralValuesPrintWithTrailingDot) {
  EXPECT_EQ(tensor({{2, 3}}).str(), "tensor([[2., 3.]])");
  EXPECT_EQ(tensor({1, 2, 3}).str(), "tensor([1., 2., 3.])");
  EXPECT_EQ(tensor({5}).str(), "tensor([5.])");
  EXPECT_EQ(zeros({2}).str(), "tensor([0., 0.])");
}

TEST(Printing, FractionalValuesPrintFourDecimals) {
  EXPECT_EQ(tensor({0.5f, 1.25f}).str(), "tensor([0.5000, 1.2500])");
  EXPECT_EQ(tensor({1.0f / 3.0f}).str(), "tensor([0.3333])");
  EXPECT_EQ(tensor({2.0f / 3.0f}).str(), "tensor([0.6667])");  // rounded, not truncated
}

TEST(Printing, OneFractionalValueSwitchesWholeTensorToDecimals) {
  EXPECT_EQ(tensor({1, 2.5f}).str(), "tensor([1.0000, 2.5000])");
}

TEST(Printing, Scalars) {
  EXPECT_EQ(tensor(3.0f).str(), "tensor(3.)");
  EXPECT_EQ(tensor(0.5f).str(), "tensor(0.5000)");
  EXPECT_EQ(tensor({{1, 2}, {3, 4}}).sum().detach().str(), "tensor(10.)");
}

TEST(Printing, MultiRowMatrixIndentsByEightSpaces) {
  EXPECT_EQ(tensor({{1, 2}, {3, 4}}).str(),
            "tensor([[1., 2.],\n"
            "        [3., 4.]])");
  EXPECT_EQ(tensor({{0.5f, 1}, {2, 3}, {4, 5}}).str(),
            "tensor([[0.5000, 1.0000],\n"
            "        [2.0000, 3.0000],\n"
            "        [4.0000, 5.0000]])");
}

TEST(Printing, ColumnVector) {
  EXPECT_EQ(from_vector({1, 2}, {2, 1}).str(),
            "tensor([[1.],\n"
            "        [2.]])");
}

TEST(Printing, ThreeDimensionalSeparatesBlocksWithBlankLine) {
  EXPECT_EQ(arange(1.0f, 9.0f).view({2, 2, 2}).str(),
            "tensor([[[1., 2.],\n"
            "         [3., 4.]],\n"
            "\n"
            "        [[5., 6.],\n"
            "         [7., 8.]]])");
}

TEST(Printing, FourDimensional) {
  EXPECT_EQ(arange(4.0f).view({2, 1, 1, 2}).str(),
            "tensor([[[[0., 1.]]],\n"
            "\n"
            "\n"
            "        [[[2., 3.]]]])");
}

TEST(Printing, NonContiguousTensorPrintsLogicalOrder) {
  EXPECT_EQ(tensor({{1, 2}, {3, 4}}).t().str(),
            "tensor([[1., 3.],\n"
            "        [2., 4.]])");
  EXPECT_EQ(tensor({7, 8}).expand({2, 2}).str(),
            "tensor([[7., 8.],\n"
            "        [7., 8.]])");
}

TEST(Printing, RequiresGradSuffix) {
  Tensor w = tensor({1, 2});
  w.set_requires_grad(true);
  EXPECT_EQ(w.str(), "tensor([1., 2.], requires_grad=True)");
  Tensor m = tensor({{0.5f, 1}, {2, 3}});
  m.set_requires_grad(true);
  EXPECT_EQ(m.str(),
            "tensor([[0.5000, 1.0000],\n"
            "        [2.0000, 3.0000]], requires_grad=True)");
  Tensor s = tensor(2.0f);
  s.set_requires_grad(true);
  EXPECT_EQ(s.str(), "tensor(2., requires_grad=True)");
  EXPECT_EQ(w.detach().str(), "tensor([1., 2.])");
}

TEST(Printing, NonLeafResultMentionsGradTracking) {
  // PyTorch prints grad_fn=<MulBackward0> for results; whatever Ember prints, it must show
  // that the result is tracked and still start with the values.
  Tensor w = tensor({1, 2});
  w.set_requires_grad(true);
  std::string s = (w * 2.0f).str();
  EXPECT_EQ(s.rfind("tensor([2., 4.]", 0), 0u) << s;
  EXPECT_TRUE(s.find("grad") != std::string::npos) << s;
}

TEST(Printing, StreamAndFmtMatchStr) {
  Tensor t = tensor({{0.25f, -1}, {3, 4}});
  EXPECT_EQ(streamed(t), t.str());
  EXPECT_EQ(fmt::format("{}", t), t.str());
  Tensor s = tensor(1.5f);
  EXPECT_EQ(fmt::format("{}", s), "tensor(1.5000)");
  EXPECT_EQ(streamed(s), "tensor(1.5000)");
  EXPECT_EQ(fmt::format("x = {}!", tensor({1, 2})), "x = tensor([1., 2.])!");
}

// ---- PyTorch pads every element to a common width -----------------------------------

TEST(Printing, NegativeValuesAlignWithPositives) {
  EXPECT_EQ(tensor({-1, 2}).str(), "tensor([-1.,  2.])");
  EXPECT_EQ(tensor({{1.5f, -2.25f}, {3, 4}}).str(),
            "tensor([[ 1.5000, -2.2500],\n"
            "        [ 3.0000,  4.0000]])");
}

TEST(Printing, WiderIntegersAlign) {
  EXPECT_EQ(tensor({1, 10, 100}).str(), "tensor([  1.,  10., 100.])");
  EXPECT_EQ(tensor({{1, 20}, {300, 4}}).str(),
            "tensor([[  1.,  20.],\n"
            "        [300.,   4.]])");
}

TEST(Printing, EmptyTensor) { EXPECT_EQ(zeros({0}).str(), "tensor([])"); }

TEST(Printing, NegativeScalars) {
  EXPECT_EQ(tensor(-3.0f).str(), "tensor(-3.)");
  EXPECT_EQ(tensor(-0.25f).str(), "tensor(-0.2500)");
}

// ---- PyTorch parity beyond the basics ---------------------------------------------------

TEST(Printing, ScientificNotationForWideRanges) {
  // PyTorch switches to scientific notation when max/min of the non-zero magnitudes
  // exceeds 1000 (or values are very large/small), so tiny gradients do not print as 0.
  EXPECT_EQ(tensor({1e-5f, 0.5f}).str(), "tensor([1.0000e-05, 5.0000e-01])");
}

TEST(Printing, LargeTensorsAreSummarized) {
  // More than 1000 elements: three edge items each side, as PyTorch.
  EXPECT_EQ(zeros({2000}).str(), "tensor([0., 0., 0.,  ..., 0., 0., 0.])");
  EXPECT_EQ(ones({100, 100}).str(),
            "tensor([[1., 1., 1.,  ..., 1., 1., 1.],\n"
            "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
            "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
            "        ...,\n"
            "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
            "        [1., 1., 1.,  ..., 1., 1., 1.],\n"
            "        [1., 1., 1.,  ..., 1., 1., 1.]])");
}
