#include "ruta/federation/inbox.h"

#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/federation.h"
#include "ruta/federation/codec.h"
#include "spdlog/spdlog.h"

namespace ruta::federation {

struct Inbox::Verified {
  std::vector<core::FederationEvent> events;
  store::InboxBatch record;  // what PutInboxBatch keeps
  std::function<void(absl::StatusOr<int64_t>)> done;
  // Set by ApplyOne: the origin's position after the batch, and whether the
  // batch applied events not applied before.
  int64_t applied_through = 0;
  bool applied_new = false;
};

Inbox::Inbox(InboxOptions options, store::Store* store)
    : options_(std::move(options)), store_(store) {}

void Inbox::ApplyBatch(const std::string& origin, const v1::EventBatch& batch,
                       std::function<void(absl::StatusOr<int64_t>)> done) {
  auto key = options_.signing_keys.find(origin);
  if (key == options_.signing_keys.end() || key->second == nullptr) {
    return done(absl::FailedPreconditionError(absl::StrCat(
        "no signing key of region ", origin,
        " is configured here (regions[].signing_public_key_file): its "
        "batches cannot be verified")));
  }
  const int count = batch.events_size();
  if (count == 0 || count > options_.max_batch_events) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("a batch holds 1 to ", options_.max_batch_events,
                     " events; this one holds ", count)));
  }
  std::vector<std::string> events(batch.events().begin(), batch.events().end());
  if (!key->second->Verify(BatchSigningInput(events), batch.signature())) {
    return done(absl::InvalidArgumentError(
        absl::StrCat("the batch signature does not verify with region ", origin,
                     "'s signing key")));
  }
  std::vector<core::FederationEvent> decoded;
  decoded.reserve(events.size());
  for (const std::string& bytes : events) {
    absl::StatusOr<core::FederationEvent> event = DecodeEvent(bytes);
    if (!event.ok()) return done(event.status());
    if (event->origin_region != origin ||
        event->destination_region != options_.region) {
      return done(absl::InvalidArgumentError(absl::StrCat(
          "an event of the batch goes from ", event->origin_region, " to ",
          event->destination_region, "; this stream is from ", origin, " to ",
          options_.region)));
    }
    if (!decoded.empty() && event->sequence != decoded.back().sequence + 1) {
      return done(absl::InvalidArgumentError(
          "the events of a batch must have consecutive sequences"));
    }
    decoded.push_back(*std::move(event));
  }

  auto verified = std::make_shared<Verified>();
  store::InboxBatch& record = verified->record;
  record.origin = origin;
  record.first_sequence = decoded.front().sequence;
  record.last_sequence = decoded.back().sequence;
  record.signature = batch.signature();
  record.signing_key_id = batch.signing_key_id();
  record.received_at = absl::Now();
  record.events = std::move(events);
  for (const core::FederationEvent& event : decoded) {
    record.event_case_ids.push_back(event.case_id);
  }
  verified->events = std::move(decoded);
  verified->done = std::move(done);

  bool queue = false;
  {
    absl::MutexLock lock(&mu_);
    waiting_.push_back(std::move(verified));
    queue = !write_queued_ && one_by_one_ == 0;
    if (queue) write_queued_ = true;
  }
  if (queue) QueueWrite();
}

absl::Status Inbox::ApplyOne(store::WriteTxn& txn, const std::string& region,
                             Verified& batch) {
  const store::InboxBatch& record = batch.record;
  batch.applied_new = false;
  RUTA_ASSIGN_OR_RETURN(int64_t position, txn.GetInboxPosition(record.origin));
  batch.applied_through = position;
  if (record.last_sequence <= position) {
    return absl::OkStatus();  // a redelivery: no second effect
  }
  if (record.first_sequence > position + 1) {
    return absl::OutOfRangeError(absl::StrCat(
        "gap in the stream from ", record.origin, ": sequence ", position,
        " is the last applied here, the batch starts at ",
        record.first_sequence, "; resend from ", position + 1));
  }
  for (const core::FederationEvent& event : batch.events) {
    if (event.sequence <= position) continue;
    absl::Status s = core::ApplyFederationEvent(txn, region, event);
    if (!s.ok()) {
      return absl::Status(
          s.code(), absl::StrCat("event ", event.sequence, " (", event.event_id,
                                 "): ", s.message()));
    }
  }
  RUTA_RETURN_IF_ERROR(txn.PutInboxBatch(record));
  batch.applied_through = record.last_sequence;
  batch.applied_new = true;
  return absl::OkStatus();
}

void Inbox::QueueWrite() {
  auto taken = std::make_shared<VerifiedList>();
  // The write function's own outcome, and whether it ran at all (a store
  // that is closed or failing answers without running it).
  auto own = std::make_shared<absl::Status>();
  auto ran = std::make_shared<bool>(false);
  store_->Write(
      [this, taken, own, ran](store::WriteTxn& txn) -> absl::Status {
        *ran = true;
        {
          absl::MutexLock lock(&mu_);
          size_t events = 0;
          while (!waiting_.empty()) {
            const size_t n = waiting_.front()->events.size();
            if (!taken->empty() &&
                events + n >
                    static_cast<size_t>(options_.max_events_per_write)) {
              break;
            }
            events += n;
            taken->push_back(std::move(waiting_.front()));
            waiting_.pop_front();
          }
        }
        for (const std::shared_ptr<Verified>& batch : *taken) {
          *own = ApplyOne(txn, options_.region, *batch);
          if (!own->ok()) return *own;
        }
        return absl::OkStatus();
      },
      [this, taken, own, ran](absl::Status status) {
        if (!*ran) {
          // Nothing was taken: the batches waiting now get the store's
          // answer.
          {
            absl::MutexLock lock(&mu_);
            while (!waiting_.empty()) {
              taken->push_back(std::move(waiting_.front()));
              waiting_.pop_front();
            }
          }
          for (const std::shared_ptr<Verified>& batch : *taken) {
            Report(*batch, status);
          }
          return WriteDone();
        }
        if (!own->ok() && taken->size() > 1) {
          // One of them was refused: each again on its own, so that those
          // before it are kept.
          return ApplyOneByOne(taken);
        }
        bool applied_new = false;
        for (const std::shared_ptr<Verified>& batch : *taken) {
          applied_new = applied_new || (status.ok() && batch->applied_new);
        }
        if (applied_new && options_.on_applied) options_.on_applied();
        for (const std::shared_ptr<Verified>& batch : *taken) {
          Report(*batch, status);
        }
        WriteDone();
      });
}

void Inbox::ApplyOneByOne(std::shared_ptr<VerifiedList> batches) {
  {
    absl::MutexLock lock(&mu_);
    one_by_one_ += static_cast<int>(batches->size());
    write_queued_ = false;
  }
  for (const std::shared_ptr<Verified>& batch : *batches) {
    store_->Write(
        [batch, region = options_.region](store::WriteTxn& txn) {
          return ApplyOne(txn, region, *batch);
        },
        [this, batch](absl::Status status) {
          if (status.ok() && batch->applied_new && options_.on_applied) {
            options_.on_applied();
          }
          Report(*batch, status);
          {
            absl::MutexLock lock(&mu_);
            --one_by_one_;
          }
          WriteDone();
        });
  }
}

void Inbox::WriteDone() {
  bool queue = false;
  {
    absl::MutexLock lock(&mu_);
    if (one_by_one_ == 0) {
      write_queued_ = false;
      queue = !waiting_.empty();
      if (queue) write_queued_ = true;
    }
  }
  if (queue) QueueWrite();
}

void Inbox::Report(Verified& batch, const absl::Status& status) {
  if (!status.ok()) {
    if (status.code() != absl::StatusCode::kOutOfRange) {
      spdlog::error("federation: a batch from {} was refused: {}",
                    batch.record.origin, std::string(status.message()));
    }
    return batch.done(status);
  }
  batch.done(batch.applied_through);
}

void Inbox::Position(const std::string& origin,
                     std::function<void(absl::StatusOr<int64_t>)> done) {
  auto position = std::make_shared<int64_t>(0);
  store_->Read(
      [position, origin](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(*position, txn.GetInboxPosition(origin));
        return absl::OkStatus();
      },
      [position, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(*position);
      });
}

}  // namespace ruta::federation
