// CaseService against the in-memory FakeStore and the real SQLite store.
#include "ruta/core/case_service.h"

#include <dirent.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <future>
#include <iterator>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "fake_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/ids.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;

// Canary identifiers: they must never reach the store.
constexpr char kCanaryDni[] = "73918264";
constexpr char kCanaryGiven[] = "Zoraida Canaria";
constexpr char kCanarySurnames[] = "Pumacahua Testigo";
constexpr char kCanaryDistrict[] = "081207";

std::string RequestId(int n) {
  return absl::StrFormat("6f1c2b9e-0000-4000-8000-%012d", n);
}

Actor Office(const std::string& region) {
  return Actor{absl::StrCat("spiffe://", region, ".ruta.pe/office/main"),
               region, "clerk-7"};
}

Profile GoodProfile() {
  Profile p;
  p.age_band = AgeBand::k15To17;
  p.sex = Sex::kFemale;
  p.origin_province = "0812";
  p.exploitation_forms = {ExploitationForm::kLabour, ExploitationForm::kSexual,
                          ExploitationForm::kLabour};
  p.setting = Setting::kMiningCamp;
  p.recruitment_means = RecruitmentMeans::kFalseJobOffer;
  p.identified_month = {2026, 8};
  return p;
}

OpenCaseCommand Open(int request, IdentityTuple identity = {}) {
  OpenCaseCommand c;
  c.request_id = RequestId(request);
  c.identity = std::move(identity);
  c.kind = CaseKind::kVictim;
  c.initial_stage = Stage::kDetected;
  c.profile = GoodProfile();
  c.legal_basis = LegalBasis::kUpeProtectiveMeasure;
  return c;
}

IdentityTuple CanaryNames() {
  IdentityTuple t;
  t.given_names = kCanaryGiven;
  t.surnames = kCanarySurnames;
  t.birth_year = 2010;
  t.birth_month = 6;
  t.birth_day = 17;
  t.birth_district = kCanaryDistrict;
  return t;
}

IdentityTuple CanaryDni() {
  IdentityTuple t;
  t.dni = kCanaryDni;
  return t;
}

// Calls an async CaseService method and waits for its result.
template <typename T, typename Fn>
absl::StatusOr<T> Await(Fn&& call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

enum class Backend { kFake, kSqlite };

class CaseServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    std::string key(32, 'k');
    auto ring = LinkageKeyring::FromKeys({{1, key}});
    ASSERT_TRUE(ring.ok());
    keyring_ = std::make_unique<LinkageKeyring>(*std::move(ring));
    if (GetParam() == Backend::kFake) {
      auto fake = std::make_unique<testing::FakeStore>();
      fake_ = fake.get();
      store_ = std::move(fake);
    } else {
      std::string tmpl = ::testing::TempDir() + "/ruta_core_XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      dir_ = tmpl;
      store::SqliteOptions options;
      options.path = dir_ + "/node.db";
      auto opened = store::OpenSqliteStore(options);
      ASSERT_TRUE(opened.ok()) << opened.status();
      store_ = *std::move(opened);
    }
    cusco_ = std::make_unique<CaseService>(CaseServiceOptions{"cusco"},
                                           store_.get(), keyring_.get());
    mdd_ = std::make_unique<CaseService>(CaseServiceOptions{"madre-de-dios"},
                                         store_.get(), keyring_.get());
  }

  void TearDown() override {
    cusco_.reset();
    mdd_.reset();
    store_.reset();
    if (!dir_.empty()) {
      for (const char* suffix : {"", "-wal", "-shm", "-journal"}) {
        ::unlink((dir_ + "/node.db" + suffix).c_str());
      }
      ::rmdir(dir_.c_str());
    }
  }

  // Every byte the store wrote: the fake's strings or the SQLite files.
  std::string EverythingWritten() {
    if (fake_ != nullptr) {
      std::string all;
      for (const std::string& s : fake_->WrittenStrings()) {
        absl::StrAppend(&all, s, "\n");
      }
      return all;
    }
    std::string all;
    DIR* d = ::opendir(dir_.c_str());
    if (d == nullptr) return all;
    while (dirent* e = ::readdir(d)) {
      const std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      all += ReadWholeFile(dir_ + "/" + name);
    }
    ::closedir(d);
    return all;
  }

  absl::StatusOr<Case> OpenCase(CaseService& s, const Actor& a,
                                OpenCaseCommand c) {
    return Await<Case>(
        [&](auto done) { s.OpenCase(a, std::move(c), std::move(done)); });
  }
  absl::StatusOr<Case> OpenCase(OpenCaseCommand c) {
    return OpenCase(*cusco_, Office("cusco"), std::move(c));
  }
  absl::StatusOr<Case> GetCase(CaseService& s, const Actor& a,
                               const std::string& id) {
    return Await<Case>([&](auto done) { s.GetCase(a, id, std::move(done)); });
  }
  absl::StatusOr<CaseList> ListCases(CaseService& s, const Actor& a,
                                     ListCasesQuery q) {
    return Await<CaseList>(
        [&](auto done) { s.ListCases(a, std::move(q), std::move(done)); });
  }
  absl::StatusOr<Case> UpdateStage(const std::string& case_id, Stage to,
                                   int request,
                                   std::optional<int64_t> expected = {}) {
    UpdateStageCommand c;
    c.request_id = RequestId(request);
    c.case_id = case_id;
    c.to = to;
    c.expected_version = expected;
    return Await<Case>([&](auto done) {
      cusco_->UpdateStage(Office("cusco"), std::move(c), std::move(done));
    });
  }
  absl::StatusOr<Case> CloseCase(const std::string& case_id,
                                 ClosedReason reason, int request,
                                 std::optional<int64_t> expected = {}) {
    CloseCaseCommand c;
    c.request_id = RequestId(request);
    c.case_id = case_id;
    c.reason = reason;
    c.expected_version = expected;
    return Await<Case>([&](auto done) {
      cusco_->CloseCase(Office("cusco"), std::move(c), std::move(done));
    });
  }
  absl::StatusOr<FindPersonResult> FindPerson(CaseService& s, const Actor& a,
                                              IdentityTuple t) {
    return Await<FindPersonResult>(
        [&](auto done) { s.FindPerson(a, std::move(t), std::move(done)); });
  }
  int64_t Aggregate(const std::string_view table, const std::string& key) {
    // Not Store::ReadSync: std::promise keeps ThreadSanitizer informed.
    auto value = std::make_shared<int64_t>(-1);
    std::promise<absl::Status> promise;
    store_->Read(
        [value, table = std::string(table), key](store::ReadTxn& txn) {
          auto v = txn.GetAggregate(table, key);
          if (!v.ok()) return v.status();
          *value = *v;
          return absl::OkStatus();
        },
        [&promise](absl::Status s) { promise.set_value(std::move(s)); });
    EXPECT_TRUE(promise.get_future().get().ok());
    return *value;
  }

  std::unique_ptr<LinkageKeyring> keyring_;
  std::unique_ptr<store::Store> store_;
  testing::FakeStore* fake_ = nullptr;
  std::string dir_;
  std::unique_ptr<CaseService> cusco_;
  std::unique_ptr<CaseService> mdd_;
};

TEST_P(CaseServiceTest, OpenCaseCreatesVersionOne) {
  const auto c = OpenCase(Open(1, CanaryDni()));
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(IsValidCaseId(c->case_id)) << c->case_id;
  EXPECT_EQ(c->person_ref, *keyring_->DerivePersonRef(CanaryDni()));
  EXPECT_EQ(c->kind, CaseKind::kVictim);
  EXPECT_EQ(c->owner_region, "cusco");
  EXPECT_EQ(c->stage, Stage::kDetected);
  EXPECT_EQ(c->version, 1);
  EXPECT_EQ(c->opened_by, "spiffe://cusco.ruta.pe/office/main");
  EXPECT_EQ(c->profile.exploitation_forms,
            (std::vector<ExploitationForm>{ExploitationForm::kSexual,
                                           ExploitationForm::kLabour}));
  EXPECT_EQ(c->legal_basis, LegalBasis::kUpeProtectiveMeasure);
  EXPECT_GT(c->opened_at, absl::Now() - absl::Minutes(1));
  EXPECT_EQ(c->opened_at, c->updated_at);

  const auto got = GetCase(*cusco_, Office("cusco"), c->case_id);
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->case_id, c->case_id);
  EXPECT_EQ(got->person_ref, c->person_ref);
  EXPECT_EQ(got->opened_at, c->opened_at);
  EXPECT_EQ(got->profile.exploitation_forms, c->profile.exploitation_forms);

  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|DETECTED"), 1);
  EXPECT_EQ(Aggregate(kCasesByAgeSexTable, "cusco|2026Q3|15_17|FEMALE"), 1);
}

TEST_P(CaseServiceTest, IdentifiersNeverReachTheStore) {
  ASSERT_TRUE(OpenCase(Open(1, CanaryDni())).ok());
  ASSERT_TRUE(OpenCase(Open(2, CanaryNames())).ok());
  ASSERT_TRUE(FindPerson(*cusco_, Office("cusco"), CanaryNames()).ok());
  // Rejected requests must not leak either.
  IdentityTuple partial = CanaryNames();
  partial.birth_day = 0;
  const auto rejected = OpenCase(Open(3, partial));
  EXPECT_EQ(rejected.status().code(), absl::StatusCode::kInvalidArgument);
  const std::string all = EverythingWritten();
  ASSERT_FALSE(all.empty());
  for (const std::string& canary :
       {std::string(kCanaryDni), std::string("Zoraida"), std::string("zoraida"),
        std::string("ZORAIDA"), std::string("Pumacahua"),
        std::string("pumacahua"), std::string(kCanaryDistrict),
        std::string("2010-06-17"), std::string("20100617")}) {
    EXPECT_EQ(all.find(canary), std::string::npos) << canary;
  }
  EXPECT_THAT(std::string(rejected.status().message()),
              ::testing::Not(HasSubstr("Zoraida")));
}

TEST_P(CaseServiceTest, FiftyConcurrentRetriesCreateOneCase) {
  constexpr int kThreads = 50;
  std::vector<absl::StatusOr<Case>> results(kThreads,
                                            absl::UnknownError("not run"));
  std::vector<std::thread> threads;
  std::atomic<int> ready{0};
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      ++ready;
      while (ready.load() < kThreads) std::this_thread::yield();
      results[i] = OpenCase(Open(42, CanaryDni()));
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> ids;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->version, 1);
    ids.insert(r->case_id);
  }
  EXPECT_EQ(ids.size(), 1u);
  const auto list = ListCases(*cusco_, Office("cusco"), {});
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->cases.size(), 1u);
  EXPECT_EQ(list->cases[0].case_id, *ids.begin());
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|DETECTED"), 1);
}

TEST_P(CaseServiceTest, RetryWithoutIdentifiersReturnsTheSameCase) {
  const auto first = OpenCase(Open(5));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->person_ref.substr(0, 4), "pr0_");
  const auto retry = OpenCase(Open(5));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->case_id, first->case_id);
  EXPECT_EQ(retry->person_ref, first->person_ref);
  EXPECT_EQ(retry->opened_at, first->opened_at);
}

TEST_P(CaseServiceTest, RequestIdReusedForOtherContentIsRejected) {
  ASSERT_TRUE(OpenCase(Open(7, CanaryDni())).ok());
  OpenCaseCommand other = Open(7, CanaryDni());
  other.profile.sex = Sex::kMale;
  auto r = OpenCase(std::move(other));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("was already used for a different request"));
  // Another child under the same request id.
  IdentityTuple other_child;
  other_child.dni = "11111111";
  r = OpenCase(Open(7, other_child));
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  // The same request id for another method.
  const auto first = OpenCase(Open(8));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(UpdateStage(first->case_id, Stage::kIdentified, 7).status().code(),
            absl::StatusCode::kInvalidArgument);
  // Request ids are per principal: another office may use the same one.
  Actor other_office = Office("cusco");
  other_office.principal = "spiffe://cusco.ruta.pe/office/urubamba";
  EXPECT_TRUE(OpenCase(*cusco_, other_office, Open(7, CanaryDni())).ok());
}

TEST_P(CaseServiceTest, UpdateStageRetriedAdvancesOnce) {
  const auto c = OpenCase(Open(1));
  ASSERT_TRUE(c.ok());
  const auto first = UpdateStage(c->case_id, Stage::kIdentified, 2, 1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(first->version, 2);
  EXPECT_EQ(first->stage, Stage::kIdentified);
  const auto retry = UpdateStage(c->case_id, Stage::kIdentified, 2, 1);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->version, 2);
  EXPECT_EQ(retry->updated_at, first->updated_at);
  const auto now = GetCase(*cusco_, Office("cusco"), c->case_id);
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now->version, 2);
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|DETECTED"), 0);
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|IDENTIFIED"), 1);
  // A retry after a later change still returns the first result.
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kImmediateProtection, 3).ok());
  const auto late_retry = UpdateStage(c->case_id, Stage::kIdentified, 2, 1);
  ASSERT_TRUE(late_retry.ok());
  EXPECT_EQ(late_retry->version, 2);
  EXPECT_EQ(late_retry->stage, Stage::kIdentified);
}

TEST_P(CaseServiceTest, ExpectedVersionMismatchIsAborted) {
  const auto c = OpenCase(Open(1));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kIdentified, 2, 1).ok());
  const auto stale = UpdateStage(c->case_id, Stage::kImmediateProtection, 3, 1);
  EXPECT_EQ(stale.status().code(), absl::StatusCode::kAborted);
  EXPECT_THAT(std::string(stale.status().message()), HasSubstr("version 2"));
  const auto stale_close =
      CloseCase(c->case_id, ClosedReason::kLostContact, 4, 7);
  EXPECT_EQ(stale_close.status().code(), absl::StatusCode::kAborted);
  // A refused request records nothing: its id, with the right version now,
  // executes.
  const auto fixed = UpdateStage(c->case_id, Stage::kImmediateProtection, 3, 2);
  ASSERT_TRUE(fixed.ok()) << fixed.status();
  EXPECT_EQ(fixed->version, 3);
}

TEST_P(CaseServiceTest, ForbiddenTransitionsNameAllowedStages) {
  const auto c = OpenCase(Open(1));
  ASSERT_TRUE(c.ok());
  auto r = UpdateStage(c->case_id, Stage::kFollowUp, 2);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("allowed next stages: IDENTIFIED, CLOSED"));
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kIdentified, 3).ok());
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kImmediateProtection, 4).ok());
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kResidentialCare, 5).ok());
  r = UpdateStage(c->case_id, Stage::kTransferRequested, 6);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("transfer lifecycle"));
  r = UpdateStage(c->case_id, Stage::kClosed, 7);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("CloseCase"));
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kFamilyCare, 8).ok());
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kResidentialCare, 9).ok());
  const auto v = GetCase(*cusco_, Office("cusco"), c->case_id);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, 6);
}

TEST_P(CaseServiceTest, CloseCase) {
  const auto c = OpenCase(Open(1));
  ASSERT_TRUE(c.ok());
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kIdentified, 2).ok());
  EXPECT_EQ(
      CloseCase(c->case_id, ClosedReason::kUnspecified, 3).status().code(),
      absl::StatusCode::kInvalidArgument);
  const auto closed = CloseCase(c->case_id, ClosedReason::kLostContact, 4, 2);
  ASSERT_TRUE(closed.ok()) << closed.status();
  EXPECT_EQ(closed->stage, Stage::kClosed);
  EXPECT_EQ(closed->care_stage, Stage::kIdentified);
  EXPECT_EQ(closed->closed_reason, ClosedReason::kLostContact);
  EXPECT_EQ(closed->version, 3);
  // Retry: same result; another close: refused.
  const auto retry = CloseCase(c->case_id, ClosedReason::kLostContact, 4, 2);
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(retry->version, 3);
  EXPECT_EQ(
      CloseCase(c->case_id, ClosedReason::kReintegrated, 5).status().code(),
      absl::StatusCode::kFailedPrecondition);
  const auto reopen = UpdateStage(c->case_id, Stage::kIdentified, 6);
  EXPECT_EQ(reopen.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(reopen.status().message()), HasSubstr("closed"));
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|IDENTIFIED"), 0);
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|CLOSED"), 1);
  // Closed cases can be left out of lists.
  ListCasesQuery open_only;
  open_only.include_closed = false;
  const auto list = ListCases(*cusco_, Office("cusco"), open_only);
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->cases.empty());
}

TEST_P(CaseServiceTest, PreventionCases) {
  OpenCaseCommand cmd = Open(1);
  cmd.kind = CaseKind::kPrevention;
  EXPECT_EQ(OpenCase(cmd).status().code(),
            absl::StatusCode::kInvalidArgument);  // DETECTED
  cmd.initial_stage = Stage::kIdentified;
  cmd.profile.exploitation_forms.clear();
  cmd.profile.setting = Setting::kUnspecified;
  cmd.profile.recruitment_means = RecruitmentMeans::kUnspecified;
  const auto c = OpenCase(cmd);
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(
      UpdateStage(c->case_id, Stage::kImmediateProtection, 2).status().code(),
      absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kPreventionSupport, 3).ok());
  ASSERT_TRUE(UpdateStage(c->case_id, Stage::kFollowUp, 4).ok());
  ASSERT_TRUE(CloseCase(c->case_id, ClosedReason::kReachedMajority, 5).ok());
}

TEST_P(CaseServiceTest, ScopedToTheNodesRegion) {
  const auto cusco_case = OpenCase(Open(1, CanaryDni()));
  ASSERT_TRUE(cusco_case.ok());
  const auto mdd_case =
      OpenCase(*mdd_, Office("madre-de-dios"), Open(1, CanaryDni()));
  ASSERT_TRUE(mdd_case.ok()) << mdd_case.status();
  EXPECT_EQ(mdd_case->owner_region, "madre-de-dios");
  EXPECT_EQ(mdd_case->person_ref, cusco_case->person_ref);  // same child

  // An office of another region is refused by this node.
  const auto denied =
      GetCase(*cusco_, Office("madre-de-dios"), cusco_case->case_id);
  EXPECT_EQ(denied.status().code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(denied.status().message(),
            "an office of region madre-de-dios cannot act on region cusco's "
            "node");
  EXPECT_EQ(OpenCase(*cusco_, Office("madre-de-dios"), Open(9)).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(ListCases(*cusco_, Office("puno"), {}).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(FindPerson(*cusco_, Office("puno"), CanaryDni()).status().code(),
            absl::StatusCode::kPermissionDenied);

  // Another region's case is "not found" here (existence is sensitive).
  const auto hidden = GetCase(*cusco_, Office("cusco"), mdd_case->case_id);
  EXPECT_EQ(hidden.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(hidden.status().message(),
            absl::StrCat("no case ", mdd_case->case_id, " in region cusco"));
  EXPECT_EQ(
      UpdateStage(mdd_case->case_id, Stage::kIdentified, 2).status().code(),
      absl::StatusCode::kNotFound);
  EXPECT_EQ(
      CloseCase(mdd_case->case_id, ClosedReason::kReferred, 3).status().code(),
      absl::StatusCode::kNotFound);

  const auto list = ListCases(*cusco_, Office("cusco"), {});
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->cases.size(), 1u);
  EXPECT_EQ(list->cases[0].case_id, cusco_case->case_id);

  const auto found = FindPerson(*cusco_, Office("cusco"), CanaryDni());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->linked);
  ASSERT_EQ(found->cases.size(), 1u);
  EXPECT_EQ(found->cases[0].case_id, cusco_case->case_id);
}

TEST_P(CaseServiceTest, NotFoundAndMalformedIds) {
  const std::string missing = NewCaseId();
  const auto r = GetCase(*cusco_, Office("cusco"), missing);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(r.status().message(),
            absl::StrCat("no case ", missing, " in region cusco"));
  EXPECT_EQ(UpdateStage(missing, Stage::kIdentified, 1).status().code(),
            absl::StatusCode::kNotFound);
  const auto bad = GetCase(*cusco_, Office("cusco"), "12345678");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()), HasSubstr("case_id"));
  OpenCaseCommand no_request = Open(1);
  no_request.request_id = "retry-1";
  const auto rid = OpenCase(no_request);
  EXPECT_EQ(rid.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(rid.status().message()), HasSubstr("request_id"));
}

TEST_P(CaseServiceTest, OpenCaseValidation) {
  OpenCaseCommand c = Open(1);
  c.kind = CaseKind::kUnspecified;
  EXPECT_THAT(std::string(OpenCase(c).status().message()), HasSubstr("kind"));
  c = Open(1);
  c.initial_stage = Stage::kImmediateProtection;
  EXPECT_THAT(std::string(OpenCase(c).status().message()),
              HasSubstr("initial_stage"));
  c = Open(1);
  c.legal_basis = LegalBasis::kUnspecified;
  EXPECT_THAT(std::string(OpenCase(c).status().message()),
              HasSubstr("legal_basis"));
  c = Open(1);
  c.profile.origin_province = "0814";
  EXPECT_THAT(std::string(OpenCase(c).status().message()),
              HasSubstr("profile.origin_province"));
  c = Open(1);
  c.identity.dni = "1234";
  EXPECT_THAT(std::string(OpenCase(c).status().message()),
              HasSubstr("identifiers.dni"));
  // None of these was recorded: the request id is still free.
  EXPECT_TRUE(OpenCase(Open(1)).ok());
}

TEST_P(CaseServiceTest, PagesThrough120Cases) {
  std::set<std::string> opened;
  for (int i = 0; i < 120; ++i) {
    const auto c = OpenCase(Open(1000 + i));
    ASSERT_TRUE(c.ok()) << c.status();
    opened.insert(c->case_id);
  }
  // A case of the other region must not show up.
  ASSERT_TRUE(OpenCase(*mdd_, Office("madre-de-dios"), Open(1)).ok());
  std::vector<std::string> seen;
  std::vector<size_t> sizes;
  ListCasesQuery q;
  q.page_size = 50;
  for (int page = 0; page < 10; ++page) {
    const auto list = ListCases(*cusco_, Office("cusco"), q);
    ASSERT_TRUE(list.ok()) << list.status();
    sizes.push_back(list->cases.size());
    for (const Case& c : list->cases) seen.push_back(c.case_id);
    if (list->next_page_token.empty()) break;
    q.page_token = list->next_page_token;
  }
  EXPECT_EQ(seen.size(), 120u);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), opened);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  ASSERT_GE(sizes.size(), 3u);
  EXPECT_EQ(sizes[0], 50u);
  EXPECT_EQ(sizes[1], 50u);
  EXPECT_EQ(sizes[2], 20u);

  // Default and clamped page sizes.
  auto list = ListCases(*cusco_, Office("cusco"), {});
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->cases.size(), 50u);
  ListCasesQuery big;
  big.page_size = 100000;
  list = ListCases(*cusco_, Office("cusco"), big);
  ASSERT_TRUE(list.ok());
  EXPECT_EQ(list->cases.size(), 100u);
  ListCasesQuery negative;
  negative.page_size = -1;
  EXPECT_EQ(ListCases(*cusco_, Office("cusco"), negative).status().code(),
            absl::StatusCode::kInvalidArgument);
  ListCasesQuery forged;
  forged.page_token = "bm90IGEgdG9rZW4";
  const auto bad = ListCases(*cusco_, Office("cusco"), forged);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(bad.status().message()),
              HasSubstr("page_token is not a token this server issued"));
  // Filters.
  ASSERT_TRUE(UpdateStage(*opened.begin(), Stage::kIdentified, 1).ok());
  ListCasesQuery identified;
  identified.stage = Stage::kIdentified;
  list = ListCases(*cusco_, Office("cusco"), identified);
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->cases.size(), 1u);
  EXPECT_EQ(list->cases[0].case_id, *opened.begin());
  ListCasesQuery bad_ref;
  bad_ref.person_ref = "12345678";
  EXPECT_EQ(ListCases(*cusco_, Office("cusco"), bad_ref).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(CaseServiceTest, FindPerson) {
  const auto a = OpenCase(Open(1, CanaryNames()));
  ASSERT_TRUE(a.ok()) << a.status();
  IdentityTuple spelled = CanaryNames();
  spelled.given_names = "ZORAIDA  CANARIA";
  spelled.surnames = "pumacahua-testigo";
  const auto b = OpenCase(Open(2, spelled));  // re-victimized: a new case
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(a->person_ref, b->person_ref);
  EXPECT_NE(a->case_id, b->case_id);
  ASSERT_TRUE(OpenCase(Open(3, CanaryDni())).ok());  // another ref

  const auto found = FindPerson(*cusco_, Office("cusco"), CanaryNames());
  ASSERT_TRUE(found.ok()) << found.status();
  EXPECT_TRUE(found->linked);
  EXPECT_EQ(found->person_ref, a->person_ref);
  std::set<std::string> ids;
  for (const Case& c : found->cases) ids.insert(c.case_id);
  EXPECT_EQ(ids, (std::set<std::string>{a->case_id, b->case_id}));

  const auto unlinked = FindPerson(*cusco_, Office("cusco"), IdentityTuple());
  ASSERT_TRUE(unlinked.ok()) << unlinked.status();
  EXPECT_FALSE(unlinked->linked);
  EXPECT_TRUE(unlinked->cases.empty());
  EXPECT_EQ(unlinked->person_ref.substr(0, 4), "pr0_");
  EXPECT_EQ(EverythingWritten().find(unlinked->person_ref), std::string::npos);

  IdentityTuple bad;
  bad.dni = "123";
  EXPECT_EQ(FindPerson(*cusco_, Office("cusco"), bad).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST_P(CaseServiceTest, AggregatesFollowEveryChange) {
  OpenCaseCommand young = Open(1);
  young.profile.age_band = AgeBand::k6To11;
  young.profile.sex = Sex::kMale;
  young.profile.identified_month = {2026, 1};
  const auto a = OpenCase(young);
  ASSERT_TRUE(a.ok());
  const auto b = OpenCase(Open(2));
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(OpenCase(*mdd_, Office("madre-de-dios"), Open(3)).ok());
  ASSERT_TRUE(UpdateStage(a->case_id, Stage::kIdentified, 4).ok());
  ASSERT_TRUE(CloseCase(b->case_id, ClosedReason::kDeceased, 5).ok());
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|DETECTED"), 0);
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q1|IDENTIFIED"), 1);
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|CLOSED"), 1);
  EXPECT_EQ(Aggregate(kCasesByStageTable, "madre-de-dios|2026Q3|DETECTED"), 1);
  EXPECT_EQ(Aggregate(kClosuresByReasonTable,
                      absl::StrCat("cusco|", QuarterOfTime(absl::Now()),
                                   "|DECEASED")),
            1);
  EXPECT_EQ(Aggregate(kCasesByAgeSexTable, "cusco|2026Q1|6_11|MALE"), 1);
  EXPECT_EQ(Aggregate(kCasesByAgeSexTable, "cusco|2026Q3|15_17|FEMALE"), 1);
  EXPECT_EQ(Aggregate(kCasesByAgeSexTable, "madre-de-dios|2026Q3|15_17|FEMALE"),
            1);
}

INSTANTIATE_TEST_SUITE_P(Stores, CaseServiceTest,
                         ::testing::Values(Backend::kFake, Backend::kSqlite),
                         [](const ::testing::TestParamInfo<Backend>& info) {
                           return info.param == Backend::kFake ? "Fake"
                                                               : "Sqlite";
                         });

// Fault injection needs the fake store.
class FakeStoreCaseServiceTest : public CaseServiceTest {};

TEST_P(FakeStoreCaseServiceTest, FailedCommitChangesNothingAndCanBeRetried) {
  ASSERT_NE(fake_, nullptr);
  fake_->FailNextCommits(1);
  const auto failed = OpenCase(Open(1, CanaryDni()));
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable);
  const auto list = ListCases(*cusco_, Office("cusco"), {});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->cases.empty());
  const auto retried = OpenCase(Open(1, CanaryDni()));
  ASSERT_TRUE(retried.ok()) << retried.status();
  EXPECT_EQ(Aggregate(kCasesByStageTable, "cusco|2026Q3|DETECTED"), 1);
}

INSTANTIATE_TEST_SUITE_P(Stores, FakeStoreCaseServiceTest,
                         ::testing::Values(Backend::kFake),
                         [](const ::testing::TestParamInfo<Backend>&) {
                           return std::string("Fake");
                         });

}  // namespace
}  // namespace ruta::core
