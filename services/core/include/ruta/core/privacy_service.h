// ruta::core::PrivacyService — the operator's privacy functions of a node
// (DESIGN.md section 6): joining two person refs, erasing a case, rotating
// the linkage key, and the retention purge of closed cases.
//
// Like CaseService: every method returns at once and calls `done` exactly
// once, on a store thread (or on the calling thread for a request refused
// before it reaches the store); `done` must not block. Mutations are
// idempotent per (actor.principal, request_id) and audited in the
// transaction of their change.
//
// Errors:
//  INVALID_ARGUMENT    a malformed field (named), or a request_id reused for
//                      a different request.
//  NOT_FOUND           no case (or no case carrying the ref) in this region.
//  FAILED_PRECONDITION the change is not possible in the current state; the
//                      message says why and what to do (a case with an open
//                      transfer, a case owned by another region, a key
//                      version not in the key file or older than the
//                      current one).
//  PERMISSION_DENIED   the actor is not of this node's region.
//  UNAVAILABLE/INTERNAL storage failures; nothing was changed.
#ifndef RUTA_CORE_PRIVACY_SERVICE_H_
#define RUTA_CORE_PRIVACY_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/core/federation.h"
#include "ruta/core/person_links.h"
#include "ruta/store/store.h"

namespace ruta::core {

struct PrivacyServiceOptions {
  // Slug of the region this node serves. Required.
  std::string region;
  // Reads the linkage key file again (for RotateLinkageKey). Empty: rotation
  // is refused with FAILED_PRECONDITION.
  std::function<absl::StatusOr<LinkageKeyring>()> reload_keyring;
  // Closed cases are purged this long after their closure. Default: 5 years.
  absl::Duration retention = absl::Hours(24 * 365 * 5);
};

struct MergePersonsResult {
  std::string person_ref;     // the ref both now resolve to
  int64_t cases_changed = 0;  // cases whose ref changed on this node
};

struct RotationResult {
  uint32_t current_version = 0;
  // Cases still carrying a ref of an older key version (they are re-linked
  // when their child is seen again; the older key must stay until then).
  int64_t cases_on_older_versions = 0;
};

class PrivacyService final {
 public:
  // `store`, `keys` and `outbox` must outlive the service; `outbox` may be
  // null (nothing is sent to peers).
  PrivacyService(PrivacyServiceOptions options, store::Store* store,
                 LinkageKeys* keys, const Outbox* outbox);
  PrivacyService(const PrivacyService&) = delete;
  PrivacyService& operator=(const PrivacyService&) = delete;

  // Joins two refs found to be one child. Both must be valid, distinct refs,
  // each carried by a case of this region (owned, or shared with it), else
  // INVALID_ARGUMENT / NOT_FOUND. Which ref survives is fixed
  // (SurvivingPersonRef). Sent to the regions the cases are shared with.
  void MergePersons(
      const Actor& actor, std::string request_id, std::string ref_a,
      std::string ref_b,
      std::function<void(absl::StatusOr<MergePersonsResult>)> done);

  // Erases a case owned by this region, here and (by a CaseErased event) on
  // every region it was shared with: its attributes, stages, services and
  // transfers (store::WriteTxn::EraseCase). What remains is the
  // pseudonymous ids in the audit chain, the event hashes and the aggregate
  // counts. FAILED_PRECONDITION while a transfer of the case is open
  // (requested, accepted or in transit), or when another region owns it.
  void EraseCase(const Actor& actor, std::string request_id,
                 std::string case_id, std::function<void(absl::Status)> done);

  // Makes key version `new_version` current after reading the key file
  // again (where the operator installed it). The version must be in the file
  // and not older than the current one. The current version is kept in the
  // store, so a restart keeps it.
  void RotateLinkageKey(
      const Actor& actor, std::string request_id, uint32_t new_version,
      std::function<void(absl::StatusOr<RotationResult>)> done);

  // Erases every closed case of this region whose closure is older than the
  // retention period at `now`, as EraseCase does (audited as `actor`).
  // Returns the number of cases purged. Blocking: for the node's purge
  // thread and for tests, never for a reactor.
  absl::StatusOr<int64_t> PurgeExpiredSync(const Actor& actor, absl::Time now);

 private:
  const PrivacyServiceOptions options_;
  store::Store* const store_;
  LinkageKeys* const keys_;
  const Outbox* const outbox_;
};

// The store setting that holds the current linkage key version.
inline constexpr char kLinkageKeyVersionSetting[] = "linkage_key_version";

}  // namespace ruta::core

#endif  // RUTA_CORE_PRIVACY_SERVICE_H_
