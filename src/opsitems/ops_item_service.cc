#include "opsitems/ops_item_service.h"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>
#include <cstdio>
#include <set>
#include <string_view>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "boost/json.hpp"
#include "common/ids.h"
#include "common/status.h"
#include "opsitems/internal.h"
#include "storage/ordered_ids.h"

namespace klaxon::opsitems {
namespace internal {

namespace json = boost::json;

// ---------------------------------------------------------------------------------------------
// Errors

absl::Status InvalidParameter(std::vector<std::string> names, std::string_view message) {
  json::array list;
  for (auto& n : names) list.emplace_back(n);
  return AwsError(absl::StatusCode::kInvalidArgument, "OpsItemInvalidParameterException", message,
                  json::object{{"ParameterNames", std::move(list)}});
}

absl::Status OpsItemNotFound(std::string_view ops_item_id) {
  return AwsError(absl::StatusCode::kNotFound, "OpsItemNotFoundException",
                  absl::StrCat("OpsItem with id ", ToAbsl(ops_item_id), " does not exist."));
}

absl::Status LimitExceeded(std::string_view resource_type, int limit, std::string_view limit_type,
                           std::string_view message) {
  return AwsError(absl::StatusCode::kResourceExhausted, "OpsItemLimitExceededException", message,
                  json::object{{"ResourceTypes", json::array{json::string(resource_type)}},
                               {"Limit", limit},
                               {"LimitType", json::string(limit_type)}});
}

absl::Status InvalidNextToken() {
  return AwsError(absl::StatusCode::kInvalidArgument, "InvalidNextToken",
                  "The specified token isn't valid.");
}

absl::Status Corrupt(std::string_view what) {
  return absl::InternalError(absl::StrCat("opsitems: corrupt stored record: ", ToAbsl(what)));
}

// ---------------------------------------------------------------------------------------------
// Keys

std::string ItemKey(const Scope& scope, std::string_view id) {
  return absl::StrCat(scope.region, "/", ToAbsl(id));
}

std::string CreatedKeySuffix(absl::Time created, std::string_view id) {
  // Inverted nanoseconds, zero-padded, so that an ascending scan is newest first.
  int64_t ns = absl::ToUnixNanos(created);
  if (ns < 0) ns = 0;
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%020lld",
                static_cast<long long>(INT64_MAX - ns));  // NOLINT(runtime/int)
  return absl::StrCat(buf, "/", ToAbsl(id));
}

std::string RelatedPrefix(const Scope& scope, std::string_view ops_item_id) {
  return absl::StrCat(scope.region, "/", ToAbsl(ops_item_id), "/");
}

std::string RelatedKey(const Scope& scope, std::string_view ops_item_id, int64_t seq) {
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%010lld", static_cast<long long>(seq));  // NOLINT(runtime/int)
  return absl::StrCat(RelatedPrefix(scope, ops_item_id), buf);
}

bool IsOpsItemId(std::string_view s) {
  if (s.size() != 15 || s.substr(0, 3) != "oi-") return false;
  return std::all_of(s.begin() + 3, s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool AllDigits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// ---------------------------------------------------------------------------------------------
// Stored JSON (internal schema; not the wire shape)

namespace {

json::value TimeValue(absl::Time t) { return json::value(absl::ToUnixNanos(t)); }

absl::StatusOr<absl::Time> TimeFrom(const json::value& v) {
  if (!v.is_int64()) return Corrupt("time");
  return absl::FromUnixNanos(v.as_int64());
}

void PutOptionalTime(json::object& o, const char* key, const std::optional<absl::Time>& t) {
  if (t) o[key] = TimeValue(*t);
}

absl::Status GetOptionalTime(const json::object& o, const char* key,
                             std::optional<absl::Time>& out) {
  if (auto* v = o.if_contains(key)) {
    KLAXON_ASSIGN_OR_RETURN(out, TimeFrom(*v));
  }
  return absl::OkStatus();
}

std::string Str(const json::object& o, const char* key) {
  if (auto* v = o.if_contains(key); v && v->is_string()) {
    return std::string(v->as_string());
  }
  return "";
}

json::array StrArray(const std::vector<std::string>& v) {
  json::array a;
  for (auto& s : v) a.emplace_back(s);
  return a;
}

std::vector<std::string> StrVector(const json::object& o, const char* key) {
  std::vector<std::string> out;
  if (auto* v = o.if_contains(key); v && v->is_array()) {
    for (auto& e : v->as_array()) {
      if (e.is_string()) out.emplace_back(e.as_string());
    }
  }
  return out;
}

}  // namespace

std::string SerializeOpsItem(const OpsItem& item) {
  json::object o;
  o["id"] = item.ops_item_id;
  o["arn"] = item.ops_item_arn;
  o["title"] = item.title;
  o["description"] = item.description;
  o["source"] = item.source;
  o["type"] = item.ops_item_type;
  o["status"] = item.status;
  if (item.priority) o["priority"] = *item.priority;
  o["severity"] = item.severity;
  o["category"] = item.category;
  o["created_by"] = item.created_by;
  o["last_modified_by"] = item.last_modified_by;
  o["created"] = TimeValue(item.created_time);
  o["modified"] = TimeValue(item.last_modified_time);
  o["version"] = item.version;
  json::object data;
  for (auto& [k, v] : item.operational_data) {
    data[k] = json::object{{"v", v.value}, {"t", v.type}};
  }
  o["data"] = std::move(data);
  o["notifications"] = StrArray(item.notification_arns);
  o["related"] = StrArray(item.related_ops_item_ids);
  json::object tags;
  for (auto& [k, v] : item.tags) tags[k] = v;
  o["tags"] = std::move(tags);
  PutOptionalTime(o, "actual_start", item.actual_start_time);
  PutOptionalTime(o, "actual_end", item.actual_end_time);
  PutOptionalTime(o, "planned_start", item.planned_start_time);
  PutOptionalTime(o, "planned_end", item.planned_end_time);
  return json::serialize(o);
}

absl::StatusOr<OpsItem> ParseOpsItem(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return Corrupt("opsitem");
  const json::object& o = v.as_object();
  OpsItem item;
  item.ops_item_id = Str(o, "id");
  item.ops_item_arn = Str(o, "arn");
  item.title = Str(o, "title");
  item.description = Str(o, "description");
  item.source = Str(o, "source");
  item.ops_item_type = Str(o, "type");
  item.status = Str(o, "status");
  if (auto* p = o.if_contains("priority"); p && p->is_int64()) {
    item.priority = static_cast<int>(p->as_int64());
  }
  item.severity = Str(o, "severity");
  item.category = Str(o, "category");
  item.created_by = Str(o, "created_by");
  item.last_modified_by = Str(o, "last_modified_by");
  if (!o.contains("created") || !o.contains("modified")) return Corrupt("opsitem times");
  KLAXON_ASSIGN_OR_RETURN(item.created_time, TimeFrom(o.at("created")));
  KLAXON_ASSIGN_OR_RETURN(item.last_modified_time, TimeFrom(o.at("modified")));
  item.version = Str(o, "version");
  if (auto* d = o.if_contains("data"); d && d->is_object()) {
    for (auto& [k, dv] : d->as_object()) {
      if (!dv.is_object()) return Corrupt("opsitem data");
      item.operational_data[std::string(k)] =
          OpsItemDataValue{Str(dv.as_object(), "v"), Str(dv.as_object(), "t")};
    }
  }
  item.notification_arns = StrVector(o, "notifications");
  item.related_ops_item_ids = StrVector(o, "related");
  if (auto* t = o.if_contains("tags"); t && t->is_object()) {
    for (auto& [k, tv] : t->as_object()) {
      if (tv.is_string()) item.tags[std::string(k)] = std::string(tv.as_string());
    }
  }
  KLAXON_RETURN_IF_ERROR(GetOptionalTime(o, "actual_start", item.actual_start_time));
  KLAXON_RETURN_IF_ERROR(GetOptionalTime(o, "actual_end", item.actual_end_time));
  KLAXON_RETURN_IF_ERROR(GetOptionalTime(o, "planned_start", item.planned_start_time));
  KLAXON_RETURN_IF_ERROR(GetOptionalTime(o, "planned_end", item.planned_end_time));
  return item;
}

std::string SerializeRelatedItem(const RelatedItem& r) {
  json::object o;
  o["ops_item_id"] = r.ops_item_id;
  o["association_id"] = r.association_id;
  o["association_type"] = r.association_type;
  o["resource_type"] = r.resource_type;
  o["resource_uri"] = r.resource_uri;
  o["created_by"] = r.created_by;
  o["created"] = TimeValue(r.created_time);
  o["last_modified_by"] = r.last_modified_by;
  o["modified"] = TimeValue(r.last_modified_time);
  return json::serialize(o);
}

absl::StatusOr<RelatedItem> ParseRelatedItem(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) return Corrupt("related item");
  const json::object& o = v.as_object();
  RelatedItem r;
  r.ops_item_id = Str(o, "ops_item_id");
  r.association_id = Str(o, "association_id");
  r.association_type = Str(o, "association_type");
  r.resource_type = Str(o, "resource_type");
  r.resource_uri = Str(o, "resource_uri");
  r.created_by = Str(o, "created_by");
  r.last_modified_by = Str(o, "last_modified_by");
  if (!o.contains("created") || !o.contains("modified")) return Corrupt("related item times");
  KLAXON_ASSIGN_OR_RETURN(r.created_time, TimeFrom(o.at("created")));
  KLAXON_ASSIGN_OR_RETURN(r.last_modified_time, TimeFrom(o.at("modified")));
  return r;
}

// ---------------------------------------------------------------------------------------------
// Validation

bool IsBlank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isspace(c); });
}

namespace {

constexpr std::array<std::string_view, 8> kReservedPrefixes = {"amazon",  "aws",  "amzn",  "ssm",
                                                               "/amazon", "/aws", "/amzn", "/ssm"};

constexpr std::array<std::string_view, 20> kStatuses = {"Open",
                                                        "InProgress",
                                                        "Resolved",
                                                        "Pending",
                                                        "TimedOut",
                                                        "Cancelling",
                                                        "Cancelled",
                                                        "Failed",
                                                        "CompletedWithSuccess",
                                                        "CompletedWithFailure",
                                                        "Scheduled",
                                                        "RunbookInProgress",
                                                        "PendingChangeCalendarOverride",
                                                        "ChangeCalendarOverrideApproved",
                                                        "ChangeCalendarOverrideRejected",
                                                        "PendingApproval",
                                                        "Approved",
                                                        "Revoked",
                                                        "Rejected",
                                                        "Closed"};

absl::StatusOr<json::value> ParseJsonValue(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec) return absl::InvalidArgumentError("not JSON");
  return v;
}

}  // namespace

std::string Lower(std::string_view s) {
  std::string out(s);
  absl::AsciiStrToLower(&out);
  return out;
}

bool IsKnownStatus(std::string_view status) {
  return std::find(kStatuses.begin(), kStatuses.end(), status) != kStatuses.end();
}

bool IsReservedKey(std::string_view key) {
  return key == kResourcesKey || key == kAutomationsKey || key == kDedupKey;
}

absl::Status ValidateSource(std::string_view source) {
  if (source.empty() || IsBlank(source)) {
    return InvalidParameter({"Source"}, "Source must not be empty.");
  }
  std::string lower = Lower(source);
  for (std::string_view word : {"aws", "amazon", "amzn"}) {
    if (absl::StrContains(lower, ToAbsl(word))) {
      return InvalidParameter(
          {"Source"}, absl::StrCat("Source can't contain \"", ToAbsl(word), "\" (any casing)."));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateSeverity(std::string_view severity) {
  if (severity == "1" || severity == "2" || severity == "3" || severity == "4") {
    return absl::OkStatus();
  }
  return InvalidParameter({"Severity"}, "Severity must be one of 1, 2, 3, 4.");
}

absl::Status ValidatePriority(int priority) {
  if (priority < 1 || priority > 5) {
    return InvalidParameter({"Priority"}, "Priority must be between 1 and 5.");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ParseDedupString(std::string_view value) {
  auto v = ParseJsonValue(value);
  if (v.ok() && v->is_object()) {
    if (auto* s = v->as_object().if_contains("dedupString");
        s && s->is_string() && !IsBlank(std::string_view(s->as_string()))) {
      return std::string(s->as_string());
    }
  }
  return InvalidParameter({"OperationalData"},
                          "The value of /aws/dedup must be a JSON object "
                          "{\"dedupString\": \"<non-empty string>\"}.");
}

absl::StatusOr<std::vector<std::string>> ParseResourceArns(std::string_view value) {
  auto v = ParseJsonValue(value);
  std::vector<std::string> arns;
  bool ok = v.ok() && v->is_array();
  if (ok) {
    for (auto& e : v->as_array()) {
      const json::value* arn = e.is_object() ? e.as_object().if_contains("arn") : nullptr;
      if (!arn || !arn->is_string() || arn->as_string().empty()) {
        ok = false;
        break;
      }
      arns.emplace_back(arn->as_string());
    }
  }
  if (!ok) {
    return InvalidParameter({"OperationalData"},
                            "The value of /aws/resources must be a JSON array of objects "
                            "[{\"arn\": \"<resource ARN>\"}].");
  }
  return arns;
}

absl::StatusOr<std::vector<std::string>> ParseAutomationIds(std::string_view value) {
  auto v = ParseJsonValue(value);
  std::vector<std::string> ids;
  bool ok = v.ok() && v->is_array();
  if (ok) {
    for (auto& e : v->as_array()) {
      const json::value* id = e.is_object() ? e.as_object().if_contains("automationId") : nullptr;
      if (!id || !id->is_string() || id->as_string().empty()) {
        ok = false;
        break;
      }
      ids.emplace_back(id->as_string());
    }
  }
  if (!ok) {
    return InvalidParameter({"OperationalData"},
                            "The value of /aws/automations must be a JSON array of objects "
                            "[{\"automationId\": \"<id>\", \"automationType\": \"...\"}].");
  }
  return ids;
}

absl::Status ValidateOperationalData(const OperationalData& data, const Limits& limits) {
  for (const auto& [key, value] : data) {
    if (key.empty() || key.size() > 128 || IsBlank(key)) {
      return InvalidParameter({"OperationalData"},
                              "OperationalData keys must be 1 to 128 characters.");
    }
    if (!IsReservedKey(key)) {
      std::string lower = Lower(key);
      for (std::string_view prefix : kReservedPrefixes) {
        if (absl::StartsWith(lower, ToAbsl(prefix))) {
          return InvalidParameter(
              {"OperationalData"},
              absl::StrCat("OperationalData key \"", key,
                           "\" is not valid: keys can't begin with amazon, aws, amzn, ssm, "
                           "/amazon, /aws, /amzn or /ssm (except the reserved keys "
                           "/aws/resources, /aws/automations and /aws/dedup)."));
        }
      }
    }
    if (value.type != "SearchableString" && value.type != "String") {
      return InvalidParameter({"OperationalData"},
                              "OperationalData Type must be SearchableString or String.");
    }
    if (value.value.empty() || IsBlank(value.value)) {
      return InvalidParameter({"OperationalData"}, absl::StrCat("OperationalData value of \"", key,
                                                                "\" must not be empty."));
    }
    if (value.value.size() > limits.max_operational_data_value_bytes) {
      return InvalidParameter(
          {"OperationalData"},
          absl::StrCat("OperationalData value of \"", key, "\" exceeds the maximum size of ",
                       limits.max_operational_data_value_bytes, " bytes."));
    }
    if (key == kDedupKey) {
      KLAXON_RETURN_IF_ERROR(ParseDedupString(value.value).status());
    } else if (key == kResourcesKey) {
      KLAXON_RETURN_IF_ERROR(ParseResourceArns(value.value).status());
    } else if (key == kAutomationsKey) {
      KLAXON_RETURN_IF_ERROR(ParseAutomationIds(value.value).status());
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateNotifications(const std::vector<std::string>& arns) {
  for (const auto& arn : arns) {
    // arn:PARTITION:sns:REGION:ACCOUNT:TOPIC
    std::vector<std::string_view> parts;
    std::string_view rest(arn);
    for (int i = 0; i < 5; ++i) {
      size_t colon = rest.find(':');
      if (colon == std::string_view::npos) break;
      parts.push_back(rest.substr(0, colon));
      rest.remove_prefix(colon + 1);
    }
    bool ok = parts.size() == 5 && parts[0] == "arn" && parts[2] == "sns" && !rest.empty();
    if (!ok) {
      return InvalidParameter(
          {"Notifications"},
          absl::StrCat("Notification ARN \"", arn, "\" is not an Amazon SNS topic ARN."));
    }
  }
  return absl::OkStatus();
}

absl::Status ValidateTags(const std::map<std::string, std::string>& tags) {
  for (const auto& [key, value] : tags) {
    if (absl::StartsWith(Lower(key), "aws:")) {
      return InvalidParameter({"Tags"}, "Tag keys can't begin with aws:.");
    }
  }
  return absl::OkStatus();
}

// Every id must name an OpsItem in scope other than `self`.
absl::Status ValidateRelatedOpsItems(storage::ReadTxn& txn, const Scope& scope,
                                     const std::vector<std::string>& ids, std::string_view self) {
  for (const auto& id : ids) {
    if (!IsOpsItemId(id) || id == self) {
      return InvalidParameter({"RelatedOpsItems"}, absl::StrCat("RelatedOpsItems: \"", id,
                                                                "\" is not a valid OpsItem."));
    }
    KLAXON_ASSIGN_OR_RETURN(auto row, txn.Get(kItemsTable, scope.account_id, ItemKey(scope, id)));
    if (!row) {
      return InvalidParameter({"RelatedOpsItems"},
                              absl::StrCat("RelatedOpsItems: OpsItem ", id, " does not exist."));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> DedupHash(const OperationalData& data) {
  auto it = data.find(kDedupKey);
  if (it == data.end()) return std::optional<std::string>();
  KLAXON_ASSIGN_OR_RETURN(std::string dedup, ParseDedupString(it->second.value));
  std::set<std::string> arns;
  if (auto r = data.find(kResourcesKey); r != data.end()) {
    KLAXON_ASSIGN_OR_RETURN(auto list, ParseResourceArns(r->second.value));
    arns.insert(list.begin(), list.end());
  }
  // Dedup strings are case-insensitive; the resources are part of the key (as in OpsCenter:
  // the same string with different resources creates a new OpsItem).
  std::string material = Lower(dedup);
  for (const auto& arn : arns) absl::StrAppend(&material, "\n", arn);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(material.data(), material.size(), digest, &len, EVP_sha256(), nullptr) != 1) {
    return absl::InternalError("opsitems: SHA-256 failed");
  }
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  hex.reserve(static_cast<size_t>(len) * 2);
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 0xf]);
  }
  return std::optional<std::string>(std::move(hex));
}

bool AbsorbsDuplicates(std::string_view status) {
  return status == "Open" || status == "InProgress";
}

absl::StatusOr<std::optional<OpsItem>> LoadOpsItem(storage::ReadTxn& txn, const Scope& scope,
                                                   std::string_view id) {
  if (!IsOpsItemId(id)) return std::optional<OpsItem>();
  KLAXON_ASSIGN_OR_RETURN(auto row, txn.Get(kItemsTable, scope.account_id, ItemKey(scope, id)));
  if (!row) return std::optional<OpsItem>();
  KLAXON_ASSIGN_OR_RETURN(OpsItem item, ParseOpsItem(*row));
  return std::optional<OpsItem>(std::move(item));
}

}  // namespace internal

using namespace internal;  // NOLINT(build/namespaces): this file implements internal.

std::string OpsItemArn(const Scope& scope, const std::string& ops_item_id) {
  return absl::StrCat("arn:aws:ssm:", scope.region, ":", scope.account_id, ":opsitem/",
                      ops_item_id);
}

OpsItemService::OpsItemService(storage::Store& store, Clock& clock)
    : OpsItemService(store, clock, Limits()) {}

OpsItemService::OpsItemService(storage::Store& store, Clock& clock, Limits limits)
    : store_(store), clock_(clock), limits_(limits) {}

// ---------------------------------------------------------------------------------------------
// Create

absl::StatusOr<OpsItem> OpsItemService::Create(const Scope& scope, const NewOpsItem& item) {
  OpsItem result;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(result, CreateInTxn(txn, scope, item));
    return absl::OkStatus();
  }));
  return result;
}

absl::StatusOr<OpsItem> OpsItemService::CreateInTxn(storage::WriteTxn& txn, const Scope& scope,
                                                    const NewOpsItem& item) {
  if (!item.account_id.empty() && item.account_id != scope.account_id) {
    return AwsError(absl::StatusCode::kPermissionDenied, "OpsItemAccessDeniedException",
                    "Creating OpsItems in another account is not supported: AccountId must be "
                    "the caller's account.");
  }
  if (item.title.empty() || IsBlank(item.title)) {
    return InvalidParameter({"Title"}, "Title must not be empty.");
  }
  if (item.description.empty() || IsBlank(item.description)) {
    return InvalidParameter({"Description"}, "Description must not be empty.");
  }
  KLAXON_RETURN_IF_ERROR(ValidateSource(item.source));
  if (item.priority) KLAXON_RETURN_IF_ERROR(ValidatePriority(*item.priority));
  if (!item.severity.empty()) KLAXON_RETURN_IF_ERROR(ValidateSeverity(item.severity));
  KLAXON_RETURN_IF_ERROR(ValidateOperationalData(item.operational_data, limits_));
  KLAXON_RETURN_IF_ERROR(ValidateNotifications(item.notification_arns));
  KLAXON_RETURN_IF_ERROR(ValidateTags(item.tags));
  KLAXON_RETURN_IF_ERROR(ValidateRelatedOpsItems(txn, scope, item.related_ops_item_ids, ""));

  // OpsCenter dedup: an open OpsItem with the same dedup key absorbs the new one.
  KLAXON_ASSIGN_OR_RETURN(std::optional<std::string> dedup_hash, DedupHash(item.operational_data));
  std::string dedup_row_id;
  if (dedup_hash) {
    dedup_row_id = absl::StrCat(scope.region, "/", *dedup_hash);
    KLAXON_ASSIGN_OR_RETURN(auto existing_id, txn.Get(kDedupTable, scope.account_id, dedup_row_id));
    if (existing_id) {
      KLAXON_ASSIGN_OR_RETURN(auto existing, LoadOpsItem(txn, scope, *existing_id));
      if (existing && AbsorbsDuplicates(existing->status)) {
        existing->deduplicated = true;
        return std::move(*existing);
      }
    }
  }

  OpsItem out;
  for (int attempt = 0;; ++attempt) {
    out.ops_item_id = absl::StrCat("oi-", storage::NewOrderedHex48());
    KLAXON_ASSIGN_OR_RETURN(
        auto taken, txn.Get(kItemsTable, scope.account_id, ItemKey(scope, out.ops_item_id)));
    if (!taken) break;
    if (attempt >= 8) return absl::InternalError("opsitems: could not allocate an OpsItem id");
  }
  absl::Time now = clock_.Now();
  out.ops_item_arn = OpsItemArn(scope, out.ops_item_id);
  out.title = item.title;
  out.description = item.description;
  out.source = item.source;
  out.ops_item_type = item.ops_item_type.empty() ? kDefaultOpsItemType : item.ops_item_type;
  out.status = "Open";
  out.priority = item.priority;
  out.severity = item.severity;
  out.category = item.category;
  out.created_by = scope.caller_arn;
  out.last_modified_by = scope.caller_arn;
  out.created_time = now;
  out.last_modified_time = now;
  out.version = "1";
  out.operational_data = item.operational_data;
  out.notification_arns = item.notification_arns;
  out.related_ops_item_ids = item.related_ops_item_ids;
  out.tags = item.tags;
  out.actual_start_time = item.actual_start_time;
  out.actual_end_time = item.actual_end_time;
  out.planned_start_time = item.planned_start_time;
  out.planned_end_time = item.planned_end_time;

  KLAXON_RETURN_IF_ERROR(txn.Put(kItemsTable, scope.account_id, ItemKey(scope, out.ops_item_id),
                                 SerializeOpsItem(out)));
  KLAXON_RETURN_IF_ERROR(
      txn.Put(kByCreatedTable, scope.account_id,
              absl::StrCat(scope.region, "/", CreatedKeySuffix(now, out.ops_item_id)), ""));
  if (dedup_hash) {
    KLAXON_RETURN_IF_ERROR(txn.Put(kDedupTable, scope.account_id, dedup_row_id, out.ops_item_id));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Get / Update

absl::StatusOr<OpsItem> OpsItemService::Get(const Scope& scope, const std::string& ops_item_id) {
  std::optional<OpsItem> item;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(item, LoadOpsItem(txn, scope, ops_item_id));
    return absl::OkStatus();
  }));
  if (!item) return OpsItemNotFound(ops_item_id);
  return std::move(*item);
}

absl::StatusOr<OpsItem> OpsItemService::Update(const Scope& scope, const std::string& ops_item_id,
                                               const OpsItemUpdate& update) {
  OpsItem result;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto loaded, LoadOpsItem(txn, scope, ops_item_id));
    if (!loaded) return OpsItemNotFound(ops_item_id);
    OpsItem item = std::move(*loaded);

    if (update.title && IsBlank(*update.title)) {
      return InvalidParameter({"Title"}, "Title must not be empty.");
    }
    if (update.description && IsBlank(*update.description)) {
      return InvalidParameter({"Description"}, "Description must not be empty.");
    }
    if (update.priority) KLAXON_RETURN_IF_ERROR(ValidatePriority(*update.priority));
    if (update.severity) KLAXON_RETURN_IF_ERROR(ValidateSeverity(*update.severity));
    if (update.status && !IsKnownStatus(*update.status)) {
      return InvalidParameter({"Status"}, absl::StrCat("Status \"", *update.status,
                                                       "\" is not a valid OpsItem status."));
    }
    if (update.operational_data.count(kDedupKey) ||
        std::find(update.operational_data_to_delete.begin(),
                  update.operational_data_to_delete.end(),
                  kDedupKey) != update.operational_data_to_delete.end()) {
      return InvalidParameter({"OperationalData"},
                              "The deduplication string (/aws/dedup) can't be changed after the "
                              "OpsItem is created.");
    }
    KLAXON_RETURN_IF_ERROR(ValidateOperationalData(update.operational_data, limits_));
    if (update.notification_arns) {
      KLAXON_RETURN_IF_ERROR(ValidateNotifications(*update.notification_arns));
    }
    if (update.related_ops_item_ids) {
      KLAXON_RETURN_IF_ERROR(
          ValidateRelatedOpsItems(txn, scope, *update.related_ops_item_ids, item.ops_item_id));
    }

    if (update.title) item.title = *update.title;
    if (update.description) item.description = *update.description;
    if (update.status) item.status = *update.status;
    if (update.priority) item.priority = update.priority;
    if (update.severity) item.severity = *update.severity;
    if (update.category) item.category = *update.category;
    for (const auto& key : update.operational_data_to_delete) item.operational_data.erase(key);
    for (const auto& [key, value] : update.operational_data) item.operational_data[key] = value;
    if (update.notification_arns) item.notification_arns = *update.notification_arns;
    if (update.related_ops_item_ids) item.related_ops_item_ids = *update.related_ops_item_ids;
    if (update.actual_start_time) item.actual_start_time = update.actual_start_time;
    if (update.actual_end_time) item.actual_end_time = update.actual_end_time;
    if (update.planned_start_time) item.planned_start_time = update.planned_start_time;
    if (update.planned_end_time) item.planned_end_time = update.planned_end_time;

    int64_t version = 0;
    if (!absl::SimpleAtoi(item.version, &version)) version = 1;
    item.version = std::to_string(version + 1);
    item.last_modified_by = scope.caller_arn;
    item.last_modified_time = clock_.Now();
    KLAXON_RETURN_IF_ERROR(txn.Put(kItemsTable, scope.account_id, ItemKey(scope, item.ops_item_id),
                                   SerializeOpsItem(item)));
    result = std::move(item);
    return absl::OkStatus();
  }));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Describe

absl::StatusOr<OpsItemPage> OpsItemService::Describe(const Scope& scope,
                                                     const std::vector<OpsItemFilter>& filters,
                                                     int max_results,
                                                     const std::string& next_token) {
  KLAXON_ASSIGN_OR_RETURN(std::vector<CompiledFilter> compiled, CompileFilters(filters));
  size_t page = max_results > 0 ? static_cast<size_t>(max_results)
                                : static_cast<size_t>(limits_.default_page_size);
  std::string prefix = absl::StrCat(scope.region, "/");
  std::string after;
  if (!next_token.empty()) {
    // "<20 digits>/oi-<12 hex>"
    std::string_view t(next_token);
    if (t.size() != 36 || t[20] != '/' || !AllDigits(t.substr(0, 20)) ||
        !IsOpsItemId(t.substr(21))) {
      return InvalidNextToken();
    }
    after = prefix + next_token;
  }

  OpsItemPage result;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    constexpr size_t kBatch = 128;
    std::string last_key;  // index key of the last item put on the page
    bool more = false;
    while (true) {
      std::vector<std::string> keys;
      KLAXON_RETURN_IF_ERROR(txn.Scan(kByCreatedTable, scope.account_id, prefix, after, kBatch,
                                      [&](std::string_view id, std::string_view) {
                                        keys.emplace_back(id);
                                        return true;
                                      }));
      for (const auto& key : keys) {
        std::string_view id = std::string_view(key).substr(key.size() - 15);
        KLAXON_ASSIGN_OR_RETURN(auto item, LoadOpsItem(txn, scope, id));
        if (!item || !Matches(compiled, scope, *item)) continue;
        if (result.items.size() == page) {
          more = true;
          break;
        }
        result.items.push_back(std::move(*item));
        last_key = key;
      }
      if (more || keys.size() < kBatch) break;
      after = keys.back();
    }
    if (more) result.next_token = last_key.substr(prefix.size());
    return absl::OkStatus();
  }));
  return result;
}

// ---------------------------------------------------------------------------------------------
// Related items

absl::StatusOr<std::string> OpsItemService::AssociateRelatedItem(
    const Scope& scope, const std::string& ops_item_id, const std::string& association_type,
    const std::string& resource_type, const std::string& resource_uri) {
  std::string association_id;
  KLAXON_RETURN_IF_ERROR(store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(association_id,
                            AssociateRelatedItemInTxn(txn, scope, ops_item_id, association_type,
                                                      resource_type, resource_uri));
    return absl::OkStatus();
  }));
  return association_id;
}

namespace {

absl::Status ValidateAssociation(const std::string& association_type,
                                 const std::string& resource_type,
                                 const std::string& resource_uri) {
  if (association_type != "IsParentOf" && association_type != "RelatesTo") {
    return InvalidParameter({"AssociationType"},
                            absl::StrCat("AssociationType \"", association_type,
                                         "\" is not supported: use IsParentOf or RelatesTo."));
  }
  if (resource_type != kIncidentRecordType && resource_type != kDocumentType) {
    return InvalidParameter(
        {"ResourceType"},
        absl::StrCat("ResourceType \"", resource_type, "\" is not supported: use ",
                     kIncidentRecordType, " or ", kDocumentType, "."));
  }
  if (!absl::StartsWith(resource_uri, "arn:") || IsBlank(resource_uri)) {
    return InvalidParameter({"ResourceUri"}, "ResourceUri must be the ARN of the resource.");
  }
  return absl::OkStatus();
}

absl::Status TooManyRelatedItems(const std::string& ops_item_id, size_t limit) {
  return LimitExceeded("RelatedItems", static_cast<int>(limit), "RelatedItemsPerOpsItem",
                       absl::StrCat("The OpsItem ", ops_item_id, " already has ", limit,
                                    " related items, the maximum."));
}

// Writes association number `seq` of `ops_item_id`, made by the caller at `now`; returns its id.
absl::StatusOr<std::string> PutRelatedItem(storage::WriteTxn& txn, const Scope& scope,
                                           const std::string& ops_item_id, int64_t seq,
                                           const std::string& association_type,
                                           const std::string& resource_type,
                                           const std::string& resource_uri, absl::Time now) {
  RelatedItem related;
  related.ops_item_id = ops_item_id;
  related.association_id = NewUuid();
  related.association_type = association_type;
  related.resource_type = resource_type;
  related.resource_uri = resource_uri;
  related.created_by = scope.caller_arn;
  related.last_modified_by = scope.caller_arn;
  related.created_time = now;
  related.last_modified_time = now;
  KLAXON_RETURN_IF_ERROR(txn.Put(kRelatedTable, scope.account_id,
                                 RelatedKey(scope, ops_item_id, seq),
                                 SerializeRelatedItem(related)));
  return related.association_id;
}

}  // namespace

absl::StatusOr<std::pair<OpsItem, std::string>> OpsItemService::CreateAndAssociateInTxn(
    storage::WriteTxn& txn, const Scope& scope, const NewOpsItem& item,
    const std::string& association_type, const std::string& resource_type,
    const std::string& resource_uri) {
  KLAXON_RETURN_IF_ERROR(ValidateAssociation(association_type, resource_type, resource_uri));
  KLAXON_ASSIGN_OR_RETURN(OpsItem created, CreateInTxn(txn, scope, item));
  if (created.deduplicated) {
    KLAXON_ASSIGN_OR_RETURN(
        std::string id, AssociateRelatedItemInTxn(txn, scope, created.ops_item_id, association_type,
                                                  resource_type, resource_uri));
    return std::make_pair(std::move(created), std::move(id));
  }
  // The first related item of a new OpsItem: sequence 1, no duplicate, under any limit >= 1.
  if (limits_.max_related_items_per_ops_item == 0) {
    return TooManyRelatedItems(created.ops_item_id, 0);
  }
  KLAXON_ASSIGN_OR_RETURN(std::string association_id,
                          PutRelatedItem(txn, scope, created.ops_item_id, 1, association_type,
                                         resource_type, resource_uri, created.created_time));
  return std::make_pair(std::move(created), std::move(association_id));
}

absl::StatusOr<std::string> OpsItemService::AssociateRelatedItemInTxn(
    storage::WriteTxn& txn, const Scope& scope, const std::string& ops_item_id,
    const std::string& association_type, const std::string& resource_type,
    const std::string& resource_uri) {
  KLAXON_RETURN_IF_ERROR(ValidateAssociation(association_type, resource_type, resource_uri));
  KLAXON_ASSIGN_OR_RETURN(auto item, LoadOpsItem(txn, scope, ops_item_id));
  if (!item) return OpsItemNotFound(ops_item_id);

  size_t count = 0;
  int64_t max_seq = 0;
  bool duplicate = false;
  std::string prefix = RelatedPrefix(scope, ops_item_id);
  absl::Status parse_error;
  KLAXON_RETURN_IF_ERROR(
      txn.Scan(kRelatedTable, scope.account_id, prefix, "", 0,
               [&](std::string_view id, std::string_view value) {
                 ++count;
                 int64_t seq = 0;
                 std::string_view digits = id.substr(prefix.size());
                 if (absl::SimpleAtoi(absl::string_view(digits.data(), digits.size()), &seq)) {
                   max_seq = std::max(max_seq, seq);
                 }
                 auto related = ParseRelatedItem(value);
                 if (!related.ok()) {
                   parse_error = related.status();
                   return false;
                 }
                 if (related->resource_uri == resource_uri) duplicate = true;
                 return true;
               }));
  KLAXON_RETURN_IF_ERROR(parse_error);
  if (duplicate) {
    return AwsError(absl::StatusCode::kAlreadyExists, "OpsItemRelatedItemAlreadyExistsException",
                    absl::StrCat("The resource ", resource_uri,
                                 " is already associated with the OpsItem ", ops_item_id, "."),
                    json::object{{"ResourceUri", resource_uri}, {"OpsItemId", ops_item_id}});
  }
  if (count >= limits_.max_related_items_per_ops_item) {
    return TooManyRelatedItems(ops_item_id, limits_.max_related_items_per_ops_item);
  }
  return PutRelatedItem(txn, scope, ops_item_id, max_seq + 1, association_type, resource_type,
                        resource_uri, clock_.Now());
}

absl::StatusOr<RelatedItemPage> OpsItemService::ListRelatedItems(
    const Scope& scope, const std::string& ops_item_id,
    const std::vector<RelatedItemFilter>& filters, int max_results, const std::string& next_token) {
  for (const auto& f : filters) {
    if (f.key != "AssociationId" && f.key != "ResourceType" && f.key != "ResourceUri") {
      return InvalidParameter({"Filters"},
                              absl::StrCat("Filter key \"", f.key, "\" is not supported."));
    }
  }
  if (!ops_item_id.empty() && !IsOpsItemId(ops_item_id)) {
    return InvalidParameter({"OpsItemId"}, "OpsItemId is not valid.");
  }
  size_t page = max_results > 0 ? static_cast<size_t>(max_results)
                                : static_cast<size_t>(limits_.default_page_size);
  std::string region_prefix = absl::StrCat(scope.region, "/");
  std::string prefix = ops_item_id.empty() ? region_prefix : RelatedPrefix(scope, ops_item_id);
  std::string after;
  if (!next_token.empty()) {
    // "oi-<12 hex>/<10 digits>"
    std::string_view t(next_token);
    if (t.size() != 26 || t[15] != '/' || !IsOpsItemId(t.substr(0, 15)) ||
        !AllDigits(t.substr(16)) || (!ops_item_id.empty() && t.substr(0, 15) != ops_item_id)) {
      return InvalidNextToken();
    }
    after = region_prefix + next_token;
  }

  RelatedItemPage result;
  KLAXON_RETURN_IF_ERROR(store_.Read([&](storage::ReadTxn& txn) -> absl::Status {
    absl::Status parse_error;
    std::string last_key;
    bool more = false;
    KLAXON_RETURN_IF_ERROR(
        txn.Scan(kRelatedTable, scope.account_id, prefix, after, 0,
                 [&](std::string_view id, std::string_view value) {
                   auto related = ParseRelatedItem(value);
                   if (!related.ok()) {
                     parse_error = related.status();
                     return false;
                   }
                   for (const auto& f : filters) {
                     const std::string& field = f.key == "AssociationId"  ? related->association_id
                                                : f.key == "ResourceType" ? related->resource_type
                                                                          : related->resource_uri;
                     if (std::find(f.values.begin(), f.values.end(), field) == f.values.end())
                       return true;
                   }
                   if (result.items.size() == page) {
                     more = true;
                     return false;
                   }
                   result.items.push_back(std::move(*related));
                   last_key = std::string(id);
                   return true;
                 }));
    KLAXON_RETURN_IF_ERROR(parse_error);
    if (more) result.next_token = last_key.substr(region_prefix.size());
    return absl::OkStatus();
  }));
  return result;
}

absl::Status OpsItemService::DisassociateRelatedItem(const Scope& scope,
                                                     const std::string& ops_item_id,
                                                     const std::string& association_id) {
  return store_.Write([&](storage::WriteTxn& txn) -> absl::Status {
    KLAXON_ASSIGN_OR_RETURN(auto item, LoadOpsItem(txn, scope, ops_item_id));
    if (!item) return OpsItemNotFound(ops_item_id);
    std::string found_key;
    absl::Status parse_error;
    KLAXON_RETURN_IF_ERROR(txn.Scan(kRelatedTable, scope.account_id,
                                    RelatedPrefix(scope, ops_item_id), "", 0,
                                    [&](std::string_view id, std::string_view value) {
                                      auto related = ParseRelatedItem(value);
                                      if (!related.ok()) {
                                        parse_error = related.status();
                                        return false;
                                      }
                                      if (related->association_id == association_id) {
                                        found_key = std::string(id);
                                        return false;
                                      }
                                      return true;
                                    }));
    KLAXON_RETURN_IF_ERROR(parse_error);
    if (found_key.empty()) {
      return AwsError(absl::StatusCode::kNotFound, "OpsItemRelatedItemAssociationNotFoundException",
                      absl::StrCat("The association ", association_id,
                                   " was not found on the OpsItem ", ops_item_id, "."));
    }
    return txn.Delete(kRelatedTable, scope.account_id, found_key);
  });
}

}  // namespace klaxon::opsitems
