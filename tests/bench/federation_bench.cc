// The receiving side of federation: events durably applied per second by the
// inbox of one stream (verify the batch signature, decode, apply each event
// and record the position and the batch in one SQLite transaction with
// synchronous=FULL). Each event pair is a case shared with a transfer
// request, as a transfer request sends. Arg: events per batch.
#include <benchmark/benchmark.h>

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
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"

namespace ruta {
namespace {

constexpr char kFrom[] = "madre-de-dios";
constexpr char kTo[] = "cusco";

core::Case SharedCase(const std::string& case_id) {
  core::Case c;
  c.case_id = case_id;
  // A child of their own, as a case opened without identifiers gets: with
  // one ref for every case, the dashboard counters (core::CountedChange)
  // would recount all of them at each event.
  c.person_ref = core::RandomPersonRef();
  c.kind = core::CaseKind::kVictim;
  c.owner_region = kFrom;
  c.stage = core::Stage::kResidentialCare;
  c.profile.age_band = core::AgeBand::k15To17;
  c.profile.sex = core::Sex::kFemale;
  c.profile.origin_province = "0812";
  c.profile.exploitation_forms = {core::ExploitationForm::kSexual};
  c.profile.setting = core::Setting::kBar;
  c.profile.recruitment_means = core::RecruitmentMeans::kFalseJobOffer;
  c.profile.identified_month = {2026, 10};
  c.legal_basis = core::LegalBasis::kUpeProtectiveMeasure;
  c.version = 3;
  c.opened_at = c.updated_at = absl::Now();
  return c;
}

void BM_InboxAppliesSignedBatches(benchmark::State& state) {
  const int per_batch = static_cast<int>(state.range(0));
  const testing::DevPki& pki = testing::DevPki::Get();
  store::SqliteOptions options;
  options.path = testing::MakeTempDir("federation-bench") + "/cusco.db";
  std::unique_ptr<store::Store> store = *store::OpenSqliteStore(options);
  federation::InboxOptions inbox_options;
  inbox_options.region = kTo;
  inbox_options.signing_keys[kFrom] =
      *security::SignatureVerifier::LoadFromFile(
          absl::StrCat(pki.dir(), "/trust/signing/", kFrom, ".pub"));
  federation::Inbox inbox(std::move(inbox_options), store.get());
  std::unique_ptr<security::Signer> signer = *security::Signer::LoadFromFile(
      absl::StrCat(pki.dir(), "/", kFrom, "/signing/signing.key"));
  federation::ProtoEventEncoder encoder;

  int64_t sequence = 0;
  auto event_bytes = [&](const std::string& case_id, auto payload) {
    core::FederationEvent event;
    event.event_id = core::NewEventId();
    event.origin_region = kFrom;
    event.destination_region = kTo;
    event.sequence = ++sequence;
    event.case_id = case_id;
    event.committed_at = absl::Now();
    event.payload = std::move(payload);
    return *encoder.Encode(event);
  };
  int64_t events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    v1::EventBatch batch;
    std::vector<std::string> bytes;
    for (int i = 0; i < per_batch / 2; ++i) {
      const std::string case_id = core::NewCaseId();
      core::Transfer t;
      t.transfer_id = core::NewTransferId();
      t.case_id = case_id;
      t.from_region = kFrom;
      t.to_region = kTo;
      t.destination_province = "0801";
      t.requested_on = core::Today();
      bytes.push_back(event_bytes(case_id, SharedCase(case_id)));
      bytes.push_back(event_bytes(case_id, t));
    }
    for (const std::string& b : bytes) batch.add_events(b);
    batch.set_signature(*signer->Sign(federation::BatchSigningInput(bytes)));
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
    events += static_cast<int64_t>(bytes.size());
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
  const testing::DevPki& pki = testing::DevPki::Get();
  store::SqliteOptions options;
  options.path = testing::MakeTempDir("federation-catch-up") + "/cusco.db";
  std::unique_ptr<store::Store> store = *store::OpenSqliteStore(options);
  federation::InboxOptions inbox_options;
  inbox_options.region = kTo;
  inbox_options.signing_keys[kFrom] =
      *security::SignatureVerifier::LoadFromFile(
          absl::StrCat(pki.dir(), "/trust/signing/", kFrom, ".pub"));
  federation::Inbox inbox(std::move(inbox_options), store.get());
  std::unique_ptr<security::Signer> signer = *security::Signer::LoadFromFile(
      absl::StrCat(pki.dir(), "/", kFrom, "/signing/signing.key"));
  federation::ProtoEventEncoder encoder;

  int64_t sequence = 0;
  auto event_bytes = [&](const std::string& case_id, auto payload) {
    core::FederationEvent event;
    event.event_id = core::NewEventId();
    event.origin_region = kFrom;
    event.destination_region = kTo;
    event.sequence = ++sequence;
    event.case_id = case_id;
    event.committed_at = absl::Now();
    event.payload = std::move(payload);
    return *encoder.Encode(event);
  };
  std::vector<v1::EventBatch> batches;
  while (sequence < total) {
    std::vector<std::string> bytes;
    for (int i = 0; i < per_batch / 2 && sequence < total; ++i) {
      const std::string case_id = core::NewCaseId();
      core::Transfer t;
      t.transfer_id = core::NewTransferId();
      t.case_id = case_id;
      t.from_region = kFrom;
      t.to_region = kTo;
      t.destination_province = "0801";
      t.requested_on = core::Today();
      bytes.push_back(event_bytes(case_id, SharedCase(case_id)));
      bytes.push_back(event_bytes(case_id, t));
    }
    v1::EventBatch& batch = batches.emplace_back();
    for (const std::string& b : bytes) batch.add_events(b);
    batch.set_signature(*signer->Sign(federation::BatchSigningInput(bytes)));
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
