// The Admin requests of `ruta admin person merge|case erase|linkage-key
// rotate`, the typed confirmation of an erasure, and the request, filter and
// table of `ruta admin audit export`.
#include "ruta/cli/admin_requests.h"

#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "google/protobuf/util/time_util.h"
#include "gtest/gtest.h"
#include "ruta/cli/prompt.h"

namespace ruta::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

constexpr char kRef[] = "pr0_abcdefghijklmnopabcdefghijklmnop";
constexpr char kOtherRef[] = "pr1_ponmlkjihgfedcbaponmlkjihgfedcba";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";

TEST(AdminRequestsTest, MergeSendsBothRefsInTheirOrder) {
  absl::StatusOr<ruta::v1::MergePersonsRequest> request =
      BuildMergePersonsRequest(kRef, kOtherRef);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->kept_ref(), kRef);
  EXPECT_EQ(request->merged_ref(), kOtherRef);
  // Stamped when sending, once per invocation.
  EXPECT_EQ(request->request_id(), "");
}

TEST(AdminRequestsTest, MergeRefusesMalformedAndRepeatedRefs) {
  absl::Status status = BuildMergePersonsRequest("pr1_abc", kOtherRef).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("REF \"pr1_abc\""));
  status = BuildMergePersonsRequest(kRef, kCase).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("OTHER_REF"));
  EXPECT_THAT(status.message(), HasSubstr("32 letters a-p"));
  status = BuildMergePersonsRequest(kRef, kRef).status();
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(status.message(), HasSubstr("same person_ref"));
}

TEST(AdminRequestsTest, EraseNeedsACaseId) {
  absl::StatusOr<ruta::v1::EraseCaseRequest> request =
      BuildEraseCaseRequest(kCase);
  ASSERT_TRUE(request.ok()) << request.status();
  EXPECT_EQ(request->case_id(), kCase);
  EXPECT_EQ(request->request_id(), "");
  for (const char* bad : {"", "cs_abc", "tr_abcdefghijklmnopqrst", kRef}) {
    const absl::Status status = BuildEraseCaseRequest(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("CASE_ID")) << bad;
  }
}

TEST(AdminRequestsTest, RotateTakesAVersionFrom1To999) {
  for (const auto& [text, version] :
       std::vector<std::pair<const char*, uint32_t>>{
           {"1", 1}, {"2", 2}, {"42", 42}, {"999", 999}}) {
    absl::StatusOr<ruta::v1::RotateLinkageKeyRequest> request =
        BuildRotateLinkageKeyRequest(text);
    ASSERT_TRUE(request.ok()) << text << ": " << request.status();
    EXPECT_EQ(request->new_version(), version);
    EXPECT_EQ(request->request_id(), "");
  }
  for (const char* bad :
       {"", "0", "1000", "-1", "+2", " 2", "2 ", "v2", "2.0", "0x2", "two"}) {
    const absl::Status status = BuildRotateLinkageKeyRequest(bad).status();
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_THAT(status.message(), HasSubstr("VERSION")) << bad;
    EXPECT_THAT(status.message(), HasSubstr("1 to 999")) << bad;
  }
}

bool Confirm(const std::string& typed, std::string* shown = nullptr) {
  std::istringstream in(typed);
  std::ostringstream err;
  const bool confirmed =
      ConfirmByTyping(in, err, "Type the case id to confirm: ", kCase);
  if (shown != nullptr) *shown = err.str();
  return confirmed;
}

TEST(ConfirmByTypingTest, OnlyTheExactIdConfirms) {
  std::string shown;
  EXPECT_TRUE(Confirm(std::string(kCase) + "\n", &shown));
  EXPECT_EQ(shown, "Type the case id to confirm: ");
  EXPECT_TRUE(Confirm(std::string("  ") + kCase + " \n"));
  EXPECT_TRUE(Confirm(kCase));  // no newline before the end of input
  EXPECT_FALSE(Confirm("cs_abcdefghijklmnopqrsu\n"));
  EXPECT_FALSE(Confirm("yes\n"));
  EXPECT_FALSE(Confirm("\n" + std::string(kCase) + "\n"));  // one try only
  EXPECT_FALSE(Confirm("CS_ABCDEFGHIJKLMNOPQRST\n"));
}

TEST(ConfirmByTypingTest, EndOfInputRefusesAndEndsThePromptLine) {
  std::string shown;
  EXPECT_FALSE(Confirm("", &shown));
  EXPECT_EQ(shown, "Type the case id to confirm: \n");
}

// ---- audit export -----------------------------------------------------------

constexpr char kOffice[] = "spiffe://cusco.ruta.pe/office/wanchaq";

ruta::v1::ExportAuditResponse Record(const std::string& principal,
                                     const std::string& clerk,
                                     const std::string& method) {
  ruta::v1::ExportAuditResponse record;
  record.set_index(41);
  record.set_principal(principal);
  record.set_on_behalf_of(clerk);
  record.set_method(method);
  record.set_outcome("OK");
  record.set_cursor("41");
  return record;
}

AuditFilter FilterOf(const AuditExportFlags& flags) {
  absl::StatusOr<AuditExport> plan = BuildAuditExport(flags);
  EXPECT_TRUE(plan.ok()) << plan.status();
  return plan.ok() ? plan->filter : AuditFilter();
}

absl::Status ExportError(const AuditExportFlags& flags) {
  return BuildAuditExport(flags).status();
}

TEST(AuditExportTest, NoFlagsReadEverythingFromTheStart) {
  absl::StatusOr<AuditExport> plan = BuildAuditExport({});
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->request.cursor(), "");
  EXPECT_EQ(plan->filter.limit, 0);
  EXPECT_TRUE(plan->filter.Matches(Record(kOffice, "", "CaseOffice.GetCase")));
  EXPECT_TRUE(plan->filter.Matches(Record("unauthenticated", "", "")));
}

TEST(AuditExportTest, TheCursorIsSentAsGiven) {
  AuditExportFlags flags;
  flags.cursor = "1234";
  absl::StatusOr<AuditExport> plan = BuildAuditExport(flags);
  ASSERT_TRUE(plan.ok()) << plan.status();
  EXPECT_EQ(plan->request.cursor(), "1234");
}

TEST(AuditExportTest, EachFilterNarrowsAndTheyCombine) {
  AuditExportFlags flags;
  flags.clerk = "rosa.quispe";
  AuditFilter clerk = FilterOf(flags);
  EXPECT_TRUE(clerk.Matches(Record(kOffice, "rosa.quispe", "X.Y")));
  EXPECT_FALSE(clerk.Matches(Record(kOffice, "rosa.quispe2", "X.Y")));
  EXPECT_FALSE(clerk.Matches(Record(kOffice, "rosa", "X.Y")));
  EXPECT_FALSE(clerk.Matches(Record(kOffice, "", "X.Y")));

  flags.principal = "office/wanchaq";
  AuditFilter both = FilterOf(flags);
  EXPECT_TRUE(both.Matches(Record(kOffice, "rosa.quispe", "X.Y")));
  EXPECT_FALSE(both.Matches(
      Record("spiffe://cusco.ruta.pe/office/santiago", "rosa.quispe", "X.Y")));

  flags.method = "CaseOffice.GetCase";
  AuditFilter all = FilterOf(flags);
  EXPECT_TRUE(
      all.Matches(Record(kOffice, "rosa.quispe", "CaseOffice.GetCase")));
  EXPECT_FALSE(
      all.Matches(Record(kOffice, "rosa.quispe", "CaseOffice.GetCases")));
  EXPECT_FALSE(
      all.Matches(Record(kOffice, "rosa.quispe", "caseoffice.getcase")));
}

TEST(AuditExportTest, TheLimitIsOneToAMillion) {
  AuditExportFlags flags;
  flags.has_limit = true;
  for (long long limit : {1LL, 1000000LL}) {
    flags.limit = limit;
    EXPECT_EQ(FilterOf(flags).limit, limit);
  }
  for (long long limit : {0LL, -1LL, 1000001LL}) {
    flags.limit = limit;
    const absl::Status status = ExportError(flags);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << limit;
    EXPECT_THAT(status.message(),
                HasSubstr("--limit must be a number from 1 to 1000000"));
  }
}

TEST(AuditExportTest, MalformedFlagsAreRefusedNamingTheFlag) {
  struct Case {
    AuditExportFlags flags;
    std::string says;
  };
  auto with = [](void (*set)(AuditExportFlags&)) {
    AuditExportFlags flags;
    set(flags);
    return flags;
  };
  const std::vector<Case> cases = {
      {with([](AuditExportFlags& f) { f.clerk = "Rosa.Quispe"; }),
       "--clerk \"Rosa.Quispe\" is not a clerk name: 1 to 64 of lowercase"},
      {with([](AuditExportFlags& f) { f.clerk = "rosa quispe"; }), "--clerk"},
      {with([](AuditExportFlags& f) { f.clerk = std::string(65, 'a'); }),
       "--clerk"},
      {with([](AuditExportFlags& f) { f.clerk = "rosa@wanchaq"; }), "--clerk"},
      {with([](AuditExportFlags& f) { f.cursor = "12 3"; }),
       "--cursor is not a cursor printed by `ruta admin audit export`"},
      {with([](AuditExportFlags& f) { f.cursor = std::string(257, '1'); }),
       "--cursor"},
      {with([](AuditExportFlags& f) { f.principal = "office wanchaq"; }),
       "--principal must be a SPIFFE id or part of one"},
      {with([](AuditExportFlags& f) { f.method = "getcase"; }),
       "--method \"getcase\" is not Service.Method"},
      {with([](AuditExportFlags& f) { f.method = "CaseOffice."; }), "--method"},
      {with([](AuditExportFlags& f) { f.method = "CaseOffice/GetCase"; }),
       "--method"},
      {with([](AuditExportFlags& f) { f.method = "caseOffice.GetCase"; }),
       "--method"},
  };
  for (const Case& c : cases) {
    const absl::Status status = ExportError(c.flags);
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << c.says;
    EXPECT_THAT(status.message(), HasSubstr(c.says));
  }
  // The longest valid values pass.
  AuditExportFlags longest;
  longest.clerk = std::string(64, 'z');
  longest.cursor = std::string(256, 'a');
  longest.method = "PartnerStatus.UpdateServiceStatus";
  EXPECT_TRUE(BuildAuditExport(longest).ok());
}

TEST(AuditExportTest, TheTableShowsEveryColumnWithDashesForNone) {
  EXPECT_THAT(AuditTableHeader(),
              ElementsAre("INDEX", "TIME", "PRINCIPAL", "ON_BEHALF_OF",
                          "METHOD", "CASE", "OUTCOME"));
  EXPECT_EQ(AuditTableWidths().size(), AuditTableHeader().size());
  ruta::v1::ExportAuditResponse record =
      Record(kOffice, "rosa.quispe", "CaseOffice.GetCase");
  record.set_case_id(kCase);
  record.set_outcome("NOT_FOUND");
  ASSERT_TRUE(google::protobuf::util::TimeUtil::FromString(
      "2026-10-31T14:05:09.123456Z", record.mutable_at()));
  EXPECT_THAT(AuditTableRow(record),
              ElementsAre("41", "2026-10-31T14:05:09Z", kOffice, "rosa.quispe",
                          "CaseOffice.GetCase", kCase, "NOT_FOUND"));
  ruta::v1::ExportAuditResponse bare;
  bare.set_principal("odd\tname");
  EXPECT_THAT(AuditTableRow(bare),
              ElementsAre("0", "-", "odd?name", "-", "-", "-", "-"));
}

}  // namespace
}  // namespace ruta::cli
