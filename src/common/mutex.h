#pragma once
// The project's mutex and condition-variable wait: ThreadSanitizer can see them, and Clang's
// thread-safety analysis checks them. Use these, not absl::Mutex / absl::Notification.
//
// Why not absl::Mutex: Debian's libabsl_synchronization.so is not built with -fsanitize=thread, so
// TSan sees neither its lock acquisitions nor its futex hand-offs and reports every access to data
// it protects as a race (`make test-tsan` runs with halt_on_error=1). std::mutex and
// std::condition_variable go through pthread, which TSan intercepts. Clang's -Wthread-safety still
// checks ABSL_GUARDED_BY members against these capabilities.
//
// Waiting: `while (!ready()) lock.Wait(cv);` inside the locked scope, where `ready()` is a member
// function annotated ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu): the analysis then knows the lock is held
// (it would not inside a predicate lambda).

#include <chrono>
#include <condition_variable>
#include <mutex>

#include "absl/base/thread_annotations.h"
#include "absl/time/time.h"

namespace klaxon {

class ABSL_LOCKABLE Mutex {
 public:
  Mutex() = default;
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

 private:
  friend class MutexLock;
  std::mutex mu_;
};

// Holds `mu` for its scope.
class ABSL_SCOPED_LOCKABLE MutexLock {
 public:
  explicit MutexLock(Mutex* mu) ABSL_EXCLUSIVE_LOCK_FUNCTION(mu) : lock_(mu->mu_) {}
  ~MutexLock() ABSL_UNLOCK_FUNCTION() {}
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;

  // Releases the mutex, waits for a notification of `cv` (or a spurious wakeup), re-acquires.
  void Wait(std::condition_variable& cv) { cv.wait(lock_); }

  // As Wait, but returns false once `deadline` has passed.
  bool WaitUntil(std::condition_variable& cv, std::chrono::steady_clock::time_point deadline) {
    return cv.wait_until(lock_, deadline) == std::cv_status::no_timeout;
  }

 private:
  std::unique_lock<std::mutex> lock_;
};

// A deadline `d` from now on the steady clock (absl::Duration is our option type).
inline std::chrono::steady_clock::time_point DeadlineAfter(absl::Duration d) {
  return std::chrono::steady_clock::now() + absl::ToChronoNanoseconds(d);
}

}  // namespace klaxon
