#pragma once
// Private helpers of the opsitems module, shared by its .cc files and tests. Not a public API.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "opsitems/ops_item_service.h"
#include "storage/store.h"

namespace klaxon::opsitems::internal {

inline constexpr char kItemsTable[] = "opsitems";
inline constexpr char kByCreatedTable[] = "opsitems_by_created";
inline constexpr char kDedupTable[] = "opsitem_dedup";
inline constexpr char kRelatedTable[] = "opsitem_related";

inline constexpr char kIncidentRecordType[] = "AWS::SSMIncidents::IncidentRecord";
inline constexpr char kDocumentType[] = "AWS::SSM::Document";

inline absl::string_view ToAbsl(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

// Errors (AWS exception shapes of the ssm model).
absl::Status InvalidParameter(std::vector<std::string> names, std::string_view message);
absl::Status OpsItemNotFound(std::string_view ops_item_id);
absl::Status LimitExceeded(std::string_view resource_type, int limit, std::string_view limit_type,
                           std::string_view message);
absl::Status InvalidNextToken();

// Row ids.
std::string ItemKey(const Scope& scope, std::string_view id);
std::string CreatedKeySuffix(absl::Time created, std::string_view id);
std::string RelatedPrefix(const Scope& scope, std::string_view ops_item_id);
std::string RelatedKey(const Scope& scope, std::string_view ops_item_id, int64_t seq);

bool IsOpsItemId(std::string_view s);
bool AllDigits(std::string_view s);
bool IsBlank(std::string_view s);
std::string Lower(std::string_view s);
bool IsKnownStatus(std::string_view status);

// Stored records.
std::string SerializeOpsItem(const OpsItem& item);
absl::StatusOr<OpsItem> ParseOpsItem(std::string_view text);
std::string SerializeRelatedItem(const RelatedItem& r);
absl::StatusOr<RelatedItem> ParseRelatedItem(std::string_view text);

// Semantic validation (OpsItemInvalidParameterException on failure).
absl::Status ValidateSource(std::string_view source);
absl::Status ValidateSeverity(std::string_view severity);
absl::Status ValidatePriority(int priority);
absl::Status ValidateOperationalData(const OperationalData& data, const Limits& limits);
absl::Status ValidateNotifications(const std::vector<std::string>& arns);
absl::Status ValidateTags(const std::map<std::string, std::string>& tags);
absl::Status ValidateRelatedOpsItems(storage::ReadTxn& txn, const Scope& scope,
                                     const std::vector<std::string>& ids, std::string_view self);

// Reserved operational data values.
absl::StatusOr<std::string> ParseDedupString(std::string_view value);
absl::StatusOr<std::vector<std::string>> ParseResourceArns(std::string_view value);
absl::StatusOr<std::vector<std::string>> ParseAutomationIds(std::string_view value);

// SHA-256 (hex) of the dedup key (lower-cased dedup string + sorted /aws/resources ARNs), or
// nullopt when the data has no "/aws/dedup".
absl::StatusOr<std::optional<std::string>> DedupHash(const OperationalData& data);
// Statuses in which an OpsItem absorbs duplicates.
bool AbsorbsDuplicates(std::string_view status);

absl::StatusOr<std::optional<OpsItem>> LoadOpsItem(storage::ReadTxn& txn, const Scope& scope,
                                                   std::string_view id);

// DescribeOpsItems filters, compiled once per request (filters.cc).
struct CompiledFilter {
  enum class Kind {
    kString,        // compare a string field (Equal / Contains)
    kTime,          // compare an optional time field (GreaterThan / LessThan)
    kPriority,      // Equal on the integer priority
    kDataPair,      // OperationalData Equal {"key","value"}
    kDataKey,       // OperationalDataKey Equal
    kDataValue,     // OperationalDataValue Equal / Contains
    kResourceId,    // ResourceId Equal / Contains against /aws/resources ARNs
    kAutomationId,  // AutomationId Equal against /aws/automations ids
    kAccountId,     // AccountId Equal against the scope's account
    kNever,         // keys of features klaxon does not emulate: match nothing
  };
  Kind kind = Kind::kString;
  std::string key;
  std::string op;
  std::vector<std::string> values;
  std::vector<absl::Time> times;
  std::vector<int> priorities;
  std::vector<std::pair<std::string, std::string>> pairs;
};

absl::StatusOr<std::vector<CompiledFilter>> CompileFilters(
    const std::vector<OpsItemFilter>& filters);
// AND across filters, OR across each filter's values.
bool Matches(const std::vector<CompiledFilter>& filters, const Scope& scope, const OpsItem& item);

}  // namespace klaxon::opsitems::internal
