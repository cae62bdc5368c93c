#include "api/protocol/query.h"

#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api/model/validator.h"
#include "api/protocol/errors.h"
#include "api/protocol/json_body.h"
#include "api/protocol/scalar_text.h"
#include "api/protocol/wire_text.h"
#include "common/status.h"

namespace klaxon::api::protocol {
namespace {

namespace json = boost::json;
using model::Member;
using model::Shape;
using model::ShapeType;

// A flattened form key ("A.member.1.B") split on '.' into a tree.
struct Node {
  std::optional<std::string> value;
  std::map<std::string, Node, std::less<>> children;

  const Node* Child(std::string_view name) const {
    auto it = children.find(name);
    return it == children.end() ? nullptr : &it->second;
  }
};

constexpr size_t kMaxKeyComponents = 64;

absl::Status Insert(Node& root, std::string_view key, std::string value) {
  Node* node = &root;
  size_t components = 0;
  while (true) {
    size_t dot = key.find('.');
    std::string_view part = key.substr(0, dot);
    if (++components > kMaxKeyComponents) {
      return SerializationError("Parameter name has too many components");
    }
    node = &node->children[std::string(part)];
    if (dot == std::string_view::npos) break;
    key = key.substr(dot + 1);
  }
  if (!node->value) node->value = std::move(value);
  return absl::OkStatus();
}

// The numbered children ("1", "2", ...) of `node`, in index order.
absl::StatusOr<std::vector<const Node*>> Indexed(const Node& node, std::string_view what) {
  std::vector<std::pair<int, const Node*>> items;
  for (const auto& [name, child] : node.children) {
    int index = 0;
    if (!absl::SimpleAtoi(absl::string_view(name.data(), name.size()), &index) || index < 1 ||
        index > kMaxQueryListIndex) {
      return SerializationError(absl::StrCat("Invalid index '", name, "' in ",
                                             absl::string_view(what.data(), what.size())));
    }
    items.emplace_back(index, &child);
  }
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<const Node*> out;
  out.reserve(items.size());
  for (const auto& [index, child] : items) out.push_back(child);
  return out;
}

const std::string& NameOr(const Member* member, const std::string& fallback) {
  return member != nullptr && member->location_name != member->name ? member->location_name
                                                                    : fallback;
}

// Decodes `node` as `shape`; nullopt when it carries nothing.
absl::StatusOr<std::optional<json::value>> Decode(const Shape& shape, const Node& node,
                                                  const std::string& path, int depth) {
  if (depth > kMaxJsonDepth) return SerializationError("Parameters are nested too deeply");
  switch (shape.type) {
    case ShapeType::kStructure: {
      json::object object;
      for (const Member& m : shape.members) {
        const Node* child = node.Child(m.location_name);
        if (child == nullptr) continue;
        KLAXON_ASSIGN_OR_RETURN(std::optional<json::value> v,
                                Decode(*m.shape, *child, path + "." + m.location_name, depth + 1));
        if (v) object[m.name] = std::move(*v);
      }
      return std::optional<json::value>(std::move(object));
    }
    case ShapeType::kList: {
      json::array array;
      static const std::string kMember = "member";
      const Node* items = node.Child(NameOr(shape.list_member.get(), kMember));
      if (items != nullptr) {
        KLAXON_ASSIGN_OR_RETURN(std::vector<const Node*> indexed, Indexed(*items, path));
        for (const Node* item : indexed) {
          KLAXON_ASSIGN_OR_RETURN(std::optional<json::value> v,
                                  Decode(*shape.list_member->shape, *item, path, depth + 1));
          if (v) array.push_back(std::move(*v));
        }
      }
      return std::optional<json::value>(std::move(array));
    }
    case ShapeType::kMap: {
      json::object object;
      static const std::string kKey = "key";
      static const std::string kValue = "value";
      const Node* entries = node.Child("entry");
      if (entries != nullptr) {
        KLAXON_ASSIGN_OR_RETURN(std::vector<const Node*> indexed, Indexed(*entries, path));
        const std::string& key_name = NameOr(shape.map_key.get(), kKey);
        const std::string& value_name = NameOr(shape.map_value.get(), kValue);
        for (const Node* entry : indexed) {
          const Node* key = entry->Child(key_name);
          const Node* value = entry->Child(value_name);
          if (key == nullptr || !key->value || value == nullptr) continue;
          KLAXON_ASSIGN_OR_RETURN(std::optional<json::value> v,
                                  Decode(*shape.map_value->shape, *value, path, depth + 1));
          if (v) object[*key->value] = std::move(*v);
        }
      }
      return std::optional<json::value>(std::move(object));
    }
    default:
      if (!node.value) return std::optional<json::value>();
      if (!IsValidUtf8(*node.value)) {
        return SerializationError("Value of '" + path.substr(1) + "' is not valid UTF-8");
      }
      return std::optional<json::value>(ScalarFromText(shape, *node.value, false));
  }
}

void WriteXml(const Shape& shape, const json::value& value, std::string* out, int depth);

void WriteElement(const std::string& name, const Shape& shape, const json::value& value,
                  std::string* out, int depth) {
  *out += '<';
  *out += name;
  *out += '>';
  WriteXml(shape, value, out, depth);
  *out += "</";
  *out += name;
  *out += '>';
}

void WriteXml(const Shape& shape, const json::value& value, std::string* out, int depth) {
  if (depth > 100) return;
  switch (shape.type) {
    case ShapeType::kStructure: {
      if (!value.is_object()) return;
      const json::object& object = value.get_object();
      for (const Member& m : shape.members) {
        const json::value* v = object.if_contains(m.name);
        if (v == nullptr || v->is_null()) continue;
        WriteElement(m.location_name, *m.shape, *v, out, depth + 1);
      }
      return;
    }
    case ShapeType::kList: {
      if (!value.is_array()) return;
      static const std::string kMember = "member";
      const std::string& name = NameOr(shape.list_member.get(), kMember);
      for (const json::value& item : value.get_array()) {
        WriteElement(name, *shape.list_member->shape, item, out, depth + 1);
      }
      return;
    }
    case ShapeType::kMap: {
      if (!value.is_object()) return;
      static const std::string kKey = "key";
      static const std::string kValue = "value";
      const std::string& key_name = NameOr(shape.map_key.get(), kKey);
      const std::string& value_name = NameOr(shape.map_value.get(), kValue);
      for (const auto& [k, v] : value.get_object()) {
        *out += "<entry><";
        *out += key_name;
        *out += '>';
        AppendXmlEscaped(std::string_view(k.data(), k.size()), out);
        *out += "</";
        *out += key_name;
        *out += '>';
        WriteElement(value_name, *shape.map_value->shape, v, out, depth + 1);
        *out += "</entry>";
      }
      return;
    }
    default:
      AppendXmlEscaped(ScalarToText(value, shape, TimestampText::kIso8601), out);
  }
}

}  // namespace

absl::StatusOr<const model::Operation*> QueryCodec::ResolveOperation(
    const HttpRequest& request, const model::ServiceModel& service,
    std::string_view operation_hint) const {
  std::string action(operation_hint);
  if (action.empty()) {
    std::string_view path, query;
    SplitTarget(request.target, &path, &query);
    for (auto& [name, value] : ParseQuery(query)) {
      if (name == "Action") {
        action = value;
        break;
      }
    }
  }
  const model::Operation* op = service.FindOperation(action);
  if (op != nullptr) return op;
  if (action.empty()) return UnknownOperationError("Missing Action");
  return UnknownOperationError("Could not find operation " + action);
}

absl::StatusOr<json::object> QueryCodec::DecodeInput(const HttpRequest& request,
                                                     const model::ServiceModel& /*service*/,
                                                     const model::Operation& op) const {
  if (op.input == nullptr) return json::object();
  Node root;
  std::string_view path, query;
  SplitTarget(request.target, &path, &query);
  for (std::string_view source : {std::string_view(request.body), query}) {
    for (auto& [name, value] : ParseQuery(source)) {
      if (name == "Action" || name == "Version") continue;
      KLAXON_RETURN_IF_ERROR(Insert(root, name, std::move(value)));
    }
  }
  KLAXON_ASSIGN_OR_RETURN(std::optional<json::value> decoded, Decode(*op.input, root, "", 0));
  json::value value = decoded ? std::move(*decoded) : json::value(json::object());
  model::ValidationOptions options;
  options.lower_camel_paths = true;
  KLAXON_RETURN_IF_ERROR(model::ValidateInput(*op.input, value, options));
  return std::move(value.get_object());
}

void QueryCodec::EncodeOutput(const model::ServiceModel& service, const model::Operation& op,
                              json::object output, const std::string& request_id,
                              HttpResponse* response) const {
  response->status = 200;
  std::string xml = "<" + op.name + "Response";
  if (!service.metadata().xml_namespace.empty()) {
    xml += " xmlns=\"";
    AppendXmlEscaped(service.metadata().xml_namespace, &xml);
    xml += "\"";
  }
  xml += ">";
  if (op.output != nullptr) {
    json::value value = std::move(output);
    model::ShapeOutput(*op.output, value);
    std::string wrapper = op.result_wrapper.empty() ? op.name + "Result" : op.result_wrapper;
    WriteElement(wrapper, *op.output, value, &xml, 0);
  }
  xml += "<ResponseMetadata><RequestId>";
  AppendXmlEscaped(request_id, &xml);
  xml += "</RequestId></ResponseMetadata></" + op.name + "Response>";
  response->body = std::move(xml);
  response->SetHeader("Content-Type", "text/xml");
}

void QueryCodec::EncodeError(const absl::Status& status, const model::ServiceModel* service,
                             const std::string& request_id, HttpResponse* response) const {
  EncodeStatus(status, service, Protocol::kAwsQuery, request_id, response);
}

}  // namespace klaxon::api::protocol
