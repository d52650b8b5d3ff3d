// The server stream of CaseOffice.WatchTransfers (private to api): sends
// every change of the region's transfers after a cursor, then waits for more
// (woken by the ChangeNotifier) until the client goes away. Never blocks: it
// reads through the store's async API and writes one update at a time.
#ifndef RUTA_API_TRANSFER_WATCH_H_
#define RUTA_API_TRANSFER_WATCH_H_

#include <cstdint>
#include <deque>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "ruta/api/conversions.h"
#include "ruta/core/change_notifier.h"
#include "ruta/core/ids.h"
#include "ruta/core/transfer_service.h"
#include "ruta/v1/case_office.pb.h"

namespace ruta::api::internal {

class TransferWatch final
    : public grpc::ServerWriteReactor<v1::WatchTransfersResponse> {
 public:
  // `after` < 0: start with the open transfers.
  TransferWatch(core::TransferService* transfers, core::ChangeNotifier* changes,
                core::Actor actor, int64_t after)
      : state_(std::make_shared<State>()) {
    state_->transfers = transfers;
    state_->changes = changes;
    state_->actor = std::move(actor);
    state_->after = after;
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
    core::TransferService* transfers = nullptr;
    core::ChangeNotifier* changes = nullptr;
    core::Actor actor;
    core::ChangeNotifier::Id subscription = 0;
    absl::Mutex mu;
    TransferWatch* reactor ABSL_GUARDED_BY(mu) = nullptr;
    int64_t after ABSL_GUARDED_BY(mu) = -1;  // position of the last queued
    std::deque<v1::WatchTransfersResponse> queue ABSL_GUARDED_BY(mu);
    bool reading ABSL_GUARDED_BY(mu) = false;
    bool woken_while_reading ABSL_GUARDED_BY(mu) = false;
    bool writing ABSL_GUARDED_BY(mu) = false;
    bool finished ABSL_GUARDED_BY(mu) = false;
    bool finish_called ABSL_GUARDED_BY(mu) = false;
  };

  static constexpr int kBatch = 200;

  // Ends the stream: now, or when the write in flight completes.
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

  // Reads the changes after the cursor, unless a read is in flight (then it
  // reads again when that one is done).
  static void Fetch(const std::shared_ptr<State>& state, bool woken) {
    int64_t after;
    {
      absl::MutexLock lock(&state->mu);
      if (state->finished || state->reactor == nullptr) return;
      if (state->reading) {
        state->woken_while_reading = state->woken_while_reading || woken;
        return;
      }
      // Still sending an earlier read's updates: it reads on when done.
      if (!state->queue.empty()) return;
      state->reading = true;
      state->woken_while_reading = false;
      after = state->after;
    }
    state->transfers->ReadTransferChanges(
        state->actor, after, kBatch,
        [state](absl::StatusOr<std::vector<store::TransferChange>> changes) {
          absl::MutexLock lock(&state->mu);
          state->reading = false;
          TransferWatch* reactor = state->reactor;
          if (reactor == nullptr || state->finished) return;
          if (!changes.ok()) {
            return reactor->FinishLocked(ToGrpcStatus(changes.status()));
          }
          for (store::TransferChange& change : *changes) {
            state->after = change.position;
            if (change.transfer.transfer_id.empty()) continue;  // marker
            v1::WatchTransfersResponse update;
            ToProto(change.transfer, update.mutable_transfer());
            update.set_cursor(
                core::EncodePageToken(absl::StrCat(change.position)));
            state->queue.push_back(std::move(update));
          }
          const bool more = static_cast<int>(changes->size()) >= kBatch ||
                            state->woken_while_reading;
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
      // Caught up: read on (anything committed meanwhile), then wait.
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

#endif  // RUTA_API_TRANSFER_WATCH_H_
