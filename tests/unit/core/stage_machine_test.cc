// Every Stage x Stage pair, for both case kinds and both transition sources,
// against a transition table written out here independently of the code.
#include "ruta/core/stage_machine.h"

#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;
using S = Stage;

constexpr Stage kAllStages[] = {
    S::kUnspecified,         S::kDetected,        S::kIdentified,
    S::kImmediateProtection, S::kResidentialCare, S::kFamilyCare,
    S::kTransferRequested,   S::kInTransit,       S::kReceived,
    S::kReintegrationPlan,   S::kFollowUp,        S::kClosed,
    S::kPreventionSupport,
};

struct Edge {
  CaseKind kind;
  TransitionSource source;
  Stage from;
  Stage to;
  bool operator<(const Edge& o) const {
    return std::tie(kind, source, from, to) <
           std::tie(o.kind, o.source, o.from, o.to);
  }
};

constexpr auto kV = CaseKind::kVictim;
constexpr auto kP = CaseKind::kPrevention;
constexpr auto kOffice = TransitionSource::kOffice;
constexpr auto kLife = TransitionSource::kTransferLifecycle;

// DESIGN.md §4, written out edge by edge. CLOSED edges are added below.
const std::set<Edge>& AllowedEdges() {
  static const std::set<Edge>* const edges = [] {
    auto* e = new std::set<Edge>{
        // VICTIM, by an office (UpdateStage).
        {kV, kOffice, S::kDetected, S::kIdentified},
        {kV, kOffice, S::kIdentified, S::kImmediateProtection},
        {kV, kOffice, S::kImmediateProtection, S::kResidentialCare},
        {kV, kOffice, S::kImmediateProtection, S::kFamilyCare},
        {kV, kOffice, S::kResidentialCare, S::kFamilyCare},
        {kV, kOffice, S::kFamilyCare, S::kResidentialCare},
        {kV, kOffice, S::kResidentialCare, S::kReintegrationPlan},
        {kV, kOffice, S::kFamilyCare, S::kReintegrationPlan},
        {kV, kOffice, S::kReceived, S::kReintegrationPlan},
        {kV, kOffice, S::kReintegrationPlan, S::kFollowUp},
        // VICTIM, by the transfer lifecycle.
        {kV, kLife, S::kResidentialCare, S::kTransferRequested},
        {kV, kLife, S::kFamilyCare, S::kTransferRequested},
        {kV, kLife, S::kTransferRequested, S::kInTransit},
        {kV, kLife, S::kTransferRequested, S::kResidentialCare},
        {kV, kLife, S::kTransferRequested, S::kFamilyCare},
        {kV, kLife, S::kInTransit, S::kReceived},
        // PREVENTION, by an office; never by the transfer lifecycle.
        {kP, kOffice, S::kIdentified, S::kPreventionSupport},
        {kP, kOffice, S::kPreventionSupport, S::kFollowUp},
    };
    // Any open stage -> CLOSED (CloseCase), by an office only; not
    // IN_TRANSIT, where custody may move to the receiver at any moment.
    for (Stage s : {S::kDetected, S::kIdentified, S::kImmediateProtection,
                    S::kResidentialCare, S::kFamilyCare, S::kTransferRequested,
                    S::kReceived, S::kReintegrationPlan, S::kFollowUp}) {
      e->insert({kV, kOffice, s, S::kClosed});
    }
    for (Stage s : {S::kIdentified, S::kPreventionSupport, S::kFollowUp}) {
      e->insert({kP, kOffice, s, S::kClosed});
    }
    return e;
  }();
  return *edges;
}

bool Allowed(CaseKind kind, TransitionSource source, Stage from, Stage to) {
  return AllowedEdges().count({kind, source, from, to}) != 0;
}

bool IsStageOf(CaseKind kind, Stage s) {
  if (s == S::kUnspecified) return false;
  if (kind == kV) return s != S::kPreventionSupport;
  return s == S::kIdentified || s == S::kPreventionSupport ||
         s == S::kFollowUp || s == S::kClosed;
}

std::vector<Stage> ExpectedNext(CaseKind kind, TransitionSource source,
                                Stage from, bool include_closed) {
  std::vector<Stage> next;
  for (Stage to : kAllStages) {
    if (to == S::kClosed && !include_closed) continue;
    if (Allowed(kind, source, from, to)) next.push_back(to);
  }
  return next;
}

std::string Name(TransitionSource s) {
  return s == kOffice ? "Office" : "Lifecycle";
}

using Param = std::tuple<CaseKind, TransitionSource, Stage>;

class TransitionTableTest : public ::testing::TestWithParam<Param> {};

TEST_P(TransitionTableTest, EveryTargetStage) {
  const auto [kind, source, from] = GetParam();
  for (Stage to : kAllStages) {
    SCOPED_TRACE(std::string(StageName(from)) + " -> " + StageName(to));
    const absl::Status s = CheckTransition(kind, from, to, source);
    if (kind == CaseKind::kUnspecified || from == S::kUnspecified ||
        to == S::kUnspecified) {
      EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
      continue;
    }
    if (Allowed(kind, source, from, to)) {
      EXPECT_TRUE(s.ok()) << s;
      continue;
    }
    ASSERT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
    const std::string msg(s.message());
    EXPECT_THAT(msg, HasSubstr("allowed next stages"));
    if (!IsStageOf(kind, from)) continue;
    EXPECT_THAT(msg, HasSubstr(std::string("from ") + StageName(from) + " to " +
                               StageName(to)));
    // The message names every allowed next stage.
    for (Stage next : ExpectedNext(kind, source, from, false)) {
      EXPECT_THAT(msg, HasSubstr(StageName(next)));
    }
    if (source == kOffice && IsOpenStage(from) && from != S::kInTransit) {
      EXPECT_THAT(msg, HasSubstr("CLOSED (with a reason, via CloseCase)"));
    }
    if (source == kOffice && from == S::kInTransit) {
      EXPECT_THAT(msg, HasSubstr("none while the child is in transit"));
    }
    if (source == kOffice && IsTransferStage(to) && IsOpenStage(from)) {
      EXPECT_THAT(msg, HasSubstr("set by the transfer lifecycle"));
    }
    // A stage that is not allowed is not listed after the colon.
    const std::string listed = msg.substr(msg.rfind("allowed next stages"));
    for (Stage other : kAllStages) {
      if (other == S::kUnspecified || other == S::kClosed) continue;
      const auto expected = ExpectedNext(kind, source, from, false);
      if (std::find(expected.begin(), expected.end(), other) !=
          expected.end()) {
        continue;
      }
      // Guard against prefix overlap (e.g. "IDENTIFIED" in another name).
      const std::string name = StageName(other);
      for (Stage e : expected) {
        if (std::string(StageName(e)).find(name) != std::string::npos) {
          goto next_other;
        }
      }
      EXPECT_THAT(listed, ::testing::Not(HasSubstr(name)));
    next_other:;
    }
  }
}

TEST_P(TransitionTableTest, AllowedNextStagesMatchesTable) {
  const auto [kind, source, from] = GetParam();
  if (source == kOffice) {
    EXPECT_EQ(AllowedNextStages(kind, from),
              ExpectedNext(kind, kOffice, from, /*include_closed=*/false));
  } else {
    std::vector<Stage> got = AllowedLifecycleStages(kind, from);
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, ExpectedNext(kind, kLife, from, /*include_closed=*/true));
  }
}

INSTANTIATE_TEST_SUITE_P(
    AllPairs, TransitionTableTest,
    ::testing::Combine(::testing::Values(CaseKind::kVictim,
                                         CaseKind::kPrevention,
                                         CaseKind::kUnspecified),
                       ::testing::Values(kOffice, kLife),
                       ::testing::ValuesIn(kAllStages)),
    [](const ::testing::TestParamInfo<Param>& info) {
      return std::string(CaseKindName(std::get<0>(info.param))) + "_" +
             Name(std::get<1>(info.param)) + "_" +
             StageName(std::get<2>(info.param));
    });

TEST(StageMachineTest, TableHasTheExpectedSize) {
  // 10 office edges + 6 lifecycle edges + 9 closes (VICTIM: every open
  // stage but IN_TRANSIT); 2 office edges + 3 closes (PREVENTION).
  EXPECT_EQ(AllowedEdges().size(), 10u + 6u + 9u + 2u + 3u);
}

TEST(StageMachineTest, MessageExampleFromHeader) {
  const absl::Status s =
      CheckTransition(kV, S::kDetected, S::kFollowUp, kOffice);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(s.message(),
            "cannot move case from DETECTED to FOLLOW_UP; allowed next "
            "stages: IDENTIFIED, CLOSED (with a reason, via CloseCase)");
}

TEST(StageMachineTest, OfficeCannotSetTransferStages) {
  for (Stage to : {S::kTransferRequested, S::kInTransit, S::kReceived}) {
    const absl::Status s =
        CheckTransition(kV, S::kResidentialCare, to, kOffice);
    EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("set by the transfer lifecycle (RequestTransfer"));
    EXPECT_THAT(std::string(s.message()),
                HasSubstr("FAMILY_CARE, REINTEGRATION_PLAN, CLOSED"));
  }
}

TEST(StageMachineTest, ClosedIsFinal) {
  EXPECT_TRUE(AllowedNextStages(kV, S::kClosed).empty());
  EXPECT_TRUE(AllowedNextStages(kP, S::kClosed).empty());
  const absl::Status s = CheckTransition(kV, S::kClosed, S::kClosed, kOffice);
  EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(s.message()), HasSubstr("closed"));
  EXPECT_FALSE(IsOpenStage(S::kClosed));
  EXPECT_FALSE(IsOpenStage(S::kUnspecified));
  EXPECT_TRUE(IsOpenStage(S::kFollowUp));
}

TEST(StageMachineTest, PreventionNeverTransfers) {
  for (Stage from : kAllStages) {
    EXPECT_TRUE(AllowedLifecycleStages(kP, from).empty());
  }
  const absl::Status s =
      CheckTransition(kP, S::kPreventionSupport, S::kTransferRequested, kLife);
  EXPECT_THAT(std::string(s.message()), HasSubstr("never leave their region"));
}

TEST(StageMachineTest, OutOfRangeValuesAreInvalid) {
  const Stage bogus = static_cast<Stage>(42);
  EXPECT_EQ(CheckTransition(kV, S::kDetected, bogus, kOffice).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckTransition(kV, bogus, S::kClosed, kOffice).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(CheckTransition(static_cast<CaseKind>(7), S::kDetected,
                            S::kIdentified, kOffice)
                .code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::core
