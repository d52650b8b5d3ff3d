// Person links (DESIGN.md section 6): which person_refs are one child, and
// the node's linkage keys across rotations.
//
// Identifiers are never stored, so an existing ref cannot be recomputed under
// a new key. Instead:
//  - a node keeps every key version it ever used (LinkageKeys) and derives a
//    child's ref under each of them when it sees the child's identifiers
//    (OpenCase, FindPerson), so cases under an older version stay findable;
//  - when OpenCase finds cases under older refs of the same child, it joins
//    those refs into the current one (JoinPersons), so refs migrate to the
//    current key as children are seen again, and an old key can be retired
//    once no case carries its refs (Admin.RotateLinkageKey reports how many);
//  - MergePersons joins two refs an office found to be one child.
// A join rewrites the cases of one ref to the other and keeps the first as an
// alias of the second. Which one survives is a fixed total order
// (SurvivingPersonRef), so joins applied in any order, on either node,
// converge to the same ref.
#ifndef RUTA_CORE_PERSON_LINKS_H_
#define RUTA_CORE_PERSON_LINKS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ruta/core/federation.h"
#include "ruta/core/pseudonym.h"
#include "ruta/store/store.h"

namespace ruta::core {

// The node's linkage keyring and its current version, replaced whole by a
// rotation. Thread-safe.
class LinkageKeys final {
 public:
  struct Snapshot {
    std::shared_ptr<const LinkageKeyring> keyring;  // never null
    uint32_t current = 0;                           // a version in `keyring`
  };

  // Precondition: `keyring` non-null and holding `current`.
  LinkageKeys(std::shared_ptr<const LinkageKeyring> keyring, uint32_t current);
  LinkageKeys(const LinkageKeys&) = delete;
  LinkageKeys& operator=(const LinkageKeys&) = delete;

  Snapshot Get() const ABSL_LOCKS_EXCLUDED(mu_);
  // Precondition as for the constructor.
  void Set(std::shared_ptr<const LinkageKeyring> keyring, uint32_t current)
      ABSL_LOCKS_EXCLUDED(mu_);

 private:
  mutable absl::Mutex mu_;
  Snapshot snapshot_ ABSL_GUARDED_BY(mu_);
};

// The refs of one child under every key version of `snapshot`, the current
// version first, then the others from the highest down. INVALID_ARGUMENT as
// LinkageKeyring::DerivePersonRef.
absl::StatusOr<std::vector<std::string>> DeriveRefsUnderEveryVersion(
    const LinkageKeys::Snapshot& snapshot, const IdentityTuple& identity);

// Of two refs found to be one child, the one that survives: the higher key
// version (a linked ref over a random "pr0" one, a newer key over an older
// one), and between refs of one version the smaller in byte order.
const std::string& SurvivingPersonRef(const std::string& a,
                                      const std::string& b);

// The ref the cases of `ref` carry now: the ref it was joined into, or
// itself.
absl::StatusOr<std::string> ResolvePersonRef(store::ReadTxn& txn,
                                             const std::string& ref);

// The result of a join.
struct PersonJoin {
  std::string kept_ref;    // the surviving root
  std::string merged_ref;  // the root joined into it; empty when the two
                           // refs were already one
  int64_t cases_changed = 0;
};

// Joins the classes of refs `a` and `b` in the caller's transaction (both
// valid person refs). When `outbox` is given, sends PersonsMerged to every
// region a case of either class is shared with.
absl::StatusOr<PersonJoin> JoinPersons(store::WriteTxn& txn,
                                       const std::string& a,
                                       const std::string& b,
                                       const Outbox* outbox);

}  // namespace ruta::core

#endif  // RUTA_CORE_PERSON_LINKS_H_
