// The inbox (federation/inbox.h) on a real store of each backend, without
// gRPC: batches handed in while the store is busy are applied together, in
// order, in one write; a refused batch among them leaves the ones before it
// applied and the ones after it refused (never skipped); each batch gets its
// own answer.
#include "ruta/federation/inbox.h"

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ruta/core/federation.h"
#include "ruta/security/signing.h"
#include "ruta/store/store.h"
#include "ruta/testing/federation_batches.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/store_backend.h"

namespace ruta {
namespace {

using testing::StoreBackend;

constexpr char kFrom[] = "madre-de-dios";
constexpr char kTo[] = "cusco";

// What one ApplyBatch answered, in the order the answers came.
struct Answers {
  absl::Mutex mu;
  std::vector<std::pair<int, absl::StatusOr<int64_t>>> got ABSL_GUARDED_BY(mu);

  std::function<void(absl::StatusOr<int64_t>)> For(int batch) {
    return [this, batch](absl::StatusOr<int64_t> result) {
      absl::MutexLock lock(&mu);
      got.emplace_back(batch, std::move(result));
    };
  }
  void WaitFor(size_t n) {
    absl::MutexLock lock(&mu);
    auto enough = [this, n] {
      mu.AssertHeld();
      return got.size() >= n;
    };
    mu.Await(absl::Condition(&enough));
  }
};

class InboxTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    if (GetParam() == StoreBackend::kPostgres &&
        !testing::PostgresTestConninfo().has_value()) {
      if (testing::PostgresRequired()) {
        FAIL() << testing::MissingPostgresMessage();
      }
      GTEST_SKIP() << testing::MissingPostgresMessage();
    }
    absl::StatusOr<std::unique_ptr<testing::ScratchStore>> scratch =
        testing::ScratchStore::Create(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    absl::StatusOr<std::unique_ptr<store::Store>> store = scratch_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
    absl::StatusOr<std::unique_ptr<testing::FederationBatchMaker>> batches =
        testing::FederationBatchMaker::Create(kFrom, kTo);
    ASSERT_TRUE(batches.ok()) << batches.status();
    batches_ = *std::move(batches);
  }

  void MakeInbox(int max_events_per_write = 4096) {
    federation::InboxOptions options;
    options.region = kTo;
    absl::StatusOr<std::unique_ptr<security::SignatureVerifier>> key =
        security::SignatureVerifier::LoadFromFile(absl::StrCat(
            testing::DevPki::Get().dir(), "/trust/signing/", kFrom, ".pub"));
    ASSERT_TRUE(key.ok()) << key.status();
    options.signing_keys[kFrom] = *std::move(key);
    options.max_events_per_write = max_events_per_write;
    options.on_applied = [this] {
      absl::MutexLock lock(&mu_);
      ++writes_applied_;
    };
    inbox_ =
        std::make_unique<federation::Inbox>(std::move(options), store_.get());
  }

  // A batch of `pairs` shared cases with their transfer requests, from
  // sequence `first` on; `foreign_owner`: its second case is said to be
  // owned by Cusco, which the inbox refuses.
  v1::EventBatch Batch(int64_t first, int pairs, bool foreign_owner = false) {
    return batches_->SignedCasePairs(first, pairs, foreign_owner ? 1 : -1);
  }

  // Holds the store's writer inside a write until the returned notification
  // is notified, so that what is handed in meanwhile waits.
  std::shared_ptr<absl::Notification> HoldWriter() {
    auto release = std::make_shared<absl::Notification>();
    absl::Notification held;
    store_->Write(
        [&held, release](store::WriteTxn&) {
          held.Notify();
          release->WaitForNotification();
          return absl::OkStatus();
        },
        [](absl::Status) {});
    held.WaitForNotification();
    return release;
  }

  int64_t Count(const std::string& sql) {
    absl::StatusOr<int64_t> n = scratch_->QueryInt64(sql);
    EXPECT_TRUE(n.ok()) << n.status();
    return n.ok() ? *n : -1;
  }
  int64_t Position() {
    return Count(
        "SELECT coalesce(max(applied_through), 0) FROM inbox_positions");
  }
  int WritesApplied() {
    absl::MutexLock lock(&mu_);
    return writes_applied_;
  }

  std::unique_ptr<testing::ScratchStore> scratch_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<testing::FederationBatchMaker> batches_;
  std::unique_ptr<federation::Inbox> inbox_;
  absl::Mutex mu_;
  int writes_applied_ ABSL_GUARDED_BY(mu_) = 0;
};

INSTANTIATE_TEST_SUITE_P(Backends, InboxTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

TEST_P(InboxTest, BatchesHandedInWhileTheStoreIsBusyApplyInOneWrite) {
  MakeInbox();
  // 5 batches of 4 events: 1..4, 5..8, ..., 17..20; the second one twice.
  std::vector<v1::EventBatch> batches;
  for (int b = 0; b < 5; ++b) batches.push_back(Batch(1 + 4 * b, 2));
  Answers answers;
  std::shared_ptr<absl::Notification> release = HoldWriter();
  for (int b = 0; b < 5; ++b) {
    inbox_->ApplyBatch(kFrom, batches[b], answers.For(b));
    if (b == 1) inbox_->ApplyBatch(kFrom, batches[b], answers.For(10 + b));
  }
  release->Notify();
  answers.WaitFor(6);

  absl::MutexLock lock(&answers.mu);
  const std::vector<int> order = {0, 1, 11, 2, 3, 4};
  ASSERT_EQ(answers.got.size(), order.size());
  for (size_t i = 0; i < order.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(answers.got[i].first, order[i]);
    ASSERT_TRUE(answers.got[i].second.ok()) << answers.got[i].second.status();
    const int b = order[i] % 10;
    EXPECT_EQ(*answers.got[i].second, 4 * (b + 1));  // the redelivery too
  }
  EXPECT_EQ(WritesApplied(), 1);  // one transaction for all of them
  EXPECT_EQ(Position(), 20);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox_batches"), 5);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox_events"), 20);
  EXPECT_EQ(Count("SELECT count(*) FROM transfers"), 10);
}

TEST_P(InboxTest, WritesTakeAtMostMaxEventsPerWrite) {
  MakeInbox(/*max_events_per_write=*/8);
  Answers answers;
  std::shared_ptr<absl::Notification> release = HoldWriter();
  // 4 events each: two per write; the 12-event one alone.
  std::vector<v1::EventBatch> batches = {Batch(1, 2), Batch(5, 2), Batch(9, 2),
                                         Batch(13, 6), Batch(25, 2)};
  for (size_t b = 0; b < batches.size(); ++b) {
    inbox_->ApplyBatch(kFrom, batches[b], answers.For(static_cast<int>(b)));
  }
  release->Notify();
  answers.WaitFor(batches.size());
  EXPECT_EQ(WritesApplied(), 4);  // {1, 5}, {9}, {13}, {25}
  EXPECT_EQ(Position(), 28);
  absl::MutexLock lock(&answers.mu);
  for (const auto& [b, result] : answers.got) {
    EXPECT_TRUE(result.ok()) << b << ": " << result.status();
  }
}

TEST_P(InboxTest, RefusedBatchAmongWaitingOnesKeepsThoseBeforeIt) {
  MakeInbox();
  Answers answers;
  std::shared_ptr<absl::Notification> release = HoldWriter();
  // 1..4, 5..8, 9..12 (its third event refused), 13..16.
  std::vector<v1::EventBatch> batches = {Batch(1, 2), Batch(5, 2),
                                         Batch(9, 2, /*foreign_owner=*/true),
                                         Batch(13, 2)};
  for (size_t b = 0; b < batches.size(); ++b) {
    inbox_->ApplyBatch(kFrom, batches[b], answers.For(static_cast<int>(b)));
  }
  release->Notify();
  answers.WaitFor(batches.size());
  {
    absl::MutexLock lock(&answers.mu);
    ASSERT_EQ(answers.got.size(), 4u);
    for (int b = 0; b < 4; ++b) EXPECT_EQ(answers.got[b].first, b);
    ASSERT_TRUE(answers.got[0].second.ok()) << answers.got[0].second.status();
    EXPECT_EQ(*answers.got[0].second, 4);
    ASSERT_TRUE(answers.got[1].second.ok()) << answers.got[1].second.status();
    EXPECT_EQ(*answers.got[1].second, 8);
    EXPECT_EQ(answers.got[2].second.status().code(),
              absl::StatusCode::kFailedPrecondition)
        << answers.got[2].second.status();
    EXPECT_NE(answers.got[2].second.status().message().find("event 11 "),
              std::string::npos)
        << answers.got[2].second.status();
    // Never skipped: after the refused batch, a gap.
    EXPECT_EQ(answers.got[3].second.status().code(),
              absl::StatusCode::kOutOfRange)
        << answers.got[3].second.status();
  }
  EXPECT_EQ(Position(), 8);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox_batches"), 2);
  EXPECT_EQ(Count("SELECT count(*) FROM inbox_events"), 8);
  EXPECT_EQ(Count("SELECT count(*) FROM transfers"), 4);
  EXPECT_EQ(Count("SELECT count(*) FROM cases"), 4);

  // The stream resumes where the inbox says, once the peer resends.
  absl::Notification resumed;
  absl::StatusOr<int64_t> applied;
  inbox_->ApplyBatch(kFrom, Batch(9, 2), [&](absl::StatusOr<int64_t> result) {
    applied = std::move(result);
    resumed.Notify();
  });
  resumed.WaitForNotification();
  ASSERT_TRUE(applied.ok()) << applied.status();
  EXPECT_EQ(*applied, 12);
  EXPECT_EQ(Position(), 12);
}

TEST_P(InboxTest, BadSignatureIsRefusedAtOnceAndTheRestApplies) {
  MakeInbox();
  Answers answers;
  std::shared_ptr<absl::Notification> release = HoldWriter();
  v1::EventBatch forged = Batch(5, 2);
  forged.set_signature(std::string(forged.signature().size(), 'x'));
  inbox_->ApplyBatch(kFrom, Batch(1, 2), answers.For(0));
  inbox_->ApplyBatch(kFrom, forged, answers.For(1));
  {
    // Refused on the caller's thread, before the store runs anything.
    absl::MutexLock lock(&answers.mu);
    ASSERT_EQ(answers.got.size(), 1u);
    EXPECT_EQ(answers.got[0].first, 1);
    EXPECT_EQ(answers.got[0].second.status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  release->Notify();
  answers.WaitFor(2);
  absl::MutexLock lock(&answers.mu);
  ASSERT_TRUE(answers.got[1].second.ok()) << answers.got[1].second.status();
  EXPECT_EQ(*answers.got[1].second, 4);
}

}  // namespace
}  // namespace ruta
