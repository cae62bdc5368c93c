#pragma once
// Strong identifier types: a string that cannot be mixed up with another kind of string.
//   using AccountId = NamedType<std::string, struct AccountIdTag>;

#include <compare>
#include <string>
#include <utility>

namespace klaxon {

template <typename T, typename Tag>
class NamedType {
 public:
  NamedType() = default;
  explicit NamedType(T value) : value_(std::move(value)) {}
  const T& value() const { return value_; }
  T& value() { return value_; }
  auto operator<=>(const NamedType&) const = default;
  template <typename H>
  friend H AbslHashValue(H h, const NamedType& v) {
    return H::combine(std::move(h), v.value_);
  }

 private:
  T value_{};
};

using AccountId = NamedType<std::string, struct AccountIdTag>;
using Region = NamedType<std::string, struct RegionTag>;

}  // namespace klaxon
