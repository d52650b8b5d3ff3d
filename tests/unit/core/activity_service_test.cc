// ActivityService against the in-memory FakeStore and the real SQLite store:
// validation, idempotent retries, the dashboard counters and the audit record
// written with each activity, and the paged listing.
#include "ruta/core/activity_service.h"

#include <stdlib.h>

#include <future>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/civil_time.h"
#include "fake_store.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/activities.h"
#include "ruta/core/ids.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;

constexpr char kCusco[] = "cusco";

std::string RequestId(int n) {
  return absl::StrFormat("6f1c2b9e-0000-4000-8000-%012d", n);
}

Actor Office(const std::string& region) {
  return Actor{absl::StrCat("spiffe://", region, ".ruta.pe/office/main"),
               region, "clerk-7"};
}

template <typename T, typename Fn>
absl::StatusOr<T> Await(Fn&& call) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  call([&promise](absl::StatusOr<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

RecordActivityCommand AwarenessCommand(int request) {
  RecordActivityCommand c;
  c.request_id = RequestId(request);
  c.kind = ActivityKind::kAwareness;
  c.campaign = "No te dejes engañar";
  c.province = "0812";
  c.month = {2026, 9};
  c.people_reached = 120;
  return c;
}

RecordActivityCommand TrainingCommand(int request) {
  RecordActivityCommand c;
  c.request_id = RequestId(request);
  c.kind = ActivityKind::kTraining;
  c.level = TrainingLevel::kLocal;
  c.province = "0801";
  c.month = {2026, 10};
  c.members_trained = 15;
  return c;
}

enum class Backend { kFake, kSqlite };

class ActivityServiceTest : public ::testing::TestWithParam<Backend> {
 protected:
  void SetUp() override {
    if (GetParam() == Backend::kFake) {
      auto fake = std::make_unique<testing::FakeStore>();
      fake_ = fake.get();
      store_ = std::move(fake);
    } else {
      std::string tmpl = ::testing::TempDir() + "/ruta_activity_XXXXXX";
      ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
      store::SqliteOptions options;
      options.path = tmpl + "/node.db";
      auto store = store::OpenSqliteStore(options);
      ASSERT_TRUE(store.ok()) << store.status();
      store_ = *std::move(store);
    }
    Make("08");
  }

  // A service for Cusco (department `department`) whose clock says
  // 2026-11-15 12:00 in Peru.
  void Make(const std::string& department) {
    ActivityServiceOptions options;
    options.region = kCusco;
    options.department = department;
    options.now = [] {
      return absl::FromCivil(absl::CivilSecond(2026, 11, 15, 12, 0, 0),
                             absl::FixedTimeZone(-5 * 60 * 60));
    };
    options.max_page_size = 10;
    options.default_page_size = 4;
    service_ = std::make_unique<ActivityService>(options, store_.get());
  }

  absl::StatusOr<Activity> Record(RecordActivityCommand c,
                                  const Actor& actor = Office(kCusco)) {
    return Await<Activity>([&](auto done) {
      service_->RecordActivity(actor, std::move(c), std::move(done));
    });
  }
  absl::StatusOr<ActivityList> List(ListActivitiesQuery q) {
    return Await<ActivityList>([&](auto done) {
      service_->ListActivities(Office(kCusco), std::move(q), std::move(done));
    });
  }
  int64_t Counter(std::string_view table, const std::string& key) {
    int64_t value = -1;
    EXPECT_TRUE(store_
                    ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                      absl::StatusOr<int64_t> v =
                          txn.GetAggregate(std::string(table), key);
                      if (!v.ok()) return v.status();
                      value = *v;
                      return absl::OkStatus();
                    })
                    .ok());
    return value;
  }
  int64_t AuditLength() {
    int64_t length = -1;
    EXPECT_TRUE(store_
                    ->ReadSync([&](store::ReadTxn& txn) -> absl::Status {
                      absl::StatusOr<store::AuditHead> head =
                          txn.GetAuditHead();
                      if (!head.ok()) return head.status();
                      length = head->length;
                      return absl::OkStatus();
                    })
                    .ok());
    return length;
  }

  testing::FakeStore* fake_ = nullptr;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<ActivityService> service_;
};

INSTANTIATE_TEST_SUITE_P(Backends, ActivityServiceTest,
                         ::testing::Values(Backend::kFake, Backend::kSqlite),
                         [](const auto& info) {
                           return info.param == Backend::kFake ? "Fake"
                                                               : "Sqlite";
                         });

TEST_P(ActivityServiceTest, RecordsAnAwarenessActivityAndCountsIt) {
  const std::string key = "cusco|2026Q3|0812|No te dejes engañar";
  EXPECT_EQ(AwarenessKey(kCusco, {2026, 9}, "0812", "No te dejes engañar"),
            key);
  absl::StatusOr<Activity> a = Record(AwarenessCommand(1));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_TRUE(IsValidActivityId(a->activity_id)) << a->activity_id;
  EXPECT_EQ(a->region, kCusco);
  EXPECT_EQ(a->kind, ActivityKind::kAwareness);
  EXPECT_EQ(a->campaign, "No te dejes engañar");
  EXPECT_EQ(a->province, "0812");
  EXPECT_EQ(a->month, (YearMonth{2026, 9}));
  EXPECT_EQ(a->people_reached, 120);
  EXPECT_EQ(Counter(kAwarenessPeopleReachedTable, key), 120);
  EXPECT_EQ(Counter(kAwarenessActivitiesTable, key), 1);

  // A second one of the same campaign, province and quarter adds up.
  RecordActivityCommand second = AwarenessCommand(2);
  second.month = {2026, 7};
  second.people_reached = 30;
  ASSERT_TRUE(Record(second).ok());
  EXPECT_EQ(Counter(kAwarenessPeopleReachedTable, key), 150);
  EXPECT_EQ(Counter(kAwarenessActivitiesTable, key), 2);
  // Another quarter is another key.
  RecordActivityCommand third = AwarenessCommand(3);
  third.month = {2026, 10};
  ASSERT_TRUE(Record(third).ok());
  EXPECT_EQ(Counter(kAwarenessPeopleReachedTable,
                    "cusco|2026Q4|0812|No te dejes engañar"),
            120);
  EXPECT_EQ(Counter(kAwarenessPeopleReachedTable, key), 150);
  // No training counted.
  EXPECT_EQ(Counter(kAuthorityMembersTrainedTable, "cusco|2026Q3|LOCAL|0812"),
            0);
}

TEST_P(ActivityServiceTest, RecordsATrainingAndCountsIt) {
  absl::StatusOr<Activity> t = Record(TrainingCommand(1));
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(t->kind, ActivityKind::kTraining);
  EXPECT_EQ(t->level, TrainingLevel::kLocal);
  EXPECT_EQ(t->members_trained, 15);
  EXPECT_TRUE(t->campaign.empty());
  EXPECT_EQ(Counter(kAuthorityMembersTrainedTable, "cusco|2026Q4|LOCAL|0801"),
            15);
  RecordActivityCommand community = TrainingCommand(2);
  community.level = TrainingLevel::kCommunity;
  community.members_trained = 40;
  ASSERT_TRUE(Record(community).ok());
  EXPECT_EQ(
      Counter(kAuthorityMembersTrainedTable, "cusco|2026Q4|COMMUNITY|0801"),
      40);
  EXPECT_EQ(Counter(kAuthorityMembersTrainedTable, "cusco|2026Q4|LOCAL|0801"),
            15);
}

TEST_P(ActivityServiceTest, RetryReturnsTheSameActivityAndCountsOnce) {
  const int64_t audit_before = AuditLength();
  absl::StatusOr<Activity> first = Record(AwarenessCommand(1));
  ASSERT_TRUE(first.ok()) << first.status();
  absl::StatusOr<Activity> retry = Record(AwarenessCommand(1));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_EQ(*retry, *first);
  const std::string key = "cusco|2026Q3|0812|No te dejes engañar";
  EXPECT_EQ(Counter(kAwarenessPeopleReachedTable, key), 120);
  EXPECT_EQ(Counter(kAwarenessActivitiesTable, key), 1);
  // Both calls are audited, in their own transaction.
  EXPECT_EQ(AuditLength(), audit_before + 2);
  absl::StatusOr<ActivityList> all = List({});
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->activities.size(), 1u);

  // The same request_id for something else is refused, and counts nothing.
  RecordActivityCommand other = AwarenessCommand(1);
  other.people_reached = 121;
  absl::StatusOr<Activity> refused = Record(other);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(refused.status().message(), HasSubstr("request_id"));
  EXPECT_EQ(Counter(kAwarenessPeopleReachedTable, key), 120);

  // A training retried is the same training.
  absl::StatusOr<Activity> t1 = Record(TrainingCommand(2));
  absl::StatusOr<Activity> t2 = Record(TrainingCommand(2));
  ASSERT_TRUE(t1.ok() && t2.ok());
  EXPECT_EQ(t1->activity_id, t2->activity_id);
  EXPECT_EQ(Counter(kAuthorityMembersTrainedTable, "cusco|2026Q4|LOCAL|0801"),
            15);
}

TEST_P(ActivityServiceTest, CampaignIsTrimmedAndKeyedTrimmed) {
  RecordActivityCommand c = AwarenessCommand(1);
  c.campaign = "  Trata cero \t";
  absl::StatusOr<Activity> a = Record(c);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->campaign, "Trata cero");
  EXPECT_EQ(Counter(kAwarenessActivitiesTable, "cusco|2026Q3|0812|Trata cero"),
            1);
}

struct BadCase {
  const char* name;
  void (*mutate)(RecordActivityCommand&);
  const char* message;  // a part of the expected message
};

TEST_P(ActivityServiceTest, InvalidRequestsAreRefusedAndRecordNothing) {
  const BadCase cases[] = {
      {"bad request id", [](auto& c) { c.request_id = "not-a-uuid"; },
       "request_id"},
      {"no kind", [](auto& c) { c.kind = ActivityKind::kUnspecified; },
       "awareness activity or a training"},
      {"unknown province", [](auto& c) { c.province = "0814"; },
       "UBIGEO province"},
      {"district, not province", [](auto& c) { c.province = "081201"; },
       "UBIGEO province"},
      {"province of another region", [](auto& c) { c.province = "1701"; },
       "not in the department of region cusco"},
      {"no month", [](auto& c) { c.month = {}; }, "month"},
      {"month 13",
       [](auto& c) {
         c.month = {2026, 13};
       },
       "month"},
      {"next month",
       [](auto& c) {
         c.month = {2026, 12};
       },
       "in the future"},
      {"next year",
       [](auto& c) {
         c.month = {2027, 1};
       },
       "in the future"},
      {"empty campaign", [](auto& c) { c.campaign = "   "; },
       "awareness.campaign is required"},
      {"campaign with separator", [](auto& c) { c.campaign = "Trata | cero"; },
       "'|'"},
      {"campaign with a phone", [](auto& c) { c.campaign = "Llama 987654321"; },
       "awareness.campaign"},
      {"campaign with a date", [](auto& c) { c.campaign = "Feria 12/03/2026"; },
       "awareness.campaign"},
      {"campaign of 121 characters",
       [](auto& c) { c.campaign = std::string(121, 'a'); }, "120"},
      {"nobody reached", [](auto& c) { c.people_reached = 0; },
       "awareness.people_reached must be between 1 and 1000000"},
      {"too many reached", [](auto& c) { c.people_reached = 1000001; },
       "awareness.people_reached"},
      {"negative reached", [](auto& c) { c.people_reached = -5; },
       "awareness.people_reached"},
      {"awareness with a level",
       [](auto& c) { c.level = TrainingLevel::kLocal; }, "no training level"},
  };
  for (const BadCase& bad : cases) {
    RecordActivityCommand c = AwarenessCommand(1);
    bad.mutate(c);
    absl::StatusOr<Activity> a = Record(c);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.name << ": " << a.status();
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(bad.message))
        << bad.name;
  }
  const BadCase training_cases[] = {
      {"no level", [](auto& c) { c.level = TrainingLevel::kUnspecified; },
       "training.level must be COMMUNITY, LOCAL or REGIONAL"},
      {"unknown level",
       [](auto& c) { c.level = static_cast<TrainingLevel>(9); },
       "training.level"},
      {"nobody trained", [](auto& c) { c.members_trained = 0; },
       "training.members_trained must be between 1 and 1000000"},
      {"too many trained", [](auto& c) { c.members_trained = 2000000; },
       "training.members_trained"},
      {"training with a campaign", [](auto& c) { c.campaign = "x"; },
       "no campaign"},
  };
  for (const BadCase& bad : training_cases) {
    RecordActivityCommand c = TrainingCommand(2);
    bad.mutate(c);
    absl::StatusOr<Activity> a = Record(c);
    EXPECT_EQ(a.status().code(), absl::StatusCode::kInvalidArgument)
        << bad.name << ": " << a.status();
    EXPECT_THAT(std::string(a.status().message()), HasSubstr(bad.message))
        << bad.name;
  }
  // Nothing was recorded or counted; the messages never echo the campaign.
  absl::StatusOr<ActivityList> all = List({});
  ASSERT_TRUE(all.ok());
  EXPECT_TRUE(all->activities.empty());
  EXPECT_EQ(AuditLength(), 0);
  RecordActivityCommand phone = AwarenessCommand(3);
  phone.campaign = "Llama 987654321";
  EXPECT_THAT(std::string(Record(phone).status().message()),
              ::testing::Not(HasSubstr("987654321")));
}

TEST_P(ActivityServiceTest, BoundsAreAccepted) {
  RecordActivityCommand c = AwarenessCommand(1);
  c.campaign = std::string(120, 'a');
  c.people_reached = 1000000;
  c.month = {2026, 11};  // the current month
  EXPECT_TRUE(Record(c).ok());
  RecordActivityCommand t = TrainingCommand(2);
  t.members_trained = 1;
  t.month = {2000, 1};
  t.level = TrainingLevel::kRegional;
  EXPECT_TRUE(Record(t).ok());
}

TEST_P(ActivityServiceTest, ProvinceOfAnyDepartmentWithoutOne) {
  RecordActivityCommand c = AwarenessCommand(1);
  c.province = "1701";
  EXPECT_EQ(Record(c).status().code(), absl::StatusCode::kInvalidArgument);
  Make("");
  EXPECT_TRUE(Record(c).ok());
  c.request_id = RequestId(2);
  c.province = "0814";  // still the catalogue
  EXPECT_EQ(Record(c).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST_P(ActivityServiceTest, AnotherRegionIsDenied) {
  EXPECT_EQ(
      Record(AwarenessCommand(1), Office("madre-de-dios")).status().code(),
      absl::StatusCode::kPermissionDenied);
  absl::StatusOr<ActivityList> list = Await<ActivityList>([&](auto done) {
    service_->ListActivities(Office("madre-de-dios"), {}, std::move(done));
  });
  EXPECT_EQ(list.status().code(), absl::StatusCode::kPermissionDenied);
}

TEST_P(ActivityServiceTest, ListsPagesAndMonthRanges) {
  // 9 activities, months 2026-01..2026-09.
  std::set<std::string> ids;
  for (int i = 0; i < 9; ++i) {
    RecordActivityCommand c =
        i % 2 == 0 ? AwarenessCommand(i) : TrainingCommand(i);
    c.month = {2026, i + 1};
    absl::StatusOr<Activity> a = Record(c);
    ASSERT_TRUE(a.ok()) << a.status();
    ids.insert(a->activity_id);
  }
  // Default page size 4: pages of 4, 4, 1, in id order.
  std::vector<std::string> seen;
  ListActivitiesQuery q;
  int pages = 0;
  do {
    absl::StatusOr<ActivityList> page = List(q);
    ASSERT_TRUE(page.ok()) << page.status();
    ++pages;
    EXPECT_LE(page->activities.size(), 4u);
    for (const Activity& a : page->activities) seen.push_back(a.activity_id);
    // More pages: a token (a registered firewall format, kToken).
    EXPECT_EQ(page->next_page_token.empty(), pages == 3);
    q.page_token = page->next_page_token;
  } while (!q.page_token.empty() && pages < 10);
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(std::set<std::string>(seen.begin(), seen.end()), ids);
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));

  ListActivitiesQuery range;
  range.page_size = 100;  // capped at 10
  range.from_month = {2026, 3};
  range.to_month = {2026, 5};
  absl::StatusOr<ActivityList> r = List(range);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->activities.size(), 3u);
  for (const Activity& a : r->activities) {
    EXPECT_GE(a.month.month, 3);
    EXPECT_LE(a.month.month, 5);
  }
  range.to_month = {};
  r = List(range);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->activities.size(), 7u);

  ListActivitiesQuery bad;
  bad.from_month = {2026, 6};
  bad.to_month = {2026, 5};
  EXPECT_EQ(List(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.from_month = {2026, 0};
  EXPECT_EQ(List(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.page_token = "zzz";
  EXPECT_EQ(List(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.page_token = EncodePageToken("cs_abcdefghijklmnopqrst");
  EXPECT_EQ(List(bad).status().code(), absl::StatusCode::kInvalidArgument);
  bad = {};
  bad.page_size = -1;
  EXPECT_EQ(List(bad).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ActivityCountersTest, KeysAndIncrements) {
  Activity a;
  a.region = "madre-de-dios";
  a.kind = ActivityKind::kTraining;
  a.level = TrainingLevel::kRegional;
  a.province = "1701";
  a.month = {2026, 12};
  a.members_trained = 7;
  std::vector<CounterIncrement> c = ActivityCounters(a);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].table, "authority_members_trained");
  EXPECT_EQ(c[0].key, "madre-de-dios|2026Q4|REGIONAL|1701");
  EXPECT_EQ(c[0].delta, 7);
  a.kind = ActivityKind::kAwareness;
  a.campaign = "Trata cero";
  a.people_reached = 90;
  a.month = {2026, 1};
  c = ActivityCounters(a);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].table, "awareness_people_reached");
  EXPECT_EQ(c[0].key, "madre-de-dios|2026Q1|1701|Trata cero");
  EXPECT_EQ(c[0].delta, 90);
  EXPECT_EQ(c[1].table, "awareness_activities");
  EXPECT_EQ(c[1].key, c[0].key);
  EXPECT_EQ(c[1].delta, 1);
  a.kind = ActivityKind::kUnspecified;
  EXPECT_TRUE(ActivityCounters(a).empty());
  EXPECT_EQ(QuarterOfMonth({2026, 3}), "2026Q1");
  EXPECT_EQ(QuarterOfMonth({2026, 4}), "2026Q2");
  EXPECT_STREQ(TrainingLevelName(TrainingLevel::kCommunity), "COMMUNITY");
}

}  // namespace
}  // namespace ruta::core
