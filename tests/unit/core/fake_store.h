// An in-memory `store::Store` for the core's unit tests.
//
// It follows the contract of store.h: reads run on a reader thread against a
// consistent snapshot; writes run on one writer thread that group-commits
// whatever is queued, each write function under its own "savepoint" (its
// changes are dropped when it returns an error), and `done` callbacks run
// after the group is published. It also keeps every string written to it, so
// that tests can check no identifier of a child ever reaches the store.
#ifndef RUTA_TESTS_UNIT_CORE_FAKE_STORE_H_
#define RUTA_TESTS_UNIT_CORE_FAKE_STORE_H_

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "ruta/store/store.h"

namespace ruta::core::testing {

class FakeStore final : public store::Store {
 public:
  FakeStore();
  ~FakeStore() override;

  void Read(std::function<absl::Status(store::ReadTxn&)> fn,
            std::function<void(absl::Status)> done) override;
  void Write(std::function<absl::Status(store::WriteTxn&)> fn,
             std::function<void(absl::Status)> done) override;

  // Every string field of every committed PutCase/PutRequest/AddToAggregate/
  // PutActivity.
  std::vector<std::string> WrittenStrings() const;
  // Number of committed groups and of write functions committed.
  int groups_committed() const;
  // Makes the next `n` group commits fail with UNAVAILABLE.
  void FailNextCommits(int n);
  // While set, AppendAudit fails with INTERNAL (a broken audit table).
  void FailAuditAppends(bool fail);
  // The committed audit chain.
  std::vector<store::AuditRecord> AuditRecords() const;

  struct State {
    std::map<std::string, std::vector<core::Case>> cases;  // full history
    std::map<std::pair<std::string, std::string>, store::RequestRecord>
        requests;
    std::map<std::pair<std::string, std::string>, int64_t> aggregates;
    std::vector<std::string> written;
    std::vector<store::AuditRecord> audit;
    std::map<std::string, store::AuditCheckpoint> peer_checkpoints;
    std::map<std::string, store::AuditCheckpoint> sent_checkpoints;
    std::map<std::string, core::Activity> activities;  // by activity_id
    bool fail_audit_appends = false;
  };

 private:
  struct Job {
    std::function<absl::Status(store::WriteTxn&)> write;
    std::function<absl::Status(store::ReadTxn&)> read;
    std::function<void(absl::Status)> done;
  };
  void WriterLoop();
  void ReaderLoop();

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::deque<Job> writes_;
  std::deque<Job> reads_;
  std::shared_ptr<const State> committed_;
  int groups_committed_ = 0;
  int fail_commits_ = 0;
  bool fail_audit_appends_ = false;
  std::thread writer_;
  std::thread reader_;
};

}  // namespace ruta::core::testing

#endif  // RUTA_TESTS_UNIT_CORE_FAKE_STORE_H_
