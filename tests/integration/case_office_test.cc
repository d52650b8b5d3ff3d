// CaseOffice over real mutual TLS against an in-process node: the first
// vertical slice, authorization, validation and idempotency at the gRPC edge.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/federation.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::MakeChannel;

constexpr char kRequestId[] = "0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b";

std::string NewRequestId(int i) {
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "00000000-0000-4000-8000-%012d", i);
  return buffer;
}

class CaseOfficeTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::NodeSetup setup;
    setup.region = "madre-de-dios";
    node_ = InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }

  std::unique_ptr<v1::CaseOffice::Stub> Office(
      const testing::KeyPair& identity) {
    return v1::CaseOffice::NewStub(
        MakeChannel(node_->address(), identity, "madre-de-dios"));
  }
  std::unique_ptr<v1::CaseOffice::Stub> Office() {
    return Office(DevPki::Get().Office("madre-de-dios"));
  }

  static InProcessNode* node_;
};
InProcessNode* CaseOfficeTest::node_ = nullptr;

TEST_F(CaseOfficeTest, OpenGetListUpdateClose) {
  auto office = Office();
  v1::OpenCaseResponse opened;
  grpc::Status status = office->OpenCase(
      ContextWithDeadline().get(),
      testing::VictimOpenCaseRequest(NewRequestId(1), "45678912"), &opened);
  ASSERT_TRUE(status.ok()) << status.error_message();
  const v1::Case& c = opened.case_();
  EXPECT_THAT(c.case_id(), ::testing::MatchesRegex("cs_[a-z]{20}"));
  EXPECT_THAT(c.person_ref(), ::testing::MatchesRegex("pr[0-9]+_[a-p]{32}"));
  EXPECT_EQ(c.owner_region(), "madre-de-dios");
  EXPECT_EQ(c.stage(), v1::STAGE_IDENTIFIED);
  EXPECT_EQ(c.version(), 1);

  v1::GetCaseRequest get;
  get.set_case_id(c.case_id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(office->GetCase(ContextWithDeadline().get(), get, &got).ok());
  EXPECT_EQ(got.case_().person_ref(), c.person_ref());
  EXPECT_EQ(got.case_().profile().origin_province(), "0812");

  v1::UpdateStageRequest stage;
  stage.set_request_id(NewRequestId(2));
  stage.set_case_id(c.case_id());
  stage.set_stage(v1::STAGE_IMMEDIATE_PROTECTION);
  stage.set_expected_version(1);
  v1::UpdateStageResponse staged;
  status = office->UpdateStage(ContextWithDeadline().get(), stage, &staged);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(staged.case_().stage(), v1::STAGE_IMMEDIATE_PROTECTION);
  EXPECT_EQ(staged.case_().version(), 2);

  v1::ListCasesRequest list;
  list.set_stage(v1::STAGE_IMMEDIATE_PROTECTION);
  v1::ListCasesResponse listed;
  ASSERT_TRUE(
      office->ListCases(ContextWithDeadline().get(), list, &listed).ok());
  bool found = false;
  for (const auto& item : listed.cases())
    found |= item.case_id() == c.case_id();
  EXPECT_TRUE(found);

  v1::CloseCaseRequest close;
  close.set_request_id(NewRequestId(3));
  close.set_case_id(c.case_id());
  close.set_reason(v1::CLOSED_REASON_LOST_CONTACT);
  v1::CloseCaseResponse closed;
  status = office->CloseCase(ContextWithDeadline().get(), close, &closed);
  ASSERT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(closed.case_().stage(), v1::STAGE_CLOSED);
  EXPECT_EQ(closed.case_().closed_reason(), v1::CLOSED_REASON_LOST_CONTACT);
}

TEST_F(CaseOfficeTest, IllegalTransitionNamesAllowedStages) {
  auto office = Office();
  v1::OpenCaseResponse opened;
  ASSERT_TRUE(office
                  ->OpenCase(ContextWithDeadline().get(),
                             testing::VictimOpenCaseRequest(NewRequestId(10),
                                                            "11223344"),
                             &opened)
                  .ok());
  v1::UpdateStageRequest stage;
  stage.set_request_id(NewRequestId(11));
  stage.set_case_id(opened.case_().case_id());
  stage.set_stage(v1::STAGE_FOLLOW_UP);
  v1::UpdateStageResponse response;
  grpc::Status status =
      office->UpdateStage(ContextWithDeadline().get(), stage, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("IMMEDIATE_PROTECTION"));
}

TEST_F(CaseOfficeTest, RetryWithSameRequestIdReturnsFirstResult) {
  auto office = Office();
  const v1::OpenCaseRequest request =
      testing::VictimOpenCaseRequest(kRequestId, "87654321");
  v1::OpenCaseResponse first;
  ASSERT_TRUE(
      office->OpenCase(ContextWithDeadline().get(), request, &first).ok());
  v1::OpenCaseResponse again;
  ASSERT_TRUE(
      office->OpenCase(ContextWithDeadline().get(), request, &again).ok());
  EXPECT_EQ(again.case_().case_id(), first.case_().case_id());
  EXPECT_EQ(again.case_().version(), 1);

  v1::OpenCaseRequest changed = request;
  changed.mutable_profile()->set_origin_province("0809");
  v1::OpenCaseResponse conflict;
  grpc::Status status =
      office->OpenCase(ContextWithDeadline().get(), changed, &conflict);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
}

TEST_F(CaseOfficeTest, ConcurrentRetriesCreateOneCase) {
  const v1::OpenCaseRequest request =
      testing::VictimOpenCaseRequest(NewRequestId(20), "55667788");
  constexpr int kCalls = 16;
  std::vector<std::string> case_ids(kCalls);
  std::vector<grpc::Status> statuses(kCalls);
  std::vector<std::thread> threads;
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] {
      auto office = Office();
      v1::OpenCaseResponse response;
      statuses[i] =
          office->OpenCase(ContextWithDeadline().get(), request, &response);
      case_ids[i] = response.case_().case_id();
    });
  }
  for (auto& t : threads) t.join();
  for (int i = 0; i < kCalls; ++i) {
    EXPECT_TRUE(statuses[i].ok()) << i << ": " << statuses[i].error_code()
                                  << " " << statuses[i].error_message();
    EXPECT_EQ(case_ids[i], case_ids[0]);
  }
  EXPECT_FALSE(case_ids[0].empty());
}

TEST_F(CaseOfficeTest, FindPersonRecognizesTheChild) {
  auto office = Office();
  v1::OpenCaseResponse opened;
  ASSERT_TRUE(office
                  ->OpenCase(ContextWithDeadline().get(),
                             testing::VictimOpenCaseRequest(NewRequestId(30),
                                                            "01234567"),
                             &opened)
                  .ok());
  v1::FindPersonRequest find;
  find.mutable_identifiers()->set_dni("01234567");
  v1::FindPersonResponse found;
  ASSERT_TRUE(
      office->FindPerson(ContextWithDeadline().get(), find, &found).ok());
  EXPECT_TRUE(found.linked());
  EXPECT_EQ(found.person_ref(), opened.case_().person_ref());
  ASSERT_EQ(found.cases_size(), 1);
  EXPECT_EQ(found.cases(0).case_id(), opened.case_().case_id());
}

TEST_F(CaseOfficeTest, UnknownEnumValueIsRejected) {
  auto office = Office();
  v1::OpenCaseRequest request =
      testing::VictimOpenCaseRequest(NewRequestId(40), "99887766");
  request.mutable_profile()->set_sex(static_cast<v1::Sex>(42));
  v1::OpenCaseResponse response;
  grpc::Status status =
      office->OpenCase(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("profile.sex"));
}

TEST_F(CaseOfficeTest, MalformedRequestIdIsRejected) {
  auto office = Office();
  v1::OpenCaseResponse response;
  grpc::Status status = office->OpenCase(
      ContextWithDeadline().get(),
      testing::VictimOpenCaseRequest("12345678", "99887766"), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(status.error_message(), HasSubstr("request_id"));
}

TEST_F(CaseOfficeTest, OfficeOfOtherRegionIsDenied) {
  auto office = Office(DevPki::Get().Office("cusco"));
  v1::ListCasesResponse response;
  grpc::Status status = office->ListCases(ContextWithDeadline().get(),
                                          v1::ListCasesRequest(), &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(status.error_message(),
              HasSubstr("needs role office of this node's region "
                        "(madre-de-dios)"));
}

TEST_F(CaseOfficeTest, PartnerMayNotCallCaseOffice) {
  auto office = Office(DevPki::Get().Leaf("madre-de-dios", "partner", "tdh"));
  v1::GetCaseRequest request;
  request.set_case_id("cs_abcdefghijabcdefghij");
  v1::GetCaseResponse response;
  EXPECT_EQ(office->GetCase(ContextWithDeadline().get(), request, &response)
                .error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Admin.Backup on a node whose configuration has no backup section: an
// allowed caller gets FAILED_PRECONDITION naming the settings to add (after
// authorization).
TEST_F(CaseOfficeTest, BackupWithoutConfigurationNamesTheSettings) {
  auto admin = v1::Admin::NewStub(
      MakeChannel(node_->address(),
                  DevPki::Get().Leaf("madre-de-dios", "admin", "operator"),
                  "madre-de-dios"));
  v1::BackupRequest request;
  request.set_request_id(kRequestId);
  v1::BackupResponse response;
  grpc::Status status =
      admin->Backup(ContextWithDeadline().get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(status.error_message(), HasSubstr("backup.directory"));
  EXPECT_THAT(status.error_message(), HasSubstr("backup.key_file"));
}

TEST_F(CaseOfficeTest, FederationIsForPeerNodesOnly) {
  auto federation = v1::Federation::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Office("madre-de-dios"),
                  "madre-de-dios"));
  v1::PutCrlResponse response;
  grpc::Status status =
      federation->PutCrl(ContextWithDeadline().get(), {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(CaseOfficeTest, HealthIsServing) {
  auto health = grpc::health::v1::Health::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Office("madre-de-dios"),
                  "madre-de-dios"));
  grpc::health::v1::HealthCheckResponse response;
  ASSERT_TRUE(health->Check(ContextWithDeadline().get(), {}, &response).ok());
  EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(CaseOfficeTest, ClientWithoutCertificateIsRefused) {
  grpc::SslCredentialsOptions ssl;
  ssl.pem_root_certs = testing::ReadFile(DevPki::Get().RootCa("madre-de-dios"));
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("localhost");
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  auto channel = grpc::CreateCustomChannel(node_->address(),
                                           grpc::SslCredentials(ssl), args);
  auto office = v1::CaseOffice::NewStub(channel);
  v1::ListCasesResponse response;
  grpc::Status status = office->ListCases(
      ContextWithDeadline(absl::Seconds(5)).get(), {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

TEST_F(CaseOfficeTest, ClientFromUnknownCaIsRefused) {
  auto office = Office(DevPki::Get().Rogue());
  v1::ListCasesResponse response;
  grpc::Status status = office->ListCases(
      ContextWithDeadline(absl::Seconds(5)).get(), {}, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::UNAVAILABLE);
}

}  // namespace
}  // namespace ruta
