// Tests for the language-identification reader: the real files in datasets/lang_id/,
// then copies damaged one way at a time in a temporary folder.
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <initializer_list>
#include <iterator>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <ember/error.h>

#include "ember_course/data_paths.h"
#include "ember_course/lang_id_file.h"

namespace fs = std::filesystem;
using ember::course::dataset_path;
using ember::course::LangIdData;
using ember::course::LangIdSplit;
using ember::course::read_lang_id;

namespace {

// A temporary copy of datasets/lang_id/, removed at the end, with helpers to damage it.
class LangIdCopy {
 public:
  LangIdCopy() {
    std::string pattern = (fs::temp_directory_path() / "ember_lang_id_test_XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    root_ = pattern;
    fs::copy(dataset_path("lang_id"), dir());
  }
  ~LangIdCopy() {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  std::string dir() const { return (root_ / "lang_id").string(); }
  std::string file(const std::string& name) const { return (root_ / "lang_id" / name).string(); }

  std::string text(const std::string& name) const {
    std::ifstream in(file(name), std::ios::binary);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  }
  void set_text(const std::string& name, const std::string& text) const {
    std::ofstream out(file(name), std::ios::binary | std::ios::trunc);
    out << text;
  }
  std::vector<std::string> lines(const std::string& name) const {
    std::vector<std::string> out;
    const std::string all = text(name);
    size_t start = 0;
    while (start < all.size()) {
      const size_t newline = all.find('\n', start);
      out.push_back(all.substr(start, newline - start));
      start = newline + 1;
    }
    return out;
  }
  void set_lines(const std::string& name, const std::vector<std::string>& lines) const {
    std::string all;
    for (const std::string& line : lines) all += line + "\n";
    set_text(name, all);
  }
  // Replaces line `number` (1-based) of a file.
  void set_line(const std::string& name, size_t number, const std::string& line) const {
    std::vector<std::string> all = lines(name);
    all.at(number - 1) = line;
    set_lines(name, all);
  }

 private:
  fs::path root_;
};

void expect_error(const std::function<void()>& read, std::initializer_list<std::string> parts) {
  try {
    read();
  } catch (const ember::Error& error) {
    const std::string message = error.what();
    for (const std::string& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "message: " << message << "\nmissing: " << part;
    }
    return;
  }
  ADD_FAILURE() << "expected an ember::Error";
}

const char* kRestore = "git checkout -- datasets/lang_id";

void check_split(const LangIdSplit& split, size_t words, size_t buckets, size_t min_length, size_t per_language) {
  ASSERT_EQ(split.words.size(), words);
  ASSERT_EQ(split.labels.size(), words);
  ASSERT_EQ(split.buckets.size(), buckets);
  std::map<int, size_t> per_label;
  for (int label : split.labels) ++per_label[label];
  ASSERT_EQ(per_label.size(), 5u);
  for (const auto& [label, count] : per_label) {
    EXPECT_GE(label, 0);
    EXPECT_LE(label, 4);
    EXPECT_EQ(count, per_language) << "label " << label;
  }
  for (const auto& word : split.words) {
    for (int c : word) {
      EXPECT_GE(c, 0);
      EXPECT_LT(c, 47);
    }
  }
  // The buckets tile the rows in order, one word length each, lengths increasing.
  int64_t next = 0;
  size_t previous_length = 0;
  for (const auto& [start, end] : split.buckets) {
    EXPECT_EQ(start, next);
    ASSERT_LT(start, end);
    const size_t length = split.words[static_cast<size_t>(start)].size();
    for (int64_t row = start; row < end; ++row) EXPECT_EQ(split.words[static_cast<size_t>(row)].size(), length);
    EXPECT_GT(length, previous_length);
    previous_length = length;
    next = end;
  }
  EXPECT_EQ(next, static_cast<int64_t>(words));
  EXPECT_EQ(split.words.front().size(), min_length);
  EXPECT_EQ(split.words.back().size(), 10u);
}

}  // namespace

// ---------------------------------------------------------------- the real files

TEST(LangIdRealData, Contents) {
  const LangIdData data = read_lang_id(dataset_path("lang_id"));
  ASSERT_EQ(data.alphabet.size(), 47u);
  EXPECT_EQ(data.alphabet.front(), "a");
  EXPECT_EQ(data.alphabet[25], "z");
  EXPECT_EQ(data.alphabet[26], "\u00E1");  // á
  EXPECT_EQ(data.alphabet.back(), "\u017C");  // ż
  EXPECT_EQ(data.language_codes, (std::vector<std::string>{"en", "es", "fi", "nl", "pl"}));
  EXPECT_EQ(data.language_names, (std::vector<std::string>{"English", "Spanish", "Finnish", "Dutch", "Polish"}));

  check_split(data.train, 17500, 9, 2, 3500);
  check_split(data.dev, 500, 8, 3, 100);
  check_split(data.test, 500, 8, 3, 100);

  // The first training word is Spanish "oí": o = 14, í = 32.
  EXPECT_EQ(data.train.words[0], (std::vector<int>{14, 32}));
  EXPECT_EQ(data.train.labels[0], 1);
  EXPECT_EQ(data.train.buckets[0], (std::pair<int64_t, int64_t>{0, 24}));
  EXPECT_EQ(data.test.buckets.back(), (std::pair<int64_t, int64_t>{447, 500}));
}

TEST(LangIdFile, WindowsLineEndingsAreAccepted) {
  LangIdCopy copy;
  for (const char* name : {"alphabet.txt", "languages.txt", "buckets.tsv", "train.tsv", "dev.tsv", "test.tsv"}) {
    std::string crlf;
    for (char c : copy.text(name)) crlf += c == '\n' ? std::string("\r\n") : std::string(1, c);
    copy.set_text(name, crlf);
  }
  const LangIdData original = read_lang_id(dataset_path("lang_id"));
  const LangIdData converted = read_lang_id(copy.dir());
  EXPECT_EQ(converted.alphabet, original.alphabet);
  EXPECT_EQ(converted.language_names, original.language_names);
  EXPECT_EQ(converted.train.words, original.train.words);
  EXPECT_EQ(converted.test.labels, original.test.labels);
}

// ---------------------------------------------------------------- damaged copies

TEST(LangIdFile, MissingFolderOrFile) {
  LangIdCopy copy;
  const std::string missing = copy.dir() + "_nowhere";
  expect_error([&] { read_lang_id(missing); }, {missing, "folder not found", kRestore});
  fs::remove(copy.file("dev.tsv"));
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("dev.tsv"), "file not found", kRestore});
}

TEST(LangIdFile, InvalidUtf8) {
  LangIdCopy copy;
  copy.set_line("test.tsv", 3, "ab\xC3(\ten");  // a lead byte without its continuation byte
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("test.tsv") + ":3:", "invalid UTF-8 at byte 3", "0xC3", kRestore});
}

TEST(LangIdFile, OverlongUtf8IsRejected) {
  LangIdCopy copy;
  copy.set_line("dev.tsv", 7, "do\xC1\xA1\tnl");  // 'a' encoded in two bytes
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("dev.tsv") + ":7:", "invalid UTF-8"});
}

TEST(LangIdFile, UnknownCharacter) {
  LangIdCopy copy;
  copy.set_line("train.tsv", 100, "caQt\ten");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("train.tsv") + ":100:", "unknown character 'Q' (U+0051) at position 3", "caQt",
                "alphabet.txt", kRestore});
}

TEST(LangIdFile, DecomposedAccentIsAnUnknownCharacter) {
  LangIdCopy copy;
  copy.set_line("train.tsv", 1, "oi\u0301\tes");  // í written as i + combining acute accent
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("train.tsv") + ":1:", "U+0301"});
}

TEST(LangIdFile, UnknownLanguage) {
  LangIdCopy copy;
  copy.set_line("dev.tsv", 12, "hund\tde");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("dev.tsv") + ":12:", "unknown language code 'de'", "en, es, fi, nl, pl", kRestore});
}

TEST(LangIdFile, MalformedLines) {
  LangIdCopy copy;
  copy.set_line("test.tsv", 5, "word without a tab");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("test.tsv") + ":5:", "expected word<TAB>language_code, found 1 tab-separated field"});
  copy.set_line("test.tsv", 5, "");
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("test.tsv") + ":5:", "empty line"});
  copy.set_line("test.tsv", 5, "\ten");
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("test.tsv") + ":5:", "empty word"});
}

TEST(LangIdFile, MissingFinalNewline) {
  LangIdCopy copy;
  std::string text = copy.text("test.tsv");
  text.pop_back();
  copy.set_text("test.tsv", text);
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("test.tsv") + ":500:", "does not end with a newline", kRestore});
}

TEST(LangIdFile, LostOrMovedLinesBreakTheBuckets) {
  LangIdCopy copy;
  std::vector<std::string> lines = copy.lines("train.tsv");
  lines.erase(lines.begin() + 300);  // a length-4 word
  copy.set_lines("train.tsv", lines);
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("train.tsv") + ": words of length 4 fill lines 285-1561", "buckets.tsv line 3",
                "lines lost, added or reordered?", kRestore});

  LangIdCopy truncated;
  std::vector<std::string> test_lines = truncated.lines("test.tsv");
  test_lines.resize(447);  // all the 10-letter words gone
  truncated.set_lines("test.tsv", test_lines);
  expect_error([&] { read_lang_id(truncated.dir()); },
               {truncated.file("test.tsv"), "7 runs of equal word length", "lists 8 buckets for 'test'"});
}

TEST(LangIdFile, BrokenAlphabet) {
  LangIdCopy copy;
  copy.set_line("alphabet.txt", 5, "a");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("alphabet.txt") + ":5:", "character 'a' (U+0061) is already on line 1", kRestore});
  copy.set_line("alphabet.txt", 5, "ee");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("alphabet.txt") + ":5:", "expected exactly one character per line, found 2"});
  copy.set_text("alphabet.txt", "\xEF\xBB\xBF" + copy.text("alphabet.txt"));
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("alphabet.txt") + ":1:", "byte-order mark"});
}

TEST(LangIdFile, BrokenLanguages) {
  LangIdCopy copy;
  copy.set_line("languages.txt", 2, "1\tes");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("languages.txt") + ":2:", "expected index<TAB>code<TAB>name, found 2"});
  copy.set_line("languages.txt", 2, "7\tes\tSpanish");
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("languages.txt") + ":2:", "index '7', expected 1"});
  copy.set_line("languages.txt", 2, "1\ten\tSpanish");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("languages.txt") + ":2:", "language code 'en' is already on line 1"});
}

TEST(LangIdFile, BrokenBucketTable) {
  LangIdCopy copy;
  copy.set_line("buckets.tsv", 4, "train\t1562\tlots\t5");
  expect_error([&] { read_lang_id(copy.dir()); },
               {copy.file("buckets.tsv") + ":4:", "must be non-negative integers", kRestore});
  copy.set_line("buckets.tsv", 4, "validation\t1562\t4288\t5");
  expect_error([&] { read_lang_id(copy.dir()); }, {copy.file("buckets.tsv") + ":4:", "unknown split 'validation'"});
}
