// Transfers between two in-process nodes, Madre de Dios and Cusco, peers of
// each other over real mutual TLS: the whole lifecycle on both nodes, custody
// moving once, services flowing back, cancellation, the watch stream,
// idempotent retries, the relay status, and delivery after an outage.
#include <memory>
#include <string>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::OfficeClient;
using testing::RequestIdFor;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
constexpr char kCuscoProvince[] = "0801";

bool InState(const v1::Transfer& t, v1::TransferState state) {
  return t.state() == state;
}

class TransferTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    for (const char* region : {kCusco, kMdd}) {
      ports_[region] = testing::PickFreePort();
      dirs_[region] = testing::MakeTempDir(absl::StrCat("transfer-", region));
    }
    for (const char* region : {kCusco, kMdd}) StartNode(region);
  }
  static void TearDownTestSuite() {
    for (auto& [region, node] : nodes_) node.reset();
  }
  static void StartNode(const std::string& region) {
    const std::string other = region == kCusco ? kMdd : kCusco;
    testing::NodeSetup setup;
    setup.region = region;
    setup.data_dir = dirs_[region];
    setup.listen_address = absl::StrCat("127.0.0.1:", ports_[region]);
    setup.peers = {{other, absl::StrCat("127.0.0.1:", ports_[other])}};
    setup.relay_initial_backoff_ms = 50;
    setup.relay_max_backoff_ms = 500;
    setup.relay_ack_timeout_ms = 3000;
    nodes_[region] = InProcessNode::Start(setup);
    ASSERT_NE(nodes_[region], nullptr);
  }
  static std::string Address(const std::string& region) {
    return absl::StrCat("127.0.0.1:", ports_[region]);
  }

  void SetUp() override {
    mdd_ = std::make_unique<OfficeClient>(Address(kMdd), kMdd);
    cusco_ = std::make_unique<OfficeClient>(Address(kCusco), kCusco);
    salt_ = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }
  std::string Rid() { return RequestIdFor(salt_, 1000 + next_++); }

  // A case of Madre de Dios in RESIDENTIAL_CARE and its transfer to Cusco,
  // delivered to Cusco.
  v1::Transfer RequestOne() {
    absl::StatusOr<v1::Case> c = mdd_->OpenCaseInCare(salt_, next_++);
    EXPECT_TRUE(c.ok()) << c.status();
    absl::StatusOr<v1::Transfer> t =
        mdd_->Request(Rid(), c->case_id(), kCusco, kCuscoProvince);
    EXPECT_TRUE(t.ok()) << t.status();
    return t.ok() ? *t : v1::Transfer();
  }

  static std::map<std::string, int> ports_;
  static std::map<std::string, std::string> dirs_;
  static std::map<std::string, std::unique_ptr<InProcessNode>> nodes_;
  std::unique_ptr<OfficeClient> mdd_;
  std::unique_ptr<OfficeClient> cusco_;
  uint64_t salt_ = 0;
  uint64_t next_ = 0;
};

std::map<std::string, int> TransferTest::ports_;
std::map<std::string, std::string> TransferTest::dirs_;
std::map<std::string, std::unique_ptr<InProcessNode>> TransferTest::nodes_;

TEST_F(TransferTest, FullLifecycleReachesBothRegionsAndMovesCustodyOnce) {
  const v1::Transfer requested = RequestOne();
  ASSERT_EQ(requested.state(), v1::TRANSFER_STATE_REQUESTED);
  EXPECT_EQ(requested.from_region(), kMdd);
  EXPECT_EQ(requested.to_region(), kCusco);
  EXPECT_EQ(requested.version(), 1);
  const std::string id = requested.transfer_id();
  const std::string case_id = requested.case_id();

  // The sender's case waits in TRANSFER_REQUESTED.
  absl::StatusOr<v1::Case> sender_case = mdd_->GetCase(case_id);
  ASSERT_TRUE(sender_case.ok()) << sender_case.status();
  EXPECT_EQ(sender_case->stage(), v1::STAGE_TRANSFER_REQUESTED);

  // Cusco sees the request and the case it concerns (a read-only copy).
  absl::StatusOr<v1::Transfer> seen =
      cusco_->WaitFor(id, [](const v1::Transfer&) { return true; });
  ASSERT_TRUE(seen.ok()) << seen.status();
  EXPECT_EQ(seen->state(), v1::TRANSFER_STATE_REQUESTED);
  EXPECT_EQ(seen->destination_province(), kCuscoProvince);
  absl::StatusOr<v1::Case> copy = cusco_->GetCase(case_id);
  ASSERT_TRUE(copy.ok()) << copy.status();
  EXPECT_EQ(copy->owner_region(), kMdd);
  EXPECT_EQ(copy->stage(), v1::STAGE_TRANSFER_REQUESTED);

  // Authorship: Madre de Dios cannot accept its own request, Cusco cannot
  // depart it.
  absl::StatusOr<v1::Transfer> wrong = mdd_->Accept(Rid(), id);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.status().message()),
              HasSubstr("only the receiving region (cusco)"));
  wrong = cusco_->Depart(Rid(), id);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);

  ASSERT_TRUE(cusco_->Accept(Rid(), id).ok());
  ASSERT_TRUE(mdd_->WaitFor(id,
                            [](const v1::Transfer& t) {
                              return InState(t, v1::TRANSFER_STATE_ACCEPTED);
                            })
                  ->state() == v1::TRANSFER_STATE_ACCEPTED);
  // Receiving before the departure is confirmed is refused, with the reason.
  wrong = cusco_->Receive(Rid(), id);
  EXPECT_EQ(wrong.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(wrong.status().message()), HasSubstr("ACCEPTED"));

  absl::StatusOr<v1::Transfer> departed = mdd_->Depart(Rid(), id);
  ASSERT_TRUE(departed.ok()) << departed.status();
  EXPECT_EQ(departed->state(), v1::TRANSFER_STATE_IN_TRANSIT);
  ASSERT_EQ(cusco_
                ->WaitFor(id,
                          [](const v1::Transfer& t) {
                            return InState(t, v1::TRANSFER_STATE_IN_TRANSIT);
                          })
                ->state(),
            v1::TRANSFER_STATE_IN_TRANSIT);
  absl::StatusOr<v1::Transfer> received = cusco_->Receive(Rid(), id);
  ASSERT_TRUE(received.ok()) << received.status();
  EXPECT_EQ(received->state(), v1::TRANSFER_STATE_RECEIVED);
  EXPECT_EQ(received->version(), 4);

  // Custody moved: Cusco owns the case, on both nodes.
  absl::StatusOr<v1::Transfer> at_sender =
      mdd_->WaitFor(id, [](const v1::Transfer& t) {
        return InState(t, v1::TRANSFER_STATE_RECEIVED);
      });
  ASSERT_EQ(at_sender->state(), v1::TRANSFER_STATE_RECEIVED);
  EXPECT_EQ(at_sender->version(), 4);
  EXPECT_EQ(at_sender->received_on().day(), received->received_on().day());
  for (OfficeClient* office : {mdd_.get(), cusco_.get()}) {
    absl::StatusOr<v1::Case> c = office->GetCase(case_id);
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_EQ(c->owner_region(), kCusco);
    EXPECT_EQ(c->stage(), v1::STAGE_RECEIVED);
  }

  // Cusco records a service and moves the case on; both flow back.
  v1::AddServiceRequest add;
  add.set_request_id(Rid());
  add.set_case_id(case_id);
  add.set_type(v1::SERVICE_TYPE_VOCATIONAL_TRAINING);
  add.set_provider("cusco/tdh");
  add.set_status(v1::SERVICE_STATUS_ONGOING);
  add.mutable_start_month()->set_year(2026);
  add.mutable_start_month()->set_month(11);
  v1::AddServiceResponse added;
  auto ctx = ContextWithDeadline();
  ASSERT_TRUE(cusco_->stub().AddService(ctx.get(), add, &added).ok());
  // The former owner cannot record services any more.
  add.set_request_id(Rid());
  ctx = ContextWithDeadline();
  grpc::Status refused = mdd_->stub().AddService(ctx.get(), add, &added);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  v1::UpdateStageRequest stage;
  stage.set_request_id(Rid());
  stage.set_case_id(case_id);
  stage.set_stage(v1::STAGE_REINTEGRATION_PLAN);
  v1::UpdateStageResponse staged;
  ctx = ContextWithDeadline();
  ASSERT_TRUE(cusco_->stub().UpdateStage(ctx.get(), stage, &staged).ok());

  const absl::Time until = absl::Now() + absl::Seconds(20);
  v1::ListServicesResponse services;
  absl::StatusOr<v1::Case> followed;
  do {
    absl::SleepFor(absl::Milliseconds(50));
    v1::ListServicesRequest list;
    list.set_case_id(case_id);
    services.Clear();
    ctx = ContextWithDeadline();
    ASSERT_TRUE(mdd_->stub().ListServices(ctx.get(), list, &services).ok());
    followed = mdd_->GetCase(case_id);
  } while ((services.services_size() == 0 || !followed.ok() ||
            followed->stage() != v1::STAGE_REINTEGRATION_PLAN) &&
           absl::Now() < until);
  ASSERT_EQ(services.services_size(), 1);
  EXPECT_EQ(services.services(0).type(), v1::SERVICE_TYPE_VOCATIONAL_TRAINING);
  EXPECT_EQ(services.services(0).provider(), "cusco/tdh");
  ASSERT_TRUE(followed.ok());
  EXPECT_EQ(followed->stage(), v1::STAGE_REINTEGRATION_PLAN);
}

TEST_F(TransferTest, CancelBySenderReturnsTheCaseToCareOnBothNodes) {
  const v1::Transfer t = RequestOne();
  ASSERT_TRUE(
      cusco_->WaitFor(t.transfer_id(), [](const v1::Transfer&) { return true; })
          .ok());
  absl::StatusOr<v1::Transfer> cancelled = mdd_->Cancel(Rid(), t.transfer_id());
  ASSERT_TRUE(cancelled.ok()) << cancelled.status();
  EXPECT_EQ(cancelled->state(), v1::TRANSFER_STATE_CANCELLED);
  absl::StatusOr<v1::Transfer> there =
      cusco_->WaitFor(t.transfer_id(), [](const v1::Transfer& x) {
        return InState(x, v1::TRANSFER_STATE_CANCELLED);
      });
  ASSERT_EQ(there->state(), v1::TRANSFER_STATE_CANCELLED);
  EXPECT_EQ(there->note(), "la familia ya no puede recibirla");
  // Accepting a cancelled transfer is refused.
  EXPECT_EQ(cusco_->Accept(Rid(), t.transfer_id()).status().code(),
            absl::StatusCode::kFailedPrecondition);
  for (OfficeClient* office : {mdd_.get(), cusco_.get()}) {
    absl::StatusOr<v1::Case> c = office->GetCase(t.case_id());
    ASSERT_TRUE(c.ok());
    EXPECT_EQ(c->stage(), v1::STAGE_RESIDENTIAL_CARE);
    EXPECT_EQ(c->owner_region(), kMdd);
  }
}

TEST_F(TransferTest, NoteLengthIsCountedInCharacters) {
  const v1::Transfer t = RequestOne();
  // 280 characters, 420 bytes: accepted, as the CLI and the contract say.
  std::string note;
  for (int i = 0; i < 140; ++i) note += "ña";
  v1::CancelTransferRequest cancel;
  cancel.set_request_id(Rid());
  cancel.set_transfer_id(t.transfer_id());
  cancel.set_note(note + "x");
  v1::CancelTransferResponse response;
  auto ctx = ContextWithDeadline();
  grpc::Status status =
      mdd_->stub().CancelTransfer(ctx.get(), cancel, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("281 characters"));
  cancel.set_request_id(Rid());
  cancel.set_note(note);
  ctx = ContextWithDeadline();
  status = mdd_->stub().CancelTransfer(ctx.get(), cancel, &response);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.transfer().note(), note);
}

TEST_F(TransferTest, RetriedRequestCreatesOneTransfer) {
  absl::StatusOr<v1::Case> c = mdd_->OpenCaseInCare(salt_, next_++);
  ASSERT_TRUE(c.ok()) << c.status();
  const std::string rid = Rid();
  absl::StatusOr<v1::Transfer> first =
      mdd_->Request(rid, c->case_id(), kCusco, kCuscoProvince);
  absl::StatusOr<v1::Transfer> again =
      mdd_->Request(rid, c->case_id(), kCusco, kCuscoProvince);
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->transfer_id(), again->transfer_id());
  // A new request for a case already in transfer is refused.
  absl::StatusOr<v1::Transfer> second =
      mdd_->Request(Rid(), c->case_id(), kCusco, kCuscoProvince);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("TRANSFER_REQUESTED"));
}

TEST_F(TransferTest, BadRequestsNameTheField) {
  absl::StatusOr<v1::Case> c = mdd_->OpenCaseInCare(salt_, next_++);
  ASSERT_TRUE(c.ok());
  auto code_and_message = [](const absl::Status& s) {
    return absl::StrCat(s.code(), ":", s.message());
  };
  EXPECT_THAT(code_and_message(
                  mdd_->Request(Rid(), c->case_id(), "puno", "2101").status()),
              HasSubstr("to_region"));
  EXPECT_THAT(code_and_message(
                  mdd_->Request(Rid(), c->case_id(), kCusco, "1701").status()),
              HasSubstr("destination_province"));
  EXPECT_THAT(code_and_message(
                  mdd_->Request(Rid(), c->case_id(), kMdd, "1701").status()),
              HasSubstr("own region"));
  EXPECT_EQ(mdd_->Accept(Rid(), "tr_nope").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(mdd_->Get("tr_aaaaaaaaaaaaaaaaaaaa").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(TransferTest, WatchStreamsIncomingTransfersAndResumesFromCursor) {
  auto ctx = ContextWithDeadline(absl::Seconds(30));
  v1::WatchTransfersRequest request;
  auto reader = cusco_->stub().WatchTransfers(ctx.get(), request);
  const v1::Transfer t = RequestOne();
  v1::WatchTransfersResponse update;
  std::string cursor;
  bool seen = false;
  while (reader->Read(&update)) {
    cursor = update.cursor();
    if (update.transfer().transfer_id() == t.transfer_id()) {
      seen = true;
      break;
    }
  }
  ASSERT_TRUE(seen);
  ctx->TryCancel();
  (void)reader->Finish();

  // Accepted while nobody watches; a watch from the cursor gets it.
  ASSERT_TRUE(cusco_->Accept(Rid(), t.transfer_id()).ok());
  auto ctx2 = ContextWithDeadline(absl::Seconds(30));
  request.set_cursor(cursor);
  auto resumed = cusco_->stub().WatchTransfers(ctx2.get(), request);
  ASSERT_TRUE(resumed->Read(&update)) << resumed->Finish().error_message();
  EXPECT_EQ(update.transfer().transfer_id(), t.transfer_id());
  EXPECT_EQ(update.transfer().state(), v1::TRANSFER_STATE_ACCEPTED);
  ctx2->TryCancel();
  (void)resumed->Finish();

  request.set_cursor("not-a-cursor");
  auto ctx3 = ContextWithDeadline();
  auto bad = cusco_->stub().WatchTransfers(ctx3.get(), request);
  EXPECT_FALSE(bad->Read(&update));
  EXPECT_EQ(bad->Finish().error_code(), grpc::StatusCode::INVALID_ARGUMENT);
}

TEST_F(TransferTest, RequestWhilePeerIsDownIsDeliveredWhenItReturns) {
  nodes_[kCusco].reset();
  const v1::Transfer t = RequestOne();
  ASSERT_FALSE(t.transfer_id().empty());

  // The relay reports the backlog.
  auto admin = v1::Admin::NewStub(testing::MakeChannel(
      Address(kMdd), DevPki::Get().Leaf(kMdd, "admin", "operator"), kMdd));
  v1::GetRelayStatusResponse status;
  auto ctx = ContextWithDeadline();
  ASSERT_TRUE(
      admin->GetRelayStatus(ctx.get(), v1::GetRelayStatusRequest(), &status)
          .ok());
  ASSERT_EQ(status.peers_size(), 1);
  EXPECT_EQ(status.peers(0).peer_region(), kCusco);
  EXPECT_GT(status.peers(0).last_sequence(),
            status.peers(0).acknowledged_sequence());
  EXPECT_TRUE(status.peers(0).has_oldest_unacknowledged_at());

  StartNode(kCusco);
  cusco_ = std::make_unique<OfficeClient>(Address(kCusco), kCusco);
  absl::StatusOr<v1::Transfer> arrived = cusco_->WaitFor(
      t.transfer_id(), [](const v1::Transfer&) { return true; },
      absl::Seconds(30));
  ASSERT_TRUE(arrived.ok()) << arrived.status();
  EXPECT_EQ(arrived->state(), v1::TRANSFER_STATE_REQUESTED);

  const absl::Time until = absl::Now() + absl::Seconds(10);
  do {
    absl::SleepFor(absl::Milliseconds(50));
    status.Clear();
    ctx = ContextWithDeadline();
    ASSERT_TRUE(
        admin->GetRelayStatus(ctx.get(), v1::GetRelayStatusRequest(), &status)
            .ok());
  } while (status.peers(0).acknowledged_sequence() !=
               status.peers(0).last_sequence() &&
           absl::Now() < until);
  EXPECT_EQ(status.peers(0).acknowledged_sequence(),
            status.peers(0).last_sequence());
  EXPECT_TRUE(status.peers(0).connected());
}

}  // namespace
}  // namespace ruta
