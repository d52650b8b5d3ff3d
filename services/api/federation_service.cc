// Federation: the event exchange (Exchange), audit checkpoints
// (PutCheckpoint, GetCheckpoint, with a restore declaration), the batches
// received from the caller for a node that restored a backup
// (FetchReceived; docs/restore.md), the aggregate counts of this node's own
// region for the peers' dashboards (GetAggregateCounts); PutCrl is later
// work. Every call is audited (an Exchange stream once, when it ends; the
// batches it carried are kept by the inbox).
#include <algorithm>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "reactors.h"
#include "ruta/api/checkpoints.h"
#include "ruta/api/firewall.h"
#include "ruta/api/services.h"
#include "ruta/core/audit.h"
#include "ruta/core/dashboard.h"
#include "ruta/observability/metrics.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace ruta::api {
namespace {

using internal::AuditedCall;
using internal::FinishAudited;

// Checks a restore declaration sent with `checkpoint` (docs/restore.md):
// signed by the checkpoint's region, for that region, and resuming exactly
// at the checkpoint. INVALID_ARGUMENT / FAILED_PRECONDITION saying what is
// wrong.
absl::StatusOr<core::RestoreDeclaration> CheckRestoreDeclaration(
    const SigningKeys& keys, const store::AuditCheckpoint& checkpoint,
    const v1::RestoreDeclaration& proto) {
  core::RestoreDeclaration d;
  d.region = proto.region();
  d.superseded_length = proto.superseded_length();
  d.superseded_head_hash = proto.superseded_head_hash();
  d.restored_length = proto.restored_length();
  d.resumed_length = proto.resumed_length();
  d.resumed_head_hash = proto.resumed_head_hash();
  d.signed_at = absl::FromUnixMicros(
      google::protobuf::util::TimeUtil::TimestampToMicroseconds(
          proto.signed_at()));
  d.signature = proto.signature();
  if (d.region != checkpoint.region) {
    return absl::InvalidArgumentError(
        "restore.region must be the checkpoint's region");
  }
  if (d.resumed_length != checkpoint.length ||
      d.resumed_head_hash != checkpoint.head_hash) {
    return absl::InvalidArgumentError(
        "restore.resumed_length and resumed_head_hash must be the "
        "checkpoint's length and head hash");
  }
  if (d.restored_length < 0 || d.restored_length >= d.resumed_length ||
      d.superseded_length < 0) {
    return absl::InvalidArgumentError(
        "restore: restored_length must be >= 0 and below resumed_length, "
        "superseded_length >= 0");
  }
  auto key = keys.find(d.region);
  if (key == keys.end() || key->second == nullptr ||
      !key->second->Verify(core::RestoreDeclarationSigningBytes(d),
                           d.signature)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the restore declaration's signature does not verify with region ",
        d.region, "'s signing public key"));
  }
  return d;
}

// Hex of raw bytes (hashes) for the evidence kept in a setting.
std::string Hex(absl::string_view bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kDigits[c >> 4]);
    out.push_back(kDigits[c & 15]);
  }
  return out;
}

// A peer restored a backup: its checkpoint replaces the one held when its
// declaration names exactly that one; the superseded checkpoint is kept (a
// node setting "audit.superseded_checkpoint.<region>.<length>") and logged.
absl::Status AcceptRestoredCheckpoint(
    store::WriteTxn& txn, const core::Actor& caller,
    const std::optional<store::AuditCheckpoint>& held,
    const core::RestoreDeclaration& restore,
    const store::AuditCheckpoint& checkpoint, std::shared_ptr<int64_t> stored) {
  const int64_t held_length = held.has_value() ? held->length : 0;
  const std::string held_hash = held.has_value() ? held->head_hash : "";
  if (restore.superseded_length != held_length ||
      restore.superseded_head_hash != held_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the restore declaration supersedes a checkpoint of ",
        restore.superseded_length, " records of region ", restore.region,
        "'s chain, but the one held here has ", held_length,
        " records: ask again (GetCheckpoint) and declare that one"));
  }
  if (held.has_value()) {
    const std::string evidence =
        absl::StrCat("length=", held->length, " head=", Hex(held->head_hash),
                     " signed_at_us=", absl::ToUnixMicros(held->signed_at),
                     " signature=", Hex(held->signature),
                     " superseded_at_us=", absl::ToUnixMicros(absl::Now()),
                     " restored_length=", restore.restored_length,
                     " declaration_signature=", Hex(restore.signature));
    if (absl::Status s =
            txn.PutSetting(absl::StrCat("audit.superseded_checkpoint.",
                                        restore.region, ".", held->length),
                           evidence);
        !s.ok()) {
      return s;
    }
  }
  if (absl::Status s = txn.PutPeerCheckpoint(checkpoint); !s.ok()) return s;
  *stored = checkpoint.length;
  spdlog::warn(
      "audit: region {} restored a backup: its chain continues from {} "
      "records (+1 restored record) instead of the {} of the checkpoint held, "
      "which is kept as evidence",
      restore.region, restore.restored_length, held_length);
  absl::StatusOr<store::AuditRecord> record = core::AppendAuditEntry(
      txn, core::MakeAuditEntry(caller, "Federation.PutCheckpoint", "",
                                absl::StatusCode::kOk));
  if (!record.ok()) {
    return absl::UnavailableError(absl::StrCat(
        "the audit record could not be written, so the checkpoint was not "
        "stored: ",
        record.status().message()));
  }
  return absl::OkStatus();
}

// One Exchange stream from a peer's relay: hello, then batches, each applied
// (core::ApplyFederationEvent through the inbox) before it is acknowledged.
//
// The stream reads ahead: while the inbox applies the batches read so far,
// the next ones are read, verified and decoded (at most kBatchesApplying
// handed to the inbox and not yet applied), so that the store never waits
// for the network, and the inbox applies the batches that wait together
// (federation/inbox.h). Acknowledgements are cumulative (the highest
// sequence durably applied), one write at a time: one sent while others
// were applied carries the latest position. When a batch is refused, reading
// stops; once the batches already handed to the inbox are done (those after
// the refused one are refused too: the inbox never skips), the nack says
// where to resume and the stream ends.
class ExchangeReactor final
    : public grpc::ServerBidiReactor<v1::ExchangeRequest,
                                     v1::ExchangeResponse> {
 public:
  // Batches handed to the inbox and not yet applied: with the relay's 256
  // events per batch, its 4096 events in flight.
  static constexpr int kBatchesApplying = 16;

  ExchangeReactor(federation::Inbox* inbox, std::string region,
                  std::string origin, AuditedCall call)
      : inbox_(inbox),
        region_(std::move(region)),
        origin_(std::move(origin)),
        call_(std::move(call)) {
    {
      absl::MutexLock lock(&mu_);
      reading_ = true;
    }
    StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {
      // The sender closed its side (or the stream ended).
      absl::MutexLock lock(&mu_);
      reading_ = false;
      sender_done_ = true;
    } else {
      HandleMessage();
    }
    Pump();
  }

  void OnWriteDone(bool ok) override {
    {
      absl::MutexLock lock(&mu_);
      writing_ = false;
      if (!ok) Fail(absl::CancelledError("the peer went away"));
    }
    Pump();
  }

  void OnDone() override { delete this; }

 private:
  // Handles request_ (the read that just completed); leaves reading_ false.
  void HandleMessage() {
    auto stop_reading = [this](const absl::Status& status) {
      absl::MutexLock lock(&mu_);
      reading_ = false;
      if (!status.ok()) Fail(status);
    };
    {
      absl::MutexLock lock(&mu_);
      if (finished_) {
        // A message that arrived after the stream was finished: nothing of
        // it is applied (an inbox callback would outlive the stream).
        reading_ = false;
        return;
      }
    }
    // The stream was authorized when it opened; each message passes the
    // firewall as it is read (and each event of a batch as the inbox decodes
    // it).
    if (absl::Status s = CheckMessage(request_); !s.ok()) {
      return stop_reading(s);
    }
    if (!said_hello_) {
      if (!request_.has_hello()) {
        return stop_reading(absl::InvalidArgumentError(
            "the first message of an Exchange stream must be a hello"));
      }
      const v1::Hello& hello = request_.hello();
      if (hello.origin_region() != origin_) {
        return stop_reading(absl::PermissionDeniedError(
            absl::StrCat("the caller is a node of region ", origin_,
                         " but says hello as region ", hello.origin_region())));
      }
      if (hello.destination_region() != region_) {
        return stop_reading(absl::FailedPreconditionError(
            absl::StrCat("this is the node of region ", region_, ", not of ",
                         hello.destination_region())));
      }
      said_hello_ = true;
      {
        absl::MutexLock lock(&mu_);
        reading_ = false;
        ++inbox_calls_;
      }
      // The first answer is the position, acknowledged as it is.
      inbox_->Position(origin_, [this](absl::StatusOr<int64_t> position) {
        {
          absl::MutexLock lock(&mu_);
          --inbox_calls_;
          if (!position.ok()) {
            Fail(position.status());
          } else {
            ack_through_ = *position;
            hello_ack_due_ = true;
          }
        }
        Pump();
      });
      return;
    }
    if (!request_.has_batch()) {
      return stop_reading(absl::InvalidArgumentError(
          "after the hello, an Exchange stream carries only batches"));
    }
    {
      absl::MutexLock lock(&mu_);
      if (!refusal_.ok() || !end_.ok()) {
        // Ending: what comes after a refusal is not applied.
        reading_ = false;
        return;
      }
      ++inbox_calls_;
    }
    if (observability::NodeMetrics* metrics = call_.metrics()) {
      metrics->CountEventsReceived(origin_, request_.batch().events_size());
    }
    // The inbox has what it needs of request_ when this returns.
    inbox_->ApplyBatch(
        origin_, request_.batch(), [this](absl::StatusOr<int64_t> applied) {
          {
            absl::MutexLock lock(&mu_);
            --inbox_calls_;
            if (applied.ok()) {
              if (observability::NodeMetrics* metrics = call_.metrics();
                  metrics != nullptr && *applied > ack_through_) {
                metrics->CountEventsApplied(origin_, *applied - ack_through_);
              }
              ack_through_ = std::max(ack_through_, *applied);
            } else if (refusal_.ok()) {
              // The first refusal is the one to answer: the inbox applies
              // in order, and refuses everything after it.
              refusal_ = applied.status();
            }
          }
          Pump();
        });
    absl::MutexLock lock(&mu_);
    reading_ = false;
  }

  // Ends the stream with `status` once nothing is pending (no answer is
  // written any more).
  void Fail(const absl::Status& status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    if (end_.ok()) end_ = status;
  }

  // Decides under the lock what to do next, and does it outside: read the
  // next message, write an acknowledgement or the nack, ask the position for
  // the nack, or finish.
  void Pump() ABSL_LOCKS_EXCLUDED(mu_) {
    bool read = false;
    bool write = false;
    bool ask_position = false;
    std::optional<absl::Status> finish;
    {
      absl::MutexLock lock(&mu_);
      if (finished_) return;
      const bool ending = !end_.ok();
      if (!writing_ && !ending) {
        if (hello_ack_due_ || ack_through_ > ack_sent_) {
          response_.Clear();
          response_.mutable_ack()->set_applied_through(ack_through_);
          ack_sent_ = ack_through_;
          hello_ack_due_ = false;
          hello_acked_ = true;
          writing_ = write = true;
        } else if (!refusal_.ok() && inbox_calls_ == 0 && !nack_sent_) {
          if (!nack_position_.has_value()) {
            ++inbox_calls_;
            ask_position = true;
          } else {
            response_.Clear();
            v1::Nack* nack = response_.mutable_nack();
            nack->set_applied_through(*nack_position_);
            nack->set_reason(std::string(refusal_.message()));
            nack_sent_ = true;
            writing_ = write = true;
          }
        }
      }
      if (!reading_ && hello_acked_ && !sender_done_ && !ending &&
          refusal_.ok() && inbox_calls_ < kBatchesApplying) {
        reading_ = read = true;
      }
      if (!writing_ && inbox_calls_ == 0 && !ask_position) {
        if (ending) {
          finish = end_;
        } else if (nack_sent_) {
          finish = refusal_;
        } else if (sender_done_ && refusal_.ok() && ack_sent_ == ack_through_ &&
                   !hello_ack_due_) {
          finish = absl::OkStatus();
        }
        if (finish.has_value()) finished_ = true;
      }
    }
    if (ask_position) {
      inbox_->Position(origin_, [this](absl::StatusOr<int64_t> position) {
        {
          absl::MutexLock lock(&mu_);
          --inbox_calls_;
          nack_position_ = position.ok() ? *position : 0;
        }
        Pump();
      });
    }
    if (write) StartWrite(&response_);
    if (read) StartRead(&request_);
    if (finish.has_value()) Finish(call_.Finish(*finish));
  }

  federation::Inbox* const inbox_;
  const std::string region_;
  const std::string origin_;
  const AuditedCall call_;
  // Only touched by the read path (one read at a time).
  bool said_hello_ = false;
  v1::ExchangeRequest request_;

  absl::Mutex mu_;
  v1::ExchangeResponse response_ ABSL_GUARDED_BY(mu_);
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  // Calls to the inbox whose callback has not run yet (batches being
  // applied, position queries): the stream finishes only without any, since
  // they call back into it.
  int inbox_calls_ ABSL_GUARDED_BY(mu_) = 0;
  bool hello_ack_due_ ABSL_GUARDED_BY(mu_) = false;
  bool hello_acked_ ABSL_GUARDED_BY(mu_) = false;
  bool sender_done_ ABSL_GUARDED_BY(mu_) = false;
  // The origin's highest position durably applied (what the metrics have
  // counted, and what to acknowledge), and the highest acknowledged.
  int64_t ack_through_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t ack_sent_ ABSL_GUARDED_BY(mu_) = 0;
  // The first batch refused, the position its nack names, and whether the
  // nack was written.
  absl::Status refusal_ ABSL_GUARDED_BY(mu_);
  std::optional<int64_t> nack_position_ ABSL_GUARDED_BY(mu_);
  bool nack_sent_ ABSL_GUARDED_BY(mu_) = false;
  // An error that ends the stream without an answer.
  absl::Status end_ ABSL_GUARDED_BY(mu_);
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
};

class FederationService final : public v1::Federation::CallbackService {
 public:
  FederationService(const Authorizer* authorizer,
                    const TransferServices& transfers,
                    const AuditServices& audit,
                    const DashboardServices& dashboard)
      : authorizer_(authorizer),
        audit_(audit.log),
        deps_(audit),
        inbox_(transfers.inbox),
        region_(transfers.region),
        ready_(transfers.federation_ready),
        dashboard_(dashboard) {}

  // OK unless this node is still recovering from a restored backup.
  absl::Status Ready() const { return ready_ ? ready_() : absl::OkStatus(); }

  grpc::ServerBidiReactor<v1::ExchangeRequest, v1::ExchangeResponse>* Exchange(
      grpc::CallbackServerContext* ctx) override {
    AuditedCall call(audit_, "Federation.Exchange");
    // No message has been read yet: ExchangeReactor checks each one.
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (actor.ok()) {
      if (absl::Status ready = Ready(); !ready.ok()) actor = ready;
    }
    if (!actor.ok()) {
      return new internal::FinishedBidi<v1::ExchangeRequest,
                                        v1::ExchangeResponse>(
          call.Finish(actor.status()));
    }
    return new ExchangeReactor(inbox_, region_, actor->region, call);
  }
  // The raw counters of this node's OWN region only (a node serves no other
  // region's keys, so merged tables count each case once), for the
  // requested counter tables (empty: all) and quarter range; suppression is
  // applied by the asking node after merging.
  grpc::ServerUnaryReactor* GetAggregateCounts(
      grpc::CallbackServerContext* ctx,
      const v1::GetAggregateCountsRequest* request,
      v1::GetAggregateCountsResponse* response) override {
    AuditedCall call(audit_, "Federation.GetAggregateCounts");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    core::QuarterRange range{
        request->from_quarter().year(), request->from_quarter().quarter(),
        request->to_quarter().year(), request->to_quarter().quarter()};
    if (absl::Status s =
            core::ValidateQuarterRange(range, dashboard_.max_quarters);
        !s.ok()) {
      return FinishAudited(ctx, call, s);
    }
    std::vector<std::string> tables(request->tables().begin(),
                                    request->tables().end());
    if (tables.empty()) tables = core::DashboardSourceTables();
    auto counters = std::make_shared<core::RegionCounters>();
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    const absl::Time now = absl::Now();
    deps_.store->Read(
        [counters, tables, range, now, region = region_,
         stalled = dashboard_.stalled](store::ReadTxn& txn) -> absl::Status {
          absl::StatusOr<core::RegionCounters> read = core::ReadRegionCounters(
              txn, region, tables, range, now, stalled);
          if (!read.ok()) return read.status();
          *counters = *std::move(read);
          return absl::OkStatus();
        },
        [reactor, response, counters, now, region = region_,
         call](absl::Status status) {
          if (status.ok()) {
            response->set_region(region);
            *response->mutable_as_of() =
                google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
                    absl::ToUnixMicros(now));
            for (const auto& [table, rows] : *counters) {
              for (const auto& [key, value] : rows) {
                v1::AggregateCount* count = response->add_counts();
                count->set_table(table);
                count->set_key(key);
                count->set_value(value);
              }
            }
          }
          reactor->Finish(call.Finish(status));
        });
    return reactor;
  }
  RUTA_UNARY_NOT_YET(Federation, PutCrl)

  // Keeps the caller region's checkpoint if it is signed by that region and
  // at least as long as the one held (a shorter one is answered with the
  // longer length, which tells the caller its chain lost its tail).
  grpc::ServerUnaryReactor* PutCheckpoint(
      grpc::CallbackServerContext* ctx, const v1::PutCheckpointRequest* request,
      v1::PutCheckpointResponse* response) override {
    AuditedCall call(audit_, "Federation.PutCheckpoint");
    // The record of a stored checkpoint commits with it.
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (!request->has_checkpoint()) {
      return FinishAudited(
          ctx, call, absl::InvalidArgumentError("checkpoint is required"));
    }
    store::AuditCheckpoint checkpoint =
        CheckpointFromProto(request->checkpoint());
    if (checkpoint.region != actor->region) {
      return FinishAudited(
          ctx, call,
          absl::PermissionDeniedError(absl::StrCat(
              "a node may only put checkpoints of its own region's chain: the "
              "caller is of region ",
              actor->region, ", the checkpoint of ", checkpoint.region)));
    }
    if (absl::Status s =
            CheckCheckpointSignature(deps_.signing_keys, checkpoint);
        !s.ok()) {
      return FinishAudited(ctx, call, s);
    }
    std::optional<core::RestoreDeclaration> restore;
    if (request->has_restore()) {
      absl::StatusOr<core::RestoreDeclaration> declared =
          CheckRestoreDeclaration(deps_.signing_keys, checkpoint,
                                  request->restore());
      if (!declared.ok()) return FinishAudited(ctx, call, declared.status());
      restore = *std::move(declared);
    }
    auto stored_length = std::make_shared<int64_t>(0);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    deps_.store->Write(
        [checkpoint, stored_length, restore,
         caller = *actor](store::WriteTxn& txn) -> absl::Status {
          absl::StatusOr<std::optional<store::AuditCheckpoint>> held =
              txn.GetPeerCheckpoint(checkpoint.region);
          if (!held.ok()) return held.status();
          const std::optional<store::AuditCheckpoint>& old = *held;
          if (restore.has_value()) {
            return AcceptRestoredCheckpoint(txn, caller, old, *restore,
                                            checkpoint, stored_length);
          }
          if (old.has_value() && old->length == checkpoint.length &&
              old->head_hash != checkpoint.head_hash) {
            // Two signed heads for one length: the chain was rewritten.
            // Keep the first as evidence.
            spdlog::error(
                "audit: region {} sent a checkpoint of {} records whose head "
                "hash differs from the one held for that length: its chain "
                "was rewritten; keeping the one held",
                checkpoint.region, checkpoint.length);
            return absl::FailedPreconditionError(
                absl::StrCat("a different checkpoint of ", checkpoint.length,
                             " records of region ", checkpoint.region,
                             "'s chain is held: the chain was rewritten"));
          }
          if (!old.has_value() || checkpoint.length >= old->length) {
            if (absl::Status s = txn.PutPeerCheckpoint(checkpoint); !s.ok()) {
              return s;
            }
            *stored_length = checkpoint.length;
          } else {
            *stored_length = old->length;
          }
          absl::StatusOr<store::AuditRecord> record = core::AppendAuditEntry(
              txn, core::MakeAuditEntry(caller, "Federation.PutCheckpoint", "",
                                        absl::StatusCode::kOk));
          if (!record.ok()) {
            return absl::UnavailableError(absl::StrCat(
                "the audit record could not be written, so the checkpoint was "
                "not stored: ",
                record.status().message()));
          }
          return absl::OkStatus();
        },
        [reactor, response, stored_length, call](absl::Status status) {
          if (status.ok()) response->set_stored_length(*stored_length);
          reactor->Finish(call.Finish(status));
        });
    return reactor;
  }

  // The batches received from the caller's region from a sequence on, as
  // the inbox keeps them (docs/restore.md): what a node that restored a
  // backup fetches back.
  grpc::ServerUnaryReactor* FetchReceived(
      grpc::CallbackServerContext* ctx, const v1::FetchReceivedRequest* request,
      v1::FetchReceivedResponse* response) override {
    AuditedCall call(audit_, "Federation.FetchReceived");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    // Served even while this node recovers from a restore itself: it only
    // reads what the inbox applied, and two nodes restored at once must not
    // wait for each other.
    if (request->from_sequence() < 1) {
      return FinishAudited(ctx, call,
                           absl::InvalidArgumentError(
                               "from_sequence must be at least 1 (the first "
                               "sequence of a stream)"));
    }
    if (request->max_events() < 0 || request->max_events() > 10000) {
      return FinishAudited(
          ctx, call,
          absl::InvalidArgumentError("max_events must be 0 to 10000"));
    }
    const int64_t max_events =
        request->max_events() == 0 ? 1000 : request->max_events();
    const int64_t from = request->from_sequence();
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    deps_.store->Read(
        [response, from, max_events,
         origin = actor->region](store::ReadTxn& txn) -> absl::Status {
          absl::StatusOr<int64_t> position = txn.GetInboxPosition(origin);
          if (!position.ok()) return position.status();
          response->set_applied_through(*position);
          int64_t next = from;
          int64_t events = 0;
          while (events < max_events && next <= *position) {
            absl::StatusOr<std::vector<store::InboxBatch>> batches =
                txn.ReadInboxBatches(origin, next, 16);
            if (!batches.ok()) return batches.status();
            if (batches->empty()) break;
            for (const store::InboxBatch& batch : *batches) {
              if (events > 0 &&
                  events + static_cast<int64_t>(batch.events.size()) >
                      max_events) {
                return absl::OkStatus();
              }
              v1::ReceivedBatch* out = response->add_batches();
              out->set_first_sequence(batch.first_sequence);
              out->set_signature(batch.signature);
              out->set_signing_key_id(batch.signing_key_id);
              for (size_t i = 0; i < batch.events.size(); ++i) {
                v1::ReceivedEvent* e = out->add_events();
                auto erased = batch.erased_hashes.find(i);
                if (erased != batch.erased_hashes.end()) {
                  e->set_erased_hash(erased->second);
                } else {
                  e->set_bytes(batch.events[i]);
                }
                if (i < batch.event_case_ids.size()) {
                  e->set_case_id(batch.event_case_ids[i]);
                }
              }
              events += static_cast<int64_t>(batch.events.size());
              next = batch.last_sequence + 1;
            }
          }
          return absl::OkStatus();
        },
        [reactor, call](absl::Status status) {
          reactor->Finish(call.Finish(status));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest* request,
      v1::GetCheckpointResponse* response) override {
    AuditedCall call(audit_, "Federation.GetCheckpoint");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    auto held = std::make_shared<std::optional<store::AuditCheckpoint>>();
    deps_.store->Read(
        [held, region = actor->region](store::ReadTxn& txn) -> absl::Status {
          absl::StatusOr<std::optional<store::AuditCheckpoint>> found =
              txn.GetPeerCheckpoint(region);
          if (!found.ok()) return found.status();
          *held = *std::move(found);
          return absl::OkStatus();
        },
        [reactor, response, held, call](absl::Status status) {
          if (status.ok() && held->has_value()) {
            CheckpointToProto(**held, response->mutable_checkpoint());
          }
          reactor->Finish(call.Finish(status));
        });
    return reactor;
  }

 private:
  const Authorizer* const authorizer_;
  core::AuditLog* const audit_;
  const AuditServices deps_;
  federation::Inbox* const inbox_;
  const std::string region_;
  const std::function<absl::Status()> ready_;
  const DashboardServices dashboard_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewFederationService(
    const Authorizer* authorizer, const TransferServices& transfers,
    const AuditServices& audit, const DashboardServices& dashboard) {
  return std::make_unique<FederationService>(authorizer, transfers, audit,
                                             dashboard);
}

}  // namespace ruta::api
