#include "ruta/core/person_links.h"

#include <map>
#include <utility>

#include "ruta/common/status_macros.h"
#include "ruta/core/aggregates.h"

namespace ruta::core {
namespace {

constexpr int kPage = 200;

// Adds to `first_case_by_region` the first case of `ref` shared with each
// region (the event names a case the receiver knows).
absl::Status CollectShares(
    store::ReadTxn& txn, const std::string& ref,
    std::map<std::string, std::string>* first_case_by_region) {
  store::CaseFilter filter;
  filter.person_ref = ref;
  std::string after;
  do {
    RUTA_ASSIGN_OR_RETURN(store::CasePage page,
                          txn.ListCases(filter, after, kPage));
    for (const Case& c : page.cases) {
      RUTA_ASSIGN_OR_RETURN(std::vector<std::string> shares,
                            txn.ListCaseShares(c.case_id));
      for (const std::string& region : shares) {
        first_case_by_region->emplace(region, c.case_id);
      }
    }
    after = std::move(page.next_after);
  } while (!after.empty());
  return absl::OkStatus();
}

}  // namespace

LinkageKeys::LinkageKeys(std::shared_ptr<const LinkageKeyring> keyring,
                         uint32_t current)
    : snapshot_{std::move(keyring), current} {}

LinkageKeys::Snapshot LinkageKeys::Get() const {
  absl::MutexLock lock(&mu_);
  return snapshot_;
}

void LinkageKeys::Set(std::shared_ptr<const LinkageKeyring> keyring,
                      uint32_t current) {
  absl::MutexLock lock(&mu_);
  snapshot_ = Snapshot{std::move(keyring), current};
}

absl::StatusOr<std::vector<std::string>> DeriveRefsUnderEveryVersion(
    const LinkageKeys::Snapshot& snapshot, const IdentityTuple& identity) {
  std::vector<std::string> refs;
  RUTA_ASSIGN_OR_RETURN(std::string current, snapshot.keyring->DerivePersonRef(
                                                 identity, snapshot.current));
  refs.push_back(std::move(current));
  for (uint32_t version : snapshot.keyring->versions()) {
    if (version == snapshot.current) continue;
    RUTA_ASSIGN_OR_RETURN(std::string ref,
                          snapshot.keyring->DerivePersonRef(identity, version));
    refs.push_back(std::move(ref));
  }
  return refs;
}

const std::string& SurvivingPersonRef(const std::string& a,
                                      const std::string& b) {
  const uint32_t va = PersonRefKeyVersion(a);
  const uint32_t vb = PersonRefKeyVersion(b);
  if (va != vb) return va > vb ? a : b;
  return a < b ? a : b;
}

absl::StatusOr<std::string> ResolvePersonRef(store::ReadTxn& txn,
                                             const std::string& ref) {
  RUTA_ASSIGN_OR_RETURN(std::optional<std::string> root,
                        txn.FindPersonAlias(ref));
  return root.has_value() ? *std::move(root) : ref;
}

absl::StatusOr<PersonJoin> JoinPersons(store::WriteTxn& txn,
                                       const std::string& a,
                                       const std::string& b,
                                       const Outbox* outbox) {
  RUTA_ASSIGN_OR_RETURN(std::string root_a, ResolvePersonRef(txn, a));
  RUTA_ASSIGN_OR_RETURN(std::string root_b, ResolvePersonRef(txn, b));
  PersonJoin join;
  if (root_a == root_b) {
    join.kept_ref = std::move(root_a);
    return join;
  }
  join.kept_ref = SurvivingPersonRef(root_a, root_b);
  join.merged_ref = join.kept_ref == root_a ? root_b : root_a;
  std::map<std::string, std::string> first_case_by_region;
  if (outbox != nullptr) {
    RUTA_RETURN_IF_ERROR(
        CollectShares(txn, join.kept_ref, &first_case_by_region));
    RUTA_RETURN_IF_ERROR(
        CollectShares(txn, join.merged_ref, &first_case_by_region));
  }
  RUTA_ASSIGN_OR_RETURN(
      CountedChange counted,
      CountedChange::Begin(txn, {}, {join.merged_ref, join.kept_ref}));
  RUTA_ASSIGN_OR_RETURN(join.cases_changed,
                        txn.JoinPersonRef(join.merged_ref, join.kept_ref));
  RUTA_RETURN_IF_ERROR(counted.Commit(txn));
  for (const auto& [region, case_id] : first_case_by_region) {
    if (region == outbox->region()) continue;
    RUTA_RETURN_IF_ERROR(outbox->Append(
        txn, region, case_id, PersonsMerged{join.kept_ref, join.merged_ref}));
  }
  return join;
}

}  // namespace ruta::core
