// Status propagation helpers. Abseil 20220623 ships none, so ruta defines the
// two it needs here, once.
#ifndef RUTA_COMMON_STATUS_MACROS_H_
#define RUTA_COMMON_STATUS_MACROS_H_

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

// Evaluates `expr` (an absl::Status); returns it from the enclosing function
// when it is not OK.
#define RUTA_RETURN_IF_ERROR(expr)                 \
  do {                                             \
    ::absl::Status ruta_status_internal_ = (expr); \
    if (!ruta_status_internal_.ok()) {             \
      return ruta_status_internal_;                \
    }                                              \
  } while (false)

#define RUTA_STATUS_MACROS_CONCAT_INNER_(x, y) x##y
#define RUTA_STATUS_MACROS_CONCAT_(x, y) RUTA_STATUS_MACROS_CONCAT_INNER_(x, y)

// Evaluates `rexpr` (an absl::StatusOr<T>); on error returns its status from
// the enclosing function, otherwise moves the value into `lhs`, which may be a
// declaration (`auto x`) or an existing variable.
#define RUTA_ASSIGN_OR_RETURN(lhs, rexpr)                                 \
  RUTA_ASSIGN_OR_RETURN_IMPL_(                                            \
      RUTA_STATUS_MACROS_CONCAT_(ruta_statusor_internal_, __LINE__), lhs, \
      rexpr)

#define RUTA_ASSIGN_OR_RETURN_IMPL_(statusor, lhs, rexpr) \
  auto statusor = (rexpr);                                \
  if (!statusor.ok()) {                                   \
    return std::move(statusor).status();                  \
  }                                                       \
  lhs = std::move(statusor).value()

#endif  // RUTA_COMMON_STATUS_MACROS_H_
