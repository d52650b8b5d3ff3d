// PartnerRefIndex: from a partner's `partner_case_ref` back to the case, in
// memory, for PartnerService (partner_service.h).
//
// A ref is HMAC(partner key, case_id) (partner_pseudonym.h): it cannot be
// inverted, so without an index finding the case of a ref costs one HMAC per
// case referred to the partner. The index keeps, per partner, the ref of
// each case referred to it (ref -> case_id, in ref order, and back), so that
// a lookup costs O(log n) and a page in ref order O(page + log n).
//
// The index is only a hint, never the authority: a ref maps to the same case
// for as long as the process holds the same PartnerPseudonyms (refs are
// deterministic, and the key is read once at startup: a new key means a new
// process, hence a new index), so an entry is never wrong, at most stale.
// Whoever reads through it checks, in its own read transaction, that the
// referral exists and that its case is owned by the node's region
// (FindPartnerReferral): a referral withdrawn, a case erased or a custody
// moved takes effect at once, whatever the index holds. What the index must
// not do is miss a case: CatchUp, called inside the reader's transaction
// before the lookup, brings the partner's entries up to that transaction's
// snapshot from the store's partner change log (ScanPartnerChanges: every
// referral begun, every custody change and every withdrawal or erasure logs
// a change for the partner, in commit order, positions never reused).
//
// Nothing is stored: the index lives in memory only, holds refs and case ids
// (no identifier), and drops a case's entry when the log says the partner's
// access to it ended (withdrawn or erased).
#ifndef RUTA_CORE_PARTNER_REF_INDEX_H_
#define RUTA_CORE_PARTNER_REF_INDEX_H_

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "ruta/core/partner_pseudonym.h"
#include "ruta/store/store.h"

namespace ruta::core::internal {

class PartnerRefIndex final {
 public:
  struct Entry {
    std::string ref;
    std::string case_id;
  };

  // `pseudonyms` must outlive the index; `region` is the node's region (the
  // first build of a partner's entries lists its referrals owned by it).
  PartnerRefIndex(const PartnerPseudonyms* pseudonyms, std::string region);
  PartnerRefIndex(const PartnerRefIndex&) = delete;
  PartnerRefIndex& operator=(const PartnerRefIndex&) = delete;

  // Brings `partner`'s entries up to `txn`'s snapshot: afterwards every case
  // referred to `partner` and owned by the region in that snapshot has its
  // entry, except one whose access a newer committed change already ended
  // (a concurrent reader with a newer snapshot applied it). The first call
  // for a partner lists its referrals (one HMAC each); later calls read only
  // the partner's changes after the last one applied (an HMAC per new
  // referral), usually none: one indexed range query. Thread-safe; store
  // errors are returned as they come.
  absl::Status CatchUp(store::ReadTxn& txn, const std::string& partner);

  // The case indexed under `ref` for `partner` (a hint, see above).
  std::optional<std::string> Find(const std::string& partner,
                                  const std::string& ref) const;

  // At most `max` entries of `partner` with a ref after `after` ("" for the
  // first), in ref order.
  std::vector<Entry> After(const std::string& partner, const std::string& after,
                           size_t max) const;

  // Number of entries of `partner` (for tests).
  size_t Size(const std::string& partner) const;

 private:
  struct Refs {
    bool built = false;
    int64_t through = 0;  // every change up to this position is applied
    std::map<std::string, std::string> by_ref;              // ref -> case
    absl::flat_hash_map<std::string, std::string> by_case;  // case -> ref
  };

  // The entries of `partner`, created empty when missing.
  Refs& RefsOf(const std::string& partner) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const PartnerPseudonyms* const pseudonyms_;
  const std::string region_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<std::string, std::unique_ptr<Refs>> partners_
      ABSL_GUARDED_BY(mu_);
};

}  // namespace ruta::core::internal

#endif  // RUTA_CORE_PARTNER_REF_INDEX_H_
