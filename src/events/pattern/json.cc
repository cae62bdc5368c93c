#include "events/pattern/json.h"

#include <cctype>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace klaxon::events::pattern::internal {
namespace {

absl::Status Error(const std::string& message) {
  return absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
}

std::string CharDescription(unsigned char c) {
  if (c < 0x20) return absl::StrCat("(CTRL-CHAR, code ", static_cast<int>(c), ")");
  return absl::StrCat("'", std::string(1, static_cast<char>(c)), "' (code ", static_cast<int>(c),
                      ")");
}

class Reader {
 public:
  Reader(std::string_view text, const JsonParseOptions& options) : text_(text), options_(options) {}

  absl::StatusOr<JsonValue> Parse();

 private:
  void SkipWs() {
    while (pos_ < text_.size()) {
      char c = text_[pos_];
      if (c != ' ' && c != '\t' && c != '\n' && c != '\r') break;
      ++pos_;
    }
  }
  bool AtEnd() const { return pos_ >= text_.size(); }
  absl::Status Unexpected(std::string_view expected) {
    if (AtEnd())
      return Error(absl::StrCat("Unexpected end-of-input: expected ", std::string(expected)));
    return Error(absl::StrCat("Unexpected character (",
                              CharDescription(static_cast<unsigned char>(text_[pos_])),
                              "): expected ", std::string(expected), " at position ", pos_));
  }
  absl::Status ParseString(std::string& out);
  absl::Status ParseNumber(std::string& out);
  absl::Status ParseLiteral(std::string_view word, JsonType type, JsonValue& out);
  // Parses a scalar or opens a container into `out`. Sets `opened` if a container was opened.
  absl::Status ParseValueStart(JsonValue& out, bool& opened);

  std::string_view text_;
  JsonParseOptions options_;
  size_t pos_ = 0;
};

absl::Status Reader::ParseLiteral(std::string_view word, JsonType type, JsonValue& out) {
  if (text_.substr(pos_, word.size()) != word) {
    // Jackson: "Unrecognized token 'tru': was expecting (JSON String, Number, ...)"
    size_t end = pos_;
    while (end < text_.size() && std::isalnum(static_cast<unsigned char>(text_[end]))) ++end;
    return Error(absl::StrCat("Unrecognized token '", std::string(text_.substr(pos_, end - pos_)),
                              "': was expecting (JSON String, Number, Array, Object or token "
                              "'null', 'true' or 'false')"));
  }
  pos_ += word.size();
  out.type = type;
  return absl::OkStatus();
}

absl::Status Reader::ParseNumber(std::string& out) {
  size_t start = pos_;
  if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
  auto digit = [&](size_t p) { return p < text_.size() && text_[p] >= '0' && text_[p] <= '9'; };
  if (!digit(pos_)) return Unexpected("digit");
  if (text_[pos_] == '0') {
    ++pos_;
    if (digit(pos_)) return Error("Invalid numeric value: Leading zeroes not allowed");
  } else {
    while (digit(pos_)) ++pos_;
  }
  if (pos_ < text_.size() && text_[pos_] == '.') {
    ++pos_;
    if (!digit(pos_)) return Unexpected("Decimal point not followed by a digit");
    while (digit(pos_)) ++pos_;
  }
  if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
    ++pos_;
    if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
    if (!digit(pos_)) return Unexpected("Exponent indicator not followed by a digit");
    while (digit(pos_)) ++pos_;
  }
  out.assign(text_.substr(start, pos_ - start));
  return absl::OkStatus();
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Length of the valid UTF-8 sequence starting at s[0], or 0 if invalid.
size_t Utf8SequenceLength(std::string_view s) {
  auto b = [&](size_t i) { return static_cast<unsigned char>(s[i]); };
  unsigned char c = b(0);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if (c >= 0xC2 && c <= 0xDF) {
    n = 2;
    cp = c & 0x1F;
  } else if (c >= 0xE0 && c <= 0xEF) {
    n = 3;
    cp = c & 0x0F;
  } else if (c >= 0xF0 && c <= 0xF4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (s.size() < n) return 0;
  for (size_t i = 1; i < n; ++i) {
    if ((b(i) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i) & 0x3F);
  }
  if ((n == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) ||
      (n == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
    return 0;
  }
  return n;
}

absl::Status Reader::ParseString(std::string& out) {
  // text_[pos_] == '"'
  ++pos_;
  out.clear();
  while (true) {
    if (AtEnd()) return Error("Unexpected end-of-input in a String value");
    unsigned char c = static_cast<unsigned char>(text_[pos_]);
    if (c == '"') {
      ++pos_;
      return absl::OkStatus();
    }
    if (c < 0x20) {
      return Error(absl::StrCat("Illegal unquoted character (", CharDescription(c),
                                "): has to be escaped using backslash to be included in string "
                                "value"));
    }
    if (c == '\\') {
      ++pos_;
      if (AtEnd()) return Error("Unexpected end-of-input in character escape sequence");
      char e = text_[pos_++];
      switch (e) {
        case '"':
        case '\\':
        case '/':
          out.push_back(e);
          break;
        case 'b':
          out.push_back('\b');
          break;
        case 'f':
          out.push_back('\f');
          break;
        case 'n':
          out.push_back('\n');
          break;
        case 'r':
          out.push_back('\r');
          break;
        case 't':
          out.push_back('\t');
          break;
        case 'u': {
          auto read4 = [&](uint32_t& v) -> absl::Status {
            if (pos_ + 4 > text_.size()) {
              return Error("Unexpected end-of-input in character escape sequence");
            }
            v = 0;
            for (int i = 0; i < 4; ++i) {
              int h = HexValue(text_[pos_ + i]);
              if (h < 0) {
                return Error(
                    absl::StrCat("Unexpected character (",
                                 CharDescription(static_cast<unsigned char>(text_[pos_ + i])),
                                 "): expected a hex-digit for character escape sequence"));
              }
              v = v * 16 + static_cast<uint32_t>(h);
            }
            pos_ += 4;
            return absl::OkStatus();
          };
          uint32_t cp;
          if (auto s = read4(cp); !s.ok()) return s;
          if (cp >= 0xD800 && cp <= 0xDBFF && pos_ + 1 < text_.size() && text_[pos_] == '\\' &&
              text_[pos_ + 1] == 'u') {
            size_t save = pos_;
            pos_ += 2;
            uint32_t lo;
            if (auto s = read4(lo); !s.ok()) return s;
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
            } else {
              pos_ = save;
            }
          }
          // Lone surrogates become U+FFFD (as a Java String would when encoded to UTF-8: '?').
          if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
          AppendUtf8(cp, out);
          break;
        }
        default:
          return Error(absl::StrCat("Unrecognized character escape ",
                                    CharDescription(static_cast<unsigned char>(e))));
      }
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++pos_;
      continue;
    }
    size_t n = Utf8SequenceLength(text_.substr(pos_));
    if (n == 0) {
      return Error(absl::StrCat("Invalid UTF-8 start byte 0x", absl::Hex(c)));
    }
    out.append(text_.substr(pos_, n));
    pos_ += n;
  }
}

absl::Status Reader::ParseValueStart(JsonValue& out, bool& opened) {
  opened = false;
  SkipWs();
  if (AtEnd()) return Error("Unexpected end-of-input: expected a value");
  char c = text_[pos_];
  switch (c) {
    case '{':
      ++pos_;
      out.type = JsonType::kObject;
      opened = true;
      return absl::OkStatus();
    case '[':
      ++pos_;
      out.type = JsonType::kArray;
      opened = true;
      return absl::OkStatus();
    case '"':
      out.type = JsonType::kString;
      return ParseString(out.text);
    case 't':
      return ParseLiteral("true", JsonType::kTrue, out);
    case 'f':
      return ParseLiteral("false", JsonType::kFalse, out);
    case 'n':
      return ParseLiteral("null", JsonType::kNull, out);
    default:
      if (c == '-' || (c >= '0' && c <= '9')) {
        out.type = JsonType::kNumber;
        return ParseNumber(out.text);
      }
      return Unexpected("JSON String, Number, Array, Object or token 'null', 'true' or 'false'");
  }
}

absl::StatusOr<JsonValue> Reader::Parse() {
  JsonValue root;
  bool opened;
  if (auto s = ParseValueStart(root, opened); !s.ok()) return s;
  // Containers under construction; the top is the innermost. Pointers stay valid because only
  // the innermost container is ever appended to.
  std::vector<JsonValue*> stack;
  if (opened) stack.push_back(&root);
  while (!stack.empty()) {
    if (static_cast<int>(stack.size()) > options_.max_depth) {
      return Error(absl::StrCat("JSON nesting too deep (limit ", options_.max_depth, ")"));
    }
    JsonValue& top = *stack.back();
    SkipWs();
    JsonValue* child = nullptr;
    if (top.type == JsonType::kArray) {
      if (AtEnd()) return Error("Unexpected end-of-input: expected close marker for ARRAY");
      if (text_[pos_] == ']') {
        ++pos_;
        stack.pop_back();
        continue;
      }
      if (!top.items.empty()) {
        if (text_[pos_] != ',') return Unexpected("comma to separate Array entries");
        ++pos_;
        SkipWs();
      }
      child = &top.items.emplace_back();
    } else {
      if (AtEnd()) return Error("Unexpected end-of-input: expected close marker for OBJECT");
      if (text_[pos_] == '}') {
        ++pos_;
        stack.pop_back();
        continue;
      }
      if (!top.members.empty()) {
        if (text_[pos_] != ',') return Unexpected("comma to separate Object entries");
        ++pos_;
        SkipWs();
      }
      if (AtEnd() || text_[pos_] != '"') return Unexpected("double-quote to start field name");
      std::string key;
      if (auto s = ParseString(key); !s.ok()) return s;
      SkipWs();
      if (AtEnd() || text_[pos_] != ':')
        return Unexpected("a colon to separate field name and value");
      ++pos_;
      top.members.push_back(JsonMember{std::move(key), JsonValue()});
      auto& member = top.members.back();
      child = &member.second;
    }
    if (auto s = ParseValueStart(*child, opened); !s.ok()) return s;
    if (opened) stack.push_back(child);
  }
  if (!options_.allow_trailing) {
    SkipWs();
    if (!AtEnd()) return Unexpected("end-of-input");
  }
  return root;
}

}  // namespace

absl::StatusOr<JsonValue> ParseJson(std::string_view text, const JsonParseOptions& options) {
  Reader reader(text, options);
  return reader.Parse();
}

void AppendUtf8(uint32_t cp, std::string& out) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (char ch : s) {
    unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(ch);
        }
    }
  }
  out.push_back('"');
}

}  // namespace klaxon::events::pattern::internal
