#pragma once
// In-memory form of one botocore service model (service-2.json): the single source of truth for
// the wire. Codecs (api/protocol) and the validator (validator.h) are generic over it.
//
// Parse once at startup; a ServiceModel is immutable afterwards and safe to share between threads
// without locking. Shapes refer to each other by raw pointer into the same ServiceModel, so a
// ServiceModel is neither copyable nor movable (hold it by unique_ptr).
//
// What is kept: metadata, operations (HTTP binding, input/output/error shapes), shapes with every
// trait the codecs and validation use. Documentation is dropped.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"

namespace re2 {
class RE2;
}

namespace klaxon::api::model {

enum class ShapeType {
  kStructure,
  kList,
  kMap,
  kString,
  kInteger,  // 32-bit signed
  kLong,     // 64-bit signed
  kFloat,
  kDouble,
  kBoolean,
  kTimestamp,
  kBlob,
};

std::string_view ShapeTypeName(ShapeType type);

// Where a structure member travels in rest protocols. Everything is kBody for JSON-RPC/query.
enum class Location {
  kBody,
  kUri,          // a {label} of the request URI
  kQueryString,  // a query parameter (or, for a map member, all unbound ones)
  kHeader,       // one header
  kHeaders,      // a map of all headers with the locationName prefix
  kStatusCode,   // the HTTP status of a response
};

struct Shape;

struct Member {
  std::string name;  // the model's member name: the key handlers see
  const Shape* shape = nullptr;
  Location location = Location::kBody;
  std::string location_name;  // wire name (URI label, query key, header, JSON key); never empty
  bool required = false;      // listed in the parent's "required"
  bool idempotency_token = false;
  bool host_label = false;
  std::string timestamp_format;  // member-level override ("" = the shape's / protocol default)
};

struct Shape {
  std::string name;
  ShapeType type = ShapeType::kString;

  // Limits. For strings and blobs: length; for lists and maps: item count; for numbers: value.
  std::optional<double> min;
  std::optional<double> max;

  // Strings: regular expression (Java flavor in the model), compiled with RE2 and matched against
  // the whole value, as Java's String.matches in AWS's services (EventBridge refuses "my rule"
  // for `[\.\-_A-Za-z0-9]+`). `pattern_re` is null when the pattern is not RE2-compatible and
  // could not be translated (see README: then skipped).
  std::string pattern;
  std::shared_ptr<const re2::RE2> pattern_re;
  // A leading negative lookahead `^(?!X)` translated for RE2: the value must NOT match this.
  std::shared_ptr<const re2::RE2> pattern_not_re;

  std::vector<std::string> enum_values;  // strings only; empty = no enum

  // Lists: the item; maps: key and value. Their `name` is "member"/"key"/"value".
  std::unique_ptr<Member> list_member;
  std::unique_ptr<Member> map_key;
  std::unique_ptr<Member> map_value;

  // Structures: members in model order, and the lookup index by member name.
  std::vector<Member> members;
  absl::flat_hash_map<std::string, size_t> member_index;
  bool is_union = false;  // exactly one member must be set
  std::string payload;    // rest protocols: member bound to the whole body ("" = none)

  bool sensitive = false;  // values are redacted from error messages
  std::string timestamp_format;

  // Error shapes.
  bool exception = false;
  bool fault = false;         // server fault in the model ("fault": true)
  std::string error_code;     // "error.code" (query protocols), defaults to the shape name
  int http_status = 0;        // "error.httpStatusCode", 0 = not modeled
  bool sender_fault = false;  // "error.senderFault"

  // The structure member named `name`, or nullptr.
  const Member* FindMember(std::string_view name) const;
};

struct Operation {
  std::string name;
  std::string http_method = "POST";
  std::string request_uri = "/";
  int response_code = 200;
  const Shape* input = nullptr;   // may be null (no input)
  const Shape* output = nullptr;  // may be null (no output)
  std::string result_wrapper;     // query protocols: "<Op>Result" element
  std::vector<const Shape*> errors;
  bool idempotent = false;
};

struct ServiceMetadata {
  std::string protocol;  // "rest-json", "json", "query", ...
  std::string api_version;
  std::string endpoint_prefix;
  std::string signing_name;   // SigV4 credential-scope service; endpointPrefix when not modeled
  std::string target_prefix;  // JSON-RPC X-Amz-Target prefix ("AmazonSSM"); may be empty
  std::string json_version;   // "1.0" / "1.1"; may be empty
  std::string xml_namespace;  // query protocols
  std::string service_id;
  bool aws_query_compatible = false;
};

class ServiceModel {
 public:
  // Parses service-2.json text. `name` is the botocore service name (the folder name, e.g.
  // "ssm-incidents"). Errors: InvalidArgument when the text is not a well-formed model (bad JSON,
  // unknown shape type, reference to a missing shape). Patterns that RE2 cannot compile are not
  // errors: they are recorded in unsupported_patterns() and skipped by validation.
  static absl::StatusOr<std::unique_ptr<ServiceModel>> Parse(std::string_view name,
                                                             std::string_view json_text);

  ServiceModel(const ServiceModel&) = delete;
  ServiceModel& operator=(const ServiceModel&) = delete;

  const std::string& name() const { return name_; }
  const ServiceMetadata& metadata() const { return metadata_; }
  ServiceMetadata& mutable_metadata() { return metadata_; }  // for overrides, before sharing

  // nullptr when not modeled.
  const Operation* FindOperation(std::string_view name) const;
  const Shape* FindShape(std::string_view name) const;
  Shape* FindMutableShape(std::string_view name);  // for overrides, before sharing

  // Operations in model order.
  const std::vector<std::unique_ptr<Operation>>& operations() const { return operations_; }
  size_t shape_count() const { return shapes_.size(); }

  // "Shape: pattern" of every pattern that RE2 rejected (validation skips them).
  const std::vector<std::string>& unsupported_patterns() const { return unsupported_patterns_; }

  // Recompiles `shape`'s pattern (after an override changed it). Records it when unsupported.
  void CompilePattern(Shape& shape);

 private:
  ServiceModel() = default;

  std::string name_;
  ServiceMetadata metadata_;
  std::vector<std::unique_ptr<Shape>> shapes_;
  absl::flat_hash_map<std::string, Shape*> shape_index_;
  std::vector<std::unique_ptr<Operation>> operations_;
  absl::flat_hash_map<std::string, const Operation*> operation_index_;
  std::vector<std::string> unsupported_patterns_;
};

}  // namespace klaxon::api::model
