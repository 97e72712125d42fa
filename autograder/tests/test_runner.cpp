// The runner's commands (runner.h: answer), called directly on a question of this file's own,
// a one-layer model. What the checkers rely on: "call" records the graph that "backward" then
// uses; "call_no_grad" (RemoteModel::evaluate, for accuracy and losses on held-out data)
// records none, so a backward after it has nothing to follow.
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include <ember/ember.h>

#include "runner.h"

namespace ember::runner {

namespace {

struct OneLayer : nn::Module {
  OneLayer() { fc = register_module("fc", std::make_shared<nn::Linear>(2, 1)); }
  Tensor forward(const Tensor& x) override { return fc->forward(x); }  // (1, 2) -> (1, 1)
  std::shared_ptr<nn::Linear> fc;
};

}  // namespace

void define_question(Question& q) {
  q.model("OneLayer", [](const Args&) { return std::make_shared<OneLayer>(); });
}

namespace {

Value ask(std::vector<Value> request) { return answer(Value::list(std::move(request))); }

// "" for ["ok", result]; the message of ["error", kind, type, message].
std::string error_of(const Value& reply) {
  const std::vector<Value>& items = reply.as_list("a reply");
  return items.at(0).as_text("the status") == "ok" ? "" : items.at(3).as_text("the message");
}

// How many of the model's parameters have a gradient (["gradients", handle]).
int parameters_with_gradients(const Value& handle) {
  const Value reply = ask({Value::of("gradients"), handle});
  EXPECT_EQ(error_of(reply), "");
  int count = 0;
  for (const Value& pair : reply.items.at(1).as_list("the gradients")) {
    if (!pair.items.at(1).is(Value::Type::None)) ++count;
  }
  return count;
}

class RunnerCommands : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { define_question(question()); }
};

TEST_F(RunnerCommands, CallRecordsAGraphForBackward) {
  const Value made = ask({Value::of("new"), Value::of("OneLayer")});
  ASSERT_EQ(error_of(made), "");
  const Value handle = made.items.at(1);
  ASSERT_EQ(error_of(ask({Value::of("call"), handle, Value::of("forward"), Value::of(ember::ones({1, 2}))})), "");
  EXPECT_EQ(error_of(ask({Value::of("backward")})), "");
  EXPECT_EQ(parameters_with_gradients(handle), 2);  // the weight and the bias
}

TEST_F(RunnerCommands, CallNoGradRecordsNothing) {
  const Value made = ask({Value::of("new"), Value::of("OneLayer")});
  ASSERT_EQ(error_of(made), "");
  const Value handle = made.items.at(1);
  const Value reply = ask({Value::of("call_no_grad"), handle, Value::of("forward"), Value::of(ember::ones({1, 2}))});
  ASSERT_EQ(error_of(reply), "");
  EXPECT_EQ(reply.items.at(1).as_tensor("the result").shape(), (Shape{1, 1}));
  EXPECT_NE(error_of(ask({Value::of("backward")})).find("does not require grad"), std::string::npos);
  EXPECT_EQ(parameters_with_gradients(handle), 0);
  // Recording is on again for the next call.
  ASSERT_EQ(error_of(ask({Value::of("call"), handle, Value::of("forward"), Value::of(ember::ones({1, 2}))})), "");
  EXPECT_EQ(error_of(ask({Value::of("backward")})), "");
  EXPECT_EQ(parameters_with_gradients(handle), 2);
}

}  // namespace
}  // namespace ember::runner

// A main of its own: the runner's library has one too (runner_loop.cpp), which this one keeps
// out of the link.
int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
