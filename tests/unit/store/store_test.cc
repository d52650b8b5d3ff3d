// Unit tests of the store (services/store), the conformance suite of its two
// backends: every StoreTest runs on SQLite and on PostgreSQL (see
// ruta/testing/store_backend.h for RUTA_TEST_POSTGRES), each in a fresh
// database.
#include "ruta/store/store.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/blocking_counter.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/domain.h"
#include "ruta/testing/store_backend.h"

namespace ruta::store {
namespace {

using core::Case;
using core::CaseKind;
using core::Stage;

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const absl::Status assert_ok_status_ = (expr);            \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_; \
  } while (false)
#define EXPECT_OK(expr)                                       \
  do {                                                        \
    const absl::Status expect_ok_status_ = (expr);            \
    EXPECT_TRUE(expect_ok_status_.ok()) << expect_ok_status_; \
  } while (false)

// "cs_" + 20 lowercase letters, ordered like n.
std::string CaseId(int n) {
  std::string id = "cs_aaaaaaaaaaaaaaaaaaaa";
  for (size_t i = id.size() - 1; n > 0; --i, n /= 26) {
    id[i] = static_cast<char>('a' + n % 26);
  }
  return id;
}

Case MakeCase(const std::string& case_id, int64_t version = 1) {
  Case c;
  c.case_id = case_id;
  c.person_ref = "pr1_" + (case_id.size() > 3 ? case_id.substr(3) : "x");
  c.kind = CaseKind::kVictim;
  c.owner_region = "madre-de-dios";
  c.stage = Stage::kIdentified;
  c.profile.age_band = core::AgeBand::k12To14;
  c.profile.sex = core::Sex::kFemale;
  c.profile.origin_province = "0812";
  c.profile.exploitation_forms = {core::ExploitationForm::kSexual,
                                  core::ExploitationForm::kLabour};
  c.profile.setting = core::Setting::kMiningCamp;
  c.profile.recruitment_means = core::RecruitmentMeans::kFalseJobOffer;
  c.profile.identified_month = {2026, 3};
  c.legal_basis = core::LegalBasis::kUpeProtectiveMeasure;
  c.consent_partner_sharing = false;
  c.version = version;
  c.opened_at = absl::FromUnixMicros(1767225600123456);
  c.updated_at = c.opened_at + absl::Minutes(version);
  c.opened_by = "spiffe://madre-de-dios.ruta.pe/office/upe";
  return c;
}

void ExpectSameCase(const Case& a, const Case& b) {
  EXPECT_EQ(a.case_id, b.case_id);
  EXPECT_EQ(a.person_ref, b.person_ref);
  EXPECT_EQ(a.kind, b.kind);
  EXPECT_EQ(a.owner_region, b.owner_region);
  EXPECT_EQ(a.stage, b.stage);
  EXPECT_EQ(a.care_stage, b.care_stage);
  EXPECT_EQ(a.closed_reason, b.closed_reason);
  EXPECT_EQ(a.profile.age_band, b.profile.age_band);
  EXPECT_EQ(a.profile.sex, b.profile.sex);
  EXPECT_EQ(a.profile.origin_province, b.profile.origin_province);
  EXPECT_EQ(a.profile.exploitation_forms, b.profile.exploitation_forms);
  EXPECT_EQ(a.profile.setting, b.profile.setting);
  EXPECT_EQ(a.profile.recruitment_means, b.profile.recruitment_means);
  EXPECT_EQ(a.profile.identified_month, b.profile.identified_month);
  EXPECT_EQ(a.legal_basis, b.legal_basis);
  EXPECT_EQ(a.consent_partner_sharing, b.consent_partner_sharing);
  EXPECT_EQ(a.referrals, b.referrals);
  EXPECT_EQ(a.version, b.version);
  EXPECT_EQ(a.opened_at, b.opened_at);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.opened_by, b.opened_by);
}

RequestRecord MakeRequest(const std::string& principal,
                          const std::string& request_id) {
  RequestRecord r;
  r.principal = principal;
  r.request_id = request_id;
  r.method = "CaseOffice.OpenCase";
  r.fingerprint = "sha256:0123abcd";
  r.case_id = CaseId(7);
  r.case_version = 1;
  r.recorded_at = absl::FromUnixMicros(1767225600000001);
  return r;
}

// Runs one SQL statement on the SQLite file directly (bypassing the
// store) and returns the rows as "col|col" strings.
std::vector<std::string> RawQuery(const std::string& path,
                                  const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE, nullptr),
            SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      if (i > 0) row += "|";
      const unsigned char* text = sqlite3_column_text(stmt, i);
      row += text != nullptr ? reinterpret_cast<const char*>(text) : "NULL";
    }
    rows.push_back(row);
  }
  EXPECT_EQ(rc, SQLITE_DONE) << sqlite3_errmsg(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return rows;
}

using ::ruta::testing::ScratchStore;
using ::ruta::testing::StoreBackend;

// Runs on both backends (the conformance suite): every test gets a fresh
// SQLite file or a fresh PostgreSQL database.
class StoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    RUTA_SKIP_WITHOUT_POSTGRES(GetParam());
    absl::StatusOr<std::unique_ptr<ScratchStore>> scratch =
        ScratchStore::Create(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
  }

  void Open() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> store =
        scratch_->Open(/*readers=*/2, max_group_size_);
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = std::move(store).value();
  }
  void Close() { store_.reset(); }

  absl::Status Put(const Case& c) {
    return store_->WriteSync([&](WriteTxn& txn) { return txn.PutCase(c); });
  }

  absl::StatusOr<std::optional<Case>> Find(const std::string& case_id) {
    std::optional<Case> found;
    absl::Status status = store_->ReadSync([&](ReadTxn& txn) {
      absl::StatusOr<std::optional<Case>> c = txn.FindCase(case_id);
      if (!c.ok()) return c.status();
      found = *std::move(c);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return found;
  }

  absl::StatusOr<std::optional<Case>> FindVersion(const std::string& case_id,
                                                  int64_t version) {
    std::optional<Case> found;
    absl::Status status = store_->ReadSync([&](ReadTxn& txn) {
      absl::StatusOr<std::optional<Case>> c =
          txn.FindCaseVersion(case_id, version);
      if (!c.ok()) return c.status();
      found = *std::move(c);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return found;
  }

  absl::StatusOr<CasePage> List(const CaseFilter& filter,
                                const std::string& after, int limit) {
    CasePage page;
    absl::Status status = store_->ReadSync([&](ReadTxn& txn) {
      absl::StatusOr<CasePage> p = txn.ListCases(filter, after, limit);
      if (!p.ok()) return p.status();
      page = *std::move(p);
      return absl::OkStatus();
    });
    if (!status.ok()) return status;
    return page;
  }

  // Every case matching `filter`, paging through with `limit`.
  std::vector<std::string> ListAll(const CaseFilter& filter, int limit) {
    std::vector<std::string> ids;
    std::string after;
    for (int pages = 0; pages < 10000; ++pages) {
      absl::StatusOr<CasePage> page = List(filter, after, limit);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->cases.size(), static_cast<size_t>(limit));
      for (const Case& c : page->cases) ids.push_back(c.case_id);
      if (page->next_after.empty()) break;
      EXPECT_EQ(page->next_after, page->cases.back().case_id);
      after = page->next_after;
    }
    return ids;
  }

  int64_t Aggregate(const std::string& table, const std::string& key) {
    int64_t value = -1;
    EXPECT_OK(store_->ReadSync([&](ReadTxn& txn) {
      absl::StatusOr<int64_t> v = txn.GetAggregate(table, key);
      if (!v.ok()) return v.status();
      value = *v;
      return absl::OkStatus();
    }));
    return value;
  }

  int64_t RawInt(const std::string& sql) {
    absl::StatusOr<int64_t> value = scratch_->QueryInt64(sql);
    EXPECT_TRUE(value.ok()) << value.status();
    return value.ok() ? *value : -1;
  }

  // Destroyed after store_ (declared first).
  std::unique_ptr<ScratchStore> scratch_;
  int max_group_size_ = 256;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, StoreTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

// SQLite only: what these tests check is the SQLite file (its path, mode,
// WAL journal, file-level errors and SqliteOptions), which PostgreSQL does
// not have. postgres_store_test.cc holds PostgreSQL's own open errors.
class SqliteStoreTest : public StoreTest {
 protected:
  SqliteOptions Options() const {
    SqliteOptions options;
    options.path = scratch_->sqlite_path();
    return options;
  }
  std::string Directory() const {
    return std::filesystem::path(scratch_->sqlite_path())
        .parent_path()
        .string();
  }
};

INSTANTIATE_TEST_SUITE_P(SqliteOnly, SqliteStoreTest,
                         ::testing::Values(StoreBackend::kSqlite),
                         ::ruta::testing::StoreBackendName);

TEST_P(StoreTest, PutThenFindReturnsEveryField) {
  Open();
  Case c = MakeCase(CaseId(1));
  c.care_stage = Stage::kResidentialCare;
  c.closed_reason = core::ClosedReason::kReintegrated;
  c.consent_partner_sharing = true;
  c.referrals = {"tdh-cusco", "caritas-mdd"};
  c.profile.exploitation_forms = {core::ExploitationForm::kLabour,
                                  core::ExploitationForm::kForcedBegging,
                                  core::ExploitationForm::kOther};
  ASSERT_OK(Put(c));

  absl::StatusOr<std::optional<Case>> found = Find(c.case_id);
  ASSERT_TRUE(found.ok()) << found.status();
  ASSERT_TRUE(found->has_value());
  ExpectSameCase(**found, c);

  absl::StatusOr<std::optional<Case>> missing = Find(CaseId(2));
  ASSERT_TRUE(missing.ok()) << missing.status();
  EXPECT_FALSE(missing->has_value());
}

TEST_P(StoreTest, EmptyListsAndInfiniteTimesRoundTrip) {
  Open();
  Case c = MakeCase(CaseId(1));
  c.profile.exploitation_forms.clear();
  c.referrals.clear();
  c.opened_at = absl::InfinitePast();
  c.updated_at = absl::InfiniteFuture();
  c.profile.origin_province.clear();
  ASSERT_OK(Put(c));
  absl::StatusOr<std::optional<Case>> found = Find(c.case_id);
  ASSERT_TRUE(found.ok() && found->has_value());
  ExpectSameCase(**found, c);
}

TEST_P(StoreTest, WriteTxnSeesItsOwnWrites) {
  Open();
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) -> absl::Status {
    Case c = MakeCase(CaseId(1));
    absl::Status s = txn.PutCase(c);
    if (!s.ok()) return s;
    absl::StatusOr<std::optional<Case>> found = txn.FindCase(c.case_id);
    if (!found.ok()) return found.status();
    if (!found->has_value() || (*found)->version != 1) {
      return absl::InternalError("own write not visible");
    }
    s = txn.AddToAggregate("t", "k", 5);
    if (!s.ok()) return s;
    absl::StatusOr<int64_t> v = txn.GetAggregate("t", "k");
    if (!v.ok()) return v.status();
    return *v == 5 ? absl::OkStatus() : absl::InternalError("aggregate");
  }));
}

TEST_P(StoreTest, HistoryKeepsEveryVersion) {
  Open();
  Case v1 = MakeCase(CaseId(1), 1);
  Case v2 = MakeCase(CaseId(1), 2);
  v2.stage = Stage::kImmediateProtection;
  Case v3 = MakeCase(CaseId(1), 3);
  v3.stage = Stage::kResidentialCare;
  v3.referrals = {"tdh-cusco"};
  ASSERT_OK(Put(v1));
  ASSERT_OK(Put(v2));
  ASSERT_OK(Put(v3));

  absl::StatusOr<std::optional<Case>> current = Find(CaseId(1));
  ASSERT_TRUE(current.ok() && current->has_value());
  ExpectSameCase(**current, v3);

  for (const Case& expected : {v1, v2, v3}) {
    absl::StatusOr<std::optional<Case>> past =
        FindVersion(CaseId(1), expected.version);
    ASSERT_TRUE(past.ok()) << past.status();
    ASSERT_TRUE(past->has_value()) << expected.version;
    ExpectSameCase(**past, expected);
  }
  absl::StatusOr<std::optional<Case>> none = FindVersion(CaseId(1), 4);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
  none = FindVersion(CaseId(2), 1);
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());
}

TEST_P(StoreTest, VersionConflictIsFailedPrecondition) {
  Open();
  ASSERT_OK(Put(MakeCase(CaseId(1), 1)));

  Case same = MakeCase(CaseId(1), 1);
  same.stage = Stage::kClosed;
  absl::Status status = Put(same);
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition) << status;
  // No case data in the message.
  EXPECT_EQ(std::string(status.message()).find(CaseId(1)), std::string::npos)
      << status;

  EXPECT_EQ(Put(MakeCase(CaseId(1), 3)).code(),
            absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(Put(MakeCase(CaseId(1), 0)).code(),
            absl::StatusCode::kFailedPrecondition);
  // A new case starts at version 1.
  EXPECT_EQ(Put(MakeCase(CaseId(2), 2)).code(),
            absl::StatusCode::kFailedPrecondition);

  absl::StatusOr<std::optional<Case>> found = Find(CaseId(1));
  ASSERT_TRUE(found.ok() && found->has_value());
  EXPECT_EQ((*found)->version, 1);
  EXPECT_EQ((*found)->stage, Stage::kIdentified);
  absl::StatusOr<std::optional<Case>> v3 = FindVersion(CaseId(1), 3);
  ASSERT_TRUE(v3.ok());
  EXPECT_FALSE(v3->has_value());
  absl::StatusOr<std::optional<Case>> other = Find(CaseId(2));
  ASSERT_TRUE(other.ok());
  EXPECT_FALSE(other->has_value());
}

TEST_P(StoreTest, InvalidCaseIsRejected) {
  Open();
  EXPECT_EQ(Put(MakeCase("", 1)).code(), absl::StatusCode::kInvalidArgument);
  Case c = MakeCase(CaseId(1));
  c.referrals = {"a,b"};
  EXPECT_EQ(Put(c).code(), absl::StatusCode::kInvalidArgument);
  c.referrals = {""};
  EXPECT_EQ(Put(c).code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, DuplicateRequestIsAlreadyExists) {
  Open();
  const std::string office = "spiffe://cusco.ruta.pe/office/main";
  RequestRecord first =
      MakeRequest(office, "5b0c7c1e-0000-4000-8000-000000000001");
  ASSERT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutRequest(first); }));

  RequestRecord again = first;
  again.fingerprint = "sha256:ffff";
  again.case_version = 9;
  EXPECT_EQ(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutRequest(again); })
          .code(),
      absl::StatusCode::kAlreadyExists);

  // Request ids are per principal.
  RequestRecord other =
      MakeRequest("spiffe://cusco.ruta.pe/office/second", first.request_id);
  EXPECT_OK(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutRequest(other); }));

  std::optional<RequestRecord> found;
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) {
    absl::StatusOr<std::optional<RequestRecord>> r =
        txn.FindRequest(office, first.request_id);
    if (!r.ok()) return r.status();
    found = *r;
    return absl::OkStatus();
  }));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->principal, first.principal);
  EXPECT_EQ(found->request_id, first.request_id);
  EXPECT_EQ(found->method, first.method);
  EXPECT_EQ(found->fingerprint, first.fingerprint);  // The first one's.
  EXPECT_EQ(found->case_id, first.case_id);
  EXPECT_EQ(found->case_version, first.case_version);
  EXPECT_EQ(found->recorded_at, first.recorded_at);

  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) {
    absl::StatusOr<std::optional<RequestRecord>> r =
        txn.FindRequest(office, "no-such-request");
    if (!r.ok()) return r.status();
    found = *r;
    return absl::OkStatus();
  }));
  EXPECT_FALSE(found.has_value());
}

TEST_P(StoreTest, AggregatesAreUpserted) {
  Open();
  EXPECT_EQ(Aggregate("cases_by_stage", "cusco|2026Q1|IDENTIFIED"), 0);
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) -> absl::Status {
    absl::Status s = txn.AddToAggregate("cases_by_stage", "cusco|2026Q1|A", 3);
    if (!s.ok()) return s;
    s = txn.AddToAggregate("cases_by_stage", "cusco|2026Q1|A", 2);
    if (!s.ok()) return s;
    return txn.AddToAggregate("cases_by_stage", "cusco|2026Q1|B", 1);
  }));
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) {
    return txn.AddToAggregate("cases_by_stage", "cusco|2026Q1|A", -1);
  }));
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) {
    return txn.AddToAggregate("other_table", "cusco|2026Q1|A", 7);
  }));
  EXPECT_EQ(Aggregate("cases_by_stage", "cusco|2026Q1|A"), 4);
  EXPECT_EQ(Aggregate("cases_by_stage", "cusco|2026Q1|B"), 1);
  EXPECT_EQ(Aggregate("other_table", "cusco|2026Q1|A"), 7);
}

TEST_P(StoreTest, AggregatesAreScannedByKeyPrefixAndCleared) {
  Open();
  ASSERT_OK(store_->WriteSync([](WriteTxn& txn) -> absl::Status {
    for (const char* key :
         {"cusco|2026Q1|A", "cusco|2026Q2|B", "cusco-norte|2026Q1|A",
          "cuscoa|2026Q1|A", "cusc|2026Q1|A"}) {
      absl::Status s = txn.AddToAggregate("t", key, 2);
      if (!s.ok()) return s;
    }
    return txn.AddToAggregate("u", "cusco|2026Q1|A", 5);
  }));
  std::vector<std::pair<std::string, int64_t>> rows, all;
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto r = txn.ScanAggregates("t", "cusco|");
    if (!r.ok()) return r.status();
    rows = *std::move(r);
    r = txn.ScanAggregates("t", "");
    if (!r.ok()) return r.status();
    all = *std::move(r);
    return absl::OkStatus();
  }));
  EXPECT_EQ(rows, (std::vector<std::pair<std::string, int64_t>>{
                      {"cusco|2026Q1|A", 2}, {"cusco|2026Q2|B", 2}}));
  EXPECT_EQ(all.size(), 5u);
  ASSERT_OK(store_->WriteSync(
      [](WriteTxn& txn) { return txn.ClearAggregates("t"); }));
  EXPECT_EQ(Aggregate("t", "cusco|2026Q1|A"), 0);
  EXPECT_EQ(Aggregate("u", "cusco|2026Q1|A"), 5);
}

TEST_P(StoreTest, StalledWorkListsOnlyTheOpenSetPastItsDueDate) {
  Open();
  Case old_follow_up = MakeCase(CaseId(1));
  old_follow_up.stage = Stage::kFollowUp;
  old_follow_up.updated_at = absl::FromUnixSeconds(1000);
  Case recent_follow_up = MakeCase(CaseId(2));
  recent_follow_up.stage = Stage::kFollowUp;
  recent_follow_up.updated_at = absl::FromUnixSeconds(5000);
  Case old_closed = MakeCase(CaseId(3));
  old_closed.stage = Stage::kClosed;
  old_closed.updated_at = absl::FromUnixSeconds(1000);
  Case other_region = old_follow_up;
  other_region.case_id = CaseId(4);
  other_region.owner_region = "cusco";
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    for (const Case* c :
         {&old_follow_up, &recent_follow_up, &old_closed, &other_region}) {
      absl::Status s = txn.PutCase(*c);
      if (!s.ok()) return s;
    }
    return absl::OkStatus();
  }));
  std::vector<Case> stalled;
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    auto r =
        txn.ListStalledFollowUps("madre-de-dios", absl::FromUnixSeconds(3000));
    if (!r.ok()) return r.status();
    stalled = *std::move(r);
    return absl::OkStatus();
  }));
  ASSERT_EQ(stalled.size(), 1u);
  EXPECT_EQ(stalled[0].case_id, CaseId(1));
}

TEST_P(StoreTest, ListCasesPagesInCaseIdOrder) {
  Open();
  // Inserted out of order.
  std::vector<int> order;
  for (int i = 0; i < 25; ++i) order.push_back((i * 7) % 25);
  for (int n : order) ASSERT_OK(Put(MakeCase(CaseId(n))));

  std::vector<std::string> expected;
  for (int i = 0; i < 25; ++i) expected.push_back(CaseId(i));

  absl::StatusOr<CasePage> first = List(CaseFilter(), "", 10);
  ASSERT_TRUE(first.ok()) << first.status();
  ASSERT_EQ(first->cases.size(), 10u);
  EXPECT_EQ(first->cases.front().case_id, CaseId(0));
  EXPECT_EQ(first->next_after, CaseId(9));

  absl::StatusOr<CasePage> last = List(CaseFilter(), CaseId(19), 10);
  ASSERT_TRUE(last.ok());
  ASSERT_EQ(last->cases.size(), 5u);
  EXPECT_EQ(last->cases.front().case_id, CaseId(20));
  EXPECT_EQ(last->next_after, "");

  EXPECT_EQ(ListAll(CaseFilter(), 10), expected);
  EXPECT_EQ(ListAll(CaseFilter(), 1), expected);
  EXPECT_EQ(ListAll(CaseFilter(), 1000), expected);

  // A page that ends exactly at the last case says there is no more.
  absl::StatusOr<CasePage> exact = List(CaseFilter(), CaseId(14), 10);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->cases.size(), 10u);
  EXPECT_EQ(exact->next_after, "");
  absl::StatusOr<CasePage> whole = List(CaseFilter(), "", 25);
  ASSERT_TRUE(whole.ok());
  EXPECT_EQ(whole->cases.size(), 25u);
  EXPECT_EQ(whole->next_after, "");

  absl::StatusOr<CasePage> past_end = List(CaseFilter(), CaseId(24), 10);
  ASSERT_TRUE(past_end.ok());
  EXPECT_TRUE(past_end->cases.empty());
  EXPECT_EQ(past_end->next_after, "");

  EXPECT_EQ(List(CaseFilter(), "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(StoreTest, ListCasesFilters) {
  Open();
  // 40 cases: region by n%2, stage by n%4, kind by n%5, person by n%3.
  const Stage stages[] = {Stage::kIdentified, Stage::kResidentialCare,
                          Stage::kClosed, Stage::kFollowUp};
  std::vector<Case> all;
  for (int n = 0; n < 40; ++n) {
    Case c = MakeCase(CaseId(n));
    c.owner_region = n % 2 == 0 ? "cusco" : "madre-de-dios";
    c.stage = stages[n % 4];
    c.kind = n % 5 == 0 ? CaseKind::kPrevention : CaseKind::kVictim;
    c.person_ref = absl::StrCat("pr1_person", n % 3);
    ASSERT_OK(Put(c));
    all.push_back(c);
  }
  auto expect = [&](const CaseFilter& filter,
                    const std::function<bool(const Case&)>& match) {
    std::vector<std::string> expected;
    for (const Case& c : all) {
      if (match(c)) expected.push_back(c.case_id);
    }
    EXPECT_FALSE(expected.empty());
    EXPECT_EQ(ListAll(filter, 3), expected);
    EXPECT_EQ(ListAll(filter, 100), expected);
  };

  CaseFilter region;
  region.owner_region = "cusco";
  expect(region, [](const Case& c) { return c.owner_region == "cusco"; });

  CaseFilter stage;
  stage.stage = Stage::kResidentialCare;
  expect(stage,
         [](const Case& c) { return c.stage == Stage::kResidentialCare; });

  CaseFilter kind;
  kind.kind = CaseKind::kPrevention;
  expect(kind, [](const Case& c) { return c.kind == CaseKind::kPrevention; });

  CaseFilter person;
  person.person_ref = "pr1_person1";
  expect(person, [](const Case& c) { return c.person_ref == "pr1_person1"; });

  CaseFilter open_only;
  open_only.include_closed = false;
  expect(open_only, [](const Case& c) { return c.stage != Stage::kClosed; });

  CaseFilter combined;
  combined.owner_region = "madre-de-dios";
  combined.person_ref = "pr1_person2";
  combined.include_closed = false;
  combined.kind = CaseKind::kVictim;
  expect(combined, [](const Case& c) {
    return c.owner_region == "madre-de-dios" && c.person_ref == "pr1_person2" &&
           c.stage != Stage::kClosed && c.kind == CaseKind::kVictim;
  });

  CaseFilter nothing;
  nothing.owner_region = "puno";
  EXPECT_TRUE(ListAll(nothing, 10).empty());

  // The current version is listed, not the history.
  Case changed = all[1];
  changed.version = 2;
  changed.owner_region = "cusco";
  ASSERT_OK(Put(changed));
  all[1] = changed;
  expect(region, [](const Case& c) { return c.owner_region == "cusco"; });
}

// A write function that fails has its own changes rolled back and does not
// affect the other writes of its group. The group is made by holding the
// writer inside one write while many others queue up from several threads;
// that all of them were committed together is shown by every one of their
// functions having run before the first of their `done` callbacks.
TEST_P(StoreTest, FailingWriteDoesNotAffectItsGroup) {
  Open();
  ASSERT_OK(Put(MakeCase(CaseId(999), 1)));

  absl::Notification writer_busy;
  absl::Notification release_writer;
  absl::Notification gate_done;
  store_->Write(
      [&](WriteTxn&) {
        writer_busy.Notify();
        release_writer.WaitForNotification();
        return absl::OkStatus();
      },
      [&](absl::Status status) {
        EXPECT_OK(status);
        gate_done.Notify();
      });
  writer_busy.WaitForNotification();

  constexpr int kThreads = 4;
  constexpr int kPerThread = 30;
  constexpr int kTotal = kThreads * kPerThread;
  std::atomic<int> functions_run{0};
  absl::Mutex mu;
  std::vector<absl::Status> results(kTotal);
  std::vector<int> run_before_done(kTotal, -1);
  absl::BlockingCounter all_done(kTotal);

  // Item i writes case i (plus a request and a counter); items with i%3 == 0
  // then fail on purpose; items with i%10 == 1 fail on a version conflict of
  // case 999 after writing; item 2 reuses the request id of failed item 0,
  // which must be free again by then.
  auto submit = [&](int i) {
    store_->Write(
        [&, i](WriteTxn& txn) -> absl::Status {
          functions_run.fetch_add(1);
          absl::Status s = txn.PutCase(MakeCase(CaseId(i)));
          if (!s.ok()) return s;
          std::string request_id = i == 2 ? "req-0" : absl::StrCat("req-", i);
          s = txn.PutRequest(
              MakeRequest("spiffe://cusco.ruta.pe/office/a", request_id));
          if (!s.ok()) return s;
          s = txn.AddToAggregate("t", "written", 1);
          if (!s.ok()) return s;
          if (i % 3 == 0) return absl::AbortedError("planned failure");
          if (i % 10 == 1) {
            return txn.PutCase(MakeCase(CaseId(999), 5));
          }
          return absl::OkStatus();
        },
        [&, i](absl::Status status) {
          {
            absl::MutexLock lock(&mu);
            results[i] = status;
            run_before_done[i] = functions_run.load();
          }
          all_done.DecrementCount();
        });
  };
  // Item 0 first, so that it runs before item 2 in the group.
  submit(0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        int i = t * kPerThread + k;
        if (i != 0) submit(i);
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(functions_run.load(), 0);  // The writer is still held.
  release_writer.Notify();
  all_done.Wait();
  gate_done.WaitForNotification();

  int succeeded = 0;
  for (int i = 0; i < kTotal; ++i) {
    SCOPED_TRACE(i);
    // One group: every function ran before this item was reported.
    EXPECT_EQ(run_before_done[i], kTotal);
    absl::StatusOr<std::optional<Case>> c = Find(CaseId(i));
    ASSERT_TRUE(c.ok()) << c.status();
    if (i % 3 == 0) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted) << results[i];
      EXPECT_FALSE(c->has_value());
    } else if (i % 10 == 1) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kFailedPrecondition)
          << results[i];
      EXPECT_FALSE(c->has_value());
    } else {
      EXPECT_OK(results[i]);
      EXPECT_TRUE(c->has_value());
      ++succeeded;
    }
  }
  EXPECT_EQ(Aggregate("t", "written"), succeeded);
  absl::StatusOr<std::optional<Case>> untouched = Find(CaseId(999));
  ASSERT_TRUE(untouched.ok() && untouched->has_value());
  EXPECT_EQ((*untouched)->version, 1);
  // req-0 belongs to item 2, whose write succeeded.
  std::optional<RequestRecord> req0;
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) {
    auto r = txn.FindRequest("spiffe://cusco.ruta.pe/office/a", "req-0");
    if (!r.ok()) return r.status();
    req0 = *r;
    return absl::OkStatus();
  }));
  EXPECT_TRUE(req0.has_value());
}

// The write that opens a group's transaction runs without a savepoint (the
// whole transaction is rolled back if it fails, and the rest of the group
// goes on in a new one); the others under one each. Either way a failing
// write leaves nothing and the others of its group are kept: here the
// group's first write fails after writing, then the next opens the new
// transaction and succeeds, one under a savepoint fails after writing, and
// the last succeeds; then a group of one failing write alone.
TEST_P(StoreTest, FailingFirstWriteOfAGroupIsRolledBackAlone) {
  Open();
  absl::Notification writer_busy;
  absl::Notification release_writer;
  store_->Write(
      [&](WriteTxn&) {
        writer_busy.Notify();
        release_writer.WaitForNotification();
        return absl::OkStatus();
      },
      [](absl::Status) {});
  writer_busy.WaitForNotification();

  const std::vector<bool> fails = {true, false, true, false};
  std::vector<absl::Status> results(fails.size());
  std::vector<int> run_before_done(fails.size(), -1);
  std::atomic<int> functions_run{0};
  absl::BlockingCounter all_done(static_cast<int>(fails.size()));
  for (size_t i = 0; i < fails.size(); ++i) {
    store_->Write(
        [&, i](WriteTxn& txn) -> absl::Status {
          functions_run.fetch_add(1);
          absl::Status s = txn.PutCase(MakeCase(CaseId(static_cast<int>(i))));
          if (!s.ok()) return s;
          s = txn.AddToAggregate("t", "written", 1);
          if (!s.ok()) return s;
          return fails[i] ? absl::AbortedError("planned failure")
                          : absl::OkStatus();
        },
        [&, i](absl::Status status) {
          results[i] = status;
          run_before_done[i] = functions_run.load();
          all_done.DecrementCount();
        });
  }
  release_writer.Notify();
  all_done.Wait();
  for (size_t i = 0; i < fails.size(); ++i) {
    SCOPED_TRACE(i);
    // One group.
    EXPECT_EQ(run_before_done[i], static_cast<int>(fails.size()));
    absl::StatusOr<std::optional<Case>> c = Find(CaseId(static_cast<int>(i)));
    ASSERT_TRUE(c.ok()) << c.status();
    if (fails[i]) {
      EXPECT_EQ(results[i].code(), absl::StatusCode::kAborted) << results[i];
      EXPECT_FALSE(c->has_value());
    } else {
      EXPECT_OK(results[i]);
      EXPECT_TRUE(c->has_value());
    }
  }
  EXPECT_EQ(Aggregate("t", "written"), 2);

  // A group of one failing write: nothing of it, and the store goes on.
  absl::Status alone = store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    absl::Status s = txn.PutCase(MakeCase(CaseId(10)));
    if (!s.ok()) return s;
    return absl::AbortedError("planned failure");
  });
  EXPECT_EQ(alone.code(), absl::StatusCode::kAborted) << alone;
  absl::StatusOr<std::optional<Case>> c10 = Find(CaseId(10));
  ASSERT_TRUE(c10.ok()) << c10.status();
  EXPECT_FALSE(c10->has_value());
  ASSERT_OK(Put(MakeCase(CaseId(11))));
  EXPECT_EQ(Aggregate("t", "written"), 2);
}

TEST_P(StoreTest, MaxGroupSizeBoundsGroups) {
  max_group_size_ = 4;
  Open();
  absl::Notification writer_busy;
  absl::Notification release_writer;
  store_->Write(
      [&](WriteTxn&) {
        writer_busy.Notify();
        release_writer.WaitForNotification();
        return absl::OkStatus();
      },
      [](absl::Status) {});
  writer_busy.WaitForNotification();

  // Each function records how many writes were committed when it ran, as a
  // reader (which sees committed data only) counts them: the writes of one
  // group see the same number, the groups before it.
  auto committed = [&]() {
    int n = -1;
    EXPECT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
      RUTA_ASSIGN_OR_RETURN(CasePage page, txn.ListCases({}, "", 100));
      n = static_cast<int>(page.cases.size());
      return absl::OkStatus();
    }));
    return n;
  };
  constexpr int kWrites = 10;
  std::vector<int> committed_before(kWrites, -1);
  absl::BlockingCounter all_done(kWrites);
  for (int i = 0; i < kWrites; ++i) {
    store_->Write(
        [&, i](WriteTxn& txn) {
          committed_before[i] = committed();
          return txn.PutCase(MakeCase(CaseId(i)));
        },
        [&](absl::Status status) {
          EXPECT_OK(status);
          all_done.DecrementCount();
        });
  }
  release_writer.Notify();
  all_done.Wait();
  // Groups of 4, 4, 2.
  EXPECT_EQ(committed_before, std::vector<int>({0, 0, 0, 0, 4, 4, 4, 4, 8, 8}));
}

// The writer commits the next group while the callbacks of the previous one
// still run: a slow callback does not hold the writes queued behind it.
TEST_P(StoreTest, WriterCommitsWhileCallbacksRun) {
  Open();
  absl::Notification in_callback;
  absl::Notification release_callback;
  store_->Write([&](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(1))); },
                [&](absl::Status status) {
                  EXPECT_OK(status);
                  in_callback.Notify();
                  release_callback.WaitForNotification();
                });
  in_callback.WaitForNotification();
  absl::Notification second_done;
  store_->Write([&](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(2))); },
                [&](absl::Status status) {
                  EXPECT_OK(status);
                  // Callbacks keep commit order.
                  EXPECT_TRUE(release_callback.HasBeenNotified());
                  second_done.Notify();
                });
  bool committed = false;
  for (int i = 0; i < 500 && !committed; ++i) {
    absl::StatusOr<std::optional<Case>> found = Find(CaseId(2));
    ASSERT_TRUE(found.ok()) << found.status();
    committed = found->has_value();
    if (!committed) absl::SleepFor(absl::Milliseconds(10));
  }
  EXPECT_TRUE(committed) << "the second write waited for the first callback";
  EXPECT_FALSE(second_done.HasBeenNotified());
  release_callback.Notify();
  second_done.WaitForNotification();
}

TEST_P(StoreTest, ThousandConcurrentWritesAreDurable) {
  Open();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 125;
  constexpr int kTotal = kThreads * kPerThread;
  absl::BlockingCounter all_done(kTotal);
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int k = 0; k < kPerThread; ++k) {
        int n = t * kPerThread + k;
        store_->Write(
            [n](WriteTxn& txn) -> absl::Status {
              absl::Status s = txn.PutCase(MakeCase(CaseId(n)));
              if (!s.ok()) return s;
              return txn.AddToAggregate("t", "cases", 1);
            },
            [&](absl::Status status) {
              if (!status.ok()) failures.fetch_add(1);
              all_done.DecrementCount();
            });
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  all_done.Wait();
  EXPECT_EQ(failures.load(), 0);

  Close();
  Open();
  std::vector<std::string> ids = ListAll(CaseFilter(), 100);
  ASSERT_EQ(ids.size(), static_cast<size_t>(kTotal));
  for (int n = 0; n < kTotal; ++n) EXPECT_EQ(ids[n], CaseId(n));
  EXPECT_EQ(Aggregate("t", "cases"), kTotal);
}

TEST_P(StoreTest, DestructorCompletesQueuedWrites) {
  Open();
  constexpr int kWrites = 200;
  std::atomic<int> ok{0};
  for (int n = 0; n < kWrites; ++n) {
    store_->Write(
        [n](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(n))); },
        [&](absl::Status status) {
          if (status.ok()) ok.fetch_add(1);
        });
  }
  Close();
  EXPECT_EQ(ok.load(), kWrites);
  Open();
  EXPECT_EQ(ListAll(CaseFilter(), 1000).size(), static_cast<size_t>(kWrites));
}

TEST_P(StoreTest, DoneCallbacksMayQueueMoreWork) {
  Open();
  absl::Notification finished;
  std::optional<Case> seen;
  absl::Status final_status = absl::UnknownError("not called");
  store_->Write(
      [](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(1), 1)); },
      [&](absl::Status status) {
        EXPECT_OK(status);
        // From the writer thread: queue another write, then a read.
        store_->Write(
            [](WriteTxn& txn) { return txn.PutCase(MakeCase(CaseId(1), 2)); },
            [&](absl::Status status) {
              EXPECT_OK(status);
              store_->Read(
                  [&](ReadTxn& txn) -> absl::Status {
                    absl::StatusOr<std::optional<Case>> c =
                        txn.FindCase(CaseId(1));
                    if (!c.ok()) return c.status();
                    seen = *c;
                    return absl::OkStatus();
                  },
                  [&](absl::Status status) {
                    final_status = status;
                    finished.Notify();
                  });
            });
      });
  finished.WaitForNotification();
  EXPECT_OK(final_status);
  ASSERT_TRUE(seen.has_value());
  EXPECT_EQ(seen->version, 2);
}

TEST_P(StoreTest, ReadsSeeOneSnapshot) {
  Open();
  ASSERT_OK(store_->WriteSync(
      [](WriteTxn& txn) { return txn.AddToAggregate("t", "k", 1); }));
  absl::Notification first_read_done;
  absl::Notification write_committed;
  int64_t before = -1;
  int64_t after = -1;
  absl::Notification read_done;
  store_->Read(
      [&](ReadTxn& txn) -> absl::Status {
        absl::StatusOr<int64_t> v = txn.GetAggregate("t", "k");
        if (!v.ok()) return v.status();
        before = *v;
        first_read_done.Notify();
        write_committed.WaitForNotification();
        v = txn.GetAggregate("t", "k");
        if (!v.ok()) return v.status();
        after = *v;
        return absl::OkStatus();
      },
      [&](absl::Status status) {
        EXPECT_OK(status);
        read_done.Notify();
      });
  first_read_done.WaitForNotification();
  ASSERT_OK(store_->WriteSync(
      [](WriteTxn& txn) { return txn.AddToAggregate("t", "k", 1); }));
  write_committed.Notify();
  read_done.WaitForNotification();
  EXPECT_EQ(before, 1);
  EXPECT_EQ(after, 1);  // The snapshot of the transaction, not the commit.
  EXPECT_EQ(Aggregate("t", "k"), 2);
}

TEST_P(StoreTest, ReadErrorIsReturned) {
  Open();
  absl::Status status = store_->ReadSync(
      [](ReadTxn&) { return absl::NotFoundError("nothing here"); });
  EXPECT_EQ(status.code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(status.message(), "nothing here");
}

TEST_P(StoreTest, DataSurvivesCloseAndReopen) {
  Open();
  Case v1 = MakeCase(CaseId(1), 1);
  Case v2 = MakeCase(CaseId(1), 2);
  v2.stage = Stage::kFamilyCare;
  v2.referrals = {"tdh-cusco"};
  ASSERT_OK(Put(v1));
  ASSERT_OK(Put(v2));
  RequestRecord request = MakeRequest("spiffe://cusco.ruta.pe/office/a", "r1");
  ASSERT_OK(store_->WriteSync([&](WriteTxn& txn) -> absl::Status {
    absl::Status s = txn.PutRequest(request);
    if (!s.ok()) return s;
    return txn.AddToAggregate("t", "k", 42);
  }));
  Close();

  Open();
  absl::StatusOr<std::optional<Case>> current = Find(CaseId(1));
  ASSERT_TRUE(current.ok() && current->has_value());
  ExpectSameCase(**current, v2);
  absl::StatusOr<std::optional<Case>> past = FindVersion(CaseId(1), 1);
  ASSERT_TRUE(past.ok() && past->has_value());
  ExpectSameCase(**past, v1);
  EXPECT_EQ(Aggregate("t", "k"), 42);
  EXPECT_EQ(
      store_->WriteSync([&](WriteTxn& txn) { return txn.PutRequest(request); })
          .code(),
      absl::StatusCode::kAlreadyExists);
  // Writes continue from the stored version.
  Case v3 = MakeCase(CaseId(1), 3);
  EXPECT_OK(Put(v3));
}

TEST_P(StoreTest, ReopenAppliesNoMigrationTwice) {
  Open();
  ASSERT_OK(Put(MakeCase(CaseId(1))));
  Close();
  const int64_t latest = GetParam() == StoreBackend::kSqlite
                             ? SqliteSchemaVersion()
                             : PostgresSchemaVersion();
  EXPECT_EQ(latest, SqliteSchemaVersion());  // One schema version for both.
  EXPECT_EQ(RawInt("SELECT count(*) FROM schema_migrations"), latest);
  EXPECT_EQ(RawInt("SELECT max(version) FROM schema_migrations"), latest);
  // Versions 1..latest, each once.
  EXPECT_EQ(RawInt("SELECT sum(version) FROM schema_migrations"),
            latest * (latest + 1) / 2);
  const int64_t applied =
      RawInt("SELECT sum(applied_at_us) FROM schema_migrations");

  absl::SleepFor(absl::Milliseconds(2));  // applied_at would differ.
  Open();
  Close();
  Open();
  EXPECT_EQ(RawInt("SELECT count(*) FROM schema_migrations"), latest);
  EXPECT_EQ(RawInt("SELECT sum(applied_at_us) FROM schema_migrations"),
            applied);
  absl::StatusOr<std::optional<Case>> c = Find(CaseId(1));
  ASSERT_TRUE(c.ok() && c->has_value());
}

// A database written before migration 0008 kept the current version of each
// case in case_history too, and an owner_region index: the migration drops
// both, and every version stays readable.
TEST_P(StoreTest, Migration8KeepsEveryVersionOfAnOlderDatabase) {
  Open();
  Case v1 = MakeCase(CaseId(1), 1);
  Case v2 = MakeCase(CaseId(1), 2);
  v2.stage = Stage::kImmediateProtection;
  Case v3 = MakeCase(CaseId(1), 3);
  v3.stage = Stage::kResidentialCare;
  Case other = MakeCase(CaseId(2), 1);
  ASSERT_OK(Put(v1));
  ASSERT_OK(Put(v2));
  ASSERT_OK(Put(v3));
  ASSERT_OK(Put(other));
  Close();
  // Only the superseded versions are in the history now.
  EXPECT_EQ(RawInt("SELECT count(*) FROM case_history"), 2);

  // Back to what schema version 7 left.
  ASSERT_OK(scratch_->Exec(
      "INSERT INTO case_history (case_id, person_ref, kind, owner_region, "
      "stage, care_stage, closed_reason, age_band, sex, origin_province, "
      "exploitation_forms, setting, recruitment_means, identified_year, "
      "identified_month, legal_basis, consent_partner_sharing, referrals, "
      "version, opened_at_us, updated_at_us, opened_by) SELECT case_id, "
      "person_ref, kind, owner_region, stage, care_stage, closed_reason, "
      "age_band, sex, origin_province, exploitation_forms, setting, "
      "recruitment_means, identified_year, identified_month, legal_basis, "
      "consent_partner_sharing, referrals, version, opened_at_us, "
      "updated_at_us, opened_by FROM cases;"
      "CREATE INDEX cases_by_owner_region ON cases (owner_region, case_id);"
      // What migration 0009 drops (it runs again: the versions after 7 are
      // forgotten).
      "CREATE INDEX transfers_by_from ON transfers (from_region, "
      "transfer_id);"
      "CREATE INDEX transfers_by_to ON transfers (to_region, transfer_id);"
      "DELETE FROM schema_migrations WHERE version >= 8;"));
  EXPECT_EQ(RawInt("SELECT count(*) FROM case_history"), 4);

  Open();
  Close();
  EXPECT_EQ(RawInt("SELECT max(version) FROM schema_migrations"),
            SqliteSchemaVersion());
  EXPECT_EQ(RawInt("SELECT count(*) FROM case_history"), 2);
  EXPECT_EQ(RawInt(GetParam() == StoreBackend::kSqlite
                       ? "SELECT count(*) FROM sqlite_master WHERE name = "
                         "'cases_by_owner_region'"
                       : "SELECT count(*) FROM pg_indexes WHERE indexname = "
                         "'cases_by_owner_region'"),
            0);
  Open();
  for (const Case& expected : {v1, v2, v3}) {
    absl::StatusOr<std::optional<Case>> past =
        FindVersion(CaseId(1), expected.version);
    ASSERT_TRUE(past.ok()) << past.status();
    ASSERT_TRUE(past->has_value()) << expected.version;
    ExpectSameCase(**past, expected);
  }
  ASSERT_OK(store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
    absl::StatusOr<std::vector<CaseStageVersion>> stages =
        txn.ListCaseStages(CaseId(1), 100);
    EXPECT_TRUE(stages.ok()) << stages.status();
    if (!stages.ok()) return absl::OkStatus();
    EXPECT_EQ(stages->size(), 3u);
    for (size_t i = 0; i < stages->size(); ++i) {
      EXPECT_EQ((*stages)[i].version, static_cast<int64_t>(i) + 1);
    }
    EXPECT_EQ(stages->back().stage, Stage::kResidentialCare);
    return absl::OkStatus();
  }));
  // The next change still moves the version it replaces to the history.
  Case v4 = MakeCase(CaseId(1), 4);
  ASSERT_OK(Put(v4));
  absl::StatusOr<std::optional<Case>> past = FindVersion(CaseId(1), 3);
  ASSERT_TRUE(past.ok() && past->has_value());
  ExpectSameCase(**past, v3);
}

TEST_P(StoreTest, NewerSchemaVersionIsFailedPrecondition) {
  Open();
  ASSERT_OK(Put(MakeCase(CaseId(1))));
  Close();
  const int64_t future = SqliteSchemaVersion() + 1;
  ASSERT_OK(scratch_->Exec(
      absl::StrCat("INSERT INTO schema_migrations (version, applied_at_us)"
                   " VALUES (",
                   future, ", 0)")));

  absl::StatusOr<std::unique_ptr<Store>> store = scratch_->Open();
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition)
      << store.status();
  // Nothing was changed by the refused open.
  EXPECT_EQ(RawInt("SELECT max(version) FROM schema_migrations"), future);
  EXPECT_EQ(RawInt("SELECT count(*) FROM cases"), 1);
}

TEST_P(SqliteStoreTest, MissingParentDirectoryIsNotFound) {
  SqliteOptions options = Options();
  options.path = Directory() + "/missing/ruta.db";
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kNotFound)
      << store.status();
  EXPECT_FALSE(std::filesystem::exists(Directory() + "/missing"));
}

TEST_P(SqliteStoreTest, NotADatabaseIsAnError) {
  const SqliteOptions options_ = Options();
  {
    FILE* f = fopen(options_.path.c_str(), "w");
    ASSERT_NE(f, nullptr);
    fputs(
        "this is not a SQLite database, just some text of a decent size "
        "so that SQLite reads a header from it.................\n",
        f);
    fclose(f);
  }
  absl::StatusOr<std::unique_ptr<Store>> store = OpenSqliteStore(options_);
  EXPECT_EQ(store.status().code(), absl::StatusCode::kInternal)
      << store.status();
  EXPECT_NE(std::string(store.status().message()).find(options_.path),
            std::string::npos)
      << store.status();
}

TEST_P(SqliteStoreTest, InvalidOptionsAreRejected) {
  const SqliteOptions options_ = Options();
  SqliteOptions options = options_;
  options.reader_threads = 0;
  EXPECT_EQ(OpenSqliteStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = options_;
  options.max_group_size = 0;
  EXPECT_EQ(OpenSqliteStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = options_;
  options.path = "";
  EXPECT_EQ(OpenSqliteStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
  options = options_;
  options.writer_cache_kib = -1;
  EXPECT_EQ(OpenSqliteStore(options).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(SqliteStoreTest, DatabaseFilesAreOwnerOnlyAndInWalMode) {
  const SqliteOptions options_ = Options();
  Open();
  ASSERT_OK(Put(MakeCase(CaseId(1))));
  struct stat st;
  ASSERT_EQ(::stat(options_.path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(::stat((options_.path + "-wal").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  Close();
  EXPECT_EQ(RawQuery(options_.path, "PRAGMA journal_mode"),
            std::vector<std::string>{"wal"});
}

}  // namespace
}  // namespace ruta::store
