#include "ruta/cli/service_requests.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;

constexpr char kService[] = "sv_abcdefghijklmnopqrst";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";

TEST(ServiceRequestsTest, ServiceIds) {
  EXPECT_TRUE(ValidateServiceId("SERVICE_ID", kService).ok());
  for (const char* bad :
       {"sv_", "sv_abcdefghijklmnopqrs", kCase, "sv_ABCDEFGHIJKLMNOPQRST",
        "sv_abcdefghijklmnopqrs-"}) {
    absl::Status status = ValidateServiceId("SERVICE_ID", bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_THAT(status.message(), HasSubstr("SERVICE_ID"));
    EXPECT_THAT(status.message(), HasSubstr("\"sv_\" followed by 20 letters"));
  }
}

TEST(ServiceRequestsTest, PartnerIds) {
  EXPECT_EQ(*NormalizePartnerId("--provider", "cusco/tdh"), "cusco/tdh");
  EXPECT_EQ(*NormalizePartnerId("--provider", "Cuzco/TDH"), "cusco/tdh");
  EXPECT_EQ(*NormalizePartnerId("--provider", "madre-de-dios/casa-2"),
            "madre-de-dios/casa-2");
  for (const char* bad : {"tdh", "cusco/", "/tdh", "cusco/-tdh", "cusco/t dh",
                          "cus co/tdh", "cusco/tdh/x", "c/tdh"}) {
    absl::StatusOr<std::string> id = NormalizePartnerId("--provider", bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_THAT(id.status().message(), HasSubstr("--provider"));
    EXPECT_THAT(id.status().message(), HasSubstr("REGION/NAME"));
  }
}

TEST(ServiceRequestsTest, Add) {
  AddServiceFlags flags;
  flags.case_id = kCase;
  flags.type = "family_economic_support";
  flags.provider = "cusco/tdh";
  flags.status = "planned";
  flags.start_month = "2026-11";
  absl::StatusOr<ruta::v1::AddServiceRequest> request =
      BuildAddServiceRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->case_id(), kCase);
  EXPECT_EQ(request->type(), ruta::v1::SERVICE_TYPE_FAMILY_ECONOMIC_SUPPORT);
  EXPECT_EQ(request->provider(), "cusco/tdh");
  EXPECT_EQ(request->status(), ruta::v1::SERVICE_STATUS_PLANNED);
  EXPECT_EQ(request->start_month().year(), 2026);
  EXPECT_EQ(request->start_month().month(), 11);

  flags.provider.clear();  // the authority itself
  EXPECT_EQ(BuildAddServiceRequest(flags)->provider(), "");

  AddServiceFlags bad = flags;
  bad.type = "school";
  absl::Status status = BuildAddServiceRequest(bad).status();
  EXPECT_THAT(status.message(), HasSubstr("--type"));
  EXPECT_THAT(status.message(), HasSubstr("identity-documents"));
  bad = flags;
  bad.status = "done";
  EXPECT_THAT(BuildAddServiceRequest(bad).status().message(),
              HasSubstr("planned, ongoing, completed, dropped"));
  bad = flags;
  bad.start_month = "2026-11-01";
  EXPECT_THAT(BuildAddServiceRequest(bad).status().message(),
              HasSubstr("--start"));
  bad = flags;
  bad.case_id = kService;
  EXPECT_THAT(BuildAddServiceRequest(bad).status().message(),
              HasSubstr("CASE_ID"));
}

TEST(ServiceRequestsTest, Update) {
  UpdateServiceFlags flags;
  flags.service_id = kService;
  flags.status = "completed";
  flags.end_month = "2027-03";
  flags.expected_version = 4;
  absl::StatusOr<ruta::v1::UpdateServiceRequest> request =
      BuildUpdateServiceRequest(flags);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->service_id(), kService);
  EXPECT_EQ(request->status(), ruta::v1::SERVICE_STATUS_COMPLETED);
  EXPECT_EQ(request->end_month().month(), 3);
  EXPECT_EQ(request->expected_version(), 4);

  flags.status = "ongoing";
  EXPECT_THAT(BuildUpdateServiceRequest(flags).status().message(),
              HasSubstr("--end"));
  flags.end_month.clear();
  request = BuildUpdateServiceRequest(flags);
  ASSERT_TRUE(request.ok());
  EXPECT_FALSE(request->has_end_month());

  UpdateServiceFlags bad = flags;
  bad.expected_version = -1;
  EXPECT_THAT(BuildUpdateServiceRequest(bad).status().message(),
              HasSubstr("--expected-version"));
  bad = flags;
  bad.status = "dropped";
  bad.end_month = "2027-3";
  EXPECT_THAT(BuildUpdateServiceRequest(bad).status().message(),
              HasSubstr("--end"));
  bad = flags;
  bad.service_id = "sv_1";
  EXPECT_THAT(BuildUpdateServiceRequest(bad).status().message(),
              HasSubstr("SERVICE_ID"));
}

TEST(ServiceRequestsTest, List) {
  ListServicesFlags flags;
  flags.case_id = kCase;
  flags.page_size = 10;
  flags.page_token = "t";
  absl::StatusOr<ruta::v1::ListServicesRequest> request =
      BuildListServicesRequest(flags);
  ASSERT_TRUE(request.ok());
  EXPECT_EQ(request->case_id(), kCase);
  EXPECT_EQ(request->page_size(), 10);
  EXPECT_EQ(request->page_token(), "t");
  flags.page_size = -1;
  EXPECT_FALSE(BuildListServicesRequest(flags).ok());
  flags.page_size = 0;
  flags.case_id = "cs_";
  EXPECT_FALSE(BuildListServicesRequest(flags).ok());
}

}  // namespace
}  // namespace ruta::cli
