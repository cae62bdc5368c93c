#pragma once
// Incident timelines: the automatic events Incident Manager writes (SSM Incident Trigger,
// SSM Incident Start, SSM Incident Record Update, ...) and the events clients write.
//
// Clients may create, update and delete only events of type "Custom Event" and "Note"; automatic
// events are read-only. An incident holds at most Limits::max_timeline_events events:
// CreateTimelineEvent beyond it is a ServiceQuotaExceededException; automatic events beyond it are
// dropped (the action that caused them still happens).
//
// Thread-safety: all methods are thread-safe (state lives in the Store). Copy/move: neither.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/clock.h"
#include "incidents/client_tokens.h"
#include "incidents/types.h"
#include "storage/store.h"

namespace klaxon::incidents {

struct CreateTimelineEventRequest {
  std::string incident_record_arn;
  absl::Time event_time;
  std::string event_type;
  std::string event_data;
  std::vector<EventReference> event_references;
  std::optional<std::string> client_token;
};

// Absent members are left unchanged; event_references, when present, replaces the list.
struct UpdateTimelineEventRequest {
  std::string incident_record_arn;
  std::string event_id;
  std::optional<absl::Time> event_time;
  std::optional<std::string> event_type;
  std::optional<std::string> event_data;
  std::optional<std::vector<EventReference>> event_references;
  std::optional<std::string> client_token;
};

struct ListTimelineEventsRequest {
  std::string incident_record_arn;
  // Keys: eventTime (before/after, exclusive), eventType (equals stringValues), eventReference
  // (equals stringValues: an event matches if any of its references' resource or relatedItemId
  // is one of the values). AND across filters, OR across values; at most 5.
  std::vector<Filter> filters;
  // sortBy is always EVENT_TIME. sortOrder defaults to DESCENDING (newest first), as in AWS's
  // documented ListTimelineEvents output.
  bool ascending = false;
  std::optional<int> max_results;
  std::string next_token;
};

class TimelineService {
 public:
  TimelineService(storage::Store& store, Clock& clock, const Limits& limits, ClientTokens& tokens);
  TimelineService(const TimelineService&) = delete;
  TimelineService& operator=(const TimelineService&) = delete;

  // Returns the new eventId. Errors: ValidationException (event type other than Custom Event /
  // Note, invalid references), ResourceNotFoundException{INCIDENT_RECORD},
  // AccessDeniedException, ServiceQuotaExceededException (timeline full), ConflictException
  // (clientToken reuse).
  absl::StatusOr<std::string> Create(const Scope& scope, const CreateTimelineEventRequest& request);

  // Errors: ResourceNotFoundException{INCIDENT_RECORD | TIMELINE_EVENT}, ValidationException,
  // AccessDeniedException.
  absl::StatusOr<TimelineEvent> Get(const Scope& scope, std::string_view incident_record_arn,
                                    std::string_view event_id);

  // Events sorted by eventTime (ties broken by creation order, in the same direction). Errors:
  // ResourceNotFoundException {INCIDENT_RECORD}, ValidationException (bad filter or nextToken).
  absl::StatusOr<Page<TimelineEvent>> List(const Scope& scope,
                                           const ListTimelineEventsRequest& request);

  // Errors: as Get, plus ValidationException (the event or the new type is not a client type),
  // ConflictException (clientToken reuse).
  absl::Status Update(const Scope& scope, const UpdateTimelineEventRequest& request);

  // Idempotent: an absent event is not an error. Errors: ValidationException (automatic event;
  // bad ARN), ResourceNotFoundException{INCIDENT_RECORD}, AccessDeniedException.
  absl::Status Delete(const Scope& scope, std::string_view incident_record_arn,
                      std::string_view event_id);

 private:
  storage::Store& store_;
  Clock& clock_;
  const Limits limits_;
  ClientTokens& tokens_;
};

}  // namespace klaxon::incidents
