// Reverse-mode automatic differentiation, in the spirit of micrograd.
//
// Each op that produces a tensor from inputs that require grad records a Node: the
// inputs it read and a closure that turns d(loss)/d(output) into d(loss)/d(input) for
// each input. backward() sorts the nodes reachable from the loss topologically and runs
// the closures from the loss back to the leaves, adding up gradients where a tensor was
// used more than once. Backward closures are written with ordinary tensor ops (run with
// grad recording off), so every backend gets gradients for free.
#pragma once

#include <functional>
#include <initializer_list>
#include <string>
#include <vector>

#include "ember/tensor.h"

namespace ember {

struct Node {
  using BackwardFunction = std::function<std::vector<Tensor>(const Tensor& grad_output)>;

  std::string name;            // "matmul", "exp", ... for messages and debugging
  std::vector<Tensor> inputs;  // one gradient is returned per input, in this order
  BackwardFunction backward;   // may return an undefined Tensor for an input that needs none
  Shape output_shape;          // the gradient arriving here must have this shape

  // Bookkeeping of run_backward, kept in the node itself rather than in hash maps keyed
  // by node (a graph can have hundreds of thousands of nodes; a lookup per node cost
  // more than many of the closures):
  Tensor pending_grad;          // d(loss)/d(output) summed so far during a pass
  uint64_t visited_in_pass = 0; // the pass that last reached this node while sorting
};

// Whether ops record the graph on this thread (on by default).
bool grad_enabled();
void set_grad_enabled(bool enabled);

// Turns graph recording off for its lifetime, as torch.no_grad():
//   { NoGradGuard no_grad; w += x; }
class NoGradGuard {
 public:
  NoGradGuard() : previous_(grad_enabled()) { set_grad_enabled(false); }
  ~NoGradGuard() { set_grad_enabled(previous_); }
  NoGradGuard(const NoGradGuard&) = delete;
  NoGradGuard& operator=(const NoGradGuard&) = delete;

 private:
  bool previous_;
};

// Used by ops: when recording is on and any input requires grad, attaches a Node to
// output (which then requires grad too). Returns output for chaining.
Tensor record_op(const char* name, std::vector<Tensor> inputs, Tensor output,
                 Node::BackwardFunction backward);

// True when an op on these inputs would be recorded.
bool any_requires_grad(const std::vector<Tensor>& inputs);
// The same for a list written in place, any_requires_grad({a, b}), without building a vector.
bool any_requires_grad(std::initializer_list<std::reference_wrapper<const Tensor>> inputs);

// Runs backpropagation from root (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient);

}  // namespace ember
