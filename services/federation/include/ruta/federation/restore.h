// What a node does when it starts on a restored backup (DESIGN.md section 7,
// docs/restore.md).
//
// The offline restore command (`ruta-node restore`) ends by writing the node
// setting kRestorePendingSetting = the backup's file name. While that setting
// is set (non-empty) the node is recovering:
//   1. it appends a "restored" record (core::kRestoreAuditMethod, subject the
//      backup name) to its audit chain, once;
//   2. from each peer (Federation.FetchReceived) it fetches back the batches
//      of its own stream that the peer had received past the node's last
//      stamped sequence, verifies each batch's signature with its OWN
//      region's signing key, and, in one write transaction per batch,
//      re-inserts the events into its outbox stamped with their sequences
//      (an event still unstamped in the backup gets its sequence; one
//      written after the backup is appended) and re-applies their local
//      effect where the restored store lacks it (core::ReapplyOwnEvent);
//      then records the peer's inbox position as acknowledged. So the next
//      new event gets the next sequence and the peer applies it;
//   3. it sends each peer a signed checkpoint of its chain with a restore
//      declaration naming the checkpoint that peer held (which the restored
//      chain no longer reaches), so that the peer replaces it instead of
//      flagging a truncation;
//   4. it clears the setting (sets it to "").
// Each step is idempotent and each batch is committed with the stream
// position it reaches, so a crash midway resumes where it stopped.
//
// Until recovery has completed the node must not relay its outbox nor accept
// its peers' batches (Ready() is UNAVAILABLE; Federation.Exchange answers
// with it; FetchReceived and PutCheckpoint stay served so that two nodes
// restored at once do not wait for each other): the relay would stamp the
// backup's unstamped events with sequences the peer already holds, and the
// peer's resent events could need the node's own fetched-back events. Clients
// may be served meanwhile (their events stay unstamped until the relay starts,
// so they follow the fetched-back ones).
#ifndef RUTA_FEDERATION_RESTORE_H_
#define RUTA_FEDERATION_RESTORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ruta/federation/relay.h"
#include "ruta/security/signing.h"
#include "ruta/security/tls.h"
#include "ruta/store/store.h"
#include "ruta/v1/federation.grpc.pb.h"

namespace ruta::federation {

// Node setting written by the restore command: the backup's file name while
// recovery is pending; empty (or absent) once it completed.
inline constexpr char kRestorePendingSetting[] = "restore.pending";
// Node setting: the backup name whose "restored" audit record is written
// (so that a resumed recovery does not write a second one).
inline constexpr char kRestoreAuditedSetting[] = "restore.audited";
// Node setting: the chain length before the "restored" record.
inline constexpr char kRestoreRestoredLengthSetting[] =
    "restore.restored_length";

struct RestoreRecoveryOptions {
  // This node's region. Required.
  std::string region;
  // Principal of the "restored" audit record. Default "node:<region>".
  std::string principal;
  // The node's own client certificate and key; ca_file is taken per peer.
  security::ClientTlsOptions tls;
  std::vector<RelayPeer> peers;
  // This region's signing key: signs the checkpoint and restore declaration.
  // Required (checked when a recovery is pending) when there are peers.
  std::shared_ptr<const security::Signer> signer;
  // This region's public signing key: verifies the fetched-back batches.
  // Required (checked when a recovery is pending) when there are peers.
  std::shared_ptr<const security::SignatureVerifier> own_key;
  // Most events asked for in one FetchReceived call. Default 1000.
  int max_events_per_call = 1000;
  // Deadline of each call to a peer. Default 30 s.
  absl::Duration rpc_timeout = absl::Seconds(30);
  // Wait before retrying a failed attempt: doubles from initial to max.
  // Defaults 200 ms and 30 s.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  // Called once, on the recovery thread, when recovery has completed (or
  // was not needed). Must not block for long.
  std::function<void()> on_recovered;
};

class RestoreRecovery final {
 public:
  // INVALID_ARGUMENT without a region; FAILED_PRECONDITION naming a TLS
  // file that cannot be loaded. Does not connect. `store` must outlive the
  // object.
  static absl::StatusOr<std::unique_ptr<RestoreRecovery>> Create(
      RestoreRecoveryOptions options, store::Store* store);
  // Stops retrying and joins the thread.
  ~RestoreRecovery();
  RestoreRecovery(const RestoreRecovery&) = delete;
  RestoreRecovery& operator=(const RestoreRecovery&) = delete;

  // Whether a recovery is pending in `store` (the setting is non-empty).
  static absl::StatusOr<bool> Pending(store::Store& store);

  // Runs recovery on a thread of its own, retrying with backoff until it
  // completes; then calls on_recovered. Call once.
  void Start();

  // One attempt, blocking (tests and tools; never from a reactor): OK when
  // recovery completed or was not needed; otherwise why it stopped (it can
  // be called again and resumes).
  absl::Status RunOnce();

  // OK once recovery completed (or was not needed); UNAVAILABLE before,
  // saying why federation is refused.
  absl::Status Ready() const;

 private:
  struct Peer {
    RelayPeer endpoint;
    std::unique_ptr<v1::Federation::Stub> stub;
  };
  RestoreRecovery(RestoreRecoveryOptions options, store::Store* store,
                  std::vector<Peer> peers);
  void Loop();
  absl::Status WriteRestoredRecord(const std::string& backup);
  absl::Status FetchBack(Peer& peer);
  absl::Status DeclareRestore(Peer& peer);
  // Runs one unary call `call(context)` to a peer with the recovery's
  // deadline, cancellable by the destructor; CANCELLED when stopping, else
  // the call's status with `what` in front of its message.
  absl::Status CallPeer(
      const std::string& what,
      const std::function<grpc::Status(grpc::ClientContext*)>& call);

  const RestoreRecoveryOptions options_;
  store::Store* const store_;
  std::vector<Peer> peers_;
  std::atomic<bool> ready_{false};

  absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* in_flight_ ABSL_GUARDED_BY(mu_) = nullptr;
  std::thread thread_;
};

}  // namespace ruta::federation

#endif  // RUTA_FEDERATION_RESTORE_H_
