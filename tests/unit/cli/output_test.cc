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

}  // namespace
}  // namespace ruta::cli
