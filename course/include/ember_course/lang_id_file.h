// Reader for the language-identification word lists (datasets/lang_id/, described in
// datasets/README.md and produced by tools/convert_lang_id.py).
//
// The folder holds UTF-8 text files with "\n" line endings (a "\r" before it is
// tolerated) and no header lines:
//   alphabet.txt   one character per line; line k+1 is character index k
//   languages.txt  index<TAB>code<TAB>name, index 0, 1, 2, ... = the label
//   train.tsv, dev.tsv, test.tsv   word<TAB>language_code, sorted by word length
//   buckets.tsv    split<TAB>start<TAB>end<TAB>word_length, the original buckets
// The reader derives each split's buckets from consecutive runs of equal word length
// and checks them against buckets.tsv, which also catches lost or reordered lines.
// Every problem throws ember::Error naming the file, the line and what is wrong.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace ember::course {

struct LangIdSplit {
  std::vector<std::vector<int>> words;  // character indices into the alphabet, one vector per word
  std::vector<int> labels;              // language of each word, 0 .. languages - 1
  std::vector<std::pair<int64_t, int64_t>> buckets;  // [start, end) rows of equal word length, in file order
};

struct LangIdData {
  std::vector<std::string> alphabet;        // 47 characters, each one UTF-8 encoded code point
  std::vector<std::string> language_codes;  // "en", "es", "fi", "nl", "pl"; index = label
  std::vector<std::string> language_names;  // "English", "Spanish", ...
  LangIdSplit train, dev, test;
};

// Reads all of datasets/lang_id/ (or another folder in the same format).
LangIdData read_lang_id(const std::string& dir);

}  // namespace ember::course
