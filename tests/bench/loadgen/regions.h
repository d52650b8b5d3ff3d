// The workloads of ruta-bench that need both regions' nodes (Madre de Dios
// sending, Cusco receiving): federation events durably applied by the peer,
// the week-offline catch-up, the dashboard's tables (which merge both
// regions' counters) and the end-to-end visibility of a transfer. Each
// server is a separate ruta-node process; the receiver's CPU is read from
// /proc.
#ifndef RUTA_BENCH_LOADGEN_REGIONS_H_
#define RUTA_BENCH_LOADGEN_REGIONS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "servers.h"

namespace ruta::bench {

// Waits until `sender`'s relay has `events` events in its outbox for its
// peer (RelayStatus.last_sequence; up to 60 s). FAILED_PRECONDITION saying
// what it holds when that is not `events`.
absl::Status AwaitQueued(const Server& sender, int64_t events);

struct ApplyResult {
  int64_t events = 0;  // the backlog: events of the sender's stream
  // From the receiver's health SERVING to its last event applied (includes
  // the sender's reconnection, at most 250 ms with the harness's config).
  double total_seconds = 0;
  // From the first applied event seen to the last: the streaming span.
  double streaming_seconds = 0;
  // Events applied per second over the streaming span.
  double rate = 0;
  // The receiver's CPU time (utime + stime) over the streaming span per
  // event applied in it, µs.
  double cpu_us_per_event = 0;
  int64_t receiver_max_rss_kib = -1;
};

// Starts the receiving node described by `receiver` (its port is the one
// `sender`'s relay points at; `metrics` must be set) and measures until it
// has durably applied all `events` events that `sender` queued for it:
// polls the receiver's ruta_federation_events_applied_total (incremented
// once an applied batch committed) every 20 ms, then checks that `sender`
// sees them acknowledged. The receiver is left running in `*started`.
// `timeout`: the longest wait for the backlog to be applied.
absl::StatusOr<ApplyResult> MeasureApply(const Server& sender,
                                         const NodeOptions& receiver,
                                         int64_t events, absl::Duration timeout,
                                         Server* started);

// Writes, into a fresh SQLite database of `region` in `dir` (created), the
// dashboard counters `cases` cases of that region leave
// (AddDashboardCounters) and the aggregates_version setting of this
// build, so that a node started on it serves those counters as they are
// (a node recounts the counters from its stored records only when that
// setting differs). The schema is the node's own (OpenSqliteStore applies
// the migrations). Returns the number of counter keys written.
absl::StatusOr<int64_t> PrepareDashboardDatabase(const std::string& dir,
                                                 const std::string& region,
                                                 int64_t cases, uint64_t seed);

// One dashboard table's GetTable latencies.
struct TableTimes {
  std::string table;
  double first_ms = 0;     // the first call (not in `ms`)
  std::vector<double> ms;  // the measured calls
};

// Dashboard.GetTable for every table the node lists (ListTables), both
// regions, the 20 quarters 2022Q1..2026Q4, one call at a time, as the
// region's dashboard client: one first call per table (the very first also
// fetches the peer's counters, which the node then caches), then `rounds`
// rounds over all tables.
absl::StatusOr<std::vector<TableTimes>> MeasureDashboard(const Server& node,
                                                         int rounds);

// Requests `transfers` transfers at `sender` (Madre de Dios), one at a
// time at most `per_second` a second, each waiting until it is visible, and
// returns for each the time from sending RequestTransfer to `receiver`'s
// (Cusco's) CaseOffice.WatchTransfers stream delivering it, ms. Opens the
// cases (in care) first, and sends 5 unmeasured transfers before (the
// stream and the federation link up). DEADLINE_EXCEEDED when one is not
// visible within 10 s.
absl::StatusOr<std::vector<double>> MeasureEndToEnd(const Server& sender,
                                                    const Server& receiver,
                                                    int transfers,
                                                    double per_second);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_REGIONS_H_
