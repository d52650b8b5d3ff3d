#include "ruta/cli/retry.h"

#include <algorithm>
#include <ostream>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ruta/cli/errors.h"

namespace ruta::cli {

bool IsRetryable(grpc::StatusCode code) {
  return code == grpc::StatusCode::UNAVAILABLE ||
         code == grpc::StatusCode::DEADLINE_EXCEEDED;
}

absl::Duration BackoffDelay(const RetryPolicy& policy, int retry, double unit) {
  absl::Duration delay = policy.initial_backoff;
  for (int i = 0; i < retry && delay < policy.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, policy.max_backoff);
  const double factor = 1.0 - policy.jitter + 2.0 * policy.jitter * unit;
  return delay * factor;
}

CallOutcome CallWithRetries(const RetryPolicy& policy, const Attempt& attempt,
                            absl::string_view what,
                            absl::string_view request_id, std::ostream& err,
                            const RetryHooks& hooks) {
  absl::BitGen gen;
  CallOutcome outcome;
  for (int retry = 0;; ++retry) {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + policy.timeout));
    outcome.status = attempt(context);
    ++outcome.attempts;
    if (outcome.status.ok() || !IsRetryable(outcome.status.error_code()) ||
        retry >= policy.max_retries) {
      return outcome;
    }
    const double unit =
        hooks.random ? hooks.random() : absl::Uniform(gen, 0.0, 1.0);
    const absl::Duration delay = BackoffDelay(policy, retry, unit);
    err << absl::StrFormat(
        "ruta: %s: attempt %d of %d failed (%s); retrying "
        "in %.1f s",
        what, outcome.attempts, policy.max_retries + 1,
        StatusCodeName(outcome.status.error_code()),
        absl::ToDoubleSeconds(delay));
    if (!request_id.empty()) {
      err << " with the same request_id " << request_id;
    }
    err << "\n" << std::flush;
    if (hooks.sleep) {
      hooks.sleep(delay);
    } else {
      absl::SleepFor(delay);
    }
    if (hooks.before_retry) hooks.before_retry();
  }
}

}  // namespace ruta::cli
