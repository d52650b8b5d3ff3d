// ruta::store relay lease — which replica of a node relays its outbox.
//
// Several `ruta-node` processes of one region (replicas) may share one
// PostgreSQL database: every replica serves clients and writes, but exactly
// one at a time may relay the outbox to the peers (DESIGN.md section 7). The
// lease decides which:
//
//  * PostgreSQL (OpenPostgresRelayLease): the lease is a session advisory
//    lock, pg_try_advisory_lock(kRelayLeaseClass, RelayLeaseKey(region)),
//    held by a connection dedicated to it. A replica without it tries again
//    every `poll_interval`. The holder watches its connection (socket
//    readable, and a round trip every `poll_interval`): a connection that
//    breaks or does not answer within `check_timeout` is the lease lost, at
//    once (`on_lost` runs before the connection is even closed). The server
//    releases the lock when the holder's session ends: a killed process
//    closes its socket at once; for a host or network that vanishes the
//    lease connection sets TCP keepalives (5 s idle, 2 s interval, 3 probes)
//    so that the server ends the session within about 11 s.
//  * SQLite (MakeExclusiveRelayLease): one process per database file, so the
//    lease is always held.
//
// Exactly-once delivery never depends on the lease alone: a replica that
// loses it while a batch is in flight may still deliver it, and two stampers
// cannot give two events one sequence (WriteTxn::StampOutbox checks it in
// the serialized write); the peer's inbox ignores what it has already
// applied. The lease keeps relaying to one replica so that streams do not
// fight.
//
// Thread-safety: `held()` may be called from any thread. The callbacks run
// on the lease's own thread, one at a time, alternating (gained, lost,
// gained, ...); they may block (start or stop the relay) but must not call
// back into the lease's destructor.
#ifndef RUTA_STORE_RELAY_LEASE_H_
#define RUTA_STORE_RELAY_LEASE_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace ruta::store {

struct RelayLeaseOptions {
  // The node's region; the lock key is derived from it (RelayLeaseKey), so
  // two regions may share one server. Required.
  std::string region;
  // Called when this replica gains the lease: start relaying.
  std::function<void()> on_gained;
  // Called when it loses the lease: stop relaying. Not called when the lease
  // is destroyed while held (the owner stops relaying itself).
  std::function<void()> on_lost;
  // How often a replica without the lease tries to take it, and how often
  // the holder checks its connection. Default 1 s (config:
  // federation.relay_takeover_poll_ms).
  absl::Duration poll_interval = absl::Seconds(1);
  // The holder's connection check must answer within this. Default 5 s.
  absl::Duration check_timeout = absl::Seconds(5);
};

class RelayLease {
 public:
  // Stops trying; a held lease is released (its connection closed). Does not
  // call on_lost.
  virtual ~RelayLease() = default;
  // Whether this process holds the lease now (on_gained has run and on_lost
  // has not since).
  virtual bool held() const = 0;
};

// The first half of the PostgreSQL lock key (advisory locks with two int4
// keys): "ruta" in ASCII. The one-bigint form used elsewhere (the store's
// write lock) is a separate key space, so they never collide.
inline constexpr int32_t kRelayLeaseClass = 0x72757461;

// The second half: the first 4 bytes of SHA-256("ruta.relay-lease.v1/" +
// region), big-endian, as a signed int32. Stable across versions.
int32_t RelayLeaseKey(const std::string& region);

// A lease that is always held: on_gained runs once, on the caller's thread,
// before this returns. For SQLite, whose database has one process.
std::unique_ptr<RelayLease> MakeExclusiveRelayLease(RelayLeaseOptions options);

struct PostgresRelayLeaseOptions {
  // libpq connection string and password, as for OpenPostgresStore (the
  // password is never logged or shown in an error).
  std::string conninfo;
  std::string password;
  RelayLeaseOptions lease;
};

// Starts the lease's thread, which connects and tries to take the lock at
// once and then every poll_interval; returns without waiting for it.
// INVALID_ARGUMENT without a region or with a malformed conninfo, or a
// non-positive poll_interval. An unreachable server is not an error: the
// thread keeps trying (logging a warning each time the state changes).
absl::StatusOr<std::unique_ptr<RelayLease>> OpenPostgresRelayLease(
    PostgresRelayLeaseOptions options);

}  // namespace ruta::store

#endif  // RUTA_STORE_RELAY_LEASE_H_
