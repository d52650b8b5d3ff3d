// The receiving side of federation (DESIGN.md section 7): verifies a signed
// batch from a peer region and applies its events exactly once, in order.
//
// Each batch is applied in a write transaction together with the new inbox
// position of its origin and the batch itself (signature and exact event
// bytes, kept as proof of what the peer sent). Events at or below the
// position were applied before and have no second effect; a batch that starts
// beyond position + 1 (a gap, or a sequence from the future) is refused,
// never skipped.
//
// Batches handed in while the store is still applying earlier ones wait, and
// are then applied together, in the order they were handed in, in one
// transaction (up to `max_events_per_write` events): a peer catching up
// after a long outage pays one commit for several batches. Should one of
// them be refused, that transaction is rolled back and its batches are
// applied again one by one, each in its own transaction, so that the
// batches before the refused one are kept and each gets its own answer.
#ifndef RUTA_FEDERATION_INBOX_H_
#define RUTA_FEDERATION_INBOX_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "ruta/security/signing.h"
#include "ruta/store/store.h"
#include "ruta/v1/federation.pb.h"

namespace ruta::federation {

// Signing public keys by region slug.
using SigningKeys =
    std::map<std::string, std::shared_ptr<const security::SignatureVerifier>>;

struct InboxOptions {
  // This node's region. Required.
  std::string region;
  // Public keys of the peer regions; a batch from a region without one is
  // refused.
  SigningKeys signing_keys;
  // Most events accepted in one batch. Default 1000.
  int max_batch_events = 1000;
  // Most events of waiting batches applied together in one write
  // transaction (a batch is never split; a larger one is applied alone).
  // Default 4096.
  int max_events_per_write = 4096;
  // Called (on a store thread; must not block) after a write that applied
  // new events committed, before the `done` of its batches.
  std::function<void()> on_applied;
};

class Inbox final {
 public:
  // `store` must outlive the inbox.
  Inbox(InboxOptions options, store::Store* store);
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // Applies `batch` from `origin` (the caller's verified region). The
  // signature is verified and the events decoded before this returns (the
  // batch is not used afterwards); batches handed in one after the other are
  // applied in that order. `done` gets the highest sequence of `origin` now
  // durably applied, or:
  //   FAILED_PRECONDITION no signing key for `origin`; or an event breaks the
  //                       authorship rules (core/federation.h);
  //   INVALID_ARGUMENT    empty or oversized batch, bad signature, malformed
  //                       event, events not consecutive, or an event not
  //                       from `origin` to this region;
  //   OUT_OF_RANGE        the batch does not continue the stream (gap);
  //   UNAVAILABLE/INTERNAL storage failure.
  // Nothing of a refused batch is applied. Never blocks. `done` is called once,
  // on a store thread (on the caller's thread for a batch refused before it
  // reaches the store), and must not block.
  void ApplyBatch(const std::string& origin, const v1::EventBatch& batch,
                  std::function<void(absl::StatusOr<int64_t>)> done);

  // The highest sequence of `origin` applied here.
  void Position(const std::string& origin,
                std::function<void(absl::StatusOr<int64_t>)> done);

 private:
  // A batch verified and decoded, waiting for its write.
  struct Verified;
  using VerifiedList = std::vector<std::shared_ptr<Verified>>;

  // Applies one batch in `txn`: its events after the origin's position, the
  // batch record and the new position.
  static absl::Status ApplyOne(store::WriteTxn& txn, const std::string& region,
                               Verified& batch);
  // Queues the write that takes the waiting batches when it runs (the
  // caller set write_queued_).
  void QueueWrite() ABSL_LOCKS_EXCLUDED(mu_);
  // Applies `batches` again one by one after their common transaction was
  // refused; the queue waits until they are done.
  void ApplyOneByOne(std::shared_ptr<VerifiedList> batches)
      ABSL_LOCKS_EXCLUDED(mu_);
  // After a write: queues the next one if batches wait and nothing else
  // must come first.
  void WriteDone() ABSL_LOCKS_EXCLUDED(mu_);
  // Reports the outcome of `batch`'s write.
  void Report(Verified& batch, const absl::Status& status);

  const InboxOptions options_;
  store::Store* const store_;

  absl::Mutex mu_;
  // Batches handed in and not yet taken by a write, in order.
  std::deque<std::shared_ptr<Verified>> waiting_ ABSL_GUARDED_BY(mu_);
  // A write is queued or running that takes (took) waiting batches; the
  // next one is queued when it is done.
  bool write_queued_ ABSL_GUARDED_BY(mu_) = false;
  // Batches being applied again one by one: nothing else is written until
  // they are done, so that the order holds.
  int one_by_one_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ruta::federation

#endif  // RUTA_FEDERATION_INBOX_H_
