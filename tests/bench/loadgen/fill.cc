#include "fill.h"

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ruta/testing/requests.h"
#include "servers.h"

namespace ruta::bench {
namespace {

std::atomic<int64_t> next_request{1};
std::atomic<int64_t> next_case{1};

absl::Status FromGrpc(const std::string& what, const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      absl::StrCat(what, ": ", status.error_message()));
}

// One case going through OpenCase, two UpdateStage and maybe
// RequestTransfer, one call at a time, each started from the previous one's
// callback.
struct CaseChain {
  ruta::v1::CaseOffice::Stub* stub = nullptr;
  bool request_transfer = false;
  std::function<void(absl::Status, const std::string&)> done;
  std::string case_id;
  int step = 0;
  std::unique_ptr<grpc::ClientContext> context;
  ruta::v1::OpenCaseRequest open;
  ruta::v1::OpenCaseResponse opened;
  ruta::v1::UpdateStageRequest update;
  ruta::v1::UpdateStageResponse updated;
  ruta::v1::RequestTransferRequest transfer;
  ruta::v1::RequestTransferResponse requested;

  static void Next(std::shared_ptr<CaseChain> self) {
    self->context = std::make_unique<grpc::ClientContext>();
    self->context->set_deadline(
        absl::ToChronoTime(absl::Now() + kCallDeadline));
    CaseChain* c = self.get();
    switch (c->step) {
      case 0:
        c->open = NewOpenCase();
        c->stub->async()->OpenCase(
            c->context.get(), &c->open, &c->opened,
            [self](grpc::Status s) { Then(self, FromGrpc("OpenCase", s)); });
        return;
      case 1:
      case 2:
        if (c->step == 1) c->case_id = c->opened.case_().case_id();
        c->update.set_request_id(NextRequestId());
        c->update.set_case_id(c->case_id);
        c->update.set_stage(c->step == 1 ? ruta::v1::STAGE_IMMEDIATE_PROTECTION
                                         : ruta::v1::STAGE_RESIDENTIAL_CARE);
        c->stub->async()->UpdateStage(
            c->context.get(), &c->update, &c->updated,
            [self](grpc::Status s) { Then(self, FromGrpc("UpdateStage", s)); });
        return;
      case 3:
        c->transfer = NewTransferRequest(c->case_id);
        c->stub->async()->RequestTransfer(
            c->context.get(), &c->transfer, &c->requested,
            [self](grpc::Status s) {
              Then(self, FromGrpc("RequestTransfer", s));
            });
        return;
      default:
        c->done(absl::OkStatus(), c->case_id);
    }
  }

  static void Then(std::shared_ptr<CaseChain> self, absl::Status status) {
    if (!status.ok()) return self->done(status, self->case_id);
    ++self->step;
    if (self->step == 3 && !self->request_transfer) self->step = 4;
    Next(std::move(self));
  }
};

}  // namespace

std::string NextRequestId() {
  return absl::StrFormat("00000000-0000-4000-9000-%012d",
                         next_request.fetch_add(1));
}

ruta::v1::OpenCaseRequest NewOpenCase() {
  const int64_t n = next_case.fetch_add(1);
  return testing::VictimOpenCaseRequest(
      absl::StrFormat("00000000-0000-4000-8000-%012d", n),
      absl::StrFormat("%08d", n % 100000000));
}

ruta::v1::RequestTransferRequest NewTransferRequest(
    const std::string& case_id) {
  ruta::v1::RequestTransferRequest request;
  request.set_request_id(NextRequestId());
  request.set_case_id(case_id);
  request.set_to_region(kCusco);
  request.set_destination_province(kCuscoProvince);
  request.add_requested_services(ruta::v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  request.add_requested_services(ruta::v1::SERVICE_TYPE_PSYCHOSOCIAL);
  return request;
}

absl::Status RunItems(
    int64_t count, int in_flight,
    const std::function<void(int64_t, std::function<void(absl::Status)>)>&
        start,
    absl::Duration timeout, const std::function<void()>& every_10s) {
  struct State {
    absl::Mutex mu;
    int64_t next ABSL_GUARDED_BY(mu) = 0;
    int active ABSL_GUARDED_BY(mu) = 0;
    absl::Status first_error ABSL_GUARDED_BY(mu);
    // Every started item has finished, and no more will start.
    bool Finished(int64_t count) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return active == 0 && (next >= count || !first_error.ok());
    }
  };
  auto state = std::make_shared<State>();
  // The next item to start, counted active; -1 when none (all started, or
  // an error stopped the run).
  auto take = [state, count]() -> int64_t {
    absl::MutexLock lock(&state->mu);
    if (!state->first_error.ok() || state->next >= count) return -1;
    ++state->active;
    return state->next++;
  };
  std::function<void(int64_t)> run = [&run, &start, state, take](int64_t item) {
    start(item, [&run, state, take](absl::Status status) {
      {
        absl::MutexLock lock(&state->mu);
        --state->active;
        if (!status.ok() && state->first_error.ok()) {
          state->first_error = status;
        }
      }
      const int64_t following = take();
      if (following >= 0) run(following);
    });
  };
  for (int slot = 0; slot < in_flight; ++slot) {
    const int64_t item = take();
    if (item < 0) break;
    run(item);
  }
  const absl::Time deadline = absl::Now() + timeout;
  absl::MutexLock lock(&state->mu);
  while (!state->Finished(count)) {
    const absl::Duration left = deadline - absl::Now();
    if (left <= absl::ZeroDuration()) {
      // Calls still reference `start` and the caller's state: exiting is
      // the only safe way out.
      std::fprintf(stderr,
                   "ruta-bench: items still running after %s (%lld of %lld "
                   "started)\n",
                   absl::FormatDuration(timeout).c_str(),
                   static_cast<long long>(state->next),
                   static_cast<long long>(count));
      std::_Exit(1);
    }
    auto finished = [&state, count]() { return state->Finished(count); };
    if (!state->mu.AwaitWithTimeout(absl::Condition(&finished),
                                    std::min(left, absl::Seconds(10))) &&
        every_10s) {
      state->mu.Unlock();
      every_10s();
      state->mu.Lock();
    }
  }
  return state->first_error;
}

absl::StatusOr<std::vector<std::string>> OpenCasesInCare(
    const std::vector<std::unique_ptr<ruta::v1::CaseOffice::Stub>>& stubs,
    int64_t count, int in_flight, bool request_transfers,
    const std::function<void(int64_t)>& progress) {
  absl::Mutex mu;
  std::vector<std::string> ids;
  ids.reserve(static_cast<size_t>(count));
  std::atomic<int64_t> done{0};
  // Only a safety net (every call has its own deadline): 5 ms per call
  // (some 20 times what a call takes here) plus a minute.
  const absl::Duration timeout =
      absl::Minutes(1) +
      absl::Milliseconds(count * (request_transfers ? 20 : 15));
  absl::Status status = RunItems(
      count, in_flight,
      [&](int64_t item, std::function<void(absl::Status)> finished) {
        auto chain = std::make_shared<CaseChain>();
        chain->stub = stubs[static_cast<size_t>(item) % stubs.size()].get();
        chain->request_transfer = request_transfers;
        chain->done = [&, finished = std::move(finished)](
                          absl::Status s, const std::string& case_id) {
          if (s.ok()) {
            absl::MutexLock lock(&mu);
            ids.push_back(case_id);
          }
          done.fetch_add(1);
          finished(s);
        };
        CaseChain::Next(std::move(chain));
      },
      timeout,
      [&] {
        if (progress) progress(done.load());
      });
  if (!status.ok()) return status;
  absl::MutexLock lock(&mu);
  return ids;
}

}  // namespace ruta::bench
