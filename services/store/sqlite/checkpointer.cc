#include "sqlite/checkpointer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "ruta/common/status_macros.h"
#include "spdlog/spdlog.h"

namespace ruta::store::sqlite_internal {

absl::StatusOr<std::unique_ptr<Checkpointer>> Checkpointer::Start(
    Connection& writer, const CheckpointerOptions& options,
    absl::Duration busy_timeout) {
  if (options.start_pages < 1 || options.limit_pages < options.start_pages) {
    return absl::InvalidArgumentError(
        "sqlite: checkpoint thresholds must be >= 1, the limit at least the "
        "start");
  }
  RUTA_ASSIGN_OR_RETURN(
      std::unique_ptr<Connection> own,
      Connection::Open(writer.path(), SQLITE_OPEN_READWRITE, busy_timeout));
  // A checkpoint syncs according to the connection that makes it.
  RUTA_RETURN_IF_ERROR(own->Exec("PRAGMA synchronous=FULL", "set synchronous"));
  std::unique_ptr<Checkpointer> checkpointer(
      new Checkpointer(writer, options, std::move(own)));
  sqlite3_wal_hook(writer.db(), &Checkpointer::OnCommit, checkpointer.get());
  checkpointer->thread_ = std::thread([c = checkpointer.get()] { c->Run(); });
  return checkpointer;
}

Checkpointer::Checkpointer(Connection& writer, CheckpointerOptions options,
                           std::unique_ptr<Connection> own)
    : writer_(writer), options_(options), own_(std::move(own)) {}

Checkpointer::~Checkpointer() {
  sqlite3_wal_hook(writer_.db(), nullptr, nullptr);
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  own_.reset();
}

int Checkpointer::OnCommit(void* self, sqlite3* db, const char* name,
                           int pages) {
  auto* checkpointer = static_cast<Checkpointer*>(self);
  if (pages >= checkpointer->options_.limit_pages) {
    // Past the limit: the writer completes the checkpoint, so that the WAL
    // restarts from its beginning at the next write.
    absl::MutexLock checkpointing(&checkpointer->checkpoint_mu_);
    int rc = sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE,
                                       nullptr, nullptr);
    if (rc != SQLITE_OK) {
      // The commit stands; the next commit tries again.
      spdlog::warn("store: the writer's checkpoint failed: {}",
                   std::string(SqliteError(db, rc, "checkpoint").message()));
    }
    absl::MutexLock lock(&checkpointer->mu_);
    ++checkpointer->writer_checkpoints_;
    return SQLITE_OK;
  }
  if (pages >= checkpointer->options_.start_pages) {
    absl::MutexLock lock(&checkpointer->mu_);
    checkpointer->wanted_ = true;
  }
  return SQLITE_OK;
}

void Checkpointer::Run() {
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      auto ready = [this] {
        mu_.AssertHeld();
        return wanted_ || stopping_;
      };
      mu_.Await(absl::Condition(&ready));
      if (stopping_) return;
      wanted_ = false;
    }
    int rc = SQLITE_OK;
    {
      absl::MutexLock checkpointing(&checkpoint_mu_);
      rc = sqlite3_wal_checkpoint_v2(
          own_->db(), "main", SQLITE_CHECKPOINT_PASSIVE, nullptr, nullptr);
    }
    if (rc != SQLITE_OK) {
      // SQLITE_BUSY cannot happen (PASSIVE, and the writer's own checkpoint
      // waits for this one); anything else is logged and retried at the
      // next commit past the threshold.
      spdlog::warn("store: background checkpoint failed: {}",
                   std::string(own_->Error(rc, "checkpoint").message()));
    }
    absl::MutexLock lock(&mu_);
    ++background_checkpoints_;
  }
}

int Checkpointer::background_checkpoints() const {
  absl::MutexLock lock(&mu_);
  return background_checkpoints_;
}

int Checkpointer::writer_checkpoints() const {
  absl::MutexLock lock(&mu_);
  return writer_checkpoints_;
}

}  // namespace ruta::store::sqlite_internal
