// Deadlines and retries of calls to a node. Every attempt has the deadline
// --timeout; UNAVAILABLE and DEADLINE_EXCEEDED are retried up to --retries
// times with exponential backoff and jitter (0.5 s, 1 s, 2 s, ...). A
// mutating call is retried with the SAME request (hence the same request_id),
// so the node applies it at most once.
#ifndef RUTA_CLI_RETRY_H_
#define RUTA_CLI_RETRY_H_

#include <functional>
#include <iosfwd>

#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "grpcpp/client_context.h"
#include "grpcpp/support/status.h"

namespace ruta::cli {

inline constexpr int kDefaultRetries = 3;
inline constexpr int kMaxRetries = 20;

struct RetryPolicy {
  // Deadline of each attempt.
  absl::Duration timeout = absl::Seconds(15);
  // Retries after the first attempt.
  int max_retries = kDefaultRetries;
  absl::Duration initial_backoff = absl::Milliseconds(500);
  absl::Duration max_backoff = absl::Seconds(30);
  // Each delay is scaled by a random factor in [1 - jitter, 1 + jitter].
  double jitter = 0.2;
};

// True for the codes worth retrying (UNAVAILABLE, DEADLINE_EXCEEDED).
bool IsRetryable(grpc::StatusCode code);

// Delay before retry number `retry` (0 for the first retry), given a uniform
// random number `unit` in [0, 1): initial_backoff * 2^retry, capped at
// max_backoff, times (1 - jitter + 2 * jitter * unit).
absl::Duration BackoffDelay(const RetryPolicy& policy, int retry, double unit);

struct CallOutcome {
  grpc::Status status;
  int attempts = 0;
};

// One attempt: performs the call with `context` (already carrying the
// deadline).
using Attempt = std::function<grpc::Status(grpc::ClientContext& context)>;

struct RetryHooks {
  // Sleeps between attempts (absl::SleepFor when empty).
  std::function<void(absl::Duration)> sleep;
  // Called before each retry (e.g. to open a fresh connection).
  std::function<void()> before_retry;
  // Uniform random number in [0, 1) for the jitter (absl::BitGen when empty).
  std::function<double()> random;
};

// Runs `attempt` until it succeeds, fails with a non-retryable code, or the
// retries are used up. Prints a note to `err` before each retry, naming
// `what` and, when non-empty, the request_id reused.
CallOutcome CallWithRetries(const RetryPolicy& policy, const Attempt& attempt,
                            absl::string_view what,
                            absl::string_view request_id, std::ostream& err,
                            const RetryHooks& hooks = {});

}  // namespace ruta::cli

#endif  // RUTA_CLI_RETRY_H_
