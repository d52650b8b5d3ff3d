// Federation: audit checkpoints (PutCheckpoint, GetCheckpoint); the rest of
// the contract is implemented by later work. Every call is audited.
#include <memory>

#include "reactors.h"
#include "ruta/api/checkpoints.h"
#include "ruta/api/services.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace ruta::api {
namespace {

using internal::AuditedCall;
using internal::FinishAudited;

class FederationService final : public v1::Federation::CallbackService {
 public:
  FederationService(const Authorizer* authorizer, const AuditServices& audit)
      : authorizer_(authorizer), audit_(audit.log), deps_(audit) {}

  grpc::ServerBidiReactor<v1::ExchangeRequest, v1::ExchangeResponse>* Exchange(
      grpc::CallbackServerContext* ctx) override {
    return new internal::FinishedBidi<v1::ExchangeRequest,
                                      v1::ExchangeResponse>(
        internal::NotYetStatus(*authorizer_, audit_, ctx, nullptr,
                               "Federation.Exchange"));
  }
  RUTA_UNARY_NOT_YET(Federation, GetAggregateCounts)
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
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
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
    auto stored_length = std::make_shared<int64_t>(0);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    deps_.store->Write(
        [checkpoint, stored_length,
         caller = *actor](store::WriteTxn& txn) -> absl::Status {
          absl::StatusOr<std::optional<store::AuditCheckpoint>> held =
              txn.GetPeerCheckpoint(checkpoint.region);
          if (!held.ok()) return held.status();
          const std::optional<store::AuditCheckpoint>& old = *held;
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

  grpc::ServerUnaryReactor* GetCheckpoint(
      grpc::CallbackServerContext* ctx, const v1::GetCheckpointRequest*,
      v1::GetCheckpointResponse* response) override {
    AuditedCall call(audit_, "Federation.GetCheckpoint");
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
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
};

}  // namespace

std::unique_ptr<grpc::Service> NewFederationService(
    const Authorizer* authorizer, const AuditServices& audit) {
  return std::make_unique<FederationService>(authorizer, audit);
}

}  // namespace ruta::api
