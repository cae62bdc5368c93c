#include "events/pattern/pattern.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <set>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "events/pattern/json.h"

namespace klaxon::events::pattern {

ParseOptions LibraryParseOptions() {
  ParseOptions o;
  o.max_pattern_bytes = 0;
  o.max_wildcard_complexity = 0;
  o.max_or_combinations = 1000;
  return o;
}

namespace internal {
namespace {

std::string FormatDouble(double d) {
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, r.ptr);
}

void AppendStringList(const std::vector<std::string>& values, std::string& out) {
  out.push_back('[');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) out.push_back(',');
    AppendJsonString(values[i], out);
  }
  out.push_back(']');
}

}  // namespace

bool Matcher::IsNegative() const {
  switch (type) {
    case MatcherType::kAbsent:
    case MatcherType::kAnythingButString:
    case MatcherType::kAnythingButNumber:
    case MatcherType::kAnythingButIgnoreCase:
    case MatcherType::kAnythingButPrefix:
    case MatcherType::kAnythingButSuffix:
    case MatcherType::kAnythingButWildcard:
      return true;
    default:
      return false;
  }
}

std::string Matcher::ToJson() const {
  std::string out;
  auto op = [&](std::string_view name) {
    out += "{";
    AppendJsonString(name, out);
    out += ":";
  };
  switch (type) {
    case MatcherType::kExactString:
    case MatcherType::kIpAddress:
      AppendJsonString(value, out);
      return out;
    case MatcherType::kExactNumber:
      return number ? FormatDouble(*number) : value;
    case MatcherType::kTrue:
      return "true";
    case MatcherType::kFalse:
      return "false";
    case MatcherType::kNull:
      return "null";
    case MatcherType::kPrefix:
    case MatcherType::kSuffix:
    case MatcherType::kEqualsIgnoreCase:
    case MatcherType::kWildcard:
    case MatcherType::kCidr:
      op(type == MatcherType::kPrefix             ? "prefix"
         : type == MatcherType::kSuffix           ? "suffix"
         : type == MatcherType::kEqualsIgnoreCase ? "equals-ignore-case"
         : type == MatcherType::kWildcard         ? "wildcard"
                                                  : "cidr");
      AppendJsonString(value, out);
      out += "}";
      return out;
    case MatcherType::kPrefixIgnoreCase:
    case MatcherType::kSuffixIgnoreCase:
      op(type == MatcherType::kPrefixIgnoreCase ? "prefix" : "suffix");
      op("equals-ignore-case");
      AppendJsonString(value, out);
      out += "}}";
      return out;
    case MatcherType::kNumeric: {
      op("numeric");
      out += "[";
      if (range.has_low && range.has_high && !range.low_open && !range.high_open &&
          range.low == range.high) {
        out += "\"=\"," + FormatDouble(range.low);
      } else {
        if (range.has_low) {
          out += range.low_open ? "\">\"," : "\">=\",";
          out += FormatDouble(range.low);
        }
        if (range.has_high) {
          if (range.has_low) out += ",";
          out += range.high_open ? "\"<\"," : "\"<=\",";
          out += FormatDouble(range.high);
        }
      }
      out += "]}";
      return out;
    }
    case MatcherType::kExists:
      return "{\"exists\":true}";
    case MatcherType::kAbsent:
      return "{\"exists\":false}";
    case MatcherType::kAnythingButString:
      op("anything-but");
      AppendStringList(values, out);
      out += "}";
      return out;
    case MatcherType::kAnythingButNumber: {
      op("anything-but");
      out += "[";
      for (size_t i = 0; i < numbers.size(); ++i) {
        if (i) out += ",";
        out += FormatDouble(numbers[i]);
      }
      out += "]}";
      return out;
    }
    case MatcherType::kAnythingButIgnoreCase:
    case MatcherType::kAnythingButPrefix:
    case MatcherType::kAnythingButSuffix:
    case MatcherType::kAnythingButWildcard:
      op("anything-but");
      op(type == MatcherType::kAnythingButIgnoreCase ? "equals-ignore-case"
         : type == MatcherType::kAnythingButPrefix   ? "prefix"
         : type == MatcherType::kAnythingButSuffix   ? "suffix"
                                                     : "wildcard");
      AppendStringList(values, out);
      out += "}}";
      return out;
  }
  return out;
}

namespace {

using FieldMap = std::map<std::string, std::vector<Matcher>>;
using Rules = std::vector<FieldMap>;

constexpr std::string_view kReservedInOr[] = {"exactly",
                                              "equals-ignore-case",
                                              "prefix",
                                              "suffix",
                                              "anything-but",
                                              "exists",
                                              "wildcard",
                                              "numeric",
                                              "cidr",
                                              "=",
                                              "<",
                                              "<=",
                                              ">",
                                              ">=",
                                              "regex",
                                              "not-wildcard",
                                              "not-equals-ignore-case",
                                              "date-after",
                                              "date-on-or-after",
                                              "date-before",
                                              "date-on-or-before",
                                              "in-date-range",
                                              "ip-address-in-range",
                                              "ip-address-not-in-range"};

absl::Status Fail(const std::string& message) {
  return absl::InvalidArgumentError(absl::string_view(message.data(), message.size()));
}

// What Jackson's getText() shows for a token, for messages that quote it.
std::string TokenText(const JsonValue& v) {
  switch (v.type) {
    case JsonType::kNull:
      return "null";
    case JsonType::kTrue:
      return "true";
    case JsonType::kFalse:
      return "false";
    case JsonType::kNumber:
    case JsonType::kString:
      return v.text;
    case JsonType::kArray:
      return "[";
    case JsonType::kObject:
      return "{";
  }
  return "";
}

class Compiler {
 public:
  explicit Compiler(const ParseOptions& options) : options_(options) {}

  absl::Status ParseObject(const JsonValue& obj, const std::string& prefix, Rules& rules,
                           bool inside_or);

 private:
  absl::Status ParseOr(const JsonValue& array, const std::string& prefix, Rules& rules);
  absl::Status WriteRules(const JsonValue& array, const std::string& name, Rules& rules);
  absl::StatusOr<Matcher> MatchExpression(const JsonValue& obj);
  absl::StatusOr<Matcher> Numeric(const JsonValue& array);
  absl::StatusOr<Matcher> AnythingBut(const JsonValue& v, bool extra_keys);
  absl::StatusOr<Matcher> WildcardMatcher(const std::string& text);

  const ParseOptions& options_;
};

bool IsOrArray(const JsonValue& v) {
  if (v.type != JsonType::kArray || v.items.size() < 2) return false;
  for (const JsonValue& item : v.items) {
    if (item.type != JsonType::kObject) return false;
  }
  return true;
}

absl::Status Compiler::ParseObject(const JsonValue& obj, const std::string& prefix, Rules& rules,
                                   bool inside_or) {
  for (const auto& [key, value] : obj.members) {
    if (key == "$or" && IsOrArray(value)) {
      if (auto s = ParseOr(value, prefix, rules); !s.ok()) return s;
      continue;
    }
    if (inside_or && std::find(std::begin(kReservedInOr), std::end(kReservedInOr), key) !=
                         std::end(kReservedInOr)) {
      return Fail(key + " is Ruler reserved fieldName which cannot be used inside $or.");
    }
    std::string name = prefix.empty() ? key : prefix + "." + key;
    if (value.type == JsonType::kObject) {
      // Depth is bounded by JsonParseOptions::max_depth, checked by the iterative JSON reader.
      if (auto s = ParseObject(value, name, rules, inside_or); !s.ok()) return s;
    } else if (value.type == JsonType::kArray) {
      if (auto s = WriteRules(value, name, rules); !s.ok()) return s;
    } else {
      return Fail("\"" + key + "\" must be an object or an array");
    }
  }
  if (obj.members.empty()) return Fail("Empty objects are not allowed");
  return absl::OkStatus();
}

absl::Status Compiler::ParseOr(const JsonValue& array, const std::string& prefix, Rules& rules) {
  Rules current = std::move(rules);
  rules.clear();
  for (const JsonValue& item : array.items) {
    Rules branch = current;
    if (branch.empty()) branch.emplace_back();
    if (auto s = ParseObject(item, prefix, branch, /*inside_or=*/true); !s.ok()) return s;
    for (FieldMap& m : branch) rules.push_back(std::move(m));
    if (options_.max_or_combinations > 0 && rules.size() > options_.max_or_combinations) {
      return Fail(absl::StrCat("Event pattern has too many $or combinations (more than ",
                               options_.max_or_combinations, ")"));
    }
  }
  return absl::OkStatus();
}

absl::Status Compiler::WriteRules(const JsonValue& array, const std::string& name, Rules& rules) {
  std::vector<Matcher> values;
  for (const JsonValue& item : array.items) {
    Matcher m;
    switch (item.type) {
      case JsonType::kObject: {
        auto r = MatchExpression(item);
        if (!r.ok()) return r.status();
        m = *std::move(r);
        break;
      }
      case JsonType::kString: {
        std::optional<IpAddress> ip;
        if (LooksLikeIpLiteral(item.text)) ip = ParseIpLiteral(item.text);
        if (ip) {
          m.type = MatcherType::kIpAddress;
          m.ip = IpRange{*ip, *ip};
        } else {
          m.type = MatcherType::kExactString;
        }
        m.value = item.text;
        break;
      }
      case JsonType::kNumber:
        m.type = MatcherType::kExactNumber;
        m.value = item.text;
        m.number = ComparableNumber(item.text);
        break;
      case JsonType::kTrue:
        m.type = MatcherType::kTrue;
        break;
      case JsonType::kFalse:
        m.type = MatcherType::kFalse;
        break;
      case JsonType::kNull:
        m.type = MatcherType::kNull;
        break;
      case JsonType::kArray:
        return Fail("Match value must be String, number, true, false, or null");
    }
    values.push_back(std::move(m));
  }
  if (values.empty()) return Fail("Empty arrays are not allowed");
  if (rules.empty()) rules.emplace_back();
  for (FieldMap& rule : rules) rule[name] = values;
  return absl::OkStatus();
}

absl::StatusOr<Matcher> Compiler::WildcardMatcher(const std::string& text) {
  auto w = ParseWildcard(text);
  if (!w.ok()) return w.status();
  if (options_.max_wildcard_complexity > 0 &&
      WildcardComplexity(*w) >= options_.max_wildcard_complexity) {
    return Fail(
        "Rule is too complex - try using fewer wildcard characters or fewer repeating character "
        "sequences after a wildcard character");
  }
  Matcher m;
  m.type = MatcherType::kWildcard;
  m.value = text;
  m.wildcard = *std::move(w);
  return m;
}

absl::StatusOr<Matcher> Compiler::MatchExpression(const JsonValue& obj) {
  if (obj.members.empty()) return Fail("Match expression name not found");
  const std::string& name = obj.members[0].first;
  const JsonValue& v = obj.members[0].second;
  const bool extra = obj.members.size() > 1;
  const char* kOneKey = "Only one key allowed in match expression";
  Matcher m;
  auto string_operand = [&](MatcherType type, const char* error) -> absl::StatusOr<Matcher> {
    if (v.type != JsonType::kString) return Fail(error);
    if (extra) return Fail(kOneKey);
    m.type = type;
    m.value = v.text;
    if (type == MatcherType::kEqualsIgnoreCase) m.ignore_case = CompileIgnoreCase(v.text);
    return m;
  };
  // {"prefix": {"equals-ignore-case": "x"}} and the suffix twin.
  auto ignore_case_operand = [&](MatcherType type,
                                 const std::string& outer) -> absl::StatusOr<Matcher> {
    if (v.members.empty()) {
      return Fail(outer == "prefix" ? "Prefix expression name not found"
                                    : "Suffix expression name not found");
    }
    const std::string& inner = v.members[0].first;
    if (inner != "equals-ignore-case") {
      return Fail(
          (outer == "prefix" ? "Unsupported prefix pattern: " : "Unsupported suffix pattern: ") +
          inner);
    }
    if (v.members[0].second.type != JsonType::kString) {
      return Fail("equals-ignore-case match pattern must be a string");
    }
    if (v.members.size() > 1 || extra) return Fail(kOneKey);
    m.type = type;
    m.value = v.members[0].second.text;
    m.ignore_case = CompileIgnoreCase(m.value);
    return m;
  };

  if (name == "exactly")
    return string_operand(MatcherType::kExactString, "exact match pattern must be a string");
  if (name == "prefix") {
    if (v.type == JsonType::kObject)
      return ignore_case_operand(MatcherType::kPrefixIgnoreCase, name);
    return string_operand(MatcherType::kPrefix, "prefix match pattern must be a string");
  }
  if (name == "suffix") {
    if (v.type == JsonType::kObject)
      return ignore_case_operand(MatcherType::kSuffixIgnoreCase, name);
    return string_operand(MatcherType::kSuffix, "suffix match pattern must be a string");
  }
  if (name == "equals-ignore-case") {
    return string_operand(MatcherType::kEqualsIgnoreCase,
                          "equals-ignore-case match pattern must be a string");
  }
  if (name == "numeric") {
    if (v.type != JsonType::kArray) return Fail("Value of numeric must be an array.");
    auto r = Numeric(v);
    if (!r.ok()) return r.status();
    if (extra) return Fail("Too many elements in numeric expression");
    return r;
  }
  if (name == "anything-but") return AnythingBut(v, extra);
  if (name == "exists") {
    if (v.type != JsonType::kTrue && v.type != JsonType::kFalse) {
      return Fail("exists match pattern must be either true or false.");
    }
    if (extra) return Fail(kOneKey);
    m.type = v.type == JsonType::kTrue ? MatcherType::kExists : MatcherType::kAbsent;
    return m;
  }
  if (name == "cidr") {
    if (v.type != JsonType::kString) return Fail("prefix match pattern must be a string");
    auto range = ParseCidr(v.text);
    if (!range.ok()) return range.status();
    if (extra) return Fail(kOneKey);
    m.type = MatcherType::kCidr;
    m.value = v.text;
    m.ip = *range;
    return m;
  }
  if (name == "wildcard") {
    if (v.type != JsonType::kString) return Fail("wildcard match pattern must be a string");
    auto r = WildcardMatcher(v.text);
    if (!r.ok()) return r.status();
    if (extra) return Fail(kOneKey);
    return r;
  }
  return Fail("Unrecognized match type " + name);
}

absl::StatusOr<Matcher> Compiler::Numeric(const JsonValue& array) {
  const auto& e = array.items;
  auto at = [&](size_t i) -> const JsonValue* { return i < e.size() ? &e[i] : nullptr; };
  auto text = [&](size_t i) { return at(i) ? TokenText(*at(i)) : std::string("]"); };
  auto number = [&](size_t i, const std::string& op) -> absl::StatusOr<double> {
    if (!at(i) || at(i)->type != JsonType::kNumber) {
      return Fail("Value of " + (op == "=" ? std::string("equals") : op) + " must be numeric");
    }
    std::optional<double> d = ComparableNumber(at(i)->text);
    if (!d) return Fail("Cannot compare number " + at(i)->text);
    return *d;
  };
  if (!at(0) || at(0)->type != JsonType::kString) {
    return Fail("Invalid member in numeric match: " + text(0));
  }
  const std::string& op = e[0].text;
  Matcher m;
  m.type = MatcherType::kNumeric;
  NumericRange& r = m.range;
  if (op == "=" || op == "<" || op == "<=") {
    auto d = number(1, op);
    if (!d.ok()) return d.status();
    if (at(2)) return Fail("Too many elements in numeric expression");
    if (op == "=") {
      r.has_low = r.has_high = true;
      r.low = r.high = *d;
    } else {
      r.has_high = true;
      r.high = *d;
      r.high_open = op == "<";
    }
    return m;
  }
  if (op == ">" || op == ">=") {
    auto d = number(1, op);
    if (!d.ok()) return d.status();
    r.has_low = true;
    r.low = *d;
    r.low_open = op == ">";
    if (!at(2)) return m;
    if (at(2)->type != JsonType::kString) return Fail("Bad value in numeric range: " + text(2));
    const std::string& op2 = e[2].text;
    if (op2 != "<" && op2 != "<=") return Fail("Bad numeric range operator: " + op2);
    auto top = number(3, op2);
    if (!top.ok()) return top.status();
    if (at(4)) return Fail("Too many terms in numeric range expression");
    r.has_high = true;
    r.high = *top;
    r.high_open = op2 == "<";
    return m;
  }
  return Fail("Unrecognized numeric range operator: " + op);
}

absl::StatusOr<Matcher> Compiler::AnythingBut(const JsonValue& v, bool extra_keys) {
  Matcher m;
  const char* kTooMany = "Too many elements in numeric expression";
  const char* kOneKey = "Only one key allowed in match expression";
  const JsonValue* operand = &v;
  bool ignore_case = false;
  if (v.type == JsonType::kObject) {
    if (v.members.empty()) return Fail("Anything-But expression name not found");
    const std::string& op = v.members[0].first;
    const JsonValue& inner = v.members[0].second;
    if (op == "equals-ignore-case") {
      ignore_case = true;
      operand = &inner;
      if (v.members.size() > 1) return Fail(kTooMany);
    } else if (op == "prefix" || op == "suffix" || op == "wildcard") {
      const bool wildcard = op == "wildcard";
      const std::string type_error = wildcard ? "Unsupported anything-but pattern: wildcard"
                                              : "prefix/suffix match pattern must be a string";
      std::vector<const JsonValue*> items;
      if (inner.type == JsonType::kString) {
        items.push_back(&inner);
      } else if (inner.type == JsonType::kArray) {
        for (const JsonValue& item : inner.items) {
          if (item.type != JsonType::kString) return Fail(type_error);
          items.push_back(&item);
        }
        if (items.empty()) return Fail("Empty arrays are not allowed");
      } else {
        return Fail(type_error);
      }
      m.type = op == "prefix"   ? MatcherType::kAnythingButPrefix
               : op == "suffix" ? MatcherType::kAnythingButSuffix
                                : MatcherType::kAnythingButWildcard;
      for (const JsonValue* item : items) {
        if (!wildcard && item->text.empty()) return Fail("Null prefix/suffix not allowed");
        if (wildcard) {
          auto w = WildcardMatcher(item->text);
          if (!w.ok()) return w.status();
          m.wildcards.push_back(std::move(w->wildcard));
        }
        m.values.push_back(item->text);
      }
      if (v.members.size() > 1 || extra_keys) return Fail(kOneKey);
      return m;
    } else {
      return Fail("Unsupported anything-but pattern: " + op);
    }
  }
  const JsonType t = operand->type;
  if (t != JsonType::kArray && t != JsonType::kString && t != JsonType::kNumber) {
    return Fail("Value of anything-but must be an array or single string/number value.");
  }
  if (ignore_case) {
    const char* kBad =
        "Inside anything-but/ignore-case list, number|start|null|boolean is not supported.";
    m.type = MatcherType::kAnythingButIgnoreCase;
    if (t == JsonType::kArray) {
      for (const JsonValue& item : operand->items) {
        if (item.type != JsonType::kString) return Fail(kBad);
        m.values.push_back(item.text);
      }
    } else if (t == JsonType::kString) {
      m.values.push_back(operand->text);
    } else {
      return Fail(kBad);
    }
    for (const std::string& s : m.values) m.ignore_cases.push_back(CompileIgnoreCase(s));
  } else {
    bool has_number = false, has_string = false;
    std::vector<const JsonValue*> items;
    if (t == JsonType::kArray) {
      for (const JsonValue& item : operand->items) items.push_back(&item);
    } else {
      items.push_back(operand);
    }
    for (const JsonValue* item : items) {
      if (item->type == JsonType::kString) {
        has_string = true;
        m.values.push_back(item->text);
      } else if (item->type == JsonType::kNumber) {
        has_number = true;
        std::optional<double> d = ComparableNumber(item->text);
        if (!d) return Fail("Cannot compare number " + item->text);
        m.numbers.push_back(*d);
      } else {
        return Fail(t == JsonType::kArray
                        ? "Inside anything but list, start|null|boolean is not supported."
                        : "Inside anything-but list, start|null|boolean is not supported.");
      }
    }
    if (has_number == has_string) {
      return Fail(
          "Inside anything but list, either all values are number or string, mixed type is not "
          "supported");
    }
    m.type = has_number ? MatcherType::kAnythingButNumber : MatcherType::kAnythingButString;
  }
  if (extra_keys) return Fail(kTooMany);
  return m;
}

// Sorts and deduplicates list operands and matchers so that equal patterns print equally.
void Normalize(Matcher& m) {
  auto sort_unique = [](auto& v) {
    std::sort(v.begin(), v.end());
    v.erase(std::unique(v.begin(), v.end()), v.end());
  };
  switch (m.type) {
    case MatcherType::kAnythingButString:
    case MatcherType::kAnythingButPrefix:
    case MatcherType::kAnythingButSuffix:
      sort_unique(m.values);
      break;
    case MatcherType::kAnythingButNumber:
      for (double& d : m.numbers) {
        if (d == 0) d = 0;  // -0 == 0
      }
      sort_unique(m.numbers);
      break;
    case MatcherType::kAnythingButIgnoreCase:
    case MatcherType::kAnythingButWildcard: {
      std::vector<size_t> order(m.values.size());
      for (size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](size_t a, size_t b) { return m.values[a] < m.values[b]; });
      Matcher sorted = m;
      sorted.values.clear();
      sorted.wildcards.clear();
      sorted.ignore_cases.clear();
      for (size_t i : order) {
        if (!sorted.values.empty() && sorted.values.back() == m.values[i]) continue;
        sorted.values.push_back(m.values[i]);
        if (m.type == MatcherType::kAnythingButWildcard) sorted.wildcards.push_back(m.wildcards[i]);
        if (m.type == MatcherType::kAnythingButIgnoreCase) {
          sorted.ignore_cases.push_back(m.ignore_cases[i]);
        }
      }
      m = std::move(sorted);
      break;
    }
    default:
      break;
  }
}

}  // namespace
}  // namespace internal

std::vector<std::string> Pattern::Paths() const {
  std::set<std::string> paths;
  for (const auto& b : branches_) {
    for (const auto& f : b.fields) paths.insert(f.path);
  }
  return {paths.begin(), paths.end()};
}

absl::StatusOr<Pattern> ParsePattern(std::string_view json, const ParseOptions& options) {
  using namespace internal;  // NOLINT(build/namespaces)
  if (options.max_pattern_bytes > 0 && json.size() > options.max_pattern_bytes) {
    return Fail(absl::StrCat("Event pattern is too long (", json.size(), " bytes; the limit is ",
                             options.max_pattern_bytes, ")"));
  }
  JsonParseOptions jo;
  jo.max_depth = options.max_depth;
  jo.allow_trailing = true;  // Jackson reads one value and ignores the rest
  // Only the leading whitespace and the first token decide "Filter is not an object".
  size_t first = json.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos || json[first] != '{') {
    return Fail("Filter is not an object");
  }
  auto doc = ParseJson(json, jo);
  if (!doc.ok()) return doc.status();
  Compiler compiler(options);
  Rules rules;
  if (auto s = compiler.ParseObject(*doc, "", rules, /*inside_or=*/false); !s.ok()) return s;

  Pattern p;
  std::map<std::string, Branch> unique;  // canonical branch -> branch
  for (FieldMap& rule : rules) {
    if (options.max_fields_per_branch > 0 && rule.size() > options.max_fields_per_branch) {
      return Fail(absl::StrCat("Event pattern has too many fields (more than ",
                               options.max_fields_per_branch, ")"));
    }
    Branch b;
    std::string key = "{";
    for (auto& [path, matchers] : rule) {
      FieldCondition f;
      f.path = path;
      // Keyed by JSON and type: {"exactly": "10.0.0.1"} and the IP literal "10.0.0.1" print
      // alike but match differently, so both are kept.
      std::map<std::pair<std::string, int>, Matcher> by_json;
      for (Matcher& m : matchers) {
        Normalize(m);
        std::string j = m.ToJson();
        int type = static_cast<int>(m.type);
        by_json.emplace(std::make_pair(std::move(j), type), std::move(m));
      }
      if (key.size() > 1) key += ",";
      AppendJsonString(path, key);
      key += ":[";
      bool first_m = true;
      for (auto& [j, m] : by_json) {
        if (!first_m) key += ",";
        first_m = false;
        key += j.first;
        f.matchers.push_back(std::move(m));
      }
      key += "]";
      b.fields.push_back(std::move(f));
    }
    key += "}";
    unique.emplace(std::move(key), std::move(b));
  }
  std::string canonical;
  if (unique.size() == 1) {
    canonical = unique.begin()->first;
  } else {
    canonical = "{\"$or\":[";
    bool first_b = true;
    for (const auto& [key, b] : unique) {
      if (!first_b) canonical += ",";
      first_b = false;
      canonical += key;
    }
    canonical += "]}";
  }
  for (auto& [key, b] : unique) p.branches_.push_back(std::move(b));
  p.canonical_ = std::move(canonical);
  return p;
}

}  // namespace klaxon::events::pattern
