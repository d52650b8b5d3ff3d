// The peers' aggregate counts for the dashboard (DESIGN.md §6): each peer
// node answers Federation.GetAggregateCounts with the raw counters of its
// own region; this node merges them with its own before suppression.
//
// Calls are asynchronous (never block a reactor), with a deadline of
// `rpc_timeout` (default 3 s), over mTLS with the node's own certificate,
// each peer's answer checked to come from that peer region's node. The last
// good answer per (peer, quarter range) is cached with its fetch time: a
// cached answer younger than `max_age` is used without asking; otherwise the
// peer is asked, and if it cannot answer, the cached answer is used and
// flagged stale, or — never fetched — the peer is flagged missing and its
// region left out.
#ifndef RUTA_API_PEER_COUNTS_H_
#define RUTA_API_PEER_COUNTS_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "ruta/api/checkpoints.h"
#include "ruta/core/dashboard.h"
#include "ruta/security/tls.h"
#include "ruta/v1/federation.grpc.pb.h"

namespace ruta::api {

struct PeerCountsOptions {
  std::vector<CheckpointPeer> peers;  // region, address, CA of each peer
  // The node's own client identity and default roots.
  security::ClientTlsOptions tls;
  // Deadline of each call. Default 3 s.
  absl::Duration rpc_timeout = absl::Seconds(3);
  // Cached counts older than this are refetched, and flagged stale when
  // the refetch fails. Default 300 s.
  absl::Duration max_age = absl::Seconds(300);
  // Cached ranges kept per peer (oldest evicted). Default 32.
  int max_cached_ranges = 32;
};

// One peer's part of a table.
struct PeerPart {
  std::string region;
  // The counters to merge; null when missing.
  std::shared_ptr<const core::RegionCounters> counters;
  absl::Time fetched_at = absl::InfinitePast();  // InfinitePast: never
  bool stale = false;
  bool missing = false;
  absl::Status last_error;  // why the last call failed (OK if it did not)
};

class PeerCounts final {
 public:
  // FAILED_PRECONDITION naming the file when TLS credentials cannot load.
  static absl::StatusOr<std::unique_ptr<PeerCounts>> Create(
      PeerCountsOptions options);
  ~PeerCounts();
  PeerCounts(const PeerCounts&) = delete;
  PeerCounts& operator=(const PeerCounts&) = delete;

  // The parts of `regions` (each must be a configured peer; others are
  // returned missing) for `range`; `done` runs once with one part per
  // region, in order, on a gRPC thread or at once (it must not block).
  void Get(const std::vector<std::string>& regions,
           const core::QuarterRange& range,
           std::function<void(std::vector<PeerPart>)> done);

  // Configured peer regions.
  std::vector<std::string> peer_regions() const;

 private:
  struct Cached {
    std::shared_ptr<const core::RegionCounters> counters;
    absl::Time fetched_at = absl::InfinitePast();
  };
  struct Peer {
    std::string region;
    std::unique_ptr<v1::Federation::Stub> stub;
  };
  // Shared with the calls in flight, which may end after the destructor.
  struct Cache {
    int max_ranges = 32;
    absl::Mutex mu;
    // "<region>|<from>|<to>" -> last good answer.
    std::map<std::string, Cached> entries ABSL_GUARDED_BY(mu);
    void Store(const std::string& key, Cached cached);
  };
  explicit PeerCounts(PeerCountsOptions options, std::vector<Peer> peers);

  const PeerCountsOptions options_;
  std::vector<Peer> peers_;
  std::shared_ptr<Cache> cache_;
};

}  // namespace ruta::api

#endif  // RUTA_API_PEER_COUNTS_H_
