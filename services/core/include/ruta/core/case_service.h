// ruta::core::CaseService — the case office's domain operations.
//
// Every method is asynchronous: it returns at once and calls `done` exactly
// once, on a store thread, when the result is known (for writes: after the
// change is durably committed). `done` must not block. A request rejected
// before it reaches the store (a malformed field, a wrong region) gets its
// `done` on the calling thread, before the method returns.
//
// Scope: a node serves one region (`CaseServiceOptions::region`). Callers of
// another region get PERMISSION_DENIED. The node's offices list and change
// the cases their region owns; GetCase also shows the copies of cases shared
// with the region by a transfer (either way), read-only.
//
// Identifiers of a child (`IdentityTuple`) are used only to derive the
// person_ref, before anything reaches the store, and are then wiped: they are
// never stored, logged or part of an error message. Request fingerprints are
// computed over the derived person_ref, never over identifiers.
//
// Errors (absl status codes, mapped one-to-one to gRPC codes by the api):
//  INVALID_ARGUMENT   a field is malformed; the message names the field.
//  NOT_FOUND          no such case in the caller's scope (a case owned by
//                     another region is reported as not found: existence of
//                     cases is itself sensitive).
//  FAILED_PRECONDITION the transition is not allowed from the current stage;
//                     the message names the allowed next stages.
//  ABORTED            expected_version did not match (concurrent change).
//  INVALID_ARGUMENT   a request_id reused for a different request.
//  PERMISSION_DENIED  the actor's region is not this node's region.
//  UNAVAILABLE/INTERNAL storage failures; nothing was changed.
//
// Mutations are idempotent per (actor.principal, request_id): a retry returns
// the case as the first execution produced it and changes nothing.
//
// Audit (audit.h): a mutation that succeeds (a replay included) appends its
// audit record (actor, clerk, method, case id, OK) in the transaction of the
// change; when that record cannot be written the change is not applied and
// `done` gets UNAVAILABLE. Every other outcome (reads, failed or refused
// calls) is not recorded here: the caller records it through an AuditLog.
#ifndef RUTA_CORE_CASE_SERVICE_H_
#define RUTA_CORE_CASE_SERVICE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ruta/core/domain.h"
#include "ruta/core/federation.h"
#include "ruta/core/person_links.h"
#include "ruta/core/pseudonym.h"
#include "ruta/store/store.h"

namespace ruta::core {

struct CaseServiceOptions {
  // Slug of the region this node serves, e.g. "cusco". Required.
  std::string region;
  // Largest page ListCases returns; bigger requests are clamped. Default 100.
  int max_page_size = 100;
  // Page size when the request gives none. Default 50.
  int default_page_size = 50;
  // The NGO partners registered on this node (partner ids "<region>/<name>",
  // the node configuration's `partners`): the only ones ReferCase accepts.
  std::vector<std::string> partners = {};
};

struct OpenCaseCommand {
  std::string request_id;
  IdentityTuple identity;  // May be empty: the case gets a random ref.
  CaseKind kind = CaseKind::kUnspecified;
  // DETECTED or IDENTIFIED for victim cases; IDENTIFIED for prevention cases.
  Stage initial_stage = Stage::kUnspecified;
  Profile profile;
  LegalBasis legal_basis = LegalBasis::kUnspecified;
  bool consent_partner_sharing = false;
};

struct UpdateStageCommand {
  std::string request_id;
  std::string case_id;
  Stage to = Stage::kUnspecified;
  std::optional<int64_t> expected_version;  // optimistic concurrency
};

struct CloseCaseCommand {
  std::string request_id;
  std::string case_id;
  ClosedReason reason = ClosedReason::kUnspecified;
  std::optional<int64_t> expected_version;
};

// Refers a case to an NGO partner, or withdraws the referral.
struct ReferCaseCommand {
  std::string request_id;
  std::string case_id;
  std::string partner_id;  // "<region>/<name>", registered on this node
  bool withdraw = false;
};

struct FindPersonResult {
  // The child's ref: the one its cases carry, else its ref under the current
  // key version.
  std::string person_ref;
  bool linked = false;  // false when the tuple had no usable identifiers
  // Cases of this child the node holds: the region's own, and the cases
  // shared with it by a transfer (owned by another region), under the
  // child's ref of any key version still in the keyring.
  std::vector<Case> cases;
};

struct ListCasesQuery {
  Stage stage = Stage::kUnspecified;  // filter; unspecified = any
  CaseKind kind = CaseKind::kUnspecified;
  std::string person_ref;  // filter; empty = any
  bool include_closed = true;
  int page_size = 0;       // 0 = default
  std::string page_token;  // opaque, from a previous page
};

struct CaseList {
  std::vector<Case> cases;
  std::string next_page_token;  // empty at the end
};

class CaseService final {
 public:
  // `store`, `keyring` and `outbox` must outlive the service. With an
  // `outbox`, stage changes and closures of a case shared with other regions
  // are sent to them (federation.h); null: nothing is sent.
  CaseService(CaseServiceOptions options, store::Store* store,
              const LinkageKeyring* keyring, const Outbox* outbox = nullptr);
  // The same with the node's rotatable keys (person_links.h): `keys` (may be
  // null: no identifiers accepted) must outlive the service.
  CaseService(CaseServiceOptions options, store::Store* store,
              const LinkageKeys* keys, const Outbox* outbox);
  CaseService(const CaseService&) = delete;
  CaseService& operator=(const CaseService&) = delete;

  void OpenCase(const Actor& actor, OpenCaseCommand command,
                std::function<void(absl::StatusOr<Case>)> done);
  void FindPerson(const Actor& actor, IdentityTuple identity,
                  std::function<void(absl::StatusOr<FindPersonResult>)> done);
  void GetCase(const Actor& actor, std::string case_id,
               std::function<void(absl::StatusOr<Case>)> done);
  void ListCases(const Actor& actor, ListCasesQuery query,
                 std::function<void(absl::StatusOr<CaseList>)> done);
  void UpdateStage(const Actor& actor, UpdateStageCommand command,
                   std::function<void(absl::StatusOr<Case>)> done);
  void CloseCase(const Actor& actor, CloseCaseCommand command,
                 std::function<void(absl::StatusOr<Case>)> done);
  // Refers a case of this region to a registered partner (or withdraws the
  // referral, which ends the partner's access at once). Errors beyond the
  // common ones: FAILED_PRECONDITION when partner_id is not a registered
  // partner (the message names the configuration's `partners`);
  // NOT_FOUND when the case is not owned by this region (as UpdateStage);
  // FAILED_PRECONDITION when the case may not be shared with a partner (no
  // guardian consent and a legal basis that does not allow it without one:
  // only UPE_PROTECTIVE_MEASURE and PROSECUTOR_ORDER do), when the case is
  // CLOSED (new referrals only; a withdrawal is always allowed), or when
  // withdrawing a referral that does not exist. Referring a case already
  // referred to the partner changes nothing and returns the case. The
  // referral is local to the owner region: it is not sent to the peers.
  void ReferCase(const Actor& actor, ReferCaseCommand command,
                 std::function<void(absl::StatusOr<Case>)> done);

 private:
  const CaseServiceOptions options_;
  store::Store* const store_;
  std::unique_ptr<LinkageKeys> owned_keys_;  // for the keyring constructor
  const LinkageKeys* const keys_;
  const Outbox* const outbox_;
};

}  // namespace ruta::core

#endif  // RUTA_CORE_CASE_SERVICE_H_
