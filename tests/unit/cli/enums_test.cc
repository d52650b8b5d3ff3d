#include "ruta/cli/enums.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/v1/common.pb.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;

TEST(EnumsTest, ParsesLowercaseHyphenatedValues) {
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::Stage>("--stage", "immediate-protection"),
            ruta::v1::STAGE_IMMEDIATE_PROTECTION);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::CaseKind>("--kind", "victim"),
            ruta::v1::CASE_KIND_VICTIM);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::Setting>("--setting", "mining-camp"),
            ruta::v1::SETTING_MINING_CAMP);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::RecruitmentMeans>("--recruitment",
                                                       "false-job-offer"),
            ruta::v1::RECRUITMENT_MEANS_FALSE_JOB_OFFER);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::LegalBasis>("--legal-basis",
                                                 "upe-protective-measure"),
            ruta::v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE);
  EXPECT_EQ(
      *ParseEnumFlag<ruta::v1::ClosedReason>("--reason", "reached-majority"),
      ruta::v1::CLOSED_REASON_REACHED_MAJORITY);
}

TEST(EnumsTest, AgeBands) {
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::AgeBand>("--age-band", "0-5"),
            ruta::v1::AGE_BAND_0_5);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::AgeBand>("--age-band", "15-17"),
            ruta::v1::AGE_BAND_15_17);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::AgeBand>("--age-band", "18+"),
            ruta::v1::AGE_BAND_18_PLUS);
  EXPECT_EQ(EnumFlagName(ruta::v1::AGE_BAND_18_PLUS), "18+");
  EXPECT_EQ(EnumFlagName(ruta::v1::AGE_BAND_12_14), "12-14");
}

TEST(EnumsTest, IsCaseInsensitiveAndAcceptsUnderscores) {
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::Stage>("--stage", "Residential_Care"),
            ruta::v1::STAGE_RESIDENTIAL_CARE);
  EXPECT_EQ(*ParseEnumFlag<ruta::v1::Sex>("--sex", " FEMALE "),
            ruta::v1::SEX_FEMALE);
}

TEST(EnumsTest, RejectsUnknownValuesListingTheValidOnes) {
  absl::StatusOr<ruta::v1::Sex> sex =
      ParseEnumFlag<ruta::v1::Sex>("--sex", "f");
  ASSERT_FALSE(sex.ok());
  EXPECT_EQ(sex.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(sex.status().message(), HasSubstr("--sex"));
  EXPECT_THAT(sex.status().message(), HasSubstr("female, male, other"));

  absl::StatusOr<ruta::v1::AgeBand> band =
      ParseEnumFlag<ruta::v1::AgeBand>("--age-band", "16");
  ASSERT_FALSE(band.ok());
  EXPECT_THAT(band.status().message(),
              HasSubstr("0-5, 6-11, 12-14, 15-17, 18+"));
}

TEST(EnumsTest, NeverAcceptsUnspecified) {
  EXPECT_FALSE(ParseEnumFlag<ruta::v1::Stage>("--stage", "unspecified").ok());
  EXPECT_FALSE(ParseEnumFlag<ruta::v1::Stage>("--stage", "").ok());
  EXPECT_FALSE(ParseEnumFlag<ruta::v1::Stage>("--stage", "0").ok());
}

TEST(EnumsTest, AllowedSubset) {
  const std::vector<ruta::v1::Stage> first = {ruta::v1::STAGE_DETECTED,
                                              ruta::v1::STAGE_IDENTIFIED};
  EXPECT_TRUE(
      ParseEnumFlag<ruta::v1::Stage>("--stage", "detected", first).ok());
  absl::StatusOr<ruta::v1::Stage> stage =
      ParseEnumFlag<ruta::v1::Stage>("--stage", "follow-up", first);
  ASSERT_FALSE(stage.ok());
  EXPECT_THAT(stage.status().message(),
              HasSubstr("valid values: detected, identified"));
}

TEST(EnumsTest, Lists) {
  absl::StatusOr<std::vector<ruta::v1::ExploitationForm>> forms =
      ParseEnumListFlag<ruta::v1::ExploitationForm>(
          "--exploitation", {"sexual,labour", "domestic-servitude", "sexual"});
  ASSERT_TRUE(forms.ok()) << forms.status();
  EXPECT_EQ(*forms, (std::vector<ruta::v1::ExploitationForm>{
                        ruta::v1::EXPLOITATION_FORM_SEXUAL,
                        ruta::v1::EXPLOITATION_FORM_LABOUR,
                        ruta::v1::EXPLOITATION_FORM_DOMESTIC_SERVITUDE}));
  absl::StatusOr<std::vector<ruta::v1::ExploitationForm>> bad =
      ParseEnumListFlag<ruta::v1::ExploitationForm>("--exploitation",
                                                    {"sexual,slavery"});
  ASSERT_FALSE(bad.ok());
  EXPECT_THAT(bad.status().message(), HasSubstr("forced-begging"));
  EXPECT_FALSE(
      ParseEnumListFlag<ruta::v1::ExploitationForm>("--exploitation", {","})
          .ok());
}

TEST(EnumsTest, FlagNames) {
  EXPECT_EQ(EnumFlagName(ruta::v1::STAGE_PREVENTION_SUPPORT),
            "prevention-support");
  EXPECT_EQ(EnumFlagName(ruta::v1::STAGE_UNSPECIFIED), "-");
  EXPECT_EQ(EnumFlagName(static_cast<ruta::v1::Stage>(99)), "unknown(99)");
}

TEST(RegionsTest, NormalizesSlugsAndTheCuzcoAlias) {
  EXPECT_EQ(*NormalizeRegion("--server-region", "cusco"), "cusco");
  EXPECT_EQ(*NormalizeRegion("--server-region", "Cuzco"), "cusco");
  EXPECT_EQ(*NormalizeRegion("--server-region", "CUZCO"), "cusco");
  EXPECT_EQ(*NormalizeRegion("--server-region", "Madre-de-Dios"),
            "madre-de-dios");
  EXPECT_EQ(*NormalizeRegion("--server-region", "madre de dios"),
            "madre-de-dios");
  EXPECT_EQ(*NormalizeRegion("--server-region", "puno"), "puno");
}

TEST(RegionsTest, RejectsNonSlugs) {
  for (const char* text : {"", "c", "cusco1", "cusco.ruta.pe", "-cusco"}) {
    absl::StatusOr<std::string> region =
        NormalizeRegion("--server-region", text);
    EXPECT_FALSE(region.ok()) << text;
  }
  EXPECT_THAT(NormalizeRegion("RUTA_SERVER_REGION", "x1").status().message(),
              HasSubstr("RUTA_SERVER_REGION"));
}

}  // namespace
}  // namespace ruta::cli
