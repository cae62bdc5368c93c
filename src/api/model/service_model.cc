#include "api/model/service_model.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "boost/json/parse.hpp"
#include "boost/json/value.hpp"
#include "re2/re2.h"

namespace klaxon::api::model {
namespace {

namespace json = boost::json;

absl::Status Invalid(std::string_view model, std::string_view what) {
  std::string message =
      absl::StrCat("service model ", absl::string_view(model.data(), model.size()), ": ",
                   absl::string_view(what.data(), what.size()));
  return absl::InvalidArgumentError(message);
}

std::string GetString(const json::object& o, std::string_view key, std::string fallback = "") {
  const json::value* v = o.if_contains(key);
  if (v == nullptr || !v->is_string()) return fallback;
  return std::string(v->get_string());
}

bool GetBool(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}

std::optional<double> GetNumber(const json::object& o, std::string_view key) {
  const json::value* v = o.if_contains(key);
  if (v == nullptr) return std::nullopt;
  if (v->is_int64()) return static_cast<double>(v->get_int64());
  if (v->is_uint64()) return static_cast<double>(v->get_uint64());
  if (v->is_double()) return v->get_double();
  return std::nullopt;
}

std::optional<ShapeType> ParseShapeType(std::string_view type) {
  if (type == "structure") return ShapeType::kStructure;
  if (type == "list") return ShapeType::kList;
  if (type == "map") return ShapeType::kMap;
  if (type == "string") return ShapeType::kString;
  if (type == "integer") return ShapeType::kInteger;
  if (type == "long") return ShapeType::kLong;
  if (type == "float") return ShapeType::kFloat;
  if (type == "double") return ShapeType::kDouble;
  if (type == "boolean") return ShapeType::kBoolean;
  if (type == "timestamp") return ShapeType::kTimestamp;
  if (type == "blob") return ShapeType::kBlob;
  return std::nullopt;
}

Location ParseLocation(std::string_view location) {
  if (location == "uri") return Location::kUri;
  if (location == "querystring") return Location::kQueryString;
  if (location == "header") return Location::kHeader;
  if (location == "headers") return Location::kHeaders;
  if (location == "statusCode") return Location::kStatusCode;
  return Location::kBody;
}

// Splits a pattern of the form `^(?!X)REST` into ("^REST", "^(?:X)"). Returns false when the
// pattern has no leading negative lookahead or X itself uses a group construct RE2 lacks.
bool SplitLeadingNegativeLookahead(const std::string& pattern, std::string* positive,
                                   std::string* negative) {
  constexpr std::string_view kPrefix = "^(?!";
  if (pattern.compare(0, kPrefix.size(), kPrefix) != 0) return false;
  int depth = 1;
  bool in_class = false;
  size_t i = kPrefix.size();
  for (; i < pattern.size(); ++i) {
    char c = pattern[i];
    if (c == '\\') {
      ++i;
      continue;
    }
    if (in_class) {
      if (c == ']') in_class = false;
      continue;
    }
    if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      if (i + 1 < pattern.size() && pattern[i + 1] == '?') return false;
      ++depth;
    } else if (c == ')') {
      if (--depth == 0) break;
    }
  }
  if (depth != 0) return false;
  std::string inner = pattern.substr(kPrefix.size(), i - kPrefix.size());
  *positive = "^" + pattern.substr(i + 1);
  *negative = "^(?:" + inner + ")";
  return true;
}

std::shared_ptr<const re2::RE2> Compile(const std::string& pattern) {
  re2::RE2::Options options;
  options.set_log_errors(false);
  auto re = std::make_shared<re2::RE2>(pattern, options);
  if (!re->ok()) return nullptr;
  return re;
}

}  // namespace

std::string_view ShapeTypeName(ShapeType type) {
  switch (type) {
    case ShapeType::kStructure:
      return "structure";
    case ShapeType::kList:
      return "list";
    case ShapeType::kMap:
      return "map";
    case ShapeType::kString:
      return "string";
    case ShapeType::kInteger:
      return "integer";
    case ShapeType::kLong:
      return "long";
    case ShapeType::kFloat:
      return "float";
    case ShapeType::kDouble:
      return "double";
    case ShapeType::kBoolean:
      return "boolean";
    case ShapeType::kTimestamp:
      return "timestamp";
    case ShapeType::kBlob:
      return "blob";
  }
  return "unknown";
}

const Member* Shape::FindMember(std::string_view member_name) const {
  auto it = member_index.find(absl::string_view(member_name.data(), member_name.size()));
  return it == member_index.end() ? nullptr : &members[it->second];
}

const Operation* ServiceModel::FindOperation(std::string_view op) const {
  auto it = operation_index_.find(absl::string_view(op.data(), op.size()));
  return it == operation_index_.end() ? nullptr : it->second;
}

const Shape* ServiceModel::FindShape(std::string_view shape) const {
  auto it = shape_index_.find(absl::string_view(shape.data(), shape.size()));
  return it == shape_index_.end() ? nullptr : it->second;
}

Shape* ServiceModel::FindMutableShape(std::string_view shape) {
  auto it = shape_index_.find(absl::string_view(shape.data(), shape.size()));
  return it == shape_index_.end() ? nullptr : it->second;
}

void ServiceModel::CompilePattern(Shape& shape) {
  shape.pattern_re.reset();
  shape.pattern_not_re.reset();
  if (shape.pattern.empty()) return;
  shape.pattern_re = Compile(shape.pattern);
  if (shape.pattern_re != nullptr) return;
  std::string positive, negative;
  if (SplitLeadingNegativeLookahead(shape.pattern, &positive, &negative)) {
    auto pos = Compile(positive);
    auto neg = Compile(negative);
    if (pos != nullptr && neg != nullptr) {
      shape.pattern_re = std::move(pos);
      shape.pattern_not_re = std::move(neg);
      return;
    }
  }
  unsupported_patterns_.push_back(shape.name + ": " + shape.pattern);
}

absl::StatusOr<std::unique_ptr<ServiceModel>> ServiceModel::Parse(std::string_view name,
                                                                  std::string_view json_text) {
  json::parse_options options;
  options.max_depth = 128;
  boost::system::error_code ec;
  json::value root = json::parse(json::string_view(json_text.data(), json_text.size()), ec,
                                 json::storage_ptr(), options);
  if (ec) return Invalid(name, "not JSON: " + ec.message());
  if (!root.is_object()) return Invalid(name, "not a JSON object");
  const json::object& top = root.get_object();

  std::unique_ptr<ServiceModel> model(new ServiceModel());
  model->name_ = std::string(name);

  // Metadata.
  const json::value* meta_value = top.if_contains("metadata");
  if (meta_value == nullptr || !meta_value->is_object()) return Invalid(name, "no metadata");
  const json::object& meta = meta_value->get_object();
  ServiceMetadata& md = model->metadata_;
  md.protocol = GetString(meta, "protocol");
  md.api_version = GetString(meta, "apiVersion");
  md.endpoint_prefix = GetString(meta, "endpointPrefix");
  md.signing_name = GetString(meta, "signingName", md.endpoint_prefix);
  md.target_prefix = GetString(meta, "targetPrefix");
  md.json_version = GetString(meta, "jsonVersion");
  md.xml_namespace = GetString(meta, "xmlNamespace");
  md.service_id = GetString(meta, "serviceId");
  md.aws_query_compatible = meta.contains("awsQueryCompatible");
  if (md.protocol.empty()) return Invalid(name, "metadata has no protocol");

  // Shapes: create all first so that references resolve regardless of order.
  const json::value* shapes_value = top.if_contains("shapes");
  if (shapes_value == nullptr || !shapes_value->is_object()) return Invalid(name, "no shapes");
  const json::object& shapes = shapes_value->get_object();
  for (const auto& [shape_name, shape_value] : shapes) {
    if (!shape_value.is_object()) return Invalid(name, "shape is not an object");
    auto shape = std::make_unique<Shape>();
    shape->name = std::string(shape_name);
    auto type = ParseShapeType(GetString(shape_value.get_object(), "type"));
    if (!type) {
      return Invalid(name, "shape " + shape->name + " has an unknown type");
    }
    shape->type = *type;
    model->shape_index_[shape->name] = shape.get();
    model->shapes_.push_back(std::move(shape));
  }

  auto resolve_member = [&](const json::object& ref, std::string member_name,
                            Member* out) -> absl::Status {
    std::string target = GetString(ref, "shape");
    Shape* shape = model->FindMutableShape(target);
    if (shape == nullptr) return Invalid(name, "reference to unknown shape '" + target + "'");
    out->name = std::move(member_name);
    out->shape = shape;
    out->location = ParseLocation(GetString(ref, "location"));
    out->location_name = GetString(ref, "locationName", out->name);
    out->idempotency_token = GetBool(ref, "idempotencyToken");
    out->host_label = GetBool(ref, "hostLabel");
    out->timestamp_format = GetString(ref, "timestampFormat");
    return absl::OkStatus();
  };

  for (auto& shape_ptr : model->shapes_) {
    Shape& shape = *shape_ptr;
    const json::object& def = shapes.at(shape.name).get_object();
    shape.min = GetNumber(def, "min");
    shape.max = GetNumber(def, "max");
    shape.pattern = GetString(def, "pattern");
    shape.sensitive = GetBool(def, "sensitive");
    shape.timestamp_format = GetString(def, "timestampFormat");
    shape.is_union = GetBool(def, "union");
    shape.payload = GetString(def, "payload");
    shape.exception = GetBool(def, "exception");
    shape.fault = GetBool(def, "fault");
    if (const json::value* e = def.if_contains("enum"); e != nullptr && e->is_array()) {
      for (const json::value& v : e->get_array()) {
        if (v.is_string()) shape.enum_values.emplace_back(v.get_string());
      }
    }
    if (const json::value* e = def.if_contains("error"); e != nullptr && e->is_object()) {
      const json::object& error = e->get_object();
      shape.error_code = GetString(error, "code", shape.name);
      if (auto status = GetNumber(error, "httpStatusCode"))
        shape.http_status = static_cast<int>(*status);
      shape.sender_fault = GetBool(error, "senderFault");
    } else if (shape.exception) {
      shape.error_code = shape.name;
    }
    switch (shape.type) {
      case ShapeType::kList: {
        const json::value* ref = def.if_contains("member");
        if (ref == nullptr || !ref->is_object())
          return Invalid(name, shape.name + " has no member");
        shape.list_member = std::make_unique<Member>();
        if (auto s = resolve_member(ref->get_object(), "member", shape.list_member.get());
            !s.ok()) {
          return s;
        }
        break;
      }
      case ShapeType::kMap: {
        const json::value* key = def.if_contains("key");
        const json::value* value = def.if_contains("value");
        if (key == nullptr || !key->is_object() || value == nullptr || !value->is_object()) {
          return Invalid(name, shape.name + " has no key/value");
        }
        shape.map_key = std::make_unique<Member>();
        shape.map_value = std::make_unique<Member>();
        if (auto s = resolve_member(key->get_object(), "key", shape.map_key.get()); !s.ok())
          return s;
        if (auto s = resolve_member(value->get_object(), "value", shape.map_value.get()); !s.ok()) {
          return s;
        }
        break;
      }
      case ShapeType::kStructure: {
        const json::value* members = def.if_contains("members");
        if (members != nullptr && members->is_object()) {
          shape.members.reserve(members->get_object().size());
          for (const auto& [member_name, ref] : members->get_object()) {
            if (!ref.is_object()) return Invalid(name, shape.name + " has a malformed member");
            Member member;
            if (auto s = resolve_member(ref.get_object(), std::string(member_name), &member);
                !s.ok()) {
              return s;
            }
            shape.member_index[member.name] = shape.members.size();
            shape.members.push_back(std::move(member));
          }
        }
        if (const json::value* req = def.if_contains("required");
            req != nullptr && req->is_array()) {
          for (const json::value& r : req->get_array()) {
            if (!r.is_string()) continue;
            auto it = shape.member_index.find(
                absl::string_view(r.get_string().data(), r.get_string().size()));
            if (it == shape.member_index.end()) {
              return Invalid(name, shape.name + " requires an unknown member");
            }
            shape.members[it->second].required = true;
          }
        }
        break;
      }
      default:
        break;
    }
    model->CompilePattern(shape);
  }

  // Operations.
  if (const json::value* ops = top.if_contains("operations"); ops != nullptr && ops->is_object()) {
    for (const auto& [op_name, op_value] : ops->get_object()) {
      if (!op_value.is_object()) return Invalid(name, "operation is not an object");
      const json::object& def = op_value.get_object();
      auto op = std::make_unique<Operation>();
      op->name = GetString(def, "name", std::string(op_name));
      if (const json::value* http = def.if_contains("http"); http != nullptr && http->is_object()) {
        op->http_method = GetString(http->get_object(), "method", "POST");
        op->request_uri = GetString(http->get_object(), "requestUri", "/");
        if (auto code = GetNumber(http->get_object(), "responseCode")) {
          op->response_code = static_cast<int>(*code);
        }
      }
      op->idempotent = GetBool(def, "idempotent");
      for (std::string_view key : {std::string_view("input"), std::string_view("output")}) {
        const json::value* ref = def.if_contains(key);
        if (ref == nullptr || !ref->is_object()) continue;
        std::string target = GetString(ref->get_object(), "shape");
        const Shape* shape = model->FindShape(target);
        if (shape == nullptr) return Invalid(name, op->name + " refers to unknown " + target);
        if (key == "input") {
          op->input = shape;
        } else {
          op->output = shape;
          op->result_wrapper = GetString(ref->get_object(), "resultWrapper");
        }
      }
      if (const json::value* errors = def.if_contains("errors");
          errors != nullptr && errors->is_array()) {
        for (const json::value& e : errors->get_array()) {
          if (!e.is_object()) continue;
          const Shape* shape = model->FindShape(GetString(e.get_object(), "shape"));
          if (shape != nullptr) op->errors.push_back(shape);
        }
      }
      model->operation_index_[op->name] = op.get();
      model->operations_.push_back(std::move(op));
    }
  }
  return model;
}

}  // namespace klaxon::api::model
