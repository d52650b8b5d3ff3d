// The store's federation additions (migration 0003): transfers and their
// history and change log, services, case shares, the outbox (append, stamp
// in order) and the inbox (batches that continue the stream only).
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "ruta/store/store.h"
#include "ruta/testing/store_backend.h"

namespace ruta::store {
namespace {

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const absl::Status assert_ok_status_ = (expr);            \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_; \
  } while (false)

using ::ruta::testing::StoreBackend;

// Runs on both backends (the store conformance suite).
class FederationStoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    RUTA_SKIP_WITHOUT_POSTGRES(GetParam());
    auto scratch = ::ruta::testing::ScratchStore::Create(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    auto store = scratch_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  static core::Transfer Requested(const std::string& id) {
    core::Transfer t;
    t.transfer_id = id;
    t.case_id = "cs_abcdefghijklmnopqrst";
    t.from_region = "madre-de-dios";
    t.to_region = "cusco";
    t.destination_province = "0801";
    t.requested_services = {core::ServiceType::kEducationSupport,
                            core::ServiceType::kPsychosocial};
    t.requested_on = {2026, 11, 28};
    return t;
  }

  std::unique_ptr<::ruta::testing::ScratchStore> scratch_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, FederationStoreTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

TEST_P(FederationStoreTest, TransfersKeepEveryVersionAndAChangeLog) {
  core::Transfer t = Requested("tr_abcdefghijklmnopqrst");
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutTransfer(t); }));
  t.accepted_on = {2026, 11, 29};
  t.cancelled = true;
  t.cancel_note = "sin cupo";
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutTransfer(t); }));
  // A version that does not grow is refused.
  EXPECT_EQ(store_->WriteSync([&](WriteTxn& txn) { return txn.PutTransfer(t); })
                .code(),
            absl::StatusCode::kFailedPrecondition);

  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    absl::StatusOr<std::optional<core::Transfer>> now =
        txn.FindTransfer(t.transfer_id);
    EXPECT_TRUE(now.ok() && now->has_value());
    EXPECT_EQ(core::TransferStateOf(**now), core::TransferState::kCancelled);
    EXPECT_EQ(core::TransferVersionOf(**now), 3);
    EXPECT_EQ((*now)->cancel_note, "sin cupo");
    EXPECT_EQ((*now)->requested_services.size(), 2u);
    absl::StatusOr<std::optional<core::Transfer>> first =
        txn.FindTransferVersion(t.transfer_id, 1);
    EXPECT_TRUE(first.ok() && first->has_value());
    EXPECT_EQ(core::TransferStateOf(**first), core::TransferState::kRequested);
    absl::StatusOr<std::vector<TransferChange>> changes =
        txn.ScanTransferChanges("cusco", 0, 10);
    EXPECT_TRUE(changes.ok());
    EXPECT_EQ(changes->size(), 2u);
    EXPECT_LT((*changes)[0].position, (*changes)[1].position);
    EXPECT_EQ(core::TransferStateOf((*changes)[0].transfer),
              core::TransferState::kRequested);
    EXPECT_EQ(core::TransferStateOf((*changes)[1].transfer),
              core::TransferState::kCancelled);
    // The current version is found by its number too.
    absl::StatusOr<std::optional<core::Transfer>> third =
        txn.FindTransferVersion(t.transfer_id, 3);
    EXPECT_TRUE(third.ok() && third->has_value());
    EXPECT_EQ(core::TransferStateOf(**third), core::TransferState::kCancelled);
    // Pages of the feed follow the positions across superseded and current
    // versions.
    changes = txn.ScanTransferChanges("cusco", 0, 1);
    EXPECT_TRUE(changes.ok() && changes->size() == 1);
    EXPECT_EQ(core::TransferVersionOf((*changes)[0].transfer), 1);
    changes = txn.ScanTransferChanges("cusco", (*changes)[0].position, 1);
    EXPECT_TRUE(changes.ok() && changes->size() == 1);
    EXPECT_EQ(core::TransferVersionOf((*changes)[0].transfer), 3);
    // Another region sees none of them.
    changes = txn.ScanTransferChanges("puno", 0, 10);
    EXPECT_TRUE(changes.ok() && changes->empty());
    TransferFilter incoming;
    incoming.region = "cusco";
    incoming.direction = core::TransferRole::kReceiver;
    absl::StatusOr<TransferPage> page = txn.ListTransfers(incoming, "", 10);
    EXPECT_TRUE(page.ok() && page->transfers.size() == 1);
    incoming.direction = core::TransferRole::kSender;
    page = txn.ListTransfers(incoming, "", 10);
    EXPECT_TRUE(page.ok() && page->transfers.empty());
    return absl::OkStatus();
  }));
}

// A database written before migration 0009 kept the current version of each
// transfer in transfer_history too, and two region indexes: the migration
// drops them, and every version and change stays readable.
TEST_P(FederationStoreTest, Migration9KeepsEveryVersionOfAnOlderDatabase) {
  core::Transfer t = Requested("tr_abcdefghijklmnopqrst");
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutTransfer(t); }));
  t.accepted_on = {2026, 11, 29};
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutTransfer(t); }));
  store_.reset();
  constexpr char kColumns[] =
      "transfer_id, case_id, from_region, to_region, destination_province, "
      "requested_services, state, requested_on, accepted_on, departed_on, "
      "received_on, rejected, reject_reason, reject_note, cancelled, "
      "cancel_note, version, updated_at_us";
  ASSERT_OK(scratch_->Exec(absl::StrCat(
      "INSERT INTO transfer_history (", kColumns, ") SELECT ", kColumns,
      " FROM transfers;"
      "CREATE INDEX transfers_by_from ON transfers (from_region, transfer_id);"
      "CREATE INDEX transfers_by_to ON transfers (to_region, transfer_id);"
      "DELETE FROM schema_migrations WHERE version >= 9;")));
  absl::StatusOr<int64_t> rows =
      scratch_->QueryInt64("SELECT count(*) FROM transfer_history");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, 2);

  absl::StatusOr<std::unique_ptr<Store>> store = scratch_->Open();
  ASSERT_TRUE(store.ok()) << store.status();
  store_ = *std::move(store);
  rows = scratch_->QueryInt64("SELECT count(*) FROM transfer_history");
  ASSERT_TRUE(rows.ok()) << rows.status();
  EXPECT_EQ(*rows, 1);
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    for (int64_t version : {1, 2}) {
      absl::StatusOr<std::optional<core::Transfer>> found =
          txn.FindTransferVersion(t.transfer_id, version);
      EXPECT_TRUE(found.ok() && found->has_value()) << version;
    }
    absl::StatusOr<std::vector<TransferChange>> changes =
        txn.ScanTransferChanges("cusco", 0, 10);
    EXPECT_TRUE(changes.ok() && changes->size() == 2);
    EXPECT_EQ(core::TransferStateOf((*changes)[1].transfer),
              core::TransferState::kAccepted);
    return absl::OkStatus();
  }));
}

TEST_P(FederationStoreTest, OutboxIsStampedInOrderWithoutGaps) {
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    for (int i = 0; i < 3; ++i) {
      OutboxEvent e;
      e.destination = "cusco";
      e.case_id = "cs_abcdefghijklmnopqrst";
      e.payload = absl::StrCat("payload-", i);
      e.committed_at = absl::FromUnixSeconds(1800000000 + i);
      absl::StatusOr<int64_t> id = txn.AppendOutbox(e);
      if (!id.ok()) return id.status();
    }
    return absl::OkStatus();
  }));
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    absl::StatusOr<std::vector<OutboxEvent>> pending =
        txn.ReadUnstamped("cusco", 10);
    EXPECT_EQ(pending->size(), 3u);
    // Sequence 2 before 1: refused.
    EXPECT_EQ(txn.StampOutbox((*pending)[0].id, 2, "x").code(),
              absl::StatusCode::kFailedPrecondition);
    EXPECT_TRUE(txn.StampOutbox((*pending)[0].id, 1, "bytes-1").ok());
    EXPECT_TRUE(txn.StampOutbox((*pending)[1].id, 2, "bytes-2").ok());
    // Stamped once only.
    EXPECT_EQ(txn.StampOutbox((*pending)[1].id, 3, "x").code(),
              absl::StatusCode::kFailedPrecondition);
    return absl::OkStatus();
  }));
  ASSERT_OK(store_->WriteSync(
      [&](WriteTxn& txn) { return txn.PutOutboxAck("cusco", 1); }));
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    absl::StatusOr<OutboxStats> stats = txn.GetOutboxStats("cusco");
    EXPECT_EQ(stats->last_sequence, 2);
    EXPECT_EQ(stats->unstamped, 1);
    EXPECT_EQ(stats->acknowledged, 1);
    // The oldest unacknowledged event is sequence 2's.
    EXPECT_EQ(stats->oldest_unacknowledged_at,
              absl::FromUnixSeconds(1800000001));
    absl::StatusOr<std::vector<OutboxEvent>> sent =
        txn.ReadOutbox("cusco", 2, 10);
    EXPECT_EQ(sent->size(), 1u);
    EXPECT_EQ((*sent)[0].bytes, "bytes-2");
    return absl::OkStatus();
  }));
}

TEST_P(FederationStoreTest, InboxTakesOnlyBatchesThatContinueTheStream) {
  auto batch = [](int64_t first, int64_t last) {
    InboxBatch b;
    b.origin = "madre-de-dios";
    b.first_sequence = first;
    b.last_sequence = last;
    b.signature = std::string(64, '\x02');
    b.signing_key_id = "madre-de-dios/ed25519";
    for (int64_t s = first; s <= last; ++s) {
      b.events.push_back(absl::StrCat("event-", s));
    }
    return b;
  };
  ASSERT_OK(store_->WriteSync(
      [&](WriteTxn& txn) { return txn.PutInboxBatch(batch(1, 3)); }));
  // A gap, and a batch entirely at or below the position: refused.
  EXPECT_EQ(store_
                ->WriteSync([&](WriteTxn& txn) {
                  return txn.PutInboxBatch(batch(5, 6));
                })
                .code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(store_
                ->WriteSync([&](WriteTxn& txn) {
                  return txn.PutInboxBatch(batch(2, 3));
                })
                .code(),
            absl::StatusCode::kFailedPrecondition);
  // An overlapping one continues it.
  ASSERT_OK(store_->WriteSync(
      [&](WriteTxn& txn) { return txn.PutInboxBatch(batch(3, 5)); }));
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    EXPECT_EQ(*txn.GetInboxPosition("madre-de-dios"), 5);
    EXPECT_EQ(*txn.GetInboxPosition("cusco"), 0);
    absl::StatusOr<std::vector<InboxBatch>> kept =
        txn.ReadInboxBatches("madre-de-dios", 0, 10);
    EXPECT_EQ(kept->size(), 2u);
    EXPECT_EQ((*kept)[1].events,
              (std::vector<std::string>{"event-3", "event-4", "event-5"}));
    return absl::OkStatus();
  }));
}

TEST_P(FederationStoreTest, ServicesSupersedeByVersionThenAuthor) {
  core::ServiceRecord s;
  s.service_id = "sv_abcdefghijklmnopqrst";
  s.case_id = "cs_abcdefghijklmnopqrst";
  s.type = core::ServiceType::kHealth;
  s.status = core::ServiceStatus::kPlanned;
  s.start_month = {2026, 11};
  s.version = 1;
  s.author_region = "cusco";
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutService(s); }));
  EXPECT_EQ(store_->WriteSync([&](WriteTxn& txn) { return txn.PutService(s); })
                .code(),
            absl::StatusCode::kFailedPrecondition);
  s.author_region = "madre-de-dios";  // sorts after "cusco" at version 1
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutService(s); }));
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    EXPECT_TRUE(txn.AddCaseShare(s.case_id, "cusco").ok());
    EXPECT_TRUE(txn.AddCaseShare(s.case_id, "cusco").ok());  // no-op
    absl::StatusOr<std::vector<std::string>> shares =
        txn.ListCaseShares(s.case_id);
    EXPECT_EQ(*shares, std::vector<std::string>{"cusco"});
    absl::StatusOr<std::optional<core::ServiceRecord>> held =
        txn.FindService(s.service_id);
    EXPECT_EQ((*held)->author_region, "madre-de-dios");
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace ruta::store
