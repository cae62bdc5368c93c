#include "events/bus/records.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/serialize.hpp"
#include "common/status.h"

namespace klaxon::events::internal {
namespace json = boost::json;

namespace {

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

absl::StatusOr<json::object> ParseObject(std::string_view text, std::string_view what) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_object()) {
    return absl::DataLossError(absl::StrCat("corrupt ", ToAbsl(what), " record"));
  }
  return std::move(v.as_object());
}

std::string Str(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

std::optional<std::string> OptStr(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::optional<int> OptInt(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(json::string_view(key.data(), key.size()));
  if (!v || !v->is_number()) return std::nullopt;
  return static_cast<int>(v->to_number<int64_t>());
}

void PutOpt(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[json::string_view(key.data(), key.size())] = *v;
}

json::object StringMap(const std::map<std::string, std::string>& m) {
  json::object o;
  for (const auto& [k, v] : m) o[k] = v;
  return o;
}

std::map<std::string, std::string> StringMapFrom(const json::value* v) {
  std::map<std::string, std::string> m;
  if (!v || !v->is_object()) return m;
  for (const auto& [k, val] : v->get_object()) {
    if (val.is_string()) m[std::string(k)] = std::string(val.get_string());
  }
  return m;
}

}  // namespace

std::string BusKey(std::string_view region, std::string_view bus) {
  return absl::StrCat(ToAbsl(region), "|", ToAbsl(bus));
}
std::string RuleKey(std::string_view region, std::string_view bus, std::string_view rule) {
  return absl::StrCat(ToAbsl(region), "|", ToAbsl(bus), "|", ToAbsl(rule));
}
std::string RulePrefix(std::string_view region, std::string_view bus) {
  return absl::StrCat(ToAbsl(region), "|", ToAbsl(bus), "|");
}
std::string SourceKey(std::string_view region, std::string_view source) {
  return absl::StrCat(ToAbsl(region), "|", ToAbsl(source));
}
std::string PartnerKey(std::string_view region, std::string_view source, std::string_view account) {
  return absl::StrCat(ToAbsl(region), "|", ToAbsl(source), "|", ToAbsl(account));
}

json::value TimeToJson(absl::Time t) { return json::value(absl::ToUnixMicros(t)); }

absl::Time TimeFromJson(const json::value* v) {
  if (!v || !v->is_number()) return absl::UnixEpoch();
  return absl::FromUnixMicros(v->to_number<int64_t>());
}

json::object TargetToJson(const Target& t) {
  json::object o;
  o["Id"] = t.id;
  o["Arn"] = t.arn;
  PutOpt(o, "RoleArn", t.role_arn);
  PutOpt(o, "Input", t.input);
  PutOpt(o, "InputPath", t.input_path);
  if (t.input_transformer) {
    json::object tr;
    if (!t.input_transformer->input_paths_map.empty()) {
      tr["InputPathsMap"] = StringMap(t.input_transformer->input_paths_map);
    }
    tr["InputTemplate"] = t.input_transformer->input_template;
    o["InputTransformer"] = std::move(tr);
  }
  if (t.http_parameters) {
    json::object hp;
    if (!t.http_parameters->path_parameter_values.empty()) {
      json::array a;
      for (const auto& s : t.http_parameters->path_parameter_values) a.emplace_back(s);
      hp["PathParameterValues"] = std::move(a);
    }
    if (!t.http_parameters->header_parameters.empty()) {
      hp["HeaderParameters"] = StringMap(t.http_parameters->header_parameters);
    }
    if (!t.http_parameters->query_string_parameters.empty()) {
      hp["QueryStringParameters"] = StringMap(t.http_parameters->query_string_parameters);
    }
    o["HttpParameters"] = std::move(hp);
  }
  if (t.maximum_retry_attempts || t.maximum_event_age_in_seconds) {
    json::object rp;
    if (t.maximum_retry_attempts) rp["MaximumRetryAttempts"] = *t.maximum_retry_attempts;
    if (t.maximum_event_age_in_seconds) {
      rp["MaximumEventAgeInSeconds"] = *t.maximum_event_age_in_seconds;
    }
    o["RetryPolicy"] = std::move(rp);
  }
  if (t.dead_letter_arn) o["DeadLetterConfig"] = json::object{{"Arn", *t.dead_letter_arn}};
  return o;
}

Target TargetFromJson(const json::object& o) {
  Target t;
  t.id = Str(o, "Id");
  t.arn = Str(o, "Arn");
  t.role_arn = OptStr(o, "RoleArn");
  t.input = OptStr(o, "Input");
  t.input_path = OptStr(o, "InputPath");
  if (const json::value* v = o.if_contains("InputTransformer"); v && v->is_object()) {
    InputTransformer tr;
    tr.input_paths_map = StringMapFrom(v->get_object().if_contains("InputPathsMap"));
    tr.input_template = Str(v->get_object(), "InputTemplate");
    t.input_transformer = std::move(tr);
  }
  if (const json::value* v = o.if_contains("HttpParameters"); v && v->is_object()) {
    HttpParameters hp;
    const json::object& h = v->get_object();
    if (const json::value* p = h.if_contains("PathParameterValues"); p && p->is_array()) {
      for (const auto& e : p->get_array()) {
        if (e.is_string()) hp.path_parameter_values.emplace_back(e.get_string());
      }
    }
    hp.header_parameters = StringMapFrom(h.if_contains("HeaderParameters"));
    hp.query_string_parameters = StringMapFrom(h.if_contains("QueryStringParameters"));
    t.http_parameters = std::move(hp);
  }
  if (const json::value* v = o.if_contains("RetryPolicy"); v && v->is_object()) {
    t.maximum_retry_attempts = OptInt(v->get_object(), "MaximumRetryAttempts");
    t.maximum_event_age_in_seconds = OptInt(v->get_object(), "MaximumEventAgeInSeconds");
  }
  if (const json::value* v = o.if_contains("DeadLetterConfig"); v && v->is_object()) {
    t.dead_letter_arn = OptStr(v->get_object(), "Arn");
  }
  return t;
}

std::string EncodeRule(const Rule& r) {
  json::object o;
  o["name"] = r.name;
  o["arn"] = r.arn;
  o["bus"] = r.event_bus_name;
  PutOpt(o, "pattern", r.event_pattern);
  PutOpt(o, "schedule", r.schedule_expression);
  o["state"] = RuleStateName(r.state);
  PutOpt(o, "description", r.description);
  PutOpt(o, "role", r.role_arn);
  o["createdBy"] = r.created_by;
  json::array targets;
  for (const auto& t : r.targets) targets.emplace_back(TargetToJson(t));
  o["targets"] = std::move(targets);
  return json::serialize(o);
}

absl::StatusOr<Rule> DecodeRule(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "rule"));
  Rule r;
  r.name = Str(o, "name");
  r.arn = Str(o, "arn");
  r.event_bus_name = Str(o, "bus");
  r.event_pattern = OptStr(o, "pattern");
  r.schedule_expression = OptStr(o, "schedule");
  r.state = Str(o, "state") == "DISABLED" ? RuleState::kDisabled : RuleState::kEnabled;
  r.description = OptStr(o, "description");
  r.role_arn = OptStr(o, "role");
  r.created_by = Str(o, "createdBy");
  if (const json::value* v = o.if_contains("targets"); v && v->is_array()) {
    for (const auto& t : v->get_array()) {
      if (t.is_object()) r.targets.push_back(TargetFromJson(t.get_object()));
    }
  }
  return r;
}

std::string EncodeBus(const EventBus& b) {
  json::object o;
  o["name"] = b.name;
  o["arn"] = b.arn;
  PutOpt(o, "source", b.event_source_name);
  PutOpt(o, "description", b.description);
  o["created"] = TimeToJson(b.creation_time);
  o["modified"] = TimeToJson(b.last_modified_time);
  return json::serialize(o);
}

absl::StatusOr<EventBus> DecodeBus(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "event bus"));
  EventBus b;
  b.name = Str(o, "name");
  b.arn = Str(o, "arn");
  b.event_source_name = OptStr(o, "source");
  b.description = OptStr(o, "description");
  b.creation_time = TimeFromJson(o.if_contains("created"));
  b.last_modified_time = TimeFromJson(o.if_contains("modified"));
  return b;
}

std::string EncodeTags(const std::vector<Tag>& tags) {
  json::array a;
  for (const auto& t : tags) a.emplace_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return json::serialize(a);
}

absl::StatusOr<std::vector<Tag>> DecodeTags(std::string_view text) {
  boost::system::error_code ec;
  json::value v = json::parse(json::string_view(text.data(), text.size()), ec);
  if (ec || !v.is_array()) return absl::DataLossError("corrupt tags record");
  std::vector<Tag> tags;
  for (const auto& e : v.get_array()) {
    if (!e.is_object()) continue;
    tags.push_back(Tag{Str(e.get_object(), "Key"), Str(e.get_object(), "Value")});
  }
  return tags;
}

std::string EncodeSource(const SourceRecord& r) {
  json::object o;
  o["name"] = r.source.name;
  o["arn"] = r.source.arn;
  o["createdBy"] = r.source.created_by;
  o["created"] = TimeToJson(r.source.creation_time);
  o["partner"] = r.partner_account;
  if (r.has_bus) o["bus"] = true;
  if (r.deactivated) o["deactivated"] = true;
  if (r.deleted) o["deleted"] = true;
  return json::serialize(o);
}

absl::StatusOr<SourceRecord> DecodeSource(std::string_view text) {
  KLAXON_ASSIGN_OR_RETURN(json::object o, ParseObject(text, "event source"));
  SourceRecord r;
  r.source.name = Str(o, "name");
  r.source.arn = Str(o, "arn");
  r.source.created_by = Str(o, "createdBy");
  r.source.creation_time = TimeFromJson(o.if_contains("created"));
  r.partner_account = Str(o, "partner");
  const json::value* bus = o.if_contains("bus");
  r.has_bus = bus && bus->is_bool() && bus->get_bool();
  const json::value* d = o.if_contains("deactivated");
  r.deactivated = d && d->is_bool() && d->get_bool();
  const json::value* del = o.if_contains("deleted");
  r.deleted = del && del->is_bool() && del->get_bool();
  r.source.state = r.State();
  return r;
}

std::string_view RuleStateName(RuleState s) {
  return s == RuleState::kEnabled ? "ENABLED" : "DISABLED";
}

std::string_view SourceStateName(EventSourceState s) {
  switch (s) {
    case EventSourceState::kPending:
      return "PENDING";
    case EventSourceState::kActive:
      return "ACTIVE";
    case EventSourceState::kDeleted:
      return "DELETED";
  }
  return "PENDING";
}

std::string EncodePageToken(std::string_view list, std::string_view position) {
  std::string raw = absl::StrCat("v1|", ToAbsl(list), "|", ToAbsl(position));
  return absl::WebSafeBase64Escape(raw);
}

absl::StatusOr<std::string> DecodePageToken(std::string_view list, std::string_view token) {
  if (token.empty()) return std::string();
  std::string raw;
  if (!absl::WebSafeBase64Unescape(ToAbsl(token), &raw))
    return ValidationError("Invalid NextToken");
  std::string prefix = absl::StrCat("v1|", ToAbsl(list), "|");
  if (raw.compare(0, prefix.size(), prefix) != 0 || raw.size() == prefix.size()) {
    return ValidationError("Invalid NextToken");
  }
  return raw.substr(prefix.size());
}

}  // namespace klaxon::events::internal
