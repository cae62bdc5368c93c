#include "incidents/timeline_service.h"

#include <algorithm>
#include <tuple>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "boost/json/object.hpp"
#include "common/status.h"
#include "incidents/arn.h"
#include "incidents/errors.h"
#include "incidents/records.h"
#include "incidents/strings.h"

namespace klaxon::incidents {
namespace json = boost::json;

namespace {

constexpr int kModelMaxFilters = 5;
constexpr int kModelMaxReferences = 10;

absl::Status CheckClientType(std::string_view event_type) {
  if (!IsClientEventType(event_type)) {
    return InvalidArgument(internal::Cat("Invalid eventType \"", event_type,
                                         "\": clients can only write events of type "
                                         "\"Custom Event\" or \"Note\""));
  }
  return absl::OkStatus();
}

absl::Status CheckReferences(const std::vector<EventReference>& refs) {
  if (static_cast<int>(refs.size()) > kModelMaxReferences) {
    return InvalidArgument("Too many eventReferences: at most 10 allowed");
  }
  for (const auto& r : refs) {
    if (r.resource.has_value() == r.related_item_id.has_value()) {
      return InvalidArgument(
          "Each event reference must set exactly one of resource, relatedItemId");
    }
  }
  return absl::OkStatus();
}

json::array ReferencesJson(const std::vector<EventReference>& refs) {
  json::array a;
  for (const auto& r : refs) a.emplace_back(internal::EventReferenceToJson(r));
  return a;
}

absl::Status ValidateEventFilter(const Filter& f) {
  const int conditions = static_cast<int>(f.before.has_value()) +
                         static_cast<int>(f.after.has_value()) +
                         static_cast<int>(f.string_values.has_value()) +
                         static_cast<int>(f.integer_values.has_value());
  if (conditions != 1) {
    return InvalidArgument(internal::Cat("Filter ", f.key,
                                         ": the condition must set exactly one of before, after, "
                                         "equals (with exactly one of stringValues, "
                                         "integerValues)"));
  }
  if (f.key == "eventTime") {
    if (!f.before && !f.after) {
      return InvalidArgument("Filter eventTime supports only the before and after conditions");
    }
    return absl::OkStatus();
  }
  if (f.key == "eventType" || f.key == "eventReference") {
    if (!f.string_values) {
      return InvalidArgument(
          internal::Cat("Filter ", f.key, " supports only equals with stringValues"));
    }
    if (f.string_values->empty()) {
      return InvalidArgument(internal::Cat("Filter ", f.key, ": no values given"));
    }
    return absl::OkStatus();
  }
  return InvalidArgument(internal::Cat("Unknown filter key \"", f.key,
                                       "\" (valid keys: eventTime, eventType, eventReference)"));
}

bool Contains(const std::vector<std::string>& values, const std::string& v) {
  return std::find(values.begin(), values.end(), v) != values.end();
}

bool MatchesEvent(const TimelineEvent& e, const Filter& f) {
  if (f.key == "eventTime") {
    if (f.before) return e.event_time < *f.before;
    return e.event_time > *f.after;
  }
  if (f.key == "eventType") return Contains(*f.string_values, e.event_type);
  for (const auto& r : e.event_references) {
    if (r.resource && Contains(*f.string_values, *r.resource)) return true;
    if (r.related_item_id && Contains(*f.string_values, *r.related_item_id)) return true;
  }
  return false;
}

using SortKey = std::tuple<int64_t, int64_t>;  // (eventTime ns, seq)
SortKey KeyOf(const TimelineEvent& e) { return {absl::ToUnixNanos(e.event_time), e.seq}; }

std::string EncodeSortKey(const SortKey& k) {
  return internal::Cat(std::get<0>(k), ":", std::get<1>(k));
}

absl::StatusOr<SortKey> DecodeSortKey(std::string_view s) {
  std::vector<absl::string_view> parts = absl::StrSplit(absl::string_view(s.data(), s.size()), ':');
  int64_t t = 0, seq = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &t) || !absl::SimpleAtoi(parts[1], &seq)) {
    return InvalidArgument("Invalid nextToken");
  }
  return SortKey{t, seq};
}

}  // namespace

TimelineService::TimelineService(storage::Store& store, Clock& clock, const Limits& limits,
                                 ClientTokens& tokens)
    : store_(store), clock_(clock), limits_(limits), tokens_(tokens) {}

absl::StatusOr<std::string> TimelineService::Create(const Scope& scope,
                                                    const CreateTimelineEventRequest& request) {
  KLAXON_RETURN_IF_ERROR(CheckClientType(request.event_type));
  KLAXON_RETURN_IF_ERROR(CheckReferences(request.event_references));
  json::object params{{"incidentRecordArn", request.incident_record_arn},
                      {"eventTime", internal::TimeToJson(request.event_time)},
                      {"eventType", request.event_type},
                      {"eventData", request.event_data},
                      {"eventReferences", ReferencesJson(request.event_references)}};
  const std::string fingerprint = internal::Fingerprint(params);

  std::string event_id;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string& account = scope.account_id;
    KLAXON_ASSIGN_OR_RETURN(
        auto replay, tokens_.Replay(txn, account, "CreateTimelineEvent", request.client_token,
                                    fingerprint, clock_.Now()));
    if (replay) {
      event_id = replay->is_string() ? std::string(replay->get_string()) : "";
      return absl::OkStatus();
    }
    KLAXON_ASSIGN_OR_RETURN(auto found,
                            internal::RequireIncident(txn, scope, request.incident_record_arn));
    auto& [key, record] = found;
    const absl::Time now = clock_.Now();
    KLAXON_ASSIGN_OR_RETURN(
        auto event,
        internal::AppendTimelineEvent(txn, account, key, record, limits_,
                                      /*enforce=*/true, request.event_type, request.event_time,
                                      request.event_data, request.event_references, now));
    event_id = event->event_id;
    KLAXON_RETURN_IF_ERROR(internal::SaveIncident(txn, account, key, record));
    return tokens_.Save(txn, account, "CreateTimelineEvent", request.client_token, fingerprint,
                        json::value(event_id), now);
  }));
  return event_id;
}

absl::StatusOr<TimelineEvent> TimelineService::Get(const Scope& scope,
                                                   std::string_view incident_record_arn,
                                                   std::string_view event_id) {
  TimelineEvent event;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto found, internal::RequireIncident(txn, scope, incident_record_arn));
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kTimelineTable, scope.account_id,
                                               internal::TimelineKey(found.first, event_id)));
    if (!text) {
      return NotFound(ResourceType::kTimelineEvent, event_id,
                      internal::Cat("Timeline event not found: ", event_id));
    }
    KLAXON_ASSIGN_OR_RETURN(event, internal::DecodeTimelineEvent(*text));
    return absl::OkStatus();
  }));
  return event;
}

absl::StatusOr<Page<TimelineEvent>> TimelineService::List(
    const Scope& scope, const ListTimelineEventsRequest& request) {
  if (static_cast<int>(request.filters.size()) > kModelMaxFilters) {
    return InvalidArgument("Too many filters: at most 5 allowed");
  }
  for (const auto& f : request.filters) KLAXON_RETURN_IF_ERROR(ValidateEventFilter(f));
  KLAXON_ASSIGN_OR_RETURN(std::string position,
                          internal::DecodePageToken("timeline", request.next_token));
  std::optional<SortKey> after;
  if (!position.empty()) {
    KLAXON_ASSIGN_OR_RETURN(after, DecodeSortKey(position));
  }
  const int n = internal::PageSize(request.max_results, limits_);

  std::vector<TimelineEvent> events;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto found,
                            internal::RequireIncident(txn, scope, request.incident_record_arn));
    KLAXON_ASSIGN_OR_RETURN(events, internal::LoadTimeline(txn, scope.account_id, found.first));
    return absl::OkStatus();
  }));

  std::vector<TimelineEvent> matching;
  for (auto& e : events) {
    bool match = true;
    for (const auto& f : request.filters) match = match && MatchesEvent(e, f);
    if (!match) continue;
    if (after && (request.ascending ? !(KeyOf(e) > *after) : !(KeyOf(e) < *after))) continue;
    matching.push_back(std::move(e));
  }
  std::sort(matching.begin(), matching.end(), [&](const TimelineEvent& a, const TimelineEvent& b) {
    return request.ascending ? KeyOf(a) < KeyOf(b) : KeyOf(b) < KeyOf(a);
  });
  Page<TimelineEvent> page;
  if (static_cast<int>(matching.size()) > n) {
    matching.resize(n);
    page.next_token = internal::EncodePageToken("timeline", EncodeSortKey(KeyOf(matching.back())));
  }
  page.items = std::move(matching);
  return page;
}

absl::Status TimelineService::Update(const Scope& scope,
                                     const UpdateTimelineEventRequest& request) {
  if (request.event_type) KLAXON_RETURN_IF_ERROR(CheckClientType(*request.event_type));
  if (request.event_references) KLAXON_RETURN_IF_ERROR(CheckReferences(*request.event_references));
  json::object params{{"incidentRecordArn", request.incident_record_arn},
                      {"eventId", request.event_id}};
  if (request.event_time) params["eventTime"] = internal::TimeToJson(*request.event_time);
  if (request.event_type) params["eventType"] = *request.event_type;
  if (request.event_data) params["eventData"] = *request.event_data;
  if (request.event_references)
    params["eventReferences"] = ReferencesJson(*request.event_references);
  const std::string fingerprint = internal::Fingerprint(params);

  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string& account = scope.account_id;
    KLAXON_ASSIGN_OR_RETURN(
        auto replay, tokens_.Replay(txn, account, "UpdateTimelineEvent", request.client_token,
                                    fingerprint, clock_.Now()));
    if (replay) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(auto found,
                            internal::RequireIncident(txn, scope, request.incident_record_arn));
    const std::string row = internal::TimelineKey(found.first, request.event_id);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kTimelineTable, account, row));
    if (!text) {
      return NotFound(ResourceType::kTimelineEvent, request.event_id,
                      internal::Cat("Timeline event not found: ", request.event_id));
    }
    KLAXON_ASSIGN_OR_RETURN(TimelineEvent event, internal::DecodeTimelineEvent(*text));
    if (!IsClientEventType(event.event_type)) {
      return InvalidArgument(internal::Cat("Timeline events of type \"", event.event_type,
                                           "\" are written by Incident Manager and can't be "
                                           "updated"));
    }
    const absl::Time now = clock_.Now();
    if (request.event_time) event.event_time = *request.event_time;
    if (request.event_type) event.event_type = *request.event_type;
    if (request.event_data) event.event_data = *request.event_data;
    if (request.event_references) event.event_references = *request.event_references;
    event.event_updated_time = now;
    KLAXON_RETURN_IF_ERROR(
        txn.Put(internal::kTimelineTable, account, row, internal::Encode(event)));
    return tokens_.Save(txn, account, "UpdateTimelineEvent", request.client_token, fingerprint,
                        json::value(true), now);
  });
}

absl::Status TimelineService::Delete(const Scope& scope, std::string_view incident_record_arn,
                                     std::string_view event_id) {
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    const std::string& account = scope.account_id;
    KLAXON_ASSIGN_OR_RETURN(auto found, internal::RequireIncident(txn, scope, incident_record_arn));
    auto& [key, record] = found;
    const std::string row = internal::TimelineKey(key, event_id);
    KLAXON_ASSIGN_OR_RETURN(auto text, txn.Get(internal::kTimelineTable, account, row));
    if (!text) return absl::OkStatus();
    KLAXON_ASSIGN_OR_RETURN(TimelineEvent event, internal::DecodeTimelineEvent(*text));
    if (!IsClientEventType(event.event_type)) {
      return InvalidArgument(internal::Cat("Timeline events of type \"", event.event_type,
                                           "\" are written by Incident Manager and can't be "
                                           "deleted"));
    }
    KLAXON_RETURN_IF_ERROR(txn.Delete(internal::kTimelineTable, account, row));
    --record.timeline_event_count;
    return internal::SaveIncident(txn, account, key, record);
  });
}

}  // namespace klaxon::incidents
