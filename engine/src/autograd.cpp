// The backward pass: the nodes from the loss back to the leaves, newest first.
#include "ember/autograd.h"

#include <atomic>
#include <queue>
#include <vector>

#include "ember/creation.h"
#include "ember/ops.h"
#include "tensor_internal.h"

namespace ember {
namespace {
thread_local bool grad_mode_enabled = true;

// A closure may hand one tensor to several inputs (add's backward passes its gradient on to
// both), or a view of one. A gradient is private when nothing else can see it: one handle, a
// dense storage of its own. Only a private gradient is kept as it is, or added to in place
// (here, and by a view's add_into_input_grad): this test is what makes writing into it safe,
// so anything that would keep a second handle on a gradient (a hook, retain_grad) must keep
// it visible here.
bool is_private(const Tensor& grad) {
  const TensorImpl& g = *grad.impl();
  return grad.impl().use_count() == 1 && g.storage.use_count() == 1 && g.offset == 0 &&
         g.storage->count() == grad.numel() && grad.is_contiguous();
}

// Leaves keep their gradient across backward calls and add new ones to it.
void accumulate_into_leaf(const Tensor& leaf, const Tensor& grad) {
  TensorImpl& impl = *leaf.impl();
  if (!impl.grad) {
    impl.grad = is_private(grad) ? grad.impl() : grad.clone().impl();
  } else {
    Tensor existing(impl.grad);
    existing += grad;
  }
}

// Speed, not meaning: a large graph no longer fits in the caches, so run_backward asks for
// the nodes a node sends gradient to while its backward runs.
void prefetch_next(const Node& node) {
  for (const Edge& edge : node.next) __builtin_prefetch(edge.producer.get());
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

Tensor attach_node(std::shared_ptr<Node> node, const char* name, const Tensor* inputs, size_t count,
                   Tensor output) {
  static std::atomic<uint64_t> nodes_made{0};
  node->sequence_number = ++nodes_made;
  node->name = name;
  node->next.resize(count);
  for (size_t i = 0; i < count; ++i) {
    if (!inputs[i].defined() || !inputs[i].impl()->requires_grad) continue;  // no gradient: no edge
    const std::shared_ptr<TensorImpl>& input = inputs[i].impl();
    if (input->grad_fn) {
      node->next[i].producer = input->grad_fn;
    } else {
      node->next[i].leaf = input;
    }
  }
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
  EMBER_CHECK(!root_node->released,
        "backward: the graph behind this tensor was already used by an earlier backward() and "
        "has been freed; compute the loss again before calling backward() a second time");
  // The nodes run newest first. A node is made after the nodes that made its inputs, so
  // when the newest node still waiting runs, every node it passes gradient to is older and
  // has yet to run, and every node that passes gradient to it is newer and has run: its
  // gradient is complete. (The same order as a topological sort, found without one; it is
  // PyTorch's too.) A node waits in `ready` from the moment the first gradient reaches it.
  struct Waiting {
    uint64_t sequence_number;
    std::shared_ptr<Node> node;
    bool operator<(const Waiting& other) const { return sequence_number < other.sequence_number; }
  };
  std::priority_queue<Waiting> ready;  // the newest on top

  // If a closure throws (a user-defined op's bug), the partial gradients of the nodes still
  // waiting are dropped before the error goes on. (Leaves reached before the error keep
  // what they got, and the nodes that already ran are released.)
  struct ForgetOnError {
    std::priority_queue<Waiting>& ready;
    ~ForgetOnError() {
      for (; !ready.empty(); ready.pop()) ready.top().node->pending_grad = Tensor();
    }
  } forget_on_error{ready};

  root_node->pending_grad = root_grad;
  ready.push({root_node->sequence_number, root_node});
  while (!ready.empty()) {
    const std::shared_ptr<Node> node = ready.top().node;
    ready.pop();
    const Tensor grad_output = std::move(node->pending_grad);
    node->pending_grad = Tensor();
    EMBER_CHECK(!node->released,
          "backward: part of this graph ({}) was already freed by an earlier backward(); "
          "compute it again",
          node->name);
    EMBER_CHECK(grad_output.shape() == node->output_shape,
                "backward: internal error in '{}': gradient of shape {} for an output of shape {}",
                node->name, shape_str(grad_output.shape()), shape_str(node->output_shape));
    prefetch_next(*node);
    // A view of a tensor whose gradient is already being summed adds into its place of that
    // sum (Node::add_into_input_grad), when the sum is private.
    Node* const input = node->next.size() == 1 ? node->next[0].producer.get() : nullptr;
    if (input != nullptr && input->pending_grad.defined() && is_private(input->pending_grad) &&
        node->add_into_input_grad(input->pending_grad, grad_output)) {
      node->release();
      continue;
    }
    const std::vector<Tensor> input_grads = node->backward(grad_output);
    for (size_t i = 0; i < node->next.size() && i < input_grads.size(); ++i) {
      const Edge& edge = node->next[i];
      const Tensor& grad = input_grads[i];
      if (!grad.defined() || (!edge.producer && !edge.leaf)) continue;
      const Shape& input_shape = edge.producer ? edge.producer->output_shape : edge.leaf->shape;
      EMBER_CHECK(grad.shape() == input_shape,
            "backward: internal error in '{}': gradient of shape {} for an input of shape {}",
            node->name, shape_str(grad.shape()), shape_str(input_shape));
      const std::shared_ptr<Node>& producer = edge.producer;
      if (!producer) {
        // (A leaf switched off since the op ran, as a frozen layer, gets nothing: as PyTorch.)
        if (edge.leaf->requires_grad) accumulate_into_leaf(Tensor(edge.leaf), grad);
      } else if (producer->pending_grad.defined()) {
        // A tensor used twice (a residual branch, the slices of attention's qkv): the sum,
        // in place when the first gradient is private (no new tensor each time).
        Tensor& pending = producer->pending_grad;
        if (is_private(pending)) {
          pending += grad;
        } else {
          pending = pending + grad;
        }
      } else {
        producer->pending_grad = grad;
        ready.push({producer->sequence_number, producer});
      }
    }
    // Done with this node: release its closure, which holds the tensors the op saved (they
    // can be large), and its edges. A second backward() through it throws (above).
    node->release();
  }
}

}  // namespace ember
