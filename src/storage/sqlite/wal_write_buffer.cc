#include "storage/sqlite/wal_write_buffer.h"

#include <sqlite3.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <new>
#include <string>

namespace klaxon::storage::internal {
namespace {

constexpr const char* kVfsName = "klaxon-wal-buffer";

std::atomic<uint64_t> g_writes{0};
std::atomic<uint64_t> g_flushes{0};

sqlite3_vfs* Real(sqlite3_vfs* vfs) { return static_cast<sqlite3_vfs*>(vfs->pAppData); }

// What SQLite allocates for one of our files (szOsFile bytes): this header, then the default
// VFS's own file object at kRealOffset.
struct File {
  sqlite3_file base;  // base.pMethods: &kMethods once open
  sqlite3_file* real;
  // WAL files only (nullptr otherwise): bytes written by SQLite and not yet by the OS, which
  // belong at `pending_offset`.
  std::string* pending;
  sqlite3_int64 pending_offset;
};
constexpr size_t kRealOffset = (sizeof(File) + 15) / 16 * 16;

File* AsFile(sqlite3_file* f) { return reinterpret_cast<File*>(f); }
const sqlite3_io_methods* RealMethods(File* f) { return f->real->pMethods; }

// Writes what is pending; the write's own result code (SQLITE_FULL, SQLITE_IOERR_WRITE...). On
// failure the bytes stay pending, to be written by the next flush: every later call needs them
// written first, the commit's xSync included, so frames that never reached the file can never be
// published as committed.
int Flush(File* f) {
  if (f->pending == nullptr || f->pending->empty()) return SQLITE_OK;
  g_flushes.fetch_add(1, std::memory_order_relaxed);
  int rc = RealMethods(f)->xWrite(f->real, f->pending->data(), static_cast<int>(f->pending->size()),
                                  f->pending_offset);
  if (rc == SQLITE_OK) f->pending->clear();
  return rc;
}

// Flush() for a call other than xWrite. Its failure is reported as SQLITE_IOERR_WRITE whatever
// the write returned: SQLite answers an I/O error from any call by rolling the whole transaction
// back, but SQLITE_FULL from xRead would roll back only the current statement and let the
// transaction go on to commit.
int FlushBefore(File* f) { return Flush(f) == SQLITE_OK ? SQLITE_OK : SQLITE_IOERR_WRITE; }

int Close(sqlite3_file* file) {
  File* f = AsFile(file);
  int rc = FlushBefore(f);
  delete f->pending;
  f->pending = nullptr;
  int closed = RealMethods(f)->xClose(f->real);
  return rc != SQLITE_OK ? rc : closed;
}

int Read(sqlite3_file* file, void* out, int n, sqlite3_int64 offset) {
  File* f = AsFile(file);
  if (int rc = FlushBefore(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xRead(f->real, out, n, offset);
}

int Write(sqlite3_file* file, const void* data, int n, sqlite3_int64 offset) {
  File* f = AsFile(file);
  if (f->pending == nullptr) return RealMethods(f)->xWrite(f->real, data, n, offset);
  g_writes.fetch_add(1, std::memory_order_relaxed);
  std::string& pending = *f->pending;
  const auto size = static_cast<size_t>(n);
  const bool extends =
      !pending.empty() && offset == f->pending_offset + static_cast<sqlite3_int64>(pending.size());
  if (!extends || pending.size() + size > kWalWriteBufferBytes) {
    if (int rc = Flush(f); rc != SQLITE_OK) return rc;
    if (size >= kWalWriteBufferBytes) {
      g_flushes.fetch_add(1, std::memory_order_relaxed);
      return RealMethods(f)->xWrite(f->real, data, n, offset);
    }
    f->pending_offset = offset;
  }
  pending.append(static_cast<const char*>(data), size);
  return SQLITE_OK;
}

int Truncate(sqlite3_file* file, sqlite3_int64 size) {
  File* f = AsFile(file);
  if (int rc = FlushBefore(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xTruncate(f->real, size);
}

int Sync(sqlite3_file* file, int flags) {
  File* f = AsFile(file);
  if (int rc = FlushBefore(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xSync(f->real, flags);
}

int FileSize(sqlite3_file* file, sqlite3_int64* size) {
  File* f = AsFile(file);
  if (int rc = FlushBefore(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xFileSize(f->real, size);
}

int Lock(sqlite3_file* file, int level) {
  File* f = AsFile(file);
  return RealMethods(f)->xLock(f->real, level);
}

int Unlock(sqlite3_file* file, int level) {
  File* f = AsFile(file);
  return RealMethods(f)->xUnlock(f->real, level);
}

int CheckReservedLock(sqlite3_file* file, int* out) {
  File* f = AsFile(file);
  return RealMethods(f)->xCheckReservedLock(f->real, out);
}

int FileControl(sqlite3_file* file, int op, void* arg) {
  File* f = AsFile(file);
  if (int rc = FlushBefore(f); rc != SQLITE_OK) return rc;
  return RealMethods(f)->xFileControl(f->real, op, arg);
}

int SectorSize(sqlite3_file* file) {
  File* f = AsFile(file);
  return RealMethods(f)->xSectorSize(f->real);
}

int DeviceCharacteristics(sqlite3_file* file) {
  File* f = AsFile(file);
  return RealMethods(f)->xDeviceCharacteristics(f->real);
}

int ShmMap(sqlite3_file* file, int page, int page_size, int extend, void volatile** out) {
  File* f = AsFile(file);
  if (RealMethods(f)->iVersion < 2 || RealMethods(f)->xShmMap == nullptr) return SQLITE_IOERR;
  return RealMethods(f)->xShmMap(f->real, page, page_size, extend, out);
}

int ShmLock(sqlite3_file* file, int offset, int n, int flags) {
  File* f = AsFile(file);
  if (RealMethods(f)->iVersion < 2 || RealMethods(f)->xShmLock == nullptr) return SQLITE_IOERR;
  return RealMethods(f)->xShmLock(f->real, offset, n, flags);
}

void ShmBarrier(sqlite3_file* file) {
  File* f = AsFile(file);
  if (RealMethods(f)->iVersion >= 2 && RealMethods(f)->xShmBarrier != nullptr) {
    RealMethods(f)->xShmBarrier(f->real);
  }
}

int ShmUnmap(sqlite3_file* file, int delete_flag) {
  File* f = AsFile(file);
  if (RealMethods(f)->iVersion < 2 || RealMethods(f)->xShmUnmap == nullptr) return SQLITE_OK;
  return RealMethods(f)->xShmUnmap(f->real, delete_flag);
}

int Fetch(sqlite3_file* file, sqlite3_int64 offset, int n, void** out) {
  File* f = AsFile(file);
  *out = nullptr;  // "no mapping": SQLite reads with xRead instead
  if (f->pending != nullptr || RealMethods(f)->iVersion < 3 || RealMethods(f)->xFetch == nullptr) {
    return SQLITE_OK;
  }
  return RealMethods(f)->xFetch(f->real, offset, n, out);
}

int Unfetch(sqlite3_file* file, sqlite3_int64 offset, void* p) {
  File* f = AsFile(file);
  if (RealMethods(f)->iVersion < 3 || RealMethods(f)->xUnfetch == nullptr) return SQLITE_OK;
  return RealMethods(f)->xUnfetch(f->real, offset, p);
}

const sqlite3_io_methods kMethods = {
    3,
    Close,
    Read,
    Write,
    Truncate,
    Sync,
    FileSize,
    Lock,
    Unlock,
    CheckReservedLock,
    FileControl,
    SectorSize,
    DeviceCharacteristics,
    ShmMap,
    ShmLock,
    ShmBarrier,
    ShmUnmap,
    Fetch,
    Unfetch,
};

int Open(sqlite3_vfs* vfs, sqlite3_filename name, sqlite3_file* file, int flags, int* out_flags) {
  File* f = AsFile(file);
  f->base.pMethods = nullptr;  // SQLite's rule for a failed open
  f->real = reinterpret_cast<sqlite3_file*>(reinterpret_cast<char*>(file) + kRealOffset);
  f->pending = nullptr;
  f->pending_offset = 0;
  int rc = Real(vfs)->xOpen(Real(vfs), name, f->real, flags, out_flags);
  if (rc != SQLITE_OK) return rc;  // the default VFS has cleaned up its own file
  // Without power-safe overwrite SQLite pads a commit to a sector boundary and syncs in the middle
  // of a frame, then publishes the commit without syncing its last bytes: such a WAL is not
  // buffered (the URI parameter, with the library's default, is how the default VFS decides it).
  const int powersafe_default = sqlite3_compileoption_used("POWERSAFE_OVERWRITE=0") ? 0 : 1;
  if ((flags & SQLITE_OPEN_WAL) != 0 && sqlite3_uri_boolean(name, "psow", powersafe_default)) {
    try {
      auto pending = std::make_unique<std::string>();
      pending->reserve(kWalWriteBufferBytes);
      f->pending = pending.release();
    } catch (const std::bad_alloc&) {
      f->pending = nullptr;  // without memory for the buffer the file is simply not buffered
    }
  }
  f->base.pMethods = &kMethods;
  return SQLITE_OK;
}

int Delete(sqlite3_vfs* vfs, const char* name, int sync_dir) {
  return Real(vfs)->xDelete(Real(vfs), name, sync_dir);
}
int Access(sqlite3_vfs* vfs, const char* name, int flags, int* out) {
  return Real(vfs)->xAccess(Real(vfs), name, flags, out);
}
int FullPathname(sqlite3_vfs* vfs, const char* name, int n, char* out) {
  return Real(vfs)->xFullPathname(Real(vfs), name, n, out);
}
void* DlOpen(sqlite3_vfs* vfs, const char* name) { return Real(vfs)->xDlOpen(Real(vfs), name); }
void DlError(sqlite3_vfs* vfs, int n, char* out) { Real(vfs)->xDlError(Real(vfs), n, out); }
void (*DlSym(sqlite3_vfs* vfs, void* handle, const char* symbol))(void) {
  return Real(vfs)->xDlSym(Real(vfs), handle, symbol);
}
void DlClose(sqlite3_vfs* vfs, void* handle) { Real(vfs)->xDlClose(Real(vfs), handle); }
int Randomness(sqlite3_vfs* vfs, int n, char* out) {
  return Real(vfs)->xRandomness(Real(vfs), n, out);
}
int Sleep(sqlite3_vfs* vfs, int micros) { return Real(vfs)->xSleep(Real(vfs), micros); }
int CurrentTime(sqlite3_vfs* vfs, double* out) { return Real(vfs)->xCurrentTime(Real(vfs), out); }
int GetLastError(sqlite3_vfs* vfs, int n, char* out) {
  return Real(vfs)->xGetLastError(Real(vfs), n, out);
}
int CurrentTimeInt64(sqlite3_vfs* vfs, sqlite3_int64* out) {
  if (Real(vfs)->iVersion >= 2 && Real(vfs)->xCurrentTimeInt64 != nullptr) {
    return Real(vfs)->xCurrentTimeInt64(Real(vfs), out);
  }
  double days = 0;
  int rc = Real(vfs)->xCurrentTime(Real(vfs), &days);
  *out = static_cast<sqlite3_int64>(days * 86400000.0);
  return rc;
}

// Registers the VFS over the default one; returns its name, or nullptr if there is no default.
// Called once (WalWriteBufferVfs): the VFS stays registered for the life of the process.
const char* Register() {
  sqlite3_vfs* real = sqlite3_vfs_find(nullptr);
  if (real == nullptr) return nullptr;
  static sqlite3_vfs vfs;
  std::memset(&vfs, 0, sizeof(vfs));
  vfs.iVersion = 2;
  vfs.szOsFile = static_cast<int>(kRealOffset) + real->szOsFile;
  vfs.mxPathname = real->mxPathname;
  vfs.zName = kVfsName;
  vfs.pAppData = real;
  vfs.xOpen = Open;
  vfs.xDelete = Delete;
  vfs.xAccess = Access;
  vfs.xFullPathname = FullPathname;
  vfs.xDlOpen = DlOpen;
  vfs.xDlError = DlError;
  vfs.xDlSym = DlSym;
  vfs.xDlClose = DlClose;
  vfs.xRandomness = Randomness;
  vfs.xSleep = Sleep;
  vfs.xCurrentTime = CurrentTime;
  vfs.xGetLastError = GetLastError;
  vfs.xCurrentTimeInt64 = CurrentTimeInt64;
  return sqlite3_vfs_register(&vfs, /*makeDflt=*/0) == SQLITE_OK ? kVfsName : nullptr;
}

}  // namespace

const char* WalWriteBufferVfs() {
  static const char* const name = Register();
  return name;
}

WalWriteBufferStats GetWalWriteBufferStats() {
  return {g_writes.load(std::memory_order_relaxed), g_flushes.load(std::memory_order_relaxed)};
}

}  // namespace klaxon::storage::internal
