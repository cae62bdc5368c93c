#pragma once
// Identifier generation. Thread-safe; backed by a per-thread CSPRNG-seeded generator.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace klaxon {

// 36-char lower-hex id in 8-4-4-4-12 form (incident, replication set, timeline event ids; request
// ids).
std::string NewUuid();
// `n` random lower-hex characters.
std::string RandomHex(size_t n);
// `n` random upper-hex characters (related-item generated ids).
std::string RandomUpperHex(size_t n);

// `v` as 16 lower-hex digits, zero-padded: keys whose byte order is their numeric order.
std::string Hex16(uint64_t v);
// The inverse of Hex16: nullopt unless `s` is exactly 16 lower-hex digits.
std::optional<uint64_t> ParseHex16(std::string_view s);

}  // namespace klaxon
