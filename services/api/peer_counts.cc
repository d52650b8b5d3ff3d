#include "ruta/api/peer_counts.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "spdlog/spdlog.h"

namespace ruta::api {
namespace {

absl::Status FromGrpc(const grpc::Status& status) {
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

std::string CacheKey(const std::string& region,
                     const core::QuarterRange& range) {
  return absl::StrCat(region, "|", range.from(), "|", range.to());
}

}  // namespace

absl::StatusOr<std::unique_ptr<PeerCounts>> PeerCounts::Create(
    PeerCountsOptions options) {
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
    peer.stub = v1::Federation::NewStub(
        grpc::CreateCustomChannel(endpoint.address, *credentials, args));
    peers.push_back(std::move(peer));
  }
  return std::unique_ptr<PeerCounts>(
      new PeerCounts(std::move(options), std::move(peers)));
}

PeerCounts::PeerCounts(PeerCountsOptions options, std::vector<Peer> peers)
    : options_(std::move(options)),
      peers_(std::move(peers)),
      cache_(std::make_shared<Cache>()) {
  cache_->max_ranges = options_.max_cached_ranges;
}

PeerCounts::~PeerCounts() = default;

std::vector<std::string> PeerCounts::peer_regions() const {
  std::vector<std::string> out;
  for (const Peer& peer : peers_) out.push_back(peer.region);
  return out;
}

void PeerCounts::Cache::Store(const std::string& key, Cached cached) {
  absl::MutexLock lock(&mu);
  std::map<std::string, Cached>& cache_ = entries;
  cache_[key] = std::move(cached);
  // Evict the oldest entries of this peer beyond the bound.
  const std::string region = key.substr(0, key.find('|'));
  while (true) {
    int count = 0;
    auto oldest = cache_.end();
    for (auto it = cache_.lower_bound(absl::StrCat(region, "|"));
         it != cache_.end() &&
         it->first.compare(0, region.size() + 1, absl::StrCat(region, "|")) ==
             0;
         ++it) {
      ++count;
      if (oldest == cache_.end() ||
          it->second.fetched_at < oldest->second.fetched_at) {
        oldest = it;
      }
    }
    if (count <= max_ranges || oldest == cache_.end()) break;
    cache_.erase(oldest);
  }
}

void PeerCounts::Get(const std::vector<std::string>& regions,
                     const core::QuarterRange& range,
                     std::function<void(std::vector<PeerPart>)> done) {
  struct Round {
    std::vector<PeerPart> parts;
    std::function<void(std::vector<PeerPart>)> done;
    absl::Mutex mu;
    size_t remaining ABSL_GUARDED_BY(mu) = 0;
  };
  struct Call {
    grpc::ClientContext context;
    v1::GetAggregateCountsRequest request;
    v1::GetAggregateCountsResponse response;
  };
  auto round = std::make_shared<Round>();
  round->done = std::move(done);
  round->parts.resize(regions.size());
  const absl::Time now = absl::Now();
  std::vector<std::pair<size_t, const Peer*>> to_fetch;
  {
    absl::MutexLock lock(&cache_->mu);
    for (size_t i = 0; i < regions.size(); ++i) {
      PeerPart& part = round->parts[i];
      part.region = regions[i];
      const Peer* peer = nullptr;
      for (const Peer& p : peers_) {
        if (p.region == regions[i]) peer = &p;
      }
      auto cached = cache_->entries.find(CacheKey(regions[i], range));
      if (cached != cache_->entries.end()) {
        part.counters = cached->second.counters;
        part.fetched_at = cached->second.fetched_at;
      }
      if (peer == nullptr) {
        part.missing = part.counters == nullptr;
        part.last_error = absl::NotFoundError(
            absl::StrCat("region ", regions[i], " is not a configured peer"));
        continue;
      }
      if (part.counters != nullptr &&
          now - part.fetched_at <= options_.max_age) {
        continue;  // fresh enough
      }
      to_fetch.emplace_back(i, peer);
    }
  }
  if (to_fetch.empty()) {
    round->done(std::move(round->parts));
    return;
  }
  {
    absl::MutexLock lock(&round->mu);
    round->remaining = to_fetch.size();
  }
  for (const auto& [index, peer] : to_fetch) {
    auto call = std::make_shared<Call>();
    call->context.set_deadline(
        absl::ToChronoTime(absl::Now() + options_.rpc_timeout));
    call->request.mutable_from_quarter()->set_year(range.from_year);
    call->request.mutable_from_quarter()->set_quarter(range.from_quarter);
    call->request.mutable_to_quarter()->set_year(range.to_year);
    call->request.mutable_to_quarter()->set_quarter(range.to_quarter);
    const size_t i = index;
    const std::string region = peer->region;
    peer->stub->async()->GetAggregateCounts(
        &call->context, &call->request, &call->response,
        [cache = cache_, round, call, i, region, range](grpc::Status status) {
          PeerPart& part = round->parts[i];
          if (status.ok() && call->response.region() != region) {
            status = grpc::Status(
                grpc::StatusCode::PERMISSION_DENIED,
                absl::StrCat("peer ", region, " answered for region ",
                             call->response.region()));
          }
          if (status.ok()) {
            auto counters = std::make_shared<core::RegionCounters>();
            const std::string own = absl::StrCat(region, "|");
            for (const v1::AggregateCount& count : call->response.counts()) {
              // Only the peer's own keys count.
              if (count.key().compare(0, own.size(), own) != 0) continue;
              (*counters)[count.table()].emplace_back(count.key(),
                                                      count.value());
            }
            Cached cached{std::move(counters), absl::Now()};
            part.counters = cached.counters;
            part.fetched_at = cached.fetched_at;
            part.stale = false;
            part.missing = false;
            cache->Store(CacheKey(region, range), std::move(cached));
          } else {
            part.last_error = FromGrpc(status);
            spdlog::warn("dashboard: counts of peer {} unavailable: {}", region,
                         status.error_message());
            part.stale = part.counters != nullptr;
            part.missing = part.counters == nullptr;
          }
          bool last = false;
          {
            absl::MutexLock lock(&round->mu);
            last = --round->remaining == 0;
          }
          if (last) round->done(std::move(round->parts));
        });
  }
}

}  // namespace ruta::api
