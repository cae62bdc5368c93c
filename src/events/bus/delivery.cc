#include "events/bus/delivery.h"

#include <set>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/url/parse.hpp"
#include "boost/url/url.hpp"
#include "common/status.h"
#include "events/bus/arn.h"
#include "events/bus/delivery_payload.h"
#include "events/bus/input.h"
#include "spdlog/spdlog.h"

namespace klaxon::events {
namespace json = boost::json;

namespace {

constexpr size_t kMaxSessionName = 64;

// Cuts `s` to at most `max` bytes without splitting a UTF-8 sequence.
std::string TruncateUtf8(std::string s, size_t max) {
  if (s.size() <= max) return s;
  size_t n = max;
  while (n > 0 && (static_cast<unsigned char>(s[n]) & 0xC0) == 0x80) --n;
  s.resize(n);
  return s;
}

std::string PercentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

// The URL of a webhook delivery: '*'s of the path replaced by PathParameterValues, then
// QueryStringParameters appended.
std::string WebhookUrl(const Target& target) {
  if (!target.http_parameters) return target.arn;
  auto parsed = boost::urls::parse_uri(target.arn);
  if (!parsed) return target.arn;
  boost::urls::url url(*parsed);
  const HttpParameters& hp = *target.http_parameters;
  if (!hp.path_parameter_values.empty()) {
    std::string path(url.encoded_path());
    std::string out;
    size_t next = 0;
    for (char c : path) {
      if (c == '*' && next < hp.path_parameter_values.size()) {
        out += PercentEncode(hp.path_parameter_values[next++]);
      } else {
        out.push_back(c);
      }
    }
    url.set_encoded_path(out);
  }
  for (const auto& [k, v] : hp.query_string_parameters) {
    url.params().append({k, v});
  }
  return std::string(url.buffer());
}

bool RetryableHttpStatus(int status) {
  return status == 401 || status == 407 || status == 409 || status == 429 || status >= 500;
}

}  // namespace

TargetDelivery::TargetDelivery(EventBusService& buses, incidents::IncidentService* incidents,
                               WebhookClient* webhooks, DeliveryOptions options)
    : buses_(buses), incidents_(incidents), webhooks_(webhooks), options_(options) {
  if (!webhooks_) {
    owned_webhooks_ = std::make_unique<BeastWebhookClient>();
    webhooks_ = owned_webhooks_.get();
  }
}

absl::Status TargetDelivery::Register(outbox::Outbox& outbox) {
  outbox.RegisterHandler(internal::kTargetKind,
                         [this](const outbox::Entry& e) { return Deliver(e); });
  return outbox.RegisterTxnHandler(
      internal::kBusKind, [this](storage::WriteTxn& txn, const outbox::Entry& e) -> absl::Status {
        KLAXON_ASSIGN_OR_RETURN(internal::DeliveryPayload p, internal::ParsePayload(e.payload));
        return buses_.ForwardInTxn(txn, e.account_id, p);
      });
}

absl::Status TargetDelivery::Deliver(const outbox::Entry& entry) {
  KLAXON_ASSIGN_OR_RETURN(internal::DeliveryPayload p, internal::ParsePayload(entry.payload));
  std::optional<RuleRef> rule = ParseRuleArn(p.rule_arn);
  const std::string rule_name = rule ? rule->name : p.rule_arn;

  if (p.type == TargetType::kWebhook) {
    KLAXON_ASSIGN_OR_RETURN(std::string body,
                            TransformInput(p.target, p.event_json,
                                           InputContext{p.rule_arn, rule_name, p.ingestion_time}));
    std::map<std::string, std::string> headers;
    boost::system::error_code ec;
    json::parse(body, ec);
    headers["Content-Type"] = ec ? "text/plain; charset=utf-8" : "application/json; charset=utf-8";
    if (p.target.http_parameters) {
      for (const auto& [k, v] : p.target.http_parameters->header_parameters) headers[k] = v;
    }
    auto result = webhooks_->Post(WebhookUrl(p.target), headers, body, options_.webhook_timeout);
    if (!result.ok()) {
      if (result.status().code() == absl::StatusCode::kInvalidArgument) return result.status();
      return absl::UnavailableError(result.status().message());
    }
    if (result->status >= 200 && result->status < 300) return absl::OkStatus();
    std::string message = absl::StrCat("webhook ", p.target.arn, " answered HTTP ", result->status,
                                       ": ", TruncateUtf8(result->body, 256));
    if (RetryableHttpStatus(result->status)) return absl::UnavailableError(message);
    return absl::FailedPreconditionError(message);
  }

  if (p.type != TargetType::kResponsePlan) {
    return absl::FailedPreconditionError("event bus targets are delivered transactionally");
  }
  if (!incidents_) {
    return absl::FailedPreconditionError("Incident Manager is not available on this node");
  }
  incidents::Scope scope;
  scope.account_id = entry.account_id;
  scope.region = p.region;
  const std::string session = TruncateUtf8(absl::StrCat("events-", rule_name), kMaxSessionName);
  scope.caller_arn = AssumedRoleArn(p.target.role_arn.value_or(""), session);

  incidents::StartIncidentRequest req;
  req.response_plan_arn = p.target.arn;
  req.client_token = absl::StrCat("events-", entry.id);
  incidents::TriggerDetails trigger;
  trigger.source = "aws.events";
  trigger.trigger_arn = p.rule_arn;
  trigger.timestamp = p.event_time;
  trigger.raw_data = TruncateUtf8(p.event_json, options_.max_raw_data);
  req.trigger_details = std::move(trigger);
  {
    boost::system::error_code ec;
    json::value event = json::parse(p.event_json, ec);
    std::set<std::string> seen;
    if (!ec && event.is_object()) {
      if (const json::value* res = event.as_object().if_contains("resources");
          res && res->is_array()) {
        for (const json::value& r : res->get_array()) {
          if (req.related_items.size() >= options_.max_related_items) break;
          if (!r.is_string() || r.get_string().size() < 4 ||
              r.get_string().subview(0, 4) != "arn:") {
            continue;
          }
          std::string arn(r.get_string());
          if (!seen.insert(arn).second) continue;
          incidents::RelatedItem item;
          item.identifier.type = "INVOLVED_RESOURCE";
          item.identifier.value.arn = std::move(arn);
          req.related_items.push_back(std::move(item));
        }
      }
    }
  }
  req.dedupe_key = p.rule_arn;
  req.clip_related_items = true;
  req.source.created_by = scope.caller_arn;
  req.source.invoked_by = "events.amazonaws.com";
  req.source.source = "aws.events";
  req.source.resource_arn = p.rule_arn;
  auto result = incidents_->Start(scope, req);
  if (!result.ok()) return result.status();
  spdlog::debug("events: rule {} -> {} ({})", p.rule_arn, result->incident_record_arn,
                result->replayed  ? "replayed"
                : result->created ? "created"
                                  : "deduplicated");
  return absl::OkStatus();
}

}  // namespace klaxon::events
