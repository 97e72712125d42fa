// nn::Module: registration, recursive listing, modes, device moves and printing.
// Saving and loading live in module_io.cpp.
#include "ember/nn/module.h"

#include <cxxabi.h>

#include <cstdlib>
#include <ostream>
#include <typeinfo>

#include "ember/autograd.h"
#include "ember/error.h"
#include "ember/nn/parameter.h"

namespace ember::nn {

namespace {

// The class name without namespaces: "ember::nn::Linear" -> "Linear",
// "(anonymous namespace)::Net" -> "Net". Template names are kept whole.
std::string demangled_class_name(const std::type_info& type) {
  int status = 0;
  char* raw = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string name = (status == 0 && raw != nullptr) ? std::string(raw) : type.name();
  std::free(raw);
  if (name.find('<') == std::string::npos) {
    const std::size_t last = name.rfind("::");
    if (last != std::string::npos) name = name.substr(last + 2);
  }
  return name;
}

template <typename Entries>
bool has_name(const Entries& entries, const std::string& name) {
  for (const auto& entry : entries) {
    if (entry.first == name) return true;
  }
  return false;
}

}  // namespace

Module::Module(std::string name) : name_(std::move(name)) {}

std::string Module::name() const {
  if (!name_.empty()) return name_;
  return demangled_class_name(typeid(*this));
}

Tensor Module::forward(const Tensor& /*input*/) {
  throw Error(fmt::format("nn::Module '{}': forward(Tensor) is not defined", name()));
}

// ---- registration ---------------------------------------------------------------

void Module::check_new_name(const std::string& name, const char* what) const {
  check(!name.empty(), "nn::Module '{}': {}: the name must not be empty", this->name(), what);
  check(name.find('.') == std::string::npos,
        "nn::Module '{}': {}: the name '{}' must not contain '.' (dots separate the names "
        "of nested modules)",
        this->name(), what, name);
  check(!has_name(parameters_, name), "nn::Module '{}': {}: '{}' is already a parameter",
        this->name(), what, name);
  check(!has_name(buffers_, name), "nn::Module '{}': {}: '{}' is already a buffer",
        this->name(), what, name);
  check(!has_name(children_, name), "nn::Module '{}': {}: '{}' is already a child module",
        this->name(), what, name);
}

Tensor Module::register_parameter(const std::string& name, const Tensor& tensor) {
  check_new_name(name, "register_parameter");
  check(tensor.defined(), "nn::Module '{}': register_parameter: the tensor for '{}' is undefined",
        this->name(), name);
  Tensor parameter = Parameter(tensor);
  parameters_.emplace_back(name, parameter);
  return parameter;
}

Tensor Module::register_buffer(const std::string& name, const Tensor& tensor) {
  check_new_name(name, "register_buffer");
  check(tensor.defined(), "nn::Module '{}': register_buffer: the tensor for '{}' is undefined",
        this->name(), name);
  buffers_.emplace_back(name, tensor);
  return tensor;
}

bool Module::contains_module(const Module* target) const {
  if (this == target) return true;
  for (const auto& child : children_) {
    if (child.second->contains_module(target)) return true;
  }
  return false;
}

void Module::register_child(const std::string& name, std::shared_ptr<Module> module) {
  check_new_name(name, "register_module");
  check(module != nullptr, "nn::Module '{}': register_module: the module for '{}' is null",
        this->name(), name);
  check(!module->contains_module(this),
        "nn::Module '{}': register_module: '{}' would make a module its own descendant",
        this->name(), name);
  children_.emplace_back(name, std::move(module));
}

// ---- listing ----------------------------------------------------------------------

void Module::collect_into(bool buffers, bool recurse, const std::string& prefix,
                          std::vector<NamedTensor>& out,
                          std::unordered_set<const TensorImpl*>& seen_tensors,
                          std::unordered_set<const Module*>& seen_modules) const {
  if (!seen_modules.insert(this).second) return;
  for (const auto& [name, tensor] : buffers ? buffers_ : parameters_) {
    if (!seen_tensors.insert(tensor.impl().get()).second) continue;
    out.emplace_back(prefix + name, tensor);
  }
  if (!recurse) return;
  for (const auto& [name, child] : children_) {
    child->collect_into(buffers, recurse, prefix + name + ".", out, seen_tensors, seen_modules);
  }
}

std::vector<NamedTensor> Module::collect(bool buffers, bool recurse) const {
  std::vector<NamedTensor> out;
  std::unordered_set<const TensorImpl*> seen_tensors;
  std::unordered_set<const Module*> seen_modules;
  collect_into(buffers, recurse, "", out, seen_tensors, seen_modules);
  return out;
}

std::vector<NamedTensor> Module::named_parameters(bool recurse) const {
  return collect(false, recurse);
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& entry : collect(false, recurse)) out.push_back(std::move(entry.second));
  return out;
}

std::vector<NamedTensor> Module::named_buffers(bool recurse) const {
  return collect(true, recurse);
}

std::vector<Tensor> Module::buffers(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& entry : collect(true, recurse)) out.push_back(std::move(entry.second));
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& child : children_) out.push_back(child.second);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  return children_;
}

// ---- modes ------------------------------------------------------------------------

void Module::train(bool on) {
  training_ = on;
  for (auto& child : children_) child.second->train(on);
}

void Module::zero_grad() {
  for (Tensor& parameter : parameters()) parameter.zero_grad();
}

Module& Module::to(Device device) {
  NoGradGuard no_grad;
  // Copy everything first, then swap, so a failed copy (e.g. no such GPU) leaves the
  // module untouched.
  std::vector<Tensor> tensors = parameters();
  for (Tensor& buffer : buffers()) tensors.push_back(buffer);
  std::vector<Tensor> moved;
  std::vector<Tensor> moved_grads;
  for (const Tensor& tensor : tensors) {
    moved.push_back(tensor.device() == device ? tensor : tensor.to(device));
    const auto& grad = tensor.impl()->grad;
    if (grad != nullptr && Tensor(grad).device() != device) {
      moved_grads.push_back(Tensor(grad).to(device));
    } else {
      moved_grads.push_back(grad != nullptr ? Tensor(grad) : Tensor());
    }
  }
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    TensorImpl& impl = *tensors[i].impl();
    if (!moved[i].same_impl(tensors[i])) {
      const TensorImpl& source = *moved[i].impl();
      impl.storage = source.storage;
      impl.strides = source.strides;
      impl.offset = source.offset;
    }
    impl.grad = moved_grads[i].defined() ? moved_grads[i].impl() : nullptr;
  }
  return *this;
}

// ---- printing ---------------------------------------------------------------------

void Module::str_into(std::string& out, int indent) const {
  out += name();
  out += "(";
  const std::string extra = extra_repr();
  if (children_.empty()) {
    out += extra;
    out += ")";
    return;
  }
  const std::string pad(static_cast<std::size_t>(indent) + 2, ' ');
  out += "\n";
  if (!extra.empty()) out += pad + extra + "\n";
  for (const auto& [name, child] : children_) {
    out += pad + "(" + name + "): ";
    child->str_into(out, indent + 2);
    out += "\n";
  }
  out += std::string(static_cast<std::size_t>(indent), ' ') + ")";
}

std::string Module::str() const {
  std::string out;
  str_into(out, 0);
  return out;
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.str(); }

}  // namespace ember::nn
