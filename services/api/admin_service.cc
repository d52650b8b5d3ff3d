// Admin: audit verification and export, the relay's status, the privacy
// functions (core/privacy_service.h) and online backups (ruta/backup).
// Every call is audited.
#include <algorithm>
#include <atomic>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "google/protobuf/util/time_util.h"
#include "reactors.h"
#include "ruta/api/checkpoints.h"
#include "ruta/api/services.h"
#include "ruta/backup/backup.h"
#include "ruta/core/ids.h"
#include "ruta/v1/admin.grpc.pb.h"

namespace ruta::api {
namespace {

using google::protobuf::util::TimeUtil;
using internal::AuditedCall;
using internal::FinishAudited;

constexpr int kExportPage = 256;

// A checkpoint to compare the chain with, and where it came from.
struct Source {
  std::string holder;
  absl::Status status;  // why it could not be obtained, if not OK
  std::optional<store::AuditCheckpoint> checkpoint;
};

std::string FormatUtc(absl::Time t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", t, absl::UTCTimeZone());
}

// Compares the chain with every checkpoint and fills the response.
void Evaluate(const core::ChainVerification& chain,
              const std::vector<Source>& sources, const SigningKeys& keys,
              const std::string& region, v1::VerifyAuditResponse* response) {
  response->set_records_checked(chain.records_checked);
  int64_t first_bad = std::numeric_limits<int64_t>::max();
  std::vector<std::string> problems;
  if (!chain.ok) {
    first_bad = chain.first_bad_index;
    problems.push_back(chain.problem);
  }
  const bool have_key = keys.count(region) > 0 && keys.at(region) != nullptr;
  for (const Source& source : sources) {
    v1::CheckpointCheck* check = response->add_checkpoints();
    check->set_holder(source.holder);
    if (!source.status.ok()) {
      check->set_result(v1::CHECKPOINT_RESULT_UNREACHABLE);
      check->set_detail(std::string(source.status.message()));
      continue;
    }
    if (!source.checkpoint.has_value()) {
      check->set_result(v1::CHECKPOINT_RESULT_NONE);
      continue;
    }
    const store::AuditCheckpoint& checkpoint = *source.checkpoint;
    check->set_length(checkpoint.length);
    if (checkpoint.region != region) {
      check->set_result(v1::CHECKPOINT_RESULT_BAD_SIGNATURE);
      check->set_detail(absl::StrCat("the checkpoint is of region ",
                                     checkpoint.region, ", not ", region));
      continue;
    }
    if (have_key) {
      absl::Status signature = CheckCheckpointSignature(keys, checkpoint);
      if (!signature.ok()) {
        check->set_result(v1::CHECKPOINT_RESULT_BAD_SIGNATURE);
        check->set_detail(std::string(signature.message()));
        continue;
      }
    } else {
      check->set_detail(
          "signature not checked: no signing_public_key_file is configured "
          "for this region");
    }
    const std::string signed_at = FormatUtc(checkpoint.signed_at);
    switch (core::CompareWithCheckpoint(chain, checkpoint)) {
      case core::CheckpointMatch::kMatches:
        check->set_result(v1::CHECKPOINT_RESULT_MATCHES);
        break;
      case core::CheckpointMatch::kTruncated:
        check->set_result(v1::CHECKPOINT_RESULT_TRUNCATED);
        first_bad = std::min(first_bad, chain.chain_length);
        problems.push_back(absl::StrCat(
            "the chain has ", chain.chain_length, " records but ",
            source.holder, " holds a checkpoint of ", checkpoint.length,
            " records signed at ", signed_at, ": records ", chain.chain_length,
            " to ", checkpoint.length - 1, " were removed (tail truncated)"));
        break;
      case core::CheckpointMatch::kDiverges:
        check->set_result(v1::CHECKPOINT_RESULT_DIVERGES);
        first_bad = std::min(first_bad, checkpoint.length - 1);
        problems.push_back(absl::StrCat(
            "the chain's hash after ", checkpoint.length,
            " records differs from the checkpoint ", source.holder,
            " holds (signed at ", signed_at, "): records up to index ",
            checkpoint.length - 1, " were rewritten"));
        break;
    }
  }
  response->set_ok(problems.empty());
  if (!problems.empty()) {
    response->set_first_bad_index(first_bad);
    response->set_problem(absl::StrJoin(problems, "; "));
  }
}

// Streams audit records from a position: one store read per page, one write
// at a time, never blocking a gRPC thread.
class ExportReactor final
    : public grpc::ServerWriteReactor<v1::ExportAuditResponse> {
 public:
  ExportReactor(store::Store* store, AuditedCall call, int64_t from)
      : store_(store), call_(std::move(call)), next_index_(from) {
    Fetch();
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      Complete(absl::CancelledError("the client stopped reading"));
      return;
    }
    Next();
  }
  void OnCancel() override { cancelled_ = true; }
  void OnDone() override { delete this; }

 private:
  void Fetch() {
    auto page = std::make_shared<std::vector<store::AuditRecord>>();
    store_->Read(
        [page, from = next_index_](store::ReadTxn& txn) -> absl::Status {
          absl::StatusOr<std::vector<store::AuditRecord>> records =
              txn.ScanAudit(from, kExportPage);
          if (!records.ok()) return records.status();
          *page = *std::move(records);
          return absl::OkStatus();
        },
        [this, page](absl::Status status) {
          if (!status.ok()) return Complete(status);
          last_page_ = page->size() < static_cast<size_t>(kExportPage);
          page_ = std::move(*page);
          position_ = 0;
          if (!page_.empty()) next_index_ = page_.back().index + 1;
          Next();
        });
  }

  void Next() {
    if (cancelled_) return Complete(absl::CancelledError("cancelled"));
    if (position_ < page_.size()) {
      const store::AuditRecord& record = page_[position_++];
      message_.Clear();
      message_.set_index(record.index);
      *message_.mutable_at() =
          TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(record.at));
      message_.set_principal(record.principal);
      message_.set_on_behalf_of(record.clerk);
      message_.set_method(record.method);
      message_.set_case_id(record.subject);
      message_.set_outcome(absl::StatusCodeToString(
          static_cast<absl::StatusCode>(record.outcome)));
      message_.set_chain_hash(record.hash);
      message_.set_cursor(absl::StrCat(record.index));
      StartWrite(&message_);
      return;
    }
    if (last_page_) return Complete(absl::OkStatus());
    Fetch();
  }

  void Complete(const absl::Status& status) { Finish(call_.Finish(status)); }

  store::Store* const store_;
  const AuditedCall call_;
  // Only one read or one write is outstanding at any time, so the members
  // below are touched by one callback at a time.
  int64_t next_index_;
  std::vector<store::AuditRecord> page_;
  size_t position_ = 0;
  bool last_page_ = false;
  v1::ExportAuditResponse message_;
  std::atomic<bool> cancelled_{false};
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  AdminService(const Authorizer* authorizer, core::PrivacyService* privacy,
               const TransferServices& transfers, const AuditServices& audit,
               backup::BackupRunner* backups)
      : authorizer_(authorizer),
        privacy_(privacy),
        audit_(audit.log),
        deps_(audit),
        relay_(transfers.relay),
        backups_(backups) {}

  // Recomputes the chain and compares it with the checkpoints the peers hold
  // (asked now) and the local copies of those sent.
  grpc::ServerUnaryReactor* VerifyAudit(
      grpc::CallbackServerContext* ctx, const v1::VerifyAuditRequest* request,
      v1::VerifyAuditResponse* response) override {
    AuditedCall call(audit_, "Admin.VerifyAudit");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    std::vector<std::string> peers;
    if (deps_.exchange != nullptr) peers = deps_.exchange->peer_regions();

    auto verify = [this, reactor, response, call,
                   peers](std::vector<HeldCheckpoint> held) {
      auto sources = std::make_shared<std::vector<Source>>();
      for (HeldCheckpoint& h : held) {
        sources->push_back(
            Source{h.holder, std::move(h.status), std::move(h.checkpoint)});
      }
      auto chain = std::make_shared<core::ChainVerification>();
      deps_.store->Read(
          [sources, chain, peers](store::ReadTxn& txn) -> absl::Status {
            for (const std::string& peer : peers) {
              absl::StatusOr<std::optional<store::AuditCheckpoint>> sent =
                  txn.GetSentCheckpoint(peer);
              if (!sent.ok()) return sent.status();
              sources->push_back(Source{absl::StrCat("local/", peer),
                                        absl::OkStatus(), *std::move(sent)});
            }
            std::vector<int64_t> lengths;
            for (const Source& source : *sources) {
              if (source.checkpoint.has_value()) {
                lengths.push_back(source.checkpoint->length);
              }
            }
            absl::StatusOr<core::ChainVerification> verified =
                core::VerifyAuditChain(txn, lengths);
            if (!verified.ok()) return verified.status();
            *chain = *std::move(verified);
            return absl::OkStatus();
          },
          [this, reactor, response, call, sources, chain](absl::Status status) {
            if (status.ok()) {
              Evaluate(*chain, *sources, deps_.signing_keys, deps_.region,
                       response);
            }
            reactor->Finish(call.Finish(status));
          });
    };
    if (deps_.exchange != nullptr) {
      deps_.exchange->FetchHeld(std::move(verify));
    } else {
      verify({});
    }
    return reactor;
  }

  grpc::ServerWriteReactor<v1::ExportAuditResponse>* ExportAudit(
      grpc::CallbackServerContext* ctx,
      const v1::ExportAuditRequest* request) override {
    AuditedCall call(audit_, "Admin.ExportAudit");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) {
      return new internal::FinishedWriter<v1::ExportAuditResponse>(
          call.Finish(actor.status()));
    }
    int64_t from = 0;
    if (!request->cursor().empty()) {
      int64_t after = 0;
      if (!absl::SimpleAtoi(request->cursor(), &after) || after < 0) {
        return new internal::FinishedWriter<v1::ExportAuditResponse>(
            call.Finish(absl::InvalidArgumentError(
                "cursor must be empty or the cursor of a record this "
                "node exported")));
      }
      from = after + 1;
    }
    return new ExportReactor(deps_.store, call, from);
  }

  grpc::ServerUnaryReactor* RotateLinkageKey(
      grpc::CallbackServerContext* ctx,
      const v1::RotateLinkageKeyRequest* request,
      v1::RotateLinkageKeyResponse* response) override {
    AuditedCall call(audit_, "Admin.RotateLinkageKey");
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    privacy_->RotateLinkageKey(
        *actor, request->request_id(), request->new_version(),
        [reactor, response, call](absl::StatusOr<core::RotationResult> result) {
          if (result.ok()) {
            response->set_current_version(result->current_version);
            response->set_cases_on_older_versions(
                result->cases_on_older_versions);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* MergePersons(
      grpc::CallbackServerContext* ctx, const v1::MergePersonsRequest* request,
      v1::MergePersonsResponse* response) override {
    AuditedCall call(audit_, "Admin.MergePersons");
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    privacy_->MergePersons(
        *actor, request->request_id(), request->kept_ref(),
        request->merged_ref(),
        [reactor, response,
         call](absl::StatusOr<core::MergePersonsResult> result) {
          if (result.ok()) {
            response->set_person_ref(result->person_ref);
            response->set_cases_changed(result->cases_changed);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* EraseCase(
      grpc::CallbackServerContext* ctx, const v1::EraseCaseRequest* request,
      v1::EraseCaseResponse* response) override {
    AuditedCall call(audit_, "Admin.EraseCase");
    call.SetSubjectFrom(*request);
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    privacy_->EraseCase(*actor, request->request_id(), request->case_id(),
                        [reactor, response, call](absl::Status status) {
                          response->set_erased(status.ok());
                          reactor->Finish(call.Finish(status));
                        });
    return reactor;
  }

  // An online backup into the configured directory, made by the runner's
  // own thread (never this one); idempotent on (caller, request_id).
  grpc::ServerUnaryReactor* Backup(grpc::CallbackServerContext* ctx,
                                   const v1::BackupRequest* request,
                                   v1::BackupResponse* response) override {
    AuditedCall call(audit_, "Admin.Backup");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (!core::IsValidRequestId(request->request_id())) {
      return FinishAudited(
          ctx, call,
          absl::InvalidArgumentError(
              "request_id must be a UUID in canonical form (8-4-4-4-12 hex "
              "digits), generated by the client once per backup and reused "
              "on retries"));
    }
    if (backups_ == nullptr) {
      return FinishAudited(
          ctx, call,
          absl::FailedPreconditionError(
              "backups are not configured on this node: set "
              "backup.directory and backup.key_file in the node "
              "configuration and restart it (see docs/backup.md)"));
    }
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    backups_->Run(
        actor->principal, request->request_id(),
        [reactor, response, call](absl::StatusOr<backup::BackupResult> made) {
          if (made.ok()) {
            response->set_file_name(made->file_name);
            response->set_size_bytes(made->size_bytes);
            response->set_sha256(made->sha256);
            *response->mutable_created_at() = TimeUtil::SecondsToTimestamp(
                absl::ToUnixSeconds(made->header.created_at));
          }
          reactor->Finish(call.Finish(made.status()));
        });
    return reactor;
  }

  // The relay's state per peer: backlog (last - acknowledged), lag (age of
  // the oldest unacknowledged event) and whether a stream is open.
  grpc::ServerUnaryReactor* GetRelayStatus(
      grpc::CallbackServerContext* ctx,
      const v1::GetRelayStatusRequest* request,
      v1::GetRelayStatusResponse* response) override {
    AuditedCall call(audit_, "Admin.GetRelayStatus");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (relay_ == nullptr) return FinishAudited(ctx, call, absl::OkStatus());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    relay_->GetStatus(
        [reactor, response,
         call](absl::StatusOr<std::vector<federation::RelayPeerStatus>> peers) {
          if (peers.ok()) {
            for (const federation::RelayPeerStatus& peer : *peers) {
              v1::RelayStatus* out = response->add_peers();
              out->set_peer_region(peer.peer_region);
              // Events written but not yet stamped count as written.
              out->set_last_sequence(peer.last_sequence + peer.unstamped);
              out->set_acknowledged_sequence(peer.acknowledged);
              out->set_connected(peer.connected);
              if (peer.oldest_unacknowledged_at != absl::InfinitePast()) {
                *out->mutable_oldest_unacknowledged_at() =
                    google::protobuf::util::TimeUtil::MicrosecondsToTimestamp(
                        absl::ToUnixMicros(peer.oldest_unacknowledged_at));
              }
            }
          }
          reactor->Finish(call.Finish(peers.status()));
        });
    return reactor;
  }

 private:
  const Authorizer* const authorizer_;
  core::PrivacyService* const privacy_;
  core::AuditLog* const audit_;
  const AuditServices deps_;
  const federation::Relay* const relay_;
  backup::BackupRunner* const backups_;  // null: backups not configured
};

}  // namespace

std::unique_ptr<grpc::Service> NewAdminService(
    const Authorizer* authorizer, core::PrivacyService* privacy,
    const TransferServices& transfers, const AuditServices& audit,
    backup::BackupRunner* backups) {
  return std::make_unique<AdminService>(authorizer, privacy, transfers, audit,
                                        backups);
}

}  // namespace ruta::api
