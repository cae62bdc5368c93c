#include "api/services/events/handlers.h"

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "boost/json.hpp"
#include "common/clock.h"
#include "common/status.h"

namespace klaxon::api::events {
namespace {

namespace json = boost::json;
namespace ev = ::klaxon::events;

absl::string_view ToAbsl(std::string_view s) { return absl::string_view(s.data(), s.size()); }

json::string_view Key(std::string_view s) { return json::string_view(s.data(), s.size()); }

// The protocol layer has validated types against the model; these readers still refuse a wrong
// JSON type (a handler called directly, or a codec bug) with a ValidationException.
absl::Status TypeError(std::string_view member, std::string_view expected) {
  return ValidationError(
      absl::StrCat("Member '", ToAbsl(member), "' must be ", ToAbsl(expected), "."));
}

absl::StatusOr<std::optional<std::string>> OptString(const json::object& in,
                                                     std::string_view member) {
  const json::value* v = in.if_contains(Key(member));
  if (!v || v->is_null()) return std::optional<std::string>();
  if (!v->is_string()) return TypeError(member, "a string");
  return std::optional<std::string>(std::string(v->as_string()));
}

absl::StatusOr<std::string> String(const json::object& in, std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(auto v, OptString(in, member));
  return v.value_or("");
}

absl::StatusOr<std::optional<int>> OptInt(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(Key(member));
  if (!v || v->is_null()) return std::optional<int>();
  if (v->is_int64()) return std::optional<int>(static_cast<int>(v->as_int64()));
  if (v->is_uint64()) return std::optional<int>(static_cast<int>(v->as_uint64()));
  if (v->is_double()) return std::optional<int>(static_cast<int>(v->as_double()));
  return TypeError(member, "an integer");
}

absl::StatusOr<const json::array*> OptArray(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(Key(member));
  if (!v || v->is_null()) return nullptr;
  if (!v->is_array()) return TypeError(member, "a list");
  return &v->as_array();
}

absl::StatusOr<const json::object*> OptObject(const json::object& in, std::string_view member) {
  const json::value* v = in.if_contains(Key(member));
  if (!v || v->is_null()) return nullptr;
  if (!v->is_object()) return TypeError(member, "a structure or map");
  return &v->as_object();
}

absl::StatusOr<std::vector<std::string>> StringList(const json::object& in,
                                                    std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* a, OptArray(in, member));
  std::vector<std::string> out;
  if (!a) return out;
  for (const auto& e : *a) {
    if (!e.is_string()) return TypeError(member, "a list of strings");
    out.emplace_back(e.as_string());
  }
  return out;
}

absl::StatusOr<std::map<std::string, std::string>> StringMap(const json::object& in,
                                                             std::string_view member) {
  KLAXON_ASSIGN_OR_RETURN(const json::object* o, OptObject(in, member));
  std::map<std::string, std::string> out;
  if (!o) return out;
  for (const auto& [k, v] : *o) {
    if (!v.is_string()) return TypeError(member, "a map of strings");
    out[std::string(k)] = std::string(v.as_string());
  }
  return out;
}

absl::StatusOr<std::vector<ev::Tag>> Tags(const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* a, OptArray(in, "Tags"));
  std::vector<ev::Tag> tags;
  if (!a) return tags;
  for (const auto& e : *a) {
    if (!e.is_object()) return TypeError("Tags", "a list of Tag");
    KLAXON_ASSIGN_OR_RETURN(std::string key, String(e.as_object(), "Key"));
    KLAXON_ASSIGN_OR_RETURN(std::string value, String(e.as_object(), "Value"));
    tags.push_back(ev::Tag{std::move(key), std::move(value)});
  }
  return tags;
}

json::array TagsJson(const std::vector<ev::Tag>& tags) {
  json::array a;
  for (const auto& t : tags) a.emplace_back(json::object{{"Key", t.key}, {"Value", t.value}});
  return a;
}

ev::Scope ScopeOf(const CallContext& ctx) {
  return ev::Scope{ctx.caller.account_id, ctx.caller.region, ctx.caller.principal_arn};
}

std::string_view StateName(ev::RuleState s) {
  return s == ev::RuleState::kEnabled ? "ENABLED" : "DISABLED";
}

std::string_view SourceStateName(ev::EventSourceState s) {
  switch (s) {
    case ev::EventSourceState::kPending:
      return "PENDING";
    case ev::EventSourceState::kActive:
      return "ACTIVE";
    case ev::EventSourceState::kDeleted:
      return "DELETED";
  }
  return "PENDING";
}

void PutOpt(json::object& o, std::string_view key, const std::optional<std::string>& v) {
  if (v) o[Key(key)] = *v;
}

void PutToken(json::object& o, const std::string& token) {
  if (!token.empty()) o["NextToken"] = token;
}

json::object RuleJson(const ev::Rule& r, bool describe) {
  json::object o;
  o["Name"] = r.name;
  o["Arn"] = r.arn;
  PutOpt(o, "EventPattern", r.event_pattern);
  PutOpt(o, "ScheduleExpression", r.schedule_expression);
  o["State"] = StateName(r.state);
  PutOpt(o, "Description", r.description);
  PutOpt(o, "RoleArn", r.role_arn);
  o["EventBusName"] = r.event_bus_name;
  if (describe) o["CreatedBy"] = r.created_by;
  return o;
}

json::object BusJson(const ev::EventBus& b) {
  json::object o;
  o["Name"] = b.name;
  o["Arn"] = b.arn;
  PutOpt(o, "Description", b.description);
  if (b.creation_time != absl::Time()) {
    o["CreationTime"] = ToEpochSeconds(b.creation_time);
    o["LastModifiedTime"] = ToEpochSeconds(b.last_modified_time);
  }
  return o;
}

json::object SourceJson(const ev::EventSource& s) {
  json::object o;
  o["Arn"] = s.arn;
  o["CreatedBy"] = s.created_by;
  o["CreationTime"] = ToEpochSeconds(s.creation_time);
  o["Name"] = s.name;
  o["State"] = SourceStateName(s.state);
  return o;
}

json::object TargetJson(const ev::Target& t) {
  json::object o;
  o["Id"] = t.id;
  o["Arn"] = t.arn;
  PutOpt(o, "RoleArn", t.role_arn);
  PutOpt(o, "Input", t.input);
  PutOpt(o, "InputPath", t.input_path);
  if (t.input_transformer) {
    json::object tr;
    if (!t.input_transformer->input_paths_map.empty()) {
      json::object m;
      for (const auto& [k, v] : t.input_transformer->input_paths_map) m[k] = v;
      tr["InputPathsMap"] = std::move(m);
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
    json::object headers, query;
    for (const auto& [k, v] : t.http_parameters->header_parameters) headers[k] = v;
    for (const auto& [k, v] : t.http_parameters->query_string_parameters) query[k] = v;
    if (!headers.empty()) hp["HeaderParameters"] = std::move(headers);
    if (!query.empty()) hp["QueryStringParameters"] = std::move(query);
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

absl::StatusOr<ev::Target> TargetFrom(const json::object& in) {
  ev::Target t;
  KLAXON_ASSIGN_OR_RETURN(t.id, String(in, "Id"));
  KLAXON_ASSIGN_OR_RETURN(t.arn, String(in, "Arn"));
  KLAXON_ASSIGN_OR_RETURN(t.role_arn, OptString(in, "RoleArn"));
  KLAXON_ASSIGN_OR_RETURN(t.input, OptString(in, "Input"));
  KLAXON_ASSIGN_OR_RETURN(t.input_path, OptString(in, "InputPath"));
  KLAXON_ASSIGN_OR_RETURN(const json::object* tr, OptObject(in, "InputTransformer"));
  if (tr) {
    ev::InputTransformer x;
    KLAXON_ASSIGN_OR_RETURN(x.input_paths_map, StringMap(*tr, "InputPathsMap"));
    KLAXON_ASSIGN_OR_RETURN(x.input_template, String(*tr, "InputTemplate"));
    t.input_transformer = std::move(x);
  }
  KLAXON_ASSIGN_OR_RETURN(const json::object* hp, OptObject(in, "HttpParameters"));
  if (hp) {
    ev::HttpParameters x;
    KLAXON_ASSIGN_OR_RETURN(x.path_parameter_values, StringList(*hp, "PathParameterValues"));
    KLAXON_ASSIGN_OR_RETURN(x.header_parameters, StringMap(*hp, "HeaderParameters"));
    KLAXON_ASSIGN_OR_RETURN(x.query_string_parameters, StringMap(*hp, "QueryStringParameters"));
    t.http_parameters = std::move(x);
  }
  KLAXON_ASSIGN_OR_RETURN(const json::object* rp, OptObject(in, "RetryPolicy"));
  if (rp) {
    KLAXON_ASSIGN_OR_RETURN(t.maximum_retry_attempts, OptInt(*rp, "MaximumRetryAttempts"));
    KLAXON_ASSIGN_OR_RETURN(t.maximum_event_age_in_seconds,
                            OptInt(*rp, "MaximumEventAgeInSeconds"));
  }
  KLAXON_ASSIGN_OR_RETURN(const json::object* dlq, OptObject(in, "DeadLetterConfig"));
  if (dlq) {
    KLAXON_ASSIGN_OR_RETURN(t.dead_letter_arn, OptString(*dlq, "Arn"));
  }
  return t;
}

absl::StatusOr<std::vector<ev::PutEventsEntry>> Entries(const json::object& in) {
  KLAXON_ASSIGN_OR_RETURN(const json::array* a, OptArray(in, "Entries"));
  std::vector<ev::PutEventsEntry> entries;
  if (!a) return entries;
  for (const auto& v : *a) {
    if (!v.is_object()) return TypeError("Entries", "a list of structures");
    const json::object& o = v.as_object();
    ev::PutEventsEntry e;
    if (const json::value* t = o.if_contains("Time"); t && t->is_number()) {
      e.time = FromEpochSeconds(t->to_number<double>());
    }
    KLAXON_ASSIGN_OR_RETURN(e.source, OptString(o, "Source"));
    KLAXON_ASSIGN_OR_RETURN(e.resources, StringList(o, "Resources"));
    KLAXON_ASSIGN_OR_RETURN(e.detail_type, OptString(o, "DetailType"));
    KLAXON_ASSIGN_OR_RETURN(e.detail, OptString(o, "Detail"));
    KLAXON_ASSIGN_OR_RETURN(e.event_bus_name, OptString(o, "EventBusName"));
    KLAXON_ASSIGN_OR_RETURN(e.trace_header, OptString(o, "TraceHeader"));
    entries.push_back(std::move(e));
  }
  return entries;
}

json::object ResultsJson(const std::vector<ev::PutEventsResult>& results) {
  json::array entries;
  int failed = 0;
  for (const auto& r : results) {
    json::object o;
    if (r.error_code.empty()) {
      o["EventId"] = r.event_id;
    } else {
      ++failed;
      o["ErrorCode"] = r.error_code;
      o["ErrorMessage"] = r.error_message;
    }
    entries.emplace_back(std::move(o));
  }
  return json::object{{"FailedEntryCount", failed}, {"Entries", std::move(entries)}};
}

json::object FailuresJson(const std::vector<ev::TargetFailure>& failures) {
  json::array a;
  for (const auto& f : failures) {
    a.emplace_back(json::object{
        {"TargetId", f.target_id}, {"ErrorCode", f.error_code}, {"ErrorMessage", f.error_message}});
  }
  return json::object{{"FailedEntryCount", static_cast<int>(failures.size())},
                      {"FailedEntries", std::move(a)}};
}

using Fn = std::function<absl::StatusOr<json::object>(const CallContext&, const json::object&)>;

}  // namespace

void RegisterEventsHandlers(OperationTable& table, ev::EventBusService& svc) {
  auto add = [&](const char* op, Fn fn) { table.Add("events", op, std::move(fn)); };

  // --- Event buses ---
  add("CreateEventBus",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(auto source, OptString(in, "EventSourceName"));
        KLAXON_ASSIGN_OR_RETURN(auto description, OptString(in, "Description"));
        KLAXON_ASSIGN_OR_RETURN(auto tags, Tags(in));
        KLAXON_ASSIGN_OR_RETURN(ev::EventBus bus,
                                svc.CreateEventBus(ScopeOf(ctx), name, source, description, tags));
        json::object out{{"EventBusArn", bus.arn}};
        PutOpt(out, "Description", bus.description);
        return out;
      });
  add("DescribeEventBus",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(ev::EventBus bus, svc.DescribeEventBus(ScopeOf(ctx), name));
        return BusJson(bus);
      });
  add("ListEventBuses",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string prefix, String(in, "NamePrefix"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        KLAXON_ASSIGN_OR_RETURN(auto page, svc.ListEventBuses(ScopeOf(ctx), prefix, limit, token));
        json::array buses;
        for (const auto& b : page.items) buses.emplace_back(BusJson(b));
        json::object out{{"EventBuses", std::move(buses)}};
        PutToken(out, page.next_token);
        return out;
      });
  add("DeleteEventBus",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_RETURN_IF_ERROR(svc.DeleteEventBus(ScopeOf(ctx), name));
        return json::object();
      });

  // --- Rules ---
  add("PutRule",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        ev::PutRuleRequest req;
        KLAXON_ASSIGN_OR_RETURN(req.name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(req.event_bus_name, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(req.event_pattern, OptString(in, "EventPattern"));
        KLAXON_ASSIGN_OR_RETURN(req.schedule_expression, OptString(in, "ScheduleExpression"));
        KLAXON_ASSIGN_OR_RETURN(auto state, OptString(in, "State"));
        if (state)
          req.state = *state == "DISABLED" ? ev::RuleState::kDisabled : ev::RuleState::kEnabled;
        KLAXON_ASSIGN_OR_RETURN(req.description, OptString(in, "Description"));
        KLAXON_ASSIGN_OR_RETURN(req.role_arn, OptString(in, "RoleArn"));
        KLAXON_ASSIGN_OR_RETURN(req.tags, Tags(in));
        KLAXON_ASSIGN_OR_RETURN(std::string arn, svc.PutRule(ScopeOf(ctx), req));
        return json::object{{"RuleArn", arn}};
      });
  add("DescribeRule",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(ev::Rule rule, svc.DescribeRule(ScopeOf(ctx), bus, name));
        return RuleJson(rule, /*describe=*/true);
      });
  add("ListRules",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(std::string prefix, String(in, "NamePrefix"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        KLAXON_ASSIGN_OR_RETURN(auto page, svc.ListRules(ScopeOf(ctx), bus, prefix, limit, token));
        json::array rules;
        for (const auto& r : page.items) rules.emplace_back(RuleJson(r, /*describe=*/false));
        json::object out{{"Rules", std::move(rules)}};
        PutToken(out, page.next_token);
        return out;
      });
  add("DeleteRule",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_RETURN_IF_ERROR(svc.DeleteRule(ScopeOf(ctx), bus, name));
        return json::object();
      });
  for (auto [op, state] : {std::pair{"EnableRule", ev::RuleState::kEnabled},
                           std::pair{"DisableRule", ev::RuleState::kDisabled}}) {
    add(op,
        [&svc, state = state](const CallContext& ctx,
                              const json::object& in) -> absl::StatusOr<json::object> {
          KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
          KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
          KLAXON_RETURN_IF_ERROR(svc.SetRuleState(ScopeOf(ctx), bus, name, state));
          return json::object();
        });
  }
  add("ListRuleNamesByTarget",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string target, String(in, "TargetArn"));
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        KLAXON_ASSIGN_OR_RETURN(auto page,
                                svc.ListRuleNamesByTarget(ScopeOf(ctx), bus, target, limit, token));
        json::array names;
        for (const auto& n : page.items) names.emplace_back(n);
        json::object out{{"RuleNames", std::move(names)}};
        PutToken(out, page.next_token);
        return out;
      });

  // --- Targets ---
  add("PutTargets",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string rule, String(in, "Rule"));
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(const json::array* list, OptArray(in, "Targets"));
        std::vector<ev::Target> targets;
        if (list) {
          for (const auto& t : *list) {
            if (!t.is_object()) return TypeError("Targets", "a list of Target");
            KLAXON_ASSIGN_OR_RETURN(ev::Target target, TargetFrom(t.as_object()));
            targets.push_back(std::move(target));
          }
        }
        KLAXON_ASSIGN_OR_RETURN(auto failures, svc.PutTargets(ScopeOf(ctx), bus, rule, targets));
        return FailuresJson(failures);
      });
  add("RemoveTargets",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string rule, String(in, "Rule"));
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(auto ids, StringList(in, "Ids"));
        KLAXON_ASSIGN_OR_RETURN(auto failures, svc.RemoveTargets(ScopeOf(ctx), bus, rule, ids));
        return FailuresJson(failures);
      });
  add("ListTargetsByRule",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string rule, String(in, "Rule"));
        KLAXON_ASSIGN_OR_RETURN(std::string bus, String(in, "EventBusName"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        KLAXON_ASSIGN_OR_RETURN(auto page,
                                svc.ListTargetsByRule(ScopeOf(ctx), bus, rule, limit, token));
        json::array targets;
        for (const auto& t : page.items) targets.emplace_back(TargetJson(t));
        json::object out{{"Targets", std::move(targets)}};
        PutToken(out, page.next_token);
        return out;
      });

  // --- Tags ---
  add("TagResource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string arn, String(in, "ResourceARN"));
        KLAXON_ASSIGN_OR_RETURN(auto tags, Tags(in));
        KLAXON_RETURN_IF_ERROR(svc.TagResource(ScopeOf(ctx), arn, tags));
        return json::object();
      });
  add("UntagResource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string arn, String(in, "ResourceARN"));
        KLAXON_ASSIGN_OR_RETURN(auto keys, StringList(in, "TagKeys"));
        KLAXON_RETURN_IF_ERROR(svc.UntagResource(ScopeOf(ctx), arn, keys));
        return json::object();
      });
  add("ListTagsForResource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string arn, String(in, "ResourceARN"));
        KLAXON_ASSIGN_OR_RETURN(auto tags, svc.ListTagsForResource(ScopeOf(ctx), arn));
        return json::object{{"Tags", TagsJson(tags)}};
      });

  // --- Events ---
  add("PutEvents",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(auto entries, Entries(in));
        KLAXON_ASSIGN_OR_RETURN(auto results, svc.PutEvents(ScopeOf(ctx), entries));
        return ResultsJson(results);
      });
  add("TestEventPattern",
      [&svc](const CallContext&, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string pattern, String(in, "EventPattern"));
        KLAXON_ASSIGN_OR_RETURN(std::string event, String(in, "Event"));
        KLAXON_ASSIGN_OR_RETURN(bool result, svc.TestEventPattern(pattern, event));
        return json::object{{"Result", result}};
      });

  // --- Partner event sources: partner side ---
  add("CreatePartnerEventSource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(std::string account, String(in, "Account"));
        KLAXON_ASSIGN_OR_RETURN(std::string arn,
                                svc.CreatePartnerEventSource(ScopeOf(ctx), name, account));
        return json::object{{"EventSourceArn", arn}};
      });
  add("DescribePartnerEventSource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(std::string arn,
                                svc.DescribePartnerEventSource(ScopeOf(ctx), name));
        return json::object{{"Arn", arn}, {"Name", name}};
      });
  add("ListPartnerEventSources",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string prefix, String(in, "NamePrefix"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        const ev::Scope scope = ScopeOf(ctx);
        KLAXON_ASSIGN_OR_RETURN(auto page,
                                svc.ListPartnerEventSources(scope, prefix, limit, token));
        json::array sources;
        for (const auto& name : page.items) {
          KLAXON_ASSIGN_OR_RETURN(std::string arn, svc.DescribePartnerEventSource(scope, name));
          sources.emplace_back(json::object{{"Arn", arn}, {"Name", name}});
        }
        json::object out{{"PartnerEventSources", std::move(sources)}};
        PutToken(out, page.next_token);
        return out;
      });
  add("ListPartnerEventSourceAccounts",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "EventSourceName"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        KLAXON_ASSIGN_OR_RETURN(
            auto page, svc.ListPartnerEventSourceAccounts(ScopeOf(ctx), name, limit, token));
        json::array accounts;
        for (const auto& a : page.items) {
          accounts.emplace_back(json::object{{"Account", a.account},
                                             {"CreationTime", ToEpochSeconds(a.creation_time)},
                                             {"State", SourceStateName(a.state)}});
        }
        json::object out{{"PartnerEventSourceAccounts", std::move(accounts)}};
        PutToken(out, page.next_token);
        return out;
      });
  add("DeletePartnerEventSource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(std::string account, String(in, "Account"));
        KLAXON_RETURN_IF_ERROR(svc.DeletePartnerEventSource(ScopeOf(ctx), name, account));
        return json::object();
      });
  add("PutPartnerEvents",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(auto entries, Entries(in));
        KLAXON_ASSIGN_OR_RETURN(auto results, svc.PutPartnerEvents(ScopeOf(ctx), entries));
        return ResultsJson(results);
      });

  // --- Partner event sources: customer side ---
  add("ListEventSources",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string prefix, String(in, "NamePrefix"));
        KLAXON_ASSIGN_OR_RETURN(auto limit, OptInt(in, "Limit"));
        KLAXON_ASSIGN_OR_RETURN(std::string token, String(in, "NextToken"));
        KLAXON_ASSIGN_OR_RETURN(auto page,
                                svc.ListEventSources(ScopeOf(ctx), prefix, limit, token));
        json::array sources;
        for (const auto& s : page.items) sources.emplace_back(SourceJson(s));
        json::object out{{"EventSources", std::move(sources)}};
        PutToken(out, page.next_token);
        return out;
      });
  add("DescribeEventSource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_ASSIGN_OR_RETURN(ev::EventSource s, svc.DescribeEventSource(ScopeOf(ctx), name));
        return SourceJson(s);
      });
  add("ActivateEventSource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_RETURN_IF_ERROR(svc.ActivateEventSource(ScopeOf(ctx), name));
        return json::object();
      });
  add("DeactivateEventSource",
      [&svc](const CallContext& ctx, const json::object& in) -> absl::StatusOr<json::object> {
        KLAXON_ASSIGN_OR_RETURN(std::string name, String(in, "Name"));
        KLAXON_RETURN_IF_ERROR(svc.DeactivateEventSource(ScopeOf(ctx), name));
        return json::object();
      });
}

}  // namespace klaxon::api::events
