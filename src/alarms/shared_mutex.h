#pragma once
// A reader/writer lock that ThreadSanitizer and Clang's thread-safety analysis both understand,
// for the metric store's apply/checkpoint cut (many concurrent Put applies, one Checkpoint
// snapshot). klaxon::Mutex (common/mutex.h) has no shared mode.
//
// Writer-preferring: glibc's default rwlock prefers readers, so a Checkpoint could wait forever
// behind a steady stream of Puts; with PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP a waiting
// writer blocks new readers. Consequence: a thread must not take the lock shared twice (it could
// deadlock behind a waiting writer).
//
// Thread-safety: thread-safe. Copy/move: neither.

#include <pthread.h>

#include "absl/base/thread_annotations.h"

namespace klaxon::alarms {

class ABSL_LOCKABLE SharedMutex {
 public:
  SharedMutex() {
    pthread_rwlockattr_t attr;
    pthread_rwlockattr_init(&attr);
    pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
    pthread_rwlock_init(&mu_, &attr);
    pthread_rwlockattr_destroy(&attr);
  }
  ~SharedMutex() { pthread_rwlock_destroy(&mu_); }
  SharedMutex(const SharedMutex&) = delete;
  SharedMutex& operator=(const SharedMutex&) = delete;

 private:
  friend class ReaderLock;
  friend class WriterLock;
  pthread_rwlock_t mu_;
};

// Holds `mu` shared for its scope.
class ABSL_SCOPED_LOCKABLE ReaderLock {
 public:
  explicit ReaderLock(SharedMutex* mu) ABSL_SHARED_LOCK_FUNCTION(mu) : mu_(mu) {
    pthread_rwlock_rdlock(&mu_->mu_);
  }
  ~ReaderLock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&mu_->mu_); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  SharedMutex* const mu_;
};

// Holds `mu` exclusively for its scope.
class ABSL_SCOPED_LOCKABLE WriterLock {
 public:
  explicit WriterLock(SharedMutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : mu_(mu) {
    pthread_rwlock_wrlock(&mu_->mu_);
  }
  ~WriterLock() ABSL_UNLOCK_FUNCTION() { pthread_rwlock_unlock(&mu_->mu_); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  SharedMutex* const mu_;
};

}  // namespace klaxon::alarms
