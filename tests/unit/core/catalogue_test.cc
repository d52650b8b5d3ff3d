// ids.h, ubigeo.h, profile.h, domain names.
#include <map>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/domain.h"
#include "ruta/core/ids.h"
#include "ruta/core/profile.h"
#include "ruta/core/ubigeo.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;

// --- ids ---------------------------------------------------------------------

TEST(IdsTest, NewCaseIdFormatAndUniqueness) {
  std::set<std::string> ids;
  std::map<char, int> letters;
  for (int i = 0; i < 5000; ++i) {
    const std::string id = NewCaseId();
    ASSERT_TRUE(IsValidCaseId(id)) << id;
    ids.insert(id);
    for (char c : id.substr(3)) ++letters[c];
  }
  EXPECT_EQ(ids.size(), 5000u);
  // 100000 letters over 26: each about 3846; a biased modulo would show.
  ASSERT_EQ(letters.size(), 26u);
  for (const auto& [c, n] : letters) {
    EXPECT_GT(n, 3400) << c;
    EXPECT_LT(n, 4300) << c;
  }
}

TEST(IdsTest, IsValidCaseId) {
  EXPECT_TRUE(IsValidCaseId("cs_abcdefghijklmnopqrst"));
  EXPECT_FALSE(IsValidCaseId("cs_abcdefghijklmnopqrs"));
  EXPECT_FALSE(IsValidCaseId("cs_abcdefghijklmnopqrstu"));
  EXPECT_FALSE(IsValidCaseId("cs_abcdefghijklmnopqrsT"));
  EXPECT_FALSE(IsValidCaseId("cs_abcdefghijklmnopqrs1"));
  EXPECT_FALSE(IsValidCaseId("cx_abcdefghijklmnopqrst"));
  EXPECT_FALSE(IsValidCaseId(""));
}

TEST(IdsTest, IsValidRequestId) {
  EXPECT_TRUE(IsValidRequestId("123e4567-e89b-12d3-a456-426614174000"));
  EXPECT_TRUE(IsValidRequestId("123E4567-E89B-12D3-A456-426614174000"));
  EXPECT_FALSE(IsValidRequestId("123E4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(IsValidRequestId("123e4567e89b12d3a456426614174000"));
  EXPECT_FALSE(IsValidRequestId("123e4567-e89b-12d3-a456-42661417400"));
  EXPECT_FALSE(IsValidRequestId("123e4567-e89b-12d3-a456-4266141740000"));
  EXPECT_FALSE(IsValidRequestId("123e4567-e89b-12d3-a456_426614174000"));
  EXPECT_FALSE(IsValidRequestId("g23e4567-e89b-12d3-a456-426614174000"));
  EXPECT_FALSE(IsValidRequestId("{23e4567-e89b-12d3-a456-426614174000}"));
  EXPECT_FALSE(IsValidRequestId(""));
}

TEST(IdsTest, PageTokensRoundTrip) {
  const std::string id = NewCaseId();
  const std::string token = EncodePageToken(id);
  EXPECT_THAT(token, ::testing::Not(HasSubstr(id)));
  for (char c : token) {
    EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c)) || c == '-' ||
                c == '_')
        << token;
  }
  EXPECT_EQ(*DecodePageToken(token), id);
  EXPECT_EQ(*DecodePageToken(""), "");
}

TEST(IdsTest, ForeignPageTokensAreRejected) {
  const std::string good = EncodePageToken("cs_abcdefghijklmnopqrst");
  for (const std::string& bad :
       {std::string("garbage!"), std::string("cs_abcdefghijklmnopqrst"),
        good.substr(0, good.size() - 2), good + "AAAA",
        EncodePageToken("cs_short"), EncodePageToken("'; DROP TABLE cases"),
        std::string(500, 'A')}) {
    const auto after = DecodePageToken(bad);
    ASSERT_EQ(after.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(std::string(after.status().message()),
                HasSubstr("page_token is not a token this server issued"));
  }
}

// --- UBIGEO ------------------------------------------------------------------

TEST(UbigeoTest, Has196Provinces) {
  EXPECT_EQ(UbigeoProvinceCount(), 196);
  const auto all = AllUbigeoProvinces();
  EXPECT_EQ(all.size(), 196u);
  EXPECT_TRUE(std::is_sorted(all.begin(), all.end()));
  EXPECT_EQ(std::set<std::string_view>(all.begin(), all.end()).size(), 196u);
  for (std::string_view code : all) EXPECT_TRUE(IsKnownProvince(code)) << code;
  // Provinces per department, as published by INEI.
  const std::map<std::string, int> counts = {
      {"01", 7},  {"02", 20}, {"03", 7},  {"04", 8}, {"05", 11},
      {"06", 13}, {"07", 1},  {"08", 13}, {"09", 7}, {"10", 11},
      {"11", 5},  {"12", 9},  {"13", 12}, {"14", 3}, {"15", 10},
      {"16", 8},  {"17", 3},  {"18", 3},  {"19", 3}, {"20", 8},
      {"21", 13}, {"22", 10}, {"23", 4},  {"24", 3}, {"25", 4}};
  std::map<std::string, int> got;
  for (std::string_view code : all) ++got[std::string(code.substr(0, 2))];
  EXPECT_EQ(got, counts);
}

TEST(UbigeoTest, KnownAndUnknownProvinces) {
  EXPECT_TRUE(IsKnownProvince("0813"));
  EXPECT_FALSE(IsKnownProvince("0814"));
  EXPECT_TRUE(IsKnownProvince("1703"));
  EXPECT_FALSE(IsKnownProvince("1704"));
  EXPECT_TRUE(IsKnownProvince("0101"));
  EXPECT_TRUE(IsKnownProvince("0701"));
  EXPECT_FALSE(IsKnownProvince("0702"));
  EXPECT_TRUE(IsKnownProvince("2504"));
  EXPECT_FALSE(IsKnownProvince("2601"));
  EXPECT_FALSE(IsKnownProvince("0800"));
  EXPECT_FALSE(IsKnownProvince("0001"));
  EXPECT_FALSE(IsKnownProvince("081"));
  EXPECT_FALSE(IsKnownProvince("08130"));
  EXPECT_FALSE(IsKnownProvince("08a3"));
  EXPECT_FALSE(IsKnownProvince(""));
}

TEST(UbigeoTest, Names) {
  EXPECT_EQ(ProvinceName("0809"), "La Convención");
  EXPECT_EQ(ProvinceName("0812"), "Quispicanchi");
  EXPECT_EQ(ProvinceName("0813"), "Urubamba");
  EXPECT_EQ(ProvinceName("1701"), "Tambopata");
  EXPECT_EQ(ProvinceName("1702"), "Manu");
  EXPECT_EQ(ProvinceName("1703"), "Tahuamanu");
  EXPECT_EQ(ProvinceName("0814"), std::nullopt);
  EXPECT_EQ(ProvinceName("1501"), std::nullopt);  // known, no name kept
  EXPECT_EQ(DepartmentName("08"), "Cusco");
  EXPECT_EQ(DepartmentName("17"), "Madre de Dios");
  EXPECT_EQ(DepartmentName("21"), "Puno");
  EXPECT_EQ(DepartmentName("26"), std::nullopt);
  for (int d = 1; d <= 25; ++d) {
    char code[3];
    std::snprintf(code, sizeof(code), "%02d", d);
    EXPECT_TRUE(DepartmentName(code).has_value()) << code;
  }
}

TEST(UbigeoTest, Districts) {
  EXPECT_TRUE(IsWellFormedDistrict("081301"));
  EXPECT_TRUE(IsWellFormedDistrict("170101"));
  EXPECT_FALSE(IsWellFormedDistrict("081300"));
  EXPECT_FALSE(IsWellFormedDistrict("081401"));
  EXPECT_FALSE(IsWellFormedDistrict("0813"));
  EXPECT_FALSE(IsWellFormedDistrict("08130a"));
  EXPECT_FALSE(IsWellFormedDistrict("0813011"));
}

// --- profile -----------------------------------------------------------------

const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 28, 12, 0, 0), absl::UTCTimeZone());

Profile GoodProfile() {
  Profile p;
  p.age_band = AgeBand::k12To14;
  p.sex = Sex::kFemale;
  p.origin_province = "0812";
  p.exploitation_forms = {ExploitationForm::kSexual};
  p.setting = Setting::kBar;
  p.recruitment_means = RecruitmentMeans::kFalseJobOffer;
  p.identified_month = {2026, 8};
  return p;
}

void ExpectRejected(const Profile& p, CaseKind kind, const std::string& field) {
  const absl::Status s = ValidateProfile(p, kind, kNow);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
  EXPECT_THAT(std::string(s.message()), HasSubstr(field));
}

TEST(ProfileTest, GoodProfileIsValid) {
  EXPECT_TRUE(ValidateProfile(GoodProfile(), CaseKind::kVictim, kNow).ok());
  EXPECT_TRUE(ValidateProfile(GoodProfile(), CaseKind::kPrevention, kNow).ok());
  EXPECT_TRUE(ValidateProfile(GoodProfile(), CaseKind::kVictim).ok());
}

TEST(ProfileTest, EveryEnumMustBeSpecifiedAndKnown) {
  Profile p = GoodProfile();
  p.age_band = AgeBand::kUnspecified;
  ExpectRejected(p, CaseKind::kVictim, "profile.age_band");
  p.age_band = static_cast<AgeBand>(6);
  ExpectRejected(p, CaseKind::kVictim, "profile.age_band");
  p = GoodProfile();
  p.sex = Sex::kUnspecified;
  ExpectRejected(p, CaseKind::kPrevention, "profile.sex");
  p.sex = static_cast<Sex>(-1);
  ExpectRejected(p, CaseKind::kVictim, "profile.sex");
  p = GoodProfile();
  p.setting = Setting::kUnspecified;
  ExpectRejected(p, CaseKind::kVictim, "profile.setting");
  p.setting = static_cast<Setting>(7);
  ExpectRejected(p, CaseKind::kPrevention, "profile.setting");
  p = GoodProfile();
  p.recruitment_means = RecruitmentMeans::kUnspecified;
  ExpectRejected(p, CaseKind::kVictim, "profile.recruitment_means");
  p.recruitment_means = static_cast<RecruitmentMeans>(6);
  ExpectRejected(p, CaseKind::kPrevention, "profile.recruitment_means");
  p = GoodProfile();
  p.exploitation_forms = {ExploitationForm::kUnspecified};
  ExpectRejected(p, CaseKind::kVictim, "profile.exploitation_forms");
  p.exploitation_forms = {static_cast<ExploitationForm>(9)};
  ExpectRejected(p, CaseKind::kVictim, "profile.exploitation_forms");
  ExpectRejected(GoodProfile(), CaseKind::kUnspecified, "kind");
}

TEST(ProfileTest, PreventionMayOmitExploitationDetails) {
  Profile p = GoodProfile();
  p.exploitation_forms.clear();
  ExpectRejected(p, CaseKind::kVictim, "profile.exploitation_forms");
  p.setting = Setting::kUnspecified;
  p.recruitment_means = RecruitmentMeans::kUnspecified;
  EXPECT_TRUE(ValidateProfile(p, CaseKind::kPrevention, kNow).ok());
}

TEST(ProfileTest, FormsAreNormalized) {
  Profile p = GoodProfile();
  p.exploitation_forms = {ExploitationForm::kOther, ExploitationForm::kSexual,
                          ExploitationForm::kOther, ExploitationForm::kLabour};
  ExpectRejected(p, CaseKind::kVictim, "profile.exploitation_forms");
  NormalizeProfile(&p);
  EXPECT_EQ(p.exploitation_forms,
            (std::vector<ExploitationForm>{ExploitationForm::kSexual,
                                           ExploitationForm::kLabour,
                                           ExploitationForm::kOther}));
  EXPECT_TRUE(ValidateProfile(p, CaseKind::kVictim, kNow).ok());
}

TEST(ProfileTest, OriginProvinceMustBeInTheCatalogue) {
  for (const char* bad : {"0814", "081201", "08", "", "abcd", "1704"}) {
    Profile p = GoodProfile();
    p.origin_province = bad;
    ExpectRejected(p, CaseKind::kVictim, "profile.origin_province");
  }
  Profile p = GoodProfile();
  p.origin_province = "1703";
  EXPECT_TRUE(ValidateProfile(p, CaseKind::kVictim, kNow).ok());
}

TEST(ProfileTest, IdentifiedMonth) {
  Profile p = GoodProfile();
  for (YearMonth bad :
       {YearMonth{2026, 0}, YearMonth{2026, 13}, YearMonth{2026, 12},
        YearMonth{2027, 1}, YearMonth{1999, 12}, YearMonth{0, 0}}) {
    p.identified_month = bad;
    ExpectRejected(p, CaseKind::kVictim, "profile.identified_month");
  }
  for (YearMonth ok : {YearMonth{2026, 11}, YearMonth{2000, 1}}) {
    p.identified_month = ok;
    EXPECT_TRUE(ValidateProfile(p, CaseKind::kVictim, kNow).ok());
  }
}

TEST(ProfileTest, QuarterOf) {
  EXPECT_EQ(QuarterOf({2026, 1}), "2026Q1");
  EXPECT_EQ(QuarterOf({2026, 3}), "2026Q1");
  EXPECT_EQ(QuarterOf({2026, 7}), "2026Q3");
  EXPECT_EQ(QuarterOf({2026, 9}), "2026Q3");
  EXPECT_EQ(QuarterOf({2026, 12}), "2026Q4");
}

// --- names -------------------------------------------------------------------

TEST(DomainTest, NamesAreProtoNamesWithoutPrefix) {
  EXPECT_STREQ(StageName(Stage::kImmediateProtection), "IMMEDIATE_PROTECTION");
  EXPECT_STREQ(StageName(Stage::kPreventionSupport), "PREVENTION_SUPPORT");
  EXPECT_STREQ(StageName(Stage::kUnspecified), "UNSPECIFIED");
  EXPECT_STREQ(StageName(static_cast<Stage>(13)), "UNKNOWN");
  EXPECT_STREQ(ClosedReasonName(ClosedReason::kReachedMajority),
               "REACHED_MAJORITY");
  EXPECT_STREQ(CaseKindName(CaseKind::kPrevention), "PREVENTION");
  EXPECT_STREQ(AgeBandName(AgeBand::k18Plus), "18_PLUS");
  EXPECT_STREQ(SexName(Sex::kFemale), "FEMALE");
  EXPECT_STREQ(LegalBasisName(LegalBasis::kUpeProtectiveMeasure),
               "UPE_PROTECTIVE_MEASURE");
  EXPECT_TRUE(IsSpecified(Stage::kPreventionSupport));
  EXPECT_FALSE(IsSpecified(Stage::kUnspecified));
  EXPECT_FALSE(IsSpecified(static_cast<Stage>(13)));
  EXPECT_FALSE(IsSpecified(static_cast<Stage>(-1)));
}

}  // namespace
}  // namespace ruta::core
