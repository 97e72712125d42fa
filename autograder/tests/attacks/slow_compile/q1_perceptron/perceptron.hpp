// ATTACK slow_compile (autograder/tests/attacks/README.md): constants that make the compiler
// evaluate a loop of 25 million steps each, within GCC's own constexpr limits: about 5 s of
// compiler time apiece, so these 40 would keep a grading worker busy for minutes (300 of them,
// the red team's version, for hours). The driver stops a question's compile at its budget
// (--compile-timeout, 300 s by default; the test sets 10 s). Everything else is the stub's.
constexpr long ember_spin(long k) {
  long s = 0;
  for (long i = 0; i < 5000; ++i) {
    for (long j = 0; j < 5000; ++j) s += i ^ j ^ k;
  }
  return s;
}
template <long K>
struct EmberBurn {
  static constexpr long value = ember_spin(K);
};
constexpr long ember_burn_0 = EmberBurn<0>::value;
constexpr long ember_burn_1 = EmberBurn<1>::value;
constexpr long ember_burn_2 = EmberBurn<2>::value;
constexpr long ember_burn_3 = EmberBurn<3>::value;
constexpr long ember_burn_4 = EmberBurn<4>::value;
constexpr long ember_burn_5 = EmberBurn<5>::value;
constexpr long ember_burn_6 = EmberBurn<6>::value;
constexpr long ember_burn_7 = EmberBurn<7>::value;
constexpr long ember_burn_8 = EmberBurn<8>::value;
constexpr long ember_burn_9 = EmberBurn<9>::value;
constexpr long ember_burn_10 = EmberBurn<10>::value;
constexpr long ember_burn_11 = EmberBurn<11>::value;
constexpr long ember_burn_12 = EmberBurn<12>::value;
constexpr long ember_burn_13 = EmberBurn<13>::value;
constexpr long ember_burn_14 = EmberBurn<14>::value;
constexpr long ember_burn_15 = EmberBurn<15>::value;
constexpr long ember_burn_16 = EmberBurn<16>::value;
constexpr long ember_burn_17 = EmberBurn<17>::value;
constexpr long ember_burn_18 = EmberBurn<18>::value;
constexpr long ember_burn_19 = EmberBurn<19>::value;
constexpr long ember_burn_20 = EmberBurn<20>::value;
constexpr long ember_burn_21 = EmberBurn<21>::value;
constexpr long ember_burn_22 = EmberBurn<22>::value;
constexpr long ember_burn_23 = EmberBurn<23>::value;
constexpr long ember_burn_24 = EmberBurn<24>::value;
constexpr long ember_burn_25 = EmberBurn<25>::value;
constexpr long ember_burn_26 = EmberBurn<26>::value;
constexpr long ember_burn_27 = EmberBurn<27>::value;
constexpr long ember_burn_28 = EmberBurn<28>::value;
constexpr long ember_burn_29 = EmberBurn<29>::value;
constexpr long ember_burn_30 = EmberBurn<30>::value;
constexpr long ember_burn_31 = EmberBurn<31>::value;
constexpr long ember_burn_32 = EmberBurn<32>::value;
constexpr long ember_burn_33 = EmberBurn<33>::value;
constexpr long ember_burn_34 = EmberBurn<34>::value;
constexpr long ember_burn_35 = EmberBurn<35>::value;
constexpr long ember_burn_36 = EmberBurn<36>::value;
constexpr long ember_burn_37 = EmberBurn<37>::value;
constexpr long ember_burn_38 = EmberBurn<38>::value;
constexpr long ember_burn_39 = EmberBurn<39>::value;

// Lesson q1: the perceptron.
//
// A perceptron scores a point x with a weight vector w, score = w . x, and predicts +1 when
// the score is >= 0 and -1 otherwise. It learns by correcting its mistakes: whenever it
// gets a training point wrong, it adds label * x to w, which moves the score of that point
// towards the right side. On data that a line separates, this stops after finitely many
// mistakes.
//
// The dataset (course::PerceptronDataset) holds 500 points (x0, x1, 1): the constant 1
// lets w's last entry act as a bias. Its labels are +1 and -1.
// Time budget: the whole grader must finish in 60 s; training takes well under a second.
#pragma once

// The same includes and names in every lesson, so code moves between lessons as it is.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember_course/perceptron_dataset.h>

namespace q1 {
using namespace ember;
namespace F = ember::nn::functional;

class PerceptronModel : public nn::Module {
 public:
  // Registers exactly one parameter, named "w", of shape (1, dimensions):
  //   register_parameter("w", ...)
  // Its starting values do not matter much; ones({1, dimensions}) is the usual choice.
  explicit PerceptronModel(int64_t dimensions) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q1: PerceptronModel::PerceptronModel");
  }

  // The parameter w itself, shape (1, dimensions): the tensor that register_parameter
  // returned, not a copy, so changes through it change the model.
  Tensor get_weights() {
    // YOUR CODE HERE
    throw ember::NotImplemented("q1: PerceptronModel::get_weights");
  }

  // x: one point, shape (1, dimensions). Returns its score w . x as a tensor holding exactly
  // one value (for example of shape (1, 1)); read it with .item().
  Tensor run(const Tensor& x) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q1: PerceptronModel::run");
  }

  // x: one point, shape (1, dimensions). Returns +1 if its score is >= 0 (a score of exactly
  // 0 counts as +1), else -1.
  int get_prediction(const Tensor& x) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q1: PerceptronModel::get_prediction");
  }

  // Trains until the model classifies every point of dataset correctly. Walk it in batches
  // of one point:
  //   data::DataLoader loader(dataset, 1, /*shuffle=*/true);
  //   for (const data::Batch& batch : loader) { ... batch.x (1, d), batch.label (1, 1) ... }
  // and on every mistake update w += label * x. Repeat whole passes until one pass makes no
  // mistake. The update changes w in place, which autograd forbids on a parameter while it
  // records; do the training under NoGradGuard (no gradients are needed here).
  void train(const course::PerceptronDataset& dataset) {
    // YOUR CODE HERE
    throw ember::NotImplemented("q1: PerceptronModel::train");
  }

  // Module::train(bool) switches training mode; this keeps it callable beside train(dataset).
  using nn::Module::train;

 private:
  // YOUR CODE HERE
};

}  // namespace q1
