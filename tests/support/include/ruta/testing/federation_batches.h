// Signed federation batches as a peer's relay sends them, for tests and
// benchmarks of the receiving side (inbox, Exchange): cases shared by their
// owner, each followed by its transfer request to the receiver.
#ifndef RUTA_TESTING_FEDERATION_BATCHES_H_
#define RUTA_TESTING_FEDERATION_BATCHES_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/domain.h"
#include "ruta/federation/codec.h"
#include "ruta/security/signing.h"
#include "ruta/v1/federation.pb.h"

namespace ruta::testing {

// A victim case in residential care owned by `owner`, as its owner shares
// it. Its child is a person of its own (a fresh random ref), as a case
// opened without identifiers gets: with one ref for every case, the
// dashboard counters would recount all of them at each event.
core::Case SharedVictimCase(const std::string& case_id,
                            const std::string& owner);

// Makes the events and batches of one stream, `from` → `to`, signed with
// the dev PKI's signing key of `from` (key id "<from>/ed25519").
class FederationBatchMaker final {
 public:
  // Fails when the dev PKI has no signing key for `from`.
  static absl::StatusOr<std::unique_ptr<FederationBatchMaker>> Create(
      std::string from, std::string to);

  FederationBatchMaker(const FederationBatchMaker&) = delete;
  FederationBatchMaker& operator=(const FederationBatchMaker&) = delete;

  // The encoded events of `pairs` new cases shared by `from`, each followed
  // by its transfer request to `to`, with sequences `first`, `first` + 1, …
  // The case of pair `foreign_owner_pair` (-1: none) is said to be owned by
  // `to`, which the receiver refuses. Events are committed at a fixed time.
  std::vector<std::string> CasePairs(int64_t first, int pairs,
                                     int foreign_owner_pair = -1) const;

  // `events` in one batch with its signature.
  v1::EventBatch Sign(const std::vector<std::string>& events) const;

  // Sign(CasePairs(first, pairs, foreign_owner_pair)).
  v1::EventBatch SignedCasePairs(int64_t first, int pairs,
                                 int foreign_owner_pair = -1) const {
    return Sign(CasePairs(first, pairs, foreign_owner_pair));
  }

 private:
  FederationBatchMaker(std::string from, std::string to,
                       std::unique_ptr<security::Signer> signer);

  const std::string from_;
  const std::string to_;
  const std::unique_ptr<security::Signer> signer_;
  const federation::ProtoEventEncoder encoder_;
};

}  // namespace ruta::testing

#endif  // RUTA_TESTING_FEDERATION_BATCHES_H_
