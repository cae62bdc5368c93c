#include "events/bus/input.h"

#include <cctype>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/clock.h"
#include "common/status.h"

namespace klaxon::events {
namespace json = boost::json;

namespace {

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::Status PathError(std::string_view path, std::string_view why) {
  return absl::InvalidArgumentError(
      absl::StrCat("Invalid JSONPath \"", ToAbsl(path), "\": ", ToAbsl(why)));
}

constexpr std::string_view kPredefined[] = {"aws.events.rule-arn", "aws.events.rule-name",
                                            "aws.events.event.ingestion-time", "aws.events.event",
                                            "aws.events.event.json"};

bool IsPredefined(std::string_view name) {
  for (std::string_view p : kPredefined) {
    if (p == name) return true;
  }
  return false;
}

// JSON string escaping without the surrounding quotes.
void AppendEscaped(std::string_view s, std::string& out) {
  std::string quoted = json::serialize(json::string(json::string_view(s.data(), s.size())));
  out.append(quoted, 1, quoted.size() - 2);
}

std::optional<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return std::nullopt;
  return v;
}

}  // namespace

absl::StatusOr<std::vector<JsonPathStep>> ParseJsonPath(std::string_view path) {
  if (path.empty() || path[0] != '$') return PathError(path, "must start with $");
  std::vector<JsonPathStep> steps;
  size_t i = 1;
  while (i < path.size()) {
    char c = path[i];
    if (c == '.') {
      size_t start = ++i;
      while (i < path.size() && path[i] != '.' && path[i] != '[') ++i;
      std::string name(path.substr(start, i - start));
      if (name.empty()) return PathError(path, "empty name");
      if (name == "*") return PathError(path, "wildcards are not supported");
      steps.push_back(JsonPathStep{std::move(name), std::nullopt});
    } else if (c == '[') {
      ++i;
      if (i < path.size() && (path[i] == '\'' || path[i] == '"')) {
        char quote = path[i++];
        size_t start = i;
        while (i < path.size() && path[i] != quote) ++i;
        if (i + 1 >= path.size() || path[i + 1] != ']') return PathError(path, "unclosed [");
        steps.push_back(JsonPathStep{std::string(path.substr(start, i - start)), std::nullopt});
        i += 2;
      } else {
        size_t start = i;
        size_t index = 0;
        while (i < path.size() && std::isdigit(static_cast<unsigned char>(path[i]))) {
          if (index > 100000000) return PathError(path, "index too large");
          index = index * 10 + static_cast<size_t>(path[i] - '0');
          ++i;
        }
        if (i == start) {
          return PathError(path, i < path.size() && path[i] == '*'
                                     ? "wildcards are not supported"
                                     : "expected an index or a quoted name in []");
        }
        if (i >= path.size() || path[i] != ']') return PathError(path, "unclosed [");
        ++i;
        steps.push_back(JsonPathStep{std::nullopt, index});
      }
    } else {
      return PathError(path, "expected . or [");
    }
  }
  return steps;
}

const json::value* EvalJsonPath(const json::value& root, const std::vector<JsonPathStep>& steps) {
  const json::value* v = &root;
  for (const JsonPathStep& step : steps) {
    if (step.name) {
      const json::object* o = v->if_object();
      if (!o) return nullptr;
      v = o->if_contains(json::string_view(step.name->data(), step.name->size()));
    } else {
      const json::array* a = v->if_array();
      if (!a || *step.index >= a->size()) return nullptr;
      v = &(*a)[*step.index];
    }
    if (!v) return nullptr;
  }
  return v;
}

absl::Status ValidateTargetInput(const Target& target) {
  int set = static_cast<int>(target.input.has_value()) +
            static_cast<int>(target.input_path.has_value()) +
            static_cast<int>(target.input_transformer.has_value());
  if (set > 1) {
    return absl::InvalidArgumentError(
        "Only one of Input, InputPath, or InputTransformer can be specified.");
  }
  if (target.input && !ParseJson(*target.input)) {
    return absl::InvalidArgumentError("Input is not valid JSON text.");
  }
  if (target.input_path) KLAXON_RETURN_IF_ERROR(ParseJsonPath(*target.input_path).status());
  if (target.input_transformer) {
    if (target.input_transformer->input_template.empty()) {
      return absl::InvalidArgumentError("InputTransformer.InputTemplate must not be empty.");
    }
    for (const auto& [name, path] : target.input_transformer->input_paths_map) {
      if (name.size() >= 4 &&
          (name.compare(0, 4, "aws.") == 0 || name.compare(0, 4, "AWS.") == 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat("InputTransformer.InputPathsMap: the name ", name,
                         " is reserved (names starting with aws. are predefined variables)."));
      }
      KLAXON_RETURN_IF_ERROR(ParseJsonPath(path).status());
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TransformInput(const Target& target, std::string_view event_json,
                                           const InputContext& context) {
  if (target.input) return *target.input;
  if (!target.input_path && !target.input_transformer) return std::string(event_json);
  std::optional<json::value> event = ParseJson(event_json);
  if (!event) return absl::InvalidArgumentError("event is not valid JSON");
  if (target.input_path) {
    KLAXON_ASSIGN_OR_RETURN(auto steps, ParseJsonPath(*target.input_path));
    const json::value* v = EvalJsonPath(*event, steps);
    return v ? json::serialize(*v) : std::string("null");
  }

  // Resolve the variables once.
  const InputTransformer& tr = *target.input_transformer;
  std::map<std::string, std::optional<json::value>> vars;
  for (const auto& [name, path] : tr.input_paths_map) {
    KLAXON_ASSIGN_OR_RETURN(auto steps, ParseJsonPath(path));
    const json::value* v = EvalJsonPath(*event, steps);
    vars[name] = v ? std::optional<json::value>(*v) : std::nullopt;
  }
  auto lookup = [&](const std::string& name, bool* known) -> std::optional<json::value> {
    *known = true;
    if (auto it = vars.find(name); it != vars.end()) return it->second;
    if (name == "aws.events.rule-arn") return json::value(context.rule_arn);
    if (name == "aws.events.rule-name") return json::value(context.rule_name);
    if (name == "aws.events.event.ingestion-time") {
      return json::value(FormatIso8601Millis(context.ingestion_time));
    }
    if (name == "aws.events.event.json") return *event;
    if (name == "aws.events.event") {
      json::value copy = *event;
      if (copy.is_object()) copy.as_object().erase("detail");
      return copy;
    }
    *known = false;
    return std::nullopt;
  };

  const std::string& t = tr.input_template;
  size_t first = t.find_first_not_of(" \t\r\n");
  const bool json_mode = first != std::string::npos && (t[first] == '{' || t[first] == '[');
  std::string out;
  out.reserve(t.size() + 64);
  bool in_string = false;
  for (size_t i = 0; i < t.size(); ++i) {
    char c = t[i];
    if (json_mode && in_string && c == '\\' && i + 1 < t.size()) {
      out.push_back(c);
      out.push_back(t[++i]);
      continue;
    }
    if (json_mode && c == '"') {
      in_string = !in_string;
      out.push_back(c);
      continue;
    }
    if (c == '<') {
      size_t close = t.find('>', i + 1);
      if (close != std::string::npos) {
        std::string name = t.substr(i + 1, close - i - 1);
        bool known = false;
        std::optional<json::value> value = lookup(name, &known);
        if (known && (vars.count(name) || IsPredefined(name))) {
          if (json_mode && !in_string) {
            out += value ? json::serialize(*value) : "null";
          } else if (value) {
            std::string text =
                value->is_string() ? std::string(value->get_string()) : json::serialize(*value);
            if (json_mode) {
              AppendEscaped(text, out);
            } else {
              out += text;
            }
          }
          i = close;
          continue;
        }
      }
    }
    out.push_back(c);
  }
  if (json_mode) {
    if (std::optional<json::value> v = ParseJson(out)) return json::serialize(*v);
  }
  return out;
}

}  // namespace klaxon::events
