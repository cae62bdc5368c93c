#pragma once
// String helpers (internal to src/incidents).
//
// Debian's Abseil is built without std aliasing, so absl::StrCat does not take std::string_view;
// Cat() converts string-like arguments to absl::string_view and forwards everything else.

#include <string>
#include <string_view>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace klaxon::incidents::internal {

template <typename T>
decltype(auto) CatArg(const T& v) {
  if constexpr (std::is_convertible_v<const T&, std::string_view> && !std::is_arithmetic_v<T>) {
    std::string_view s(v);
    return absl::string_view(s.data(), s.size());
  } else {
    return (v);
  }
}

template <typename... Args>
std::string Cat(const Args&... args) {
  return absl::StrCat(CatArg(args)...);
}

}  // namespace klaxon::incidents::internal
