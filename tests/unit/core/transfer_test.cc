// The transfer as a set of facts (core/transfer.h): the state each set
// amounts to, who may add which fact, and dates.
#include "ruta/core/transfer.h"

#include "gtest/gtest.h"

namespace ruta::core {
namespace {

Transfer Requested() {
  Transfer t;
  t.transfer_id = "tr_abcdefghijklmnopqrst";
  t.case_id = "cs_abcdefghijklmnopqrst";
  t.from_region = "madre-de-dios";
  t.to_region = "cusco";
  t.requested_on = {2026, 11, 1};
  return t;
}

TEST(TransferTest, StateFollowsTheFactsWithCancelWinningTheRace) {
  Transfer t = Requested();
  EXPECT_EQ(TransferStateOf(t), TransferState::kRequested);
  t.accepted_on = {2026, 11, 2};
  EXPECT_EQ(TransferStateOf(t), TransferState::kAccepted);
  // The sender cancelled while the acceptance was on its way.
  t.cancelled = true;
  EXPECT_EQ(TransferStateOf(t), TransferState::kCancelled);
  EXPECT_EQ(TransferVersionOf(t), 3);
  Transfer rejected = Requested();
  rejected.rejected = true;
  EXPECT_EQ(TransferStateOf(rejected), TransferState::kRejected);
  rejected.cancelled = true;
  EXPECT_EQ(TransferStateOf(rejected), TransferState::kCancelled);
  Transfer done = Requested();
  done.accepted_on = {2026, 11, 2};
  done.departed_on = {2026, 11, 3};
  EXPECT_EQ(TransferStateOf(done), TransferState::kInTransit);
  done.received_on = {2026, 11, 4};
  EXPECT_EQ(TransferStateOf(done), TransferState::kReceived);
  EXPECT_TRUE(IsFinalTransferState(TransferStateOf(done)));
}

TEST(TransferTest, MergeTakesOnlyTheAuthorsFactsAndIsIdempotent) {
  Transfer local = Requested();
  Transfer incoming = Requested();
  incoming.accepted_on = {2026, 11, 2};
  incoming.cancelled = true;  // not the receiver's to say
  bool consistent = false;
  EXPECT_TRUE(MergeTransferFacts(incoming, TransferRole::kReceiver, &local,
                                 &consistent));
  EXPECT_TRUE(consistent);
  EXPECT_EQ(TransferStateOf(local), TransferState::kAccepted);
  EXPECT_FALSE(local.cancelled);
  // Again: nothing new.
  EXPECT_FALSE(MergeTransferFacts(incoming, TransferRole::kReceiver, &local,
                                  &consistent));
  // Another transfer's facts are not merged.
  incoming.transfer_id = "tr_zzzzzzzzzzzzzzzzzzzz";
  EXPECT_FALSE(
      MergeTransferFacts(incoming, TransferRole::kSender, &local, &consistent));
  EXPECT_FALSE(consistent);
}

TEST(TransferTest, EachStepHasOneAuthor) {
  EXPECT_TRUE(MayAuthor(TransferRole::kSender, TransferState::kRequested));
  EXPECT_TRUE(MayAuthor(TransferRole::kSender, TransferState::kInTransit));
  EXPECT_TRUE(MayAuthor(TransferRole::kSender, TransferState::kCancelled));
  EXPECT_FALSE(MayAuthor(TransferRole::kSender, TransferState::kAccepted));
  EXPECT_TRUE(MayAuthor(TransferRole::kReceiver, TransferState::kAccepted));
  EXPECT_TRUE(MayAuthor(TransferRole::kReceiver, TransferState::kRejected));
  EXPECT_TRUE(MayAuthor(TransferRole::kReceiver, TransferState::kReceived));
  EXPECT_FALSE(MayAuthor(TransferRole::kReceiver, TransferState::kInTransit));
  EXPECT_FALSE(MayAuthor(TransferRole::kNone, TransferState::kRequested));
}

TEST(TransferTest, CaseStageFollowsTheTransfer) {
  EXPECT_EQ(CaseStageFor(TransferState::kAccepted, Stage::kFamilyCare),
            Stage::kTransferRequested);
  EXPECT_EQ(CaseStageFor(TransferState::kInTransit, Stage::kFamilyCare),
            Stage::kInTransit);
  EXPECT_EQ(CaseStageFor(TransferState::kCancelled, Stage::kFamilyCare),
            Stage::kFamilyCare);
}

TEST(TransferTest, DatesAreCalendarDays) {
  Date d;
  EXPECT_TRUE(ParseDate("2028-02-29", &d));
  EXPECT_EQ(FormatDate(d), "2028-02-29");
  EXPECT_FALSE(ParseDate("2027-02-29", &d));
  EXPECT_FALSE(ParseDate("2026-13-01", &d));
  EXPECT_FALSE(ParseDate("26-11-01", &d));
  EXPECT_TRUE(ParseDate("", &d));
  EXPECT_FALSE(d.is_set());
}

}  // namespace
}  // namespace ruta::core
