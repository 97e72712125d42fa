// The backward pass: topological order, then gradients from the loss to the leaves.
#include "ember/autograd.h"

#include <algorithm>
#include <atomic>

#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {
namespace {
thread_local bool grad_mode_enabled = true;

// Leaves keep their gradient across backward calls and add new ones to it.
void accumulate_into_leaf(const Tensor& leaf, const Tensor& grad) {
  TensorImpl& impl = *leaf.impl();
  if (!impl.grad) {
    // The leaf needs a private gradient: grad may alias a tensor that another input also
    // received. A dense gradient that nothing else holds (one handle, its own storage)
    // is private already and is kept as it is; anything else is copied.
    const TensorImpl& g = *grad.impl();
    bool unshared = grad.impl().use_count() == 1 && g.storage.use_count() == 1 && g.offset == 0 &&
                    g.storage->count() == grad.numel() && grad.is_contiguous();
    impl.grad = unshared ? grad.impl() : grad.clone().impl();
  } else {
    Tensor existing(impl.grad);
    existing += grad;
  }
}

// Nodes reachable from root, each after every node that feeds gradient into it
// (so running them in this order goes from the loss back to the leaves): a depth-first
// walk that emits a node once all its inputs' producers are emitted, then reversed.
// Shared pointers keep every node alive until the pass ends, even while the graph is
// being released.
//
// The containers are kept per thread and cleared, not freed, between passes: a graph of a
// hundred thousand nodes makes them large, and freeing large blocks makes glibc's malloc
// reorganise every small block it caches, which cost more than the walk itself.
void topological_order(const std::shared_ptr<Node>& root, std::vector<std::shared_ptr<Node>>& postorder) {
  static std::atomic<uint64_t> pass_counter{0};
  const uint64_t pass = ++pass_counter;  // marks the nodes this walk has reached
  struct Frame {
    const std::shared_ptr<Node>* node;  // owned by the consumer's input (or the caller)
    size_t next_input;
  };
  thread_local std::vector<Frame> stack;
  stack.clear();
  postorder.clear();
  auto enter = [&](const std::shared_ptr<Node>& node) {
    node->visited_in_pass = pass;
    node->pending_grad = Tensor();  // left over only if an earlier pass threw halfway
    stack.push_back({&node, 0});
  };
  enter(root);
  while (!stack.empty()) {
    Frame& frame = stack.back();
    Node& node = **frame.node;
    if (frame.next_input == node.inputs.size()) {
      postorder.push_back(*frame.node);
      stack.pop_back();
      continue;
    }
    const Tensor& input = node.inputs[frame.next_input++];
    if (!input.defined()) continue;
    const std::shared_ptr<Node>& child = input.impl()->grad_fn;
    if (child && child->visited_in_pass != pass) enter(child);  // may move `frame`
  }
  std::reverse(postorder.begin(), postorder.end());
}

}  // namespace

bool grad_enabled() { return grad_mode_enabled; }
void set_grad_enabled(bool enabled) { grad_mode_enabled = enabled; }

namespace detail {

bool should_record(const Tensor* inputs, size_t count) {
  if (!grad_mode_enabled) return false;
  for (size_t i = 0; i < count; ++i) {
    if (inputs[i].defined() && inputs[i].impl()->requires_grad) return true;
  }
  return false;
}

Tensor attach_node(const char* name, std::vector<Tensor> inputs, Tensor output,
                   Node::BackwardFunction backward) {
  std::shared_ptr<Node> node = new_node();
  node->name = name;
  node->inputs = std::move(inputs);
  node->backward = std::move(backward);
  node->output_shape = output.shape();
  output.impl()->grad_fn = std::move(node);
  output.impl()->requires_grad = true;
  return output;
}

}  // namespace detail

void run_backward(const Tensor& root, const Tensor& gradient) {
  EMBER_CHECK(root.requires_grad(),
        "backward: this tensor does not require grad, so there is nothing to differentiate; "
        "did you forget set_requires_grad() on the parameters, or compute it under NoGradGuard?");
  Tensor root_grad;
  if (gradient.defined()) {
    EMBER_CHECK(gradient.shape() == root.shape(),
          "backward: the gradient has shape {} but the tensor has shape {}",
          shape_str(gradient.shape()), shape_str(root.shape()));
    check_same_device(root, gradient, "backward");
    root_grad = gradient;
  } else {
    EMBER_CHECK(root.numel() == 1,
          "backward: a gradient can be created implicitly only for a tensor with one element, "
          "but this one has shape {}; reduce it first (sum(), mean()) or pass backward(gradient)",
          shape_str(root.shape()));
    root_grad = ones_like(root);
  }

  NoGradGuard no_grad;  // backward closures build no graph of their own
  if (root.is_leaf()) {
    accumulate_into_leaf(root, root_grad);
    return;
  }
  std::shared_ptr<Node> root_node = root.impl()->grad_fn;
  EMBER_CHECK(static_cast<bool>(root_node->backward),
        "backward: the graph behind this tensor was already used by an earlier backward() and "
        "has been freed; compute the loss again before calling backward() a second time");
  thread_local std::vector<std::shared_ptr<Node>> order;  // cleared, not freed (see above)
  topological_order(root_node, order);

  // If a closure throws (a user-defined op's bug), drop the partial gradients and this
  // thread's references to the nodes before passing the error on, so that they hold no
  // memory until the next pass. (Leaves reached before the error keep what they got.)
  struct ForgetOnError {
    std::vector<std::shared_ptr<Node>>& order;
    ~ForgetOnError() {
      if (order.empty()) return;  // the pass finished and released everything
      for (const std::shared_ptr<Node>& node : order) node->pending_grad = Tensor();
      order.clear();
    }
  } forget_on_error{order};

  root_node->pending_grad = root_grad;
  for (const std::shared_ptr<Node>& node : order) {
    if (!node->pending_grad.defined()) continue;  // no gradient flows through this node
    Tensor grad_output = std::move(node->pending_grad);
    node->pending_grad = Tensor();
    EMBER_CHECK(static_cast<bool>(node->backward),
          "backward: part of this graph ({}) was already freed by an earlier backward(); "
          "compute it again",
          node->name);
    EMBER_CHECK(grad_output.shape() == node->output_shape,
                "backward: internal error in '{}': gradient of shape {} for an output of shape {}",
                node->name, shape_str(grad_output.shape()), shape_str(node->output_shape));
    std::vector<Tensor> input_grads = node->backward(grad_output);
    for (size_t i = 0; i < node->inputs.size() && i < input_grads.size(); ++i) {
      const Tensor& input = node->inputs[i];
      const Tensor& grad = input_grads[i];
      if (!grad.defined() || !input.defined() || !input.requires_grad()) continue;
      EMBER_CHECK(grad.shape() == input.shape(),
            "backward: internal error in '{}': gradient of shape {} for an input of shape {}",
            node->name, shape_str(grad.shape()), shape_str(input.shape()));
      if (Node* producer = input.impl()->grad_fn.get()) {
        Tensor& slot = producer->pending_grad;
        slot = slot.defined() ? slot + grad : grad;
      } else {
        accumulate_into_leaf(input, grad);
      }
    }
  }
  // Release the graph: closures hold intermediate tensors that can be large.
  for (const std::shared_ptr<Node>& node : order) {
    node->backward = nullptr;
    node->inputs.clear();
  }
  order.clear();
}

}  // namespace ember
