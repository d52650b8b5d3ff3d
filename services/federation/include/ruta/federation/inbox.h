// The receiving side of federation (DESIGN.md section 7): verifies a signed
// batch from a peer region and applies its events exactly once, in order.
//
// Each batch is applied in one write transaction together with the new inbox
// position of its origin and the batch itself (signature and exact event
// bytes, kept as proof of what the peer sent). Events at or below the
// position were applied before and have no second effect; a batch that starts
// beyond position + 1 (a gap, or a sequence from the future) is refused,
// never skipped.
#ifndef RUTA_FEDERATION_INBOX_H_
#define RUTA_FEDERATION_INBOX_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
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
  // Called (on a store thread; must not block) after a batch that applied
  // new events committed.
  std::function<void()> on_applied;
};

class Inbox final {
 public:
  // `store` must outlive the inbox.
  Inbox(InboxOptions options, store::Store* store);
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  // Applies `batch` from `origin` (the caller's verified region). `done` gets
  // the highest sequence of `origin` now durably applied, or:
  //   FAILED_PRECONDITION no signing key for `origin`; or an event breaks the
  //                       authorship rules (core/federation.h);
  //   INVALID_ARGUMENT    empty or oversized batch, bad signature, malformed
  //                       event, events not consecutive, or an event not
  //                       from `origin` to this region;
  //   OUT_OF_RANGE        the batch does not continue the stream (gap);
  //   UNAVAILABLE/INTERNAL storage failure.
  // Nothing of a refused batch is applied. Never blocks.
  void ApplyBatch(const std::string& origin, const v1::EventBatch& batch,
                  std::function<void(absl::StatusOr<int64_t>)> done);

  // The highest sequence of `origin` applied here.
  void Position(const std::string& origin,
                std::function<void(absl::StatusOr<int64_t>)> done);

 private:
  const InboxOptions options_;
  store::Store* const store_;
};

}  // namespace ruta::federation

#endif  // RUTA_FEDERATION_INBOX_H_
