#pragma once
// Text-level helpers shared by the codecs: request-target splitting, percent-decoding, query
// strings, UTF-8 checks. Pure functions, thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace klaxon::api::protocol {

// Splits a request target into its raw path and raw query (without '?'). An absolute-form
// target ("http://host/p?q") yields its path; a fragment is dropped; an empty path becomes "/".
void SplitTarget(std::string_view target, std::string_view* path, std::string_view* query);

// Percent-decodes `in`. With `plus_is_space` (query strings and forms), '+' decodes to ' '.
// A '%' not followed by two hex digits is kept literally (as lenient servers do).
std::string PercentDecode(std::string_view in, bool plus_is_space);

// The name/value pairs of a raw query or form body, decoded, in order; repeated names are kept.
// A pair without '=' has an empty value.
std::vector<std::pair<std::string, std::string>> ParseQuery(std::string_view raw_query);

// True when `s` is well-formed UTF-8 (no overlongs, surrogates or values above U+10FFFF).
bool IsValidUtf8(std::string_view s);

// The service of the SigV4 credential scope (".../REGION/SERVICE/aws4_request") from the
// Authorization header or the presigned X-Amz-Credential query parameter; empty if none.
// Used only for routing; authentication parses and verifies the header on its own.
std::string CredentialScopeService(std::string_view authorization, std::string_view raw_query);

// ASCII case-insensitive prefix test.
bool StartsWithIgnoreCase(std::string_view s, std::string_view prefix);

}  // namespace klaxon::api::protocol
