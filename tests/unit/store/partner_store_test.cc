// The store's partner tables (migration 0006): referrals and the partner
// change log maintained by PutCase, PutService and EraseCase.
#include <stdlib.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
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
constexpr char kCusco[] = "cusco";
constexpr char kTdh[] = "cusco/tdh";
constexpr char kCaritas[] = "cusco/caritas";

core::Case MakeCase(const std::string& id) {
  core::Case c;
  c.case_id = id;
  c.person_ref = "pr1_abcdefghijklmnopabcdefghijklmnop";
  c.kind = core::CaseKind::kVictim;
  c.owner_region = kCusco;
  c.stage = core::Stage::kDetected;
  c.profile.origin_province = "0801";
  c.version = 1;
  c.opened_at = c.updated_at = absl::FromUnixSeconds(1790000000);
  return c;
}

struct Entry {
  std::string partner, case_id;
  int64_t version;
  bool withdrawn;
};

using ::ruta::testing::StoreBackend;

// Runs on both backends (the store conformance suite).
class PartnerStoreTest : public ::testing::TestWithParam<StoreBackend> {
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

  void Put(core::Case& c) {
    ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) { return txn.PutCase(c); }));
    c.version += 1;
  }

  std::vector<Entry> Log(const std::string& partner, int64_t after = 0) {
    std::vector<Entry> out;
    EXPECT_TRUE(store_
                    ->ReadSync([&](ReadTxn& txn) -> absl::Status {
                      auto changes =
                          txn.ScanPartnerChanges(partner, after, 100);
                      if (!changes.ok()) return changes.status();
                      int64_t last = after;
                      for (const PartnerChange& c : *changes) {
                        EXPECT_GT(c.position, last);
                        last = c.position;
                        out.push_back({c.partner_id, c.case_id, c.case_version,
                                       c.withdrawn});
                      }
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  std::vector<PartnerReferral> Referrals(const std::string& partner,
                                         const std::string& region = kCusco) {
    std::vector<PartnerReferral> out;
    EXPECT_TRUE(store_
                    ->ReadSync([&](ReadTxn& txn) -> absl::Status {
                      auto r = txn.ListPartnerReferrals(partner, region);
                      if (!r.ok()) return r.status();
                      out = *std::move(r);
                      return absl::OkStatus();
                    })
                    .ok());
    return out;
  }

  std::unique_ptr<::ruta::testing::ScratchStore> scratch_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, PartnerStoreTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

TEST_P(PartnerStoreTest, CaseWithoutReferralsLogsNothing) {
  core::Case c = MakeCase(kCase);
  Put(c);
  c.stage = core::Stage::kIdentified;
  Put(c);
  EXPECT_TRUE(Log(kTdh).empty());
  EXPECT_TRUE(Referrals(kTdh).empty());
}

TEST_P(PartnerStoreTest, ReferralChangesAndWithdrawalAreLoggedInOrder) {
  core::Case c = MakeCase(kCase);
  Put(c);  // v1
  c.referrals = {kTdh};
  c.updated_at = absl::FromUnixSeconds(1795000000);
  Put(c);  // v2: referred
  c.stage = core::Stage::kIdentified;
  Put(c);  // v3: a change tdh sees
  c.referrals = {kCaritas, kTdh};
  Put(c);  // v4: caritas referred, tdh sees the case change
  c.referrals = {kCaritas};
  Put(c);  // v5: tdh withdrawn

  const std::vector<Entry> tdh = Log(kTdh);
  ASSERT_EQ(tdh.size(), 4u);
  EXPECT_EQ(tdh[0].version, 2);
  EXPECT_FALSE(tdh[0].withdrawn);
  EXPECT_EQ(tdh[1].version, 3);
  EXPECT_EQ(tdh[2].version, 4);
  EXPECT_FALSE(tdh[2].withdrawn);
  EXPECT_EQ(tdh[3].version, 5);
  EXPECT_TRUE(tdh[3].withdrawn);
  EXPECT_EQ(tdh[3].case_id, kCase);

  const std::vector<Entry> caritas = Log(kCaritas);
  ASSERT_EQ(caritas.size(), 2u);
  EXPECT_EQ(caritas[0].version, 4);
  EXPECT_EQ(caritas[1].version, 5);

  EXPECT_TRUE(Referrals(kTdh).empty());
  const std::vector<PartnerReferral> referrals = Referrals(kCaritas);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].case_id, kCase);
  EXPECT_EQ(referrals[0].owner_region, kCusco);

  // Resuming after the second entry returns exactly the rest.
  int64_t second = 0;
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto changes = txn.ScanPartnerChanges(kTdh, 0, 2);
    if (!changes.ok()) return changes.status();
    EXPECT_EQ(changes->size(), 2u);
    second = changes->back().position;
    return absl::OkStatus();
  }));
  EXPECT_EQ(Log(kTdh, second).size(), 2u);
}

TEST_P(PartnerStoreTest, ReferredMonthIsWhenTheReferralBegan) {
  core::Case c = MakeCase(kCase);
  Put(c);
  c.referrals = {kTdh};
  c.updated_at = absl::FromUnixSeconds(1795000000);
  Put(c);
  c.updated_at = absl::FromUnixSeconds(1799000000);
  Put(c);
  const std::vector<PartnerReferral> referrals = Referrals(kTdh);
  ASSERT_EQ(referrals.size(), 1u);
  EXPECT_EQ(referrals[0].referred_at, absl::FromUnixSeconds(1795000000));
}

TEST_P(PartnerStoreTest, CustodyFollowsTheOwnerRegion) {
  core::Case c = MakeCase(kCase);
  c.referrals = {kTdh};
  Put(c);
  c.owner_region = "madre-de-dios";
  Put(c);
  EXPECT_TRUE(Referrals(kTdh).empty());
  EXPECT_EQ(Referrals(kTdh, "madre-de-dios").size(), 1u);
  EXPECT_EQ(Log(kTdh).size(), 2u);
}

TEST_P(PartnerStoreTest, ServiceOfTheReferredProviderIsLogged) {
  core::Case c = MakeCase(kCase);
  c.referrals = {kTdh};
  Put(c);
  core::ServiceRecord s;
  s.service_id = "sv_abcdefghijklmnopqrst";
  s.case_id = kCase;
  s.type = core::ServiceType::kPsychosocial;
  s.provider = kTdh;
  s.status = core::ServiceStatus::kOngoing;
  s.start_month = {2026, 10};
  s.version = 1;
  s.author_region = kCusco;
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutService(s); }));
  // A service of another provider, and one on an unreferred case: no entry.
  core::ServiceRecord other = s;
  other.service_id = "sv_bbbbbbbbbbbbbbbbbbbb";
  other.provider = kCaritas;
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutService(other); }));
  core::Case unreferred = MakeCase(kOther);
  Put(unreferred);
  core::ServiceRecord third = s;
  third.service_id = "sv_cccccccccccccccccccc";
  third.case_id = kOther;
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutService(third); }));

  const std::vector<Entry> tdh = Log(kTdh);
  ASSERT_EQ(tdh.size(), 2u);
  EXPECT_EQ(tdh[1].case_id, kCase);
  EXPECT_EQ(tdh[1].version, 1);  // the case's current version
  EXPECT_TRUE(Log(kCaritas).empty());
}

TEST_P(PartnerStoreTest, ErasureWithdrawsAndPositionsAreNeverReused) {
  core::Case c = MakeCase(kCase);
  c.referrals = {kTdh};
  Put(c);
  Put(c);
  int64_t last_before = 0;
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto last = txn.LastPartnerChange();
    if (!last.ok()) return last.status();
    last_before = *last;
    return absl::OkStatus();
  }));
  EXPECT_EQ(last_before, 2);
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) {
    return txn.EraseCase(kCase, kCusco, absl::Now());
  }));
  // The earlier entries are gone; one withdrawn entry remains, after every
  // position ever given (a watcher at position 2 still sees it).
  const std::vector<Entry> all = Log(kTdh);
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].withdrawn);
  EXPECT_EQ(Log(kTdh, last_before).size(), 1u);
  EXPECT_TRUE(Referrals(kTdh).empty());
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto stages = txn.ListCaseStages(kCase, 100);
    if (!stages.ok()) return stages.status();
    EXPECT_TRUE(stages->empty());
    return absl::OkStatus();
  }));
}

TEST_P(PartnerStoreTest, CaseStagesUpToAVersion) {
  core::Case c = MakeCase(kCase);
  Put(c);
  c.stage = core::Stage::kIdentified;
  Put(c);
  c.stage = core::Stage::kImmediateProtection;
  Put(c);
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto stages = txn.ListCaseStages(kCase, 2);
    if (!stages.ok()) return stages.status();
    EXPECT_EQ(stages->size(), 2u);
    EXPECT_EQ(stages->back().stage, core::Stage::kIdentified);
    auto none = txn.ScanPartnerChanges(kTdh, 0, 0);
    EXPECT_EQ(none.status().code(), absl::StatusCode::kInvalidArgument);
    return absl::OkStatus();
  }));
}

}  // namespace
}  // namespace ruta::store
