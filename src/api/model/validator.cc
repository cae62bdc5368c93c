#include "api/model/validator.h"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "boost/json/serialize.hpp"
#include "common/mutex.h"
#include "common/status.h"
#include "re2/re2.h"
#include "spdlog/spdlog.h"

namespace klaxon::api::model {
namespace {

namespace json = boost::json;

constexpr size_t kMaxQuotedValue = 256;

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

// Length as Java's String.length(): UTF-16 code units. Input is valid UTF-8 (Boost.JSON checks).
size_t Utf16Length(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += (c >= 0xF0) ? 2 : 1;
  }
  return n;
}

// Decoded length of a base64 text (without validating it beyond its alphabet).
size_t Base64DecodedLength(std::string_view s) {
  size_t n = s.size();
  while (n > 0 && s[n - 1] == '=') --n;
  return (n * 3) / 4;
}

bool IsBase64(std::string_view s) {
  size_t i = 0;
  for (; i < s.size(); ++i) {
    char c = s[i];
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '+' || c == '/' || c == '-' || c == '_';
    if (!ok) break;
  }
  size_t pad = 0;
  for (; i < s.size() && s[i] == '='; ++i) ++pad;
  return i == s.size() && pad <= 2;
}

std::string FormatLimit(double v) {
  if (std::floor(v) == v && std::fabs(v) < 9.0e15) {
    return std::to_string(static_cast<int64_t>(v));
  }
  return absl::StrCat(v);
}

std::string Truncate(std::string s) {
  if (s.size() <= kMaxQuotedValue) return s;
  size_t cut = kMaxQuotedValue;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // keep UTF-8
  s.resize(cut);
  s += "...";
  return s;
}

std::string ValueText(const json::value& v) {
  if (v.is_string()) return Truncate(std::string(v.get_string()));
  return Truncate(json::serialize(v));
}

bool ToNumber(const json::value& v, double* out) {
  if (v.is_int64()) {
    *out = static_cast<double>(v.get_int64());
  } else if (v.is_uint64()) {
    *out = static_cast<double>(v.get_uint64());
  } else if (v.is_double()) {
    *out = v.get_double();
  } else {
    return false;
  }
  return true;
}

// Parses a timestamp given as a number, a numeric string or an RFC 3339 string.
bool ParseTimestamp(const json::value& v, double* out) {
  if (ToNumber(v, out)) return std::isfinite(*out);
  if (!v.is_string()) return false;
  std::string_view s(v.get_string().data(), v.get_string().size());
  if (absl::SimpleAtod(AbslView(s), out)) return std::isfinite(*out);
  absl::Time t;
  std::string err;
  if (!absl::ParseTime(absl::RFC3339_full, AbslView(s), &t, &err)) return false;
  *out = absl::ToDoubleSeconds(t - absl::UnixEpoch());
  return true;
}

// Where a value sits in the input, as a chain of nodes on the validator's stack: the AWS-style
// path text ("items.3.member.name") is only built when a constraint fails, so valid input costs
// no string work per member.
struct PathNode {
  enum class Kind { kRoot, kMember, kListItem, kMapValue };
  Kind kind = Kind::kRoot;
  const PathNode* parent = nullptr;
  std::string_view name;  // kMember: member name; kMapValue: the key
  size_t index = 0;       // kListItem: 1-based
};

class InputValidator {
 public:
  explicit InputValidator(const ValidationOptions& options) : options_(options) {}

  absl::Status Run(const Shape& shape, json::value& value) {
    PathNode root;
    Visit(shape, value, root, 0);
    if (errors_.empty()) return absl::OkStatus();
    std::string message = absl::StrCat(
        errors_.size(), errors_.size() == 1 ? " validation error" : " validation errors",
        " detected: ", absl::StrJoin(errors_, "; "));
    return ValidationError(message);
  }

 private:
  bool Full() const { return errors_.size() >= options_.max_errors; }

  // The path text of `node`, as AWS prints it: structure members joined with '.', list items as
  // `list.N.member` and map values as `map.KEY` (under "input" at the top level); "" at the root.
  std::string Render(const PathNode& node) const {
    switch (node.kind) {
      case PathNode::Kind::kRoot:
        return "";
      case PathNode::Kind::kMember: {
        std::string segment(node.name);
        if (options_.lower_camel_paths && !segment.empty() && segment[0] >= 'A' &&
            segment[0] <= 'Z') {
          segment[0] = static_cast<char>(segment[0] - 'A' + 'a');
        }
        std::string parent = Render(*node.parent);
        return parent.empty() ? segment : parent + "." + segment;
      }
      case PathNode::Kind::kListItem: {
        std::string parent = Render(*node.parent);
        return absl::StrCat(parent.empty() ? "input" : parent, ".", node.index, ".member");
      }
      case PathNode::Kind::kMapValue: {
        std::string parent = Render(*node.parent);
        return absl::StrCat(parent.empty() ? "input" : parent, ".", AbslView(node.name));
      }
    }
    return "";
  }

  void Add(const Shape& shape, const json::value* value, const PathNode& node,
           std::string_view constraint) {
    if (Full()) return;
    std::string path = Render(node);
    std::string where = path.empty() ? "input" : path;
    if (value == nullptr) {
      errors_.push_back(absl::StrCat("Value null at '", where,
                                     "' failed to satisfy constraint: ", AbslView(constraint)));
    } else if (shape.sensitive) {
      errors_.push_back(absl::StrCat("Value at '", where,
                                     "' failed to satisfy constraint: ", AbslView(constraint)));
    } else {
      errors_.push_back(absl::StrCat("Value '", ValueText(*value), "' at '", where,
                                     "' failed to satisfy constraint: ", AbslView(constraint)));
    }
  }

  // Constraint messages that a scalar value violates (type, length, range, pattern, enum).
  // Normalizes numbers/timestamps in place. Empty = valid.
  std::vector<std::string> ScalarViolations(const Shape& shape, json::value& value) {
    std::vector<std::string> out;
    switch (shape.type) {
      case ShapeType::kString: {
        if (!value.is_string()) {
          out.push_back("Member must be a string");
          break;
        }
        std::string_view s(value.get_string().data(), value.get_string().size());
        size_t len = Utf16Length(s);
        CheckLength(shape, len, &out);
        if (shape.pattern_re != nullptr) {
          bool ok = re2::RE2::FullMatch(re2::StringPiece(s.data(), s.size()), *shape.pattern_re);
          if (ok && shape.pattern_not_re != nullptr) {
            ok = !re2::RE2::PartialMatch(re2::StringPiece(s.data(), s.size()),
                                         *shape.pattern_not_re);
          }
          if (!ok) {
            out.push_back("Member must satisfy regular expression pattern: " + shape.pattern);
          }
        }
        if (!shape.enum_values.empty()) {
          bool found = false;
          for (const std::string& e : shape.enum_values) {
            if (e == s) {
              found = true;
              break;
            }
          }
          if (!found) {
            out.push_back(absl::StrCat("Member must satisfy enum value set: [",
                                       absl::StrJoin(shape.enum_values, ", "), "]"));
          }
        }
        break;
      }
      case ShapeType::kBlob: {
        if (!value.is_string() ||
            !IsBase64(std::string_view(value.get_string().data(), value.get_string().size()))) {
          out.push_back("Member must be a base64-encoded blob");
          break;
        }
        CheckLength(shape,
                    Base64DecodedLength(
                        std::string_view(value.get_string().data(), value.get_string().size())),
                    &out);
        break;
      }
      case ShapeType::kBoolean:
        if (!value.is_bool()) out.push_back("Member must be a boolean");
        break;
      case ShapeType::kInteger:
      case ShapeType::kLong: {
        bool is_int = shape.type == ShapeType::kInteger;
        int64_t lo =
            is_int ? std::numeric_limits<int32_t>::min() : std::numeric_limits<int64_t>::min();
        int64_t hi =
            is_int ? std::numeric_limits<int32_t>::max() : std::numeric_limits<int64_t>::max();
        int64_t n = 0;
        bool ok = true;
        if (value.is_int64()) {
          n = value.get_int64();
        } else if (value.is_uint64()) {
          ok = false;  // above int64 max
        } else if (value.is_double()) {
          double d = value.get_double();
          ok = std::isfinite(d) && std::floor(d) == d && d >= -9.2e18 && d <= 9.2e18;
          if (ok) n = static_cast<int64_t>(d);
        } else {
          out.push_back(is_int ? "Member must be an integer" : "Member must be a long");
          break;
        }
        if (!ok || n < lo || n > hi) {
          out.push_back(is_int ? "Member must be an integer" : "Member must be a long");
          break;
        }
        value = n;
        CheckRange(shape, static_cast<double>(n), &out);
        break;
      }
      case ShapeType::kFloat:
      case ShapeType::kDouble: {
        double d = 0;
        if (!ToNumber(value, &d) || !std::isfinite(d)) {
          out.push_back("Member must be a number");
          break;
        }
        value = d;
        CheckRange(shape, d, &out);
        break;
      }
      case ShapeType::kTimestamp: {
        double d = 0;
        if (!ParseTimestamp(value, &d)) {
          out.push_back("Member must be a timestamp (epoch seconds)");
          break;
        }
        value = d;
        break;
      }
      default:
        break;
    }
    return out;
  }

  static void CheckLength(const Shape& shape, size_t len, std::vector<std::string>* out) {
    if (shape.max && static_cast<double>(len) > *shape.max) {
      out->push_back("Member must have length less than or equal to " + FormatLimit(*shape.max));
    }
    if (shape.min && static_cast<double>(len) < *shape.min) {
      out->push_back("Member must have length greater than or equal to " + FormatLimit(*shape.min));
    }
  }

  static void CheckRange(const Shape& shape, double v, std::vector<std::string>* out) {
    if (shape.max && v > *shape.max) {
      out->push_back("Member must have value less than or equal to " + FormatLimit(*shape.max));
    }
    if (shape.min && v < *shape.min) {
      out->push_back("Member must have value greater than or equal to " + FormatLimit(*shape.min));
    }
  }

  void Visit(const Shape& shape, json::value& value, const PathNode& path, int depth) {
    if (Full()) return;
    if (depth > options_.max_depth) {
      Add(shape, nullptr, path,
          "Member must not be nested more than " + std::to_string(options_.max_depth) +
              " levels deep");
      return;
    }
    switch (shape.type) {
      case ShapeType::kStructure:
        VisitStructure(shape, value, path, depth);
        return;
      case ShapeType::kList:
        VisitList(shape, value, path, depth);
        return;
      case ShapeType::kMap:
        VisitMap(shape, value, path, depth);
        return;
      default:
        for (const std::string& c : ScalarViolations(shape, value)) Add(shape, &value, path, c);
        return;
    }
  }

  void VisitStructure(const Shape& shape, json::value& value, const PathNode& path, int depth) {
    if (!value.is_object()) {
      Add(shape, &value, path, "Member must be a structure");
      return;
    }
    json::object& object = value.get_object();
    // Drop nulls and unknown members first (erase does not keep iterators valid).
    std::vector<std::string> drop;
    for (const auto& [key, v] : object) {
      if (v.is_null() || shape.FindMember(std::string_view(key.data(), key.size())) == nullptr) {
        drop.emplace_back(key);
      }
    }
    for (const std::string& key : drop) object.erase(key);

    for (const Member& member : shape.members) {
      json::value* v = object.if_contains(member.name);
      PathNode child{PathNode::Kind::kMember, &path, member.name, 0};
      if (v == nullptr) {
        if (member.required) Add(*member.shape, nullptr, child, "Member must not be null");
        continue;
      }
      Visit(*member.shape, *v, child, depth + 1);
    }
    if (shape.is_union && object.size() != 1) {
      Add(shape, &value, path, "Member must have exactly one member set");
    }
  }

  void VisitList(const Shape& shape, json::value& value, const PathNode& path, int depth) {
    if (!value.is_array()) {
      Add(shape, &value, path, "Member must be a list");
      return;
    }
    json::array& array = value.get_array();
    std::vector<std::string> size;
    CheckLength(shape, array.size(), &size);
    for (const std::string& c : size) Add(shape, &value, path, c);
    const Member& item = *shape.list_member;
    for (size_t i = 0; i < array.size() && !Full(); ++i) {
      PathNode item_path{PathNode::Kind::kListItem, &path, {}, i + 1};
      if (array[i].is_null()) {
        Add(*item.shape, nullptr, item_path, "Member must not be null");
        continue;
      }
      Visit(*item.shape, array[i], item_path, depth + 1);
    }
  }

  void VisitMap(const Shape& shape, json::value& value, const PathNode& path, int depth) {
    if (!value.is_object()) {
      Add(shape, &value, path, "Member must be a map");
      return;
    }
    json::object& object = value.get_object();
    std::vector<std::string> size;
    CheckLength(shape, object.size(), &size);
    for (const std::string& c : size) Add(shape, &value, path, c);
    const Shape& key_shape = *shape.map_key->shape;
    const Shape& value_shape = *shape.map_value->shape;
    bool scalar_values = value_shape.type != ShapeType::kStructure &&
                         value_shape.type != ShapeType::kList &&
                         value_shape.type != ShapeType::kMap;
    for (auto& [key, v] : object) {
      if (Full()) return;
      json::value key_value(key);
      std::vector<std::string> key_errors = ScalarViolations(key_shape, key_value);
      if (!key_errors.empty()) {
        Add(key_shape, &key_value, path,
            absl::StrCat("Map keys must satisfy constraint: [", absl::StrJoin(key_errors, ", "),
                         "]"));
      }
      if (v.is_null()) {
        Add(value_shape, nullptr, path,
            "Map value must satisfy constraint: [Member must not be null]");
        continue;
      }
      if (scalar_values) {
        std::vector<std::string> value_errors = ScalarViolations(value_shape, v);
        if (!value_errors.empty()) {
          Add(value_shape, &v, path,
              absl::StrCat("Map value must satisfy constraint: [",
                           absl::StrJoin(value_errors, ", "), "]"));
        }
      } else {
        PathNode value_path{PathNode::Kind::kMapValue, &path,
                            std::string_view(key.data(), key.size()), 0};
        Visit(value_shape, v, value_path, depth + 1);
      }
    }
  }

  const ValidationOptions& options_;
  std::vector<std::string> errors_;
};

// A handler left out a required output member (strict clients such as JS v3 rely on them,
// wire-contract §1.8): a handler bug, logged once per member.
void WarnMissingOnce(const Shape& shape, const Member& member) {
  static auto* mu = new klaxon::Mutex();
  static auto* warned = new absl::flat_hash_set<std::string>();
  std::string key = shape.name + "." + member.name;
  {
    klaxon::MutexLock lock(mu);
    if (!warned->insert(key).second) return;
  }
  spdlog::warn("output shape {}: required member {} missing", shape.name, member.name);
}

// Returns false when `value` should be removed from its parent.
bool ShapeValue(const Shape& shape, json::value& value, int depth) {
  if (value.is_null()) return false;
  if (depth > 100) return false;
  switch (shape.type) {
    case ShapeType::kStructure: {
      if (!value.is_object()) {
        spdlog::error("output shape {}: not an object, dropped", shape.name);
        return false;
      }
      json::object& object = value.get_object();
      std::vector<std::string> drop;
      for (auto& [key, v] : object) {
        const Member* member = shape.FindMember(std::string_view(key.data(), key.size()));
        if (member == nullptr) {
          spdlog::debug("output shape {}: unknown member {} dropped", shape.name,
                        std::string_view(key.data(), key.size()));
          drop.emplace_back(key);
          continue;
        }
        if (!ShapeValue(*member->shape, v, depth + 1)) drop.emplace_back(key);
      }
      for (const std::string& key : drop) object.erase(key);
      for (const Member& member : shape.members) {
        if (member.required && !object.contains(member.name)) WarnMissingOnce(shape, member);
      }
      if (shape.is_union) {
        if (object.empty()) return false;
        if (object.size() > 1) {
          spdlog::error("output union {} has {} members set; keeping one", shape.name,
                        object.size());
          std::string keep(object.begin()->key());
          json::value kept = std::move(object.begin()->value());
          object.clear();
          object.emplace(keep, std::move(kept));
        }
      }
      return true;
    }
    case ShapeType::kList: {
      if (!value.is_array()) {
        spdlog::error("output shape {}: not an array, dropped", shape.name);
        return false;
      }
      json::array& array = value.get_array();
      json::array kept;
      kept.reserve(array.size());
      for (json::value& item : array) {
        if (ShapeValue(*shape.list_member->shape, item, depth + 1)) kept.push_back(std::move(item));
      }
      array = std::move(kept);
      return true;
    }
    case ShapeType::kMap: {
      if (!value.is_object()) {
        spdlog::error("output shape {}: not an object, dropped", shape.name);
        return false;
      }
      json::object& object = value.get_object();
      std::vector<std::string> drop;
      for (auto& [key, v] : object) {
        if (!ShapeValue(*shape.map_value->shape, v, depth + 1)) drop.emplace_back(key);
      }
      for (const std::string& key : drop) object.erase(key);
      return true;
    }
    case ShapeType::kTimestamp: {
      double d = 0;
      if (!ParseTimestamp(value, &d)) {
        spdlog::error("output shape {}: not a timestamp, dropped", shape.name);
        return false;
      }
      value = d;
      return true;
    }
    default:
      return true;
  }
}

}  // namespace

absl::Status ValidateInput(const Shape& shape, json::value& value,
                           const ValidationOptions& options) {
  InputValidator validator(options);
  return validator.Run(shape, value);
}

void ShapeOutput(const Shape& shape, json::value& value) {
  if (!ShapeValue(shape, value, 0)) value = json::object();
}

}  // namespace klaxon::api::model
