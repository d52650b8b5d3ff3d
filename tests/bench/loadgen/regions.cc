#include "regions.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "dashboard_data.h"
#include "fill.h"
#include "procfs.h"
#include "ruta/core/aggregates.h"
#include "ruta/store/store.h"
#include "ruta/testing/node.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "scrape.h"

namespace ruta::bench {
namespace {

// How often the receiver's applied-events counter is scraped. Each scrape
// costs the receiver some 70 µs of CPU (docs/observability.md), and its
// store gauges are refreshed at most once a second.
constexpr absl::Duration kPollInterval = absl::Milliseconds(20);

double Ms(absl::Duration d) { return absl::ToDoubleMilliseconds(d); }

// CaseOffice.WatchTransfers of the receiving region: records when each
// transfer from Madre de Dios was first delivered.
class TransferWatcher final
    : public grpc::ClientReadReactor<ruta::v1::WatchTransfersResponse> {
 public:
  TransferWatcher(ruta::v1::CaseOffice::Stub& stub, absl::Duration deadline) {
    context_.set_deadline(absl::ToChronoTime(absl::Now() + deadline));
    stub.async()->WatchTransfers(&context_, &request_, this);
    StartRead(&response_);
    StartCall();
  }

  void OnReadDone(bool ok) override {
    if (!ok) return;  // the stream ended: OnDone follows
    const absl::Time now = absl::Now();
    {
      absl::MutexLock lock(&mu_);
      const ruta::v1::Transfer& t = response_.transfer();
      if (t.from_region() == kMdd) arrivals_.emplace(t.transfer_id(), now);
    }
    StartRead(&response_);
  }

  void OnDone(const grpc::Status& status) override {
    absl::MutexLock lock(&mu_);
    status_ = status;
    done_ = true;
  }

  // When `transfer_id` was delivered, waiting up to `timeout`; InfinitePast
  // if it was not (or the stream ended first).
  absl::Time AwaitArrival(const std::string& transfer_id,
                          absl::Duration timeout) {
    absl::MutexLock lock(&mu_);
    auto arrived = [this, &transfer_id]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
      return done_ || arrivals_.count(transfer_id) > 0;
    };
    mu_.AwaitWithTimeout(absl::Condition(&arrived), timeout);
    auto it = arrivals_.find(transfer_id);
    return it == arrivals_.end() ? absl::InfinitePast() : it->second;
  }

  // Cancels the stream and waits for its end (up to 10 s; false if it did
  // not end: the reactor must then outlive the call, the caller leaks it).
  bool CancelAndAwait() {
    context_.TryCancel();
    absl::MutexLock lock(&mu_);
    return mu_.AwaitWithTimeout(absl::Condition(&done_), absl::Seconds(10));
  }

  std::string Ended() {
    absl::MutexLock lock(&mu_);
    if (!done_) return "";
    return absl::StrCat("the watch stream ended: ", status_.error_code(), " ",
                        status_.error_message());
  }

 private:
  grpc::ClientContext context_;
  ruta::v1::WatchTransfersRequest request_;
  ruta::v1::WatchTransfersResponse response_;
  absl::Mutex mu_;
  std::map<std::string, absl::Time> arrivals_ ABSL_GUARDED_BY(mu_);
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  grpc::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status AwaitQueued(const Server& sender, int64_t events) {
  const absl::Time deadline = absl::Now() + absl::Seconds(60);
  absl::StatusOr<ruta::v1::RelayStatus> status;
  while (true) {
    status = RelayStatus(sender);
    if (status.ok() && status->last_sequence() == events) {
      return absl::OkStatus();
    }
    if (absl::Now() > deadline) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  if (!status.ok()) return status.status();
  return absl::FailedPreconditionError(
      absl::StrCat(sender.region, "'s outbox holds ", status->last_sequence(),
                   " events for ", status->peer_region(), ", expected ", events,
                   " (two per transfer)"));
}

absl::StatusOr<ApplyResult> MeasureApply(const Server& sender,
                                         const NodeOptions& receiver,
                                         int64_t events, absl::Duration timeout,
                                         Server* started) {
  if (!receiver.metrics) {
    return absl::InvalidArgumentError("the receiver needs its metrics");
  }
  ApplyResult result;
  result.events = events;
  absl::StatusOr<Server> node = StartNode(receiver);
  if (!node.ok()) return node.status();
  const absl::Time serving = absl::Now();
  *started = *std::move(node);
  const pid_t pid = started->pid();
  const double cpu_at_serving = ProcessCpuSeconds(pid);
  MetricsScraper scraper(started->metrics_port);
  const std::string series = absl::StrCat(
      "ruta_federation_events_applied_total{peer=\"", sender.region, "\"}");

  bool seen = false;
  absl::Time first = serving;
  int64_t first_count = 0;
  double first_cpu = cpu_at_serving;
  absl::Time last;
  double last_cpu = 0;
  int64_t applied = 0;
  while (true) {
    absl::StatusOr<double> value = scraper.Read(series);
    const absl::Time now = absl::Now();
    const double cpu = ProcessCpuSeconds(pid);
    if (!value.ok()) return value.status();
    applied = static_cast<int64_t>(*value);
    result.receiver_max_rss_kib =
        std::max(result.receiver_max_rss_kib, ProcessStatusKib(pid, "VmRSS"));
    if (applied > 0 && !seen) {
      seen = true;
      first = now;
      first_count = applied;
      first_cpu = cpu;
    }
    if (applied >= events) {
      last = now;
      last_cpu = cpu;
      break;
    }
    if (now - serving > timeout) {
      return absl::DeadlineExceededError(
          absl::StrCat(receiver.region, " applied ", applied, " of ", events,
                       " events in ", absl::FormatDuration(now - serving)));
    }
    absl::SleepFor(kPollInterval);
  }
  if (applied > events) {
    return absl::InternalError(absl::StrCat(receiver.region, " applied ",
                                            applied, " events, more than the ",
                                            events, " queued"));
  }
  if (first_count >= events) {
    // Everything was applied between two scrapes: measure from SERVING.
    first = serving;
    first_count = 0;
    first_cpu = cpu_at_serving;
  }
  result.total_seconds = absl::ToDoubleSeconds(last - serving);
  result.streaming_seconds = absl::ToDoubleSeconds(last - first);
  const double streamed = static_cast<double>(events - first_count);
  if (result.streaming_seconds > 0) {
    result.rate = streamed / result.streaming_seconds;
  }
  if (first_cpu >= 0 && last_cpu >= 0) {
    result.cpu_us_per_event = (last_cpu - first_cpu) * 1e6 / streamed;
  }

  // The sender must see them acknowledged (each acknowledgement follows a
  // durable apply).
  const absl::Time deadline = absl::Now() + absl::Seconds(10);
  absl::StatusOr<ruta::v1::RelayStatus> status;
  while (true) {
    status = RelayStatus(sender);
    if (status.ok() && status->acknowledged_sequence() == events) break;
    if (absl::Now() > deadline) {
      return absl::InternalError(absl::StrCat(
          receiver.region, " applied ", events, " events but ", sender.region,
          " sees ",
          status.ok() ? absl::StrCat(status->acknowledged_sequence())
                      : status.status().ToString(),
          " acknowledged"));
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return result;
}

absl::StatusOr<int64_t> PrepareDashboardDatabase(const std::string& dir,
                                                 const std::string& region,
                                                 int64_t cases, uint64_t seed) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return absl::InternalError(absl::StrCat(dir, ": ", ec.message()));
  store::SqliteOptions options;
  options.path = absl::StrCat(dir, "/", region, ".db");
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::OpenSqliteStore(options);
  if (!store.ok()) return store.status();
  int64_t keys = 0;
  absl::Status written = (*store)->WriteSync([&](store::WriteTxn& txn) {
    absl::Status s = AddDashboardCounters(txn, region, cases, seed, &keys);
    if (!s.ok()) return s;
    return txn.PutSetting(std::string(core::kAggregatesVersionSetting),
                          std::string(core::kAggregatesVersion));
  });
  if (!written.ok()) return written;
  return keys;
}

absl::StatusOr<std::vector<TableTimes>> MeasureDashboard(const Server& node,
                                                         int rounds) {
  auto stub = ruta::v1::Dashboard::NewStub(
      ChannelAs(node.address,
                testing::DevPki::Get().Leaf(node.region, "dashboard", "mayors"),
                node.region));
  ruta::v1::ListTablesResponse listed;
  grpc::Status status =
      stub->ListTables(testing::ContextWithDeadline(kCallDeadline).get(),
                       ruta::v1::ListTablesRequest(), &listed);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("Dashboard.ListTables: ", status.error_message()));
  }
  if (listed.tables_size() == 0) {
    return absl::FailedPreconditionError("the node lists no dashboard table");
  }
  std::vector<TableTimes> times;
  for (const ruta::v1::TableInfo& info : listed.tables()) {
    times.push_back(TableTimes{info.name(), 0, {}});
  }
  // One call; its latency in ms.
  auto call = [&](const std::string& table) -> absl::StatusOr<double> {
    ruta::v1::GetTableRequest request;
    request.set_table(table);
    request.add_regions(kCusco);
    request.add_regions(kMdd);
    request.mutable_from_quarter()->set_year(kDashboardFirstYear);
    request.mutable_from_quarter()->set_quarter(1);
    request.mutable_to_quarter()->set_year(kDashboardFirstYear +
                                           kDashboardQuarters / 4 - 1);
    request.mutable_to_quarter()->set_quarter(4);
    ruta::v1::GetTableResponse response;
    const absl::Time start = absl::Now();
    const grpc::Status s = stub->GetTable(
        testing::ContextWithDeadline(kCallDeadline).get(), request, &response);
    const absl::Time end = absl::Now();
    if (!s.ok()) {
      return absl::UnavailableError(
          absl::StrCat("Dashboard.GetTable ", table, ": ", s.error_message()));
    }
    // Both regions' counts must be in: a missing peer would make the call
    // cheaper than the one measured.
    if (response.regions_size() != 2 || response.rows_size() == 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          "Dashboard.GetTable ", table, " answered for ",
          response.regions_size(), " region(s) with ", response.rows_size(),
          " rows; both regions' counters are expected"));
    }
    return Ms(end - start);
  };
  for (TableTimes& t : times) {
    absl::StatusOr<double> ms = call(t.table);
    if (!ms.ok()) return ms.status();
    t.first_ms = *ms;
  }
  for (int round = 0; round < rounds; ++round) {
    for (TableTimes& t : times) {
      absl::StatusOr<double> ms = call(t.table);
      if (!ms.ok()) return ms.status();
      t.ms.push_back(*ms);
    }
  }
  return times;
}

absl::StatusOr<std::vector<double>> MeasureEndToEnd(const Server& sender,
                                                    const Server& receiver,
                                                    int transfers,
                                                    double per_second) {
  constexpr int kWarmup = 5;
  std::vector<std::unique_ptr<ruta::v1::CaseOffice::Stub>> stubs;
  stubs.push_back(ruta::v1::CaseOffice::NewStub(
      OfficeChannel(sender.address, sender.region)));
  absl::StatusOr<std::vector<std::string>> cases =
      OpenCasesInCare(stubs, transfers + kWarmup, 16, false);
  if (!cases.ok()) return cases.status();

  auto watch_stub = ruta::v1::CaseOffice::NewStub(
      OfficeChannel(receiver.address, receiver.region));
  const absl::Duration stream_deadline =
      absl::Seconds(60) +
      absl::Seconds((transfers + kWarmup) * (1 / per_second + 0.1));
  auto* watcher = new TransferWatcher(*watch_stub, stream_deadline);
  const absl::Duration period = absl::Seconds(1 / per_second);
  std::vector<double> latencies;
  absl::Status failure;
  absl::Time next = absl::Now();
  for (int i = 0; i < transfers + kWarmup && failure.ok(); ++i) {
    absl::SleepFor(next - absl::Now());
    next += period;
    const ruta::v1::RequestTransferRequest request =
        NewTransferRequest((*cases)[static_cast<size_t>(i)]);
    ruta::v1::RequestTransferResponse response;
    const absl::Time sent = absl::Now();
    const grpc::Status s = stubs[0]->RequestTransfer(
        testing::ContextWithDeadline(kCallDeadline).get(), request, &response);
    if (!s.ok()) {
      failure = absl::UnavailableError(
          absl::StrCat("RequestTransfer: ", s.error_message()));
      break;
    }
    const absl::Time arrived = watcher->AwaitArrival(
        response.transfer().transfer_id(), absl::Seconds(10));
    if (arrived == absl::InfinitePast()) {
      const std::string ended = watcher->Ended();
      failure = absl::DeadlineExceededError(absl::StrCat(
          "transfer ", i + 1, " was not visible at ", receiver.region,
          " within 10 s", ended.empty() ? "" : "; ", ended));
      break;
    }
    if (i >= kWarmup) latencies.push_back(Ms(arrived - sent));
  }
  if (watcher->CancelAndAwait()) {
    delete watcher;
  } else {
    std::fprintf(stderr, "ruta-bench: the watch stream did not end\n");
  }
  if (!failure.ok()) return failure;
  return latencies;
}

}  // namespace ruta::bench
