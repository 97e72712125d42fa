// The runner of q4 (language identification): what the checker (questions/q4_language_id.cpp)
// may ask of the student's LanguageIDModel. See runner/runner.h.
//
// train gets the training and dev words from the checker, as character indices; the dataset
// it builds has no test words (they never leave the checker), and the runner cannot read
// datasets/.
#include <string>
#include <vector>

#include <ember/ember.h>
#include <ember_course/lang_id_dataset.h>

#include "language_id.hpp"
#include "runner.h"

namespace {

using namespace ember::runner;

std::vector<std::string> texts(const Value& value) {
  std::vector<std::string> out;
  for (const Value& item : value.as_list("texts")) out.push_back(item.as_text("a text"));
  return out;
}

// [indices (sum of lengths,), lengths (N,), labels (N,), [[start, end], ...]] -> a split
ember::course::LangIdSplit split_of(const Value& value) {
  const auto& parts = value.as_list("a split");
  const std::vector<float> indices = parts.at(0).as_tensor("indices").to_vector();
  const std::vector<float> lengths = parts.at(1).as_tensor("lengths").to_vector();
  const std::vector<float> labels = parts.at(2).as_tensor("labels").to_vector();
  ember::course::LangIdSplit split;
  size_t at = 0;
  for (float length : lengths) {
    const size_t n = static_cast<size_t>(length);
    if (at + n > indices.size()) throw std::runtime_error("a split's words are cut short");
    split.words.emplace_back(indices.begin() + static_cast<std::ptrdiff_t>(at),
                             indices.begin() + static_cast<std::ptrdiff_t>(at + n));
    at += n;
  }
  for (float label : labels) split.labels.push_back(static_cast<int>(label));
  for (const Value& bucket : parts.at(3).as_list("buckets")) {
    const auto& range = bucket.as_list("a bucket");
    split.buckets.emplace_back(range.at(0).as_int("start"), range.at(1).as_int("end"));
  }
  return split;
}

}  // namespace

void ember::runner::define_question(Question& q) {
  using Model = q4::LanguageIDModel;
  q.model("LanguageIDModel", [](const Args&) { return std::make_shared<Model>(); });
  q.method<Model>("run", [](Model& m, const Args& a) { return result(m.run(tensor_list_arg(a, 0))); });
  q.method<Model>("get_loss", [](Model& m, const Args& a) {
    const std::vector<Tensor> xs = tensor_list_arg(a, 0);
    return result(m.get_loss(xs, tensor_arg(a, 1)));
  });
  // train(alphabet, language codes, language names, train split, dev split)
  q.method<Model>("train", [](Model& m, const Args& a) {
    course::LangIdData data;
    data.alphabet = texts(a.at(0));
    data.language_codes = texts(a.at(1));
    data.language_names = texts(a.at(2));
    data.train = split_of(a.at(3));
    data.dev = split_of(a.at(4));
    course::LanguageIDDataset dataset(std::move(data));  // test: empty
    dataset.to(device());
    m.train(dataset);
    return Value::none();
  });
}
