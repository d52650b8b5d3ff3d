// Signed checkpoints of the audit chain, exchanged between peer nodes so that
// removing the tail of a node's audit log is detected (DESIGN.md §5).
//
// Every `interval` a node signs (region, length, head hash, time) of its own
// chain with its region signing key and sends it to each configured peer
// (Federation.PutCheckpoint), which checks the signature with the sender
// region's public key and keeps the longest. When verifying its chain
// (Admin.VerifyAudit), a node asks each peer for what it holds
// (Federation.GetCheckpoint): a chain shorter than a checkpoint it once
// signed has lost its tail.
#ifndef RUTA_API_CHECKPOINTS_H_
#define RUTA_API_CHECKPOINTS_H_

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ruta/security/signing.h"
#include "ruta/security/tls.h"
#include "ruta/store/store.h"
#include "ruta/v1/federation.grpc.pb.h"

namespace ruta::api {

// Signing public keys of the configured regions, by region slug. A region
// without one has its checkpoints refused.
using SigningKeys =
    std::map<std::string, std::shared_ptr<const security::SignatureVerifier>>;

// OK when `checkpoint` is well formed (region set, length >= 0, 32-byte head
// hash) and signed by its region's key. FAILED_PRECONDITION when `keys` has no
// key for the region; INVALID_ARGUMENT for a malformed checkpoint or a
// signature that does not verify.
absl::Status CheckCheckpointSignature(const SigningKeys& keys,
                                      const store::AuditCheckpoint& checkpoint);

void CheckpointToProto(const store::AuditCheckpoint& checkpoint,
                       v1::AuditCheckpoint* out);
store::AuditCheckpoint CheckpointFromProto(const v1::AuditCheckpoint& proto);

// What one peer holds of this node's chain.
struct HeldCheckpoint {
  std::string holder;  // the peer's region slug
  // OK when the peer answered; otherwise why it could not be asked.
  absl::Status status;
  std::optional<store::AuditCheckpoint> checkpoint;  // none held: nullopt
};

// A peer node to exchange checkpoints with.
struct CheckpointPeer {
  std::string region;   // its region slug
  std::string address;  // "host:port"
  // PEM root CA(s) its node certificate must chain to (its region's CA);
  // empty: tls.ca_file.
  std::string ca_file;
};

struct CheckpointExchangeOptions {
  std::string region;  // this node's region slug; required
  std::vector<CheckpointPeer> peers;
  // The node's own client identity (its node certificate) and the default
  // roots. expected_server_region is set to each peer's region.
  security::ClientTlsOptions tls;
  // Signs this node's checkpoints; null: nothing is published (FetchHeld
  // still works).
  std::shared_ptr<const security::Signer> signer;
  // How often a checkpoint is published. Default 60 s.
  absl::Duration interval = absl::Seconds(60);
  // Deadline of every call to a peer. Default 10 s.
  absl::Duration rpc_timeout = absl::Seconds(10);
};

// Publishes this node's checkpoints to its peers and asks them what they
// hold. Thread-safe.
class CheckpointExchange final {
 public:
  // `store` must outlive the exchange. FAILED_PRECONDITION naming the file
  // when the TLS credentials cannot be loaded.
  static absl::StatusOr<std::unique_ptr<CheckpointExchange>> Create(
      CheckpointExchangeOptions options, store::Store* store);
  // Stops publishing (cancels the call of a round in progress).
  ~CheckpointExchange();
  CheckpointExchange(const CheckpointExchange&) = delete;
  CheckpointExchange& operator=(const CheckpointExchange&) = delete;

  // Starts publishing every `interval` (the first round at once) on a thread
  // of its own. Does nothing without a signer or peers.
  void Start();

  // One round now, blocking: signs the chain's current head and sends it to
  // every peer; one status per peer, in `peers` order (OK: the peer stored it
  // or holds a longer one, which is logged as a truncation alarm). Skips
  // (returns no statuses) without a signer or with an empty chain. Never
  // call it from a reactor or a store callback.
  std::vector<absl::Status> PublishNow();

  // Asks every peer, asynchronously, for the checkpoint it holds of this
  // node's chain; `done` gets one entry per peer, in `peers` order, on a gRPC
  // thread (it must not block). With no peers, `done` runs at once.
  void FetchHeld(std::function<void(std::vector<HeldCheckpoint>)> done) const;

  // The configured peers' region slugs.
  std::vector<std::string> peer_regions() const;

 private:
  struct Peer {
    std::string region;
    std::string address;
    std::unique_ptr<v1::Federation::Stub> stub;
  };
  CheckpointExchange(CheckpointExchangeOptions options, store::Store* store,
                     std::vector<Peer> peers);
  void Loop();

  const CheckpointExchangeOptions options_;
  store::Store* const store_;
  std::vector<Peer> peers_;

  // One round at a time (the loop's and PublishNow's).
  absl::Mutex publish_mu_;
  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // The call of the round in progress, cancelled on destruction.
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace ruta::api

#endif  // RUTA_API_CHECKPOINTS_H_
