#include "api/protocol/json_body.h"

#include "api/protocol/errors.h"
#include "boost/json/parser.hpp"

namespace klaxon::api::protocol {

absl::StatusOr<boost::json::object> ParseJsonObjectBody(std::string_view body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return boost::json::object();
  boost::json::parse_options options;
  options.max_depth = kMaxJsonDepth;
  boost::json::parser parser(boost::json::storage_ptr(), options);
  parser.reset();
  boost::system::error_code ec;
  parser.write(body.data(), body.size(), ec);
  if (ec) return SerializationError("Request body is not valid JSON: " + ec.message());
  boost::json::value value = parser.release();
  if (!value.is_object()) return SerializationError("Request body must be a JSON object");
  return std::move(value.get_object());
}

}  // namespace klaxon::api::protocol
