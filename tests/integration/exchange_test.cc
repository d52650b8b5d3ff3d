// Federation.Exchange as a peer's relay sees it, against an in-process node
// over real mutual TLS (the caller is Madre de Dios' node): the stream reads
// ahead while the inbox applies, so batches sent back to back without
// waiting for their acknowledgements are all applied, in order, and
// acknowledged cumulatively; a refused batch among them is answered with a
// nack naming the position after the batches before it, nothing after it is
// applied, and the stream ends with the refusal.
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/federation_batches.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/v1/federation.grpc.pb.h"

namespace ruta {
namespace {

using testing::DevPki;
using testing::InProcessNode;
using testing::MakeChannel;

constexpr char kMdd[] = "madre-de-dios";
constexpr char kCusco[] = "cusco";

class ExchangeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::NodeSetup setup;
    setup.region = kCusco;
    // Madre de Dios is a peer (its node may call Exchange); nothing listens
    // there, so Cusco's own relay only retries.
    setup.peers = {{kMdd, absl::StrCat("127.0.0.1:", testing::PickFreePort())}};
    cusco_ = InProcessNode::Start(setup);
    ASSERT_NE(cusco_, nullptr);
    absl::StatusOr<std::unique_ptr<testing::FederationBatchMaker>> batches =
        testing::FederationBatchMaker::Create(kMdd, kCusco);
    ASSERT_TRUE(batches.ok()) << batches.status();
    batches_ = *std::move(batches);
    stub_ = v1::Federation::NewStub(
        MakeChannel(cusco_->address(), DevPki::Get().Node(kMdd), kCusco));
  }

  // A request carrying a batch of `pairs` shared cases with their transfer
  // requests from sequence `first` on; `foreign_owner`: the case of its
  // second pair is said to be owned by Cusco, which Cusco refuses.
  v1::ExchangeRequest Batch(int64_t first, int pairs,
                            bool foreign_owner = false) {
    v1::ExchangeRequest request;
    *request.mutable_batch() =
        batches_->SignedCasePairs(first, pairs, foreign_owner ? 1 : -1);
    return request;
  }

  using Stream =
      grpc::ClientReaderWriter<v1::ExchangeRequest, v1::ExchangeResponse>;

  // Opens a stream and says hello; returns the position the node answers.
  int64_t Open(grpc::ClientContext* context, std::unique_ptr<Stream>* stream) {
    context->set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(30)));
    *stream = stub_->Exchange(context);
    v1::ExchangeRequest hello;
    hello.mutable_hello()->set_origin_region(kMdd);
    hello.mutable_hello()->set_destination_region(kCusco);
    EXPECT_TRUE((*stream)->Write(hello));
    v1::ExchangeResponse first;
    if (!(*stream)->Read(&first)) {
      const grpc::Status status = (*stream)->Finish();
      ADD_FAILURE() << "no answer to the hello: " << status.error_code() << " "
                    << status.error_message();
      return -1;
    }
    EXPECT_TRUE(first.has_ack()) << first.DebugString();
    return first.ack().applied_through();
  }

  std::unique_ptr<InProcessNode> cusco_;
  std::unique_ptr<testing::FederationBatchMaker> batches_;
  std::unique_ptr<v1::Federation::Stub> stub_;
};

TEST_F(ExchangeTest, BatchesSentBackToBackAreAllAppliedAndAcknowledged) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
  ASSERT_EQ(Open(&context, &stream), 0);
  // 12 batches of 8 events, written without reading anything in between.
  constexpr int kBatches = 12;
  for (int b = 0; b < kBatches; ++b) {
    if (!stream->Write(Batch(1 + 8 * b, 4))) {
      const grpc::Status status = stream->Finish();
      FAIL() << "batch " << b << ": " << status.error_code() << " "
             << status.error_message();
    }
  }
  int64_t acked = 0;
  int acks = 0;
  v1::ExchangeResponse response;
  while (acked < 8 * kBatches && stream->Read(&response)) {
    ASSERT_TRUE(response.has_ack()) << response.DebugString();
    EXPECT_GT(response.ack().applied_through(), acked);  // cumulative
    EXPECT_EQ(response.ack().applied_through() % 8, 0);  // whole batches
    acked = response.ack().applied_through();
    ++acks;
  }
  EXPECT_EQ(acked, 8 * kBatches);
  EXPECT_LE(acks, kBatches);
  stream->WritesDone();
  EXPECT_FALSE(stream->Read(&response));
  const grpc::Status status = stream->Finish();
  EXPECT_TRUE(status.ok()) << status.error_message();

  // A new stream starts from there.
  grpc::ClientContext again;
  std::unique_ptr<Stream> next;
  EXPECT_EQ(Open(&again, &next), 8 * kBatches);
  again.TryCancel();
  next->Finish().ok();
}

TEST_F(ExchangeTest, RefusedBatchAmongPipelinedOnesIsNackedAfterThoseBefore) {
  grpc::ClientContext context;
  std::unique_ptr<Stream> stream;
  ASSERT_EQ(Open(&context, &stream), 0);
  // 1..4, 5..8, 9..12 with its event 11 refused, 13..16, 17..20: all sent
  // before anything is read.
  ASSERT_TRUE(stream->Write(Batch(1, 2)));
  ASSERT_TRUE(stream->Write(Batch(5, 2)));
  ASSERT_TRUE(stream->Write(Batch(9, 2, /*foreign_owner=*/true)));
  ASSERT_TRUE(stream->Write(Batch(13, 2)));
  ASSERT_TRUE(stream->Write(Batch(17, 2)));
  int64_t acked = 0;
  bool nacked = false;
  v1::ExchangeResponse response;
  while (stream->Read(&response)) {
    ASSERT_FALSE(nacked) << "nothing after the nack: "
                         << response.DebugString();
    if (response.has_ack()) {
      EXPECT_GT(response.ack().applied_through(), acked);
      acked = response.ack().applied_through();
      continue;
    }
    ASSERT_TRUE(response.has_nack()) << response.DebugString();
    nacked = true;
    EXPECT_EQ(response.nack().applied_through(), 8);
    EXPECT_NE(response.nack().reason().find("event 11 "), std::string::npos)
        << response.nack().reason();
  }
  EXPECT_TRUE(nacked);
  EXPECT_LE(acked, 8);
  const grpc::Status status = stream->Finish();
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << status.error_message();

  // Nothing after the refused batch was applied: the node resumes at 9.
  grpc::ClientContext again;
  std::unique_ptr<Stream> next;
  ASSERT_EQ(Open(&again, &next), 8);
  ASSERT_TRUE(next->Write(Batch(9, 2)));
  ASSERT_TRUE(next->Read(&response));
  ASSERT_TRUE(response.has_ack()) << response.DebugString();
  EXPECT_EQ(response.ack().applied_through(), 12);
  // A gap: refused with OUT_OF_RANGE, the position unchanged.
  ASSERT_TRUE(next->Write(Batch(21, 2)));
  ASSERT_TRUE(next->Read(&response));
  ASSERT_TRUE(response.has_nack()) << response.DebugString();
  EXPECT_EQ(response.nack().applied_through(), 12);
  EXPECT_FALSE(next->Read(&response));
  const grpc::Status gap = next->Finish();
  EXPECT_EQ(gap.error_code(), grpc::StatusCode::OUT_OF_RANGE)
      << gap.error_message();
}

}  // namespace
}  // namespace ruta
