// Tests of ember_check_translations: parsing a note, comparing a note with its twin, and a
// whole repository laid out in a temporary folder. check_translations.cpp is compiled into
// this test with EMBER_CHECK_TRANSLATIONS_NO_MAIN.
#include "check_translations.cpp"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <cstdlib>

namespace {

namespace tr = ember::translations;
namespace fs = std::filesystem;

const char* kEnglish =
    "# q9: Example\n"
    "\n"
    "[中文](zh-CN/q9.md)\n"
    "\n"
    "Some text.\n"
    "\n"
    "## First part\n"
    "\n"
    "```cpp\n"
    "Tensor x = ones({2, 3});   // (2, 3)\n"
    "// a comment on its own line\n"
    "std::cout << x << \"// not a comment\\n\";\n"
    "```\n"
    "\n"
    "### Detail\n"
    "\n"
    "```text\n"
    "# not a heading: inside a block\n"
    "```\n"
    "\n"
    "## Second part\n";

const char* kChinese =
    "# q9：示例\n"
    "\n"
    "[English](../q9.md)\n"
    "\n"
    "一些文字。\n"
    "\n"
    "## 第一部分\n"
    "\n"
    "```cpp\n"
    "Tensor x = ones({2, 3});   // 形状 (2, 3)\n"
    "// 单独一行的注释，\n"
    "// 译文占了两行\n"
    "std::cout << x << \"// not a comment\\n\";   \n"
    "```\n"
    "\n"
    "### 细节\n"
    "\n"
    "```text\n"
    "# not a heading: inside a block\n"
    "```\n"
    "\n"
    "## 第二部分，见[第一部分](#第一部分)\n";

std::vector<std::string> compare(const std::string& en, const std::string& zh) {
  return tr::compare_twins(tr::parse_note(en), tr::parse_note(zh), "en.md", "zh.md");
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  const size_t at = s.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  if (at != std::string::npos) s.replace(at, from.size(), to);
  return s;
}

TEST(CheckTranslations, ParsesHeadingsBlocksAndLinks) {
  const tr::Note note = tr::parse_note(kEnglish);
  ASSERT_EQ(note.headings.size(), 4u);
  EXPECT_EQ(note.headings[0].level, 1);
  EXPECT_EQ(note.headings[0].text, "q9: Example");
  EXPECT_EQ(note.headings[2].level, 3);
  ASSERT_EQ(note.blocks.size(), 2u);
  EXPECT_EQ(note.blocks[0].info, "cpp");
  EXPECT_EQ(note.blocks[1].info, "text");
  EXPECT_EQ(note.blocks[1].body, "# not a heading: inside a block\n");
  ASSERT_EQ(note.links.size(), 1u);
  EXPECT_EQ(note.links[0].target, "zh-CN/q9.md");
  EXPECT_THROW(tr::parse_note("```cpp\nint x;\n"), std::runtime_error);
}

TEST(CheckTranslations, NormalizeDropsCommentsNotStrings) {
  EXPECT_EQ(tr::normalize_code("int x = 1;   // one\n// alone\n\nf(\"a//b\");  \n"),
            "int x = 1;\n\nf(\"a//b\");\n");
}

TEST(CheckTranslations, TranslatedCommentsAndProseAreFine) {
  EXPECT_TRUE(compare(kEnglish, kChinese).empty());
}

TEST(CheckTranslations, ReportsDrift) {
  // A heading missing, or one of another level.
  auto problems = compare(kEnglish, replace(kChinese, "### 细节\n", "细节\n"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("level 3: 1 in English, 0 in the twin"), std::string::npos)
      << problems[0];
  problems = compare(kEnglish, replace(kChinese, "### 细节", "## 细节"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("first difference"), std::string::npos) << problems[0];
  // A code block missing.
  problems = compare(kEnglish, replace(kChinese, "```text\n# not a heading: inside a block\n```\n", ""));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("1 code blocks, but en.md has 2"), std::string::npos) << problems[0];
  // Code that differs, output that differs, a different language tag.
  problems = compare(kEnglish, replace(kChinese, "ones({2, 3})", "ones({3, 2})"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("code block 1 differs"), std::string::npos) << problems[0];
  problems = compare(kEnglish, replace(kChinese, "# not a heading", "# 不是标题"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("code block 2 differs"), std::string::npos) << problems[0];
  problems = compare(kEnglish, replace(kChinese, "```text", "```"));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("is ``` but"), std::string::npos) << problems[0];
}

TEST(CheckTranslations, HeadingAnchorsFollowGitHub) {
  EXPECT_EQ(tr::heading_anchor("The (batch, features) convention"), "the-batch-features-convention");
  EXPECT_EQ(tr::heading_anchor("Merging heads back: why contiguous() is needed"),
            "merging-heads-back-why-contiguous-is-needed");
  EXPECT_EQ(tr::heading_anchor("约定：（批次，特征）"), "约定批次特征");
  EXPECT_EQ(tr::heading_anchor("为什么要 zero_grad：梯度会累加"), "为什么要-zero_grad梯度会累加");
}

class TempDir {
 public:
  TempDir() {
    const char* tmp = std::getenv("TMPDIR");
    std::string pattern = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") +
                          "/ember_check_translations_test.XXXXXX";
    if (::mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
    path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    fs::remove_all(path_, ignored);
  }
  const fs::path& path() const { return path_; }
  void write(const std::string& relative, const std::string& text) const {
    fs::create_directories((path_ / relative).parent_path());
    std::ofstream(path_ / relative, std::ios::binary) << text;
  }

 private:
  fs::path path_;
};

TEST(CheckTranslations, Repository) {
  TempDir repo;
  repo.write("docs/lessons/q9.md", kEnglish);
  repo.write("docs/troubleshooting.md",
             "# Troubleshooting\n[中文](lessons/zh-CN/troubleshooting.md)\n```text\nan error\n```\n"
             "```text\nanother\n```\n");
  // Missing twins are reported.
  auto problems = tr::check_repository(repo.path());
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_NE(problems[0].find("q9.md has no Chinese twin"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("troubleshooting.md has no Chinese twin"), std::string::npos);

  repo.write("docs/lessons/zh-CN/q9.md", kChinese);
  repo.write("docs/lessons/zh-CN/troubleshooting.md",
             "# 常见问题\n[English](../../troubleshooting.md)\n```text\nanother\n```\n");
  problems = tr::check_repository(repo.path());
  EXPECT_TRUE(problems.empty()) << problems[0];

  // The troubleshooting twin may leave blocks out, but not add ones the English lacks; the
  // twin's links must lead somewhere, and the English note must link its twin.
  repo.write("docs/lessons/zh-CN/troubleshooting.md",
             "# 常见问题\n[English](../../troubleshooting.md)\n```text\n别的\n```\n");
  repo.write("docs/lessons/zh-CN/q9.md",
             std::string(kChinese) + "[q0](q0.md) [标题](#没有这个标题)\n");
  repo.write("docs/lessons/q9.md", replace(kEnglish, "[中文](zh-CN/q9.md)", ""));
  problems = tr::check_repository(repo.path());
  ASSERT_EQ(problems.size(), 4u);
  EXPECT_NE(problems[0].find("does not link its twin"), std::string::npos) << problems[0];
  EXPECT_NE(problems[1].find("(q0.md) leads to no file"), std::string::npos) << problems[1];
  EXPECT_NE(problems[2].find("names no heading"), std::string::npos) << problems[2];
  EXPECT_NE(problems[3].find("appears nowhere in docs/troubleshooting.md"), std::string::npos)
      << problems[3];
}

TEST(CheckTranslations, SnippetsProgramNestsTheCppBlocks) {
  const std::string program = tr::snippets_program(tr::parse_note(kEnglish), "q9.md");
  EXPECT_NE(program.find("#line 10 \"q9.md\"\nTensor x = ones({2, 3});"), std::string::npos)
      << program;
  EXPECT_EQ(program.find("# not a heading"), std::string::npos);  // only ```cpp blocks
  EXPECT_NE(program.find("int main()"), std::string::npos);
}

}  // namespace
