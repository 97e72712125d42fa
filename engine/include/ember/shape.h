// Shapes, strides and the dimension arithmetic every op shares.
#pragma once

#include <algorithm>
#include <cstdint>
#include <initializer_list>
#include <iosfwd>
#include <string>
#include <vector>

namespace ember {

// The largest number of dimensions a tensor may have. Kernels keep shapes in fixed
// arrays of this size so that they can be passed by value to a GPU.
constexpr int kMaxDims = 8;

// Throws ember::Error "<what>: <n> dims is more than the 8 Ember supports".
[[noreturn]] void throw_too_many_dims(size_t ndim, const char* what);

// A shape lists the size of each dimension, outermost first: (B, T, C) is {B, T, C}.
// Strides use the same type.
//
// It reads like a std::vector<int64_t> (size(), [], begin()/end(), push_back, insert,
// erase), but keeps its numbers inside itself instead of on the heap.
// Why: every tensor and every view carries two of them (shape and strides), and the
// course's naive convolution makes hundreds of thousands of tiny tensors per batch;
// with std::vector that was two calls to malloc and two to free per tensor, which cost
// more than the arithmetic.
class Shape {
 public:
  using value_type = int64_t;
  using size_type = size_t;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<int64_t*>;
  using const_reverse_iterator = std::reverse_iterator<const int64_t*>;

  Shape() = default;
  Shape(std::initializer_list<int64_t> sizes) { assign(sizes.begin(), sizes.end()); }
  // n dims, each of size value (as std::vector(n, value)).
  explicit Shape(size_t n, int64_t value = 0) { resize(n, value); }
  template <typename Iterator, typename = decltype(*std::declval<Iterator>())>
  Shape(Iterator first, Iterator last) {
    assign(first, last);
  }
  // From and to std::vector<int64_t>, for code that builds dims with the standard library.
  Shape(const std::vector<int64_t>& sizes) { assign(sizes.begin(), sizes.end()); }  // NOLINT: implicit on purpose
  std::vector<int64_t> to_vector() const { return std::vector<int64_t>(begin(), end()); }

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  // A few more than kMaxDims, so that a shape one op would make too long still exists
  // long enough for that op to reject it with its own name in the message.
  static constexpr size_t kCapacity = kMaxDims + 4;
  static constexpr size_t max_size() { return kCapacity; }

  int64_t& operator[](size_t i) { return sizes_[i]; }
  int64_t operator[](size_t i) const { return sizes_[i]; }
  int64_t& front() { return sizes_[0]; }
  int64_t front() const { return sizes_[0]; }
  int64_t& back() { return sizes_[size_ - 1]; }
  int64_t back() const { return sizes_[size_ - 1]; }
  int64_t* data() { return sizes_; }
  const int64_t* data() const { return sizes_; }

  iterator begin() { return sizes_; }
  iterator end() { return sizes_ + size_; }
  const_iterator begin() const { return sizes_; }
  const_iterator end() const { return sizes_ + size_; }
  const_iterator cbegin() const { return begin(); }
  const_iterator cend() const { return end(); }
  reverse_iterator rbegin() { return reverse_iterator(end()); }
  reverse_iterator rend() { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const { return const_reverse_iterator(begin()); }

  void clear() { size_ = 0; }
  void push_back(int64_t size) {
    grow_to(size_ + 1);
    sizes_[size_ - 1] = size;
  }
  void pop_back() { --size_; }
  void resize(size_t n, int64_t value = 0) {
    size_t old = size_;
    grow_to(n);
    std::fill(sizes_ + std::min(old, n), sizes_ + n, value);
  }
  template <typename Iterator>
  void assign(Iterator first, Iterator last) {
    size_ = 0;
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  iterator insert(const_iterator position, int64_t size) {
    size_t at = static_cast<size_t>(position - begin());
    grow_to(size_ + 1);
    std::copy_backward(sizes_ + at, sizes_ + size_ - 1, sizes_ + size_);
    sizes_[at] = size;
    return sizes_ + at;
  }
  template <typename Iterator, typename = decltype(*std::declval<Iterator>())>
  iterator insert(const_iterator position, Iterator first, Iterator last) {
    size_t at = static_cast<size_t>(position - begin());
    for (size_t i = at; first != last; ++first, ++i) insert(sizes_ + i, static_cast<int64_t>(*first));
    return sizes_ + at;
  }
  iterator insert(const_iterator position, std::initializer_list<int64_t> sizes) {
    return insert(position, sizes.begin(), sizes.end());
  }
  iterator erase(const_iterator position) { return erase(position, position + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    size_t from = static_cast<size_t>(first - begin()), to = static_cast<size_t>(last - begin());
    std::copy(sizes_ + to, sizes_ + size_, sizes_ + from);
    size_ -= static_cast<uint8_t>(to - from);
    return sizes_ + from;
  }

  friend bool operator==(const Shape& a, const Shape& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator!=(const Shape& a, const Shape& b) { return !(a == b); }

 private:
  void grow_to(size_t n) {
    if (n > kCapacity) throw_too_many_dims(n, "shape");
    size_ = static_cast<uint8_t>(n);
  }

  int64_t sizes_[kCapacity] = {};
  uint8_t size_ = 0;
};

// Prints as shape_str() does: "(2, 3)". (GoogleTest uses it in failure messages.)
std::ostream& operator<<(std::ostream& os, const Shape& shape);

int64_t shape_numel(const Shape& shape);

// Row-major ("C-contiguous") strides: the last dimension moves fastest.
// (2, 3, 4) -> (12, 4, 1)
Shape contiguous_strides(const Shape& shape);

// "(2, 3)", "(5,)" for one dim and "()" for a scalar, as PyTorch prints torch.Size.
std::string shape_str(const Shape& shape);

// Maps a possibly negative dim (-1 is the last) into 0..ndim-1, or throws
// "<op>: dim 3 is out of range for a tensor with 2 dims (expected -2 to 1)".
int64_t normalize_dim(int64_t dim, int64_t ndim, const char* op);

// NumPy broadcasting: align shapes on the right; sizes must match or be 1.
// Throws "<op>: shapes (2, 3) and (4,) cannot be broadcast (dim -1: 3 vs 4)".
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace ember
