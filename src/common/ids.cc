#include "common/ids.h"

#include <openssl/rand.h>

#include <array>
#include <cstdint>
#include <random>

namespace klaxon {
namespace {

// A fast per-thread generator seeded from OpenSSL's CSPRNG: ids must be unpredictable enough not to
// collide across processes, not secret.
std::mt19937_64& Generator() {
  thread_local std::mt19937_64 gen = [] {
    std::array<uint64_t, 4> seed{};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), sizeof(seed)) != 1) {
      std::random_device rd;
      for (auto& s : seed) s = (static_cast<uint64_t>(rd()) << 32) | rd();
    }
    std::seed_seq seq(reinterpret_cast<uint32_t*>(seed.data()),
                      reinterpret_cast<uint32_t*>(seed.data()) + 8);
    return std::mt19937_64(seq);
  }();
  return gen;
}

std::string Hex(size_t n, const char* digits) {
  std::string out(n, '0');
  auto& gen = Generator();
  uint64_t bits = 0;
  int left = 0;
  for (size_t i = 0; i < n; ++i) {
    if (left == 0) {
      bits = gen();
      left = 16;
    }
    out[i] = digits[bits & 0xF];
    bits >>= 4;
    --left;
  }
  return out;
}

}  // namespace

std::string RandomHex(size_t n) { return Hex(n, "0123456789abcdef"); }
std::string RandomUpperHex(size_t n) { return Hex(n, "0123456789ABCDEF"); }

std::string NewUuid() {
  std::string h = RandomHex(32);
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

std::string Hex16(uint64_t v) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(16, '0');
  for (int i = 15; i >= 0; --i, v >>= 4) out[static_cast<size_t>(i)] = kDigits[v & 15];
  return out;
}

std::optional<uint64_t> ParseHex16(std::string_view s) {
  if (s.size() != 16) return std::nullopt;
  uint64_t v = 0;
  for (char c : s) {
    v <<= 4;
    if (c >= '0' && c <= '9') {
      v |= static_cast<uint64_t>(c - '0');
    } else if (c >= 'a' && c <= 'f') {
      v |= static_cast<uint64_t>(c - 'a' + 10);
    } else {
      return std::nullopt;
    }
  }
  return v;
}

}  // namespace klaxon
