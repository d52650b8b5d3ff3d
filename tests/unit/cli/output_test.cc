#include "ruta/cli/output.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;

ruta::v1::Case SampleCase() {
  ruta::v1::Case record;
  record.set_case_id("cs_abcdefghijklmnopqrst");
  record.set_person_ref("pr1_abcdefghijklmnopabcdefghijklmnop");
  record.set_kind(ruta::v1::CASE_KIND_VICTIM);
  record.set_owner_region("madre-de-dios");
  record.set_stage(ruta::v1::STAGE_RESIDENTIAL_CARE);
  record.set_version(3);
  ruta::v1::Profile& profile = *record.mutable_profile();
  profile.set_age_band(ruta::v1::AGE_BAND_15_17);
  profile.set_sex(ruta::v1::SEX_FEMALE);
  profile.set_origin_province("0812");
  profile.add_exploitation_forms(ruta::v1::EXPLOITATION_FORM_SEXUAL);
  profile.add_exploitation_forms(ruta::v1::EXPLOITATION_FORM_LABOUR);
  profile.set_setting(ruta::v1::SETTING_MINING_CAMP);
  profile.set_recruitment_means(ruta::v1::RECRUITMENT_MEANS_FALSE_JOB_OFFER);
  profile.mutable_identified_month()->set_year(2026);
  profile.mutable_identified_month()->set_month(10);
  record.set_legal_basis(ruta::v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE);
  record.mutable_opened_at()->set_seconds(1791000000);  // 2026-10-03 UTC
  return record;
}

TEST(OutputTest, CaseRecordIsAKeyValueBlock) {
  std::ostringstream out;
  WriteCaseRecord(out, SampleCase());
  const std::string text = out.str();
  EXPECT_THAT(text,
              HasSubstr("case_id                  cs_abcdefghijklmnopqrst\n"));
  EXPECT_THAT(text, HasSubstr("stage                    residential-care\n"));
  EXPECT_THAT(text, HasSubstr("exploitation             sexual,labour\n"));
  EXPECT_THAT(text, HasSubstr("identified_month         2026-10\n"));
  EXPECT_THAT(text, HasSubstr("opened                   2026-10\n"));
  EXPECT_THAT(text, HasSubstr("updated                  -\n"));
  EXPECT_THAT(text, HasSubstr("age_band                 15-17\n"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("closed_reason")));
}

TEST(OutputTest, TableAlignsColumns) {
  Table table({"A", "BB", "C"});
  table.AddRow({"xxx", "y", "z"});
  std::ostringstream out;
  table.Write(out);
  EXPECT_EQ(out.str(), "A    BB  C\nxxx  y   z\n");
  EXPECT_EQ(table.rows(), 1u);
}

TEST(OutputTest, CaseRowShowsClosedReason) {
  ruta::v1::Case record = SampleCase();
  record.set_stage(ruta::v1::STAGE_CLOSED);
  record.set_closed_reason(ruta::v1::CLOSED_REASON_REINTEGRATED);
  const std::vector<std::string> row = CaseTableRow(record);
  ASSERT_EQ(row.size(), CaseTableHeader().size());
  EXPECT_EQ(row[2], "closed(reintegrated)");
}

TEST(OutputTest, JsonUsesProtoFieldNamesAndPrintsEveryField) {
  ruta::v1::GetCaseResponse response;
  *response.mutable_case_() = SampleCase();
  const std::string json = ToJson(response, /*one_line=*/true);
  EXPECT_THAT(json, HasSubstr("\"case_id\":\"cs_abcdefghijklmnopqrst\""));
  EXPECT_THAT(json, HasSubstr("\"stage\":\"STAGE_RESIDENTIAL_CARE\""));
  EXPECT_THAT(json, HasSubstr("\"consent_partner_sharing\":false"));
  EXPECT_EQ(json.find('\n'), std::string::npos);
  EXPECT_NE(ToJson(response, /*one_line=*/false).find('\n'), std::string::npos);
}

TEST(OutputTest, FindPerson) {
  ruta::v1::FindPersonResponse response;
  response.set_person_ref("pr0_abcdefghijklmnopabcdefghijklmnop");
  response.set_linked(false);
  std::ostringstream out;
  WriteFindPerson(out, response);
  EXPECT_EQ(out.str(),
            "person_ref  pr0_abcdefghijklmnopabcdefghijklmnop\n"
            "linked      no\n"
            "cases       0\n");
}

TEST(OutputTest, Months) {
  ruta::v1::YearMonth month;
  EXPECT_EQ(FormatYearMonth(month), "-");
  month.set_year(2026);
  month.set_month(3);
  EXPECT_EQ(FormatYearMonth(month), "2026-03");
  EXPECT_FALSE(ParseOutputFormat("yaml").ok());
}

ruta::v1::Transfer SampleTransfer() {
  ruta::v1::Transfer record;
  record.set_transfer_id("tr_abcdefghijklmnopqrst");
  record.set_case_id("cs_abcdefghijklmnopqrst");
  record.set_from_region("madre-de-dios");
  record.set_to_region("cusco");
  record.set_destination_province("0801");
  record.add_requested_services(ruta::v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  record.add_requested_services(ruta::v1::SERVICE_TYPE_PSYCHOSOCIAL);
  record.set_state(ruta::v1::TRANSFER_STATE_ACCEPTED);
  record.mutable_requested_on()->set_year(2026);
  record.mutable_requested_on()->set_month(10);
  record.mutable_requested_on()->set_day(3);
  record.mutable_accepted_on()->set_year(2026);
  record.mutable_accepted_on()->set_month(10);
  record.mutable_accepted_on()->set_day(5);
  record.mutable_requested_month()->set_year(2026);
  record.mutable_requested_month()->set_month(10);
  record.set_version(2);
  return record;
}

ruta::v1::ServiceRecord SampleService() {
  ruta::v1::ServiceRecord record;
  record.set_service_id("sv_abcdefghijklmnopqrst");
  record.set_case_id("cs_abcdefghijklmnopqrst");
  record.set_type(ruta::v1::SERVICE_TYPE_VOCATIONAL_TRAINING);
  record.set_provider("cusco/tdh");
  record.set_status(ruta::v1::SERVICE_STATUS_ONGOING);
  record.mutable_start_month()->set_year(2026);
  record.mutable_start_month()->set_month(11);
  record.set_version(1);
  return record;
}

TEST(OutputTest, Dates) {
  ruta::v1::Date date;
  EXPECT_EQ(FormatDate(date), "-");
  date.set_year(2026);
  date.set_month(3);
  date.set_day(9);
  EXPECT_EQ(FormatDate(date), "2026-03-09");
}

TEST(OutputTest, TransferRecordIsAKeyValueBlock) {
  std::ostringstream out;
  WriteTransferRecord(out, SampleTransfer());
  EXPECT_EQ(out.str(),
            "transfer_id           tr_abcdefghijklmnopqrst\n"
            "case_id               cs_abcdefghijklmnopqrst\n"
            "from_region           madre-de-dios\n"
            "to_region             cusco\n"
            "destination_province  0801\n"
            "requested_services    education-support,psychosocial\n"
            "state                 accepted\n"
            "requested_on          2026-10-03\n"
            "accepted_on           2026-10-05\n"
            "departed_on           -\n"
            "received_on           -\n"
            "version               2\n");
}

TEST(OutputTest, RejectedTransferShowsReasonAndNote) {
  ruta::v1::Transfer record = SampleTransfer();
  record.set_state(ruta::v1::TRANSFER_STATE_REJECTED);
  record.set_reject_reason(ruta::v1::REJECT_REASON_NO_CAPACITY);
  record.set_note("sin cupo\nen marzo");
  record.clear_accepted_on();
  record.clear_requested_services();
  std::ostringstream out;
  WriteTransferRecord(out, record);
  EXPECT_THAT(out.str(),
              HasSubstr("state                 rejected\n"
                        "reject_reason         no-capacity\n"
                        "note                  sin cupo en marzo\n"));
  EXPECT_THAT(out.str(), HasSubstr("requested_services    -\n"));

  const std::vector<std::string> row = TransferTableRow(record);
  EXPECT_EQ(row, (std::vector<std::string>{
                     "tr_abcdefghijklmnopqrst", "cs_abcdefghijklmnopqrst",
                     "madre-de-dios", "cusco", "0801", "rejected(no-capacity)",
                     "2026-10-03", "-", "-", "-", "2", "sin cupo en marzo"}));
}

TEST(OutputTest, TransferTable) {
  Table table(TransferTableHeader());
  ruta::v1::Transfer record = SampleTransfer();
  table.AddRow(TransferTableRow(record));
  record.set_state(ruta::v1::TRANSFER_STATE_IN_TRANSIT);
  record.mutable_departed_on()->set_year(2026);
  record.mutable_departed_on()->set_month(10);
  record.mutable_departed_on()->set_day(20);
  record.set_version(3);
  table.AddRow(TransferTableRow(record));
  std::ostringstream out;
  table.Write(out);
  EXPECT_EQ(out.str(),
            "TRANSFER_ID              CASE_ID                  FROM           "
            "TO     PROVINCE  STATE       REQUESTED   ACCEPTED    DEPARTED    "
            "RECEIVED  VERSION  NOTE\n"
            "tr_abcdefghijklmnopqrst  cs_abcdefghijklmnopqrst  madre-de-dios  "
            "cusco  0801      accepted    2026-10-03  2026-10-05  -           "
            "-         2        -\n"
            "tr_abcdefghijklmnopqrst  cs_abcdefghijklmnopqrst  madre-de-dios  "
            "cusco  0801      in-transit  2026-10-03  2026-10-05  2026-10-20  "
            "-         3        -\n");
}

TEST(OutputTest, TransferRequestedMonthWhenNoDay) {
  ruta::v1::Transfer record = SampleTransfer();
  record.clear_requested_on();
  EXPECT_EQ(TransferTableRow(record)[6], "2026-10");
}

TEST(OutputTest, TransferJson) {
  ruta::v1::GetTransferResponse response;
  *response.mutable_transfer() = SampleTransfer();
  const std::string json = ToJson(response, /*one_line=*/true);
  EXPECT_THAT(json, HasSubstr("\"transfer_id\":\"tr_abcdefghijklmnopqrst\""));
  EXPECT_THAT(json, HasSubstr("\"state\":\"TRANSFER_STATE_ACCEPTED\""));
  EXPECT_THAT(json, HasSubstr("\"requested_services\":[\"SERVICE_TYPE_"
                              "EDUCATION_SUPPORT\",\"SERVICE_TYPE_"
                              "PSYCHOSOCIAL\"]"));
  EXPECT_THAT(json, HasSubstr("\"accepted_on\":{\"year\":2026,\"month\":10,"
                              "\"day\":5}"));
  EXPECT_THAT(json, HasSubstr("\"reject_reason\":\"REJECT_REASON_"
                              "UNSPECIFIED\""));
  EXPECT_THAT(json, HasSubstr("\"note\":\"\""));
}

TEST(OutputTest, WatchRowsStartWithTheCursor) {
  ruta::v1::WatchTransfersResponse update;
  *update.mutable_transfer() = SampleTransfer();
  update.set_cursor("c42");
  const std::vector<std::string> row = WatchTableRow(update);
  ASSERT_EQ(row.size(), WatchTableHeader().size());
  EXPECT_EQ(WatchTableHeader()[0], "CURSOR");
  EXPECT_EQ(row[0], "c42");
  EXPECT_EQ(row[1], "tr_abcdefghijklmnopqrst");
  EXPECT_EQ(ToJson(update, /*one_line=*/true).find('\n'), std::string::npos);
  EXPECT_THAT(ToJson(update, /*one_line=*/true),
              HasSubstr("\"cursor\":\"c42\""));
}

TEST(OutputTest, StreamTableGrowsItsColumns) {
  StreamTable table({"A", "BB", "C"});
  std::ostringstream out;
  table.WriteHeader(out);
  table.WriteRow(out, {"x", "y", "z z"});
  table.WriteRow(out, {"xxxx", "y", "z"});
  table.WriteRow(out, {"x", "y", "z"});
  EXPECT_EQ(out.str(),
            "A  BB  C\n"
            "x  y   z z\n"
            "xxxx  y   z\n"
            "x     y   z\n");

  StreamTable wide({"A", "B"}, {3});
  std::ostringstream wide_out;
  wide.WriteHeader(wide_out);
  wide.WriteRow(wide_out, {"x", "y"});
  EXPECT_EQ(wide_out.str(), "A    B\nx    y\n");
  EXPECT_EQ(WatchTableWidths().size(), WatchTableHeader().size());
}

TEST(OutputTest, ServiceRecordAndRow) {
  std::ostringstream out;
  WriteServiceRecord(out, SampleService());
  EXPECT_EQ(out.str(),
            "service_id   sv_abcdefghijklmnopqrst\n"
            "case_id      cs_abcdefghijklmnopqrst\n"
            "type         vocational-training\n"
            "provider     cusco/tdh\n"
            "status       ongoing\n"
            "start_month  2026-11\n"
            "end_month    -\n"
            "version      1\n");

  ruta::v1::ServiceRecord record = SampleService();
  record.clear_provider();
  record.set_status(ruta::v1::SERVICE_STATUS_COMPLETED);
  record.mutable_end_month()->set_year(2027);
  record.mutable_end_month()->set_month(2);
  Table table(ServiceTableHeader());
  table.AddRow(ServiceTableRow(record));
  std::ostringstream rows;
  table.Write(rows);
  EXPECT_EQ(rows.str(),
            "SERVICE_ID               CASE_ID                  TYPE           "
            "      PROVIDER  STATUS     START    END      VERSION\n"
            "sv_abcdefghijklmnopqrst  cs_abcdefghijklmnopqrst  "
            "vocational-training  -         completed  2026-11  2027-02  1\n");
}

TEST(OutputTest, ServiceJson) {
  ruta::v1::AddServiceResponse response;
  *response.mutable_service() = SampleService();
  const std::string json = ToJson(response, /*one_line=*/true);
  EXPECT_THAT(json, HasSubstr("\"service\":{\"service_id\":"
                              "\"sv_abcdefghijklmnopqrst\""));
  EXPECT_THAT(json, HasSubstr("\"type\":\"SERVICE_TYPE_VOCATIONAL_TRAINING\""));
  EXPECT_THAT(json, HasSubstr("\"status\":\"SERVICE_STATUS_ONGOING\""));
  EXPECT_THAT(json, HasSubstr("\"start_month\":{\"year\":2026,"
                              "\"month\":11}"));
}

}  // namespace
}  // namespace ruta::cli
