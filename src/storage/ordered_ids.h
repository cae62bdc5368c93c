#pragma once
// Identifiers whose byte order follows their creation order, for records keyed by a generated id.
//
// Why. Every backend keeps rows in one ordered index (SQLite: a B-tree on (table, account, id)).
// Rows inserted under random ids land on random leaf pages: each insert dirties a different page,
// so a group commit of N inserts writes ~N pages to the WAL (and later to the database file) and
// the pages touched by one batch are rarely still cached for the next. Rows inserted under
// increasing ids land on the rightmost leaf of their range: a batch fills a page or two. Measured
// on StartIncident (10 rows per incident) this is a factor of several in bytes written per commit.
//
// Both generators are strictly increasing within one process (an atomic counter breaks ties in the
// same millisecond and absorbs a wall clock that steps back), and include the wall-clock time in
// milliseconds, so ids of a restarted process continue after those of the previous one unless the
// clock went back. They are unique within a process; across processes they carry random bits
// (NewOrderedUuid) or must be checked against the store (NewOrderedHex48: callers that need
// uniqueness across processes look the id up and draw another on a collision, as for random ids).
// They are not secret and not unpredictable: never use them as credentials.
//
// Thread-safety: thread-safe.

#include <cstdint>
#include <string>

namespace klaxon::storage {

// A UUID in the 8-4-4-4-12 lower-hex form with the layout of RFC 9562 version 7: 48 bits of Unix
// time in milliseconds, version 7, a 12-bit sequence that increases within the millisecond,
// the RFC variant, and 62 random bits.
std::string NewOrderedUuid();

// 12 lower-hex characters (48 bits): milliseconds since 2024-01-01T00:00:00Z shifted left by 8,
// plus a sequence within the millisecond (256 per ms before borrowing from the next). Wraps around
// in 2058. For OpsItem ids ("oi-" + 12 hex).
std::string NewOrderedHex48();

namespace internal {
// The generators' core, exposed for tests: the next value given the current time in ms.
uint64_t NextOrderedValue(uint64_t now_ms_shifted);
}  // namespace internal

}  // namespace klaxon::storage
