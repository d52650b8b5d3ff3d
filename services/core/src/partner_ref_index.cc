#include "partner_ref_index.h"

#include <utility>

#include "ruta/common/status_macros.h"

namespace ruta::core::internal {
namespace {

// Changes read per ScanPartnerChanges while catching up.
constexpr int kScanBatch = 1000;

}  // namespace

PartnerRefIndex::PartnerRefIndex(const PartnerPseudonyms* pseudonyms,
                                 std::string region)
    : pseudonyms_(pseudonyms), region_(std::move(region)) {}

PartnerRefIndex::Refs& PartnerRefIndex::RefsOf(const std::string& partner) {
  std::unique_ptr<Refs>& refs = partners_[partner];
  if (refs == nullptr) refs = std::make_unique<Refs>();
  return *refs;
}

absl::Status PartnerRefIndex::CatchUp(store::ReadTxn& txn,
                                      const std::string& partner) {
  bool built = false;
  int64_t through = 0;
  {
    absl::MutexLock lock(&mu_);
    const Refs& refs = RefsOf(partner);
    built = refs.built;
    through = refs.through;
  }
  if (!built) {
    // The referrals of this snapshot, and the log position they reflect;
    // the HMACs outside the lock.
    RUTA_ASSIGN_OR_RETURN(const int64_t high, txn.LastPartnerChange());
    RUTA_ASSIGN_OR_RETURN(std::vector<store::PartnerReferral> referrals,
                          txn.ListPartnerReferrals(partner, region_));
    std::vector<Entry> entries;
    entries.reserve(referrals.size());
    for (store::PartnerReferral& r : referrals) {
      entries.push_back(
          {pseudonyms_->CaseRefFor(partner, r.case_id), std::move(r.case_id)});
    }
    absl::MutexLock lock(&mu_);
    Refs& refs = RefsOf(partner);
    if (!refs.built) {
      for (Entry& e : entries) {
        refs.by_case[e.case_id] = e.ref;
        refs.by_ref[std::move(e.ref)] = std::move(e.case_id);
      }
      refs.built = true;
      refs.through = high;
      return absl::OkStatus();
    }
    // Another reader built it meanwhile: catch up from there.
    through = refs.through;
  }
  while (true) {
    RUTA_ASSIGN_OR_RETURN(std::vector<store::PartnerChange> changes,
                          txn.ScanPartnerChanges(partner, through, kScanBatch));
    if (changes.empty()) return absl::OkStatus();
    absl::MutexLock lock(&mu_);
    Refs& refs = RefsOf(partner);
    for (const store::PartnerChange& change : changes) {
      // Applied already by a reader whose snapshot went further.
      if (change.position <= refs.through) continue;
      auto known = refs.by_case.find(change.case_id);
      if (change.withdrawn) {
        if (known != refs.by_case.end()) {
          refs.by_ref.erase(known->second);
          refs.by_case.erase(known);
        }
      } else if (known == refs.by_case.end()) {
        std::string ref = pseudonyms_->CaseRefFor(partner, change.case_id);
        refs.by_case[change.case_id] = ref;
        refs.by_ref[std::move(ref)] = change.case_id;
      }
      refs.through = change.position;
    }
    if (static_cast<int>(changes.size()) < kScanBatch) {
      return absl::OkStatus();
    }
    through = changes.back().position;
  }
}

std::optional<std::string> PartnerRefIndex::Find(const std::string& partner,
                                                 const std::string& ref) const {
  absl::MutexLock lock(&mu_);
  auto refs = partners_.find(partner);
  if (refs == partners_.end()) return std::nullopt;
  auto it = refs->second->by_ref.find(ref);
  if (it == refs->second->by_ref.end()) return std::nullopt;
  return it->second;
}

std::vector<PartnerRefIndex::Entry> PartnerRefIndex::After(
    const std::string& partner, const std::string& after, size_t max) const {
  std::vector<Entry> out;
  absl::MutexLock lock(&mu_);
  auto refs = partners_.find(partner);
  if (refs == partners_.end()) return out;
  for (auto it = refs->second->by_ref.upper_bound(after);
       it != refs->second->by_ref.end() && out.size() < max; ++it) {
    out.push_back({it->first, it->second});
  }
  return out;
}

size_t PartnerRefIndex::Size(const std::string& partner) const {
  absl::MutexLock lock(&mu_);
  auto refs = partners_.find(partner);
  return refs == partners_.end() ? 0 : refs->second->by_ref.size();
}

}  // namespace ruta::core::internal
