// Online backup (Admin.Backup, `ruta admin backup`) and offline restore
// (`ruta-node restore`): a backup taken while offices write restores into a
// store that opens, passes SQLite's integrity check and the audit chain
// verification, and holds a consistent prefix of what was written; the
// refusals of both; and the CLI end to end against a real node process.
#include <openssl/sha.h>
#include <signal.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/backup/backup_file.h"
#include "ruta/core/audit.h"
#include "ruta/node/config.h"
#include "ruta/node/restore.h"
#include "ruta/store/store.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::MakeChannel;

constexpr char kRegion[] = "cusco";

std::string RequestId(int writer, int i) {
  return absl::StrFormat("00000000-0000-4000-8%03d-%012d", writer % 1000, i);
}

// An 8-digit DNI for writer `w`, case `i` (distinct for every pair).
std::string Dni(int w, int i) {
  return absl::StrFormat("%d%07d", 4 + w % 5, i % 10000000);
}

std::string Hex(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

std::string Sha256OfFile(const std::string& path) {
  const std::string bytes = testing::ReadFile(path);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
         digest);
  return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
}

std::unique_ptr<v1::Admin::Stub> AdminStub(const std::string& address) {
  return v1::Admin::NewStub(MakeChannel(
      address, DevPki::Get().Leaf(kRegion, "admin", "operator"), kRegion));
}

std::unique_ptr<v1::CaseOffice::Stub> OfficeStub(const std::string& address) {
  return v1::CaseOffice::NewStub(
      MakeChannel(address, DevPki::Get().Office(kRegion), kRegion));
}

ruta::node::v1::NodeConfig LoadConfigOf(const std::string& data_dir) {
  absl::StatusOr<ruta::node::v1::NodeConfig> config =
      ruta::node::LoadConfig(data_dir + "/node.json");
  EXPECT_TRUE(config.ok()) << config.status();
  return config.ok() ? *config : ruta::node::v1::NodeConfig();
}

// What a store holds, as far as the schema lets a test check consistency.
struct StoreContents {
  std::map<std::string, int64_t> case_versions;  // case_id -> version
  // Successful mutations recorded in the audit, per case id.
  std::map<std::string, int64_t> audited_mutations;
  std::set<std::string> opened;  // subjects of OK CaseOffice.OpenCase
  core::ChainVerification chain;
  std::optional<std::string> restore_pending;
};

StoreContents ReadContents(const std::string& db_path) {
  StoreContents contents;
  store::SqliteOptions options;
  options.path = db_path;
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::OpenSqliteStore(options);
  EXPECT_TRUE(store.ok()) << store.status();
  if (!store.ok()) return contents;
  absl::Status status = (*store)->ReadSync([&](store::ReadTxn& txn) {
    std::string after;
    for (;;) {
      absl::StatusOr<store::CasePage> page =
          txn.ListCases(store::CaseFilter(), after, 500);
      if (!page.ok()) return page.status();
      for (const core::Case& c : page->cases) {
        contents.case_versions[c.case_id] = c.version;
      }
      if (page->next_after.empty()) break;
      after = page->next_after;
    }
    for (int64_t from = 0;;) {
      absl::StatusOr<std::vector<store::AuditRecord>> records =
          txn.ScanAudit(from, 1000);
      if (!records.ok()) return records.status();
      for (const store::AuditRecord& r : *records) {
        if (r.outcome != 0 || r.subject.empty()) continue;
        if (r.method == "CaseOffice.OpenCase")
          contents.opened.insert(r.subject);
        if (r.method == "CaseOffice.OpenCase" ||
            r.method == "CaseOffice.UpdateStage") {
          ++contents.audited_mutations[r.subject];
        }
      }
      if (records->size() < 1000) break;
      from = records->back().index + 1;
    }
    absl::StatusOr<core::ChainVerification> chain =
        core::VerifyAuditChain(txn, {});
    if (!chain.ok()) return chain.status();
    contents.chain = *chain;
    absl::StatusOr<std::optional<std::string>> pending =
        txn.GetSetting(ruta::federation::kRestorePendingSetting);
    if (!pending.ok()) return pending.status();
    contents.restore_pending = *pending;
    return absl::OkStatus();
  });
  EXPECT_TRUE(status.ok()) << status;
  return contents;
}

TEST(BackupTest, BackupUnderLoadRestoresAConsistentPrefix) {
  testing::NodeSetup setup;
  setup.region = kRegion;
  setup.data_dir = testing::MakeTempDir("backup-load");
  setup.backups = true;
  std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  const std::string address = node->address();

  // Writers: each opens cases and moves every other one to the next stage
  // (a second version), as fast as the node takes them.
  std::atomic<bool> stop{false};
  std::atomic<int> opened{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 3; ++w) {
    writers.emplace_back([&, w] {
      auto office = OfficeStub(address);
      for (int i = 0; !stop.load(); ++i) {
        v1::OpenCaseResponse response;
        grpc::Status status = office->OpenCase(
            ContextWithDeadline().get(),
            testing::VictimOpenCaseRequest(RequestId(w, 2 * i), Dni(w, i)),
            &response);
        if (!status.ok()) {
          ADD_FAILURE() << status.error_message();
          return;
        }
        ++opened;
        if (i % 2 == 0) {
          v1::UpdateStageRequest update;
          update.set_request_id(RequestId(w, 2 * i + 1));
          update.set_case_id(response.case_().case_id());
          update.set_stage(v1::STAGE_IMMEDIATE_PROTECTION);
          update.set_expected_version(1);
          v1::UpdateStageResponse updated;
          status = office->UpdateStage(ContextWithDeadline().get(), update,
                                       &updated);
          EXPECT_TRUE(status.ok()) << status.error_message();
        }
      }
    });
  }
  while (opened.load() < 60) absl::SleepFor(absl::Milliseconds(5));

  auto admin = AdminStub(address);
  v1::BackupRequest request;
  request.set_request_id("0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b");
  v1::BackupResponse response;
  const int opened_before = opened.load();
  grpc::Status status = admin->Backup(
      ContextWithDeadline(absl::Seconds(120)).get(), request, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const int opened_after = opened.load();
  // Writers go on after the backup.
  while (opened.load() < opened_after + 30) {
    absl::SleepFor(absl::Milliseconds(5));
  }
  stop = true;
  for (std::thread& t : writers) t.join();

  const std::string backups = setup.data_dir + "/backups";
  const std::string file = backups + "/" + response.file_name();
  EXPECT_THAT(response.file_name(),
              ::testing::MatchesRegex("ruta-cusco-[0-9]{8}T[0-9]{6}Z\\.rbk"));
  EXPECT_EQ(response.size_bytes(),
            static_cast<int64_t>(testing::ReadFile(file).size()));
  EXPECT_EQ(response.sha256(), Sha256OfFile(file));
  EXPECT_GT(response.created_at().seconds(), 0);
  struct stat st;
  ASSERT_EQ(::stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  // A retry of the same request: the same file, no second backup.
  v1::BackupResponse again;
  status = admin->Backup(ContextWithDeadline(absl::Seconds(60)).get(), request,
                         &again);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(again.file_name(), response.file_name());
  EXPECT_EQ(again.sha256(), response.sha256());
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(backups)) {
    files.push_back(entry.path().filename().string());
  }
  EXPECT_THAT(files, ::testing::ElementsAre(response.file_name()));

  const std::string db = setup.data_dir + "/cusco.db";
  node.reset();  // stopped: a restore is offline
  const StoreContents live = ReadContents(db);

  const ruta::node::v1::NodeConfig config = LoadConfigOf(setup.data_dir);
  ruta::node::RestoreOptions options;
  options.backup_file = file;
  options.now = absl::FromUnixSeconds(1800000000);
  absl::StatusOr<ruta::node::RestoreReport> report =
      ruta::node::RestoreBackup(config, options);
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_EQ(report->region, "cusco");
  EXPECT_EQ(report->backend, "sqlite");
  ASSERT_FALSE(report->moved_aside.empty());
  EXPECT_EQ(report->moved_aside[0], db + ".before-restore-20270115T080000Z");

  const StoreContents restored = ReadContents(db);
  // The audit chain of the restored store verifies.
  EXPECT_TRUE(restored.chain.ok) << restored.chain.problem;
  EXPECT_GT(restored.chain.records_checked, 0);
  EXPECT_EQ(restored.restore_pending, response.file_name());
  EXPECT_FALSE(live.restore_pending.has_value());
  // A prefix: at least what was acknowledged before the backup was asked,
  // at most what was acknowledged when it answered, less than the end.
  const int cases = static_cast<int>(restored.case_versions.size());
  EXPECT_GE(cases, opened_before);
  EXPECT_LE(cases, opened_after + 3);
  EXPECT_LT(cases, static_cast<int>(live.case_versions.size()));
  // Every case version has its audit record(s), and every audited
  // mutation its case version, in the restored store.
  for (const auto& [case_id, version] : restored.case_versions) {
    EXPECT_EQ(restored.audited_mutations.count(case_id) > 0
                  ? restored.audited_mutations.at(case_id)
                  : 0,
              version)
        << case_id;
    // Each restored case is the live case or an earlier version of it.
    ASSERT_TRUE(live.case_versions.count(case_id) > 0) << case_id;
    EXPECT_LE(version, live.case_versions.at(case_id));
  }
  for (const auto& [case_id, count] : restored.audited_mutations) {
    ASSERT_TRUE(restored.case_versions.count(case_id) > 0) << case_id;
    EXPECT_EQ(restored.case_versions.at(case_id), count);
  }
  // The restored audit chain is a prefix of the live one.
  EXPECT_LE(restored.chain.chain_length, live.chain.chain_length);

  // The node starts on the restored store, and its audit verifies over gRPC.
  node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  v1::VerifyAuditResponse verified;
  status = AdminStub(node->address())
               ->VerifyAudit(ContextWithDeadline().get(),
                             v1::VerifyAuditRequest(), &verified);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_TRUE(verified.ok()) << verified.problem();
}

TEST(BackupTest, RefusalsAreAuditedAndSayWhatToFix) {
  testing::NodeSetup setup;
  setup.region = kRegion;
  std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  v1::BackupRequest request;
  request.set_request_id("0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b");
  v1::BackupResponse response;
  grpc::Status status =
      AdminStub(node->address())
          ->Backup(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("backup.directory"));
  EXPECT_THAT(status.error_message(), HasSubstr("backup.key_file"));

  request.set_request_id("not-a-uuid");
  status = AdminStub(node->address())
               ->Backup(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));

  // An office may not make backups.
  auto office_admin = v1::Admin::NewStub(
      MakeChannel(node->address(), DevPki::Get().Office(kRegion), kRegion));
  status =
      office_admin->Backup(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);

  // Each call is one audit record of Admin.Backup, with its outcome.
  const std::string db = node->data_dir() + "/cusco.db";
  node.reset();
  store::SqliteOptions options;
  options.path = db;
  absl::StatusOr<std::unique_ptr<store::Store>> store =
      store::OpenSqliteStore(options);
  ASSERT_TRUE(store.ok()) << store.status();
  std::vector<int32_t> outcomes;
  ASSERT_TRUE((*store)
                  ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                    absl::StatusOr<std::vector<store::AuditRecord>> records =
                        txn.ScanAudit(0, 10000);
                    if (!records.ok()) return records.status();
                    for (const store::AuditRecord& r : *records) {
                      if (r.method == "Admin.Backup") {
                        outcomes.push_back(r.outcome);
                      }
                    }
                    return absl::OkStatus();
                  })
                  .ok());
  EXPECT_THAT(outcomes,
              ::testing::UnorderedElementsAre(
                  static_cast<int32_t>(absl::StatusCode::kFailedPrecondition),
                  static_cast<int32_t>(absl::StatusCode::kInvalidArgument),
                  static_cast<int32_t>(absl::StatusCode::kPermissionDenied)));
}

// The restore refuses a backup of another region, of a newer schema, a
// damaged file and a database in use, and then changes nothing.
TEST(BackupTest, RestoreRefusals) {
  testing::NodeSetup setup;
  setup.region = kRegion;
  setup.data_dir = testing::MakeTempDir("backup-refusals");
  setup.backups = true;
  std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  v1::BackupRequest request;
  request.set_request_id("0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6c");
  v1::BackupResponse response;
  grpc::Status status =
      AdminStub(node->address())
          ->Backup(ContextWithDeadline(absl::Seconds(60)).get(), request,
                   &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const std::string file = setup.data_dir + "/backups/" + response.file_name();
  const ruta::node::v1::NodeConfig config = LoadConfigOf(setup.data_dir);
  ruta::node::RestoreOptions options;
  options.backup_file = file;

  // The node is running: refused.
  absl::StatusOr<ruta::node::RestoreReport> report =
      ruta::node::RestoreBackup(config, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("stop the node"));
  node.reset();

  const std::string db = setup.data_dir + "/cusco.db";
  const std::string before = testing::ReadFile(db);
  auto unchanged = [&] {
    EXPECT_EQ(testing::ReadFile(db), before);
    for (const auto& entry :
         std::filesystem::directory_iterator(setup.data_dir)) {
      const std::string name = entry.path().filename().string();
      EXPECT_FALSE(absl::StrContains(name, "restore")) << name;
    }
  };

  // Another region's configuration.
  ruta::node::v1::NodeConfig other = config;
  other.set_region("madre-de-dios");
  report = ruta::node::RestoreBackup(other, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(),
              HasSubstr("backup of region cusco, but the configuration is of "
                        "region madre-de-dios"));
  unchanged();

  // A damaged file.
  std::string bytes = testing::ReadFile(file);
  bytes[bytes.size() / 2] ^= 1;
  const std::string damaged = setup.data_dir + "/damaged.rbk";
  std::ofstream(damaged, std::ios::binary) << bytes;
  options.backup_file = damaged;
  report = ruta::node::RestoreBackup(config, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(report.status().message(), HasSubstr(damaged));
  unchanged();

  // A truncated one.
  std::ofstream(damaged, std::ios::binary | std::ios::trunc)
      << testing::ReadFile(file).substr(0, bytes.size() - 100);
  report = ruta::node::RestoreBackup(config, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(report.status().message(), HasSubstr("truncated"));
  unchanged();

  // The wrong key.
  const std::string wrong_key = setup.data_dir + "/wrong.key";
  std::ofstream(wrong_key) << std::string(64, 'a') << "\n";
  ::chmod(wrong_key.c_str(), 0600);
  options.backup_file = file;
  options.key_file = wrong_key;
  report = ruta::node::RestoreBackup(config, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(report.status().message(), HasSubstr("wrong key"));
  unchanged();

  // A backup made by a newer schema than this binary's.
  options.key_file = "";
  absl::StatusOr<backup::BackupKey> key =
      backup::BackupKey::LoadFromFile(config.backup().key_file());
  ASSERT_TRUE(key.ok());
  backup::BackupHeader header;
  header.region = kRegion;
  header.schema_version = store::SqliteSchemaVersion() + 1;
  header.created_at = absl::Now();
  std::string newer;
  auto writer =
      backup::BackupWriter::Create(*key, header, [&newer](absl::string_view b) {
        newer.append(b.data(), b.size());
        return absl::OkStatus();
      });
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  const std::string newer_file = setup.data_dir + "/newer.rbk";
  std::ofstream(newer_file, std::ios::binary) << newer;
  options.backup_file = newer_file;
  report = ruta::node::RestoreBackup(config, options);
  ASSERT_EQ(report.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(report.status().message(), HasSubstr("newer than this"));
  unchanged();
}

// `ruta admin backup` against a real node process, then `ruta-node restore`.
TEST(BackupCliTest, BackupAndRestoreEndToEnd) {
  const DevPki& pki = DevPki::Get();
  testing::NodeSetup setup;
  setup.region = kRegion;
  setup.data_dir = testing::MakeTempDir("backup-cli");
  setup.backups = true;
  const std::string config = testing::WriteNodeConfig(pki, setup);
  auto node = std::make_unique<testing::BackgroundProcess>(
      std::vector<std::string>{testing::NodeBinary(), "--config", config},
      setup.data_dir + "/node");
  const int port =
      testing::WaitForPortFile(setup.data_dir + "/port", absl::Seconds(20));
  ASSERT_GT(port, 0) << node->Stderr();
  const std::string address = absl::StrCat("127.0.0.1:", port);
  {
    auto office = OfficeStub(address);
    v1::OpenCaseResponse opened;
    grpc::Status status = office->OpenCase(
        ContextWithDeadline().get(),
        testing::VictimOpenCaseRequest(RequestId(9, 1), "41234567"), &opened);
    ASSERT_TRUE(status.ok()) << status.error_message();
  }
  const testing::KeyPair admin = pki.Leaf(kRegion, "admin", "operator");
  const std::vector<std::string> cli = {
      testing::CliBinary(), "--node",          address,        "--cert",
      admin.cert_file,      "--key",           admin.key_file, "--ca",
      pki.TrustBundle(),    "--server-region", kRegion};
  std::vector<std::string> argv = cli;
  for (const char* a : {"admin", "backup", "--deadline", "300"}) {
    argv.push_back(a);
  }
  testing::ProcessResult result = testing::RunProcess(argv, absl::Seconds(120));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_search(
      result.out, m, std::regex("file_name +(ruta-cusco-\\S+\\.rbk)")))
      << result.out;
  const std::string file = setup.data_dir + "/backups/" + m[1].str();
  EXPECT_THAT(result.out,
              HasSubstr(absl::StrCat(testing::ReadFile(file).size())));
  EXPECT_THAT(result.out, HasSubstr(Hex(Sha256OfFile(file))));

  // --deadline out of bounds is refused before calling the node.
  argv = cli;
  for (const char* a : {"admin", "backup", "--deadline", "0"}) {
    argv.push_back(a);
  }
  result = testing::RunProcess(argv, absl::Seconds(60));
  EXPECT_EQ(result.exit_code, 2) << result.err;
  EXPECT_THAT(result.err, HasSubstr("--deadline"));

  // Restore while the node runs: refused; after it stopped: restored.
  std::vector<std::string> restore = {
      testing::NodeBinary(), "restore", "--config", config, "--backup", file};
  result = testing::RunProcess(restore, absl::Seconds(60));
  EXPECT_EQ(result.exit_code, 1);
  EXPECT_THAT(result.err, HasSubstr("stop the node"));
  ASSERT_EQ(node->Stop(SIGTERM, absl::Seconds(20)), 0) << node->Stderr();
  result = testing::RunProcess(restore, absl::Seconds(60));
  ASSERT_EQ(result.exit_code, 0) << result.out << result.err;
  EXPECT_THAT(result.out, HasSubstr("restored " + file));
  EXPECT_THAT(result.out, HasSubstr("before-restore-"));

  result = testing::RunProcess(
      {testing::NodeBinary(), "restore", "--config", config},
      absl::Seconds(20));
  EXPECT_EQ(result.exit_code, 2);
  EXPECT_THAT(result.err, HasSubstr("--backup"));
}

}  // namespace
}  // namespace ruta
