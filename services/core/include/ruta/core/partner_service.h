// ruta::core::PartnerService — what an NGO partner sees and does
// (DESIGN.md sections 2 and 6; the PartnerStatus service).
//
// A partner is identified by its certificate: spiffe://<region>.ruta.pe/
// partner/<name> is the partner id "<region>/<name>" (PartnerIdOf). It must
// be registered on this node (PartnerServiceOptions::partners): an
// unregistered partner gets PERMISSION_DENIED on every method.
//
// A partner sees a case when the case is referred to it (CaseService::
// ReferCase) AND owned by this node's region: a partner calls the node of the
// region holding the custody, so when a transfer moves the custody away the
// sending region's partners lose access to the case (their watch gets a
// withdrawn update), and the receiving region refers it to its own partners.
// It sees the case under its own pseudonym (partner_pseudonym.h), and only:
// the stage, the month of the referral, the month of each stage change, and
// the services of the case it delivers itself (provider == its id). Never
// the case id, the person ref, the profile or a day date.
//
// Every method is asynchronous as CaseService's: `done` is called exactly
// once, on a store thread, or on the calling thread when refused early.
//
// Cost: a ref is resolved through an in-memory index of each partner's refs
// (built on the partner's first call, one HMAC per referred case, then kept
// up to date from the store's partner change log inside each read), so
// GetCaseStatus and UpdateServiceStatus cost O(log n) in the n cases referred
// to the partner, and a page of ListReferredCases or of the watch's initial
// state O(page + log n) (plus the cases skipped by a stage filter or owned
// by another region). Visibility is always checked against the read's own
// snapshot: the index never serves a withdrawn, erased or moved case.
//
// Errors:
//  PERMISSION_DENIED  the caller is not a partner registered on this node.
//  NOT_FOUND          the ref (or service) names nothing visible to the
//                     caller, whatever the reason (another partner's ref, a
//                     withdrawn referral, an erased case, custody moved).
//  INVALID_ARGUMENT   a malformed field, page token or cursor.
//  UNAVAILABLE/INTERNAL storage failures.
#ifndef RUTA_CORE_PARTNER_SERVICE_H_
#define RUTA_CORE_PARTNER_SERVICE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ruta/core/domain.h"
#include "ruta/core/partner_pseudonym.h"
#include "ruta/core/transfer.h"
#include "ruta/core/transfer_service.h"
#include "ruta/store/store.h"

namespace ruta::core {

namespace internal {
class PartnerRefIndex;
}  // namespace internal

struct PartnerServiceOptions {
  // Slug of the region this node serves. Required.
  std::string region;
  // Partner ids "<region>/<name>" registered on this node.
  std::vector<std::string> partners = {};
  // Largest page ListReferredCases returns. Default 100.
  int max_page_size = 100;
  // Page size when the request gives none. Default 50.
  int default_page_size = 50;
};

// A stage the case entered, and the month it did.
struct PartnerStageChange {
  Stage stage = Stage::kUnspecified;
  YearMonth month;
};

// A case as a partner sees it.
struct PartnerCaseView {
  std::string partner_case_ref;
  Stage stage = Stage::kUnspecified;
  YearMonth referred_month;
  std::vector<PartnerStageChange> timeline;  // oldest first
  // The services of the case the partner provides (show months only).
  std::vector<ServiceRecord> services;
};

struct PartnerCaseQuery {
  Stage stage = Stage::kUnspecified;  // filter; unspecified = any
  int page_size = 0;                  // 0..100; 0 = default
  std::string page_token;             // from a previous page
};

struct PartnerCaseList {
  std::vector<PartnerCaseView> cases;  // in partner_case_ref order
  std::string next_page_token;         // empty at the end
};

// One update of a partner's watch.
struct PartnerUpdate {
  // The case after the change; only its partner_case_ref when withdrawn.
  PartnerCaseView view;
  // The partner lost access to the case (referral withdrawn, case erased,
  // custody moved to another region).
  bool withdrawn = false;
  // Resume after this update.
  std::string cursor;
  // No case: only moves the cursor (the end of the initial state). Not sent.
  bool marker = false;
};

struct PartnerServiceStatusCommand {
  std::string request_id;
  std::string partner_case_ref;
  std::string service_id;
  ServiceStatus status = ServiceStatus::kUnspecified;
  YearMonth end_month;  // for COMPLETED and DROPPED
};

// The partner id of `actor`: "<region>/<name>" for a principal
// "spiffe://<region>.ruta.pe/partner/<name>"; PERMISSION_DENIED for any
// other principal.
absl::StatusOr<std::string> PartnerIdOf(const Actor& actor);

class PartnerService final {
 public:
  // `store`, `pseudonyms` and `transfers` must outlive the service.
  // `pseudonyms` may be null only when no partner is registered.
  PartnerService(PartnerServiceOptions options, store::Store* store,
                 const PartnerPseudonyms* pseudonyms,
                 TransferService* transfers);
  PartnerService(const PartnerService&) = delete;
  PartnerService& operator=(const PartnerService&) = delete;
  ~PartnerService();

  // The cases referred to the caller (and owned by this region), in
  // partner_case_ref order, paged; INVALID_ARGUMENT for page_size outside
  // 0..100 or a page token this node did not issue.
  void ListReferredCases(
      const Actor& actor, PartnerCaseQuery query,
      std::function<void(absl::StatusOr<PartnerCaseList>)> done);
  // One case referred to the caller; NOT_FOUND as above.
  void GetCaseStatus(const Actor& actor, std::string partner_case_ref,
                     std::function<void(absl::StatusOr<PartnerCaseView>)> done);
  // The updates after `cursor`, at most about `limit` (> 0). An empty cursor
  // starts with the current state of every referred case (in ref order),
  // followed by a marker; then one update per entry of the store's partner
  // change log, in commit order, each carrying the cursor that resumes after
  // it. An entry of a case the caller can no longer see when it is read
  // (withdrawn since, erased, custody moved) comes as withdrawn, with the
  // ref only: a resumed watch never shows a case after access ended. The
  // stage and timeline of an update are the case's at that change; its
  // services are the current ones. INVALID_ARGUMENT for a cursor this node
  // did not issue.
  void ReadChanges(
      const Actor& actor, std::string cursor, int limit,
      std::function<void(absl::StatusOr<std::vector<PartnerUpdate>>)> done);
  // Records the status of a service the caller delivers on a case referred
  // to it, through TransferService::UpdateService (its status rules,
  // idempotency by request_id, audit and federation events apply). NOT_FOUND
  // when the ref or the service is not visible to the caller.
  void UpdateServiceStatus(
      const Actor& actor, PartnerServiceStatusCommand command,
      std::function<void(absl::StatusOr<ServiceRecord>)> done);

  // The caller's partner id when it is registered on this node (from the
  // options; never blocks); PERMISSION_DENIED else.
  absl::StatusOr<std::string> RegisteredPartner(const Actor& actor) const;

 private:
  const PartnerServiceOptions options_;
  store::Store* const store_;
  const PartnerPseudonyms* const pseudonyms_;
  TransferService* const transfers_;
  // From each partner's refs back to its cases (partner_ref_index.h): a ref
  // is resolved in O(log n) instead of one HMAC per referred case. Null when
  // no pseudonyms are given.
  const std::unique_ptr<internal::PartnerRefIndex> refs_;
};

// Watch cursors and list page tokens: letters a..p only (no digit ever, so
// they pass the identifier firewall and never look like an identifier).
// Exposed for tests.
std::string EncodeLetterToken(absl::string_view payload);
absl::StatusOr<std::string> DecodeLetterToken(absl::string_view token,
                                              absl::string_view field);

}  // namespace ruta::core

#endif  // RUTA_CORE_PARTNER_SERVICE_H_
