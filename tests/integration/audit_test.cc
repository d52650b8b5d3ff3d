// The audit log end to end (issue 3, DESIGN.md §5), over real mutual TLS
// against two in-process nodes, Cusco and Madre de Dios, peers of each other
// that exchange signed checkpoints every second:
//  * every kind of call leaves exactly one record with the right fields, and
//    read records are committed within a second;
//  * no identifier of a child reaches any file of either node;
//  * a change whose audit record cannot be written is refused (UNAVAILABLE)
//    and not applied;
//  * 200 random edits, deletions and reorderings of the stored log are each
//    found by Admin.VerifyAudit at the right index (and by the CLI);
//  * removing the tail of a node's log is found through its peer's
//    checkpoint.
#include <dirent.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::KeyPair;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
// Exit code of `ruta admin audit verify` when the log fails verification.
constexpr int kExitAuditFailed = 4;

std::string RequestId(int n) {
  return absl::StrFormat("0a0d17a0-0000-4000-8000-%012d", n);
}

// A context with a deadline and, when given, the clerk header.
std::unique_ptr<grpc::ClientContext> Call(const std::string& clerk = "") {
  auto context = testing::ContextWithDeadline(absl::Seconds(10));
  if (!clerk.empty()) context->AddMetadata("x-ruta-clerk", clerk);
  return context;
}

// A direct SQLite connection to a node's database, as someone holding the
// file would have (WAL: usable while the node runs).
class RawDb {
 public:
  explicit RawDb(const std::string& path) {
    EXPECT_EQ(sqlite3_open(path.c_str(), &db_), SQLITE_OK) << path;
    sqlite3_busy_timeout(db_, 10000);
  }
  ~RawDb() { sqlite3_close(db_); }
  RawDb(const RawDb&) = delete;
  RawDb& operator=(const RawDb&) = delete;

  void Exec(const std::string& sql) {
    char* error = nullptr;
    const int rc = sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, &error);
    EXPECT_EQ(rc, SQLITE_OK) << sql << ": " << (error ? error : "");
    sqlite3_free(error);
  }
  int64_t Int(const std::string& sql) {
    sqlite3_stmt* stmt = nullptr;
    int64_t value = -1;
    if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW) {
      value = sqlite3_column_int64(stmt, 0);
    }
    sqlite3_finalize(stmt);
    return value;
  }

 private:
  sqlite3* db_ = nullptr;
};

// Every file under `dir`, recursively, concatenated.
std::string AllBytesUnder(const std::string& dir) {
  std::string all;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return all;
  while (dirent* e = ::readdir(d)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    const std::string path = dir + "/" + name;
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) continue;
    if (S_ISDIR(st.st_mode)) {
      all += AllBytesUnder(path);
    } else if (S_ISREG(st.st_mode)) {
      std::ifstream in(path, std::ios::binary);
      all.append(std::istreambuf_iterator<char>(in), {});
    }
  }
  ::closedir(d);
  return all;
}

class AuditTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* region : {kCusco, kMdd}) {
      ports_[region] = testing::PickFreePort();
      dirs_[region] = testing::MakeTempDir(absl::StrCat("audit-", region));
    }
    for (const char* region : {kCusco, kMdd}) StartNode(region);
  }
  static void TearDownTestSuite() {
    for (auto& [region, node] : nodes_) node.reset();
  }

  static void StartNode(const std::string& region) {
    const std::string other = region == kCusco ? kMdd : kCusco;
    testing::NodeSetup setup;
    setup.region = region;
    setup.data_dir = dirs_[region];
    setup.listen_address = absl::StrCat("127.0.0.1:", ports_[region]);
    setup.peers = {{other, absl::StrCat("127.0.0.1:", ports_[other])}};
    setup.checkpoint_interval_seconds = 1;
    nodes_[region] = InProcessNode::Start(setup);
    ASSERT_NE(nodes_[region], nullptr) << region;
  }

  static std::string DbPath(const std::string& region) {
    return absl::StrCat(dirs_[region], "/", region, ".db");
  }
  static std::string Address(const std::string& region) {
    return absl::StrCat("127.0.0.1:", ports_[region]);
  }
  static KeyPair Admin(const std::string& region) {
    return DevPki::Get().Leaf(region, "admin", "operator");
  }

  std::unique_ptr<v1::CaseOffice::Stub> Office(const std::string& node,
                                               const std::string& as) {
    return v1::CaseOffice::NewStub(
        testing::MakeChannel(Address(node), DevPki::Get().Office(as), node));
  }
  std::unique_ptr<v1::Admin::Stub> AdminStub(const std::string& node) {
    return v1::Admin::NewStub(
        testing::MakeChannel(Address(node), Admin(node), node));
  }

  v1::VerifyAuditResponse Verify(const std::string& node) {
    v1::VerifyAuditResponse response;
    const grpc::Status status = AdminStub(node)->VerifyAudit(
        Call().get(), v1::VerifyAuditRequest(), &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response;
  }

  std::vector<v1::ExportAuditResponse> Export(const std::string& node) {
    auto admin = AdminStub(node);
    auto context = Call();
    auto reader = admin->ExportAudit(context.get(), v1::ExportAuditRequest());
    std::vector<v1::ExportAuditResponse> records;
    v1::ExportAuditResponse record;
    while (reader->Read(&record)) records.push_back(record);
    const grpc::Status status = reader->Finish();
    EXPECT_TRUE(status.ok()) << status.error_message();
    return records;
  }

  // The records of `node` whose clerk is `clerk`.
  std::vector<v1::ExportAuditResponse> OfClerk(
      const std::vector<v1::ExportAuditResponse>& all,
      const std::string& clerk) {
    std::vector<v1::ExportAuditResponse> out;
    for (const auto& r : all) {
      if (r.on_behalf_of() == clerk) out.push_back(r);
    }
    return out;
  }

  // Waits until every clerk of `clerks` has a record, then one flush
  // interval more (so that a duplicate would show), and returns the log.
  std::vector<v1::ExportAuditResponse> WaitForClerks(
      const std::string& node, const std::vector<std::string>& clerks) {
    const absl::Time deadline = absl::Now() + absl::Seconds(10);
    while (absl::Now() < deadline) {
      const auto all = Export(node);
      if (std::all_of(clerks.begin(), clerks.end(), [&](const std::string& c) {
            return !OfClerk(all, c).empty();
          })) {
        break;
      }
      absl::SleepFor(absl::Milliseconds(50));
    }
    absl::SleepFor(absl::Milliseconds(600));
    return Export(node);
  }

  testing::ProcessResult CliVerify(const std::string& node,
                                   const std::vector<std::string>& extra = {}) {
    const KeyPair admin = Admin(node);
    std::vector<std::string> argv = {testing::CliBinary(),
                                     "--node",
                                     Address(node),
                                     "--cert",
                                     admin.cert_file,
                                     "--key",
                                     admin.key_file,
                                     "--ca",
                                     DevPki::Get().TrustBundle(),
                                     "--server-region",
                                     node,
                                     "--timeout",
                                     "10",
                                     "--retries",
                                     "0"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"admin", "audit", "verify"});
    return testing::RunProcess(argv, absl::Seconds(30));
  }

  static std::map<std::string, int> ports_;
  static std::map<std::string, std::string> dirs_;
  static std::map<std::string, std::unique_ptr<InProcessNode>> nodes_;
};
std::map<std::string, int> AuditTest::ports_;
std::map<std::string, std::string> AuditTest::dirs_;
std::map<std::string, std::unique_ptr<InProcessNode>> AuditTest::nodes_;

void ExpectRecord(const std::vector<v1::ExportAuditResponse>& records,
                  const std::string& clerk, const std::string& principal,
                  const std::string& method, const std::string& subject,
                  const std::string& outcome) {
  ASSERT_EQ(records.size(), 1u) << "records of clerk " << clerk;
  const v1::ExportAuditResponse& r = records[0];
  EXPECT_EQ(r.principal(), principal) << clerk;
  EXPECT_EQ(r.method(), method) << clerk;
  EXPECT_EQ(r.case_id(), subject) << clerk;
  EXPECT_EQ(r.outcome(), outcome) << clerk;
  EXPECT_EQ(r.chain_hash().size(), 32u) << clerk;
  EXPECT_GT(r.at().seconds(), 1700000000) << clerk;
}

TEST_F(AuditTest, EveryKindOfCallLeavesExactlyOneRecord) {
  const std::string office =
      "spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado";
  auto mdd = Office(kMdd, kMdd);

  // A successful write: recorded by core in its transaction.
  v1::OpenCaseResponse opened;
  const v1::OpenCaseRequest open =
      testing::VictimOpenCaseRequest(RequestId(1), "52718394");
  ASSERT_TRUE(mdd->OpenCase(Call("open-ok").get(), open, &opened).ok());
  const std::string case_id = opened.case_().case_id();

  // An allowed read, committed within one second of the call.
  v1::GetCaseRequest get;
  get.set_case_id(case_id);
  v1::GetCaseResponse got;
  ASSERT_TRUE(mdd->GetCase(Call("read-ok").get(), get, &got).ok());
  const absl::Time read_at = absl::Now();
  absl::Duration read_on_record = absl::InfiniteDuration();
  while (absl::Now() - read_at < absl::Seconds(5)) {
    if (!OfClerk(Export(kMdd), "read-ok").empty()) {
      read_on_record = absl::Now() - read_at;
      break;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  EXPECT_LT(read_on_record, absl::Seconds(1));

  // A denied call: a Cusco office on Madre de Dios' node.
  v1::GetCaseResponse denied;
  EXPECT_EQ(Office(kMdd, kCusco)
                ->GetCase(Call("denied").get(), get, &denied)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);

  // A failed write (illegal transition) and a successful one.
  v1::UpdateStageRequest stage;
  stage.set_request_id(RequestId(2));
  stage.set_case_id(case_id);
  stage.set_stage(v1::STAGE_FOLLOW_UP);
  v1::UpdateStageResponse staged;
  EXPECT_EQ(
      mdd->UpdateStage(Call("write-fail").get(), stage, &staged).error_code(),
      grpc::StatusCode::FAILED_PRECONDITION);
  stage.set_request_id(RequestId(3));
  stage.set_stage(v1::STAGE_IMMEDIATE_PROTECTION);
  ASSERT_TRUE(mdd->UpdateStage(Call("write-ok").get(), stage, &staged).ok());

  // A retry is a call too; an invalid request; a read by identifiers; a
  // method not implemented yet.
  ASSERT_TRUE(mdd->OpenCase(Call("open-retry").get(), open, &opened).ok());
  EXPECT_EQ(opened.case_().case_id(), case_id);
  v1::OpenCaseRequest invalid = open;
  invalid.set_request_id(RequestId(4));
  invalid.clear_kind();
  EXPECT_EQ(mdd->OpenCase(Call("invalid").get(), invalid, &opened).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  v1::FindPersonRequest find;
  find.mutable_identifiers()->set_dni("52718394");
  v1::FindPersonResponse found;
  ASSERT_TRUE(mdd->FindPerson(Call("find").get(), find, &found).ok());
  v1::ReferCaseRequest refer;
  refer.set_case_id(case_id);
  v1::ReferCaseResponse referred;
  // No request_id: refused before core.
  EXPECT_EQ(
      mdd->ReferCase(Call("not-yet").get(), refer, &referred).error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);

  const auto all = WaitForClerks(
      kMdd, {"open-ok", "read-ok", "denied", "write-fail", "write-ok",
             "open-retry", "invalid", "find", "not-yet"});
  ExpectRecord(OfClerk(all, "open-ok"), "open-ok", office,
               "CaseOffice.OpenCase", case_id, "OK");
  ExpectRecord(OfClerk(all, "read-ok"), "read-ok", office, "CaseOffice.GetCase",
               case_id, "OK");
  ExpectRecord(OfClerk(all, "denied"), "denied",
               "spiffe://cusco.ruta.pe/office/main-office",
               "CaseOffice.GetCase", case_id, "PERMISSION_DENIED");
  ExpectRecord(OfClerk(all, "write-fail"), "write-fail", office,
               "CaseOffice.UpdateStage", case_id, "FAILED_PRECONDITION");
  ExpectRecord(OfClerk(all, "write-ok"), "write-ok", office,
               "CaseOffice.UpdateStage", case_id, "OK");
  ExpectRecord(OfClerk(all, "open-retry"), "open-retry", office,
               "CaseOffice.OpenCase", case_id, "OK");
  ExpectRecord(OfClerk(all, "invalid"), "invalid", office,
               "CaseOffice.OpenCase", "", "INVALID_ARGUMENT");
  ExpectRecord(OfClerk(all, "find"), "find", office, "CaseOffice.FindPerson",
               "", "OK");
  ExpectRecord(OfClerk(all, "not-yet"), "not-yet", office,
               "CaseOffice.ReferCase", case_id, "INVALID_ARGUMENT");

  // The export is the chain: indexes 0, 1, 2, ... and it verifies.
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].index(), static_cast<int64_t>(i));
  }
  const v1::VerifyAuditResponse verified = Verify(kMdd);
  EXPECT_TRUE(verified.ok()) << verified.problem();
  EXPECT_GE(verified.records_checked(), static_cast<int64_t>(all.size()));
}

TEST_F(AuditTest, NoIdentifierOfAChildReachesAnyFile) {
  // Canary identifiers: planted in OpenCase and FindPerson, looked for in
  // every byte either node wrote (databases, -wal, -shm, ...).
  const std::string dni = "40417333";
  const std::string given = "Yesenia Canario";
  const std::string surnames = "Quispe Centinela";
  auto mdd = Office(kMdd, kMdd);
  v1::OpenCaseResponse opened;
  ASSERT_TRUE(mdd->OpenCase(Call("canary-open").get(),
                            testing::VictimOpenCaseRequest(RequestId(10), dni),
                            &opened)
                  .ok());
  v1::OpenCaseRequest by_names =
      testing::VictimOpenCaseRequest(RequestId(11), "");
  by_names.mutable_identifiers()->set_given_names(given);
  by_names.mutable_identifiers()->set_surnames(surnames);
  by_names.mutable_identifiers()->mutable_birth_date()->set_year(2010);
  by_names.mutable_identifiers()->mutable_birth_date()->set_month(3);
  by_names.mutable_identifiers()->mutable_birth_date()->set_day(14);
  by_names.mutable_identifiers()->set_birth_district("170101");
  ASSERT_TRUE(
      mdd->OpenCase(Call("canary-names").get(), by_names, &opened).ok());
  v1::FindPersonRequest find;
  find.mutable_identifiers()->set_dni(dni);
  v1::FindPersonResponse found;
  ASSERT_TRUE(mdd->FindPerson(Call("canary-find").get(), find, &found).ok());
  // An identifier in a field meant for an id is not recorded either.
  v1::GetCaseRequest get;
  get.set_case_id(dni);
  v1::GetCaseResponse got;
  EXPECT_FALSE(mdd->GetCase(Call("canary-get").get(), get, &got).ok());
  // And a clerk header that is not a clerk id is not recorded.
  v1::ListCasesResponse listed;
  auto odd_clerk = Call();
  odd_clerk->AddMetadata("x-ruta-clerk", given);
  mdd->ListCases(odd_clerk.get(), v1::ListCasesRequest(), &listed);

  const auto all = WaitForClerks(
      kMdd, {"canary-open", "canary-names", "canary-find", "canary-get"});
  EXPECT_EQ(OfClerk(all, "canary-get")[0].case_id(), "");
  for (const auto& record : all) {
    EXPECT_EQ(record.DebugString().find(dni), std::string::npos);
    EXPECT_EQ(record.DebugString().find("Yesenia"), std::string::npos);
  }
  // Let a checkpoint round pass so the peer's files are current too.
  absl::SleepFor(absl::Milliseconds(1200));
  for (const char* region : {kMdd, kCusco}) {
    const std::string bytes = AllBytesUnder(dirs_[region]);
    EXPECT_FALSE(bytes.empty());
    for (const std::string& canary :
         {dni, given, surnames, std::string("Yesenia"),
          std::string("Centinela"), std::string("170101")}) {
      EXPECT_EQ(bytes.find(canary), std::string::npos)
          << canary << " found in " << region << "'s files";
    }
  }
}

TEST_F(AuditTest, ChangeIsRefusedWhenItsAuditRecordCannotBeWritten) {
  auto mdd = Office(kMdd, kMdd);
  v1::OpenCaseResponse opened;
  ASSERT_TRUE(mdd->OpenCase(Call().get(),
                            testing::VictimOpenCaseRequest(RequestId(20), ""),
                            &opened)
                  .ok());
  const std::string existing = opened.case_().case_id();
  {
    RawDb db(DbPath(kMdd));
    db.Exec(
        "CREATE TRIGGER inject_audit_failure BEFORE INSERT ON audit_log "
        "BEGIN SELECT RAISE(ABORT, 'injected audit failure'); END;");
  }
  // Opening a case and moving one both need an audit record: refused.
  grpc::Status status = mdd->OpenCase(
      Call("refused").get(),
      testing::VictimOpenCaseRequest(RequestId(21), "61829374"), &opened);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE)
      << status.error_message();
  EXPECT_THAT(status.error_message(), HasSubstr("audit"));
  v1::UpdateStageRequest stage;
  stage.set_request_id(RequestId(22));
  stage.set_case_id(existing);
  stage.set_stage(v1::STAGE_IMMEDIATE_PROTECTION);
  v1::UpdateStageResponse staged;
  EXPECT_EQ(mdd->UpdateStage(Call("refused-stage").get(), stage, &staged)
                .error_code(),
            grpc::StatusCode::UNAVAILABLE);
  // Longer than a flush interval: the queued records of the refusals meet
  // the broken table too (the audit log logs it and retries).
  absl::SleepFor(absl::Milliseconds(700));
  {
    RawDb db(DbPath(kMdd));
    db.Exec("DROP TRIGGER inject_audit_failure");
  }

  // Nothing was applied.
  v1::FindPersonRequest find;
  find.mutable_identifiers()->set_dni("61829374");
  v1::FindPersonResponse found;
  ASSERT_TRUE(mdd->FindPerson(Call().get(), find, &found).ok());
  EXPECT_EQ(found.cases_size(), 0);
  v1::GetCaseRequest get;
  get.set_case_id(existing);
  v1::GetCaseResponse got;
  ASSERT_TRUE(mdd->GetCase(Call().get(), get, &got).ok());
  EXPECT_EQ(got.case_().stage(), v1::STAGE_IDENTIFIED);
  EXPECT_EQ(got.case_().version(), 1);

  // The refusals themselves were queued and are on record once the table
  // works again (the audit log retried, it did not drop them).
  const auto all = WaitForClerks(kMdd, {"refused", "refused-stage"});
  ExpectRecord(OfClerk(all, "refused"), "refused",
               "spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado",
               "CaseOffice.OpenCase", "", "UNAVAILABLE");
  ExpectRecord(OfClerk(all, "refused-stage"), "refused-stage",
               "spiffe://madre-de-dios.ruta.pe/office/puerto-maldonado",
               "CaseOffice.UpdateStage", existing, "UNAVAILABLE");
  const v1::VerifyAuditResponse verified = Verify(kMdd);
  EXPECT_TRUE(verified.ok()) << verified.problem();
}

TEST_F(AuditTest, TwoHundredRandomTamperingsAreEachFoundAtTheirIndex) {
  auto mdd = Office(kMdd, kMdd);
  for (int i = 0; i < 60; ++i) {
    v1::ListCasesResponse listed;
    ASSERT_TRUE(mdd->ListCases(Call(absl::StrCat("filler-", i)).get(),
                               v1::ListCasesRequest(), &listed)
                    .ok());
  }
  WaitForClerks(kMdd, {"filler-59"});
  ASSERT_TRUE(Verify(kMdd).ok());
  const testing::ProcessResult clean = CliVerify(kMdd);
  EXPECT_EQ(clean.exit_code, 0) << clean.out << clean.err;
  EXPECT_THAT(clean.out, HasSubstr("records_checked"));

  RawDb db(DbPath(kMdd));
  // Whoever holds the file can drop the append-only triggers.
  db.Exec(
      "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;");
  // Records 0 .. n-2 only: the head (which the node signs into checkpoints)
  // stays untouched.
  const int64_t n = db.Int("SELECT max(idx) + 1 FROM audit_log");
  ASSERT_GE(n, 60);
  const unsigned seed = 20261128;
  std::mt19937 random(seed);
  auto pick = [&](int64_t below) {
    return std::uniform_int_distribution<int64_t>(0, below - 1)(random);
  };
  const std::vector<std::string> edits = {
      "principal = principal || 'x'", "clerk = clerk || 'x'",
      "method = 'Admin.Backup'",      "subject = 'cs_zzzzzzzzzzzzzzzzzzzz'",
      "outcome = (outcome + 1) % 17", "at_us = at_us + 1",
      "hash = randomblob(32)"};
  int detected = 0;
  for (int round = 0; round < 200; ++round) {
    const int kind = round % 3;
    int64_t expected = -1;
    std::string what;
    db.Exec("DROP TABLE IF EXISTS temp.saved");
    if (kind == 0) {  // edit one field of one record
      const int64_t k = pick(n - 1);
      const std::string& edit = edits[pick(edits.size())];
      db.Exec(absl::StrCat(
          "CREATE TEMP TABLE saved AS SELECT * FROM audit_log WHERE idx = ", k,
          "; UPDATE audit_log SET ", edit, " WHERE idx = ", k));
      expected = k;
      what = absl::StrCat("edit ", edit, " of record ", k);
    } else if (kind == 1) {  // delete one record
      const int64_t k = pick(n - 1);
      db.Exec(absl::StrCat(
          "CREATE TEMP TABLE saved AS SELECT * FROM audit_log WHERE idx = ", k,
          "; DELETE FROM audit_log WHERE idx = ", k));
      expected = k;
      what = absl::StrCat("deletion of record ", k);
    } else {  // swap two records (contents and hashes)
      int64_t a = pick(n - 1), b = pick(n - 1);
      while (b == a) b = pick(n - 1);
      if (a > b) std::swap(a, b);
      db.Exec(absl::StrCat(
          "CREATE TEMP TABLE saved AS SELECT * FROM audit_log WHERE idx IN (",
          a, ", ", b,
          "); UPDATE audit_log SET (at_us, principal, clerk, method, subject, "
          "outcome, hash) = (SELECT at_us, principal, clerk, method, subject, "
          "outcome, hash FROM saved WHERE saved.idx = ",
          a + b, " - audit_log.idx) WHERE idx IN (", a, ", ", b, ")"));
      expected = a;
      what = absl::StrCat("swap of records ", a, " and ", b);
    }

    const v1::VerifyAuditResponse result = Verify(kMdd);
    EXPECT_FALSE(result.ok()) << what << " (seed " << seed << ")";
    EXPECT_EQ(result.first_bad_index(), expected)
        << what << ": " << result.problem() << " (seed " << seed << ")";
    EXPECT_FALSE(result.problem().empty()) << what;
    if (!result.ok() && result.first_bad_index() == expected) ++detected;
    if (round == 1) {
      // The CLI says so too, with its documented exit code.
      const testing::ProcessResult cli = CliVerify(kMdd);
      EXPECT_EQ(cli.exit_code, kExitAuditFailed) << cli.out << cli.err;
      EXPECT_THAT(cli.err, HasSubstr(absl::StrCat("record ", expected)));
    }

    // Put the record(s) back as they were.
    db.Exec(
        "DELETE FROM audit_log WHERE idx IN (SELECT idx FROM saved);"
        "INSERT INTO audit_log SELECT * FROM saved;");
  }
  EXPECT_EQ(detected, 200);
  const v1::VerifyAuditResponse restored = Verify(kMdd);
  EXPECT_TRUE(restored.ok()) << restored.problem();
  db.Exec(
      "CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log BEGIN "
      "SELECT RAISE(ABORT, 'audit records are append-only'); END;"
      "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN "
      "SELECT RAISE(ABORT, 'audit records are append-only'); END;");
}

TEST_F(AuditTest, TailTruncationIsFoundThroughThePeersCheckpoint) {
  auto cusco = Office(kCusco, kCusco);
  for (int i = 0; i < 40; ++i) {
    v1::ListCasesResponse listed;
    ASSERT_TRUE(cusco
                    ->ListCases(Call(absl::StrCat("c-", i)).get(),
                                v1::ListCasesRequest(), &listed)
                    .ok());
  }
  WaitForClerks(kCusco, {"c-39"});
  // Wait until Madre de Dios holds a signed checkpoint of them.
  int64_t held = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline && held < 40) {
    const v1::VerifyAuditResponse now = Verify(kCusco);
    for (const auto& check : now.checkpoints()) {
      if (check.holder() == kMdd &&
          check.result() == v1::CHECKPOINT_RESULT_MATCHES) {
        held = check.length();
      }
    }
    if (held < 40) absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_GE(held, 40) << "Madre de Dios never held a checkpoint of Cusco";

  // Stop Cusco and remove the tail of its log, and the local copy of the
  // checkpoints it sent (an intruder would).
  nodes_[kCusco].reset();
  const int64_t keep = held / 2;
  {
    RawDb db(DbPath(kCusco));
    db.Exec(
        absl::StrCat("DROP TRIGGER audit_log_no_delete;"
                     "DELETE FROM audit_log WHERE idx >= ",
                     keep, "; DELETE FROM audit_sent_checkpoints;"));
  }
  StartNode(kCusco);

  // The chain that is left verifies by itself, but the peer's checkpoint
  // shows its tail is gone: the first missing record is the chain's length
  // (`keep`, or a little more if Madre de Dios' checkpoint call to Cusco has
  // already been recorded since the restart).
  const v1::VerifyAuditResponse result = Verify(kCusco);
  EXPECT_FALSE(result.ok());
  EXPECT_EQ(result.first_bad_index(), result.records_checked())
      << result.problem();
  EXPECT_GE(result.first_bad_index(), keep);
  EXPECT_LT(result.first_bad_index(), held);
  EXPECT_THAT(result.problem(), HasSubstr("truncated"));
  bool peer_found_it = false;
  for (const auto& check : result.checkpoints()) {
    if (check.holder() == kMdd) {
      EXPECT_EQ(check.result(), v1::CHECKPOINT_RESULT_TRUNCATED);
      EXPECT_GE(check.length(), held);
      peer_found_it = check.result() == v1::CHECKPOINT_RESULT_TRUNCATED;
    }
  }
  EXPECT_TRUE(peer_found_it);

  const testing::ProcessResult cli = CliVerify(kCusco);
  EXPECT_EQ(cli.exit_code, kExitAuditFailed) << cli.out << cli.err;
  EXPECT_THAT(cli.out, HasSubstr("truncated"));
  const testing::ProcessResult json = CliVerify(kCusco, {"--output", "json"});
  EXPECT_EQ(json.exit_code, kExitAuditFailed) << json.err;
  EXPECT_THAT(json.out, HasSubstr("CHECKPOINT_RESULT_TRUNCATED"));
}

// A node restored from a backup (docs/restore.md) has a shorter chain than
// the checkpoint its peer holds: it appends a "restored" record and declares
// the restore with a signed checkpoint, which the peer takes instead of the
// one it held (kept as evidence), so that verification passes again.
TEST_F(AuditTest, ARestoreDeclaredToThePeerReplacesItsCheckpoint) {
  auto mdd = Office(kMdd, kMdd);
  for (int i = 0; i < 40; ++i) {
    v1::ListCasesResponse listed;
    ASSERT_TRUE(mdd->ListCases(Call(absl::StrCat("m-", i)).get(),
                               v1::ListCasesRequest(), &listed)
                    .ok());
  }
  WaitForClerks(kMdd, {"m-39"});
  int64_t held = 0;
  const absl::Time deadline = absl::Now() + absl::Seconds(15);
  while (absl::Now() < deadline && held < 40) {
    const v1::VerifyAuditResponse now = Verify(kMdd);
    for (const auto& check : now.checkpoints()) {
      if (check.holder() == kCusco &&
          check.result() == v1::CHECKPOINT_RESULT_MATCHES) {
        held = check.length();
      }
    }
    if (held < 40) absl::SleepFor(absl::Milliseconds(200));
  }
  ASSERT_GE(held, 40) << "Cusco never held a checkpoint of Madre de Dios";

  // The "backup": the chain as it was at half the held length (with the
  // checkpoint copies of that time: none), and the pending recovery that
  // `ruta-node restore` leaves.
  nodes_[kMdd].reset();
  const int64_t keep = held / 2;
  {
    RawDb db(DbPath(kMdd));
    db.Exec(absl::StrCat(
        "DROP TRIGGER IF EXISTS audit_log_no_delete;"
        "DELETE FROM audit_log WHERE idx >= ",
        keep,
        "; DELETE FROM audit_sent_checkpoints;"
        "INSERT OR REPLACE INTO node_settings (name, value) VALUES "
        "('restore.pending', 'mdd-test-backup.db');"
        "CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log BEGIN "
        "SELECT RAISE(ABORT, 'audit records are append-only'); END;"));
  }
  StartNode(kMdd);

  v1::VerifyAuditResponse result;
  const absl::Time recovered_by = absl::Now() + absl::Seconds(20);
  while (absl::Now() < recovered_by) {
    result = Verify(kMdd);
    if (result.ok()) break;
    absl::SleepFor(absl::Milliseconds(200));
  }
  EXPECT_TRUE(result.ok()) << result.DebugString();
  bool matched = false;
  for (const auto& check : result.checkpoints()) {
    if (check.holder() == kCusco) {
      matched = check.result() == v1::CHECKPOINT_RESULT_MATCHES;
      EXPECT_LT(check.length(), held);
    }
  }
  EXPECT_TRUE(matched) << result.DebugString();
  {
    RawDb db(DbPath(kMdd));
    // The restored record directly follows the backup's chain, once.
    EXPECT_EQ(db.Int("SELECT count(*) FROM audit_log WHERE method = "
                     "'Admin.Restore' AND subject = 'mdd-test-backup.db'"),
              1);
    EXPECT_EQ(db.Int("SELECT idx FROM audit_log WHERE method = "
                     "'Admin.Restore'"),
              keep);
  }
  // The verification above can succeed as soon as the peer took the declared
  // checkpoint, a moment before recovery records that it has completed.
  int64_t pending_length = -1;
  const absl::Time completed_by = absl::Now() + absl::Seconds(10);
  while (absl::Now() < completed_by) {
    RawDb db(DbPath(kMdd));
    pending_length = db.Int(
        "SELECT length(value) FROM node_settings WHERE name = "
        "'restore.pending'");
    if (pending_length == 0) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_EQ(pending_length, 0) << "the recovery never recorded completion";
  {
    RawDb db(DbPath(kCusco));
    // The checkpoint it held then (at least the one seen above) is kept.
    EXPECT_EQ(db.Int("SELECT count(*) FROM node_settings WHERE name LIKE "
                     "'audit.superseded_checkpoint.madre-de-dios.%'"),
              1);
  }
}

}  // namespace
}  // namespace ruta
