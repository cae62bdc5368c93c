#pragma once
// A small, strict JSON reader producing a DOM, for event patterns and for the reference
// interpreter's events.
//
// Why not simdjson here: patterns need the exact spelling of numbers, every duplicate key in
// document order, and Jackson-compatible messages for a few syntax errors that AWS reports
// verbatim (e.g. "Unrecognized character escape 'l' (code 108)"). The hot path (matching events
// in RuleSet) uses simdjson On Demand instead.
//
// The parser is iterative (explicit stack), so hostile nesting cannot overflow the C++ stack;
// nesting deeper than `max_depth` is an error. The DOM's destructor recursion is bounded by the
// same depth.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace klaxon::events::pattern::internal {

enum class JsonType { kNull, kTrue, kFalse, kNumber, kString, kArray, kObject };

struct JsonMember;

// One JSON value. Value type; copying copies the whole subtree.
struct JsonValue {
  JsonType type = JsonType::kNull;
  // kString: the decoded string (UTF-8). kNumber: the number exactly as written.
  std::string text;
  // kArray: the elements in order.
  std::vector<JsonValue> items;
  // kObject: the members in document order, duplicates kept.
  std::vector<JsonMember> members;
};

struct JsonMember {
  std::string first;  // key
  JsonValue second;   // value
};

struct JsonParseOptions {
  int max_depth = 128;
  // When true, anything after the first complete value is ignored (Jackson's behaviour when
  // reading one value, which event-ruler relies on). When false, only whitespace may follow.
  bool allow_trailing = false;
};

// Parses `text`. Errors: InvalidArgument with a Jackson-like message ("Unexpected character ...",
// "Unrecognized character escape 'l' (code 108)", "Unexpected end-of-input ...") or
// "JSON nesting too deep". Thread-safe (no shared state).
absl::StatusOr<JsonValue> ParseJson(std::string_view text, const JsonParseOptions& options = {});

// Appends the UTF-8 encoding of code point `cp` to `out`.
void AppendUtf8(uint32_t cp, std::string& out);

// Writes `s` as a JSON string literal (with quotes) to `out`.
void AppendJsonString(std::string_view s, std::string& out);

}  // namespace klaxon::events::pattern::internal
