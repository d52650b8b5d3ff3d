// Checkpoints the WAL of the store's database on a thread of its own, so that
// the writer's commits do not wait for it.
//
// Left to itself, SQLite checkpoints inside the COMMIT that takes the WAL past
// 1000 pages: the writer copies those pages into the database file and syncs
// it before the commit returns, and the next group waits meanwhile (a
// federation catch-up spent a fifth of its writer's time there). Here the
// writer's WAL hook only wakes this thread, which checkpoints (PASSIVE, on
// its own connection, synchronous=FULL) while the writer goes on.
//
// A checkpoint running beside the writer never catches up with the last
// frames, and SQLite restarts the WAL from its beginning only after one did:
// so that the WAL does not grow without bound under sustained writes, the
// writer itself completes the checkpoint (waiting for the thread's current
// one first) after a commit that leaves `limit_pages` or more in the WAL.
//
// Durability is SQLite's: a checkpoint copies only committed frames and syncs
// the WAL before it overwrites the database file and the file afterwards.
#ifndef RUTA_STORE_SQLITE_CHECKPOINTER_H_
#define RUTA_STORE_SQLITE_CHECKPOINTER_H_

#include <sqlite3.h>

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "sqlite/connection.h"

namespace ruta::store::sqlite_internal {

struct CheckpointerOptions {
  // WAL pages after a commit from which the thread checkpoints. Default 1000
  // (SQLite's own automatic checkpoint threshold).
  int start_pages = 1000;
  // WAL pages after a commit from which the writer completes the checkpoint
  // itself. Default 16384 (64 MiB of 4 KiB pages).
  int limit_pages = 16384;
};

class Checkpointer final {
 public:
  // Opens a connection of its own to `writer`'s database, installs the WAL
  // hook on `writer` (replacing SQLite's automatic checkpoints) and starts
  // the thread. `writer` must outlive the checkpointer, and its commits must
  // all be made on one thread (the hook runs there).
  static absl::StatusOr<std::unique_ptr<Checkpointer>> Start(
      Connection& writer, const CheckpointerOptions& options,
      absl::Duration busy_timeout);
  // Removes the hook, stops the thread (after its current checkpoint) and
  // closes its connection. Call it on the writer's thread or once no commit
  // can run any more.
  ~Checkpointer();
  Checkpointer(const Checkpointer&) = delete;
  Checkpointer& operator=(const Checkpointer&) = delete;

  // Checkpoints made by the thread and by the writer (for tests).
  int background_checkpoints() const;
  int writer_checkpoints() const;

 private:
  Checkpointer(Connection& writer, CheckpointerOptions options,
               std::unique_ptr<Connection> own);
  static int OnCommit(void* self, sqlite3* db, const char* name, int pages);
  void Run();

  Connection& writer_;
  const CheckpointerOptions options_;
  std::unique_ptr<Connection> own_;
  std::thread thread_;

  // Held by whoever checkpoints: the thread, or the writer past the limit.
  absl::Mutex checkpoint_mu_;

  mutable absl::Mutex mu_;
  bool wanted_ ABSL_GUARDED_BY(mu_) = false;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  int background_checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
  int writer_checkpoints_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace ruta::store::sqlite_internal

#endif  // RUTA_STORE_SQLITE_CHECKPOINTER_H_
