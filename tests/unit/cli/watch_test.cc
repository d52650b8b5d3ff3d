#include "ruta/cli/watch.h"

#include <algorithm>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

// A fake node holding a log of updates with cursors "c1", "c2", ...: each
// stream answers the updates after the request's cursor, `per_stream` of
// them (all when 0), then ends with `ends[stream]` (or the last of them).
struct FakeNode {
  int log_size = 10;
  int per_stream = 0;
  std::vector<StreamEnd> ends;
  std::vector<std::string> requested_cursors;
  // How long each stream stays open once connected.
  absl::Duration open_for = absl::Seconds(1);

  StreamEnd Open(const ruta::v1::WatchTransfersRequest& request,
                 const WatchUpdateSink& sink) {
    const int stream = static_cast<int>(requested_cursors.size());
    requested_cursors.push_back(request.cursor());
    int next = 1;
    if (!request.cursor().empty()) {
      next = std::stoi(request.cursor().substr(1)) + 1;
    }
    for (int sent = 0;
         next <= log_size && (per_stream == 0 || sent < per_stream);
         ++next, ++sent) {
      ruta::v1::WatchTransfersResponse update;
      update.mutable_transfer()->set_transfer_id("tr_" + std::string(19, 'a') +
                                                 static_cast<char>('a' + next));
      update.mutable_transfer()->set_version(next);
      update.set_cursor(absl::StrCat("c", next));
      sink(update);
    }
    StreamEnd end = ends[std::min<size_t>(stream, ends.size() - 1)];
    end.open_for = open_for;
    return end;
  }
};

StreamEnd Broken() {
  return {grpc::Status(grpc::StatusCode::UNAVAILABLE, "Socket closed"), false};
}

struct Harness {
  FakeNode node;
  WatchPolicy policy;
  std::vector<std::string> printed;
  std::vector<absl::Duration> sleeps;
  int reopens = 0;
  int stop_after_streams = -1;
  std::ostringstream err;

  WatchOutcome Run(const std::string& cursor = "") {
    policy.retry.max_retries = 3;
    WatchHooks hooks;
    hooks.stopped = [this] {
      return stop_after_streams >= 0 &&
             static_cast<int>(node.requested_cursors.size()) >=
                 stop_after_streams;
    };
    hooks.sleep = [this](absl::Duration delay) {
      sleeps.push_back(delay);
      return true;
    };
    hooks.before_reopen = [this] { ++reopens; };
    hooks.random = [] { return 0.5; };
    return WatchWithResume(
        policy, cursor,
        [this](const ruta::v1::WatchTransfersRequest& request,
               const WatchUpdateSink& sink) {
          return node.Open(request, sink);
        },
        [this](const ruta::v1::WatchTransfersResponse& update) {
          printed.push_back(update.cursor());
        },
        err, hooks);
  }
};

TEST(WatchTest, NextRequestResumesAfterTheLastCursor) {
  EXPECT_EQ(NextWatchRequest("").cursor(), "");
  EXPECT_EQ(NextWatchRequest("c17").cursor(), "c17");
}

TEST(WatchTest, ResumesAfterBreaksWithoutLosingOrRepeating) {
  Harness h;
  h.node.per_stream = 3;
  h.node.ends = {
      Broken(),
      Broken(),
      Broken(),
      Broken(),
      {grpc::Status(grpc::StatusCode::PERMISSION_DENIED, "no"), false}};
  const WatchOutcome outcome = h.Run();
  EXPECT_THAT(h.printed, ElementsAre("c1", "c2", "c3", "c4", "c5", "c6", "c7",
                                     "c8", "c9", "c10"));
  EXPECT_THAT(h.node.requested_cursors,
              ElementsAre("", "c3", "c6", "c9", "c10"));
  // Every stream that delivered updates resets the backoff.
  EXPECT_THAT(h.sleeps,
              ElementsAre(absl::Milliseconds(500), absl::Milliseconds(500),
                          absl::Milliseconds(500), absl::Milliseconds(500)));
  EXPECT_EQ(h.reopens, 4);
  EXPECT_FALSE(outcome.stopped);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(outcome.cursor, "c10");
  EXPECT_EQ(outcome.updates, 10);
  EXPECT_THAT(h.err.str(),
              HasSubstr("ruta: watch transfers: the stream ended (UNAVAILABLE: "
                        "Socket closed); reconnecting in 0.5 s after cursor "
                        "c3\n"));
}

TEST(WatchTest, StartsFromTheGivenCursor) {
  Harness h;
  h.node.ends = {Broken()};
  h.stop_after_streams = 1;
  const WatchOutcome outcome = h.Run("c7");
  EXPECT_THAT(h.printed, ElementsAre("c8", "c9", "c10"));
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("c7"));
  EXPECT_TRUE(outcome.stopped);
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_EQ(outcome.cursor, "c10");
}

TEST(WatchTest, GivesUpAfterTheRetriesWhenNeverEstablished) {
  Harness h;
  h.node.log_size = 0;
  h.node.open_for = absl::ZeroDuration();  // refused at once
  h.node.ends = {Broken()};
  const WatchOutcome outcome = h.Run("c4");
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(outcome.attempts, 4);
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("c4", "c4", "c4", "c4"));
  EXPECT_THAT(h.sleeps, ElementsAre(absl::Milliseconds(500), absl::Seconds(1),
                                    absl::Seconds(2)));
  EXPECT_EQ(outcome.cursor, "c4");
  EXPECT_THAT(h.err.str(), HasSubstr("(attempt 1 of 4 failed)"));
}

TEST(WatchTest, TimeSpentConnectingDoesNotMakeAStreamHealthy) {
  Harness h;
  h.node.log_size = 0;
  h.node.open_for = absl::ZeroDuration();  // never connected
  h.node.ends = {{grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                               "no connection to the node within --timeout")}};
  h.policy.healthy_after = absl::Seconds(1);
  const WatchOutcome outcome = h.Run();
  EXPECT_FALSE(outcome.stopped);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(h.node.requested_cursors.size(), 4u);
}

TEST(WatchTest, KeepsReconnectingOnceEstablished) {
  Harness h;
  h.node.log_size = 1;
  h.node.open_for = absl::ZeroDuration();
  h.node.ends = {Broken()};
  h.stop_after_streams = 12;
  const WatchOutcome outcome = h.Run();
  EXPECT_TRUE(outcome.stopped);
  EXPECT_THAT(h.printed, ElementsAre("c1"));
  EXPECT_EQ(h.node.requested_cursors.size(), 12u);
  for (size_t i = 1; i < h.node.requested_cursors.size(); ++i) {
    EXPECT_EQ(h.node.requested_cursors[i], "c1");
  }
  // Backoff doubling from the first failure after the update, capped.
  ASSERT_EQ(h.sleeps.size(), 11u);
  EXPECT_EQ(h.sleeps[0], absl::Milliseconds(500));
  EXPECT_EQ(h.sleeps[3], absl::Seconds(4));
  EXPECT_EQ(h.sleeps[10], absl::Seconds(30));
  EXPECT_THAT(h.err.str(), Not(HasSubstr("attempt")));
}

TEST(WatchTest, AQuietButLongStreamCountsAsHealthy) {
  Harness h;
  h.node.log_size = 0;
  h.node.open_for = absl::Minutes(5);  // > healthy_after
  h.node.ends = {Broken()};
  h.stop_after_streams = 8;
  const WatchOutcome outcome = h.Run();
  EXPECT_TRUE(outcome.stopped);
  EXPECT_EQ(h.node.requested_cursors.size(), 8u);
  for (absl::Duration sleep : h.sleeps) {
    EXPECT_EQ(sleep, absl::Milliseconds(500));
  }
  EXPECT_THAT(h.err.str(), HasSubstr("reconnecting in 0.5 s from the start"));
}

TEST(WatchTest, RenewsAStreamAtItsLifetimeAtOnce) {
  Harness h;
  h.node.per_stream = 4;
  h.node.ends = {
      {grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline"), true}};
  h.stop_after_streams = 4;
  const WatchOutcome outcome = h.Run();
  EXPECT_TRUE(outcome.stopped);
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("", "c4", "c8", "c10"));
  EXPECT_EQ(h.printed.size(), 10u);
  EXPECT_TRUE(h.sleeps.empty());
  EXPECT_EQ(h.reopens, 0);
  EXPECT_EQ(h.err.str(), "");
}

TEST(WatchTest, TheNodeEndingTheStreamIsReopened) {
  Harness h;
  h.node.per_stream = 5;
  h.node.ends = {{grpc::Status::OK, false}};
  h.stop_after_streams = 3;
  h.Run();
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("", "c5", "c10"));
  EXPECT_THAT(h.err.str(), HasSubstr("the node ended the stream"));
}

TEST(WatchTest, GivingUpOnStreamsTheNodeEndsIsAnError) {
  Harness h;
  h.node.log_size = 0;
  h.node.open_for = absl::ZeroDuration();
  h.node.ends = {{grpc::Status::OK}};
  const WatchOutcome outcome = h.Run();
  EXPECT_FALSE(outcome.stopped);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(outcome.status.error_message(), "the node ended the stream");
  EXPECT_EQ(outcome.attempts, 4);
}

TEST(WatchTest, ANonRetryableErrorEndsTheWatchAtOnce) {
  Harness h;
  h.node.ends = {
      {grpc::Status(grpc::StatusCode::UNIMPLEMENTED, "not yet"), false}};
  const WatchOutcome outcome = h.Run();
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  EXPECT_EQ(outcome.attempts, 1);
  EXPECT_EQ(h.node.requested_cursors.size(), 1u);
  EXPECT_TRUE(h.sleeps.empty());
  EXPECT_EQ(outcome.cursor, "c10");  // what was printed still counts
}

TEST(WatchTest, AStopDuringTheBackoffEndsTheWatch) {
  Harness h;
  h.node.per_stream = 2;
  h.node.ends = {Broken()};
  WatchHooks hooks;
  bool stopped = false;
  hooks.stopped = [&] { return stopped; };
  hooks.sleep = [&](absl::Duration) {
    stopped = true;
    return false;
  };
  hooks.random = [] { return 0.5; };
  int opened = 0;
  const WatchOutcome outcome = WatchWithResume(
      h.policy, "",
      [&](const ruta::v1::WatchTransfersRequest& request,
          const WatchUpdateSink& sink) {
        ++opened;
        return h.node.Open(request, sink);
      },
      [&](const ruta::v1::WatchTransfersResponse&) {}, h.err, hooks);
  EXPECT_TRUE(outcome.stopped);
  EXPECT_EQ(opened, 1);
  EXPECT_EQ(outcome.cursor, "c2");
}

// ---- finite streams (`ruta admin audit export`) -----------------------------

StreamEnd Completed() { return {grpc::Status::OK, false}; }
StreamEnd AtLifetime() {
  return {grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED, "Deadline"), true};
}

TEST(WatchTest, AFiniteStreamEndedByTheNodeIsComplete) {
  Harness h;
  h.policy.finite = true;
  h.node.ends = {Completed()};
  const WatchOutcome outcome = h.Run();
  EXPECT_TRUE(outcome.completed);
  EXPECT_FALSE(outcome.stopped);
  EXPECT_TRUE(outcome.status.ok());
  EXPECT_EQ(h.printed.size(), 10u);
  EXPECT_THAT(h.node.requested_cursors, ElementsAre(""));
  EXPECT_EQ(outcome.cursor, "c10");
  EXPECT_EQ(outcome.updates, 10);
  EXPECT_TRUE(h.sleeps.empty());
  EXPECT_EQ(h.err.str(), "");
}

TEST(WatchTest, AFiniteStreamResumesAfterBreaksUntilComplete) {
  Harness h;
  h.policy.finite = true;
  h.node.per_stream = 4;
  h.node.ends = {Broken(), Broken(), Completed()};
  const WatchOutcome outcome = h.Run("c0");
  EXPECT_TRUE(outcome.completed);
  EXPECT_THAT(h.printed, ElementsAre("c1", "c2", "c3", "c4", "c5", "c6", "c7",
                                     "c8", "c9", "c10"));
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("c0", "c4", "c8"));
  EXPECT_THAT(h.sleeps,
              ElementsAre(absl::Milliseconds(500), absl::Milliseconds(500)));
  EXPECT_THAT(h.err.str(), HasSubstr("after cursor c4 (attempt 1 of 4 "
                                     "failed)\n"));
}

TEST(WatchTest, AFiniteStreamGivesUpAfterTheRetriesEvenOnceEstablished) {
  Harness h;
  h.policy.finite = true;
  h.node.log_size = 1;
  h.node.open_for = absl::Minutes(5);  // long open streams do not count
  h.node.ends = {Broken()};
  const WatchOutcome outcome = h.Run();
  EXPECT_FALSE(outcome.completed);
  EXPECT_FALSE(outcome.stopped);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_EQ(outcome.attempts, 4);
  EXPECT_THAT(h.printed, ElementsAre("c1"));
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("", "c1", "c1", "c1"));
  EXPECT_EQ(outcome.cursor, "c1");
}

TEST(WatchTest, AFiniteStreamRenewedAfterDeliveringGoesOnAtOnce) {
  Harness h;
  h.policy.finite = true;
  h.node.per_stream = 4;
  h.node.ends = {AtLifetime(), AtLifetime(), Completed()};
  const WatchOutcome outcome = h.Run();
  EXPECT_TRUE(outcome.completed);
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("", "c4", "c8"));
  EXPECT_EQ(h.printed.size(), 10u);
  EXPECT_TRUE(h.sleeps.empty());
  EXPECT_EQ(h.err.str(), "");
}

TEST(WatchTest, AQuietFiniteStreamAtItsLifetimeIsAFailure) {
  Harness h;
  h.policy.finite = true;
  h.node.log_size = 0;
  h.node.ends = {AtLifetime()};
  const WatchOutcome outcome = h.Run("c3");
  EXPECT_FALSE(outcome.completed);
  EXPECT_EQ(outcome.status.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED);
  EXPECT_EQ(outcome.attempts, 4);
  EXPECT_THAT(h.node.requested_cursors, ElementsAre("c3", "c3", "c3", "c3"));
  EXPECT_EQ(h.sleeps.size(), 3u);
  EXPECT_EQ(outcome.cursor, "c3");
}

}  // namespace
}  // namespace ruta::cli
