#pragma once
// Identifier generation. Thread-safe; backed by a per-thread CSPRNG-seeded generator.

#include <cstddef>
#include <string>

namespace klaxon {

// 36-char lower-hex id in 8-4-4-4-12 form (incident, replication set, timeline event ids; request ids).
std::string NewUuid();
// `n` random lower-hex characters.
std::string RandomHex(size_t n);
// `n` random upper-hex characters (related-item generated ids).
std::string RandomUpperHex(size_t n);

}  // namespace klaxon
