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
  auto decoded = std::make_shared<std::vector<core::FederationEvent>>();
  decoded->reserve(events.size());
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
    if (!decoded->empty() && event->sequence != decoded->back().sequence + 1) {
      return done(absl::InvalidArgumentError(
          "the events of a batch must have consecutive sequences"));
    }
    decoded->push_back(*std::move(event));
  }

  store::InboxBatch record;
  record.origin = origin;
  record.first_sequence = decoded->front().sequence;
  record.last_sequence = decoded->back().sequence;
  record.signature = batch.signature();
  record.signing_key_id = batch.signing_key_id();
  record.received_at = absl::Now();
  record.events = std::move(events);
  for (const core::FederationEvent& event : *decoded) {
    record.event_case_ids.push_back(event.case_id);
  }

  auto applied_through = std::make_shared<int64_t>(0);
  auto applied_new = std::make_shared<bool>(false);
  store_->Write(
      [decoded, applied_through, applied_new, record = std::move(record),
       region = options_.region](store::WriteTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(int64_t position,
                              txn.GetInboxPosition(record.origin));
        *applied_through = position;
        if (record.last_sequence <= position) {
          return absl::OkStatus();  // a redelivery: no second effect
        }
        if (record.first_sequence > position + 1) {
          return absl::OutOfRangeError(absl::StrCat(
              "gap in the stream from ", record.origin, ": sequence ", position,
              " is the last applied here, the batch starts at ",
              record.first_sequence, "; resend from ", position + 1));
        }
        for (const core::FederationEvent& event : *decoded) {
          if (event.sequence <= position) continue;
          absl::Status s = core::ApplyFederationEvent(txn, region, event);
          if (!s.ok()) {
            return absl::Status(
                s.code(), absl::StrCat("event ", event.sequence, " (",
                                       event.event_id, "): ", s.message()));
          }
        }
        RUTA_RETURN_IF_ERROR(txn.PutInboxBatch(record));
        *applied_through = record.last_sequence;
        *applied_new = true;
        return absl::OkStatus();
      },
      [applied_through, applied_new, done = std::move(done),
       on_applied = options_.on_applied, origin](absl::Status status) {
        if (!status.ok()) {
          if (status.code() != absl::StatusCode::kOutOfRange) {
            spdlog::error("federation: a batch from {} was refused: {}", origin,
                          std::string(status.message()));
          }
          return done(std::move(status));
        }
        if (*applied_new && on_applied) on_applied();
        done(*applied_through);
      });
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
