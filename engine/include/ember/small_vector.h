// A vector that keeps its first few elements inside itself: read SmallVector<T, N> as
// std::vector<T>, which is all it is to the code that uses it.
//
// Why (speed only): a graph node keeps one Edge per input of its op (autograd.h), and most
// ops have one or two inputs. With a std::vector, each of the hundreds of thousands of nodes
// of a training step cost one more allocation, and backward one more jump through memory to
// reach the edges. Up to N elements live here instead; more go to a std::vector.
#pragma once

#include <cstddef>
#include <utility>
#include <vector>

namespace ember::detail {

template <typename T, size_t N>
class SmallVector {
 public:
  // count elements: the first ones kept, the new ones T() (as std::vector::resize).
  void resize(size_t count) {
    if (count > N && size_ <= N) {  // from inside to outside: the elements move out first
      outside_.clear();
      for (size_t i = 0; i < size_; ++i) outside_.push_back(std::move(inside_[i]));
    } else if (count <= N && size_ > N) {  // and back
      for (size_t i = 0; i < count; ++i) inside_[i] = std::move(outside_[i]);
      outside_.clear();
    }
    if (count > N) {
      outside_.resize(count);
      for (T& element : inside_) element = T();  // nothing is left inside
    } else {
      for (size_t i = count; i < N; ++i) inside_[i] = T();
    }
    size_ = count;
  }
  void clear() { resize(0); }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  T* begin() { return size_ <= N ? inside_ : outside_.data(); }
  T* end() { return begin() + size_; }
  const T* begin() const { return size_ <= N ? inside_ : outside_.data(); }
  const T* end() const { return begin() + size_; }
  T& operator[](size_t i) { return begin()[i]; }
  const T& operator[](size_t i) const { return begin()[i]; }

 private:
  T inside_[N] = {};
  std::vector<T> outside_;
  size_t size_ = 0;
};

}  // namespace ember::detail
