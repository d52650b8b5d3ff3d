// The inbox of a node with several replicas on one PostgreSQL database: the
// peer's relay may reach any replica, and after a takeover or a load
// balancer's switch two replicas may receive the same batch at once. The
// store's serialized writes must keep (origin, sequence) exactly-once: every
// batch below goes to both replicas' inboxes concurrently, in overlapping
// windows, and in the end each event is applied and kept once.
//
// Needs RUTA_TEST_POSTGRES (skipped without it, except under CI=true).
#include <future>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ruta/core/case_service.h"
#include "ruta/core/federation.h"
#include "ruta/core/transfer_service.h"
#include "ruta/federation/codec.h"
#include "ruta/federation/inbox.h"
#include "ruta/federation/relay.h"
#include "ruta/security/signing.h"
#include "ruta/store/store.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/store_backend.h"

namespace ruta {
namespace {

constexpr char kMdd[] = "madre-de-dios";
constexpr char kCusco[] = "cusco";

template <typename T, typename F>
absl::StatusOr<T> Await(F call) {
  std::promise<absl::StatusOr<T>> promise;
  call([&promise](absl::StatusOr<T> result) {
    promise.set_value(std::move(result));
  });
  return promise.get_future().get();
}

std::string Rid(uint64_t n) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "00000000-0000-4000-8000-%012llu",
                static_cast<unsigned long long>(n));
  return buffer;
}

std::unique_ptr<federation::Inbox> MakeInbox(store::Store* store) {
  federation::InboxOptions options;
  options.region = kMdd;
  absl::StatusOr<std::unique_ptr<security::SignatureVerifier>> key =
      security::SignatureVerifier::LoadFromFile(absl::StrCat(
          testing::DevPki::Get().dir(), "/trust/signing/", kCusco, ".pub"));
  EXPECT_TRUE(key.ok()) << key.status();
  options.signing_keys[kCusco] = *std::move(key);
  return std::make_unique<federation::Inbox>(std::move(options), store);
}

TEST(ReplicaInboxTest, SameBatchesToTwoReplicasAtOnceApplyOnce) {
  if (!testing::PostgresTestConninfo().has_value()) {
    if (testing::PostgresRequired())
      FAIL() << testing::MissingPostgresMessage();
    GTEST_SKIP() << testing::MissingPostgresMessage();
  }
  // Cusco, the sender, on SQLite: cases requested for transfer to Madre de
  // Dios fill its outbox.
  absl::StatusOr<std::unique_ptr<testing::ScratchStore>> cusco_db =
      testing::ScratchStore::Create(testing::StoreBackend::kSqlite);
  ASSERT_TRUE(cusco_db.ok()) << cusco_db.status();
  absl::StatusOr<std::unique_ptr<store::Store>> cusco = (*cusco_db)->Open();
  ASSERT_TRUE(cusco.ok()) << cusco.status();
  federation::ProtoEventEncoder encoder;
  core::Outbox outbox(kCusco, &encoder, nullptr);
  core::CaseServiceOptions case_options;
  case_options.region = kCusco;
  core::CaseService cases(case_options, cusco->get(),
                          static_cast<const core::LinkageKeys*>(nullptr),
                          &outbox);
  core::TransferServiceOptions transfer_options;
  transfer_options.region = kCusco;
  transfer_options.peer_departments[kMdd] = "17";
  core::TransferService transfers(transfer_options, cusco->get(), &outbox);
  core::Actor office{"spiffe://cusco.ruta.pe/office/test", kCusco, ""};
  constexpr int kTransfers = 30;
  uint64_t requests = 0;
  for (int i = 0; i < kTransfers; ++i) {
    core::OpenCaseCommand open;
    open.request_id = Rid(++requests);
    open.kind = core::CaseKind::kVictim;
    open.initial_stage = core::Stage::kIdentified;
    open.profile.age_band = core::AgeBand::k15To17;
    open.profile.sex = core::Sex::kFemale;
    open.profile.origin_province = "0812";
    open.profile.exploitation_forms = {core::ExploitationForm::kSexual};
    open.profile.setting = core::Setting::kBar;
    open.profile.recruitment_means = core::RecruitmentMeans::kFalseJobOffer;
    open.profile.identified_month = {2026, 10};
    open.legal_basis = core::LegalBasis::kUpeProtectiveMeasure;
    absl::StatusOr<core::Case> c = Await<core::Case>(
        [&](auto done) { cases.OpenCase(office, open, done); });
    ASSERT_TRUE(c.ok()) << c.status();
    for (core::Stage stage :
         {core::Stage::kImmediateProtection, core::Stage::kResidentialCare}) {
      core::UpdateStageCommand move;
      move.request_id = Rid(++requests);
      move.case_id = c->case_id;
      move.to = stage;
      c = Await<core::Case>(
          [&](auto done) { cases.UpdateStage(office, move, done); });
      ASSERT_TRUE(c.ok()) << c.status();
    }
    core::RequestTransferCommand request;
    request.request_id = Rid(++requests);
    request.case_id = c->case_id;
    request.to_region = kMdd;
    request.destination_province = "1701";
    absl::StatusOr<core::Transfer> t = Await<core::Transfer>(
        [&](auto done) { transfers.RequestTransfer(office, request, done); });
    ASSERT_TRUE(t.ok()) << t.status();
  }
  int64_t last = -1;
  ASSERT_TRUE((*cusco)
                  ->WriteSync([&](store::WriteTxn& txn) {
                    return federation::StampOutboxEvents(txn, kMdd, 1000, &last)
                        .status();
                  })
                  .ok());
  ASSERT_GT(last, kTransfers);
  std::vector<store::OutboxEvent> events;
  ASSERT_TRUE((*cusco)
                  ->ReadSync([&](store::ReadTxn& txn) {
                    absl::StatusOr<std::vector<store::OutboxEvent>> read =
                        txn.ReadOutbox(kMdd, 1, 1000);
                    if (!read.ok()) return read.status();
                    events = *std::move(read);
                    return absl::OkStatus();
                  })
                  .ok());
  ASSERT_EQ(static_cast<int64_t>(events.size()), last);
  absl::StatusOr<std::unique_ptr<security::Signer>> signer =
      security::Signer::LoadFromFile(absl::StrCat(
          testing::DevPki::Get().dir(), "/", kCusco, "/signing/signing.key"));
  ASSERT_TRUE(signer.ok()) << signer.status();

  // Madre de Dios: two replicas (two stores, two inboxes) on one database.
  absl::StatusOr<std::unique_ptr<testing::ScratchStore>> mdd_db =
      testing::ScratchStore::Create(testing::StoreBackend::kPostgres);
  ASSERT_TRUE(mdd_db.ok()) << mdd_db.status();
  absl::StatusOr<std::unique_ptr<store::Store>> a = (*mdd_db)->Open();
  absl::StatusOr<std::unique_ptr<store::Store>> b = (*mdd_db)->Open();
  ASSERT_TRUE(a.ok() && b.ok()) << a.status() << b.status();
  std::unique_ptr<federation::Inbox> inboxes[2] = {MakeInbox(a->get()),
                                                   MakeInbox(b->get())};

  // Windows of 1 to 6 events starting from 3 before to 2 after the applied
  // position, each sent to both replicas at once, until all is applied.
  std::mt19937_64 random(7);
  int64_t position = 0;
  int rounds = 0, refused_gaps = 0;
  while (position < last && ++rounds < 2000) {
    int64_t first = std::max<int64_t>(
        1, position + 1 - 3 + static_cast<int64_t>(random() % 6));
    first = std::min(first, last);
    const int64_t count = std::min<int64_t>(
        1 + static_cast<int64_t>(random() % 6), last - first + 1);
    v1::EventBatch batch;
    std::vector<std::string> bytes;
    for (int64_t s = first; s < first + count; ++s) {
      batch.add_events(events[static_cast<size_t>(s - 1)].bytes);
      bytes.push_back(events[static_cast<size_t>(s - 1)].bytes);
    }
    absl::StatusOr<std::string> signature =
        (*signer)->Sign(federation::BatchSigningInput(bytes));
    ASSERT_TRUE(signature.ok());
    batch.set_signature(*signature);
    batch.set_signing_key_id("cusco/ed25519");
    std::promise<absl::StatusOr<int64_t>> done[2];
    for (int r = 0; r < 2; ++r) {
      inboxes[r]->ApplyBatch(kCusco, batch,
                             [&done, r](absl::StatusOr<int64_t> applied) {
                               done[r].set_value(std::move(applied));
                             });
    }
    for (int r = 0; r < 2; ++r) {
      absl::StatusOr<int64_t> applied = done[r].get_future().get();
      if (first > position + 1) {
        // A gap: refused by both, whatever the other did.
        ASSERT_EQ(applied.status().code(), absl::StatusCode::kOutOfRange)
            << applied.status();
        ++refused_gaps;
      } else {
        ASSERT_TRUE(applied.ok()) << applied.status();
        EXPECT_EQ(*applied, std::max(position, first + count - 1));
      }
    }
    if (first <= position + 1) {
      position = std::max(position, first + count - 1);
    }
  }
  ASSERT_EQ(position, last) << "after " << rounds << " rounds";
  EXPECT_GT(refused_gaps, 0);  // the schedule did try gaps

  // Each event kept once, the position at the end, each transfer once.
  absl::StatusOr<int64_t> kept = (*mdd_db)->QueryInt64(
      "SELECT count(*) FROM inbox_events WHERE origin = 'cusco'");
  absl::StatusOr<int64_t> distinct = (*mdd_db)->QueryInt64(
      "SELECT count(DISTINCT sequence) FROM inbox_events WHERE origin = "
      "'cusco'");
  absl::StatusOr<int64_t> applied_through = (*mdd_db)->QueryInt64(
      "SELECT applied_through FROM inbox_positions WHERE origin = 'cusco'");
  absl::StatusOr<int64_t> received = (*mdd_db)->QueryInt64(
      "SELECT count(*) FROM transfers WHERE from_region = 'cusco'");
  ASSERT_TRUE(kept.ok() && distinct.ok() && applied_through.ok() &&
              received.ok())
      << kept.status() << distinct.status() << applied_through.status()
      << received.status();
  EXPECT_EQ(*kept, last);
  EXPECT_EQ(*distinct, last);
  EXPECT_EQ(*applied_through, last);
  EXPECT_EQ(*received, kTransfers);
}

}  // namespace
}  // namespace ruta
