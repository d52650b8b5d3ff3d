// The Admin requests of `ruta admin person merge|case erase|linkage-key
// rotate`, and the typed confirmation of an erasure.
#include "ruta/cli/admin_requests.h"

#include <sstream>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/cli/prompt.h"

namespace ruta::cli {
namespace {

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

}  // namespace
}  // namespace ruta::cli
