// SmallVector (small_vector.h), which holds a graph node's edges: the first N elements inside,
// more in a std::vector. It behaves as a std::vector whichever side its elements are on.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "ember/small_vector.h"

namespace ember::detail {
namespace {

using Strings = SmallVector<std::string, 2>;

std::vector<std::string> contents(const Strings& v) { return std::vector<std::string>(v.begin(), v.end()); }

TEST(SmallVector, ResizeKeepsTheFirstElementsOnEitherSide) {
  Strings v;
  EXPECT_TRUE(v.empty());
  v.resize(2);  // inside
  v[0] = "a";
  v[1] = "b";
  v.resize(4);  // out: a and b move along
  EXPECT_EQ(contents(v), (std::vector<std::string>{"a", "b", "", ""}));
  v[3] = "d";
  v.resize(1);  // back inside
  EXPECT_EQ(contents(v), (std::vector<std::string>{"a"}));
  v.resize(2);  // the element that comes back is new
  EXPECT_EQ(contents(v), (std::vector<std::string>{"a", ""}));
  v.clear();
  EXPECT_EQ(v.size(), 0u);
  v.resize(1);
  EXPECT_EQ(contents(v), (std::vector<std::string>{""}));
}

TEST(SmallVector, ClearReleasesWhatTheElementsHeld) {
  // A node's edges keep other nodes alive; clear() (after backward) must let them go.
  SmallVector<std::shared_ptr<int>, 2> v;
  auto held = std::make_shared<int>(7);
  for (size_t count : {1u, 3u}) {
    v.resize(count);
    v[0] = held;
    EXPECT_EQ(held.use_count(), 2);
    v.clear();
    EXPECT_EQ(held.use_count(), 1) << count << " element(s)";
  }
}

}  // namespace
}  // namespace ember::detail
