// NGO partners over real mutual TLS (DESIGN.md sections 2 and 6): an office
// refers cases of its region to registered partners (consent or legal basis
// required), each partner sees only its referred cases under its own
// pseudonym and only stage, months and its own services, a withdrawal ends
// its access at once, and its watch resumes from any cursor without losing
// or repeating an update.
#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/core/partner_pseudonym.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::MakeChannel;

constexpr char kCusco[] = "cusco";
constexpr char kTdh[] = "cusco/tdh";
constexpr char kCaritas[] = "cusco/caritas";

std::string NewRequestId() {
  static std::atomic<uint64_t> next{1};
  char buffer[40];
  std::snprintf(buffer, sizeof(buffer), "00000000-0000-4000-9000-%012llu",
                static_cast<unsigned long long>(next++));
  return buffer;
}

// The office of Cusco and its two partners, against one node.
class Clients {
 public:
  explicit Clients(const std::string& address)
      : office_(v1::CaseOffice::NewStub(
            MakeChannel(address, DevPki::Get().Office(kCusco), kCusco))),
        tdh_(v1::PartnerStatus::NewStub(MakeChannel(
            address, DevPki::Get().Partner(kCusco, "tdh"), kCusco))),
        caritas_(v1::PartnerStatus::NewStub(MakeChannel(
            address, DevPki::Get().Partner(kCusco, "caritas"), kCusco))) {}

  v1::CaseOffice::Stub& office() { return *office_; }
  v1::PartnerStatus::Stub& tdh() { return *tdh_; }
  v1::PartnerStatus::Stub& caritas() { return *caritas_; }

  // A victim case (no identifiers) under `basis`, with or without consent.
  v1::Case Open(v1::LegalBasis basis, bool consent) {
    v1::OpenCaseRequest request =
        testing::VictimOpenCaseRequest(NewRequestId(), "");
    request.clear_identifiers();
    request.set_legal_basis(basis);
    request.set_consent_partner_sharing(consent);
    v1::OpenCaseResponse response;
    const grpc::Status status =
        office_->OpenCase(ContextWithDeadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.case_();
  }
  v1::Case OpenReferable() {
    return Open(v1::LEGAL_BASIS_UPE_PROTECTIVE_MEASURE, false);
  }

  grpc::Status Refer(const std::string& case_id, const std::string& partner,
                     bool withdraw = false, v1::Case* out = nullptr,
                     const std::string& request_id = NewRequestId()) {
    v1::ReferCaseRequest request;
    request.set_request_id(request_id);
    request.set_case_id(case_id);
    request.set_partner_id(partner);
    request.set_withdraw(withdraw);
    v1::ReferCaseResponse response;
    grpc::Status status =
        office_->ReferCase(ContextWithDeadline().get(), request, &response);
    if (out != nullptr) *out = response.case_();
    return status;
  }

  grpc::Status Stage(const std::string& case_id, v1::Stage stage) {
    v1::UpdateStageRequest request;
    request.set_request_id(NewRequestId());
    request.set_case_id(case_id);
    request.set_stage(stage);
    v1::UpdateStageResponse response;
    return office_->UpdateStage(ContextWithDeadline().get(), request,
                                &response);
  }

  std::string AddService(const std::string& case_id,
                         const std::string& provider) {
    v1::AddServiceRequest request;
    request.set_request_id(NewRequestId());
    request.set_case_id(case_id);
    request.set_type(v1::SERVICE_TYPE_PSYCHOSOCIAL);
    request.set_provider(provider);
    request.set_status(v1::SERVICE_STATUS_PLANNED);
    request.mutable_start_month()->set_year(2026);
    request.mutable_start_month()->set_month(11);
    v1::AddServiceResponse response;
    const grpc::Status status =
        office_->AddService(ContextWithDeadline().get(), request, &response);
    EXPECT_TRUE(status.ok()) << status.error_message();
    return response.service().service_id();
  }

  grpc::Status UpdateService(const std::string& service_id,
                             v1::ServiceStatus status) {
    v1::UpdateServiceRequest request;
    request.set_request_id(NewRequestId());
    request.set_service_id(service_id);
    request.set_status(status);
    v1::UpdateServiceResponse response;
    return office_->UpdateService(ContextWithDeadline().get(), request,
                                  &response);
  }

  // Every case `partner` sees (all pages).
  std::vector<v1::ReferredCase> List(v1::PartnerStatus::Stub& partner,
                                     std::string* serialized = nullptr) {
    std::vector<v1::ReferredCase> out;
    v1::ListReferredCasesRequest request;
    request.set_page_size(2);
    for (int page = 0; page < 1000; ++page) {
      v1::ListReferredCasesResponse response;
      const grpc::Status status = partner.ListReferredCases(
          ContextWithDeadline().get(), request, &response);
      EXPECT_TRUE(status.ok()) << status.error_message();
      if (serialized != nullptr)
        serialized->append(response.SerializeAsString());
      out.insert(out.end(), response.cases().begin(), response.cases().end());
      if (!status.ok() || response.next_page_token().empty()) break;
      request.set_page_token(response.next_page_token());
    }
    return out;
  }

  grpc::Status Get(v1::PartnerStatus::Stub& partner, const std::string& ref,
                   v1::GetCaseStatusResponse* response) {
    v1::GetCaseStatusRequest request;
    request.set_partner_case_ref(ref);
    return partner.GetCaseStatus(ContextWithDeadline().get(), request,
                                 response);
  }

 private:
  std::unique_ptr<v1::CaseOffice::Stub> office_;
  std::unique_ptr<v1::PartnerStatus::Stub> tdh_;
  std::unique_ptr<v1::PartnerStatus::Stub> caritas_;
};

// The refs the node gives: derived here from the dev partner master secret.
std::string RefOf(const std::string& partner, const std::string& case_id) {
  static const core::PartnerPseudonyms* pseudonyms = [] {
    auto loaded =
        core::PartnerPseudonyms::LoadFromFile(DevPki::Get().PartnerKey());
    EXPECT_TRUE(loaded.ok()) << loaded.status();
    return new core::PartnerPseudonyms(*std::move(loaded));
  }();
  return pseudonyms->CaseRefFor(partner, case_id);
}

class PartnerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::NodeSetup setup;
    setup.region = kCusco;
    setup.peers = {};
    node_ = InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  void SetUp() override {
    clients_ = std::make_unique<Clients>(node_->address());
  }

  static InProcessNode* node_;
  std::unique_ptr<Clients> clients_;
};
InProcessNode* PartnerTest::node_ = nullptr;

TEST_F(PartnerTest, ReferNeedsConsentOrALegalBasisThatAllowsIt) {
  Clients& c = *clients_;
  const v1::Case written = c.Open(v1::LEGAL_BASIS_WRITTEN_CONSENT, false);
  const grpc::Status refused = c.Refer(written.case_id(), kTdh);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("consent_partner_sharing"));
  EXPECT_THAT(refused.error_message(), HasSubstr("WRITTEN_CONSENT"));

  const v1::Case consented = c.Open(v1::LEGAL_BASIS_WRITTEN_CONSENT, true);
  EXPECT_TRUE(c.Refer(consented.case_id(), kTdh).ok());
  const v1::Case ordered = c.Open(v1::LEGAL_BASIS_PROSECUTOR_ORDER, false);
  v1::Case referred;
  ASSERT_TRUE(c.Refer(ordered.case_id(), kTdh, false, &referred).ok());
  EXPECT_THAT(referred.referrals(), ::testing::ElementsAre(kTdh));
}

TEST_F(PartnerTest, UnregisteredPartnerIsRefusedNamingTheSetting) {
  Clients& c = *clients_;
  const v1::Case opened = c.OpenReferable();
  const grpc::Status refused = c.Refer(opened.case_id(), "cusco/unknown-ngo");
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("partners"));
  EXPECT_THAT(refused.error_message(), HasSubstr("cusco/unknown-ngo"));
  // A partner of another region is never registered here either.
  EXPECT_EQ(c.Refer(opened.case_id(), "madre-de-dios/tdh").error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);
}

TEST_F(PartnerTest, ReferringAgainChangesNothingAndClosedCasesAreNotReferred) {
  Clients& c = *clients_;
  const v1::Case opened = c.OpenReferable();
  v1::Case first, again;
  ASSERT_TRUE(c.Refer(opened.case_id(), kTdh, false, &first).ok());
  ASSERT_TRUE(c.Refer(opened.case_id(), kTdh, false, &again).ok());
  EXPECT_EQ(again.version(), first.version());
  EXPECT_THAT(again.referrals(), ::testing::ElementsAre(kTdh));
  // A retry with the same request_id replays the first result.
  v1::Case replayed;
  const std::string id = NewRequestId();
  ASSERT_TRUE(c.Refer(opened.case_id(), kCaritas, false, &first, id).ok());
  ASSERT_TRUE(c.Refer(opened.case_id(), kCaritas, false, &replayed, id).ok());
  EXPECT_EQ(replayed.version(), first.version());

  const v1::Case closing = c.OpenReferable();
  v1::CloseCaseRequest close;
  close.set_request_id(NewRequestId());
  close.set_case_id(closing.case_id());
  close.set_reason(v1::CLOSED_REASON_LOST_CONTACT);
  v1::CloseCaseResponse closed;
  ASSERT_TRUE(
      c.office().CloseCase(ContextWithDeadline().get(), close, &closed).ok());
  const grpc::Status refused = c.Refer(closing.case_id(), kTdh);
  EXPECT_EQ(refused.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(refused.error_message(), HasSubstr("CLOSED"));
}

TEST_F(PartnerTest, PartnerSeesOnlyItsCasesUnderItsPseudonymAndAllowedFields) {
  Clients& c = *clients_;
  const v1::Case mine = c.OpenReferable();
  const v1::Case not_referred = c.OpenReferable();
  ASSERT_TRUE(c.Refer(mine.case_id(), kTdh).ok());
  ASSERT_TRUE(c.Stage(mine.case_id(), v1::STAGE_IMMEDIATE_PROTECTION).ok());
  const std::string own_service = c.AddService(mine.case_id(), kTdh);
  const std::string other_service = c.AddService(mine.case_id(), kCaritas);
  const std::string authority_service = c.AddService(mine.case_id(), "");

  std::string bytes;
  const std::vector<v1::ReferredCase> listed = c.List(c.tdh(), &bytes);
  const std::string ref = RefOf(kTdh, mine.case_id());
  auto it = std::find_if(
      listed.begin(), listed.end(),
      [&](const v1::ReferredCase& r) { return r.partner_case_ref() == ref; });
  ASSERT_NE(it, listed.end()) << "the referred case is not listed";
  EXPECT_EQ(it->stage(), v1::STAGE_IMMEDIATE_PROTECTION);
  EXPECT_GT(it->referred_month().year(), 2000);
  ASSERT_EQ(it->timeline_size(), 2);
  EXPECT_EQ(it->timeline(0).stage(), v1::STAGE_IDENTIFIED);
  EXPECT_EQ(it->timeline(1).stage(), v1::STAGE_IMMEDIATE_PROTECTION);
  ASSERT_EQ(it->services_size(), 1);
  EXPECT_EQ(it->services(0).service_id(), own_service);
  for (const v1::ReferredCase& r : listed) {
    EXPECT_NE(r.partner_case_ref(), RefOf(kTdh, not_referred.case_id()));
  }

  v1::GetCaseStatusResponse got;
  ASSERT_TRUE(c.Get(c.tdh(), ref, &got).ok());
  EXPECT_EQ(got.case_().partner_case_ref(), ref);
  bytes.append(got.SerializeAsString());
  // Nothing beyond DESIGN section 2 anywhere in the responses: no case id,
  // person ref, other provider's service or day date.
  EXPECT_EQ(bytes.find(mine.case_id()), std::string::npos);
  EXPECT_EQ(bytes.find(mine.person_ref()), std::string::npos);
  EXPECT_EQ(bytes.find(not_referred.case_id()), std::string::npos);
  EXPECT_EQ(bytes.find(other_service), std::string::npos);
  EXPECT_EQ(bytes.find(authority_service), std::string::npos);
  EXPECT_EQ(bytes.find("cs_"), std::string::npos);
  EXPECT_EQ(bytes.find("pr0_"), std::string::npos);
  EXPECT_EQ(got.DebugString().find("day"), std::string::npos);
  EXPECT_EQ(got.DebugString().find("province"), std::string::npos);

  // The same case has an unrelated ref for the other partner.
  EXPECT_NE(RefOf(kCaritas, mine.case_id()), ref);
}

TEST_F(PartnerTest, CasesNotReferredToTheCallerAreNotFound) {
  Clients& c = *clients_;
  const v1::Case referred = c.OpenReferable();
  const v1::Case other = c.OpenReferable();
  ASSERT_TRUE(c.Refer(referred.case_id(), kTdh).ok());
  const std::string tdh_ref = RefOf(kTdh, referred.case_id());
  v1::GetCaseStatusResponse got;
  // Not referred to the caller; its own ref of a case not referred to it;
  // a well-formed ref that names nothing: NOT_FOUND, never PERMISSION_DENIED.
  for (const std::string& ref :
       {RefOf(kTdh, other.case_id()), RefOf(kCaritas, other.case_id()),
        std::string("pc_") + std::string(32, 'a')}) {
    EXPECT_EQ(c.Get(c.tdh(), ref, &got).error_code(),
              grpc::StatusCode::NOT_FOUND)
        << ref;
  }
  // The second partner cannot use the first's refs.
  EXPECT_EQ(c.Get(c.caritas(), tdh_ref, &got).error_code(),
            grpc::StatusCode::NOT_FOUND);
  for (const v1::ReferredCase& r : c.List(c.caritas())) {
    EXPECT_NE(r.partner_case_ref(), tdh_ref);
  }
  // An office certificate may not call PartnerStatus at all.
  auto office_as_partner = v1::PartnerStatus::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Office(kCusco), kCusco));
  EXPECT_EQ(c.Get(*office_as_partner, tdh_ref, &got).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(PartnerTest, WithdrawalEndsAccessAtOnceAndTheWatchSaysSo) {
  Clients& c = *clients_;
  const v1::Case opened = c.OpenReferable();
  const std::string ref = RefOf(kCaritas, opened.case_id());
  // Caritas watches from now on.
  std::string cursor;
  {
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(20)));
    v1::WatchReferredCasesRequest request;
    auto reader = c.caritas().WatchReferredCases(&context, request);
    // Refer, then withdraw; the watch delivers both for this case.
    ASSERT_TRUE(c.Refer(opened.case_id(), kCaritas).ok());
    v1::GetCaseStatusResponse got;
    ASSERT_TRUE(c.Get(c.caritas(), ref, &got).ok());
    ASSERT_TRUE(c.Refer(opened.case_id(), kCaritas, /*withdraw=*/true).ok());
    EXPECT_EQ(c.Get(c.caritas(), ref, &got).error_code(),
              grpc::StatusCode::NOT_FOUND);
    bool withdrawn = false;
    v1::WatchReferredCasesResponse update;
    while (!withdrawn && reader->Read(&update)) {
      if (update.case_().partner_case_ref() != ref) continue;
      withdrawn = update.withdrawn();
      cursor = update.cursor();
      if (withdrawn) {
        // Only the ref: nothing of the case once access ended.
        EXPECT_EQ(update.case_().stage(), v1::STAGE_UNSPECIFIED);
        EXPECT_TRUE(update.case_().timeline().empty());
      }
    }
    EXPECT_TRUE(withdrawn);
    context.TryCancel();
    reader->Finish().IgnoreError();
  }
  EXPECT_THAT(cursor, ::testing::MatchesRegex("[a-p]+"));
  for (const v1::ReferredCase& r : c.List(c.caritas())) {
    EXPECT_NE(r.partner_case_ref(), ref);
  }
  // Withdrawing what does not exist is refused, clearly.
  const grpc::Status again =
      c.Refer(opened.case_id(), kCaritas, /*withdraw=*/true);
  EXPECT_EQ(again.error_code(), grpc::StatusCode::FAILED_PRECONDITION);
  EXPECT_THAT(again.error_message(), HasSubstr("no referral to withdraw"));
}

TEST_F(PartnerTest, PartnerRecordsTheStatusOfItsOwnServicesOnly) {
  Clients& c = *clients_;
  const v1::Case opened = c.OpenReferable();
  ASSERT_TRUE(c.Refer(opened.case_id(), kTdh).ok());
  const std::string own = c.AddService(opened.case_id(), kTdh);
  const std::string other = c.AddService(opened.case_id(), kCaritas);
  const std::string ref = RefOf(kTdh, opened.case_id());

  v1::UpdateServiceStatusRequest request;
  request.set_request_id(NewRequestId());
  request.set_partner_case_ref(ref);
  request.set_service_id(own);
  request.set_status(v1::SERVICE_STATUS_COMPLETED);
  request.mutable_end_month()->set_year(2027);
  request.mutable_end_month()->set_month(1);
  v1::UpdateServiceStatusResponse first, retried;
  ASSERT_TRUE(
      c.tdh()
          .UpdateServiceStatus(ContextWithDeadline().get(), request, &first)
          .ok());
  EXPECT_EQ(first.service().status(), v1::SERVICE_STATUS_COMPLETED);
  EXPECT_EQ(first.service().end_month().year(), 2027);
  ASSERT_TRUE(
      c.tdh()
          .UpdateServiceStatus(ContextWithDeadline().get(), request, &retried)
          .ok());
  EXPECT_EQ(retried.SerializeAsString(), first.SerializeAsString());
  // The office sees it through the same records, changed once.
  v1::ListServicesRequest list;
  list.set_case_id(opened.case_id());
  v1::ListServicesResponse services;
  ASSERT_TRUE(c.office()
                  .ListServices(ContextWithDeadline().get(), list, &services)
                  .ok());
  for (const v1::ServiceRecord& s : services.services()) {
    if (s.service_id() == own) {
      EXPECT_EQ(s.status(), v1::SERVICE_STATUS_COMPLETED);
      EXPECT_EQ(s.version(), 2);
    }
  }
  // A service of another provider, a service on a case not referred: not
  // found; a bad end month: the office's own rules apply.
  v1::UpdateServiceStatusRequest foreign = request;
  foreign.set_request_id(NewRequestId());
  foreign.set_service_id(other);
  v1::UpdateServiceStatusResponse ignored;
  EXPECT_EQ(
      c.tdh()
          .UpdateServiceStatus(ContextWithDeadline().get(), foreign, &ignored)
          .error_code(),
      grpc::StatusCode::NOT_FOUND);
  v1::UpdateServiceStatusRequest via_caritas = request;
  via_caritas.set_request_id(NewRequestId());
  via_caritas.set_partner_case_ref(RefOf(kCaritas, opened.case_id()));
  via_caritas.set_service_id(other);
  EXPECT_EQ(c.caritas()
                .UpdateServiceStatus(ContextWithDeadline().get(), via_caritas,
                                     &ignored)
                .error_code(),
            grpc::StatusCode::NOT_FOUND);
  v1::UpdateServiceStatusRequest no_end = request;
  no_end.set_request_id(NewRequestId());
  no_end.clear_end_month();
  EXPECT_EQ(
      c.tdh()
          .UpdateServiceStatus(ContextWithDeadline().get(), no_end, &ignored)
          .error_code(),
      grpc::StatusCode::INVALID_ARGUMENT);
}

// What the producer did for the watching partner, in order.
struct Expected {
  std::string ref;
  bool withdrawn = false;
  v1::Stage stage = v1::STAGE_UNSPECIFIED;  // for stage changes
};

TEST(PartnerWatchTest, ResumesFromRandomPointsWithoutLossOrRepetition) {
  testing::NodeSetup setup;
  setup.region = kCusco;
  std::unique_ptr<InProcessNode> node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  Clients c(node->address());
  constexpr int kUpdates = 500;

  // A case referred before the watch starts: the watch's initial state.
  const v1::Case sentinel = c.OpenReferable();
  ASSERT_TRUE(c.Refer(sentinel.case_id(), kTdh).ok());
  std::vector<Expected> expected = {
      {RefOf(kTdh, sentinel.case_id()), false, v1::STAGE_IDENTIFIED}};

  // The watcher: reads a random number of updates (seeded), cancels, and
  // resumes from the cursor of the last update it read.
  absl::Mutex mu;
  std::vector<v1::WatchReferredCasesResponse> received;
  std::atomic<bool> stop{false};
  std::atomic<int> reconnections{0};
  absl::Mutex context_mu;
  grpc::ClientContext* current = nullptr;  // the open stream's, for stopping
  std::thread watcher([&] {
    std::mt19937 random(20261129);
    std::string cursor;
    while (!stop.load()) {
      const int take = std::uniform_int_distribution<int>(1, 40)(random);
      grpc::ClientContext context;
      context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(60)));
      {
        absl::MutexLock lock(&context_mu);
        if (stop.load()) break;
        current = &context;
      }
      v1::WatchReferredCasesRequest request;
      request.set_cursor(cursor);
      auto reader = c.tdh().WatchReferredCases(&context, request);
      v1::WatchReferredCasesResponse update;
      int read = 0;
      while (read < take && !stop.load() && reader->Read(&update)) {
        cursor = update.cursor();
        absl::MutexLock lock(&mu);
        received.push_back(update);
        ++read;
      }
      {
        absl::MutexLock lock(&context_mu);
        current = nullptr;
      }
      context.TryCancel();
      reader->Finish().IgnoreError();
      ++reconnections;
    }
  });
  // Stops the watcher on every way out of the test (a failed ASSERT too).
  auto stop_watcher = [&] {
    {
      absl::MutexLock lock(&context_mu);
      stop = true;
      if (current != nullptr) current->TryCancel();
    }
    if (watcher.joinable()) watcher.join();
  };
  struct Joiner {
    std::function<void()> fn;
    ~Joiner() { fn(); }
  } joiner{stop_watcher};

  // The producer starts once the initial state was delivered (the state
  // at the moment the first stream opened), so that every change after it
  // comes from the change log.
  const absl::Time started_by = absl::Now() + absl::Seconds(20);
  for (;;) {
    {
      absl::MutexLock lock(&mu);
      if (!received.empty()) break;
    }
    ASSERT_LT(absl::Now(), started_by) << "no initial state";
    absl::SleepFor(absl::Milliseconds(10));
  }
  // The producer: referrals, stage changes, services and withdrawals, each
  // one update for tdh.
  for (int i = 0; static_cast<int>(expected.size()) < kUpdates + 1; ++i) {
    const v1::Case opened = c.OpenReferable();  // nothing for tdh yet
    const std::string ref = RefOf(kTdh, opened.case_id());
    ASSERT_TRUE(c.Refer(opened.case_id(), kTdh).ok());
    expected.push_back({ref, false, v1::STAGE_IDENTIFIED});
    ASSERT_TRUE(c.Stage(opened.case_id(), v1::STAGE_IMMEDIATE_PROTECTION).ok());
    expected.push_back({ref, false, v1::STAGE_IMMEDIATE_PROTECTION});
    const std::string service = c.AddService(opened.case_id(), kTdh);
    expected.push_back({ref, false, v1::STAGE_IMMEDIATE_PROTECTION});
    c.AddService(opened.case_id(), kCaritas);  // not tdh's: no update
    ASSERT_TRUE(c.UpdateService(service, v1::SERVICE_STATUS_ONGOING).ok());
    expected.push_back({ref, false, v1::STAGE_IMMEDIATE_PROTECTION});
    ASSERT_TRUE(c.Stage(opened.case_id(), v1::STAGE_RESIDENTIAL_CARE).ok());
    expected.push_back({ref, false, v1::STAGE_RESIDENTIAL_CARE});
    if (i % 5 == 4) {
      ASSERT_TRUE(c.Refer(opened.case_id(), kTdh, /*withdraw=*/true).ok());
      expected.push_back({ref, true});
    }
  }

  const absl::Time until = absl::Now() + absl::Seconds(90);
  while (absl::Now() < until) {
    {
      absl::MutexLock lock(&mu);
      if (received.size() >= expected.size()) break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  absl::SleepFor(absl::Milliseconds(300));  // anything extra shows up
  stop_watcher();

  absl::MutexLock lock(&mu);
  ASSERT_EQ(received.size(), expected.size())
      << "after " << reconnections.load() << " reconnections";
  EXPECT_GT(reconnections.load(), 10);
  std::vector<std::string> cursors;
  for (size_t i = 0; i < expected.size(); ++i) {
    const v1::WatchReferredCasesResponse& got = received[i];
    ASSERT_EQ(got.case_().partner_case_ref(), expected[i].ref)
        << "update " << i;
    cursors.push_back(got.cursor());
    if (expected[i].withdrawn) {
      EXPECT_TRUE(got.withdrawn()) << "update " << i;
    } else if (!got.withdrawn()) {
      EXPECT_EQ(got.case_().stage(), expected[i].stage) << "update " << i;
    }
  }
  std::sort(cursors.begin(), cursors.end());
  EXPECT_EQ(std::unique(cursors.begin(), cursors.end()), cursors.end())
      << "a cursor was delivered twice";
}

}  // namespace
}  // namespace ruta
