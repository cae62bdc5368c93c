#include "events/bus/envelope.h"

#include <memory>

#include "common/clock.h"
#include "simdjson.h"

namespace klaxon::events {

void AppendJsonString(std::string_view s, std::string& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  size_t run = 0;  // start of the pending run of characters that need no escaping
  for (size_t i = 0; i < s.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
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
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 15]);
    }
  }
  out.append(s.data() + run, s.size() - run);
  out.push_back('"');
}

absl::StatusOr<std::string> NormalizeDetail(std::string_view detail) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(detail.data(), detail.size(), /*realloc_if_needed=*/true).get(root) !=
          simdjson::SUCCESS ||
      !root.is_object()) {
    return absl::InvalidArgumentError("Detail is malformed.");
  }
  std::string out(detail.size(), '\0');
  size_t len = 0;
  if (simdjson::minify(detail.data(), detail.size(), out.data(), len) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError("Detail is malformed.");
  }
  out.resize(len);
  return out;
}

std::string BuildEnvelope(const EnvelopeFields& f) {
  std::string out;
  size_t resources_size = 0;
  if (f.resources) {
    for (const auto& r : *f.resources) resources_size += r.size() + 3;
  }
  out.reserve(160 + f.detail_type.size() + f.source.size() + resources_size + f.detail_json.size());
  out += "{\"version\":\"0\",\"id\":";
  AppendJsonString(f.id, out);
  out += ",\"detail-type\":";
  AppendJsonString(f.detail_type, out);
  out += ",\"source\":";
  AppendJsonString(f.source, out);
  out += ",\"account\":";
  AppendJsonString(f.account, out);
  out += ",\"time\":\"";
  out += FormatRfc3339Seconds(f.time);
  out += "\",\"region\":";
  AppendJsonString(f.region, out);
  out += ",\"resources\":[";
  if (f.resources) {
    bool first = true;
    for (const auto& r : *f.resources) {
      if (!first) out.push_back(',');
      first = false;
      AppendJsonString(r, out);
    }
  }
  out += "],\"detail\":";
  out += f.detail_json.empty() ? std::string_view("{}") : f.detail_json;
  out.push_back('}');
  return out;
}

}  // namespace klaxon::events
