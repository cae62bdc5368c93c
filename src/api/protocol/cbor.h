#pragma once
// Minimal CBOR (RFC 8949) reading and writing for Smithy RPC v2 CBOR, to and from the JSON object
// form handlers use (api/operation.h). Hand-written rather than libcbor so that decoding of
// untrusted input is bounded: recursion stops at kMaxJsonDepth, and no length is trusted beyond
// the bytes actually present.
//
// Decoding: unsigned/negative integers → int64 (uint64 above INT64_MAX), byte strings → base64
// text (the JSON form of blobs), text strings (UTF-8 checked), arrays, maps with text keys,
// tag 1 (epoch-seconds timestamp) → its number, other tags → their content, false/true/null/
// undefined (→ null), half/single/double floats → double. Definite and indefinite lengths.
// Encoding is guided by the model shape: timestamps as tag 1 + float64, blobs as byte strings,
// doubles as float64, integers in the shortest form, definite lengths.

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "api/model/service_model.h"
#include "boost/json/value.hpp"

namespace klaxon::api::protocol {

// Decodes exactly one CBOR data item filling all of `data`. Errors: InvalidArgument with type
// SerializationException (malformed, truncated, trailing bytes, too deep, non-text map key).
absl::StatusOr<boost::json::value> DecodeCbor(std::string_view data);

// Appends the CBOR encoding of `value` as `shape` (nullptr: generic, by JSON type) to `out`.
void EncodeCbor(const boost::json::value& value, const model::Shape* shape, std::string* out);

// Base64 (standard alphabet, padded) helpers for blobs.
std::string Base64Encode(std::string_view bytes);
// Accepts the standard and URL-safe alphabets, with or without padding; false on bad input.
bool Base64Decode(std::string_view text, std::string* bytes);

}  // namespace klaxon::api::protocol
