// The receiving side of federation: events durably applied per second by the
// inbox of one stream (verify the batch signature, decode, apply each event
// and record the position and the batch in one SQLite transaction with
// synchronous=FULL). Each event pair is a case shared with a transfer
// request, as a transfer request sends. Arg: events per batch.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <future>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "ruta/core/federation.h"
#include "ruta/core/ids.h"
#include "ruta/core/pseudonym.h"
#include "ruta/federation/codec.h"
#include "ruta/federation/inbox.h"
#include "ruta/security/signing.h"
#include "ruta/store/store.h"
#include "ruta/testing/federation_batches.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta {
namespace {

constexpr char kFrom[] = "madre-de-dios";
constexpr char kTo[] = "cusco";

// Cusco's inbox for Madre de Dios' stream, on a fresh SQLite store in a
// temporary directory named after `what`.
struct CuscoInbox {
  explicit CuscoInbox(const std::string& what) {
    store::SqliteOptions options;
    options.path = testing::MakeTempDir(what) + "/cusco.db";
    store = *store::OpenSqliteStore(options);
    federation::InboxOptions inbox_options;
    inbox_options.region = kTo;
    inbox_options.signing_keys[kFrom] =
        *security::SignatureVerifier::LoadFromFile(absl::StrCat(
            testing::DevPki::Get().dir(), "/trust/signing/", kFrom, ".pub"));
    inbox = std::make_unique<federation::Inbox>(std::move(inbox_options),
                                                store.get());
  }

  std::unique_ptr<store::Store> store;
  // Declared after the store: destroyed first.
  std::unique_ptr<federation::Inbox> inbox;
};

void BM_InboxAppliesSignedBatches(benchmark::State& state) {
  const int per_batch = static_cast<int>(state.range(0));
  const CuscoInbox cusco("federation-bench");
  federation::Inbox& inbox = *cusco.inbox;
  std::unique_ptr<testing::FederationBatchMaker> maker =
      *testing::FederationBatchMaker::Create(kFrom, kTo);
  int64_t sequence = 0;
  int64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const v1::EventBatch batch =
        maker->SignedCasePairs(sequence + 1, per_batch / 2);
    sequence += 2 * (per_batch / 2);
    state.ResumeTiming();
    std::promise<absl::StatusOr<int64_t>> applied;
    inbox.ApplyBatch(kFrom, batch, [&](absl::StatusOr<int64_t> result) {
      applied.set_value(std::move(result));
    });
    absl::StatusOr<int64_t> result = applied.get_future().get();
    if (!result.ok() || *result != sequence) {
      state.SkipWithError("a batch was not applied");
      break;
    }
    events += batch.events_size();
  }
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(events), benchmark::Counter::kIsRate);
}
// A week-offline catch-up without gRPC: `events` events (a shared case and
// its transfer request per pair, as above) applied in batches of
// `per_batch`, into a store that grows from empty; signed beforehand, so
// that the time is the inbox's alone (each signature checked, the batches
// applied and committed). `in_flight`: batches handed to the inbox and not
// yet applied, as the Exchange stream allows (1: one after the other).
// Reports the rate over all of them and over the last tenth (the databases
// are then at their largest).
void BM_InboxCatchUp(benchmark::State& state) {
  const int per_batch = static_cast<int>(state.range(0));
  const int64_t total = state.range(1);
  const int in_flight = static_cast<int>(state.range(2));
  const CuscoInbox cusco("federation-catch-up");
  federation::Inbox& inbox = *cusco.inbox;
  std::unique_ptr<testing::FederationBatchMaker> maker =
      *testing::FederationBatchMaker::Create(kFrom, kTo);
  std::vector<v1::EventBatch> batches;
  for (int64_t sequence = 0; sequence + 2 <= total;) {
    const int pairs = static_cast<int>(
        std::min<int64_t>(per_batch / 2, (total - sequence) / 2));
    batches.push_back(maker->SignedCasePairs(sequence + 1, pairs));
    sequence += 2 * pairs;
  }
  const size_t last_tenth = batches.size() - batches.size() / 10;
  absl::Time tail_start;
  int64_t tail_events = 0;
  absl::Mutex mu;
  int applying = 0;  // handed to the inbox, not yet applied
  bool failed = false;
  auto below = [&](int n) {
    return [&mu, &applying, n] {
      mu.AssertHeld();
      return applying < n;
    };
  };
  for (auto _ : state) {
    for (size_t b = 0; b < batches.size(); ++b) {
      {
        absl::MutexLock lock(&mu);
        auto room = below(in_flight);
        mu.Await(absl::Condition(&room));
        if (failed) break;
        ++applying;
      }
      if (b == last_tenth) tail_start = absl::Now();
      if (b >= last_tenth) tail_events += batches[b].events_size();
      inbox.ApplyBatch(kFrom, batches[b], [&](absl::StatusOr<int64_t> result) {
        absl::MutexLock lock(&mu);
        --applying;
        if (!result.ok()) failed = true;
      });
    }
    absl::MutexLock lock(&mu);
    auto none = below(1);
    mu.Await(absl::Condition(&none));
    if (failed) {
      state.SkipWithError("a batch was not applied");
      return;
    }
    state.counters["last_tenth_events_per_second"] =
        static_cast<double>(tail_events) /
        absl::ToDoubleSeconds(absl::Now() - tail_start);
  }
  state.counters["events_per_second"] = benchmark::Counter(
      static_cast<double>(total), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_InboxCatchUp)
    ->ArgNames({"per_batch", "events", "in_flight"})
    ->Args({256, 200000, 1})
    ->Args({256, 200000, 16})
    ->Args({1000, 200000, 1})
    ->Args({1000, 200000, 16})
    ->Iterations(1)
    ->UseRealTime()
    ->Unit(benchmark::kSecond);

BENCHMARK(BM_InboxAppliesSignedBatches)
    ->Arg(16)
    ->Arg(256)
    ->Arg(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ruta

BENCHMARK_MAIN();
