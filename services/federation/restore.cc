#include "ruta/federation/restore.h"

#include <openssl/sha.h>

#include <algorithm>
#include <map>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/grpcpp.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/audit.h"
#include "ruta/core/federation.h"
#include "ruta/federation/codec.h"
#include "spdlog/spdlog.h"

namespace ruta::federation {
namespace {

using google::protobuf::util::TimeUtil;

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string Sha256(absl::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof(digest));
}

absl::Time NowMicros() {
  return absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
}

absl::StatusOr<std::string> ReadSetting(store::Store& store,
                                        const std::string& name) {
  std::string value;
  RUTA_RETURN_IF_ERROR(store.ReadSync([&](store::ReadTxn& txn) -> absl::Status {
    RUTA_ASSIGN_OR_RETURN(std::optional<std::string> v, txn.GetSetting(name));
    value = v.value_or("");
    return absl::OkStatus();
  }));
  return value;
}

void CheckpointToProto(const store::AuditCheckpoint& c,
                       v1::AuditCheckpoint* out) {
  out->set_region(c.region);
  out->set_length(c.length);
  out->set_head_hash(c.head_hash);
  *out->mutable_signed_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(c.signed_at));
  out->set_signature(c.signature);
}

// One fetched-back event: its sequence, exact bytes (or, for an erased
// case, only its hash) and, when it has bytes, its decoded form.
struct FetchedEvent {
  int64_t sequence = 0;
  std::string bytes;
  std::string erased_hash;
  std::string case_id;
  core::FederationEvent decoded;
};

}  // namespace

absl::StatusOr<std::unique_ptr<RestoreRecovery>> RestoreRecovery::Create(
    RestoreRecoveryOptions options, store::Store* store) {
  if (options.region.empty()) {
    return absl::InvalidArgumentError("restore recovery: region is required");
  }
  if (options.principal.empty()) {
    options.principal = absl::StrCat("node:", options.region);
  }
  if (options.max_events_per_call < 1) options.max_events_per_call = 1000;
  std::vector<Peer> peers;
  for (const RelayPeer& endpoint : options.peers) {
    security::ClientTlsOptions tls = options.tls;
    if (!endpoint.ca_file.empty()) tls.ca_file = endpoint.ca_file;
    tls.expected_server_region = endpoint.region;
    RUTA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                          security::MakeChannelCredentials(tls));
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 5000);
    args.SetString("ruta.channel", "restore-recovery");
    Peer peer;
    peer.endpoint = endpoint;
    peer.stub = v1::Federation::NewStub(
        grpc::CreateCustomChannel(endpoint.address, credentials, args));
    peers.push_back(std::move(peer));
  }
  // 64 MiB answers at most: a page is max_events_per_call events.
  return std::unique_ptr<RestoreRecovery>(
      new RestoreRecovery(std::move(options), store, std::move(peers)));
}

RestoreRecovery::RestoreRecovery(RestoreRecoveryOptions options,
                                 store::Store* store, std::vector<Peer> peers)
    : options_(std::move(options)), store_(store), peers_(std::move(peers)) {}

RestoreRecovery::~RestoreRecovery() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

absl::StatusOr<bool> RestoreRecovery::Pending(store::Store& store) {
  RUTA_ASSIGN_OR_RETURN(std::string backup,
                        ReadSetting(store, kRestorePendingSetting));
  return !backup.empty();
}

absl::Status RestoreRecovery::Ready() const {
  if (ready_.load()) return absl::OkStatus();
  return absl::UnavailableError(
      "this node is recovering from a restored backup (fetching back its "
      "events from its peers); federation resumes once it has completed");
}

void RestoreRecovery::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RestoreRecovery::Loop() {
  absl::Duration backoff = options_.initial_backoff;
  while (true) {
    absl::Status status = RunOnce();
    if (status.ok()) break;
    spdlog::warn("restore: recovery attempt failed ({}); retrying in {} ms",
                 status.ToString(), absl::ToInt64Milliseconds(backoff));
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), backoff);
    if (stopping_) return;
    backoff = std::min(backoff * 2, options_.max_backoff);
  }
  if (options_.on_recovered) options_.on_recovered();
}

absl::Status RestoreRecovery::RunOnce() {
  if (ready_.load()) return absl::OkStatus();
  RUTA_ASSIGN_OR_RETURN(std::string backup,
                        ReadSetting(*store_, kRestorePendingSetting));
  if (backup.empty()) {
    ready_.store(true);
    return absl::OkStatus();
  }
  spdlog::warn(
      "restore: this node starts on the restored backup {}: recovering its "
      "events from its peers before federation resumes",
      backup);
  if (!peers_.empty() &&
      (options_.signer == nullptr || options_.own_key == nullptr)) {
    return absl::FailedPreconditionError(
        "recovering from a restored backup needs the region's signing key "
        "(signing_key_file) and its public key (signing_public_key_file of "
        "this region in regions[]): fetched-back batches are verified with "
        "it and the restore declaration is signed with it");
  }
  RUTA_RETURN_IF_ERROR(WriteRestoredRecord(backup));
  for (Peer& peer : peers_) {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::CancelledError("stopping");
    }
    RUTA_RETURN_IF_ERROR(FetchBack(peer));
  }
  for (Peer& peer : peers_) RUTA_RETURN_IF_ERROR(DeclareRestore(peer));
  RUTA_RETURN_IF_ERROR(store_->WriteSync([](store::WriteTxn& txn) {
    return txn.PutSetting(kRestorePendingSetting, "");
  }));
  spdlog::warn("restore: recovery from the backup {} completed", backup);
  ready_.store(true);
  return absl::OkStatus();
}

absl::Status RestoreRecovery::WriteRestoredRecord(const std::string& backup) {
  return store_->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
    RUTA_ASSIGN_OR_RETURN(std::optional<std::string> audited,
                          txn.GetSetting(kRestoreAuditedSetting));
    if (audited.has_value() && *audited == backup) return absl::OkStatus();
    RUTA_ASSIGN_OR_RETURN(store::AuditHead head, txn.GetAuditHead());
    RUTA_RETURN_IF_ERROR(
        core::AppendRestoreAuditEntry(txn, options_.principal, backup)
            .status());
    RUTA_RETURN_IF_ERROR(txn.PutSetting(kRestoreRestoredLengthSetting,
                                        absl::StrCat(head.length)));
    return txn.PutSetting(kRestoreAuditedSetting, backup);
  });
}

absl::Status RestoreRecovery::FetchBack(Peer& peer) {
  const std::string& destination = peer.endpoint.region;
  while (true) {
    int64_t last = 0;
    RUTA_RETURN_IF_ERROR(store_->ReadSync([&](store::ReadTxn& txn) {
      absl::StatusOr<store::OutboxStats> stats =
          txn.GetOutboxStats(destination);
      if (!stats.ok()) return stats.status();
      last = stats->last_sequence;
      return absl::OkStatus();
    }));
    v1::FetchReceivedRequest request;
    request.set_from_sequence(last + 1);
    request.set_max_events(options_.max_events_per_call);
    v1::FetchReceivedResponse response;
    RUTA_RETURN_IF_ERROR(
        CallPeer(absl::StrCat("fetching back from ", destination, " (",
                              peer.endpoint.address, ")"),
                 [&](grpc::ClientContext* context) {
                   return peer.stub->FetchReceived(context, request, &response);
                 }));
    // Verify and decode every batch before touching the store.
    std::vector<std::vector<FetchedEvent>> batches;
    for (const v1::ReceivedBatch& batch : response.batches()) {
      std::string signed_input;
      std::vector<FetchedEvent> events;
      for (int i = 0; i < batch.events_size(); ++i) {
        const v1::ReceivedEvent& e = batch.events(i);
        FetchedEvent fetched;
        fetched.sequence = batch.first_sequence() + i;
        fetched.case_id = e.case_id();
        if (e.bytes().empty()) {
          if (e.erased_hash().size() != SHA256_DIGEST_LENGTH) {
            return absl::DataLossError(
                absl::StrCat(destination, " sent event ", fetched.sequence,
                             " with neither bytes nor a 32-byte hash"));
          }
          fetched.erased_hash = e.erased_hash();
          signed_input += e.erased_hash();
        } else {
          fetched.bytes = e.bytes();
          signed_input += Sha256(e.bytes());
        }
        events.push_back(std::move(fetched));
      }
      if (events.empty() ||
          !options_.own_key->Verify(signed_input, batch.signature())) {
        return absl::DataLossError(absl::StrCat(
            "a batch fetched back from ", destination, " (sequences from ",
            batch.first_sequence(),
            ") is empty or its signature does not verify with this region's "
            "own signing key: refusing it"));
      }
      for (FetchedEvent& fetched : events) {
        if (fetched.bytes.empty()) continue;
        RUTA_ASSIGN_OR_RETURN(fetched.decoded, DecodeEvent(fetched.bytes));
        if (fetched.decoded.origin_region != options_.region ||
            fetched.decoded.destination_region != destination ||
            fetched.decoded.sequence != fetched.sequence) {
          return absl::DataLossError(
              absl::StrCat("event ", fetched.sequence, " fetched back from ",
                           destination, " is not event ", fetched.sequence,
                           " from ", options_.region, " to ", destination));
        }
        fetched.case_id = fetched.decoded.case_id;
      }
      batches.push_back(std::move(events));
    }
    bool progressed = false;
    for (std::vector<FetchedEvent>& events : batches) {
      int64_t reached = 0;
      RUTA_RETURN_IF_ERROR(
          store_->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
            RUTA_ASSIGN_OR_RETURN(store::OutboxStats stats,
                                  txn.GetOutboxStats(destination));
            int64_t at = stats.last_sequence;
            reached = at;
            // Events written before the backup and not stamped then: the
            // original node stamped them (in order) after the backup.
            std::map<std::string, int64_t> unstamped;
            RUTA_ASSIGN_OR_RETURN(std::vector<store::OutboxEvent> pending,
                                  txn.ReadUnstamped(destination, 100000));
            for (const store::OutboxEvent& e : pending) {
              v1::Event parsed;
              if (parsed.ParseFromString(e.payload)) {
                unstamped[parsed.event_id()] = e.id;
              }
            }
            for (const FetchedEvent& fetched : events) {
              if (fetched.sequence <= at) continue;
              if (fetched.sequence != at + 1) {
                return absl::DataLossError(
                    absl::StrCat(destination, " sent event ", fetched.sequence,
                                 " but this node's stream is at ", at));
              }
              if (!fetched.erased_hash.empty()) {
                // The case was erased since (on the peer, so by its owner): so
                // it is here; the event is kept as its hash only, as the peer
                // keeps it.
                RUTA_ASSIGN_OR_RETURN(bool erased,
                                      txn.IsCaseErased(fetched.case_id));
                if (!erased) {
                  RUTA_ASSIGN_OR_RETURN(std::optional<core::Case> c,
                                        txn.FindCase(fetched.case_id));
                  RUTA_RETURN_IF_ERROR(core::EraseCaseCounted(
                      txn, fetched.case_id,
                      c.has_value() ? c->owner_region : options_.region,
                      NowMicros()));
                }
                store::OutboxEvent row;
                row.destination = destination;
                row.case_id = fetched.case_id;
                row.payload = fetched.erased_hash;
                row.committed_at = NowMicros();
                RUTA_ASSIGN_OR_RETURN(int64_t id, txn.AppendOutbox(row));
                RUTA_RETURN_IF_ERROR(
                    txn.StampOutbox(id, fetched.sequence, fetched.erased_hash));
              } else {
                auto known = unstamped.find(fetched.decoded.event_id);
                int64_t id = 0;
                if (known != unstamped.end()) {
                  id = known->second;
                  unstamped.erase(known);
                } else {
                  store::OutboxEvent row;
                  row.destination = destination;
                  row.case_id = fetched.decoded.case_id;
                  row.payload = fetched.bytes;
                  row.committed_at = fetched.decoded.committed_at;
                  RUTA_ASSIGN_OR_RETURN(id, txn.AppendOutbox(row));
                }
                RUTA_RETURN_IF_ERROR(
                    txn.StampOutbox(id, fetched.sequence, fetched.bytes));
                absl::Status applied = core::ReapplyOwnEvent(
                    txn, options_.region, fetched.decoded);
                if (!applied.ok()) {
                  return absl::Status(
                      applied.code(),
                      absl::StrCat("re-applying event ", fetched.sequence, " (",
                                   fetched.decoded.event_id,
                                   "): ", applied.message()));
                }
              }
              at = fetched.sequence;
            }
            // What the peer holds is acknowledged (kept only if higher).
            RUTA_RETURN_IF_ERROR(txn.PutOutboxAck(destination, at));
            reached = at;
            return absl::OkStatus();
          }));
      if (reached > last) progressed = true;
      last = std::max(last, reached);
    }
    if (!progressed || last >= response.applied_through()) {
      RUTA_RETURN_IF_ERROR(store_->WriteSync([&](store::WriteTxn& txn) {
        return txn.PutOutboxAck(destination,
                                std::min(last, response.applied_through()));
      }));
      spdlog::info(
          "restore: {} had applied this node's stream through {}; this node's "
          "stream to it is now at {}",
          destination, response.applied_through(), last);
      return absl::OkStatus();
    }
  }
}

absl::Status RestoreRecovery::CallPeer(
    const std::string& what,
    const std::function<grpc::Status(grpc::ClientContext*)>& call) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return absl::CancelledError("stopping");
    in_flight_ = &context;
  }
  const grpc::Status status = call(&context);
  {
    absl::MutexLock lock(&mu_);
    in_flight_ = nullptr;
  }
  if (status.ok()) return absl::OkStatus();
  return absl::Status(FromGrpc(status).code(),
                      absl::StrCat(what, ": ", status.error_message()));
}

absl::Status RestoreRecovery::DeclareRestore(Peer& peer) {
  // What the peer holds of this node's chain.
  v1::GetCheckpointResponse held;
  RUTA_RETURN_IF_ERROR(
      CallPeer(absl::StrCat("asking ", peer.endpoint.region,
                            " for its checkpoint of this chain"),
               [&](grpc::ClientContext* context) {
                 return peer.stub->GetCheckpoint(
                     context, v1::GetCheckpointRequest(), &held);
               }));
  const int64_t held_length =
      held.has_checkpoint() ? held.checkpoint().length() : 0;
  store::AuditHead head;
  bool matches = false;
  RUTA_RETURN_IF_ERROR(store_->ReadSync([&](store::ReadTxn& txn) {
    absl::StatusOr<store::AuditHead> h = txn.GetAuditHead();
    if (!h.ok()) return h.status();
    head = *std::move(h);
    if (held_length == 0) {
      matches = true;
      return absl::OkStatus();
    }
    if (held_length > head.length) return absl::OkStatus();
    absl::StatusOr<core::ChainVerification> chain =
        core::VerifyAuditChain(txn, {held_length});
    if (!chain.ok()) return chain.status();
    auto at = chain->hashes_at.find(held_length);
    matches = at != chain->hashes_at.end() &&
              at->second == held.checkpoint().head_hash();
    return absl::OkStatus();
  }));
  if (matches) return absl::OkStatus();  // nothing lost that it holds

  RUTA_ASSIGN_OR_RETURN(std::string restored_text,
                        ReadSetting(*store_, kRestoreRestoredLengthSetting));
  int64_t restored_length = 0;
  if (!absl::SimpleAtoi(restored_text, &restored_length)) restored_length = 0;

  store::AuditCheckpoint checkpoint;
  checkpoint.region = options_.region;
  checkpoint.length = head.length;
  checkpoint.head_hash = head.hash;
  checkpoint.signed_at = NowMicros();
  RUTA_ASSIGN_OR_RETURN(
      checkpoint.signature,
      options_.signer->Sign(core::CheckpointSigningBytes(checkpoint)));
  core::RestoreDeclaration d;
  d.region = options_.region;
  d.superseded_length = held_length;
  d.superseded_head_hash =
      held.has_checkpoint() ? held.checkpoint().head_hash() : "";
  d.restored_length = restored_length;
  d.resumed_length = head.length;
  d.resumed_head_hash = head.hash;
  d.signed_at = checkpoint.signed_at;
  RUTA_ASSIGN_OR_RETURN(
      d.signature,
      options_.signer->Sign(core::RestoreDeclarationSigningBytes(d)));

  v1::PutCheckpointRequest request;
  CheckpointToProto(checkpoint, request.mutable_checkpoint());
  v1::RestoreDeclaration* declaration = request.mutable_restore();
  declaration->set_region(d.region);
  declaration->set_superseded_length(d.superseded_length);
  declaration->set_superseded_head_hash(d.superseded_head_hash);
  declaration->set_restored_length(d.restored_length);
  declaration->set_resumed_length(d.resumed_length);
  declaration->set_resumed_head_hash(d.resumed_head_hash);
  *declaration->mutable_signed_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(d.signed_at));
  declaration->set_signature(d.signature);
  v1::PutCheckpointResponse response;
  RUTA_RETURN_IF_ERROR(
      CallPeer(absl::StrCat("declaring the restore to ", peer.endpoint.region),
               [&](grpc::ClientContext* context) {
                 return peer.stub->PutCheckpoint(context, request, &response);
               }));
  spdlog::warn(
      "restore: {} held a checkpoint of {} records of this node's chain, "
      "which the restored chain ({} records before its restored record) no "
      "longer reaches; it now holds the declared checkpoint of {} records",
      peer.endpoint.region, held_length, restored_length, head.length);
  return store_->WriteSync([&](store::WriteTxn& txn) {
    return txn.PutSentCheckpoint(peer.endpoint.region, checkpoint);
  });
}

}  // namespace ruta::federation
