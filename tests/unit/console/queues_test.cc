// The home page's work queues (queues.h) against a fake OfficeBackend that
// pages like the node: which transfers land in which queue (direction and
// state), waiting and overdue items, paging, and an unreachable node.
#include "ruta/console/queues.h"

#include <algorithm>
#include <string>
#include <type_traits>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "fake_office_backend.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::console {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using ::testing::UnorderedElementsAreArray;

constexpr char kHere[] = "madre-de-dios";
constexpr char kThere[] = "cusco";
constexpr char kClerk[] = "rosa";
const absl::CivilDay kToday(2026, 11, 29);
// Noon in Peru on kToday.
const absl::Time kNow = absl::FromCivil(
    absl::CivilSecond(2026, 11, 29, 17, 0, 0), absl::UTCTimeZone());

std::string Letters(int n, int width) {
  std::string out;
  for (int i = 0; i < width; ++i) {
    out += static_cast<char>('a' + n % 26);
    n /= 26;
  }
  return out;
}

// A page token the way the node makes them: opaque, no digits.
std::string Token(size_t offset) {
  return "pg" + Letters(static_cast<int>(offset), 4);
}
size_t Offset(const std::string& token) {
  size_t n = 0, mult = 1;
  for (size_t i = 2; i < token.size(); ++i) {
    n += static_cast<size_t>(token[i] - 'a') * mult;
    mult *= 26;
  }
  return n;
}

template <typename T>
std::vector<std::string> Ids(const std::vector<T>& items) {
  std::vector<std::string> out;
  for (const T& t : items) {
    if constexpr (std::is_same_v<T, v1::Transfer>) {
      out.push_back(t.transfer_id());
    } else {
      out.push_back(t.case_id());
    }
  }
  return out;
}

class QueuesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    backend_.on_ListTransfers = [this](const v1::ListTransfersRequest& r)
        -> absl::StatusOr<v1::ListTransfersResponse> {
      std::vector<const v1::Transfer*> match;
      for (const v1::Transfer& t : transfers_) {
        if (r.state() != 0 && t.state() != r.state()) continue;
        if (r.has_incoming() &&
            (r.incoming() ? t.to_region() : t.from_region()) != kHere) {
          continue;
        }
        match.push_back(&t);
      }
      return Page<v1::ListTransfersResponse>(match, r.page_size(),
                                             r.page_token());
    };
    backend_.on_ListCases = [this](const v1::ListCasesRequest& r)
        -> absl::StatusOr<v1::ListCasesResponse> {
      std::vector<const v1::Case*> match;
      for (const v1::Case& c : cases_) {
        if (r.stage() != 0 && c.stage() != r.stage()) continue;
        if (r.exclude_closed() && c.stage() == v1::STAGE_CLOSED) continue;
        match.push_back(&c);
      }
      return Page<v1::ListCasesResponse>(match, r.page_size(), r.page_token());
    };
  }

  template <typename Response, typename T>
  static Response Page(const std::vector<const T*>& match, int page_size,
                       const std::string& token) {
    Response out;
    const size_t size = page_size > 0 ? std::min(page_size, 100) : 50;
    const size_t start = token.empty() ? 0 : Offset(token);
    for (size_t i = start; i < match.size() && i < start + size; ++i) {
      if constexpr (std::is_same_v<T, v1::Transfer>) {
        *out.add_transfers() = *match[i];
      } else {
        *out.add_cases() = *match[i];
      }
    }
    if (start + size < match.size())
      out.set_next_page_token(Token(start + size));
    return out;
  }

  // A transfer `from` -> `to` in `state`, requested `days_ago` days before
  // kToday.
  v1::Transfer& AddTransfer(const std::string& from, const std::string& to,
                            v1::TransferState state, int days_ago = 1) {
    v1::Transfer& t = transfers_.emplace_back();
    t.set_transfer_id("tr_" + Letters(static_cast<int>(transfers_.size()), 20));
    t.set_case_id("cs_" + Letters(static_cast<int>(transfers_.size()), 20));
    t.set_from_region(from);
    t.set_to_region(to);
    t.set_destination_province(to == kHere ? "1701" : "0801");
    t.set_state(state);
    const absl::CivilDay on = kToday - days_ago;
    t.mutable_requested_on()->set_year(static_cast<int>(on.year()));
    t.mutable_requested_on()->set_month(on.month());
    t.mutable_requested_on()->set_day(on.day());
    return t;
  }
  v1::Case& AddCase(const std::string& owner, v1::Stage stage,
                    absl::Duration unchanged_for) {
    v1::Case& c = cases_.emplace_back();
    c.set_case_id("cs_" + Letters(1000 + static_cast<int>(cases_.size()), 20));
    c.set_owner_region(owner);
    c.set_stage(stage);
    c.mutable_updated_at()->set_seconds(
        absl::ToUnixSeconds(kNow - unchanged_for));
    return c;
  }

  WorkQueues Compute(int max_pages = 10) {
    QueueOptions options;
    options.region = kHere;
    options.waiting_days = 7;
    options.follow_up_days = 90;
    options.max_pages = max_pages;
    return ComputeWorkQueues(backend_, kClerk, options, kNow, kToday);
  }

  FakeOfficeBackend backend_;
  std::vector<v1::Transfer> transfers_;
  std::vector<v1::Case> cases_;
};

TEST_F(QueuesTest, EachTransferLandsInTheQueueOfItsStateAndDirection) {
  const std::string in_requested =
      AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED).transfer_id();
  const std::string out_requested =
      AddTransfer(kHere, kThere, v1::TRANSFER_STATE_REQUESTED).transfer_id();
  const std::string out_accepted =
      AddTransfer(kHere, kThere, v1::TRANSFER_STATE_ACCEPTED).transfer_id();
  AddTransfer(kThere, kHere, v1::TRANSFER_STATE_ACCEPTED);  // the sender's
  const std::string in_transit =
      AddTransfer(kThere, kHere, v1::TRANSFER_STATE_IN_TRANSIT).transfer_id();
  AddTransfer(kHere, kThere, v1::TRANSFER_STATE_IN_TRANSIT);  // the receiver's
  for (v1::TransferState done :
       {v1::TRANSFER_STATE_RECEIVED, v1::TRANSFER_STATE_REJECTED,
        v1::TRANSFER_STATE_CANCELLED}) {
    AddTransfer(kThere, kHere, done, 30);
    AddTransfer(kHere, kThere, done, 30);
  }

  const WorkQueues q = Compute();
  EXPECT_THAT(Ids(q.to_decide), ElementsAre(in_requested));
  EXPECT_THAT(Ids(q.departures_to_confirm), ElementsAre(out_accepted));
  EXPECT_THAT(Ids(q.arrivals_expected), ElementsAre(in_transit));
  EXPECT_THAT(q.waiting_too_long, IsEmpty());
  EXPECT_THAT(q.follow_ups_overdue, IsEmpty());
  EXPECT_THAT(q.problems, IsEmpty());
  EXPECT_TRUE(q.to_decide_read && q.departures_to_confirm_read &&
              q.arrivals_expected_read && q.waiting_too_long_read &&
              q.follow_ups_overdue_read);
  EXPECT_EQ(q.waiting_days, 7);
  EXPECT_EQ(q.follow_up_days, 90);
  (void)out_requested;

  // Every call was made for the clerk; the transfer lists asked the node
  // for a state and a direction.
  for (const FakeOfficeBackend::Call& c : backend_.Calls()) {
    EXPECT_EQ(c.clerk, kClerk) << c.method;
  }
  int transfer_lists = 0;
  for (const auto& c : backend_.CallsOf("ListTransfers")) {
    const auto& r = static_cast<const v1::ListTransfersRequest&>(*c.request);
    EXPECT_NE(r.state(), v1::TRANSFER_STATE_UNSPECIFIED);
    EXPECT_TRUE(r.has_incoming());
    EXPECT_EQ(r.page_size(), 100);
    ++transfer_lists;
  }
  EXPECT_EQ(transfer_lists, 4);
  const auto cases = backend_.LastRequest<v1::ListCasesRequest>("ListCases");
  EXPECT_EQ(cases.stage(), v1::STAGE_FOLLOW_UP);
  EXPECT_TRUE(cases.exclude_closed());
}

TEST_F(QueuesTest, WaitingTooLongCountsFromTheRequestDay) {
  const std::string in_old =
      AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED, 10)
          .transfer_id();
  const std::string out_old =
      AddTransfer(kHere, kThere, v1::TRANSFER_STATE_REQUESTED, 8).transfer_id();
  // Exactly 7 days: not yet too long.
  AddTransfer(kHere, kThere, v1::TRANSFER_STATE_REQUESTED, 7);
  AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED, 0);
  // Old but no longer waiting for an answer.
  AddTransfer(kHere, kThere, v1::TRANSFER_STATE_ACCEPTED, 40);
  // A transfer without a request day is not counted.
  AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED).clear_requested_on();

  const WorkQueues q = Compute();
  EXPECT_THAT(Ids(q.waiting_too_long),
              UnorderedElementsAreArray({in_old, out_old}));
  EXPECT_EQ(q.to_decide.size(), 3u);
}

TEST_F(QueuesTest, OverdueFollowUpsByLastUpdate) {
  const std::string overdue =
      AddCase(kHere, v1::STAGE_FOLLOW_UP, absl::Hours(24 * 91)).case_id();
  AddCase(kHere, v1::STAGE_FOLLOW_UP, absl::Hours(24 * 89));
  // Not this office's to follow, or not in follow-up.
  AddCase(kThere, v1::STAGE_FOLLOW_UP, absl::Hours(24 * 200));
  AddCase(kHere, v1::STAGE_REINTEGRATION_PLAN, absl::Hours(24 * 200));
  AddCase(kHere, v1::STAGE_CLOSED, absl::Hours(24 * 200));

  const WorkQueues q = Compute();
  EXPECT_THAT(Ids(q.follow_ups_overdue), ElementsAre(overdue));
}

TEST_F(QueuesTest, EveryPageIsRead) {
  std::vector<std::string> incoming;
  for (int i = 0; i < 250; ++i) {
    incoming.push_back(
        AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED).transfer_id());
  }
  std::vector<std::string> overdue;
  for (int i = 0; i < 130; ++i) {
    overdue.push_back(
        AddCase(kHere, v1::STAGE_FOLLOW_UP, absl::Hours(24 * 100)).case_id());
  }
  const WorkQueues q = Compute();
  EXPECT_EQ(Ids(q.to_decide), incoming);
  EXPECT_EQ(Ids(q.follow_ups_overdue), overdue);
  EXPECT_THAT(q.problems, IsEmpty());
  EXPECT_TRUE(q.to_decide_read);
  // Three pages of incoming requests, each after the previous one's token.
  std::vector<std::string> tokens;
  for (const auto& c : backend_.CallsOf("ListTransfers")) {
    const auto& r = static_cast<const v1::ListTransfersRequest&>(*c.request);
    if (r.state() == v1::TRANSFER_STATE_REQUESTED && r.incoming()) {
      tokens.push_back(r.page_token());
    }
  }
  EXPECT_THAT(tokens, ElementsAre("", Token(100), Token(200)));
  EXPECT_EQ(backend_.CallsOf("ListCases").size(), 2u);
}

TEST_F(QueuesTest, AQueueBeyondTheLimitIsCutAndSaysSo) {
  for (int i = 0; i < 250; ++i) {
    AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED);
  }
  const WorkQueues q = Compute(/*max_pages=*/2);
  EXPECT_EQ(q.to_decide.size(), 200u);
  ASSERT_EQ(q.problems.size(), 1u);
  EXPECT_THAT(q.problems[0], HasSubstr("Hay más de 200 traslados en una cola"));
  EXPECT_FALSE(q.to_decide_read);
  EXPECT_FALSE(q.waiting_too_long_read);
  EXPECT_TRUE(q.departures_to_confirm_read);
  EXPECT_TRUE(q.arrivals_expected_read);
  EXPECT_TRUE(q.follow_ups_overdue_read);
}

TEST_F(QueuesTest, AnUnreachableNodeIsOneSentenceAndNoQueueLooksEmpty) {
  AddTransfer(kThere, kHere, v1::TRANSFER_STATE_REQUESTED);
  backend_.FailAll(absl::UnavailableError("connection refused"));
  const WorkQueues q = Compute();
  // Five lists failed; one sentence.
  EXPECT_EQ(backend_.Calls().size(), 5u);
  ASSERT_EQ(q.problems.size(), 1u);
  EXPECT_THAT(q.problems[0],
              HasSubstr("No se puede contactar al nodo regional"));
  EXPECT_THAT(q.to_decide, IsEmpty());
  EXPECT_FALSE(q.to_decide_read || q.departures_to_confirm_read ||
               q.arrivals_expected_read || q.waiting_too_long_read ||
               q.follow_ups_overdue_read);

  // The page shows the sentence once and calls no queue empty.
  PageContext ctx;
  ctx.user = kClerk;
  ctx.csrf_token = "t";
  ctx.region = kHere;
  ctx.today = kToday;
  const std::string html = HomePage(ctx, q);
  size_t n = 0;
  for (size_t at = 0;
       (at = html.find("No se puede contactar", at)) != std::string::npos;
       ++at) {
    ++n;
  }
  EXPECT_EQ(n, 1u);
  for (const char* empty :
       {"No hay traslados entrantes por decidir.",
        "No hay salidas por confirmar.", "No se espera ninguna llegada.",
        "Ningún traslado espera demasiado.", "No hay seguimientos vencidos."}) {
    EXPECT_THAT(html, Not(HasSubstr(empty)));
  }
  for (const char* id : {"cola-entrantes", "cola-salidas", "cola-llegadas",
                         "cola-demoradas", "cola-seguimientos"}) {
    EXPECT_THAT(html, HasSubstr(absl::StrCat("<p class=\"error\" id=\"", id,
                                             "\">No se pudo leer esta lista")));
  }

  // One list failing: only its queues are unread.
  backend_.FailAll(absl::OkStatus());
  backend_.Fail("ListCases", absl::DeadlineExceededError("slow"));
  const WorkQueues partial = Compute();
  ASSERT_EQ(partial.problems.size(), 1u);
  EXPECT_THAT(partial.problems[0], HasSubstr("no respondió a tiempo"));
  EXPECT_EQ(partial.to_decide.size(), 1u);
  EXPECT_TRUE(partial.to_decide_read);
  EXPECT_FALSE(partial.follow_ups_overdue_read);
  const std::string page = HomePage(ctx, partial);
  EXPECT_THAT(page, HasSubstr("No hay salidas por confirmar."));
  EXPECT_THAT(page, Not(HasSubstr("No hay seguimientos vencidos.")));
}

}  // namespace
}  // namespace ruta::console
