#include "api/protocol/rest_json.h"

#include <string>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "api/model/validator.h"
#include "api/protocol/errors.h"
#include "api/protocol/json_body.h"
#include "api/protocol/scalar_text.h"
#include "api/protocol/wire_text.h"
#include "boost/json/serialize.hpp"
#include "common/status.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using model::Location;
using model::Member;
using model::Shape;
using model::ShapeType;

absl::string_view AbslView(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> out;
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view segment = path.substr(0, slash);
    if (!segment.empty()) out.push_back(segment);
    if (slash == std::string_view::npos) break;
    path = path.substr(slash + 1);
  }
  return out;
}

bool IsScalar(const Shape& shape) {
  return shape.type != ShapeType::kStructure && shape.type != ShapeType::kList &&
         shape.type != ShapeType::kMap;
}

std::string TrimmedCopy(std::string_view s) {
  return std::string(absl::StripAsciiWhitespace(AbslView(s)));
}

}  // namespace

struct RestJsonCodec::Route {
  enum class Kind { kLiteral, kLabel, kGreedy };
  struct Segment {
    Kind kind;
    std::string text;  // literal text or label name
  };
  const model::Operation* op = nullptr;
  std::vector<Segment> segments;
  std::vector<std::string> required_query;  // literal "key" or "key=value" from the requestUri
  int literals = 0;

  // Matches decoded path segments; fills `labels` (label name → decoded value).
  bool Match(const std::vector<std::string>& path,
             std::vector<std::pair<std::string, std::string>>* labels) const {
    labels->clear();
    size_t i = 0;
    for (const Segment& s : segments) {
      if (s.kind == Kind::kGreedy) {
        if (i >= path.size()) return false;
        std::string joined;
        for (; i < path.size(); ++i) {
          if (!joined.empty()) joined += '/';
          joined += path[i];
        }
        labels->emplace_back(s.text, std::move(joined));
        return true;
      }
      if (i >= path.size()) return false;
      if (s.kind == Kind::kLiteral) {
        if (path[i] != s.text) return false;
      } else {
        labels->emplace_back(s.text, path[i]);
      }
      ++i;
    }
    return i == path.size();
  }

  bool QueryMatches(const std::vector<std::pair<std::string, std::string>>& query) const {
    for (const std::string& required : required_query) {
      size_t eq = required.find('=');
      std::string key = required.substr(0, eq);
      bool found = false;
      for (const auto& [k, v] : query) {
        if (k == key && (eq == std::string::npos || v == required.substr(eq + 1))) {
          found = true;
          break;
        }
      }
      if (!found) return false;
    }
    return true;
  }
};

namespace {

// Splits, then decodes: a %2F inside a segment stays inside it.
std::vector<std::string> DecodedSegments(std::string_view raw_path) {
  std::vector<std::string> out;
  for (std::string_view s : SplitPath(raw_path)) out.push_back(PercentDecode(s, false));
  return out;
}

}  // namespace

RestJsonCodec::RestJsonCodec(const model::ModelRegistry& registry) {
  for (const auto& service : registry.services()) {
    if (service->metadata().protocol != "rest-json") continue;
    std::vector<Route>& routes = routes_[service.get()];
    for (const auto& op : service->operations()) {
      Route route;
      route.op = op.get();
      std::string_view uri = op->request_uri;
      size_t q = uri.find('?');
      if (q != std::string_view::npos) {
        for (auto& [k, v] : ParseQuery(uri.substr(q + 1))) {
          route.required_query.push_back(v.empty() ? k : k + "=" + v);
        }
        uri = uri.substr(0, q);
      }
      for (std::string_view s : SplitPath(uri)) {
        if (s.size() >= 2 && s.front() == '{' && s.back() == '}') {
          std::string_view name = s.substr(1, s.size() - 2);
          bool greedy = !name.empty() && name.back() == '+';
          if (greedy) name.remove_suffix(1);
          route.segments.push_back(
              {greedy ? Route::Kind::kGreedy : Route::Kind::kLabel, std::string(name)});
        } else {
          route.segments.push_back({Route::Kind::kLiteral, PercentDecode(s, false)});
          ++route.literals;
        }
      }
      routes.push_back(std::move(route));
    }
  }
}

RestJsonCodec::~RestJsonCodec() = default;

absl::StatusOr<const model::Operation*> RestJsonCodec::ResolveOperation(
    const HttpRequest& request, const model::ServiceModel& service,
    std::string_view /*operation_hint*/) const {
  std::string_view raw_path, raw_query;
  SplitTarget(request.target, &raw_path, &raw_query);
  auto it = routes_.find(&service);
  if (it != routes_.end()) {
    std::vector<std::string> path = DecodedSegments(raw_path);
    std::vector<std::pair<std::string, std::string>> query;
    bool query_parsed = false;
    const Route* best = nullptr;
    std::vector<std::pair<std::string, std::string>> labels;
    for (const Route& route : it->second) {
      if (route.op->http_method != request.method) continue;
      if (!route.Match(path, &labels)) continue;
      if (!route.required_query.empty()) {
        if (!query_parsed) {
          query = ParseQuery(raw_query);
          query_parsed = true;
        }
        if (!route.QueryMatches(query)) continue;
      }
      if (best == nullptr || route.literals + static_cast<int>(route.required_query.size()) >
                                 best->literals + static_cast<int>(best->required_query.size())) {
        best = &route;
      }
    }
    if (best != nullptr) return best->op;
  }
  return UnknownOperationError(
      absl::StrCat("No operation matches ", AbslView(request.method), " ", AbslView(raw_path)));
}

absl::StatusOr<json::object> RestJsonCodec::DecodeInput(const HttpRequest& request,
                                                        const model::ServiceModel& service,
                                                        const model::Operation& op) const {
  if (op.input == nullptr) return json::object();
  const Shape& input = *op.input;

  std::string_view raw_path, raw_query;
  SplitTarget(request.target, &raw_path, &raw_query);

  // Body.
  json::value value = json::object();
  const Member* payload = input.payload.empty() ? nullptr : input.FindMember(input.payload);
  if (payload != nullptr) {
    if (payload->shape->type == ShapeType::kStructure) {
      KLAXON_ASSIGN_OR_RETURN(json::object body, ParseJsonObjectBody(request.body));
      if (!body.empty() || !request.body.empty()) {
        value.get_object()[payload->name] = std::move(body);
      }
    } else if (!request.body.empty()) {
      value.get_object()[payload->name] = request.body;
    }
  } else {
    KLAXON_ASSIGN_OR_RETURN(json::object body, ParseJsonObjectBody(request.body));
    value = std::move(body);
  }
  json::object& object = value.get_object();

  // Bound members. Values from the body for bound members are ignored.
  std::vector<std::pair<std::string, std::string>> labels;
  bool have_labels = false;
  std::vector<std::pair<std::string, std::string>> query;
  bool have_query = false;
  auto check_utf8 = [](std::string_view text, const Member& m) -> absl::Status {
    if (IsValidUtf8(text)) return absl::OkStatus();
    return SerializationError("Value for '" + m.name + "' is not valid UTF-8");
  };

  for (const Member& m : input.members) {
    if (m.location == Location::kBody || &m == payload) continue;
    object.erase(m.name);
    switch (m.location) {
      case Location::kUri: {
        if (!have_labels) {
          have_labels = true;
          auto it = routes_.find(&service);
          if (it != routes_.end()) {
            std::vector<std::string> path = DecodedSegments(raw_path);
            for (const Route& route : it->second) {
              if (route.op == &op && route.Match(path, &labels)) break;
              labels.clear();
            }
          }
        }
        for (const auto& [name, text] : labels) {
          if (name != m.location_name) continue;
          KLAXON_RETURN_IF_ERROR(check_utf8(text, m));
          object[m.name] = ScalarFromText(*m.shape, text, false);
        }
        break;
      }
      case Location::kQueryString: {
        if (!have_query) {
          have_query = true;
          query = ParseQuery(raw_query);
        }
        if (m.shape->type == ShapeType::kMap) {
          // All parameters no other member binds.
          json::object map;
          const Shape& value_shape = *m.shape->map_value->shape;
          for (const auto& [k, v] : query) {
            bool bound = false;
            for (const Member& other : input.members) {
              if (other.location == Location::kQueryString && &other != &m &&
                  other.location_name == k) {
                bound = true;
                break;
              }
            }
            if (bound) continue;
            KLAXON_RETURN_IF_ERROR(check_utf8(k, m));
            KLAXON_RETURN_IF_ERROR(check_utf8(v, m));
            if (value_shape.type == ShapeType::kList) {
              json::value& slot = map[k];
              if (!slot.is_array()) slot = json::array();
              slot.get_array().push_back(ScalarFromText(*value_shape.list_member->shape, v, false));
            } else if (!map.contains(k)) {
              map[k] = ScalarFromText(value_shape, v, false);
            }
          }
          if (!map.empty()) object[m.name] = std::move(map);
          break;
        }
        json::array values;
        for (const auto& [k, v] : query) {
          if (k != m.location_name) continue;
          KLAXON_RETURN_IF_ERROR(check_utf8(v, m));
          if (m.shape->type == ShapeType::kList) {
            values.push_back(ScalarFromText(*m.shape->list_member->shape, v, false));
          } else {
            values.push_back(ScalarFromText(*m.shape, v, false));
            break;  // a scalar takes the first occurrence
          }
        }
        if (values.empty()) break;
        if (m.shape->type == ShapeType::kList) {
          object[m.name] = std::move(values);
        } else {
          object[m.name] = std::move(values[0]);
        }
        break;
      }
      case Location::kHeader: {
        if (!request.HasHeader(m.location_name)) break;
        std::string_view text = request.Header(m.location_name);
        KLAXON_RETURN_IF_ERROR(check_utf8(text, m));
        if (m.shape->type == ShapeType::kList) {
          json::array items;
          std::string_view rest = text;
          while (true) {
            size_t comma = rest.find(',');
            std::string item = TrimmedCopy(rest.substr(0, comma));
            if (!item.empty())
              items.push_back(ScalarFromText(*m.shape->list_member->shape, item, true));
            if (comma == std::string_view::npos) break;
            rest = rest.substr(comma + 1);
          }
          object[m.name] = std::move(items);
        } else if (IsScalar(*m.shape)) {
          object[m.name] = ScalarFromText(*m.shape, text, true);
        }
        break;
      }
      case Location::kHeaders: {
        if (m.shape->type != ShapeType::kMap) break;
        json::object map;
        for (const auto& [name, text] : request.headers) {
          if (!StartsWithIgnoreCase(name, m.location_name)) continue;
          KLAXON_RETURN_IF_ERROR(check_utf8(text, m));
          std::string key = name.substr(m.location_name.size());
          map[key] = ScalarFromText(*m.shape->map_value->shape, text, true);
        }
        if (!map.empty()) object[m.name] = std::move(map);
        break;
      }
      default:
        break;
    }
  }

  KLAXON_RETURN_IF_ERROR(model::ValidateInput(input, value));
  return std::move(value.get_object());
}

void RestJsonCodec::EncodeOutput(const model::ServiceModel& /*service*/, const model::Operation& op,
                                 json::object output, const std::string& /*request_id*/,
                                 HttpResponse* response) const {
  response->status = op.response_code;
  json::value value = std::move(output);
  const Shape* shape = op.output;
  const Member* payload = nullptr;
  if (shape != nullptr) {
    model::ShapeOutput(*shape, value);
    json::object& object = value.get_object();
    payload = shape->payload.empty() ? nullptr : shape->FindMember(shape->payload);
    for (const Member& m : shape->members) {
      if (m.location == Location::kBody || &m == payload) continue;
      json::value* v = object.if_contains(m.name);
      if (v == nullptr) continue;
      if (m.location == Location::kHeader) {
        if (v->is_array()) {
          std::string joined;
          for (const json::value& item : v->get_array()) {
            if (!joined.empty()) joined += ", ";
            joined += ScalarToText(item, *m.shape->list_member->shape, TimestampText::kHttpDate);
          }
          response->SetHeader(m.location_name, joined);
        } else {
          response->SetHeader(m.location_name,
                              ScalarToText(*v, *m.shape, TimestampText::kHttpDate));
        }
      } else if (m.location == Location::kHeaders && v->is_object()) {
        for (const auto& [k, hv] : v->get_object()) {
          response->SetHeader(
              m.location_name + std::string(k),
              ScalarToText(hv, *m.shape->map_value->shape, TimestampText::kHttpDate));
        }
      } else if (m.location == Location::kStatusCode && v->is_int64()) {
        response->status = static_cast<int>(v->get_int64());
      }
      object.erase(m.name);
    }
  }
  if (payload != nullptr) {
    json::value* v = value.get_object().if_contains(payload->name);
    if (v == nullptr) {
      response->body.clear();
    } else if (v->is_string()) {
      response->body = std::string(v->get_string());
    } else {
      response->body = json::serialize(*v);
      response->SetHeader("Content-Type", "application/json");
    }
    return;
  }
  if (response->status == 204) {
    response->body.clear();
    return;
  }
  response->body = json::serialize(value);
  response->SetHeader("Content-Type", "application/json");
}

void RestJsonCodec::EncodeError(const absl::Status& status, const model::ServiceModel* service,
                                const std::string& request_id, HttpResponse* response) const {
  EncodeStatus(status, service, Protocol::kRestJson, request_id, response);
}

}  // namespace klaxon::api::protocol
