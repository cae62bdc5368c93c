#include "api/protocol/scalar_text.h"

#include <cstdint>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "boost/json/serialize.hpp"
#include "common/clock.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using model::ShapeType;

constexpr const char* kHttpDateFormat = "%a, %d %b %Y %H:%M:%S GMT";

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

json::value ScalarFromText(const model::Shape& shape, std::string_view text, bool http_date) {
  switch (shape.type) {
    case ShapeType::kInteger:
    case ShapeType::kLong: {
      int64_t n;
      if (absl::SimpleAtoi(AbslView(text), &n)) return json::value(n);
      break;
    }
    case ShapeType::kFloat:
    case ShapeType::kDouble: {
      double d;
      if (absl::SimpleAtod(AbslView(text), &d)) return json::value(d);
      break;
    }
    case ShapeType::kBoolean:
      if (text == "true") return json::value(true);
      if (text == "false") return json::value(false);
      break;
    case ShapeType::kTimestamp: {
      double d;
      if (absl::SimpleAtod(AbslView(text), &d)) return json::value(d);
      absl::Time t;
      std::string err;
      if (http_date && absl::ParseTime(kHttpDateFormat, AbslView(text), &t, &err)) {
        return json::value(ToEpochSeconds(t));
      }
      break;
    }
    default:
      break;
  }
  return json::value(json::string_view(text.data(), text.size()));
}

std::string ScalarToText(const json::value& v, const model::Shape& shape, TimestampText format) {
  if (v.is_string()) return std::string(v.get_string());
  if (v.is_bool()) return v.get_bool() ? "true" : "false";
  if (shape.type == ShapeType::kTimestamp && v.is_number()) {
    absl::Time t = FromEpochSeconds(v.to_number<double>());
    return format == TimestampText::kHttpDate
               ? absl::FormatTime(kHttpDateFormat, t, absl::UTCTimeZone())
               : FormatIso8601Millis(t);
  }
  if (v.is_int64()) return std::to_string(v.get_int64());
  if (v.is_uint64()) return std::to_string(v.get_uint64());
  if (v.is_double()) return absl::StrCat(v.get_double());
  return json::serialize(v);
}

void AppendXmlEscaped(std::string_view in, std::string* out) {
  for (size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    switch (c) {
      case '<':
        *out += "&lt;";
        break;
      case '>':
        *out += "&gt;";
        break;
      case '&':
        *out += "&amp;";
        break;
      case '"':
        *out += "&quot;";
        break;
      case '\'':
        *out += "&apos;";
        break;
      case '\r':
        *out += "&#13;";
        break;
      case '\xEF':
        // U+FFFE and U+FFFF (EF BF BE / EF BF BF) are not XML characters either: a parser
        // rejects the whole document, so they become U+FFFD like the C0 controls below.
        if (i + 2 < in.size() && in[i + 1] == '\xBF' &&
            (in[i + 2] == '\xBE' || in[i + 2] == '\xBF')) {
          *out += "\xEF\xBF\xBD";
          i += 2;
        } else {
          *out += c;
        }
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n') {
          *out += "\xEF\xBF\xBD";
        } else {
          *out += c;
        }
    }
  }
}

}  // namespace klaxon::api::protocol
