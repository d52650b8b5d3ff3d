// The Store both SQL backends share: one writer thread that group-commits,
// a completion thread that runs the writes' `done` callbacks, a pool of
// reader threads, each reader and the writer with its own connection. The
// backend's connections decide what BEGIN means (sql/connection.h). See
// ../README.md.
#include "sql/sql_store.h"

#include <algorithm>
#include <deque>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ruta/store/store.h"
#include "sql/connection.h"
#include "sql/txn.h"

namespace ruta::store::sql_internal {
namespace {

using ReadFn = std::function<absl::Status(ReadTxn&)>;
using WriteFn = std::function<absl::Status(WriteTxn&)>;
using DoneFn = std::function<void(absl::Status)>;

class SqlStore final : public Store {
 public:
  SqlStore(int max_group_size, std::unique_ptr<Connection> writer,
           std::vector<std::unique_ptr<Connection>> readers)
      : max_group_size_(static_cast<size_t>(max_group_size)),
        writer_connection_(std::move(writer)),
        reader_connections_(std::move(readers)) {
    writer_thread_ = std::thread([this] { WriterLoop(); });
    completion_thread_ = std::thread([this] { CompletionLoop(); });
    for (auto& connection : reader_connections_) {
      Connection* c = connection.get();
      reader_threads_.emplace_back([this, c] { ReaderLoop(*c); });
    }
  }

  // Completes every queued read and write, then closes the connections (the
  // writer's last: SQLite's then checkpoints the WAL into the database file).
  ~SqlStore() override {
    // The writer first: `done` callbacks of the last writes may still queue
    // reads (and writes: the writer leaves only once every callback has
    // run). Writes queued by `done` callbacks of reads after the writer has
    // left fail with UNAVAILABLE.
    {
      absl::MutexLock lock(&write_mu_);
      writer_stopping_ = true;
      write_cv_.SignalAll();
    }
    writer_thread_.join();
    completion_thread_.join();
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
    done(absl::UnavailableError(
        absl::StrCat(writer_connection_->backend(), ": the store is closed")));
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
    done(absl::UnavailableError(
        absl::StrCat(writer_connection_->backend(), ": the store is closed")));
  }

 private:
  struct WriteItem {
    WriteFn fn;
    DoneFn done;
  };
  struct Completion {
    DoneFn done;
    absl::Status status;
  };
  struct ReadItem {
    ReadFn fn;
    DoneFn done;
  };

  void WriterLoop() {
    SqlWriteTxn txn(*writer_connection_);
    std::vector<WriteItem> group;
    group.reserve(max_group_size_);
    while (true) {
      {
        absl::MutexLock lock(&write_mu_);
        while (write_queue_.empty() &&
               !(writer_stopping_ && CompletionsIdle())) {
          write_cv_.Wait(&write_mu_);
        }
        if (write_queue_.empty()) {  // Stopping, and drained.
          writer_exited_ = true;
          completion_cv_.Signal();
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

  // Runs the `done` callbacks of committed groups, in commit order, so that
  // the writer starts the next group at once: answering a call (converting
  // the result, gRPC's encryption and send) took about as long per write as
  // the write's own statements, on the writer's critical path
  // (tests/bench/README.md, "OpenCase").
  void CompletionLoop() {
    while (true) {
      std::vector<Completion> batch;
      {
        absl::MutexLock lock(&write_mu_);
        while (completions_.empty() && !writer_exited_) {
          completion_cv_.Wait(&write_mu_);
        }
        if (completions_.empty()) return;  // The writer has left.
        batch = std::move(completions_.front());
        completions_.pop_front();
        completing_ = true;
      }
      for (Completion& c : batch) c.done(std::move(c.status));
      batch.clear();  // The callbacks' captures go before the writer may.
      absl::MutexLock lock(&write_mu_);
      completing_ = false;
      // A stopping writer waits for the callbacks (they may queue writes).
      if (writer_stopping_) write_cv_.Signal();
    }
  }

  bool CompletionsIdle() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(write_mu_) {
    return completions_.empty() && !completing_;
  }

  // One transaction for the whole group, one savepoint per item but the
  // first. No `done` is called before COMMIT has returned.
  //
  // The item that opens the transaction runs without a savepoint: should it
  // fail, rolling the whole transaction back undoes exactly its changes,
  // and the rest of the group starts a new one. A savepoint is not free:
  // SQLite copies every page an item changes under one to a sub-journal, as
  // many bytes again as the WAL gets (a batch of federation events,
  // thousands of pages, paid it in full).
  void CommitGroup(SqlWriteTxn& txn, std::vector<WriteItem>& group) {
    Connection& connection = *writer_connection_;
    // failed[i]: item i's own function failed, with status results[i]. The
    // other items all get `group_status`.
    std::vector<bool> failed(group.size(), false);
    std::vector<absl::Status> results(group.size());

    absl::Status group_status = connection.BeginWrite();
    // Whether the open transaction holds no change of an item yet.
    bool fresh = true;
    for (size_t i = 0; group_status.ok() && i < group.size(); ++i) {
      const bool savepoint = !fresh;
      if (savepoint) {
        group_status = connection.Run("SAVEPOINT item");
        if (!group_status.ok()) break;
      }
      absl::Status status = group[i].fn(txn);
      if (!status.ok()) {
        failed[i] = true;
        results[i] = std::move(status);
      }
      if (!connection.InTransaction()) {
        // The database rolled back the whole transaction by itself (SQLite:
        // SQLITE_FULL, SQLITE_IOERR, SQLITE_NOMEM, ...; PostgreSQL: a lost
        // connection): every change of the group is gone.
        group_status = absl::AbortedError(absl::StrCat(
            connection.backend(),
            ": the write transaction was rolled back after a storage "
            "error; nothing of its group was kept"));
        break;
      }
      if (!savepoint) {
        if (!failed[i]) {
          fresh = false;
          continue;
        }
        // Nothing else is in the transaction: start the rest afresh.
        group_status = connection.Run("ROLLBACK");
        if (group_status.ok() && i + 1 < group.size()) {
          group_status = connection.BeginWrite();
        }
        if (!group_status.ok()) break;
        continue;
      }
      if (failed[i]) {
        group_status = connection.Run("ROLLBACK TO item");
        if (!group_status.ok()) break;
      }
      group_status = connection.Run("RELEASE item");
    }
    if (group_status.ok() && connection.InTransaction()) {
      group_status = connection.Run("COMMIT");
    }
    if (!group_status.ok() && connection.InTransaction()) {
      connection.Run("ROLLBACK").IgnoreError();
    }

    std::vector<Completion> batch;
    batch.reserve(group.size());
    for (size_t i = 0; i < group.size(); ++i) {
      batch.push_back(
          Completion{std::move(group[i].done),
                     failed[i] ? std::move(results[i]) : group_status});
    }
    absl::MutexLock lock(&write_mu_);
    completions_.push_back(std::move(batch));
    completion_cv_.Signal();
  }

  void ReaderLoop(Connection& connection) {
    SqlReadTxn txn(connection);
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
      // One snapshot from the transaction's first read to its end, whatever
      // the writer commits meanwhile.
      absl::Status status = connection.BeginRead();
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
  // Committed groups whose callbacks have not run yet, oldest first.
  absl::CondVar completion_cv_;
  std::deque<std::vector<Completion>> completions_ ABSL_GUARDED_BY(write_mu_);
  bool completing_ ABSL_GUARDED_BY(write_mu_) = false;

  absl::Mutex read_mu_;
  absl::CondVar read_cv_;
  std::deque<ReadItem> read_queue_ ABSL_GUARDED_BY(read_mu_);
  bool readers_stopping_ ABSL_GUARDED_BY(read_mu_) = false;
  // Set by the first reader thread to leave; the others leave too, since they
  // see the same empty queue.
  bool readers_exited_ ABSL_GUARDED_BY(read_mu_) = false;

  std::thread writer_thread_;
  std::thread completion_thread_;
  std::vector<std::thread> reader_threads_;
};

}  // namespace

std::unique_ptr<Store> MakeSqlStore(
    int max_group_size, std::unique_ptr<Connection> writer,
    std::vector<std::unique_ptr<Connection>> readers) {
  return std::make_unique<SqlStore>(max_group_size, std::move(writer),
                                    std::move(readers));
}

}  // namespace ruta::store::sql_internal
