#include "storage/ordered_ids.h"

#include <atomic>
#include <chrono>

#include "common/ids.h"

namespace klaxon::storage {
namespace {

// 2024-01-01T00:00:00Z in Unix milliseconds.
constexpr uint64_t kHex48EpochMs = 1704067200000ULL;

uint64_t NowMs() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

// Strictly increasing: max(previous + 1, floor), atomically.
uint64_t Next(std::atomic<uint64_t>& last, uint64_t floor) {
  uint64_t prev = last.load(std::memory_order_relaxed);
  for (;;) {
    uint64_t next = prev + 1 > floor ? prev + 1 : floor;
    if (last.compare_exchange_weak(prev, next, std::memory_order_relaxed)) return next;
  }
}

std::atomic<uint64_t> g_uuid_last{0};   // (ms << 12) | sequence
std::atomic<uint64_t> g_hex48_last{0};  // (ms since kHex48EpochMs << 8) | sequence

void AppendHex(std::string& out, uint64_t v, int digits) {
  static constexpr char kDigits[] = "0123456789abcdef";
  for (int i = digits - 1; i >= 0; --i) out.push_back(kDigits[(v >> (4 * i)) & 0xF]);
}

}  // namespace

namespace internal {
uint64_t NextOrderedValue(uint64_t now_ms_shifted) { return Next(g_hex48_last, now_ms_shifted); }
}  // namespace internal

std::string NewOrderedUuid() {
  const uint64_t v = Next(g_uuid_last, NowMs() << 12);
  const uint64_t ms = (v >> 12) & 0xFFFFFFFFFFFFULL;
  const uint64_t seq = v & 0xFFF;
  // 62 random bits: the first hex digit of the last 16 carries the variant (10xx).
  const std::string random = RandomHex(16);
  std::string out;
  out.reserve(36);
  AppendHex(out, ms >> 16, 8);
  out.push_back('-');
  AppendHex(out, ms & 0xFFFF, 4);
  out.push_back('-');
  out.push_back('7');
  AppendHex(out, seq, 3);
  out.push_back('-');
  int nibble = random[0] <= '9' ? random[0] - '0' : random[0] - 'a' + 10;
  out.push_back("89ab"[nibble & 3]);
  out.append(random, 1, 3);
  out.push_back('-');
  out.append(random, 4, 12);
  return out;
}

std::string NewOrderedHex48() {
  const uint64_t now = NowMs();
  const uint64_t since = now > kHex48EpochMs ? now - kHex48EpochMs : 0;
  const uint64_t v = internal::NextOrderedValue(since << 8);
  std::string out;
  out.reserve(12);
  AppendHex(out, v & 0xFFFFFFFFFFFFULL, 12);
  return out;
}

}  // namespace klaxon::storage
