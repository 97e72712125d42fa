// ember_check_translations: keeps the Chinese lesson notes (docs/lessons/zh-CN/) in step with
// the English ones, and turns the notes' C++ examples into programs the tests compile.
//
//   ember_check_translations --repo DIR
//       Checks every pair docs/lessons/X.md <-> docs/lessons/zh-CN/X.md: the twin exists, has
//       the same headings level by level in the same order, the same number of code blocks,
//       and each code block equals the English one once `//` comments and trailing spaces
//       are removed (comments may be translated; code and printed output may not). Each note
//       links its twin and the twin links back; the twin's relative links lead to files that
//       exist, and its links to headings of Chinese notes name headings that exist.
//       docs/troubleshooting.md <-> docs/lessons/zh-CN/troubleshooting.md is a twin of the
//       parts a student meets: it must exist, link back and forth, and every code block of it
//       must appear in the English file. Prints every problem; exit status 1 if any.
//
//   ember_check_translations --snippets NOTE.md OUT.cpp
//       Writes one program made of every ```cpp block of NOTE.md, in order. Each block opens a
//       scope nested in the one before, so a block sees what earlier blocks declared (q2's
//       training loop uses the module of the block above it) and may declare the same names
//       again. Since the twins' blocks equal the English ones, compiling the English notes'
//       programs checks the snippets of both languages. OUT.cpp is rewritten only when its text
//       changes.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace ember::translations {

namespace fs = std::filesystem;

struct Heading {
  int level = 0;       // number of '#'
  std::string text;    // without the '#'s and the spaces around it
  int line = 0;        // 1-based
};

struct CodeBlock {
  std::string info;    // what follows the opening ```, e.g. "cpp" or ""
  std::string body;    // the lines between the fences, each ending in '\n'
  int line = 0;        // line of the opening fence
};

struct Link {
  std::string target;  // what is between the parentheses of [text](target)
  int line = 0;
};

struct Note {
  std::vector<Heading> headings;
  std::vector<CodeBlock> blocks;
  std::vector<Link> links;
};

inline std::string rtrim(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.pop_back();
  return s;
}

inline bool starts_with(const std::string& s, const std::string& prefix) {
  return s.compare(0, prefix.size(), prefix) == 0;
}

// Splits markdown into headings, fenced code blocks and links. A fence is a line starting
// with ``` (up to three spaces before it); the block ends at the next line that is ``` alone.
// Headings and links inside code blocks are code, not markdown.
inline Note parse_note(const std::string& text) {
  Note note;
  std::istringstream in(text);
  std::string line;
  int number = 0;
  bool in_block = false;
  CodeBlock block;
  while (std::getline(in, line)) {
    ++number;
    const std::string trimmed = rtrim(line);
    const size_t indent = trimmed.find_first_not_of(' ');
    const std::string unindented = indent == std::string::npos ? "" : trimmed.substr(indent);
    if (in_block) {
      if (unindented == "```" && indent <= 3) {
        note.blocks.push_back(block);
        in_block = false;
      } else {
        block.body += line + "\n";
      }
      continue;
    }
    if (indent != std::string::npos && indent <= 3 && starts_with(unindented, "```")) {
      in_block = true;
      block = CodeBlock{};
      block.info = unindented.substr(3);
      block.line = number;
      continue;
    }
    if (indent == 0 && starts_with(trimmed, "#")) {
      const size_t level = trimmed.find_first_not_of('#');
      if (level != std::string::npos && level <= 6 && trimmed[level] == ' ') {
        note.headings.push_back(
            Heading{static_cast<int>(level), trimmed.substr(trimmed.find_first_not_of(' ', level)),
                    number});
      }
    }
    // Links: [text](target), outside `inline code`.
    bool in_code = false;
    for (size_t i = 0; i < line.size(); ++i) {
      if (line[i] == '`') in_code = !in_code;
      if (in_code || line[i] != ']' || i + 1 >= line.size() || line[i + 1] != '(') continue;
      const size_t close = line.find(')', i + 2);
      if (close == std::string::npos) continue;
      note.links.push_back(Link{line.substr(i + 2, close - i - 2), number});
    }
  }
  if (in_block) throw std::runtime_error("a code block opened on line " +
                                         std::to_string(block.line) + " is never closed");
  return note;
}

// A code block as it is compared: `//` comments (outside string literals) and trailing
// whitespace removed from every line; a line that held only a comment is dropped, so a
// translated comment may take more or fewer lines than the English one.
inline std::string normalize_code(const std::string& body) {
  std::istringstream in(body);
  std::string line, out;
  while (std::getline(in, line)) {
    bool in_string = false;
    bool had_comment = false;
    for (size_t i = 0; i < line.size(); ++i) {
      const char c = line[i];
      if (in_string) {
        if (c == '\\') ++i;
        else if (c == '"') in_string = false;
      } else if (c == '"') {
        in_string = true;
      } else if (c == '/' && i + 1 < line.size() && line[i + 1] == '/') {
        line.erase(i);
        had_comment = true;
        break;
      }
    }
    line = rtrim(line);
    if (had_comment && line.find_first_not_of(' ') == std::string::npos) continue;
    out += line + "\n";
  }
  return out;
}

// GitHub's anchor for a heading: lower case, spaces to '-', punctuation dropped (ASCII
// punctuation other than '-' and '_', and the full-width punctuation Chinese text uses);
// letters of other scripts are kept as they are.
inline std::string heading_anchor(const std::string& heading) {
  static const std::vector<std::string> kWidePunctuation = {
      "，", "。", "：", "；", "、", "？", "！", "（", "）", "“", "”", "‘", "’",
      "《", "》", "【", "】", "—", "…", "·", "「", "」"};
  std::string out;
  for (size_t i = 0; i < heading.size();) {
    const unsigned char c = static_cast<unsigned char>(heading[i]);
    if (c >= 0x80) {
      bool dropped = false;
      for (const std::string& p : kWidePunctuation) {
        if (heading.compare(i, p.size(), p) == 0) {
          i += p.size();
          dropped = true;
          break;
        }
      }
      if (!dropped) out += heading[i++];
      continue;
    }
    if (std::isalnum(c) || c == '-' || c == '_') out += static_cast<char>(std::tolower(c));
    else if (c == ' ') out += '-';
    ++i;
  }
  return out;
}

// The anchors of a note's headings, with GitHub's -1, -2 suffixes for repeats.
inline std::set<std::string> heading_anchors(const Note& note) {
  std::set<std::string> anchors;
  std::map<std::string, int> seen;
  for (const Heading& h : note.headings) {
    const std::string base = heading_anchor(h.text);
    const int n = seen[base]++;
    anchors.insert(n == 0 ? base : base + "-" + std::to_string(n));
  }
  return anchors;
}

inline std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string heading_list(const std::vector<Heading>& headings) {
  std::string out;
  for (const Heading& h : headings) out += std::to_string(h.level);
  return out.empty() ? "(none)" : out;
}

inline bool links_to(const Note& note, const std::string& target_file) {
  for (const Link& link : note.links) {
    const std::string file = link.target.substr(0, link.target.find('#'));
    if (file == target_file) return true;
  }
  return false;
}

// The problems between an English note and its full twin, one line each; names are the
// paths to show in the messages.
inline std::vector<std::string> compare_twins(const Note& en, const Note& zh,
                                              const std::string& en_name,
                                              const std::string& zh_name) {
  std::vector<std::string> problems;
  if (heading_list(en.headings) != heading_list(zh.headings)) {
    std::string detail;
    for (int level = 1; level <= 6; ++level) {
      auto count = [level](const Note& n) {
        return std::count_if(n.headings.begin(), n.headings.end(),
                             [level](const Heading& h) { return h.level == level; });
      };
      if (count(en) != count(zh)) {
        detail += "; level " + std::to_string(level) + ": " + std::to_string(count(en)) +
                  " in English, " + std::to_string(count(zh)) + " in the twin";
      }
    }
    size_t i = 0;
    while (i < en.headings.size() && i < zh.headings.size() &&
           en.headings[i].level == zh.headings[i].level) {
      ++i;
    }
    if (i < en.headings.size() && i < zh.headings.size()) {
      detail += "; first difference: \"" + en.headings[i].text + "\" (" + en_name + ":" +
                std::to_string(en.headings[i].line) + ", level " +
                std::to_string(en.headings[i].level) + ") against \"" + zh.headings[i].text +
                "\" (" + zh_name + ":" + std::to_string(zh.headings[i].line) + ", level " +
                std::to_string(zh.headings[i].level) + ")";
    }
    problems.push_back(zh_name + ": the headings differ from " + en_name + " (levels in order: " +
                       heading_list(en.headings) + " against " + heading_list(zh.headings) + ")" +
                       detail);
  }
  if (en.blocks.size() != zh.blocks.size()) {
    problems.push_back(zh_name + ": " + std::to_string(zh.blocks.size()) + " code blocks, but " +
                       en_name + " has " + std::to_string(en.blocks.size()));
  }
  const size_t n = std::min(en.blocks.size(), zh.blocks.size());
  for (size_t i = 0; i < n; ++i) {
    const CodeBlock& a = en.blocks[i];
    const CodeBlock& b = zh.blocks[i];
    if (a.info != b.info) {
      problems.push_back(zh_name + ":" + std::to_string(b.line) + ": code block " +
                         std::to_string(i + 1) + " is ```" + b.info + " but " + en_name + ":" +
                         std::to_string(a.line) + " is ```" + a.info);
      continue;
    }
    const std::string x = normalize_code(a.body), y = normalize_code(b.body);
    if (x == y) continue;
    std::istringstream xs(x), ys(y);
    std::string xl, yl;
    int k = 0;
    while (true) {
      const bool gx = static_cast<bool>(std::getline(xs, xl));
      const bool gy = static_cast<bool>(std::getline(ys, yl));
      ++k;
      if (!gx) xl = "(end of block)";
      if (!gy) yl = "(end of block)";
      if (xl != yl || (!gx && !gy)) break;
    }
    problems.push_back(zh_name + ":" + std::to_string(b.line) + ": code block " +
                       std::to_string(i + 1) + " differs from " + en_name + ":" +
                       std::to_string(a.line) + " (comments aside); first different line " +
                       std::to_string(k) + " of the code: English \"" + xl + "\", twin \"" + yl +
                       "\"");
  }
  return problems;
}

// Relative links of a twin at `zh_path` must lead to files that exist; a link with an
// anchor into a Chinese note (a .md file in the twin's folder) must name one of its headings.
inline std::vector<std::string> check_links(const Note& zh, const fs::path& zh_path,
                                            const std::string& zh_name) {
  std::vector<std::string> problems;
  const fs::path dir = zh_path.parent_path();
  for (const Link& link : zh.links) {
    const std::string& t = link.target;
    if (t.empty() || t.find("://") != std::string::npos || starts_with(t, "mailto:")) continue;
    const size_t hash = t.find('#');
    const std::string file = t.substr(0, hash);
    const std::string anchor = hash == std::string::npos ? "" : t.substr(hash + 1);
    const fs::path target = file.empty() ? zh_path : dir / file;
    const std::string where = zh_name + ":" + std::to_string(link.line) + ": the link (" + t + ")";
    if (!fs::exists(target)) {
      problems.push_back(where + " leads to no file");
      continue;
    }
    if (anchor.empty() || target.extension() != ".md") continue;
    if (fs::weakly_canonical(target).parent_path() != fs::weakly_canonical(dir)) continue;
    const std::set<std::string> anchors = heading_anchors(parse_note(read_file(target)));
    if (!anchors.count(anchor)) {
      problems.push_back(where + " names no heading of " + target.filename().string());
    }
  }
  return problems;
}

// Every problem with the translations under `repo`, one line each.
inline std::vector<std::string> check_repository(const fs::path& repo) {
  std::vector<std::string> problems;
  const fs::path lessons = repo / "docs" / "lessons";
  const fs::path zh_dir = lessons / "zh-CN";
  std::vector<std::string> names;
  for (const auto& entry : fs::directory_iterator(lessons)) {
    if (entry.is_regular_file() && entry.path().extension() == ".md") {
      names.push_back(entry.path().filename().string());
    }
  }
  std::sort(names.begin(), names.end());
  if (names.empty()) problems.push_back(lessons.string() + " has no notes");

  struct Pair {
    fs::path en, zh;
    std::string en_link, zh_link;  // how each must link the other
    bool full;                     // a full twin (else: the parts a student meets)
  };
  std::vector<Pair> pairs;
  for (const std::string& name : names) {
    pairs.push_back({lessons / name, zh_dir / name, "zh-CN/" + name, "../" + name, true});
  }
  pairs.push_back({repo / "docs" / "troubleshooting.md", zh_dir / "troubleshooting.md",
                   "lessons/zh-CN/troubleshooting.md", "../../troubleshooting.md", false});

  for (const Pair& p : pairs) {
    const std::string en_name = fs::relative(p.en, repo).generic_string();
    const std::string zh_name = fs::relative(p.zh, repo).generic_string();
    if (!fs::exists(p.en)) {
      problems.push_back(en_name + " is missing");
      continue;
    }
    if (!fs::exists(p.zh)) {
      problems.push_back(en_name + " has no Chinese twin: " + zh_name + " is missing");
      continue;
    }
    try {
      const Note en = parse_note(read_file(p.en));
      const Note zh = parse_note(read_file(p.zh));
      if (!links_to(en, p.en_link)) {
        problems.push_back(en_name + " does not link its twin (" + p.en_link + ")");
      }
      if (!links_to(zh, p.zh_link)) {
        problems.push_back(zh_name + " does not link back to " + en_name + " (" + p.zh_link + ")");
      }
      if (p.full) {
        for (std::string& s : compare_twins(en, zh, en_name, zh_name)) problems.push_back(s);
      } else {
        std::set<std::string> english;
        for (const CodeBlock& b : en.blocks) english.insert(normalize_code(b.body));
        for (size_t i = 0; i < zh.blocks.size(); ++i) {
          if (!english.count(normalize_code(zh.blocks[i].body))) {
            problems.push_back(zh_name + ":" + std::to_string(zh.blocks[i].line) +
                               ": code block " + std::to_string(i + 1) +
                               " appears nowhere in " + en_name + " (comments aside)");
          }
        }
      }
      for (std::string& s : check_links(zh, p.zh, zh_name)) problems.push_back(s);
    } catch (const std::exception& e) {
      problems.push_back(en_name + " / " + zh_name + ": " + e.what());
    }
  }
  return problems;
}

// The program made of a note's ```cpp blocks (see the top of this file).
inline std::string snippets_program(const Note& note, const std::string& note_name) {
  std::string out =
      "// Generated by ember_check_translations --snippets from " + note_name +
      ": every ```cpp\n"
      "// block of the note, in order, each in a scope nested in the one before. Do not edit.\n"
      "#include <cmath>\n#include <cstdint>\n#include <iostream>\n#include <limits>\n"
      "#include <memory>\n#include <string>\n#include <vector>\n\n"
      "#include <ember/ember.h>\n#include <ember_course/convolution_dataset.h>\n"
      "#include <ember_course/digit_dataset.h>\n#include <ember_course/eval_mode.h>\n"
      "#include <ember_course/lang_id_dataset.h>\n"
      "#include <ember_course/perceptron_dataset.h>\n"
      "#include <ember_course/regression_dataset.h>\n"
      "#include <ember_course/shakespeare.h>\n\n"
      "using namespace ember;\nnamespace F = ember::nn::functional;\n\n"
      "int main() {\n  try {\n";
  int depth = 0;
  for (const CodeBlock& b : note.blocks) {
    if (b.info != "cpp") continue;
    ++depth;
    out += "{  // " + note_name + ":" + std::to_string(b.line) + "\n";
    out += "std::cout << \"--- " + note_name + ":" + std::to_string(b.line) + "\\n\";\n";
    out += "#line " + std::to_string(b.line + 1) + " \"" + note_name + "\"\n";
    out += b.body;
  }
  out += std::string(depth, '}') + "\n";
  out +=
      "  } catch (const std::exception& e) {\n"
      "    std::cerr << \"an example threw: \" << e.what() << \"\\n\";\n    return 1;\n  }\n"
      "  std::cout << \"all examples ran\\n\";\n  return 0;\n}\n";
  return out;
}

}  // namespace ember::translations

#ifndef EMBER_CHECK_TRANSLATIONS_NO_MAIN
int main(int argc, char** argv) {
  namespace tr = ember::translations;
  namespace fs = std::filesystem;
  const std::vector<std::string> args(argv + 1, argv + argc);
  try {
    if (args.size() == 2 && args[0] == "--repo") {
      const std::vector<std::string> problems = tr::check_repository(args[1]);
      for (const std::string& p : problems) std::cout << p << "\n";
      if (!problems.empty()) {
        std::cout << problems.size()
                  << " problem(s): a note and its Chinese twin (docs/lessons/zh-CN/) drifted "
                     "apart\n";
        return 1;
      }
      std::cout << "the Chinese notes match the English ones\n";
      return 0;
    }
    if (args.size() == 3 && args[0] == "--snippets") {
      const fs::path note = args[1];
      const std::string text =
          tr::snippets_program(tr::parse_note(tr::read_file(note)), note.filename().string());
      const fs::path out = args[2];
      if (fs::exists(out) && tr::read_file(out) == text) return 0;
      std::ofstream(out, std::ios::binary) << text;
      return 0;
    }
  } catch (const std::exception& e) {
    std::cerr << "ember_check_translations: " << e.what() << "\n";
    return 2;
  }
  std::cerr << "usage: ember_check_translations --repo DIR\n"
               "       ember_check_translations --snippets NOTE.md OUT.cpp\n";
  return 2;
}
#endif
