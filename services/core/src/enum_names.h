// Name tables of the domain enums (internal to ruta_core_domain): an enum's
// names are an array indexed by its numeric value, 0 being "UNSPECIFIED".
#ifndef RUTA_CORE_SRC_ENUM_NAMES_H_
#define RUTA_CORE_SRC_ENUM_NAMES_H_

#include <cstddef>

namespace ruta::core::internal {

// `value`'s name, or "UNKNOWN" when it is outside the table.
template <typename Enum, size_t N>
const char* NameOf(Enum value, const char* const (&names)[N]) {
  const int i = static_cast<int>(value);
  if (i < 0 || static_cast<size_t>(i) >= N) return "UNKNOWN";
  return names[i];
}

// Whether `value` is in the table and not the zero (unspecified) value.
template <typename Enum, size_t N>
bool InRange(Enum value, const char* const (&)[N]) {
  const int i = static_cast<int>(value);
  return i > 0 && static_cast<size_t>(i) < N;
}

}  // namespace ruta::core::internal

#endif  // RUTA_CORE_SRC_ENUM_NAMES_H_
