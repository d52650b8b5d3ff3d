// PostgreSQL implementation of store.h (placeholder until the backend lands:
// OpenPostgresStore reports UNIMPLEMENTED so that callers can link now).
#include <memory>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "ruta/store/store.h"

namespace ruta::store {

absl::StatusOr<std::unique_ptr<Store>> OpenPostgresStore(
    const PostgresOptions& /*options*/) {
  return absl::UnimplementedError(
      "the PostgreSQL store is not built into this binary yet");
}

int64_t PostgresSchemaVersion() { return SqliteSchemaVersion(); }

}  // namespace ruta::store
