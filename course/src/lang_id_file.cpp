#include "ember_course/lang_id_file.h"

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <system_error>
#include <unordered_map>

#include <ember/error.h>
#include <fmt/format.h>
#include <fmt/ranges.h>

namespace ember::course {
namespace {

constexpr const char* kRestoreHint =
    "Restore it with `git checkout -- datasets/lang_id` or regenerate it with tools/convert_lang_id.py "
    "(see datasets/README.md)";

// The end of a "not found" message: how to restore the file, and where the folder came from.
std::string not_found_hint() {
  const char* override_dir = std::getenv("EMBER_DATASETS");
  if (override_dir != nullptr && override_dir[0] != '\0') {
    return fmt::format(
        "; note that the environment variable EMBER_DATASETS is set to '{}', which replaces the datasets folder; "
        "unset it to use the repository's datasets/",
        override_dir);
  }
  return "; to read the datasets from another folder, set the EMBER_DATASETS environment variable";
}

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  throw Error(fmt::format("{}: {}. {}", path, problem, kRestoreHint));
}

[[noreturn]] void fail_at(const std::string& path, size_t line_number, const std::string& problem) {
  throw Error(fmt::format("{}:{}: {}. {}", path, line_number, problem, kRestoreHint));
}

// The lines of a text file, without their "\n" (or "\r\n").
std::vector<std::string> read_lines(const std::string& path) {
  std::error_code error;
  const auto status = std::filesystem::status(path, error);
  if (status.type() == std::filesystem::file_type::not_found) {
    throw Error(fmt::format("{}: file not found. {}{}", path, kRestoreHint, not_found_hint()));
  }
  if (error) fail(path, fmt::format("cannot access it: {}", error.message()));
  if (!std::filesystem::is_regular_file(status)) fail(path, "not a regular file");
  std::ifstream stream(path, std::ios::binary);
  if (!stream) fail(path, "cannot open it");
  const std::string text((std::istreambuf_iterator<char>(stream)), std::istreambuf_iterator<char>());
  if (stream.bad()) fail(path, "read error");
  if (text.empty()) fail(path, "the file is empty");
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) {
    fail_at(path, 1, "starts with a byte-order mark (U+FEFF); save the file as UTF-8 without one");
  }

  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    const size_t newline = text.find('\n', start);
    if (newline == std::string::npos) {
      fail_at(path, lines.size() + 1, "the last line does not end with a newline (is the file truncated?)");
    }
    std::string line = text.substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();  // tolerate CRLF line endings
    lines.push_back(std::move(line));
    start = newline + 1;
  }
  return lines;
}

struct CodePoint {
  uint32_t value;
  std::string bytes;  // its UTF-8 encoding
};

// "'é' (U+00E9)" for visible characters, "U+0009" for control characters.
std::string describe(const CodePoint& c) {
  if (c.value < 0x20 || (c.value >= 0x7F && c.value < 0xA0)) return fmt::format("U+{:04X}", c.value);
  return fmt::format("'{}' (U+{:04X})", c.bytes, c.value);
}

// Splits UTF-8 text into code points, rejecting anything RFC 3629 forbids: stray
// continuation bytes, truncated sequences, overlong forms, surrogates, values past U+10FFFF.
std::vector<CodePoint> decode_utf8(const std::string& text, const std::string& path, size_t line_number) {
  std::vector<CodePoint> out;
  size_t i = 0;
  while (i < text.size()) {
    const auto byte = [&](size_t k) { return static_cast<uint8_t>(text[k]); };
    const uint8_t lead = byte(i);
    size_t length = 0;
    uint32_t value = 0;
    uint8_t second_min = 0x80, second_max = 0xBF;
    if (lead < 0x80) {
      length = 1, value = lead;
    } else if (lead >= 0xC2 && lead <= 0xDF) {
      length = 2, value = lead & 0x1Fu;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
      length = 3, value = lead & 0x0Fu;
      if (lead == 0xE0) second_min = 0xA0;  // no overlong forms
      if (lead == 0xED) second_max = 0x9F;  // no UTF-16 surrogates
    } else if (lead >= 0xF0 && lead <= 0xF4) {
      length = 4, value = lead & 0x07u;
      if (lead == 0xF0) second_min = 0x90;  // no overlong forms
      if (lead == 0xF4) second_max = 0x8F;  // nothing past U+10FFFF
    }
    bool valid = length > 0 && i + length <= text.size();
    for (size_t k = 1; valid && k < length; ++k) {
      const uint8_t next = byte(i + k);
      const uint8_t low = k == 1 ? second_min : 0x80, high = k == 1 ? second_max : 0xBF;
      valid = next >= low && next <= high;
      value = (value << 6) | (next & 0x3Fu);
    }
    if (!valid) {
      fail_at(path, line_number,
              fmt::format("invalid UTF-8 at byte {} of the line (0x{:02X}); the file must be saved as UTF-8", i + 1,
                          lead));
    }
    out.push_back({value, text.substr(i, length)});
    i += length;
  }
  return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> fields;
  size_t start = 0;
  for (;;) {
    const size_t tab = line.find('\t', start);
    fields.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) return fields;
    start = tab + 1;
  }
}

// A non-negative decimal integer with nothing around it, or -1.
int64_t parse_count(const std::string& text) {
  if (text.empty() || text.size() > 18) return -1;
  int64_t value = 0;
  for (char c : text) {
    if (c < '0' || c > '9') return -1;
    value = value * 10 + (c - '0');
  }
  return value;
}

std::vector<std::string> read_alphabet(const std::string& path) {
  const std::vector<std::string> lines = read_lines(path);
  std::vector<std::string> alphabet;
  std::map<std::string, size_t> seen;  // character -> line number
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_number = i + 1;
    const std::vector<CodePoint> characters = decode_utf8(lines[i], path, line_number);
    if (characters.size() != 1) {
      fail_at(path, line_number,
              fmt::format("expected exactly one character per line, found {}", characters.size()));
    }
    const CodePoint& c = characters[0];
    if (c.value <= 0x20 || c.value == 0x7F) {
      fail_at(path, line_number, fmt::format("{} is a space or control character, not a letter", describe(c)));
    }
    const auto [it, inserted] = seen.emplace(c.bytes, line_number);
    if (!inserted) {
      fail_at(path, line_number, fmt::format("character {} is already on line {}", describe(c), it->second));
    }
    alphabet.push_back(c.bytes);
  }
  return alphabet;
}

void read_languages(const std::string& path, std::vector<std::string>& codes, std::vector<std::string>& names) {
  const std::vector<std::string> lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_number = i + 1;
    decode_utf8(lines[i], path, line_number);
    const std::vector<std::string> fields = split_tabs(lines[i]);
    if (fields.size() != 3) {
      fail_at(path, line_number,
              fmt::format("expected index<TAB>code<TAB>name, found {} tab-separated field{}", fields.size(),
                          fields.size() == 1 ? "" : "s"));
    }
    if (parse_count(fields[0]) != static_cast<int64_t>(i)) {
      fail_at(path, line_number,
              fmt::format("index '{}', expected {} (languages are numbered 0, 1, 2, ... in line order)", fields[0],
                          i));
    }
    const std::string& code = fields[1];
    if (code.empty() || code.find(' ') != std::string::npos) {
      fail_at(path, line_number, fmt::format("language code '{}' is empty or contains a space", code));
    }
    for (size_t k = 0; k < codes.size(); ++k) {
      if (codes[k] == code) {
        fail_at(path, line_number, fmt::format("language code '{}' is already on line {}", code, k + 1));
      }
    }
    if (fields[2].empty()) fail_at(path, line_number, "empty language name");
    codes.push_back(code);
    names.push_back(fields[2]);
  }
}

struct Bucket {
  int64_t start, end, word_length;
  size_t line_number;  // in buckets.tsv; 0 for derived buckets
};

std::map<std::string, std::vector<Bucket>> read_bucket_table(const std::string& path) {
  const std::vector<std::string> lines = read_lines(path);
  std::map<std::string, std::vector<Bucket>> table;
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_number = i + 1;
    decode_utf8(lines[i], path, line_number);
    const std::vector<std::string> fields = split_tabs(lines[i]);
    if (fields.size() != 4) {
      fail_at(path, line_number,
              fmt::format("expected split<TAB>start<TAB>end<TAB>word_length, found {} tab-separated field{}",
                          fields.size(), fields.size() == 1 ? "" : "s"));
    }
    if (fields[0] != "train" && fields[0] != "dev" && fields[0] != "test") {
      fail_at(path, line_number, fmt::format("unknown split '{}' (expected train, dev or test)", fields[0]));
    }
    Bucket bucket{parse_count(fields[1]), parse_count(fields[2]), parse_count(fields[3]), line_number};
    if (bucket.start < 0 || bucket.end < 0 || bucket.word_length < 0) {
      fail_at(path, line_number, "start, end and word_length must be non-negative integers");
    }
    table[fields[0]].push_back(bucket);
  }
  return table;
}

LangIdSplit read_split(const std::string& path, const std::string& split_name,
                       const std::unordered_map<std::string, int>& character_index,
                       const std::vector<std::string>& codes, const std::vector<Bucket>& expected_buckets,
                       const std::string& buckets_path) {
  const std::vector<std::string> lines = read_lines(path);
  LangIdSplit split;
  std::vector<Bucket> derived;
  for (size_t i = 0; i < lines.size(); ++i) {
    const size_t line_number = i + 1;
    const std::string& line = lines[i];
    if (line.empty()) fail_at(path, line_number, "empty line; expected word<TAB>language_code");
    const std::vector<std::string> fields = split_tabs(line);
    if (fields.size() != 2) {
      fail_at(path, line_number,
              fmt::format("expected word<TAB>language_code, found {} tab-separated field{}", fields.size(),
                          fields.size() == 1 ? "" : "s"));
    }
    const std::string& word = fields[0];
    if (word.empty()) fail_at(path, line_number, "empty word");
    const std::vector<CodePoint> characters = decode_utf8(word, path, line_number);
    std::vector<int> indices;
    indices.reserve(characters.size());
    for (size_t k = 0; k < characters.size(); ++k) {
      const auto found = character_index.find(characters[k].bytes);
      if (found == character_index.end()) {
        fail_at(path, line_number,
                fmt::format("unknown character {} at position {} of the word \"{}\"; it is not in alphabet.txt",
                            describe(characters[k]), k + 1, word));
      }
      indices.push_back(found->second);
    }
    decode_utf8(fields[1], path, line_number);
    int label = -1;
    for (size_t k = 0; k < codes.size(); ++k) {
      if (codes[k] == fields[1]) label = static_cast<int>(k);
    }
    if (label < 0) {
      fail_at(path, line_number,
              fmt::format("unknown language code '{}' (languages.txt lists {})", fields[1],
                          fmt::join(codes, ", ")));
    }

    const auto row = static_cast<int64_t>(i);
    const auto length = static_cast<int64_t>(indices.size());
    if (derived.empty() || derived.back().word_length != length) {
      derived.push_back({row, row + 1, length, 0});
    } else {
      derived.back().end = row + 1;
    }
    split.words.push_back(std::move(indices));
    split.labels.push_back(label);
  }

  // The runs of equal word length must be exactly the original buckets; a lost, added or
  // moved line shows up here.
  if (derived.size() != expected_buckets.size()) {
    fail(path, fmt::format("{} runs of equal word length, but {} lists {} bucket{} for '{}' (lines lost, added or "
                           "reordered?)",
                           derived.size(), buckets_path, expected_buckets.size(),
                           expected_buckets.size() == 1 ? "" : "s", split_name));
  }
  for (size_t k = 0; k < derived.size(); ++k) {
    const Bucket& got = derived[k];
    const Bucket& want = expected_buckets[k];
    if (got.start != want.start || got.end != want.end || got.word_length != want.word_length) {
      fail(path, fmt::format("words of length {} fill lines {}-{} (rows [{}, {})), but {} line {} says rows [{}, {}) "
                             "have length {} (lines lost, added or reordered?)",
                             got.word_length, got.start + 1, got.end, got.start, got.end, buckets_path,
                             want.line_number, want.start, want.end, want.word_length));
    }
    split.buckets.emplace_back(got.start, got.end);
  }
  return split;
}

}  // namespace

LangIdData read_lang_id(const std::string& dir) {
  std::error_code error;
  if (!std::filesystem::is_directory(dir, error)) {
    throw Error(fmt::format("{}: folder not found. Restore it with `git checkout -- datasets/lang_id` (see "
                            "datasets/README.md){}",
                            dir, not_found_hint()));
  }
  const auto file = [&](const char* name) { return (std::filesystem::path(dir) / name).string(); };

  LangIdData data;
  const std::string alphabet_path = file("alphabet.txt");
  data.alphabet = read_alphabet(alphabet_path);
  std::unordered_map<std::string, int> character_index;
  for (size_t i = 0; i < data.alphabet.size(); ++i) character_index[data.alphabet[i]] = static_cast<int>(i);

  read_languages(file("languages.txt"), data.language_codes, data.language_names);
  if (data.language_codes.empty()) fail(file("languages.txt"), "no languages listed");

  const std::string buckets_path = file("buckets.tsv");
  std::map<std::string, std::vector<Bucket>> buckets = read_bucket_table(buckets_path);

  data.train = read_split(file("train.tsv"), "train", character_index, data.language_codes, buckets["train"],
                          buckets_path);
  data.dev = read_split(file("dev.tsv"), "dev", character_index, data.language_codes, buckets["dev"], buckets_path);
  data.test =
      read_split(file("test.tsv"), "test", character_index, data.language_codes, buckets["test"], buckets_path);
  return data;
}

}  // namespace ember::course
