#pragma once
// Internal to the SQLite backend: a VFS that gathers the writes SQLite makes to a WAL file and
// hands them to the operating system as one write per run of contiguous bytes.
//
// SQLite writes each WAL frame as two write() calls (its 24-byte header, then the page), so a
// commit of n pages costs 2n system calls before its fsync; on a virtual machine a system call is
// several microseconds. Behind this VFS the frames of a commit are kept in memory while they are
// contiguous (up to kWalWriteBufferBytes, some 30 pages) and written with one call when SQLite does
// anything else with the file: sync, read, truncate, size, file control, close, or a write
// elsewhere.
//
// Only for a connection with PRAGMA synchronous=FULL, and with power-safe overwrite (SQLite's
// default; a WAL opened with the URI parameter psow=0 is not buffered, and
// SQLITE_FCNTL_POWERSAFE_OVERWRITE must not turn it off). There, SQLite syncs the WAL at every
// commit before it publishes the new frames in the WAL index, so no other connection can look for a
// frame that is still in the buffer. With NORMAL or OFF it does not, and readers could read frames
// not yet written: never open such a connection with this VFS.
//
// A write to the file that fails leaves the bytes pending (the next call writes them first, and
// fails with SQLITE_IOERR_WRITE while it cannot), so a commit whose frames did not reach the file
// fails. Every other file, and every other call, goes straight to the default VFS.
//
// Thread-safety: the VFS is registered once (thread-safe); a file is used by one connection, so
// by one thread at a time, as SQLite's own files are.

#include <cstddef>
#include <cstdint>

namespace klaxon::storage::internal {

// The most the buffer holds: the default (unix) VFS writes at most 128 KiB - 1 bytes per call (it
// never needs more for one page), so one flush stays below that.
inline constexpr size_t kWalWriteBufferBytes = size_t{120} * 1024;

// The name to pass to sqlite3_open_v2 (registers the VFS on first use). nullptr if the default
// VFS could not be found (SQLite then opens with its default, unbuffered).
const char* WalWriteBufferVfs();

// Process-wide counts, for tests and benchmarks.
struct WalWriteBufferStats {
  uint64_t writes = 0;   // WAL writes SQLite asked for
  uint64_t flushes = 0;  // writes handed to the operating system for them
};
WalWriteBufferStats GetWalWriteBufferStats();

}  // namespace klaxon::storage::internal
