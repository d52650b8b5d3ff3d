// The activities table (migration 0005) through ReadTxn/WriteTxn: put, find,
// paging by activity_id, the region and month filters, and a reopen.
#include <stdlib.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ruta/store/store.h"
#include "ruta/testing/store_backend.h"

namespace ruta::store {
namespace {

#define ASSERT_OK(expr)                                       \
  do {                                                        \
    const absl::Status assert_ok_status_ = (expr);            \
    ASSERT_TRUE(assert_ok_status_.ok()) << assert_ok_status_; \
  } while (false)

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";

// "ac_" + 20 letters, ordered by `n` (0..25 * 26).
std::string ActivityId(int n) {
  std::string id = "ac_";
  id += static_cast<char>('a' + n / 26);
  id += static_cast<char>('a' + n % 26);
  id += std::string(18, 'q');
  return id;
}

core::Activity Awareness(int n, const std::string& region, int year,
                         int month) {
  core::Activity a;
  a.activity_id = ActivityId(n);
  a.region = region;
  a.kind = core::ActivityKind::kAwareness;
  a.province = "0812";
  a.month = {year, month};
  a.campaign = "No te dejes engañar";
  a.people_reached = 100 + n;
  a.recorded_at = absl::FromUnixMicros(1790000000000000 + n);
  return a;
}

core::Activity Training(int n, const std::string& region, int year, int month) {
  core::Activity a;
  a.activity_id = ActivityId(n);
  a.region = region;
  a.kind = core::ActivityKind::kTraining;
  a.province = "1701";
  a.month = {year, month};
  a.level = core::TrainingLevel::kLocal;
  a.members_trained = 15 + n;
  a.recorded_at = absl::FromUnixMicros(1790000000000000 + n);
  return a;
}

using ::ruta::testing::StoreBackend;

// Runs on both backends (the store conformance suite).
class ActivityStoreTest : public ::testing::TestWithParam<StoreBackend> {
 protected:
  void SetUp() override {
    RUTA_SKIP_WITHOUT_POSTGRES(GetParam());
    auto scratch = ::ruta::testing::ScratchStore::Create(GetParam());
    ASSERT_TRUE(scratch.ok()) << scratch.status();
    scratch_ = *std::move(scratch);
    Open();
  }

  void Open() {
    store_.reset();
    absl::StatusOr<std::unique_ptr<Store>> store = scratch_->Open();
    ASSERT_TRUE(store.ok()) << store.status();
    store_ = *std::move(store);
  }

  absl::Status Put(const core::Activity& a) {
    return store_->WriteSync([&](WriteTxn& txn) { return txn.PutActivity(a); });
  }
  absl::StatusOr<std::optional<core::Activity>> Find(const std::string& id) {
    std::optional<core::Activity> out;
    absl::Status s = store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
      absl::StatusOr<std::optional<core::Activity>> r = txn.FindActivity(id);
      if (!r.ok()) return r.status();
      out = *r;
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  absl::StatusOr<ActivityPage> List(const ActivityFilter& filter,
                                    const std::string& after, int limit) {
    ActivityPage out;
    absl::Status s = store_->ReadSync([&](ReadTxn& txn) -> absl::Status {
      absl::StatusOr<ActivityPage> r = txn.ListActivities(filter, after, limit);
      if (!r.ok()) return r.status();
      out = *std::move(r);
      return absl::OkStatus();
    });
    if (!s.ok()) return s;
    return out;
  }
  // Every activity of `filter`, following the pages of `limit`.
  std::vector<std::string> AllIds(const ActivityFilter& filter, int limit) {
    std::vector<std::string> ids;
    std::string after;
    for (int guard = 0; guard < 100; ++guard) {
      absl::StatusOr<ActivityPage> page = List(filter, after, limit);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_LE(page->activities.size(), static_cast<size_t>(limit));
      for (const core::Activity& a : page->activities) {
        ids.push_back(a.activity_id);
      }
      if (page->next_after.empty()) break;
      after = page->next_after;
    }
    return ids;
  }

  std::unique_ptr<::ruta::testing::ScratchStore> scratch_;
  std::unique_ptr<Store> store_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ActivityStoreTest,
                         ::testing::Values(StoreBackend::kSqlite,
                                           StoreBackend::kPostgres),
                         ::ruta::testing::StoreBackendName);

TEST_P(ActivityStoreTest, PutAndFindBothKinds) {
  const core::Activity awareness = Awareness(1, kCusco, 2026, 9);
  const core::Activity training = Training(2, kMdd, 2026, 10);
  ASSERT_OK(Put(awareness));
  ASSERT_OK(Put(training));
  absl::StatusOr<std::optional<core::Activity>> a = Find(ActivityId(1));
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE(a->has_value());
  EXPECT_EQ(**a, awareness);
  EXPECT_EQ((*a)->people_reached, 101);
  EXPECT_EQ((*a)->members_trained, 0);
  absl::StatusOr<std::optional<core::Activity>> t = Find(ActivityId(2));
  ASSERT_TRUE(t.ok() && t->has_value());
  EXPECT_EQ(**t, training);
  EXPECT_EQ((*t)->members_trained, 17);
  EXPECT_EQ((*t)->level, core::TrainingLevel::kLocal);
  EXPECT_TRUE((*t)->campaign.empty());

  absl::StatusOr<std::optional<core::Activity>> none = Find(ActivityId(3));
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->has_value());

  // Kept across a reopen.
  store_.reset();
  Open();
  a = Find(ActivityId(1));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ(**a, awareness);
}

TEST_P(ActivityStoreTest, PutRefusesATakenIdAndMissingFields) {
  ASSERT_OK(Put(Awareness(1, kCusco, 2026, 9)));
  core::Activity again = Training(1, kCusco, 2026, 1);
  EXPECT_EQ(Put(again).code(), absl::StatusCode::kAlreadyExists);
  // The first one is unchanged.
  absl::StatusOr<std::optional<core::Activity>> a = Find(ActivityId(1));
  ASSERT_TRUE(a.ok() && a->has_value());
  EXPECT_EQ((*a)->kind, core::ActivityKind::kAwareness);

  core::Activity no_region = Awareness(2, "", 2026, 9);
  EXPECT_EQ(Put(no_region).code(), absl::StatusCode::kInvalidArgument);
  core::Activity no_id = Awareness(3, kCusco, 2026, 9);
  no_id.activity_id.clear();
  EXPECT_EQ(Put(no_id).code(), absl::StatusCode::kInvalidArgument);
  // The schema refuses what the domain never produces.
  core::Activity zero = Awareness(4, kCusco, 2026, 9);
  zero.people_reached = 0;
  EXPECT_FALSE(Put(zero).ok());
}

TEST_P(ActivityStoreTest, PagesByIdWithinTheRegion) {
  // 23 in cusco (ids interleaved with 7 of madre-de-dios).
  std::vector<std::string> cusco;
  for (int n = 0; n < 30; ++n) {
    const bool mdd = n % 4 == 3;
    ASSERT_OK(Put(n % 2 == 0
                      ? Awareness(n, mdd ? kMdd : kCusco, 2026, 1 + n % 12)
                      : Training(n, mdd ? kMdd : kCusco, 2025, 1 + n % 12)));
    if (!mdd) cusco.push_back(ActivityId(n));
  }
  ActivityFilter filter;
  filter.region = kCusco;
  EXPECT_EQ(AllIds(filter, 100), cusco);
  EXPECT_EQ(AllIds(filter, 5), cusco);
  EXPECT_EQ(AllIds(filter, 1), cusco);
  EXPECT_EQ(AllIds(filter, 23), cusco);
  // Exactly one full page: no next page.
  absl::StatusOr<ActivityPage> page = List(filter, "", 23);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->activities.size(), 23u);
  EXPECT_TRUE(page->next_after.empty());
  page = List(filter, "", 22);
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->next_after, cusco[21]);

  filter.region = kMdd;
  EXPECT_EQ(AllIds(filter, 2).size(), 7u);
  filter.region = "elsewhere";
  EXPECT_TRUE(AllIds(filter, 10).empty());
}

TEST_P(ActivityStoreTest, FiltersByMonthRange) {
  // One activity per month from 2025-11 to 2026-04.
  const std::vector<core::YearMonth> months = {
      {2025, 11}, {2025, 12}, {2026, 1}, {2026, 2}, {2026, 3}, {2026, 4}};
  for (size_t i = 0; i < months.size(); ++i) {
    ASSERT_OK(Put(Awareness(static_cast<int>(i), kCusco, months[i].year,
                            months[i].month)));
  }
  auto ids = [&](core::YearMonth from, core::YearMonth to) {
    ActivityFilter filter;
    filter.region = kCusco;
    filter.from_month = from;
    filter.to_month = to;
    return AllIds(filter, 2);
  };
  EXPECT_EQ(ids({}, {}).size(), 6u);
  // Across the year boundary, bounds included.
  EXPECT_EQ(
      ids({2025, 12}, {2026, 2}),
      (std::vector<std::string>{ActivityId(1), ActivityId(2), ActivityId(3)}));
  EXPECT_EQ(ids({2026, 3}, {}),
            (std::vector<std::string>{ActivityId(4), ActivityId(5)}));
  EXPECT_EQ(ids({}, {2025, 11}), (std::vector<std::string>{ActivityId(0)}));
  EXPECT_TRUE(ids({2026, 5}, {2026, 12}).empty());
}

TEST_P(ActivityStoreTest, ListRefusesBadArguments) {
  ActivityFilter filter;
  filter.region = kCusco;
  EXPECT_EQ(List(filter, "", 0).status().code(),
            absl::StatusCode::kInvalidArgument);
  filter.region.clear();
  EXPECT_EQ(List(filter, "", 10).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::store
