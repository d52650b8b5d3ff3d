// `ruta partner ...` and `ruta case refer`: requests built from flags, the
// rows they print, and the generic resumable watch behind `partner watch`.
#include "ruta/cli/partner_requests.h"

#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/cli/watch.h"

namespace ruta::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRef[] = "pc_abcdefghijklmnopabcdefghijklmnop";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";
constexpr char kService[] = "sv_abcdefghijklmnopqrst";

TEST(PartnerRequestsTest, PartnerCaseRefs) {
  EXPECT_TRUE(ValidatePartnerCaseRef("REF", kRef).ok());
  for (const char* bad : {"pc_", "pc_abcdefghijklmnopabcdefghijklmno",
                          "pc_abcdefghijklmnopabcdefghijklmnoq",
                          "px_abcdefghijklmnopabcdefghijklmnop",
                          "pc_ABCDEFGHIJKLMNOPABCDEFGHIJKLMNOP", kCase}) {
    const absl::Status status = ValidatePartnerCaseRef("REF", bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_THAT(status.message(), HasSubstr("REF"));
    EXPECT_THAT(status.message(), HasSubstr("32 letters a to p"));
  }
}

TEST(PartnerRequestsTest, Refer) {
  auto request = BuildReferCaseRequest(kCase, "Cuzco/TDH", false);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->case_id(), kCase);
  EXPECT_EQ(request->partner_id(), "cusco/tdh");
  EXPECT_FALSE(request->withdraw());
  EXPECT_TRUE(BuildReferCaseRequest(kCase, "cusco/tdh", true)->withdraw());
  EXPECT_THAT(
      BuildReferCaseRequest("cs_1", "cusco/tdh", false).status().message(),
      HasSubstr("CASE_ID"));
  EXPECT_THAT(BuildReferCaseRequest(kCase, "tdh", false).status().message(),
              HasSubstr("PARTNER_ID"));
}

TEST(PartnerRequestsTest, Cases) {
  PartnerCasesFlags flags;
  flags.stage = "residential-care";
  flags.page_size = 20;
  auto request = BuildListReferredCasesRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->stage(), ruta::v1::STAGE_RESIDENTIAL_CARE);
  EXPECT_EQ(request->page_size(), 20);
  EXPECT_EQ(BuildListReferredCasesRequest({})->stage(),
            ruta::v1::STAGE_UNSPECIFIED);
  flags.stage = "shelter";
  EXPECT_THAT(BuildListReferredCasesRequest(flags).status().message(),
              HasSubstr("--stage"));
  flags.stage = "";
  flags.page_size = 101;
  EXPECT_FALSE(BuildListReferredCasesRequest(flags).ok());
}

TEST(PartnerRequestsTest, Status) {
  EXPECT_EQ(BuildGetCaseStatusRequest(kRef)->partner_case_ref(), kRef);
  EXPECT_THAT(BuildGetCaseStatusRequest(kCase).status().message(),
              HasSubstr("PARTNER_CASE_REF"));
}

TEST(PartnerRequestsTest, Service) {
  PartnerServiceFlags flags{kRef, kService, "COMPLETED", "2027-01"};
  auto request = BuildUpdateServiceStatusRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->status(), ruta::v1::SERVICE_STATUS_COMPLETED);
  EXPECT_EQ(request->end_month().year(), 2027);
  EXPECT_EQ(request->end_month().month(), 1);
  EXPECT_EQ(request->partner_case_ref(), kRef);
  EXPECT_EQ(request->service_id(), kService);

  flags.end_month = "";
  EXPECT_THAT(BuildUpdateServiceStatusRequest(flags).status().message(),
              HasSubstr("--end-month"));
  flags.status = "ongoing";
  EXPECT_TRUE(BuildUpdateServiceStatusRequest(flags).ok());
  flags.end_month = "2027-01";
  EXPECT_THAT(BuildUpdateServiceStatusRequest(flags).status().message(),
              HasSubstr("--end-month"));
  flags = {kRef, "sv_1", "ongoing", ""};
  EXPECT_THAT(BuildUpdateServiceStatusRequest(flags).status().message(),
              HasSubstr("SERVICE_ID"));
  flags = {kCase, kService, "ongoing", ""};
  EXPECT_THAT(BuildUpdateServiceStatusRequest(flags).status().message(),
              HasSubstr("PARTNER_CASE_REF"));
  flags = {kRef, kService, "finished", ""};
  EXPECT_THAT(BuildUpdateServiceStatusRequest(flags).status().message(),
              HasSubstr("--status"));
}

TEST(PartnerRequestsTest, Rows) {
  ruta::v1::WatchReferredCasesResponse update;
  update.set_cursor("abcd");
  ruta::v1::ReferredCase* c = update.mutable_case_();
  c->set_partner_case_ref(kRef);
  c->set_stage(ruta::v1::STAGE_FAMILY_CARE);
  c->mutable_referred_month()->set_year(2026);
  c->mutable_referred_month()->set_month(11);
  ruta::v1::PartnerService* s = c->add_services();
  s->set_service_id(kService);
  s->set_type(ruta::v1::SERVICE_TYPE_HEALTH);
  s->set_status(ruta::v1::SERVICE_STATUS_ONGOING);
  EXPECT_THAT(ReferredCaseTableRow(*c),
              ElementsAre(kRef, "family-care", "2026-11", "health:ongoing"));
  EXPECT_THAT(PartnerWatchTableRow(update),
              ElementsAre("abcd", kRef, "changed", "family-care", "2026-11",
                          "health:ongoing"));
  update.set_withdrawn(true);
  EXPECT_THAT(PartnerWatchTableRow(update),
              ElementsAre("abcd", kRef, "withdrawn", "-", "-", "-"));
  EXPECT_EQ(PartnerWatchTableHeader().size(),
            PartnerWatchTableRow(update).size());
  EXPECT_EQ(ReferredCaseTableHeader().size(), ReferredCaseTableRow(*c).size());

  ruta::v1::StageChange* change = c->add_timeline();
  change->set_stage(ruta::v1::STAGE_IDENTIFIED);
  change->mutable_month()->set_year(2026);
  change->mutable_month()->set_month(10);
  std::ostringstream out;
  WriteReferredCase(out, *c);
  EXPECT_THAT(out.str(), HasSubstr("2026-10 identified"));
  EXPECT_THAT(out.str(), HasSubstr(kService));
}

// The resumable loop of `ruta partner watch`: a stream that breaks after
// some updates is reopened after the last cursor handed on.
TEST(PartnerRequestsTest, FollowWithResumeResumesAfterTheLastCursor) {
  std::vector<std::string> requested, printed;
  int stream = 0;
  WatchPolicy policy;
  policy.retry.max_retries = 2;
  WatchHooks hooks;
  hooks.sleep = [](absl::Duration) { return true; };
  hooks.random = [] { return 0.5; };
  std::ostringstream err;
  const WatchOutcome outcome = FollowWithResume(
      policy, "",
      [&](const std::string& cursor,
          const std::function<void(const std::string&)>& delivered) {
        requested.push_back(cursor);
        ++stream;
        if (stream <= 3) {
          for (int i = 0; i < 2; ++i) {
            const std::string next =
                std::string("k") + static_cast<char>('a' + printed.size());
            printed.push_back(next);
            delivered(next);
          }
          return StreamEnd{
              grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed")};
        }
        return StreamEnd{grpc::Status(grpc::StatusCode::PERMISSION_DENIED,
                                      "not registered")};
      },
      "watch referred cases", err, hooks);
  EXPECT_THAT(requested, ElementsAre("", "kb", "kd", "kf"));
  EXPECT_THAT(printed, ElementsAre("ka", "kb", "kc", "kd", "ke", "kf"));
  EXPECT_EQ(outcome.cursor, "kf");
  EXPECT_EQ(outcome.updates, 6);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(err.str(), HasSubstr("ruta: watch referred cases: the stream "
                                   "ended (UNAVAILABLE: Socket closed)"));
}

}  // namespace
}  // namespace ruta::cli
