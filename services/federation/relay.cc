#include "ruta/federation/relay.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "ruta/common/status_macros.h"
#include "ruta/federation/codec.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "spdlog/spdlog.h"

namespace ruta::federation {

absl::StatusOr<int> StampOutboxEvents(store::WriteTxn& txn,
                                      const std::string& destination, int limit,
                                      int64_t* last) {
  RUTA_ASSIGN_OR_RETURN(std::vector<store::OutboxEvent> events,
                        txn.ReadUnstamped(destination, limit));
  if (events.empty()) return 0;
  if (*last < 0) {
    RUTA_ASSIGN_OR_RETURN(store::OutboxStats stats,
                          txn.GetOutboxStats(destination));
    *last = stats.last_sequence;
  }
  for (const store::OutboxEvent& e : events) {
    const int64_t sequence = *last + 1;
    RUTA_ASSIGN_OR_RETURN(std::string bytes, StampEvent(e.payload, sequence));
    RUTA_RETURN_IF_ERROR(txn.StampOutbox(e.id, sequence, bytes));
    *last = sequence;
  }
  return static_cast<int>(events.size());
}

// The stream to one peer and its thread.
class Relay::PeerLink final {
 public:
  PeerLink(const RelayOptions* options, store::Store* store, RelayPeer peer,
           std::unique_ptr<v1::Federation::Stub> stub)
      : options_(options),
        store_(store),
        peer_(std::move(peer)),
        stub_(std::move(stub)),
        active_(options->start_relaying) {}

  ~PeerLink() { Stop(); }

  void Start() {
    thread_ = std::thread([this] { Run(); });
  }

  void Stop() {
    {
      absl::MutexLock lock(&mu_);
      if (stopping_ && !thread_.joinable()) return;
      stopping_ = true;
      if (context_ != nullptr) context_->TryCancel();
    }
    if (thread_.joinable()) thread_.join();
  }

  void Notify() {
    absl::MutexLock lock(&mu_);
    pending_ = true;
  }

  // Relaying on or off (Relay::SetRelaying). Off cancels the open stream at
  // once; the thread then idles until switched on again.
  void SetActive(bool active) {
    absl::MutexLock lock(&mu_);
    if (active_ == active) return;
    active_ = active;
    if (!active && context_ != nullptr) context_->TryCancel();
  }

  const std::string& region() const { return peer_.region; }

  void Snapshot(RelayPeerStatus* status) const {
    absl::MutexLock lock(&mu_);
    status->connected = connected_;
    status->last_error = last_error_;
  }

 private:
  // Stamps the next unstamped events of this peer (at most kStampBatch, in
  // one write transaction): the next sequences of the stream and the exact
  // bytes that will be signed and sent. Only this thread stamps this peer's
  // events, so writers never contend on the sequence (DESIGN.md section 7).
  // Returns whether more may be waiting. One chunk at a time, so that a
  // large backlog (a week offline) is sent while the rest is stamped, not
  // only after all of it was.
  //
  // A read comes first, so that a check finding nothing (another replica's
  // commits are only seen by polling) costs no write.
  absl::StatusOr<bool> StampSome() {
    bool any = false;
    RUTA_RETURN_IF_ERROR(store_->ReadSync([&](store::ReadTxn& txn) {
      absl::StatusOr<std::vector<store::OutboxEvent>> unstamped =
          txn.ReadUnstamped(peer_.region, 1);
      if (!unstamped.ok()) return unstamped.status();
      any = !unstamped->empty();
      return absl::OkStatus();
    }));
    if (!any) return false;
    int stamped = 0;
    int64_t last = last_stamped_;
    absl::Status status =
        store_->WriteSync([&](store::WriteTxn& txn) -> absl::Status {
          last = last_stamped_;
          RUTA_ASSIGN_OR_RETURN(stamped, StampOutboxEvents(txn, peer_.region,
                                                           kStampBatch, &last));
          return absl::OkStatus();
        });
    if (!status.ok()) {
      // The cached position may be stale (another replica stamped while it
      // held the relay lease): read it again next time.
      last_stamped_ = -1;
      return status;
    }
    // Committed: the cached stream position moves with it.
    last_stamped_ = last;
    return stamped == kStampBatch;
  }

  absl::StatusOr<std::vector<store::OutboxEvent>> ReadFrom(int64_t next,
                                                           int limit) {
    std::vector<store::OutboxEvent> events;
    RUTA_RETURN_IF_ERROR(store_->ReadSync([&](store::ReadTxn& txn) {
      absl::StatusOr<std::vector<store::OutboxEvent>> read =
          txn.ReadOutbox(peer_.region, next, limit);
      if (!read.ok()) return read.status();
      events = *std::move(read);
      return absl::OkStatus();
    }));
    return events;
  }

  void RecordAck(int64_t applied_through) {
    store_->Write(
        [region = peer_.region, applied_through](store::WriteTxn& txn) {
          return txn.PutOutboxAck(region, applied_through);
        },
        [region = peer_.region](absl::Status status) {
          if (!status.ok()) {
            spdlog::warn("federation: could not record {}'s ack: {}", region,
                         std::string(status.message()));
          }
        });
  }

  // A peer that says it applied less than it once acknowledged restored a
  // backup (docs/restore.md): the stream resumes from what it says now (the
  // stored acknowledgement, kept only if higher, catches up once the peer
  // acknowledges past it).
  void WarnIfPeerWentBack(int64_t applied_through) {
    int64_t recorded = 0;
    absl::Status read = store_->ReadSync([&](store::ReadTxn& txn) {
      absl::StatusOr<store::OutboxStats> stats =
          txn.GetOutboxStats(peer_.region);
      if (!stats.ok()) return stats.status();
      recorded = stats->acknowledged;
      return absl::OkStatus();
    });
    if (read.ok() && applied_through < recorded) {
      spdlog::warn(
          "federation: {} says it applied this node's stream through {}, but "
          "had acknowledged {}: it restored a backup; resending from {}",
          peer_.region, applied_through, recorded, applied_through + 1);
    }
  }

  // Waits until woken, `deadline`, or stopping; returns false when stopping.
  bool WaitUntil(absl::Time deadline, const bool* extra = nullptr)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    auto ready = [this, extra] {
      mu_.AssertHeld();
      return stopping_ || pending_ || (extra != nullptr && *extra);
    };
    mu_.AwaitWithDeadline(absl::Condition(&ready), deadline);
    return !stopping_;
  }

  void Run() {
    absl::BitGen random;
    absl::Duration backoff = options_->initial_backoff;
    while (true) {
      {
        absl::MutexLock lock(&mu_);
        if (!active_) {
          // Another replica relays: idle until this one takes over.
          auto wake = [this] {
            mu_.AssertHeld();
            return stopping_ || active_;
          };
          mu_.Await(absl::Condition(&wake));
          // What another replica stamped meanwhile is read afresh.
          last_stamped_ = -1;
          backoff = options_->initial_backoff;
        }
        if (stopping_) return;
      }
      bool progressed = false;
      absl::Status status = RunStream(&progressed);
      {
        absl::MutexLock lock(&mu_);
        connected_ = false;
        if (stopping_) return;
        last_error_ = status.ok() ? "" : std::string(status.message());
        if (!active_) {
          last_error_ = "another replica relays (it holds the relay lease)";
          continue;
        }
      }
      if (progressed) backoff = options_->initial_backoff;
      const absl::Duration wait = absl::Uniform(random, 0.5, 1.0) * backoff;
      if (!status.ok()) {
        spdlog::warn(
            "federation: stream to {} ended ({}); reconnecting in {} ms",
            peer_.region, std::string(status.message()),
            absl::ToInt64Milliseconds(wait));
      }
      backoff = std::min(backoff * 2, options_->max_backoff);
      absl::MutexLock lock(&mu_);
      const absl::Time until = absl::Now() + wait;
      // Only stopping ends the wait early: a reconnect storm would not help.
      auto stopping = [this] {
        mu_.AssertHeld();
        return stopping_ || !active_;
      };
      mu_.AwaitWithDeadline(absl::Condition(&stopping), until);
      if (stopping_) return;
    }
  }

  // One Exchange stream, until it fails or the relay stops. Sets
  // `*progressed` when the peer acknowledged something new.
  absl::Status RunStream(bool* progressed) {
    auto context = std::make_unique<grpc::ClientContext>();
    context->set_deadline(
        absl::ToChronoTime(absl::Now() + options_->stream_lifetime));
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return absl::CancelledError("stopping");
      if (!active_) return absl::CancelledError("relaying is off");
      context_ = context.get();
      pending_ = false;
    }
    struct ClearContext {
      PeerLink* link;
      ~ClearContext() {
        absl::MutexLock lock(&link->mu_);
        link->context_ = nullptr;
      }
    } clear{this};

    std::unique_ptr<
        grpc::ClientReaderWriter<v1::ExchangeRequest, v1::ExchangeResponse>>
        stream = stub_->Exchange(context.get());
    v1::ExchangeRequest hello;
    hello.mutable_hello()->set_origin_region(options_->region);
    hello.mutable_hello()->set_destination_region(peer_.region);
    // The hello's answer must come within connect_timeout; a watchdog
    // cancels the stream otherwise (Read has no timeout of its own).
    bool answered = false;
    std::thread watchdog([&] {
      absl::MutexLock lock(&mu_);
      auto done = [&] {
        mu_.AssertHeld();
        return answered || stopping_;
      };
      if (!mu_.AwaitWithTimeout(absl::Condition(&done),
                                options_->connect_timeout)) {
        context->TryCancel();
      }
    });
    v1::ExchangeResponse first;
    const bool hello_ok = stream->Write(hello) && stream->Read(&first);
    {
      absl::MutexLock lock(&mu_);
      answered = true;
    }
    watchdog.join();
    if (!hello_ok) {
      context->TryCancel();
      grpc::Status s = stream->Finish();
      return absl::UnavailableError(absl::StrCat(
          "hello to ", peer_.address,
          " failed: ", s.ok() ? "stream closed" : s.error_message()));
    }
    int64_t acked = first.has_ack() ? first.ack().applied_through()
                                    : first.nack().applied_through();
    WarnIfPeerWentBack(acked);
    RecordAck(acked);
    {
      absl::MutexLock lock(&mu_);
      connected_ = true;
      acked_ = acked;
      broken_ = false;
      nacked_ = false;
    }
    spdlog::info("federation: stream to {} open; it has applied through {}",
                 peer_.region, acked);

    std::thread reader([&] {
      v1::ExchangeResponse response;
      while (stream->Read(&response)) {
        absl::MutexLock lock(&mu_);
        if (response.has_ack()) {
          acked_ = std::max(acked_, response.ack().applied_through());
          last_ack_at_ = absl::Now();
        } else {
          nacked_ = true;
          nack_reason_ = response.nack().reason();
          acked_ = std::max(acked_, response.nack().applied_through());
        }
      }
      absl::MutexLock lock(&mu_);
      broken_ = true;
    });

    absl::Status result = SendLoop(stream.get(), acked, progressed);
    context->TryCancel();
    reader.join();
    grpc::Status finish = stream->Finish();
    if (result.ok() && !finish.ok()) {
      result = absl::UnavailableError(finish.error_message());
    }
    return result;
  }

  absl::Status SendLoop(grpc::ClientReaderWriter<v1::ExchangeRequest,
                                                 v1::ExchangeResponse>* stream,
                        int64_t acked_at_start, bool* progressed) {
    int64_t next = acked_at_start + 1;
    int64_t recorded_ack = acked_at_start;
    absl::Time last_progress = absl::Now();
    // Stamping is a write transaction: done when a commit said it wrote
    // events (Notify), and once per stream for whatever came before; an idle
    // link costs no write.
    bool needs_stamp = true;
    while (true) {
      int64_t acked;
      {
        absl::MutexLock lock(&mu_);
        if (stopping_) return absl::OkStatus();
        if (!active_) return absl::CancelledError("relaying is off");
        if (broken_)
          return absl::UnavailableError("the peer closed the stream");
        if (nacked_) {
          return absl::FailedPreconditionError(
              absl::StrCat("the peer refused a batch: ", nack_reason_));
        }
        acked = acked_;
        // Cleared before stamping: a Notify from now on stamps again.
        needs_stamp = needs_stamp || pending_;
        pending_ = false;
      }
      if (acked > recorded_ack) {
        RecordAck(acked);
        recorded_ack = acked;
        last_progress = absl::Now();
        *progressed = true;
      }
      const int64_t in_flight = next - 1 - acked;
      if (in_flight > 0 &&
          absl::Now() - last_progress > options_->ack_timeout) {
        return absl::DeadlineExceededError(
            absl::StrCat(in_flight, " events unacknowledged for ",
                         absl::FormatDuration(options_->ack_timeout),
                         ": the link looks dead"));
      }
      if (in_flight == 0) last_progress = absl::Now();
      const int64_t room = options_->max_events_in_flight - in_flight;
      // One chunk stamped per round, whether or not there is room to send:
      // while the peer applies what is in flight, the backlog gets stamped.
      if (needs_stamp) {
        RUTA_ASSIGN_OR_RETURN(needs_stamp, StampSome());
      }
      std::vector<store::OutboxEvent> events;
      if (room > 0) {
        RUTA_ASSIGN_OR_RETURN(
            events, ReadFrom(next, static_cast<int>(std::min<int64_t>(
                                       room, options_->max_batch_events))));
      }
      if (events.empty()) {
        if (needs_stamp) continue;  // more to stamp: no wait
        absl::MutexLock lock(&mu_);
        const int64_t seen = acked_;
        auto woken = [this, seen] {
          mu_.AssertHeld();
          return stopping_ || !active_ || pending_ || broken_ || nacked_ ||
                 acked_ > seen;
        };
        if (!mu_.AwaitWithTimeout(absl::Condition(&woken),
                                  options_->poll_interval)) {
          // No Notify for a poll interval: look for events committed by
          // another process (replicas sharing a PostgreSQL database).
          needs_stamp = true;
        }
        continue;
      }
      if (events.front().sequence != next) {
        return absl::InternalError(absl::StrCat("the outbox to ", peer_.region,
                                                " has no event ", next));
      }
      v1::ExchangeRequest request;
      v1::EventBatch* batch = request.mutable_batch();
      std::vector<std::string> bytes;
      bytes.reserve(events.size());
      for (store::OutboxEvent& e : events) {
        batch->add_events(e.bytes);
        bytes.push_back(std::move(e.bytes));
      }
      RUTA_ASSIGN_OR_RETURN(std::string signature,
                            options_->signer->Sign(BatchSigningInput(bytes)));
      batch->set_signature(std::move(signature));
      batch->set_signing_key_id(options_->signing_key_id);
      if (!stream->Write(request)) {
        return absl::UnavailableError("the stream broke while sending");
      }
      next = events.back().sequence + 1;
    }
  }

  const RelayOptions* const options_;
  store::Store* const store_;
  const RelayPeer peer_;
  const std::unique_ptr<v1::Federation::Stub> stub_;
  std::thread thread_;
  // Last sequence stamped for this peer (-1: not read yet). Only the peer's
  // thread stamps, so it is the only one to touch these.
  int64_t last_stamped_ = -1;
  static constexpr int kStampBatch = 1000;

  mutable absl::Mutex mu_;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool pending_ ABSL_GUARDED_BY(mu_) = false;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool connected_ ABSL_GUARDED_BY(mu_) = false;
  std::string last_error_ ABSL_GUARDED_BY(mu_);
  int64_t acked_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_ack_at_ ABSL_GUARDED_BY(mu_) = absl::InfinitePast();
  bool broken_ ABSL_GUARDED_BY(mu_) = false;
  bool nacked_ ABSL_GUARDED_BY(mu_) = false;
  std::string nack_reason_ ABSL_GUARDED_BY(mu_);
  bool active_ ABSL_GUARDED_BY(mu_);
};

absl::StatusOr<std::unique_ptr<Relay>> Relay::Create(RelayOptions options,
                                                     store::Store* store) {
  if (options.region.empty()) {
    return absl::InvalidArgumentError("relay: region is required");
  }
  if (!options.peers.empty() && options.signer == nullptr) {
    return absl::FailedPreconditionError(
        "federation needs the region's signing key (signing_key_file): "
        "every batch sent to a peer is signed");
  }
  if (options.max_batch_events < 1 || options.max_events_in_flight < 1) {
    return absl::InvalidArgumentError(
        "relay: batch and in-flight limits must be positive");
  }
  std::vector<std::unique_ptr<PeerLink>> links;
  auto relay = std::unique_ptr<Relay>(new Relay(
      std::move(options), store, std::vector<std::unique_ptr<PeerLink>>{}));
  for (const RelayPeer& peer : relay->options_.peers) {
    security::ClientTlsOptions tls = relay->options_.tls;
    if (!peer.ca_file.empty()) tls.ca_file = peer.ca_file;
    tls.expected_server_region = peer.region;
    RUTA_ASSIGN_OR_RETURN(std::shared_ptr<grpc::ChannelCredentials> credentials,
                          security::MakeChannelCredentials(tls));
    grpc::ChannelArguments args;
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 200);
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(
                    absl::ToInt64Milliseconds(relay->options_.max_backoff)));
    // Detect a dead link under an open stream (the server permits pings
    // this often).
    args.SetInt(GRPC_ARG_KEEPALIVE_TIME_MS, 10000);
    args.SetInt(GRPC_ARG_KEEPALIVE_TIMEOUT_MS, 5000);
    // A separate connection from the other clients of this channel pool.
    args.SetString("ruta.channel", "federation-relay");
    relay->links_.push_back(std::make_unique<PeerLink>(
        &relay->options_, store, peer,
        v1::Federation::NewStub(
            grpc::CreateCustomChannel(peer.address, credentials, args))));
  }
  return relay;
}

Relay::Relay(RelayOptions options, store::Store* store,
             std::vector<std::unique_ptr<PeerLink>> links)
    : options_(std::move(options)), store_(store), links_(std::move(links)) {}

Relay::~Relay() {
  for (auto& link : links_) link->Stop();
}

void Relay::Start() {
  for (auto& link : links_) link->Start();
}

void Relay::Notify() {
  for (auto& link : links_) link->Notify();
}

void Relay::SetRelaying(bool relaying) {
  for (auto& link : links_) link->SetActive(relaying);
}

void Relay::GetStatus(
    std::function<void(absl::StatusOr<std::vector<RelayPeerStatus>>)> done)
    const {
  auto result = std::make_shared<std::vector<RelayPeerStatus>>();
  for (const auto& link : links_) {
    RelayPeerStatus status;
    status.peer_region = link->region();
    link->Snapshot(&status);
    result->push_back(std::move(status));
  }
  store_->Read(
      [result](store::ReadTxn& txn) -> absl::Status {
        for (RelayPeerStatus& status : *result) {
          RUTA_ASSIGN_OR_RETURN(store::OutboxStats stats,
                                txn.GetOutboxStats(status.peer_region));
          status.last_sequence = stats.last_sequence;
          status.acknowledged = stats.acknowledged;
          status.unstamped = stats.unstamped;
          status.oldest_unacknowledged_at = stats.oldest_unacknowledged_at;
        }
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

}  // namespace ruta::federation
