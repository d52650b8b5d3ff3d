#include "ruta/cli/exit_codes.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

TEST(ExitCodesTest, MapsRpcStatuses) {
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::OK), 0);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::NOT_FOUND), 3);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::FAILED_PRECONDITION), 4);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::ABORTED), 4);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::INVALID_ARGUMENT), 5);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::PERMISSION_DENIED), 6);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::UNAUTHENTICATED), 6);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::UNAVAILABLE), 7);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::DEADLINE_EXCEEDED), 7);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::INTERNAL), 1);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::UNKNOWN), 1);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::ALREADY_EXISTS), 1);
  EXPECT_EQ(ExitCodeForRpc(grpc::StatusCode::UNIMPLEMENTED), 1);
}

TEST(ExitCodesTest, LocalErrorsAreUsageErrors) {
  EXPECT_EQ(ExitCodeForLocal(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeForLocal(absl::InvalidArgumentError("x")), 2);
  EXPECT_EQ(ExitCodeForLocal(absl::NotFoundError("file")), 2);
  EXPECT_EQ(ExitCodeForLocal(absl::FailedPreconditionError("cert")), 2);
  EXPECT_EQ(ExitCodeForLocal(absl::InternalError("bug")), 1);
}

TEST(ExitCodesTest, HelpListsEveryCode) {
  const std::string help = ExitCodesHelp();
  for (const char* code :
       {"  0 ", "  1 ", "  2 ", "  3 ", "  4 ", "  5 ", "  6 ", "  7 "}) {
    EXPECT_THAT(help, ::testing::HasSubstr(code));
  }
}

}  // namespace
}  // namespace ruta::cli
