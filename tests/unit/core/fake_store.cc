#include "fake_store.h"

#include "absl/strings/str_cat.h"

namespace ruta::core::testing {
namespace {

class FakeTxn final : public store::WriteTxn {
 public:
  // `state` is read; writes are refused when `writable` is false.
  FakeTxn(FakeStore::State* state, bool writable)
      : state_(state), writable_(writable) {}

  absl::StatusOr<std::optional<core::Case>> FindCase(
      const std::string& case_id) override {
    auto it = state_->cases.find(case_id);
    if (it == state_->cases.end()) return std::optional<core::Case>();
    return std::optional<core::Case>(it->second.back());
  }
  absl::StatusOr<std::optional<core::Case>> FindCaseVersion(
      const std::string& case_id, int64_t version) override {
    auto it = state_->cases.find(case_id);
    if (it == state_->cases.end() || version < 1 ||
        version > static_cast<int64_t>(it->second.size())) {
      return std::optional<core::Case>();
    }
    return std::optional<core::Case>(it->second[version - 1]);
  }
  absl::StatusOr<store::CasePage> ListCases(const store::CaseFilter& filter,
                                            const std::string& after,
                                            int limit) override {
    if (limit <= 0) return absl::InvalidArgumentError("limit must be > 0");
    store::CasePage page;
    for (auto it = state_->cases.upper_bound(after); it != state_->cases.end();
         ++it) {
      const core::Case& c = it->second.back();
      if (!filter.owner_region.empty() &&
          c.owner_region != filter.owner_region) {
        continue;
      }
      if (filter.stage != core::Stage::kUnspecified &&
          c.stage != filter.stage) {
        continue;
      }
      if (filter.kind != core::CaseKind::kUnspecified &&
          c.kind != filter.kind) {
        continue;
      }
      if (!filter.person_ref.empty() && c.person_ref != filter.person_ref) {
        continue;
      }
      if (!filter.include_closed && c.stage == core::Stage::kClosed) continue;
      if (static_cast<int>(page.cases.size()) == limit) {
        page.next_after = page.cases.back().case_id;
        break;
      }
      page.cases.push_back(c);
    }
    return page;
  }
  absl::StatusOr<std::optional<store::RequestRecord>> FindRequest(
      const std::string& principal, const std::string& request_id) override {
    auto it = state_->requests.find({principal, request_id});
    if (it == state_->requests.end()) {
      return std::optional<store::RequestRecord>();
    }
    return std::optional<store::RequestRecord>(it->second);
  }
  absl::StatusOr<int64_t> GetAggregate(const std::string& table,
                                       const std::string& key) override {
    auto it = state_->aggregates.find({table, key});
    return it == state_->aggregates.end() ? 0 : it->second;
  }

  absl::StatusOr<store::AuditHead> GetAuditHead() override {
    store::AuditHead head;
    if (state_->audit.empty()) {
      head.hash = std::string(32, '\0');
    } else {
      head.length = state_->audit.back().index + 1;
      head.hash = state_->audit.back().hash;
    }
    return head;
  }
  absl::StatusOr<std::vector<store::AuditRecord>> ScanAudit(
      int64_t from_index, int limit) override {
    if (limit <= 0) return absl::InvalidArgumentError("limit must be > 0");
    std::vector<store::AuditRecord> out;
    for (const store::AuditRecord& r : state_->audit) {
      if (r.index < from_index) continue;
      if (static_cast<int>(out.size()) == limit) break;
      out.push_back(r);
    }
    return out;
  }
  absl::StatusOr<std::optional<store::AuditCheckpoint>> GetPeerCheckpoint(
      const std::string& region) override {
    auto it = state_->peer_checkpoints.find(region);
    if (it == state_->peer_checkpoints.end()) {
      return std::optional<store::AuditCheckpoint>();
    }
    return std::optional<store::AuditCheckpoint>(it->second);
  }
  absl::StatusOr<std::optional<store::AuditCheckpoint>> GetSentCheckpoint(
      const std::string& peer_region) override {
    auto it = state_->sent_checkpoints.find(peer_region);
    if (it == state_->sent_checkpoints.end()) {
      return std::optional<store::AuditCheckpoint>();
    }
    return std::optional<store::AuditCheckpoint>(it->second);
  }

  absl::Status AppendAudit(const store::AuditRecord& r) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    if (state_->fail_audit_appends) {
      return absl::InternalError("injected audit append failure");
    }
    if (r.hash.size() != 32) return absl::InvalidArgumentError("bad hash");
    const int64_t length =
        state_->audit.empty() ? 0 : state_->audit.back().index + 1;
    if (r.index != length) {
      return absl::FailedPreconditionError("audit index is not the next one");
    }
    state_->audit.push_back(r);
    state_->written.insert(state_->written.end(),
                           {r.principal, r.clerk, r.method, r.subject});
    return absl::OkStatus();
  }
  absl::Status PutPeerCheckpoint(const store::AuditCheckpoint& c) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    state_->peer_checkpoints[c.region] = c;
    return absl::OkStatus();
  }
  absl::Status PutSentCheckpoint(const std::string& peer,
                                 const store::AuditCheckpoint& c) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    state_->sent_checkpoints[peer] = c;
    return absl::OkStatus();
  }

  absl::Status PutCase(const core::Case& c) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    auto& history = state_->cases[c.case_id];
    if (c.version != static_cast<int64_t>(history.size()) + 1) {
      if (history.empty()) state_->cases.erase(c.case_id);
      return absl::FailedPreconditionError(
          absl::StrCat("case ", c.case_id, " version ", c.version,
                       " does not follow the stored version"));
    }
    history.push_back(c);
    auto& w = state_->written;
    w.insert(w.end(), {c.case_id, c.person_ref, c.owner_region,
                       c.profile.origin_province, c.opened_by});
    w.insert(w.end(), c.referrals.begin(), c.referrals.end());
    return absl::OkStatus();
  }
  absl::Status PutRequest(const store::RequestRecord& r) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    if (!state_->requests.emplace(std::make_pair(r.principal, r.request_id), r)
             .second) {
      return absl::AlreadyExistsError("request already recorded");
    }
    state_->written.insert(
        state_->written.end(),
        {r.request_id, r.principal, r.method, r.fingerprint, r.case_id});
    return absl::OkStatus();
  }
  absl::Status AddToAggregate(const std::string& table, const std::string& key,
                              int64_t delta) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    state_->aggregates[{table, key}] += delta;
    state_->written.insert(state_->written.end(), {table, key});
    return absl::OkStatus();
  }
  absl::Status ClearAggregates(const std::string& table) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    auto it = state_->aggregates.lower_bound({table, ""});
    while (it != state_->aggregates.end() && it->first.first == table) {
      it = state_->aggregates.erase(it);
    }
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<std::pair<std::string, int64_t>>> ScanAggregates(
      const std::string& table, const std::string& key_prefix) override {
    std::vector<std::pair<std::string, int64_t>> out;
    for (auto it = state_->aggregates.lower_bound({table, key_prefix});
         it != state_->aggregates.end() && it->first.first == table &&
         it->first.second.compare(0, key_prefix.size(), key_prefix) == 0;
         ++it) {
      out.emplace_back(it->first.second, it->second);
    }
    return out;
  }
  // No transfer or service is ever stored here: the lists are empty.
  absl::StatusOr<std::vector<core::Transfer>> ListCaseTransfers(
      const std::string&) override {
    return std::vector<core::Transfer>();
  }
  absl::StatusOr<std::vector<core::Transfer>> ListStalledRequests(
      const std::string&, const core::Date&) override {
    return std::vector<core::Transfer>();
  }
  absl::StatusOr<std::vector<core::Case>> ListStalledFollowUps(
      const std::string& owner_region, absl::Time updated_before) override {
    std::vector<core::Case> out;
    for (const auto& [id, versions] : state_->cases) {
      const core::Case& c = versions.back();
      if (c.owner_region == owner_region && c.stage == core::Stage::kFollowUp &&
          c.updated_at < updated_before) {
        out.push_back(c);
      }
    }
    return out;
  }

  // Transfers, services and federation: not modelled by this fake (their
  // core tests run on a real SQLite store in a temporary directory).
  absl::StatusOr<std::optional<core::Transfer>> FindTransfer(
      const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<std::optional<core::Transfer>> FindTransferVersion(
      const std::string&, int64_t) override {
    return NotModelled();
  }
  absl::StatusOr<store::TransferPage> ListTransfers(
      const store::TransferFilter&, const std::string&, int) override {
    return NotModelled();
  }
  absl::StatusOr<std::vector<store::TransferChange>> ScanTransferChanges(
      const std::string&, int64_t, int) override {
    return NotModelled();
  }
  absl::StatusOr<int64_t> LastTransferChange() override {
    return NotModelled();
  }
  absl::StatusOr<std::vector<store::PartnerReferral>> ListPartnerReferrals(
      const std::string&, const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<std::optional<store::PartnerReferral>> FindPartnerReferral(
      const std::string&, const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<std::vector<store::PartnerChange>> ScanPartnerChanges(
      const std::string&, int64_t, int) override {
    return NotModelled();
  }
  absl::StatusOr<int64_t> LastPartnerChange() override { return NotModelled(); }
  absl::StatusOr<std::vector<store::CaseStageVersion>> ListCaseStages(
      const std::string&, int64_t) override {
    return NotModelled();
  }
  absl::StatusOr<std::optional<core::ServiceRecord>> FindService(
      const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<std::optional<core::ServiceRecord>> FindServiceVersion(
      const std::string&, int64_t) override {
    return NotModelled();
  }
  absl::StatusOr<store::ServicePage> ListServices(const std::string&,
                                                  const std::string&,
                                                  int) override {
    return store::ServicePage();  // no service is ever stored here
  }
  absl::StatusOr<std::vector<std::string>> ListCaseShares(
      const std::string&) override {
    return std::vector<std::string>();  // no case is ever shared here
  }
  absl::StatusOr<std::vector<store::OutboxEvent>> ReadOutbox(const std::string&,
                                                             int64_t,
                                                             int) override {
    return NotModelled();
  }
  absl::StatusOr<std::vector<store::OutboxEvent>> ReadUnstamped(
      const std::string&, int) override {
    return NotModelled();
  }
  absl::StatusOr<store::OutboxStats> GetOutboxStats(
      const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<int64_t> GetInboxPosition(const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<std::vector<store::InboxBatch>> ReadInboxBatches(
      const std::string&, int64_t, int) override {
    return NotModelled();
  }
  absl::Status PutTransfer(const core::Transfer&) override {
    return NotModelled();
  }
  absl::Status PutService(const core::ServiceRecord&) override {
    return NotModelled();
  }
  absl::Status AddCaseShare(const std::string&, const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<int64_t> AppendOutbox(const store::OutboxEvent&) override {
    return NotModelled();
  }
  absl::Status StampOutbox(int64_t, int64_t, const std::string&) override {
    return NotModelled();
  }
  absl::Status PutOutboxAck(const std::string&, int64_t) override {
    return NotModelled();
  }
  absl::Status PutInboxBatch(const store::InboxBatch&) override {
    return NotModelled();
  }
  // Person links and erasure: no ref is ever joined and no case erased here.
  absl::StatusOr<std::optional<std::string>> FindPersonAlias(
      const std::string&) override {
    return std::optional<std::string>();
  }
  absl::StatusOr<bool> IsCaseErased(const std::string&) override {
    return false;
  }
  absl::StatusOr<store::CasePage> ListClosedCasesBefore(const std::string&,
                                                        absl::Time,
                                                        const std::string&,
                                                        int) override {
    return NotModelled();
  }
  absl::StatusOr<std::optional<std::string>> GetSetting(
      const std::string&) override {
    return NotModelled();
  }
  absl::StatusOr<int64_t> JoinPersonRef(const std::string&,
                                        const std::string&) override {
    return NotModelled();
  }
  absl::Status EraseCase(const std::string&, const std::string&,
                         absl::Time) override {
    return NotModelled();
  }
  absl::Status PutSetting(const std::string&, const std::string&) override {
    return NotModelled();
  }

  // Activities: as the SQLite store (0005_activities.sql).
  absl::StatusOr<std::optional<core::Activity>> FindActivity(
      const std::string& activity_id) override {
    auto it = state_->activities.find(activity_id);
    if (it == state_->activities.end()) return std::optional<core::Activity>();
    return std::optional<core::Activity>(it->second);
  }
  absl::StatusOr<store::ActivityPage> ListActivities(
      const store::ActivityFilter& filter, const std::string& after,
      int limit) override {
    if (limit <= 0) return absl::InvalidArgumentError("limit must be > 0");
    if (filter.region.empty()) {
      return absl::InvalidArgumentError("region is required");
    }
    auto index = [](const core::YearMonth& m) {
      return int64_t{m.year} * 12 + m.month - 1;
    };
    store::ActivityPage page;
    for (auto it = state_->activities.upper_bound(after);
         it != state_->activities.end(); ++it) {
      const core::Activity& a = it->second;
      if (a.region != filter.region) continue;
      if (filter.from_month.year != 0 &&
          index(a.month) < index(filter.from_month)) {
        continue;
      }
      if (filter.to_month.year != 0 &&
          index(a.month) > index(filter.to_month)) {
        continue;
      }
      if (static_cast<int>(page.activities.size()) == limit) {
        page.next_after = page.activities.back().activity_id;
        break;
      }
      page.activities.push_back(a);
    }
    return page;
  }
  absl::Status PutActivity(const core::Activity& a) override {
    if (!writable_) return absl::InternalError("write in a read transaction");
    if (a.activity_id.empty() || a.region.empty()) {
      return absl::InvalidArgumentError("activity_id and region are required");
    }
    if (!state_->activities.emplace(a.activity_id, a).second) {
      return absl::AlreadyExistsError("activity exists");
    }
    for (const std::string* s :
         {&a.activity_id, &a.region, &a.province, &a.campaign}) {
      state_->written.push_back(*s);
    }
    return absl::OkStatus();
  }

 private:
  static absl::Status NotModelled() {
    return absl::UnimplementedError("not modelled by FakeStore");
  }
  FakeStore::State* state_;
  bool writable_;
};

}  // namespace

FakeStore::FakeStore()
    : committed_(std::make_shared<const State>()),
      writer_([this] { WriterLoop(); }),
      reader_([this] { ReaderLoop(); }) {}

FakeStore::~FakeStore() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  writer_.join();
  reader_.join();
}

void FakeStore::Read(std::function<absl::Status(store::ReadTxn&)> fn,
                     std::function<void(absl::Status)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    reads_.push_back(Job{nullptr, std::move(fn), std::move(done)});
  }
  cv_.notify_all();
}

void FakeStore::Write(std::function<absl::Status(store::WriteTxn&)> fn,
                      std::function<void(absl::Status)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    writes_.push_back(Job{std::move(fn), nullptr, std::move(done)});
  }
  cv_.notify_all();
}

void FakeStore::ReaderLoop() {
  for (;;) {
    Job job;
    std::shared_ptr<const State> snapshot;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !reads_.empty(); });
      if (reads_.empty()) return;  // stopping and drained
      job = std::move(reads_.front());
      reads_.pop_front();
      snapshot = committed_;
    }
    // Reads never write: the const_cast only serves the shared txn type.
    FakeTxn txn(const_cast<State*>(snapshot.get()), /*writable=*/false);
    job.done(job.read(txn));
  }
}

void FakeStore::WriterLoop() {
  for (;;) {
    std::deque<Job> group;
    std::shared_ptr<const State> base;
    bool fail = false;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !writes_.empty(); });
      if (writes_.empty()) return;
      group.swap(writes_);
      base = committed_;
      if (fail_commits_ > 0) {
        --fail_commits_;
        fail = true;
      }
    }
    auto working = std::make_shared<State>(*base);
    {
      std::lock_guard<std::mutex> lock(mu_);
      working->fail_audit_appends = fail_audit_appends_;
    }
    std::vector<absl::Status> results;
    for (Job& job : group) {
      State savepoint = *working;
      FakeTxn txn(working.get(), /*writable=*/true);
      absl::Status s = job.write(txn);
      if (!s.ok()) *working = std::move(savepoint);
      results.push_back(std::move(s));
    }
    if (fail) {
      for (Job& job : group) {
        job.done(absl::UnavailableError("injected commit failure"));
      }
      continue;
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      committed_ = std::move(working);
      ++groups_committed_;
    }
    for (size_t i = 0; i < group.size(); ++i) group[i].done(results[i]);
  }
}

std::vector<std::string> FakeStore::WrittenStrings() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_->written;
}

int FakeStore::groups_committed() const {
  std::lock_guard<std::mutex> lock(mu_);
  return groups_committed_;
}

void FakeStore::FailAuditAppends(bool fail) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_audit_appends_ = fail;
}

std::vector<store::AuditRecord> FakeStore::AuditRecords() const {
  std::lock_guard<std::mutex> lock(mu_);
  return committed_->audit;
}

void FakeStore::FailNextCommits(int n) {
  std::lock_guard<std::mutex> lock(mu_);
  fail_commits_ = n;
}

}  // namespace ruta::core::testing
