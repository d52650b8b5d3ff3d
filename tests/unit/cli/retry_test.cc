#include "ruta/cli/retry.h"

#include <sstream>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;

TEST(RetryTest, BackoffDoublesWithJitter) {
  RetryPolicy policy;
  EXPECT_EQ(BackoffDelay(policy, 0, 0.5), absl::Milliseconds(500));
  EXPECT_EQ(BackoffDelay(policy, 1, 0.5), absl::Seconds(1));
  EXPECT_EQ(BackoffDelay(policy, 2, 0.5), absl::Seconds(2));
  EXPECT_EQ(BackoffDelay(policy, 0, 0.0), absl::Milliseconds(400));
  EXPECT_EQ(BackoffDelay(policy, 100, 0.5), absl::Seconds(30));  // capped
}

TEST(RetryTest, RetriesUnavailableThenSucceeds) {
  RetryPolicy policy;
  policy.max_retries = 3;
  std::vector<absl::Duration> sleeps;
  int reconnects = 0;
  RetryHooks hooks;
  hooks.sleep = [&](absl::Duration d) { sleeps.push_back(d); };
  hooks.before_retry = [&] { ++reconnects; };
  hooks.random = [] { return 0.5; };
  int calls = 0;
  std::ostringstream err;
  CallOutcome outcome = CallWithRetries(
      policy,
      [&](grpc::ClientContext& context) {
        EXPECT_GT(context.deadline(), std::chrono::system_clock::now());
        return ++calls < 3 ? grpc::Status(grpc::StatusCode::UNAVAILABLE, "x")
                           : grpc::Status::OK;
      },
      "open case", "3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b", err, hooks);
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.attempts, 3);
  EXPECT_EQ(reconnects, 2);
  EXPECT_EQ(sleeps, (std::vector<absl::Duration>{absl::Milliseconds(500),
                                                 absl::Seconds(1)}));
  EXPECT_THAT(err.str(), HasSubstr("attempt 1 of 4 failed (UNAVAILABLE)"));
  EXPECT_THAT(
      err.str(),
      HasSubstr("same request_id 3f2b8c1e-5a7d-4e9f-8b6a-0c1d2e3f4a5b"));
}

TEST(RetryTest, GivesUpAfterTheRetries) {
  RetryPolicy policy;
  policy.max_retries = 2;
  RetryHooks hooks;
  hooks.sleep = [](absl::Duration) {};
  int calls = 0;
  std::ostringstream err;
  CallOutcome outcome = CallWithRetries(
      policy,
      [&](grpc::ClientContext&) {
        ++calls;
        return grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "slow");
      },
      "get case", "", err, hooks);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(calls, 3);
  EXPECT_EQ(outcome.attempts, 3);
}

TEST(RetryTest, DoesNotRetryOtherErrors) {
  RetryHooks hooks;
  hooks.sleep = [](absl::Duration) { FAIL() << "slept"; };
  int calls = 0;
  std::ostringstream err;
  CallOutcome outcome = CallWithRetries(
      RetryPolicy(),
      [&](grpc::ClientContext&) {
        ++calls;
        return grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "closed");
      },
      "close case", "", err, hooks);
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_TRUE(err.str().empty());
}

}  // namespace
}  // namespace ruta::cli
