// CaseOffice.RecordActivity and ListActivities over real mutual TLS against
// an in-process node (Madre de Dios, UBIGEO department 17): both kinds of
// activity, idempotent retries, listing with pages and month ranges, and the
// refusals (identifiers in the campaign, a province of another region, a
// future month, a caller without the office role).
#include <cstdio>
#include <memory>
#include <set>
#include <string>

#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::MakeChannel;
using ::testing::Not;

constexpr char kMdd[] = "madre-de-dios";

std::string RequestId(int i) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "a0000000-0000-4000-8000-%012d", i);
  return buffer;
}

// The month `back` months before the current one in Peru (so that the test
// does not depend on the date it runs).
v1::YearMonth MonthsAgo(int back) {
  absl::CivilMonth m = absl::CivilMonth(
      absl::ToCivilSecond(absl::Now(), absl::FixedTimeZone(-5 * 3600)));
  m -= back;
  v1::YearMonth out;
  out.set_year(static_cast<int32_t>(m.year()));
  out.set_month(m.month());
  return out;
}

v1::RecordActivityRequest Awareness(int request, const std::string& campaign,
                                    int months_ago, int64_t people) {
  v1::RecordActivityRequest r;
  r.set_request_id(RequestId(request));
  v1::AwarenessActivity* a = r.mutable_awareness();
  a->set_campaign(campaign);
  a->set_province("1701");
  *a->mutable_month() = MonthsAgo(months_ago);
  a->set_people_reached(people);
  return r;
}

v1::RecordActivityRequest Training(int request, int months_ago,
                                   int64_t members) {
  v1::RecordActivityRequest r;
  r.set_request_id(RequestId(request));
  v1::Training* t = r.mutable_training();
  t->set_level(v1::TRAINING_LEVEL_LOCAL);
  t->set_province("1702");
  *t->mutable_month() = MonthsAgo(months_ago);
  t->set_members_trained(members);
  return r;
}

class ActivitiesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::NodeSetup setup;
    setup.region = kMdd;
    node_ = InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  std::unique_ptr<v1::CaseOffice::Stub> Stub(const testing::KeyPair& who) {
    return v1::CaseOffice::NewStub(MakeChannel(node_->address(), who, kMdd));
  }
  std::unique_ptr<v1::CaseOffice::Stub> Office() {
    return Stub(DevPki::Get().Office(kMdd));
  }
  grpc::Status Record(const v1::RecordActivityRequest& request,
                      v1::RecordActivityResponse* response) {
    return Office()->RecordActivity(ContextWithDeadline().get(), request,
                                    response);
  }
  // Every activity matching `request`, following the pages.
  std::vector<v1::Activity> ListAll(v1::ListActivitiesRequest request) {
    std::vector<v1::Activity> out;
    auto office = Office();
    for (int page = 0; page < 100; ++page) {
      v1::ListActivitiesResponse response;
      grpc::Status status = office->ListActivities(ContextWithDeadline().get(),
                                                   request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (!status.ok()) break;
      out.insert(out.end(), response.activities().begin(),
                 response.activities().end());
      if (response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  }

  static InProcessNode* node_;
};
InProcessNode* ActivitiesTest::node_ = nullptr;

TEST_F(ActivitiesTest, RecordsBothKindsAndListsThem) {
  v1::RecordActivityResponse awareness;
  grpc::Status status =
      Record(Awareness(1, "  No te dejes engañar ", 2, 120), &awareness);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Activity& a = awareness.activity();
  EXPECT_THAT(a.activity_id(), ::testing::MatchesRegex("ac_[a-z]{20}"));
  EXPECT_EQ(a.region(), kMdd);
  ASSERT_TRUE(a.has_awareness());
  EXPECT_EQ(a.awareness().campaign(), "No te dejes engañar");  // trimmed
  EXPECT_EQ(a.awareness().province(), "1701");
  EXPECT_EQ(a.awareness().people_reached(), 120);
  EXPECT_EQ(a.awareness().month().month(), MonthsAgo(2).month());

  v1::RecordActivityResponse training;
  status = Record(Training(2, 1, 15), &training);
  ASSERT_TRUE(status.ok()) << status.error_message();
  ASSERT_TRUE(training.activity().has_training());
  EXPECT_EQ(training.activity().training().level(), v1::TRAINING_LEVEL_LOCAL);
  EXPECT_EQ(training.activity().training().members_trained(), 15);
  EXPECT_NE(training.activity().activity_id(), a.activity_id());

  // A retry (same request_id, same content) returns the same activity.
  v1::RecordActivityResponse retried;
  status = Record(Awareness(1, "  No te dejes engañar ", 2, 120), &retried);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(retried.activity().activity_id(), a.activity_id());
  // The same request_id for other content is refused.
  status = Record(Awareness(1, "No te dejes engañar", 2, 121), &retried);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));

  // A third, older activity; then list everything, by pages of one.
  v1::RecordActivityResponse older;
  ASSERT_TRUE(Record(Training(3, 6, 40), &older).ok());
  v1::ListActivitiesRequest list;
  list.set_page_size(1);
  std::vector<v1::Activity> all = ListAll(list);
  std::set<std::string> ids;
  for (const v1::Activity& x : all) ids.insert(x.activity_id());
  EXPECT_EQ(ids.size(), all.size()) << "an activity listed twice";
  EXPECT_TRUE(ids.count(a.activity_id()));
  EXPECT_TRUE(ids.count(training.activity().activity_id()));
  EXPECT_TRUE(ids.count(older.activity().activity_id()));

  // The month range leaves the older one out.
  v1::ListActivitiesRequest range;
  *range.mutable_from_month() = MonthsAgo(3);
  *range.mutable_to_month() = MonthsAgo(0);
  std::set<std::string> in_range;
  for (const v1::Activity& x : ListAll(range)) in_range.insert(x.activity_id());
  EXPECT_TRUE(in_range.count(a.activity_id()));
  EXPECT_TRUE(in_range.count(training.activity().activity_id()));
  EXPECT_FALSE(in_range.count(older.activity().activity_id()));

  // A reversed range is refused.
  *range.mutable_from_month() = MonthsAgo(0);
  *range.mutable_to_month() = MonthsAgo(3);
  v1::ListActivitiesResponse listed;
  EXPECT_EQ(Office()
                ->ListActivities(ContextWithDeadline().get(), range, &listed)
                .error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(ActivitiesTest, CampaignWithAnIdentifierIsRefused) {
  for (const char* campaign : {"Llama al 987 654 321", "Feria del 12/03/2026",
                               "Escribe a ana@ong.pe", "DNI 45678912"}) {
    v1::RecordActivityResponse response;
    grpc::Status status = Record(Awareness(10, campaign, 1, 50), &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << campaign;
    EXPECT_THAT(status.error_message(), HasSubstr("campaign")) << campaign;
    // The refusal never echoes the identifier.
    for (const char* part : {"987", "12/03/2026", "ana@", "45678912"}) {
      EXPECT_THAT(status.error_message(), Not(HasSubstr(part)));
    }
  }
  // Nothing was recorded under that request_id: it is still free.
  v1::RecordActivityResponse ok;
  EXPECT_TRUE(Record(Awareness(10, "Trata cero", 1, 50), &ok).ok());
}

TEST_F(ActivitiesTest, InvalidFieldsAreRefusedWithTheirName) {
  struct Bad {
    v1::RecordActivityRequest request;
    const char* message;
  };
  std::vector<Bad> bads;
  {
    v1::RecordActivityRequest r = Awareness(20, "Trata cero", 1, 50);
    r.mutable_awareness()->set_province("0812");  // Cusco's
    bads.push_back({r, "not in the department of region madre-de-dios"});
  }
  {
    v1::RecordActivityRequest r = Awareness(21, "Trata cero", -2, 50);
    bads.push_back({r, "in the future"});
  }
  {
    v1::RecordActivityRequest r = Awareness(22, "Trata | cero", 1, 50);
    bads.push_back({r, "'|'"});
  }
  {
    v1::RecordActivityRequest r = Awareness(23, "Trata cero", 1, 0);
    bads.push_back({r, "people_reached"});
  }
  {
    v1::RecordActivityRequest r = Training(24, 1, 15);
    r.mutable_training()->set_level(v1::TRAINING_LEVEL_UNSPECIFIED);
    bads.push_back({r, "training.level"});
  }
  {
    v1::RecordActivityRequest r;
    r.set_request_id(RequestId(25));
    bads.push_back({r, "awareness"});
  }
  {
    v1::RecordActivityRequest r = Awareness(26, std::string(121, 'a'), 1, 5);
    bads.push_back({r, "campaign"});
  }
  for (const Bad& bad : bads) {
    v1::RecordActivityResponse response;
    grpc::Status status = Record(bad.request, &response);
    EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << bad.message << ": " << status.error_message();
    EXPECT_THAT(status.error_message(), HasSubstr(bad.message));
  }
}

TEST_F(ActivitiesTest, OnlyOfficesRecordAndList) {
  auto dashboard = Stub(DevPki::Get().Leaf(kMdd, "dashboard", "mayors"));
  v1::RecordActivityResponse response;
  EXPECT_EQ(dashboard
                ->RecordActivity(ContextWithDeadline().get(),
                                 Awareness(30, "Trata cero", 1, 50), &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
  v1::ListActivitiesResponse listed;
  EXPECT_EQ(dashboard->ListActivities(ContextWithDeadline().get(), {}, &listed)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

}  // namespace
}  // namespace ruta
