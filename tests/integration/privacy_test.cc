// Privacy across two in-process nodes, Madre de Dios and Cusco, over real
// mutual TLS: a child rescued in one region is recognized in the other by
// FindPerson; MergePersons reaches the peer's copy of a shared case;
// EraseCase by the owner erases the case on both nodes and both audit chains
// still verify.
#include <sqlite3.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::OfficeClient;
using testing::RequestIdFor;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
constexpr char kCuscoProvince[] = "0801";

// Polls `probe` until it returns true or 20 s pass.
bool Eventually(const std::function<bool()>& probe) {
  const absl::Time until = absl::Now() + absl::Seconds(20);
  while (absl::Now() < until) {
    if (probe()) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return probe();
}

// Rows of `sql` (a count query) in the database at `path`.
int64_t Count(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) !=
      SQLITE_OK) {
    sqlite3_close(db);
    return -1;
  }
  sqlite3_stmt* stmt = nullptr;
  int64_t n = -1;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
      sqlite3_step(stmt) == SQLITE_ROW) {
    n = sqlite3_column_int64(stmt, 0);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

class PrivacyTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* region : {kCusco, kMdd}) {
      ports_[region] = testing::PickFreePort();
      dirs_[region] = testing::MakeTempDir(absl::StrCat("privacy-", region));
    }
    for (const char* region : {kCusco, kMdd}) {
      const std::string other = std::string(region) == kCusco ? kMdd : kCusco;
      testing::NodeSetup setup;
      setup.region = region;
      setup.data_dir = dirs_[region];
      setup.listen_address = Address(region);
      setup.peers = {{other, Address(other)}};
      setup.relay_initial_backoff_ms = 50;
      setup.relay_max_backoff_ms = 500;
      setup.relay_ack_timeout_ms = 3000;
      nodes_[region] = InProcessNode::Start(setup);
      ASSERT_NE(nodes_[region], nullptr);
    }
  }
  static void TearDownTestSuite() {
    for (auto& [region, node] : nodes_) node.reset();
  }
  static std::string Address(const std::string& region) {
    return absl::StrCat("127.0.0.1:", ports_[region]);
  }
  static std::string Database(const std::string& region) {
    return absl::StrCat(dirs_[region], "/", region, ".db");
  }

  void SetUp() override {
    mdd_ = std::make_unique<OfficeClient>(Address(kMdd), kMdd);
    cusco_ = std::make_unique<OfficeClient>(Address(kCusco), kCusco);
    salt_ = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }
  std::string Rid() { return RequestIdFor(salt_, 5000 + next_++); }

  std::unique_ptr<v1::Admin::Stub> AdminOf(const std::string& region) {
    return v1::Admin::NewStub(testing::MakeChannel(
        Address(region), DevPki::Get().Leaf(region, "admin", "operator"),
        region));
  }

  // A Madre de Dios case of the child with `dni` (empty: no identifiers),
  // in RESIDENTIAL_CARE, with a transfer to Cusco requested and seen there.
  v1::Transfer SharedCase(const std::string& dni) {
    v1::OpenCaseRequest open = testing::VictimOpenCaseRequest(Rid(), dni);
    if (dni.empty()) open.clear_identifiers();
    v1::OpenCaseResponse opened;
    auto ctx = ContextWithDeadline();
    EXPECT_TRUE(mdd_->stub().OpenCase(ctx.get(), open, &opened).ok());
    std::string case_id = opened.case_().case_id();
    for (v1::Stage stage :
         {v1::STAGE_IMMEDIATE_PROTECTION, v1::STAGE_RESIDENTIAL_CARE}) {
      if (opened.case_().stage() >= stage) continue;
      v1::UpdateStageRequest request;
      request.set_request_id(Rid());
      request.set_case_id(case_id);
      request.set_stage(stage);
      v1::UpdateStageResponse response;
      auto c = ContextWithDeadline();
      EXPECT_TRUE(mdd_->stub().UpdateStage(c.get(), request, &response).ok());
    }
    absl::StatusOr<v1::Transfer> t =
        mdd_->Request(Rid(), case_id, kCusco, kCuscoProvince);
    EXPECT_TRUE(t.ok()) << t.status();
    if (!t.ok()) return v1::Transfer();
    EXPECT_TRUE(cusco_
                    ->WaitFor(t->transfer_id(),
                              [](const v1::Transfer&) { return true; })
                    .ok());
    return *t;
  }

  void ExpectAuditVerifies(const std::string& region) {
    v1::VerifyAuditResponse verified;
    auto ctx = ContextWithDeadline();
    grpc::Status s = AdminOf(region)->VerifyAudit(
        ctx.get(), v1::VerifyAuditRequest(), &verified);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(verified.ok()) << region << ": " << verified.problem();
  }

  static std::map<std::string, int> ports_;
  static std::map<std::string, std::string> dirs_;
  static std::map<std::string, std::unique_ptr<InProcessNode>> nodes_;
  std::unique_ptr<OfficeClient> mdd_;
  std::unique_ptr<OfficeClient> cusco_;
  uint64_t salt_ = 0;
  uint64_t next_ = 0;
};

std::map<std::string, int> PrivacyTest::ports_;
std::map<std::string, std::string> PrivacyTest::dirs_;
std::map<std::string, std::unique_ptr<InProcessNode>> PrivacyTest::nodes_;

TEST_F(PrivacyTest, ChildRescuedInMadreDeDiosIsRecognizedInCusco) {
  const std::string dni = "04871236";
  const v1::Transfer t = SharedCase(dni);
  v1::FindPersonRequest find;
  find.mutable_identifiers()->set_dni(dni);
  v1::FindPersonResponse found;
  auto ctx = ContextWithDeadline();
  ASSERT_TRUE(cusco_->stub().FindPerson(ctx.get(), find, &found).ok());
  EXPECT_TRUE(found.linked());
  ASSERT_EQ(found.cases_size(), 1);
  EXPECT_EQ(found.cases(0).case_id(), t.case_id());
  EXPECT_EQ(found.cases(0).owner_region(), kMdd);
  // Another child is not.
  find.mutable_identifiers()->set_dni("04871237");
  auto ctx2 = ContextWithDeadline();
  ASSERT_TRUE(cusco_->stub().FindPerson(ctx2.get(), find, &found).ok());
  EXPECT_EQ(found.cases_size(), 0);
}

TEST_F(PrivacyTest, MergeReachesThePeersCopy) {
  const v1::Transfer shared = SharedCase("");
  absl::StatusOr<v1::Case> a = mdd_->GetCase(shared.case_id());
  ASSERT_TRUE(a.ok());
  absl::StatusOr<v1::Case> b = mdd_->OpenCaseInCare(salt_, 900);
  ASSERT_TRUE(b.ok()) << b.status();
  ASSERT_NE(a->person_ref(), b->person_ref());

  v1::MergePersonsRequest merge;
  merge.set_request_id(Rid());
  merge.set_kept_ref(b->person_ref());
  merge.set_merged_ref(a->person_ref());
  v1::MergePersonsResponse merged;
  auto ctx = ContextWithDeadline();
  grpc::Status s = AdminOf(kMdd)->MergePersons(ctx.get(), merge, &merged);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(merged.cases_changed(), 1);
  const std::string survivor = merged.person_ref();
  EXPECT_TRUE(survivor == a->person_ref() || survivor == b->person_ref());
  EXPECT_EQ(mdd_->GetCase(a->case_id())->person_ref(), survivor);
  EXPECT_EQ(mdd_->GetCase(b->case_id())->person_ref(), survivor);
  EXPECT_TRUE(Eventually([&] {
    absl::StatusOr<v1::Case> copy = cusco_->GetCase(shared.case_id());
    return copy.ok() && copy->person_ref() == survivor;
  }));
  // A ref unknown here is refused.
  merge.set_request_id(Rid());
  merge.set_merged_ref("pr0_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
  auto ctx2 = ContextWithDeadline();
  s = AdminOf(kMdd)->MergePersons(ctx2.get(), merge, &merged);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  // An office certificate may not merge.
  auto office = v1::Admin::NewStub(
      testing::MakeChannel(Address(kMdd), DevPki::Get().Office(kMdd), kMdd));
  auto ctx3 = ContextWithDeadline();
  s = office->MergePersons(ctx3.get(), merge, &merged);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PrivacyTest, EraseByTheOwnerErasesOnBothNodes) {
  const v1::Transfer t = SharedCase("04871299");
  const std::string case_id = t.case_id();
  auto erase = [&](const std::string& region) {
    v1::EraseCaseRequest request;
    request.set_request_id(Rid());
    request.set_case_id(case_id);
    v1::EraseCaseResponse response;
    auto ctx = ContextWithDeadline();
    return AdminOf(region)->EraseCase(ctx.get(), request, &response);
  };
  // The transfer is open: refused, with what to do.
  grpc::Status s = erase(kMdd);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("REQUESTED"));

  // Walk it to Cusco: Cusco becomes the owner.
  ASSERT_TRUE(cusco_->Accept(Rid(), t.transfer_id()).ok());
  ASSERT_TRUE(mdd_->WaitFor(t.transfer_id(),
                            [](const v1::Transfer& x) {
                              return x.state() == v1::TRANSFER_STATE_ACCEPTED;
                            })
                  .ok());
  ASSERT_TRUE(mdd_->Depart(Rid(), t.transfer_id()).ok());
  ASSERT_TRUE(cusco_
                  ->WaitFor(t.transfer_id(),
                            [](const v1::Transfer& x) {
                              return x.state() == v1::TRANSFER_STATE_IN_TRANSIT;
                            })
                  .ok());
  ASSERT_TRUE(cusco_->Receive(Rid(), t.transfer_id()).ok());
  ASSERT_TRUE(mdd_->WaitFor(t.transfer_id(),
                            [](const v1::Transfer& x) {
                              return x.state() == v1::TRANSFER_STATE_RECEIVED;
                            })
                  .ok());

  // Madre de Dios no longer owns it.
  s = erase(kMdd);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(s.error_message(), HasSubstr("owned by cusco"));

  s = erase(kCusco);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(cusco_->GetCase(case_id).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(Eventually([&] {
    return mdd_->GetCase(case_id).status().code() ==
           absl::StatusCode::kNotFound;
  }));
  EXPECT_EQ(mdd_->Get(t.transfer_id()).status().code(),
            absl::StatusCode::kNotFound);

  // What is left in each database: no row of the case, its transfer or its
  // services; received events of the case only as hashes.
  for (const char* region : {kCusco, kMdd}) {
    const std::string db = Database(region);
    for (const char* table : {"cases", "case_history", "transfers",
                              "transfer_history", "services", "case_shares"}) {
      EXPECT_EQ(Count(db, absl::StrCat("SELECT count(*) FROM ", table,
                                       " WHERE case_id = '", case_id, "'")),
                0)
          << region << " " << table;
    }
    EXPECT_EQ(Count(db, absl::StrCat("SELECT count(*) FROM erased_cases "
                                     "WHERE case_id = '",
                                     case_id, "'")),
              1)
        << region;
    EXPECT_EQ(Count(db, absl::StrCat("SELECT count(*) FROM inbox_events "
                                     "WHERE case_id = '",
                                     case_id, "' AND length(bytes) > 0")),
              0)
        << region;
    EXPECT_GT(Count(db, absl::StrCat("SELECT count(*) FROM inbox_events "
                                     "WHERE case_id = '",
                                     case_id, "' AND length(hash) = 32")),
              0)
        << region;
  }
  // Once the peer acknowledged the erasure, the sender keeps only hashes of
  // what it sent about the case.
  EXPECT_TRUE(Eventually([&] {
    return Count(Database(kCusco),
                 absl::StrCat("SELECT count(*) FROM outbox WHERE case_id = '",
                              case_id, "' AND length(bytes) > 0")) == 0;
  }));
  ExpectAuditVerifies(kCusco);
  ExpectAuditVerifies(kMdd);
}

}  // namespace
}  // namespace ruta
