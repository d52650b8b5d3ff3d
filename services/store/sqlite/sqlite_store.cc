// The SQLite implementation of ruta::store::Store: one writer thread that
// group-commits, a pool of reader threads, each thread with its own
// connection. See ../README.md.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ruta/common/status_macros.h"
#include "ruta/store/store.h"
#include "sqlite/connection.h"
#include "sqlite/migrations.h"
#include "sqlite/txn.h"

namespace ruta::store {
namespace {

using sqlite_internal::Connection;
using sqlite_internal::SqliteReadTxn;
using sqlite_internal::SqliteWriteTxn;

using ReadFn = std::function<absl::Status(ReadTxn&)>;
using WriteFn = std::function<absl::Status(WriteTxn&)>;
using DoneFn = std::function<void(absl::Status)>;

class SqliteStore final : public Store {
 public:
  SqliteStore(const SqliteOptions& options, std::unique_ptr<Connection> writer,
              std::vector<std::unique_ptr<Connection>> readers)
      : max_group_size_(static_cast<size_t>(options.max_group_size)),
        writer_connection_(std::move(writer)),
        reader_connections_(std::move(readers)) {
    writer_thread_ = std::thread([this] { WriterLoop(); });
    for (auto& connection : reader_connections_) {
      Connection* c = connection.get();
      reader_threads_.emplace_back([this, c] { ReaderLoop(*c); });
    }
  }

  // Completes every queued read and write, then closes the connections (the
  // writer's last, so that it checkpoints the WAL into the database file).
  ~SqliteStore() override {
    // The writer first: `done` callbacks of the last writes may still queue
    // reads. Writes queued by `done` callbacks of reads after the writer has
    // left fail with UNAVAILABLE.
    {
      absl::MutexLock lock(&write_mu_);
      writer_stopping_ = true;
      write_cv_.SignalAll();
    }
    writer_thread_.join();
    {
      absl::MutexLock lock(&read_mu_);
      readers_stopping_ = true;
      read_cv_.SignalAll();
    }
    for (std::thread& thread : reader_threads_) thread.join();
    reader_connections_.clear();
    writer_connection_.reset();
  }

  void Read(ReadFn fn, DoneFn done) override {
    {
      absl::MutexLock lock(&read_mu_);
      if (!readers_exited_) {
        read_queue_.push_back(ReadItem{std::move(fn), std::move(done)});
        read_cv_.Signal();
        return;
      }
    }
    done(absl::UnavailableError("sqlite: the store is closed"));
  }

  void Write(WriteFn fn, DoneFn done) override {
    {
      absl::MutexLock lock(&write_mu_);
      if (!writer_exited_) {
        write_queue_.push_back(WriteItem{std::move(fn), std::move(done)});
        write_cv_.Signal();
        return;
      }
    }
    done(absl::UnavailableError("sqlite: the store is closed"));
  }

 private:
  struct WriteItem {
    WriteFn fn;
    DoneFn done;
  };
  struct ReadItem {
    ReadFn fn;
    DoneFn done;
  };

  void WriterLoop() {
    SqliteWriteTxn txn(*writer_connection_);
    std::vector<WriteItem> group;
    group.reserve(max_group_size_);
    while (true) {
      {
        absl::MutexLock lock(&write_mu_);
        while (write_queue_.empty() && !writer_stopping_) {
          write_cv_.Wait(&write_mu_);
        }
        if (write_queue_.empty()) {  // Stopping, and drained.
          writer_exited_ = true;
          return;
        }
        // Everything that queued up while the previous group was committing
        // goes into this group: that is what shares one fsync among
        // concurrent writers.
        size_t n = std::min(write_queue_.size(), max_group_size_);
        for (size_t i = 0; i < n; ++i) {
          group.push_back(std::move(write_queue_.front()));
          write_queue_.pop_front();
        }
      }
      CommitGroup(txn, group);
      group.clear();
    }
  }

  // One transaction for the whole group, one savepoint per item. No `done` is
  // called before COMMIT has returned.
  void CommitGroup(SqliteWriteTxn& txn, std::vector<WriteItem>& group) {
    Connection& connection = *writer_connection_;
    // failed[i]: item i's own function failed, with status results[i]. The
    // other items all get `group_status`.
    std::vector<bool> failed(group.size(), false);
    std::vector<absl::Status> results(group.size());

    absl::Status group_status = connection.Run("BEGIN IMMEDIATE");
    for (size_t i = 0; group_status.ok() && i < group.size(); ++i) {
      group_status = connection.Run("SAVEPOINT item");
      if (!group_status.ok()) break;
      absl::Status status = group[i].fn(txn);
      if (!status.ok()) {
        failed[i] = true;
        results[i] = std::move(status);
      }
      if (!connection.InTransaction()) {
        // SQLite rolled back the whole transaction by itself (SQLITE_FULL,
        // SQLITE_IOERR, SQLITE_NOMEM, ...): every change of the group is gone.
        group_status = absl::AbortedError(
            "sqlite: the write transaction was rolled back after a storage "
            "error; nothing of its group was kept");
        break;
      }
      if (failed[i]) {
        group_status = connection.Run("ROLLBACK TO item");
        if (!group_status.ok()) break;
      }
      group_status = connection.Run("RELEASE item");
    }
    if (group_status.ok()) group_status = connection.Run("COMMIT");
    if (!group_status.ok() && connection.InTransaction()) {
      connection.Run("ROLLBACK").IgnoreError();
    }

    for (size_t i = 0; i < group.size(); ++i) {
      group[i].done(failed[i] ? std::move(results[i]) : group_status);
    }
  }

  void ReaderLoop(Connection& connection) {
    SqliteReadTxn txn(connection);
    while (true) {
      ReadItem item;
      {
        absl::MutexLock lock(&read_mu_);
        while (read_queue_.empty() && !readers_stopping_) {
          read_cv_.Wait(&read_mu_);
        }
        if (read_queue_.empty()) {
          readers_exited_ = true;
          return;
        }
        item = std::move(read_queue_.front());
        read_queue_.pop_front();
      }
      // Under WAL, a transaction reads one snapshot from its first read to
      // its end, whatever the writer commits meanwhile.
      absl::Status status = connection.Run("BEGIN");
      if (status.ok()) {
        status = item.fn(txn);
        if (status.ok()) status = connection.Run("COMMIT");
      }
      if (connection.InTransaction()) connection.Run("ROLLBACK").IgnoreError();
      item.done(std::move(status));
    }
  }

  const size_t max_group_size_;
  std::unique_ptr<Connection> writer_connection_;
  std::vector<std::unique_ptr<Connection>> reader_connections_;

  absl::Mutex write_mu_;
  absl::CondVar write_cv_;
  std::deque<WriteItem> write_queue_ ABSL_GUARDED_BY(write_mu_);
  bool writer_stopping_ ABSL_GUARDED_BY(write_mu_) = false;
  bool writer_exited_ ABSL_GUARDED_BY(write_mu_) = false;

  absl::Mutex read_mu_;
  absl::CondVar read_cv_;
  std::deque<ReadItem> read_queue_ ABSL_GUARDED_BY(read_mu_);
  bool readers_stopping_ ABSL_GUARDED_BY(read_mu_) = false;
  // Set by the first reader thread to leave; the others leave too, since they
  // see the same empty queue.
  bool readers_exited_ ABSL_GUARDED_BY(read_mu_) = false;

  std::thread writer_thread_;
  std::vector<std::thread> reader_threads_;
};

absl::Status ValidateOptions(const SqliteOptions& options) {
  if (options.path.empty()) {
    return absl::InvalidArgumentError("sqlite: the database path is empty");
  }
  if (options.path == ":memory:") {
    return absl::InvalidArgumentError(
        "sqlite: the store needs a database file (WAL and several "
        "connections), not an in-memory database");
  }
  if (options.reader_threads < 1) {
    return absl::InvalidArgumentError("sqlite: reader_threads must be >= 1");
  }
  if (options.max_group_size < 1) {
    return absl::InvalidArgumentError("sqlite: max_group_size must be >= 1");
  }
  return absl::OkStatus();
}

// Creates the database file readable by its owner only if it does not exist
// yet. SQLite gives the -wal and -shm files the mode of the database file.
absl::Status CreatePrivateFile(const std::string& path) {
  std::filesystem::path file(path);
  std::filesystem::path parent = file.parent_path();
  if (parent.empty()) parent = ".";
  std::error_code ec;
  if (!std::filesystem::is_directory(parent, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "sqlite: the directory of the database ", path, " does not exist"));
  }
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd >= 0) {
    ::close(fd);
    return absl::OkStatus();
  }
  int error = errno;
  if (error == EEXIST) return absl::OkStatus();
  std::string message = absl::StrCat("sqlite: cannot create database ", path,
                                     ": ", std::strerror(error));
  if (error == EACCES || error == EPERM || error == EROFS) {
    return absl::PermissionDeniedError(message);
  }
  return absl::InternalError(message);
}

absl::Status ConfigureWriter(Connection& connection) {
  {
    // journal_mode is persistent in the file; the pragma answers the mode in
    // effect, which is not WAL on file systems that cannot support it.
    RUTA_ASSIGN_OR_RETURN(auto stmt,
                          connection.Prepare("PRAGMA journal_mode=WAL"));
    RUTA_ASSIGN_OR_RETURN(bool row, stmt.Step());
    std::string mode = row ? absl::AsciiStrToLower(stmt.ColumnText(0)) : "";
    if (mode != "wal") {
      return absl::InternalError(
          absl::StrCat("sqlite: cannot enable WAL on ", connection.path(),
                       " (journal mode is '", mode, "')"));
    }
  }
  // FULL: in WAL mode, every COMMIT syncs the WAL before returning, so a
  // committed (and acknowledged) write survives power loss.
  RUTA_RETURN_IF_ERROR(
      connection.Exec("PRAGMA synchronous=FULL", "set synchronous"));
  RUTA_RETURN_IF_ERROR(
      connection.Exec("PRAGMA foreign_keys=ON", "set foreign_keys"));
  // Deleted content (erased cases) is overwritten, not left in free pages.
  RUTA_RETURN_IF_ERROR(
      connection.Exec("PRAGMA secure_delete=ON", "set secure_delete"));
  return absl::OkStatus();
}

// Errors of opening name the database file (the only place where a path
// appears in a status; it is configuration, not case data).
absl::Status NameFile(const std::string& path, absl::Status status) {
  if (status.ok() || absl::string_view(status.message()).find(path) !=
                         absl::string_view::npos) {
    return status;
  }
  return absl::Status(status.code(),
                      absl::StrCat("opening ", path, ": ", status.message()));
}

}  // namespace

int64_t SqliteSchemaVersion() {
  auto migrations = sqlite_internal::SqliteMigrations();
  return migrations.empty() ? 0 : migrations.back().version;
}

absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(
    const SqliteOptions& options) {
  RUTA_RETURN_IF_ERROR(ValidateOptions(options));
  RUTA_RETURN_IF_ERROR(CreatePrivateFile(options.path));

  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> writer,
                        Connection::Open(options.path, SQLITE_OPEN_READWRITE,
                                         options.busy_timeout));
  RUTA_RETURN_IF_ERROR(NameFile(options.path, ConfigureWriter(*writer)));
  RUTA_RETURN_IF_ERROR(NameFile(
      options.path, sqlite_internal::ApplyMigrations(
                        *writer, sqlite_internal::SqliteMigrations())));

  std::vector<std::unique_ptr<Connection>> readers;
  for (int i = 0; i < options.reader_threads; ++i) {
    RUTA_ASSIGN_OR_RETURN(std::unique_ptr<Connection> reader,
                          Connection::Open(options.path, SQLITE_OPEN_READONLY,
                                           options.busy_timeout));
    readers.push_back(std::move(reader));
  }
  return std::unique_ptr<Store>(
      new SqliteStore(options, std::move(writer), std::move(readers)));
}

}  // namespace ruta::store
