// Pieces shared by the core services' idempotent, audited mutations
// (internal to ruta_core).
#ifndef RUTA_CORE_SRC_MUTATIONS_H_
#define RUTA_CORE_SRC_MUTATIONS_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crypto_util.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"

namespace ruta::core::internal {

// Builds the canonical, length-prefixed encoding of a command's content.
class Fingerprinter {
 public:
  explicit Fingerprinter(absl::string_view method) { Add(method); }
  Fingerprinter& Add(absl::string_view field) {
    absl::StrAppend(&data_, field.size(), ":", field);
    return *this;
  }
  Fingerprinter& Add(int64_t value) { return Add(absl::StrCat(value)); }
  // SHA-256, hex.
  std::string Finish() const { return Sha256Hex(data_); }

 private:
  std::string data_;
};

// Times are kept at microsecond precision, so that a record a retry reads
// back from the store equals the one the first execution returned.
absl::Time NowMicros();

// PERMISSION_DENIED unless the actor is of the node's `region`.
absl::Status CheckRegion(const std::string& region, const Actor& actor);
// INVALID_ARGUMENT unless `request_id` is a canonical UUID.
absl::Status CheckRequestId(const std::string& request_id);

// The request record of a mutation that produced `version` of record `id`.
store::RequestRecord MakeRequestRecord(const Actor& actor,
                                       const std::string& request_id,
                                       const char* method,
                                       const std::string& fingerprint,
                                       const std::string& id, int64_t version,
                                       absl::Time at);

// The earlier execution of (principal, request_id), if any. INVALID_ARGUMENT
// when it had different content (another fingerprint).
absl::StatusOr<std::optional<store::RequestRecord>> FindReplay(
    store::ReadTxn& txn, const std::string& principal,
    const std::string& request_id, const std::string& fingerprint);

// Appends the audit record of a mutation that succeeded (or was replayed)
// inside its own write function; UNAVAILABLE (so that the change rolls back)
// when it cannot be written.
absl::Status AuditMutation(store::WriteTxn& txn, const Actor& actor,
                           const char* method, const std::string& subject);

// A fresh record id: draws `new_id()` until `taken(id)` says it is unused;
// INTERNAL naming `what` after 4 draws (a collision is about 2^-94).
absl::StatusOr<std::string> DrawFreshId(
    const char* what, std::string (*new_id)(),
    const std::function<absl::StatusOr<bool>(const std::string&)>& taken);

}  // namespace ruta::core::internal

#endif  // RUTA_CORE_SRC_MUTATIONS_H_
