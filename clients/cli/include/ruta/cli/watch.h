// `ruta transfer watch`: following a WatchTransfers server stream across
// breaks, apart from gRPC (the stream itself is a function, so that the
// resume logic is testable).
//
// Every update is handed on as it arrives and its cursor becomes the resume
// point: a new stream asks for the updates after the last cursor handed on,
// so none is lost or repeated. A stream that breaks with UNAVAILABLE or
// DEADLINE_EXCEEDED (or that the node ends) is reopened after a backoff
// (RetryPolicy: 0.5 s, 1 s, 2 s, ... capped at 30 s, with jitter). Until
// the watch is established (a stream delivered an update, stayed open
// `healthy_after`, or reached its lifetime) at most `retry.max_retries`
// reopenings in a row are tried, so that a wrong address or certificate
// fails like any command; once established it reopens for as long as it
// takes. A stream that reaches its lifetime is reopened at once.
//
// A finite stream (WatchPolicy::finite: `ruta admin audit export`) is
// followed the same way, but the node ending it with OK completes it, and
// at most `retry.max_retries` reopenings in a row are tried even once
// established; only a stream that delivered updates resets the count (one
// that reaches its lifetime without delivering any is a failure).
#ifndef RUTA_CLI_WATCH_H_
#define RUTA_CLI_WATCH_H_

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/support/status.h"
#include "ruta/cli/retry.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::cli {

// How long one stream stays open before it is renewed.
inline constexpr absl::Duration kWatchStreamLifetime = absl::Minutes(30);

struct WatchPolicy {
  // Backoff between reopenings; max_retries: reopenings in a row allowed
  // before the watch is established.
  RetryPolicy retry;
  // A stream that stayed open this long before it broke was healthy.
  absl::Duration healthy_after = absl::Seconds(15);
  // The stream ends by itself once it has sent everything: an OK end
  // completes the follow instead of being reopened, failures in a row are
  // limited to retry.max_retries even once established, healthy_after does
  // not apply, and a stream that reaches its lifetime without delivering is
  // a failure.
  bool finite = false;
};

// How one stream ended.
struct StreamEnd {
  grpc::Status status;
  // True when it reached its lifetime (the client's own deadline): it is
  // reopened at once, as no failure.
  bool renewed = false;
  // How long it was open, once connected (zero when it never was): time
  // spent connecting does not make a stream healthy.
  absl::Duration open_for = absl::ZeroDuration();
};

using WatchUpdateSink =
    std::function<void(const ruta::v1::WatchTransfersResponse& update)>;

// Opens one stream with `request`, hands every update to `sink` as it
// arrives, and returns how the stream ended.
using OpenWatchStream =
    std::function<StreamEnd(const ruta::v1::WatchTransfersRequest& request,
                            const WatchUpdateSink& sink)>;

struct WatchHooks {
  // True once the user asked to stop (SIGINT, SIGTERM).
  std::function<bool()> stopped;
  // Waits `delay`; false when a stop interrupted it (absl::SleepFor when
  // empty).
  std::function<bool(absl::Duration delay)> sleep;
  // Called before each reopening after a failure (e.g. a fresh channel).
  std::function<void()> before_reopen;
  // Uniform random number in [0, 1) for the jitter.
  std::function<double()> random;
};

// The request of the next stream, resuming after `last_cursor` (empty: from
// the start, the current state of every open transfer).
ruta::v1::WatchTransfersRequest NextWatchRequest(absl::string_view last_cursor);

struct WatchOutcome {
  // OK when stopped or completed; else the status that ended the watch.
  grpc::Status status;
  bool stopped = false;
  // A finite stream that the node ended with OK: everything was delivered.
  bool completed = false;
  // The last cursor handed on (or the starting one): where to resume.
  std::string cursor;
  // Streams that failed in a row at the end (for the error's hint).
  int attempts = 0;
  int64_t updates = 0;
};

// Follows the stream from `cursor` until stopped or it fails for good.
// Prints a note on `err` before each reopening after a failure.
WatchOutcome WatchWithResume(const WatchPolicy& policy,
                             const std::string& cursor,
                             const OpenWatchStream& open,
                             const WatchUpdateSink& sink, std::ostream& err,
                             const WatchHooks& hooks = {});

// The same for any resumable stream (`ruta partner watch`): `open` opens one
// stream resuming after the cursor it is given and calls `delivered` with
// the cursor of every update it handed on (after printing it). `what`
// names the watch in notes and errors ("watch transfers").
using OpenCursorStream = std::function<StreamEnd(
    const std::string& cursor,
    const std::function<void(const std::string& cursor)>& delivered)>;
WatchOutcome FollowWithResume(const WatchPolicy& policy,
                              const std::string& cursor,
                              const OpenCursorStream& open,
                              absl::string_view what, std::ostream& err,
                              const WatchHooks& hooks = {});

}  // namespace ruta::cli

#endif  // RUTA_CLI_WATCH_H_
