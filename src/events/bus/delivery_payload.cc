#include "events/bus/delivery_payload.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "events/bus/records.h"

namespace klaxon::events::internal {
namespace {

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

}  // namespace

char TargetTypeCode(TargetType type) {
  switch (type) {
    case TargetType::kResponsePlan:
      return 'p';
    case TargetType::kWebhook:
      return 'w';
    case TargetType::kEventBus:
      return 'b';
  }
  return 'p';
}

std::string PayloadHead(TargetType type, std::string_view region, std::string_view rule_arn) {
  return absl::StrCat("e1\n", std::string(1, TargetTypeCode(type)), "\n", ToAbsl(region), "\n",
                      ToAbsl(rule_arn), "\n");
}

std::string BuildPayload(std::string_view head, absl::Time event_time, absl::Time ingestion_time,
                         int hops, std::string_view target_json, std::string_view event_json) {
  std::string out;
  out.reserve(head.size() + target_json.size() + event_json.size() + 48);
  absl::StrAppend(&out, ToAbsl(head), absl::ToUnixMicros(event_time), "\n",
                  absl::ToUnixMicros(ingestion_time), "\n", hops, "\n", ToAbsl(target_json), "\n",
                  ToAbsl(event_json));
  return out;
}

absl::StatusOr<DeliveryPayload> ParsePayload(std::string_view payload) {
  constexpr int kLines = 8;
  std::string_view f[kLines];
  std::string_view rest = payload;
  for (auto& line : f) {
    size_t nl = rest.find('\n');
    if (nl == std::string_view::npos) return absl::DataLossError("events payload: truncated");
    line = rest.substr(0, nl);
    rest.remove_prefix(nl + 1);
  }
  if (f[0] != "e1" || f[1].size() != 1) return absl::DataLossError("events payload: bad header");
  DeliveryPayload p;
  switch (f[1][0]) {
    case 'p':
      p.type = TargetType::kResponsePlan;
      break;
    case 'w':
      p.type = TargetType::kWebhook;
      break;
    case 'b':
      p.type = TargetType::kEventBus;
      break;
    default:
      return absl::DataLossError("events payload: bad target type");
  }
  p.region = std::string(f[2]);
  p.rule_arn = std::string(f[3]);
  int64_t event_us = 0, ingestion_us = 0;
  if (!absl::SimpleAtoi(ToAbsl(f[4]), &event_us) ||
      !absl::SimpleAtoi(ToAbsl(f[5]), &ingestion_us) || !absl::SimpleAtoi(ToAbsl(f[6]), &p.hops)) {
    return absl::DataLossError("events payload: bad numbers");
  }
  p.event_time = absl::FromUnixMicros(event_us);
  p.ingestion_time = absl::FromUnixMicros(ingestion_us);
  boost::system::error_code ec;
  boost::json::value target =
      boost::json::parse(boost::json::string_view(f[7].data(), f[7].size()), ec);
  if (ec || !target.is_object()) return absl::DataLossError("events payload: bad target");
  p.target = TargetFromJson(target.get_object());
  p.event_json = std::string(rest);
  return p;
}

}  // namespace klaxon::events::internal
