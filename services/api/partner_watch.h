// The server stream of PartnerStatus.WatchReferredCases (private to api):
// sends the partner's updates after a cursor (core::PartnerService::
// ReadChanges), then waits for more (woken by the ChangeNotifier, notified
// after every commit) until the client goes away. Never blocks: it reads
// through the store's async API and writes one update at a time. Built as
// TransferWatch (transfer_watch.h), with the cursor as a string.
#ifndef RUTA_API_PARTNER_WATCH_H_
#define RUTA_API_PARTNER_WATCH_H_

#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "ruta/api/conversions.h"
#include "ruta/core/change_notifier.h"
#include "ruta/core/partner_service.h"
#include "ruta/v1/partner_status.pb.h"

namespace ruta::api::internal {

// Fills `out` from `view` (partner_status_service.cc).
void PartnerCaseToProto(const core::PartnerCaseView& view,
                        v1::ReferredCase* out);

class PartnerWatch final
    : public grpc::ServerWriteReactor<v1::WatchReferredCasesResponse> {
 public:
  // `cursor` empty: start with the current state of every referred case.
  PartnerWatch(core::PartnerService* partners, core::ChangeNotifier* changes,
               core::Actor actor, std::string cursor)
      : state_(std::make_shared<State>()) {
    state_->partners = partners;
    state_->changes = changes;
    state_->actor = std::move(actor);
    state_->cursor = std::move(cursor);
    state_->reactor = this;
    std::weak_ptr<State> weak = state_;
    state_->subscription = changes->Subscribe([weak] {
      if (auto state = weak.lock()) Fetch(state, /*woken=*/true);
    });
    Fetch(state_, /*woken=*/false);
  }

  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&state_->mu);
    state_->writing = false;
    if (!ok || state_->finished) {
      state_->finished = true;
      return FinishOnceLocked(grpc::Status::CANCELLED);
    }
    state_->queue.pop_front();
    WriteNextLocked(state_);
  }

  void OnCancel() override {
    absl::MutexLock lock(&state_->mu);
    FinishLocked(grpc::Status::CANCELLED);
  }

  void OnDone() override {
    state_->changes->Unsubscribe(state_->subscription);
    {
      absl::MutexLock lock(&state_->mu);
      state_->reactor = nullptr;
    }
    delete this;
  }

 private:
  struct State {
    core::PartnerService* partners = nullptr;
    core::ChangeNotifier* changes = nullptr;
    core::Actor actor;
    core::ChangeNotifier::Id subscription = 0;
    absl::Mutex mu;
    PartnerWatch* reactor ABSL_GUARDED_BY(mu) = nullptr;
    // Cursor after the last queued update.
    std::string cursor ABSL_GUARDED_BY(mu);
    std::deque<v1::WatchReferredCasesResponse> queue ABSL_GUARDED_BY(mu);
    bool reading ABSL_GUARDED_BY(mu) = false;
    bool woken_while_reading ABSL_GUARDED_BY(mu) = false;
    bool writing ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    bool finish_called ABSL_GUARDED_BY(mu) = false;
  };

  static constexpr int kBatch = 100;

  void FinishLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    state_->finished = true;
    if (!state_->writing) FinishOnceLocked(status);
  }

  void FinishOnceLocked(const grpc::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state_->mu) {
    if (state_->finish_called) return;
    state_->finish_called = true;
    Finish(status);
  }

  static void Fetch(const std::shared_ptr<State>& state, bool woken) {
    std::string cursor;
    {
      absl::MutexLock lock(&state->mu);
      if (state->finished || state->reactor == nullptr) return;
      if (state->reading) {
        state->woken_while_reading = state->woken_while_reading || woken;
        return;
      }
      if (!state->queue.empty()) return;
      state->reading = true;
      state->woken_while_reading = false;
      cursor = state->cursor;
    }
    state->partners->ReadChanges(
        state->actor, std::move(cursor), kBatch,
        [state](absl::StatusOr<std::vector<core::PartnerUpdate>> updates) {
          absl::MutexLock lock(&state->mu);
          state->reading = false;
          PartnerWatch* reactor = state->reactor;
          if (reactor == nullptr || state->finished) return;
          if (!updates.ok()) {
            return reactor->FinishLocked(ToGrpcStatus(updates.status()));
          }
          // A batch that moved the cursor without anything to send (the
          // end of the initial state, a full snapshot page) reads on.
          bool moved = false;
          for (core::PartnerUpdate& update : *updates) {
            moved = moved || update.cursor != state->cursor;
            state->cursor = update.cursor;
            if (update.marker) continue;
            v1::WatchReferredCasesResponse out;
            PartnerCaseToProto(update.view, out.mutable_case_());
            out.set_withdrawn(update.withdrawn);
            out.set_cursor(std::move(update.cursor));
            state->queue.push_back(std::move(out));
          }
          const bool more = (moved && !updates->empty() &&
                             static_cast<int>(updates->size()) >= kBatch) ||
                            state->woken_while_reading ||
                            (moved && updates->back().marker);
          if (!state->queue.empty()) {
            reactor->WriteNextLocked(state);
          } else if (more) {
            state->mu.Unlock();
            Fetch(state, false);
            state->mu.Lock();
          }
        });
  }

  void WriteNextLocked(const std::shared_ptr<State>& state)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(state->mu) {
    if (state->finished) {
      FinishOnceLocked(grpc::Status::CANCELLED);
      return;
    }
    if (state->queue.empty()) {
      state->mu.Unlock();
      Fetch(state, false);
      state->mu.Lock();
      return;
    }
    state->writing = true;
    StartWrite(&state->queue.front());
  }

  std::shared_ptr<State> state_;
};

}  // namespace ruta::api::internal

#endif  // RUTA_API_PARTNER_WATCH_H_
