#include "fault_support.h"

#include <signal.h>
#include <sqlite3.h>

#include <cstdio>
#include <cstdlib>
#include <random>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ruta/testing/pki.h"

namespace ruta::fault {

NodeProcess::NodeProcess(std::string region, int port, std::string peer_region,
                         std::string peer_address, const RelayTimings& timings,
                         const std::string& database)
    : region_(std::move(region)), port_(port) {
  data_dir_ = testing::MakeTempDir(absl::StrCat("fault-", region_));
  testing::NodeSetup setup;
  setup.region = region_;
  setup.data_dir = data_dir_;
  setup.listen_address = address();
  setup.peers = {{std::move(peer_region), std::move(peer_address)}};
  setup.relay_initial_backoff_ms = timings.initial_backoff_ms;
  setup.relay_max_backoff_ms = timings.max_backoff_ms;
  setup.relay_ack_timeout_ms = timings.ack_timeout_ms;
  setup.relay_max_batch_events = timings.max_batch_events;
  setup.relay_takeover_poll_ms = timings.takeover_poll_ms;
  setup.database = database;
  setup.checkpoint_interval_seconds = timings.checkpoint_interval_seconds;
  setup.backups = true;  // <data_dir>/backups, a fresh key
  config_ = testing::WriteNodeConfig(testing::DevPki::Get(), setup);
  admin_ = v1::Admin::NewStub(testing::MakeChannel(
      address(), testing::DevPki::Get().Leaf(region_, "admin", "operator"),
      region_));
}

NodeProcess::~NodeProcess() {
  if (process_ != nullptr) process_->Stop(SIGKILL, absl::Seconds(5));
}

std::string NodeProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

std::string NodeProcess::database() const {
  return absl::StrCat(data_dir_, "/", region_, ".db");
}

absl::Status NodeProcess::Start() {
  if (process_ != nullptr && process_->Running()) {
    return absl::FailedPreconditionError(
        absl::StrCat(region_, " is already running"));
  }
  const std::string port_file = data_dir_ + "/port";
  std::remove(port_file.c_str());
  ++starts_;
  process_ = std::make_unique<testing::BackgroundProcess>(
      std::vector<std::string>{testing::NodeBinary(), "--config", config_},
      absl::StrCat(data_dir_, "/node-", starts_));
  // Polls the port file, giving up early if the process died.
  const absl::Time deadline = absl::Now() + absl::Seconds(30);
  while (absl::Now() < deadline) {
    if (testing::WaitForPortFile(port_file, absl::Milliseconds(100)) > 0) {
      return absl::OkStatus();
    }
    if (!process_->Running()) break;
  }
  return absl::UnavailableError(absl::StrCat(
      region_, " did not start (run ", starts_, "):\n", process_->Stderr()));
}

void NodeProcess::Kill() {
  if (process_ != nullptr) process_->Stop(SIGKILL, absl::Seconds(10));
}

int NodeProcess::Terminate(absl::Duration grace) {
  if (process_ == nullptr) return -1;
  const int code = process_->Stop(SIGTERM, grace);
  if (process_->Running()) process_->Stop(SIGKILL, absl::Seconds(10));
  return code;
}

bool NodeProcess::Running() {
  return process_ != nullptr && process_->Running();
}

std::string NodeProcess::LogTail(size_t bytes) const {
  std::string out;
  for (int run = 1; run <= starts_; ++run) {
    const std::string path = absl::StrCat(data_dir_, "/node-", run, ".err");
    std::string log = testing::ReadFile(path);
    if (log.size() > bytes) log = "..." + log.substr(log.size() - bytes);
    absl::StrAppend(&out, "--- ", path, "\n", log);
  }
  return out;
}

std::vector<std::string> NodeProcess::LogLines(const std::string& text) const {
  std::vector<std::string> lines;
  for (int run = 1; run <= starts_; ++run) {
    for (const char* stream : {".out", ".err"}) {
      const std::string log =
          testing::ReadFile(absl::StrCat(data_dir_, "/node-", run, stream));
      for (absl::string_view line : absl::StrSplit(log, '\n')) {
        if (absl::StrContains(line, text)) lines.emplace_back(line);
      }
    }
  }
  return lines;
}

absl::StatusOr<v1::RelayStatus> NodeProcess::RelayStatus() {
  v1::GetRelayStatusResponse response;
  auto context = testing::ContextWithDeadline(absl::Seconds(5));
  context->set_wait_for_ready(true);
  grpc::Status status = admin_->GetRelayStatus(
      context.get(), v1::GetRelayStatusRequest(), &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        status.error_message());
  }
  if (response.peers_size() != 1) {
    return absl::InternalError(absl::StrCat(
        region_, " reports ", response.peers_size(), " peers, not 1"));
  }
  return response.peers(0);
}

absl::StatusOr<std::string> NodeProcess::Backup(const std::string& request_id) {
  v1::BackupRequest request;
  request.set_request_id(request_id);
  v1::BackupResponse response;
  auto context = testing::ContextWithDeadline(absl::Seconds(60));
  grpc::Status status = admin_->Backup(context.get(), request, &response);
  if (!status.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                        absl::StrCat("Admin.Backup: ", status.error_message()));
  }
  return absl::StrCat(data_dir_, "/backups/", response.file_name());
}

absl::Status NodeProcess::Restore(const std::string& backup_file) {
  testing::ProcessResult result =
      testing::RunProcess({testing::NodeBinary(), "restore", "--config",
                           config_, "--backup", backup_file},
                          absl::Seconds(120));
  if (result.exit_code != 0) {
    return absl::InternalError(absl::StrCat("ruta-node restore exited ",
                                            result.exit_code, ": ", result.err,
                                            result.out));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::RelayStatus> WaitDrained(NodeProcess& node,
                                            absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  absl::StatusOr<v1::RelayStatus> status;
  while (true) {
    status = node.RelayStatus();
    if (status.ok() && status->connected() &&
        status->acknowledged_sequence() == status->last_sequence()) {
      return status;
    }
    if (absl::Now() > deadline) return status;
    absl::SleepFor(absl::Milliseconds(20));
  }
}

absl::StatusOr<std::unique_ptr<Database>> Database::Open(
    const std::string& path) {
  sqlite3* db = nullptr;
  const int rc =
      sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  if (rc != SQLITE_OK) {
    std::string message = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return absl::UnavailableError(absl::StrCat("open ", path, ": ", message));
  }
  sqlite3_busy_timeout(db, 5000);
  return std::unique_ptr<Database>(new Database(db));
}

Database::~Database() { sqlite3_close(db_); }

absl::StatusOr<std::vector<std::vector<std::string>>> Database::Query(
    const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v2(db_, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK) {
    return absl::InternalError(
        absl::StrCat("prepare ", sql, ": ", sqlite3_errmsg(db_)));
  }
  std::vector<std::vector<std::string>> rows;
  int rc;
  while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
    std::vector<std::string> row;
    const int columns = sqlite3_column_count(stmt);
    for (int i = 0; i < columns; ++i) {
      if (sqlite3_column_type(stmt, i) == SQLITE_NULL) {
        row.emplace_back("<null>");
        continue;
      }
      const auto* text =
          reinterpret_cast<const char*>(sqlite3_column_text(stmt, i));
      row.emplace_back(text,
                       static_cast<size_t>(sqlite3_column_bytes(stmt, i)));
    }
    rows.push_back(std::move(row));
  }
  absl::Status status = absl::OkStatus();
  if (rc != SQLITE_DONE) {
    status = absl::InternalError(
        absl::StrCat("step ", sql, ": ", sqlite3_errmsg(db_)));
  }
  sqlite3_finalize(stmt);
  if (!status.ok()) return status;
  return rows;
}

absl::StatusOr<int64_t> Database::Int(const std::string& sql) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = Query(sql);
  if (!rows.ok()) return rows.status();
  int64_t value = 0;
  if (rows->empty() || rows->front().empty() ||
      !absl::SimpleAtoi(rows->front().front(), &value)) {
    return 0;
  }
  return value;
}

uint64_t SeedFrom(const char* name) {
  const char* text = std::getenv(name);
  uint64_t seed = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &seed)) return seed;
  return std::random_device()() % 1000000;
}

int IntFromEnv(const char* name, int fallback) {
  const char* text = std::getenv(name);
  int value = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &value) && value > 0) {
    return value;
  }
  return fallback;
}

}  // namespace ruta::fault
