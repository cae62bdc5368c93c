#pragma once
// Storage encoding of the EventBridge domain (internal to events/bus).
//
// Tables (account-scoped; REGION|... keys keep Regions apart; '|' appears in no name):
//   eb_buses          REGION|BUS                    EventBus (custom and partner buses)
//   eb_rules          REGION|BUS|RULE               Rule with its targets
//   eb_tags           ARN                           [Tag]
//   eb_sources        REGION|SOURCE                 the customer's view of a partner source
//   eb_partner        REGION|SOURCE|ACCOUNT         the partner's view (one row per account)
//   eb_accounts       (account "") ACCOUNT          accounts having buses or rules (startup load)

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "boost/json/object.hpp"
#include "boost/json/value.hpp"
#include "events/bus/types.h"

namespace klaxon::events::internal {

inline constexpr char kBusTable[] = "eb_buses";
inline constexpr char kRuleTable[] = "eb_rules";
inline constexpr char kTagTable[] = "eb_tags";
inline constexpr char kSourceTable[] = "eb_sources";
inline constexpr char kPartnerTable[] = "eb_partner";
inline constexpr char kAccountTable[] = "eb_accounts";

std::string BusKey(std::string_view region, std::string_view bus);
std::string RuleKey(std::string_view region, std::string_view bus, std::string_view rule);
std::string RulePrefix(std::string_view region, std::string_view bus);
std::string SourceKey(std::string_view region, std::string_view source);
std::string PartnerKey(std::string_view region, std::string_view source, std::string_view account);

boost::json::value TimeToJson(absl::Time t);
absl::Time TimeFromJson(const boost::json::value* v);

boost::json::object TargetToJson(const Target& t);
Target TargetFromJson(const boost::json::object& o);

std::string EncodeRule(const Rule& rule);
absl::StatusOr<Rule> DecodeRule(std::string_view text);

std::string EncodeBus(const EventBus& bus);
absl::StatusOr<EventBus> DecodeBus(std::string_view text);

std::string EncodeTags(const std::vector<Tag>& tags);
absl::StatusOr<std::vector<Tag>> DecodeTags(std::string_view text);

// The customer's view of a partner event source, with the flag Deactivate sets.
struct SourceRecord {
  EventSource source;  // source.state is derived: see State()
  std::string partner_account;
  bool has_bus = false;      // the customer created the partner event bus
  bool deactivated = false;  // DeactivateEventSource
  bool deleted = false;      // the partner deleted it
  // DELETED if deleted; ACTIVE with a bus and not deactivated; PENDING otherwise.
  EventSourceState State() const {
    if (deleted) return EventSourceState::kDeleted;
    return has_bus && !deactivated ? EventSourceState::kActive : EventSourceState::kPending;
  }
};
std::string EncodeSource(const SourceRecord& r);
absl::StatusOr<SourceRecord> DecodeSource(std::string_view text);

std::string_view RuleStateName(RuleState s);           // ENABLED | DISABLED
std::string_view SourceStateName(EventSourceState s);  // PENDING | ACTIVE | DELETED

// Opaque page tokens: base64 of "v1|LIST|POSITION".
std::string EncodePageToken(std::string_view list, std::string_view position);
// Errors: ValidationException("Invalid NextToken").
absl::StatusOr<std::string> DecodePageToken(std::string_view list, std::string_view token);

}  // namespace klaxon::events::internal
