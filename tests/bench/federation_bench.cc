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
#include "absl/time/clock.h"
#include "ruta/core/federation.h"
#include "ruta/core/ids.h"
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
  c.person_ref = "pr0_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
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
BENCHMARK(BM_InboxAppliesSignedBatches)
    ->Arg(16)
    ->Arg(256)
    ->Arg(1000)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace ruta

BENCHMARK_MAIN();
