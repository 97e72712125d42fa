// The Shape class: a std::vector-like list of sizes kept inline (shape.h).
#include "gradcheck.h"

#include <sstream>

using namespace ember;
using namespace ember_test;

TEST(ShapeClass, BuildsLikeAVector) {
  Shape empty;
  EXPECT_TRUE(empty.empty());
  EXPECT_EQ(empty.size(), 0u);

  Shape listed{2, 3, 4};
  EXPECT_EQ(listed.size(), 3u);
  EXPECT_EQ(listed[0], 2);
  EXPECT_EQ(listed.back(), 4);

  Shape filled(3, 1);
  EXPECT_EQ(filled, (Shape{1, 1, 1}));

  std::vector<int64_t> sizes{5, 6};
  Shape from_vector = sizes;
  EXPECT_EQ(from_vector, (Shape{5, 6}));
  EXPECT_EQ(from_vector.to_vector(), sizes);

  Shape from_range(listed.begin() + 1, listed.end());
  EXPECT_EQ(from_range, (Shape{3, 4}));
}

TEST(ShapeClass, EditsLikeAVector) {
  Shape shape{2, 3};
  shape.push_back(4);
  EXPECT_EQ(shape, (Shape{2, 3, 4}));
  shape.insert(shape.begin() + 1, 9);
  EXPECT_EQ(shape, (Shape{2, 9, 3, 4}));
  shape.insert(shape.begin(), {7, 8});
  EXPECT_EQ(shape, (Shape{7, 8, 2, 9, 3, 4}));
  shape.erase(shape.begin() + 1);
  EXPECT_EQ(shape, (Shape{7, 2, 9, 3, 4}));
  shape.erase(shape.begin(), shape.begin() + 2);
  EXPECT_EQ(shape, (Shape{9, 3, 4}));
  shape.pop_back();
  EXPECT_EQ(shape, (Shape{9, 3}));
  shape.resize(4, 1);
  EXPECT_EQ(shape, (Shape{9, 3, 1, 1}));
  shape.resize(1);
  EXPECT_EQ(shape, (Shape{9}));
  shape.clear();
  EXPECT_TRUE(shape.empty());
}

TEST(ShapeClass, ComparesAndPrints) {
  EXPECT_EQ((Shape{2, 3}), (Shape{2, 3}));
  EXPECT_NE((Shape{2, 3}), (Shape{3, 2}));
  EXPECT_NE((Shape{2, 3}), (Shape{2, 3, 1}));
  EXPECT_NE(Shape{}, (Shape{1}));
  std::ostringstream text;
  text << Shape{2, 3} << " " << Shape{5} << " " << Shape{};
  EXPECT_EQ(text.str(), "(2, 3) (5,) ()");
}

TEST(ShapeClass, TooManyDimsThrowsInsteadOfOverflowing) {
  // A shape may briefly hold a few more than kMaxDims (so an op can reject its result by
  // name); far past that, building it throws rather than writing past its storage.
  Shape longest(Shape::kCapacity, 1);
  EXPECT_EQ(longest.size(), Shape::kCapacity);
  EXPECT_TRUE(throws_error([&] { longest.push_back(1); }, "dims is more than the 8 Ember supports"));
  EXPECT_TRUE(throws_error([] { Shape(Shape::kCapacity + 1, 1); }, "shape: 13 dims"));
  std::vector<int64_t> too_long(20, 1);
  EXPECT_TRUE(throws_error([&] { static_cast<void>(Shape(too_long)); }, "shape: 13 dims"));
  // Ops still refuse results past kMaxDims with their own name.
  EXPECT_TRUE(throws_error([] { zeros(Shape(kMaxDims + 1, 1)); }, "Ember supports at most 8"));
}
