// `ruta activity ...`: building the requests from the flags, and printing
// activities.
#include "ruta/cli/activity_requests.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/cli/output.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;

AwarenessFlags GoodAwareness() {
  AwarenessFlags f;
  f.campaign = "  No te dejes engañar ";
  f.province = "0812";
  f.month = "2026-09";
  f.people = 120;
  return f;
}

TrainingFlags GoodTraining() {
  TrainingFlags f;
  f.level = "LOCAL";
  f.province = "1701";
  f.month = "2026-10";
  f.members = 15;
  return f;
}

TEST(ActivityRequestsTest, Awareness) {
  absl::StatusOr<ruta::v1::RecordActivityRequest> request =
      BuildAwarenessRequest(GoodAwareness());
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_TRUE(request->has_awareness());
  EXPECT_FALSE(request->has_training());
  EXPECT_EQ(request->awareness().campaign(), "No te dejes engañar");
  EXPECT_EQ(request->awareness().province(), "0812");
  EXPECT_EQ(request->awareness().month().year(), 2026);
  EXPECT_EQ(request->awareness().month().month(), 9);
  EXPECT_EQ(request->awareness().people_reached(), 120);
  EXPECT_TRUE(request->request_id().empty());  // stamped when sending

  struct Bad {
    void (*mutate)(AwarenessFlags&);
    const char* flag;
  };
  const Bad bads[] = {
      {[](AwarenessFlags& f) { f.campaign = "  "; }, "--campaign"},
      {[](AwarenessFlags& f) { f.province = "08"; }, "--province"},
      {[](AwarenessFlags& f) { f.province = "081201"; }, "--province"},
      {[](AwarenessFlags& f) { f.month = "2026-13"; }, "--month"},
      {[](AwarenessFlags& f) { f.month = "09/2026"; }, "--month"},
      {[](AwarenessFlags& f) { f.people = 0; }, "--people"},
      {[](AwarenessFlags& f) { f.people = 1000001; }, "--people"},
  };
  for (const Bad& bad : bads) {
    AwarenessFlags f = GoodAwareness();
    bad.mutate(f);
    absl::StatusOr<ruta::v1::RecordActivityRequest> r =
        BuildAwarenessRequest(f);
    ASSERT_FALSE(r.ok()) << bad.flag;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(r.status().message(), HasSubstr(bad.flag));
  }
}

TEST(ActivityRequestsTest, Training) {
  absl::StatusOr<ruta::v1::RecordActivityRequest> request =
      BuildTrainingRequest(GoodTraining());
  ASSERT_TRUE(request.ok()) << request.status();
  ASSERT_TRUE(request->has_training());
  EXPECT_EQ(request->training().level(), ruta::v1::TRAINING_LEVEL_LOCAL);
  EXPECT_EQ(request->training().province(), "1701");
  EXPECT_EQ(request->training().month().month(), 10);
  EXPECT_EQ(request->training().members_trained(), 15);

  TrainingFlags f = GoodTraining();
  f.level = "community";
  EXPECT_EQ(BuildTrainingRequest(f)->training().level(),
            ruta::v1::TRAINING_LEVEL_COMMUNITY);
  f.level = "national";
  absl::StatusOr<ruta::v1::RecordActivityRequest> r = BuildTrainingRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("--level"));
  EXPECT_THAT(r.status().message(), HasSubstr("regional"));
  f = GoodTraining();
  f.level = "unspecified";
  EXPECT_FALSE(BuildTrainingRequest(f).ok());
  f = GoodTraining();
  f.members = -3;
  r = BuildTrainingRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("--members"));
}

TEST(ActivityRequestsTest, List) {
  ListActivitiesFlags f;
  absl::StatusOr<ruta::v1::ListActivitiesRequest> r =
      BuildListActivitiesRequest(f);
  ASSERT_TRUE(r.ok());
  EXPECT_FALSE(r->has_from_month());
  EXPECT_FALSE(r->has_to_month());
  f.from_month = "2026-01";
  f.to_month = "2026-12";
  f.page_size = 20;
  f.page_token = "abc";
  r = BuildListActivitiesRequest(f);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->from_month().month(), 1);
  EXPECT_EQ(r->to_month().month(), 12);
  EXPECT_EQ(r->page_size(), 20);
  EXPECT_EQ(r->page_token(), "abc");
  f.from_month = "2027-01";
  r = BuildListActivitiesRequest(f);
  ASSERT_FALSE(r.ok());
  EXPECT_THAT(r.status().message(), HasSubstr("--from 2027-01 is after --to"));
  f.from_month = "2026-1";
  EXPECT_FALSE(BuildListActivitiesRequest(f).ok());
  f.from_month.clear();
  f.page_size = 101;
  EXPECT_FALSE(BuildListActivitiesRequest(f).ok());
}

TEST(ActivityOutputTest, RecordsAndRows) {
  ruta::v1::Activity awareness;
  awareness.set_activity_id("ac_abcdefghijklmnopqrst");
  awareness.set_region("cusco");
  awareness.mutable_awareness()->set_campaign("No te dejes engañar");
  awareness.mutable_awareness()->set_province("0812");
  awareness.mutable_awareness()->mutable_month()->set_year(2026);
  awareness.mutable_awareness()->mutable_month()->set_month(9);
  awareness.mutable_awareness()->set_people_reached(120);
  std::ostringstream out;
  WriteActivityRecord(out, awareness);
  EXPECT_THAT(out.str(), HasSubstr("kind"));
  EXPECT_THAT(out.str(), HasSubstr("awareness\n"));
  EXPECT_THAT(out.str(), HasSubstr("No te dejes engañar\n"));
  EXPECT_THAT(out.str(), HasSubstr("2026-09\n"));
  EXPECT_THAT(out.str(), HasSubstr("120\n"));
  EXPECT_EQ(ActivityTableRow(awareness),
            (std::vector<std::string>{"ac_abcdefghijklmnopqrst", "awareness",
                                      "2026-09", "0812", "-", "120",
                                      "No te dejes engañar"}));

  ruta::v1::Activity training;
  training.set_activity_id("ac_bbbbbbbbbbbbbbbbbbbb");
  training.set_region("madre-de-dios");
  training.mutable_training()->set_level(ruta::v1::TRAINING_LEVEL_REGIONAL);
  training.mutable_training()->set_province("1701");
  training.mutable_training()->mutable_month()->set_year(2026);
  training.mutable_training()->mutable_month()->set_month(10);
  training.mutable_training()->set_members_trained(15);
  out.str("");
  WriteActivityRecord(out, training);
  EXPECT_THAT(out.str(), HasSubstr("training\n"));
  EXPECT_THAT(out.str(), HasSubstr("regional\n"));
  EXPECT_THAT(out.str(), HasSubstr("members_trained"));
  EXPECT_EQ(
      ActivityTableRow(training),
      (std::vector<std::string>{"ac_bbbbbbbbbbbbbbbbbbbb", "training",
                                "2026-10", "1701", "regional", "15", "-"}));
  EXPECT_EQ(ActivityTableHeader().size(), ActivityTableRow(training).size());
}

}  // namespace
}  // namespace ruta::cli
