#include "ruta/cli/watch.h"

#include <ostream>

#include "absl/random/random.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ruta/cli/errors.h"

namespace ruta::cli {

ruta::v1::WatchTransfersRequest NextWatchRequest(
    absl::string_view last_cursor) {
  ruta::v1::WatchTransfersRequest request;
  request.set_cursor(std::string(last_cursor));
  return request;
}

WatchOutcome WatchWithResume(const WatchPolicy& policy,
                             const std::string& cursor,
                             const OpenWatchStream& open,
                             const WatchUpdateSink& sink, std::ostream& err,
                             const WatchHooks& hooks) {
  return FollowWithResume(
      policy, cursor,
      [&](const std::string& after,
          const std::function<void(const std::string&)>& delivered) {
        return open(NextWatchRequest(after),
                    [&](const ruta::v1::WatchTransfersResponse& update) {
                      sink(update);
                      delivered(update.cursor());
                    });
      },
      "watch transfers", err, hooks);
}

WatchOutcome FollowWithResume(const WatchPolicy& policy,
                              const std::string& cursor,
                              const OpenCursorStream& open,
                              absl::string_view what, std::ostream& err,
                              const WatchHooks& hooks) {
  absl::BitGen gen;
  const auto stopped = [&hooks] { return hooks.stopped && hooks.stopped(); };
  WatchOutcome outcome;
  outcome.cursor = cursor;
  bool established = false;
  int failures = 0;
  for (;;) {
    if (stopped()) {
      outcome.stopped = true;
      outcome.status = grpc::Status::OK;
      return outcome;
    }
    int64_t delivered = 0;
    const StreamEnd end =
        open(outcome.cursor, [&](const std::string& update_cursor) {
          ++delivered;
          if (!update_cursor.empty()) outcome.cursor = update_cursor;
        });
    outcome.updates += delivered;
    if (stopped()) {
      outcome.stopped = true;
      outcome.status = grpc::Status::OK;
      return outcome;
    }
    // A finite stream is healthy only by delivering: one that stayed quiet
    // until its lifetime is stuck, a failure (DEADLINE_EXCEEDED).
    const bool renewed = end.renewed && (!policy.finite || delivered > 0);
    const bool healthy =
        delivered > 0 || renewed ||
        (!policy.finite && end.open_for >= policy.healthy_after);
    if (healthy) {
      established = true;
      failures = 0;
    }
    if (renewed) continue;
    if (policy.finite && end.status.ok()) {
      outcome.completed = true;
      outcome.status = grpc::Status::OK;
      return outcome;
    }
    // A stream the node ended counts as UNAVAILABLE if the watch gives up.
    outcome.status = end.status.ok()
                         ? grpc::Status(grpc::StatusCode::UNAVAILABLE,
                                        "the node ended the stream")
                         : end.status;
    if (!end.status.ok() && !IsRetryable(end.status.error_code())) {
      outcome.attempts = failures + 1;
      return outcome;
    }
    ++failures;
    outcome.attempts = failures;
    const bool limited = !established || policy.finite;
    if (limited && failures > policy.retry.max_retries) return outcome;
    const double unit =
        hooks.random ? hooks.random() : absl::Uniform(gen, 0.0, 1.0);
    const absl::Duration delay = BackoffDelay(policy.retry, failures - 1, unit);
    const std::string why =
        end.status.ok()
            ? std::string("the node ended the stream")
            : absl::StrFormat("the stream ended (%s: %s)",
                              StatusCodeName(end.status.error_code()),
                              end.status.error_message());
    err << absl::StrFormat("ruta: %s: %s; reconnecting in %.1f s", what, why,
                           absl::ToDoubleSeconds(delay));
    if (outcome.cursor.empty()) {
      err << " from the start";
    } else {
      err << " after cursor " << outcome.cursor;
    }
    if (limited) {
      err << absl::StrFormat(" (attempt %d of %d failed)", failures,
                             policy.retry.max_retries + 1);
    }
    err << "\n" << std::flush;
    if (hooks.sleep) {
      if (!hooks.sleep(delay)) continue;  // stopped: the loop returns
    } else {
      absl::SleepFor(delay);
    }
    if (hooks.before_reopen) hooks.before_reopen();
  }
}

}  // namespace ruta::cli
