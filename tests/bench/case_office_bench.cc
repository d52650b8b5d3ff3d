// CaseOffice over real mutual TLS against an in-process node (SQLite,
// synchronous=FULL, group commit): OpenCase (durable write: case, history,
// request record, aggregates in one transaction), GetCase (read) and the
// partner's PartnerStatus.GetCaseStatus (read: resolving the partner's
// pseudonym through the node's ref index, then stage, timeline and
// services),
// with several client threads in flight. Client and server share the machine's
// cores, so figures are for comparison between runs of the same machine.
#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "absl/strings/str_format.h"
#include "benchmark/benchmark.h"
#include "grpcpp/grpcpp.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta {
namespace {

testing::InProcessNode& Node() {
  static testing::InProcessNode* node = [] {
    testing::NodeSetup setup;
    setup.region = "madre-de-dios";
    return testing::InProcessNode::Start(setup).release();
  }();
  return *node;
}

std::shared_ptr<grpc::Channel> Channel() {
  static std::shared_ptr<grpc::Channel> channel = testing::MakeChannel(
      Node().address(), testing::DevPki::Get().Office("madre-de-dios"),
      "madre-de-dios");
  return channel;
}

std::atomic<int64_t> next_request{1};

v1::OpenCaseRequest NewOpenCase() {
  const int64_t n = next_request.fetch_add(1);
  return testing::VictimOpenCaseRequest(
      absl::StrFormat("00000000-0000-4000-8000-%012d", n),
      absl::StrFormat("%08d", n % 100000000));
}

void BM_OpenCase(benchmark::State& state) {
  auto stub = v1::CaseOffice::NewStub(Channel());
  for (auto _ : state) {
    v1::OpenCaseResponse response;
    const grpc::Status status = stub->OpenCase(
        testing::ContextWithDeadline().get(), NewOpenCase(), &response);
    if (!status.ok()) {
      state.SkipWithError(status.error_message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenCase)->UseRealTime()->Threads(1)->Threads(16)->Threads(64);

void BM_GetCase(benchmark::State& state) {
  auto stub = v1::CaseOffice::NewStub(Channel());
  v1::OpenCaseResponse opened;
  if (!stub->OpenCase(testing::ContextWithDeadline().get(), NewOpenCase(),
                      &opened)
           .ok()) {
    state.SkipWithError("could not open a case");
    return;
  }
  v1::GetCaseRequest request;
  request.set_case_id(opened.case_().case_id());
  for (auto _ : state) {
    v1::GetCaseResponse response;
    const grpc::Status status =
        stub->GetCase(testing::ContextWithDeadline().get(), request, &response);
    if (!status.ok()) {
      state.SkipWithError(status.error_message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetCase)->UseRealTime()->Threads(1)->Threads(16)->Threads(64);

// Cases referred to the partner for BM_GetCaseStatus (GetCaseStatus no longer
// grows with their number: see partner_bench).
constexpr int kReferredCases = 50;

// Refers kReferredCases cases to madre-de-dios/tdh (once); returns the
// partner's ref of one of them, or "" on failure.
std::string ReferredRef() {
  static std::once_flag once;
  static std::string ref;
  std::call_once(once, [] {
    auto office = v1::CaseOffice::NewStub(Channel());
    for (int i = 0; i < kReferredCases; ++i) {
      v1::OpenCaseResponse opened;
      if (!office
               ->OpenCase(testing::ContextWithDeadline().get(), NewOpenCase(),
                          &opened)
               .ok()) {
        return;
      }
      v1::ReferCaseRequest refer;
      refer.set_request_id(absl::StrFormat("00000000-0000-4000-a000-%012d",
                                           next_request.fetch_add(1)));
      refer.set_case_id(opened.case_().case_id());
      refer.set_partner_id("madre-de-dios/tdh");
      v1::ReferCaseResponse referred;
      if (!office
               ->ReferCase(testing::ContextWithDeadline().get(), refer,
                           &referred)
               .ok()) {
        return;
      }
    }
    auto partner = v1::PartnerStatus::NewStub(testing::MakeChannel(
        Node().address(),
        testing::DevPki::Get().Partner("madre-de-dios", "tdh"),
        "madre-de-dios"));
    v1::ListReferredCasesRequest list;
    list.set_page_size(1);
    v1::ListReferredCasesResponse listed;
    if (partner
            ->ListReferredCases(testing::ContextWithDeadline().get(), list,
                                &listed)
            .ok() &&
        listed.cases_size() == 1) {
      ref = listed.cases(0).partner_case_ref();
    }
  });
  return ref;
}

void BM_GetCaseStatus(benchmark::State& state) {
  const std::string ref = ReferredRef();
  if (ref.empty()) {
    state.SkipWithError("could not refer cases to the partner");
    return;
  }
  static std::shared_ptr<grpc::Channel> channel = testing::MakeChannel(
      Node().address(), testing::DevPki::Get().Partner("madre-de-dios", "tdh"),
      "madre-de-dios");
  auto stub = v1::PartnerStatus::NewStub(channel);
  v1::GetCaseStatusRequest request;
  request.set_partner_case_ref(ref);
  for (auto _ : state) {
    v1::GetCaseStatusResponse response;
    const grpc::Status status = stub->GetCaseStatus(
        testing::ContextWithDeadline().get(), request, &response);
    if (!status.ok()) {
      state.SkipWithError(status.error_message().c_str());
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetCaseStatus)
    ->UseRealTime()
    ->Threads(1)
    ->Threads(16)
    ->Threads(64);

}  // namespace
}  // namespace ruta

BENCHMARK_MAIN();
