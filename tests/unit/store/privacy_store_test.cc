// The store's privacy additions (migration 0004): person aliases (joins
// rewrite every version and keep aliases pointing at their root), erasure
// (what goes, what stays as a hash, what waits for the peer's
// acknowledgement), retention listing and node settings.
#include <openssl/sha.h>
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
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

constexpr char kCase[] = "cs_abcdefghijklmnopqrst";
constexpr char kOther[] = "cs_bbbbbbbbbbbbbbbbbbbb";
constexpr char kMdd[] = "madre-de-dios";

std::string Sha256(const std::string& bytes) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), d);
  return std::string(reinterpret_cast<const char*>(d), sizeof(d));
}

core::Case MakeCase(const std::string& id, const std::string& ref) {
  core::Case c;
  c.case_id = id;
  c.person_ref = ref;
  c.kind = core::CaseKind::kVictim;
  c.owner_region = kMdd;
  c.stage = core::Stage::kDetected;
  c.profile.origin_province = "0812";
  c.version = 1;
  return c;
}

using ::ruta::testing::StoreBackend;

// Runs on both backends (the store conformance suite).
class PrivacyStoreTest : public ::testing::TestWithParam<StoreBackend> {
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

  // Rows of `table` matching `where`, read with plain SQL.
  int64_t CountRows(const std::string& table, const std::string& where) {
    absl::StatusOr<int64_t> n = scratch_->QueryInt64(
        absl::StrCat("SELECT count(*) FROM ", table, " WHERE ", where));
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }

  std::unique_ptr<::ruta::testing::ScratchStore> scratch_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PrivacyStoreTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

TEST_P(PrivacyStoreTest, JoinRewritesEveryVersionAndKeepsAliasesFlat) {
  const std::string a = "pr0_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
  const std::string b = "pr0_bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
  const std::string c = "pr1_cccccccccccccccccccccccccccccccc";
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    core::Case first = MakeCase(kCase, a);
    if (auto s = txn.PutCase(first); !s.ok()) return s;
    first.version = 2;
    first.stage = core::Stage::kIdentified;
    if (auto s = txn.PutCase(first); !s.ok()) return s;
    return txn.PutCase(MakeCase(kOther, b));
  }));
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    auto changed = txn.JoinPersonRef(a, b);
    if (!changed.ok()) return changed.status();
    EXPECT_EQ(*changed, 1);
    // b is then joined into c: a must point at c directly.
    changed = txn.JoinPersonRef(b, c);
    if (!changed.ok()) return changed.status();
    EXPECT_EQ(*changed, 2);
    return absl::OkStatus();
  }));
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    EXPECT_EQ(**txn.FindPersonAlias(a), c);
    EXPECT_EQ(**txn.FindPersonAlias(b), c);
    EXPECT_FALSE(txn.FindPersonAlias(c)->has_value());
    EXPECT_EQ((*txn.FindCaseVersion(kCase, 1))->person_ref, c);
    EXPECT_EQ((*txn.FindCase(kOther))->person_ref, c);
    return absl::OkStatus();
  }));
  EXPECT_EQ(CountRows("case_history", "person_ref <> '" + c + "'"), 0);
  // Joining into an alias, or a ref into itself, is refused.
  EXPECT_EQ(store_
                ->WriteSync([&](WriteTxn& txn) {
                  return txn.JoinPersonRef(c, a).status();
                })
                .code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(store_
                ->WriteSync([&](WriteTxn& txn) {
                  return txn.JoinPersonRef(c, c).status();
                })
                .code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(PrivacyStoreTest, EraseLeavesOnlyIdsHashesAndWaitsForAcks) {
  // The case, a transfer, a service, shares, and outbox events in the three
  // states: acknowledged, sent but unacknowledged, never sent.
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    if (auto s = txn.PutCase(MakeCase(kCase, "pr1_x")); !s.ok()) return s;
    if (auto s = txn.PutCase(MakeCase(kOther, "pr1_y")); !s.ok()) return s;
    core::Transfer t;
    t.transfer_id = "tr_abcdefghijklmnopqrst";
    t.case_id = kCase;
    t.from_region = kMdd;
    t.to_region = "cusco";
    t.destination_province = "0801";
    t.requested_on = {2026, 11, 28};
    if (auto s = txn.PutTransfer(t); !s.ok()) return s;
    core::ServiceRecord sv;
    sv.service_id = "sv_abcdefghijklmnopqrst";
    sv.case_id = kCase;
    sv.type = core::ServiceType::kHealth;
    sv.status = core::ServiceStatus::kPlanned;
    sv.start_month = {2026, 11};
    sv.version = 1;
    sv.author_region = kMdd;
    if (auto s = txn.PutService(sv); !s.ok()) return s;
    if (auto s = txn.AddCaseShare(kCase, "cusco"); !s.ok()) return s;
    for (int i = 1; i <= 3; ++i) {
      OutboxEvent e;
      e.destination = "cusco";
      e.case_id = kCase;
      e.payload = absl::StrCat("payload-", i);
      e.committed_at = absl::Now();
      auto id = txn.AppendOutbox(e);
      if (!id.ok()) return id.status();
      if (i <= 2) {
        auto s = txn.StampOutbox(*id, i, absl::StrCat("bytes-", i));
        if (!s.ok()) return s;
      }
    }
    if (auto s = txn.PutOutboxAck("cusco", 1); !s.ok()) return s;
    InboxBatch batch;
    batch.origin = "cusco";
    batch.first_sequence = 1;
    batch.last_sequence = 2;
    batch.signature = std::string(64, '\x01');
    batch.signing_key_id = "cusco/ed25519";
    batch.events = {"in-1", "in-2"};
    batch.event_case_ids = {kCase, kOther};
    return txn.PutInboxBatch(batch);
  }));

  ASSERT_OK(store_->WriteSync(
      [&](WriteTxn& txn) { return txn.EraseCase(kCase, kMdd, absl::Now()); }));
  for (const char* table :
       {"cases", "case_history", "transfers", "transfer_history", "services",
        "service_history", "case_shares"}) {
    EXPECT_EQ(CountRows(table, absl::StrCat("case_id = '", kCase, "'")), 0)
        << table;
  }
  EXPECT_EQ(
      CountRows("transfer_changes", "transfer_id = 'tr_abcdefghijklmnopqrst'"),
      0);
  EXPECT_EQ(CountRows("cases", absl::StrCat("case_id = '", kOther, "'")), 1);
  // Never sent: gone. Acknowledged: hash only. Unacknowledged: kept.
  EXPECT_EQ(CountRows("outbox", "sequence IS NULL"), 0);
  EXPECT_EQ(CountRows("outbox",
                      "sequence = 1 AND length(bytes) = 0 AND "
                      "length(payload) = 0"),
            1);
  EXPECT_EQ(
      CountRows(
          "outbox",
          absl::StrCat("sequence = 2 AND bytes = CAST('bytes-2' AS ",
                       GetParam() == StoreBackend::kSqlite ? "BLOB" : "BYTEA",
                       ")")),
      1);
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    EXPECT_TRUE(*txn.IsCaseErased(kCase));
    EXPECT_FALSE(*txn.IsCaseErased(kOther));
    auto batches = txn.ReadInboxBatches("cusco", 0, 10);
    EXPECT_EQ(batches->size(), 1u);
    const InboxBatch& b = (*batches)[0];
    EXPECT_EQ(b.events, (std::vector<std::string>{"", "in-2"}));
    EXPECT_EQ(b.erased_hashes.size(), 1u);
    EXPECT_EQ(b.erased_hashes.at(0), Sha256("in-1"));
    return absl::OkStatus();
  }));
  // The peer acknowledges event 2: it is reduced to its hash too.
  ASSERT_OK(store_->WriteSync(
      [&](WriteTxn& txn) { return txn.PutOutboxAck("cusco", 2); }));
  EXPECT_EQ(CountRows("outbox", "sequence = 2 AND length(bytes) = 0"), 1);
  EXPECT_EQ(CountRows("outbox", "length(hash) = 32"), 2);
  // A later event of the erased case arriving from the peer keeps only its
  // hash.
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) {
    InboxBatch batch;
    batch.origin = "cusco";
    batch.first_sequence = 3;
    batch.last_sequence = 3;
    batch.signature = std::string(64, '\x01');
    batch.signing_key_id = "cusco/ed25519";
    batch.events = {"in-3"};
    batch.event_case_ids = {kCase};
    return txn.PutInboxBatch(batch);
  }));
  EXPECT_EQ(CountRows("inbox_events", "sequence = 3 AND length(bytes) = 0"), 1);
  // Erasing twice is refused.
  EXPECT_EQ(store_
                ->WriteSync([&](WriteTxn& txn) {
                  return txn.EraseCase(kCase, kMdd, absl::Now());
                })
                .code(),
            absl::StatusCode::kAlreadyExists);
}

TEST_P(PrivacyStoreTest, ClosedCasesBeforeAndSettings) {
  const absl::Time now = absl::Now();
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    core::Case old_closed = MakeCase(kCase, "pr1_x");
    old_closed.stage = core::Stage::kClosed;
    old_closed.updated_at = now - absl::Hours(100);
    if (auto s = txn.PutCase(old_closed); !s.ok()) return s;
    core::Case recent = MakeCase(kOther, "pr1_y");
    recent.stage = core::Stage::kClosed;
    recent.updated_at = now;
    if (auto s = txn.PutCase(recent); !s.ok()) return s;
    return txn.PutSetting("linkage_key_version", "3");
  }));
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto page = txn.ListClosedCasesBefore(kMdd, now - absl::Hours(1), "", 10);
    EXPECT_EQ(page->cases.size(), 1u);
    EXPECT_EQ(page->cases[0].case_id, kCase);
    EXPECT_TRUE(txn.ListClosedCasesBefore("cusco", now, "", 10)->cases.empty());
    EXPECT_EQ(**txn.GetSetting("linkage_key_version"), "3");
    EXPECT_FALSE(txn.GetSetting("other")->has_value());
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace ruta::store
