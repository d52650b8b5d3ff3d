// The sending side of federation (DESIGN.md section 7): one relay per node,
// one stream per peer region.
//
// For each peer the relay (on its own thread; it never runs in a gRPC
// reactor) stamps the outbox's new events with the next sequences of that
// peer's stream, opens Federation.Exchange over mutual TLS (the peer must
// present a node identity of its region), says hello, learns from the first
// acknowledgement the highest sequence the peer has durably applied, and
// streams signed batches from there: at most `max_batch_events` per batch and
// `max_events_in_flight` unacknowledged (flow control). When the stream
// breaks, the peer refuses a batch, or acknowledgements stop for
// `ack_timeout` (a half-open or black-holed link), it reconnects after an
// exponential backoff with jitter and resumes from what the peer says it
// applied: nothing is skipped and the peer's inbox ignores what it already
// has.
#ifndef RUTA_FEDERATION_RELAY_H_
#define RUTA_FEDERATION_RELAY_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/security/signing.h"
#include "ruta/security/tls.h"
#include "ruta/store/store.h"

namespace ruta::federation {

struct RelayPeer {
  std::string region;   // slug
  std::string address;  // host:port of its node
  std::string ca_file;  // root CA(s) of its region
};

struct RelayOptions {
  // This node's region. Required.
  std::string region;
  // The node's own certificate and key (ca_file is taken per peer).
  security::ClientTlsOptions tls;
  std::vector<RelayPeer> peers;
  // Signs every batch. Required when there are peers.
  std::shared_ptr<const security::Signer> signer;
  // Sent with each batch (region slug and key version), e.g. "cusco/1".
  std::string signing_key_id;
  // Most events in one batch. Default 256.
  int max_batch_events = 256;
  // Most events sent and not yet acknowledged. Default 4096.
  int max_events_in_flight = 4096;
  // First and largest wait before reconnecting; the wait doubles after each
  // failed attempt and is drawn uniformly from [wait/2, wait]. Defaults
  // 200 ms and 30 s.
  absl::Duration initial_backoff = absl::Milliseconds(200);
  absl::Duration max_backoff = absl::Seconds(30);
  // Events in flight with no acknowledgement for this long: the link is
  // considered dead and the stream is reopened. Default 20 s.
  absl::Duration ack_timeout = absl::Seconds(20);
  // Deadline of one Exchange stream; a new one is opened after it. Default
  // 10 min.
  absl::Duration stream_lifetime = absl::Minutes(10);
  // The outbox is checked at least this often even without Notify: this
  // bounds how late events committed by another process (a replica sharing
  // a PostgreSQL database) are sent. Default 1 s.
  absl::Duration poll_interval = absl::Seconds(1);
  // Whether the relay streams once started. false: it idles until
  // SetRelaying(true) (a replica that does not hold the relay lease, see
  // ruta/store/relay_lease.h). Default true.
  bool start_relaying = true;
  // Deadline of connecting and of the hello's acknowledgement. Default 10 s.
  absl::Duration connect_timeout = absl::Seconds(10);
};

// Stamps up to `limit` unstamped outbox events of `destination`, in the
// order they were written, with the next sequences of that stream and the
// exact bytes that will be signed and sent; returns how many. `*last` is the
// stream's last stamped sequence (-1: read it from the store) and is
// advanced; the caller keeps it only if the transaction commits. Only one
// stamper per destination may run (the relay's peer thread), which is what
// keeps writers from contending on the sequence (DESIGN.md section 7).
absl::StatusOr<int> StampOutboxEvents(store::WriteTxn& txn,
                                      const std::string& destination, int limit,
                                      int64_t* last);

// The relay's state towards one peer.
struct RelayPeerStatus {
  std::string peer_region;
  int64_t last_sequence = 0;  // highest sequence stamped for the peer
  int64_t acknowledged = 0;   // highest sequence the peer acknowledged
  int64_t unstamped = 0;      // events written, not yet stamped
  bool connected = false;     // a stream is open and acknowledged
  absl::Time oldest_unacknowledged_at = absl::InfinitePast();  // or none
  std::string last_error;  // why the last stream ended; "" if none
};

class Relay final {
 public:
  // Validates the options and builds a channel per peer; does not connect.
  // INVALID_ARGUMENT / FAILED_PRECONDITION naming what is missing.
  // `store` must outlive the relay.
  static absl::StatusOr<std::unique_ptr<Relay>> Create(RelayOptions options,
                                                       store::Store* store);
  // Stops every stream and joins the threads.
  ~Relay();
  Relay(const Relay&) = delete;
  Relay& operator=(const Relay&) = delete;

  // Starts one thread per peer. Call once.
  void Start();
  // New events were committed: wakes the peers' threads. Never blocks.
  void Notify();
  // Switches relaying on or off (the relay lease was gained or lost). Off
  // cancels every open stream at once and idles the threads (a batch
  // already written may still reach the peer, whose inbox ignores it if
  // another replica delivers it again); on reads the streams' positions
  // afresh from the store, since another replica may have moved them.
  // Never blocks on the network.
  void SetRelaying(bool relaying);
  // The state towards each peer (store counters and connection state), via
  // `done` on a store thread. Never blocks.
  void GetStatus(
      std::function<void(absl::StatusOr<std::vector<RelayPeerStatus>>)> done)
      const;

 private:
  class PeerLink;
  Relay(RelayOptions options, store::Store* store,
        std::vector<std::unique_ptr<PeerLink>> links);

  const RelayOptions options_;
  store::Store* const store_;
  std::vector<std::unique_ptr<PeerLink>> links_;
};

}  // namespace ruta::federation

#endif  // RUTA_FEDERATION_RELAY_H_
