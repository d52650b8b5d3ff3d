#include "ruta/api/checkpoints.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/time_util.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/support/channel_arguments.h"
#include "ruta/core/audit.h"
#include "spdlog/spdlog.h"

namespace ruta::api {
namespace {

using google::protobuf::util::TimeUtil;

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

}  // namespace

absl::Status CheckCheckpointSignature(
    const SigningKeys& keys, const store::AuditCheckpoint& checkpoint) {
  if (checkpoint.region.empty()) {
    return absl::InvalidArgumentError("checkpoint.region is required");
  }
  if (checkpoint.length < 0) {
    return absl::InvalidArgumentError("checkpoint.length must be >= 0");
  }
  if (checkpoint.head_hash.size() != core::kAuditHashSize) {
    return absl::InvalidArgumentError(
        "checkpoint.head_hash must be 32 bytes (SHA-256)");
  }
  auto key = keys.find(checkpoint.region);
  if (key == keys.end() || key->second == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "no signing public key is configured for region ", checkpoint.region,
        " (regions[].signing_public_key_file): its checkpoints cannot be "
        "verified"));
  }
  if (!key->second->Verify(core::CheckpointSigningBytes(checkpoint),
                           checkpoint.signature)) {
    return absl::InvalidArgumentError(
        absl::StrCat("the checkpoint's signature does not verify with region ",
                     checkpoint.region, "'s signing public key"));
  }
  return absl::OkStatus();
}

void CheckpointToProto(const store::AuditCheckpoint& checkpoint,
                       v1::AuditCheckpoint* out) {
  out->set_region(checkpoint.region);
  out->set_length(checkpoint.length);
  out->set_head_hash(checkpoint.head_hash);
  *out->mutable_signed_at() = TimeUtil::MicrosecondsToTimestamp(
      absl::ToUnixMicros(checkpoint.signed_at));
  out->set_signature(checkpoint.signature);
}

store::AuditCheckpoint CheckpointFromProto(const v1::AuditCheckpoint& proto) {
  store::AuditCheckpoint checkpoint;
  checkpoint.region = proto.region();
  checkpoint.length = proto.length();
  checkpoint.head_hash = proto.head_hash();
  checkpoint.signed_at = absl::FromUnixMicros(
      TimeUtil::TimestampToMicroseconds(proto.signed_at()));
  checkpoint.signature = proto.signature();
  return checkpoint;
}

// --- CheckpointExchange -----------------------------------------------------

absl::StatusOr<std::unique_ptr<CheckpointExchange>> CheckpointExchange::Create(
    CheckpointExchangeOptions options, store::Store* store) {
  std::vector<Peer> peers;
  for (const CheckpointPeer& endpoint : options.peers) {
    security::ClientTlsOptions tls = options.tls;
    if (!endpoint.ca_file.empty()) tls.ca_file = endpoint.ca_file;
    // Only the peer region's node may answer for it.
    tls.expected_server_region = endpoint.region;
    absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> credentials =
        security::MakeChannelCredentials(tls);
    if (!credentials.ok()) return credentials.status();
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 500);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 10000);
    Peer peer;
    peer.region = endpoint.region;
    peer.address = endpoint.address;
    peer.stub = v1::Federation::NewStub(
        grpc::CreateCustomChannel(endpoint.address, *credentials, args));
    peers.push_back(std::move(peer));
  }
  return std::unique_ptr<CheckpointExchange>(
      new CheckpointExchange(std::move(options), store, std::move(peers)));
}

CheckpointExchange::CheckpointExchange(CheckpointExchangeOptions options,
                                       store::Store* store,
                                       std::vector<Peer> peers)
    : options_(std::move(options)), store_(store), peers_(std::move(peers)) {}

CheckpointExchange::~CheckpointExchange() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (in_flight_ != nullptr) in_flight_->TryCancel();
  }
  if (thread_.joinable()) thread_.join();
}

void CheckpointExchange::Start() {
  if (options_.signer == nullptr || peers_.empty()) return;
  absl::MutexLock lock(&mu_);
  if (thread_.joinable() || stopping_) return;
  thread_ = std::thread([this] { Loop(); });
}

std::vector<std::string> CheckpointExchange::peer_regions() const {
  std::vector<std::string> regions;
  for (const Peer& peer : peers_) regions.push_back(peer.region);
  return regions;
}

void CheckpointExchange::Loop() {
  while (true) {
    PublishNow();
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), options_.interval);
    if (stopping_) return;
  }
}

std::vector<absl::Status> CheckpointExchange::PublishNow() {
  std::vector<absl::Status> results;
  if (options_.signer == nullptr || peers_.empty()) return results;
  absl::MutexLock round(&publish_mu_);

  store::AuditHead head;
  absl::Status read = store_->ReadSync([&head](store::ReadTxn& txn) {
    absl::StatusOr<store::AuditHead> h = txn.GetAuditHead();
    if (!h.ok()) return h.status();
    head = *std::move(h);
    return absl::OkStatus();
  });
  if (!read.ok()) {
    spdlog::warn("audit checkpoint: cannot read the chain's head: {}",
                 read.ToString());
    return results;
  }
  if (head.length == 0) return results;

  store::AuditCheckpoint checkpoint;
  checkpoint.region = options_.region;
  checkpoint.length = head.length;
  checkpoint.head_hash = head.hash;
  checkpoint.signed_at = absl::FromUnixMicros(absl::ToUnixMicros(absl::Now()));
  absl::StatusOr<std::string> signature =
      options_.signer->Sign(core::CheckpointSigningBytes(checkpoint));
  if (!signature.ok()) {
    spdlog::error("audit checkpoint: cannot sign: {}",
                  signature.status().ToString());
    return results;
  }
  checkpoint.signature = *std::move(signature);

  v1::PutCheckpointRequest request;
  CheckpointToProto(checkpoint, request.mutable_checkpoint());
  for (const Peer& peer : peers_) {
    grpc::ClientContext context;
    context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) break;
      in_flight_ = &context;
    }
    v1::PutCheckpointResponse response;
    const grpc::Status status =
        peer.stub->PutCheckpoint(&context, request, &response);
    {
      absl::MutexLock lock(&mu_);
      in_flight_ = nullptr;
    }
    if (!status.ok()) {
      spdlog::warn(
          "audit checkpoint: peer {} ({}) did not take the checkpoint of {} "
          "records: {}: {}",
          peer.region, peer.address, checkpoint.length,
          static_cast<int>(status.error_code()), status.error_message());
      results.push_back(FromGrpc(status));
      continue;
    }
    if (response.stored_length() > checkpoint.length) {
      // This node once signed a longer chain than it now has.
      spdlog::critical(
          "audit: peer {} holds a signed checkpoint of {} records of this "
          "node's audit chain, which now has only {}: the tail of the audit "
          "log was removed (run `ruta admin audit verify`)",
          peer.region, response.stored_length(), checkpoint.length);
    }
    absl::Status stored =
        store_->WriteSync([&peer, &checkpoint](store::WriteTxn& txn) {
          return txn.PutSentCheckpoint(peer.region, checkpoint);
        });
    if (!stored.ok()) {
      spdlog::warn("audit checkpoint: cannot keep the copy sent to {}: {}",
                   peer.region, stored.ToString());
    }
    results.push_back(absl::OkStatus());
  }
  return results;
}

void CheckpointExchange::FetchHeld(
    std::function<void(std::vector<HeldCheckpoint>)> done) const {
  if (peers_.empty()) {
    done({});
    return;
  }
  // Shared by the calls in flight; the last one to finish calls `done`.
  struct Round {
    struct Call {
      grpc::ClientContext context;
      v1::GetCheckpointRequest request;
      v1::GetCheckpointResponse response;
    };
    std::vector<std::unique_ptr<Call>> calls;
    std::vector<HeldCheckpoint> results;
    std::function<void(std::vector<HeldCheckpoint>)> done;
    absl::Mutex mu;
    size_t remaining ABSL_GUARDED_BY(mu) = 0;
  };
  auto round = std::make_shared<Round>();
  round->done = std::move(done);
  round->results.resize(peers_.size());
  {
    absl::MutexLock lock(&round->mu);
    round->remaining = peers_.size();
  }
  for (size_t i = 0; i < peers_.size(); ++i) {
    round->results[i].holder = peers_[i].region;
    auto call = std::make_unique<Round::Call>();
    call->context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
    round->calls.push_back(std::move(call));
  }
  for (size_t i = 0; i < peers_.size(); ++i) {
    Round::Call* call = round->calls[i].get();
    peers_[i].stub->async()->GetCheckpoint(
        &call->context, &call->request, &call->response,
        [round, i, call](grpc::Status status) {
          HeldCheckpoint& result = round->results[i];
          result.status = FromGrpc(status);
          if (status.ok() && call->response.has_checkpoint()) {
            result.checkpoint =
                CheckpointFromProto(call->response.checkpoint());
          }
          bool last = false;
          {
            absl::MutexLock lock(&round->mu);
            last = --round->remaining == 0;
          }
          if (last) round->done(std::move(round->results));
        });
  }
}

}  // namespace ruta::api
