#include "ruta/testing/office_client.h"

#include <cstdio>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "ruta/testing/node.h"
#include "ruta/testing/requests.h"

namespace ruta::testing {

std::string RequestIdFor(uint64_t salt, uint64_t n) {
  return absl::StrFormat(
      "%08x-%04x-4%03x-8%03x-%012x", static_cast<uint32_t>(salt >> 32),
      static_cast<uint32_t>((salt >> 16) & 0xffff),
      static_cast<uint32_t>(salt & 0xfff),
      static_cast<uint32_t>((n >> 48) & 0xfff), n & 0xffffffffffffULL);
}

OfficeClient::OfficeClient(const std::string& address,
                           const std::string& region, const DevPki& pki)
    : stub_(v1::CaseOffice::NewStub(MakeChannel(address, pki.Office(region),
                                                region, pki.TrustBundle()))) {}

OfficeClient::OfficeClient(const std::string& address,
                           const std::string& region, const KeyPair& identity)
    : stub_(v1::CaseOffice::NewStub(MakeChannel(address, identity, region))) {}

absl::Status OfficeClient::Call(
    const std::function<grpc::Status(grpc::ClientContext*)>& call) {
  grpc::Status status;
  for (int attempt = 0; attempt < attempts_; ++attempt) {
    if (attempt > 0) absl::SleepFor(absl::Milliseconds(200));
    grpc::ClientContext context;
    context.set_deadline(absl::ToChronoTime(absl::Now() + deadline_));
    context.set_wait_for_ready(wait_for_ready_);
    status = call(&context);
    if (status.ok()) return absl::OkStatus();
    if (status.error_code() != grpc::StatusCode::UNAVAILABLE &&
        status.error_code() != grpc::StatusCode::DEADLINE_EXCEEDED) {
      break;
    }
  }
  return absl::Status(static_cast<absl::StatusCode>(status.error_code()),
                      status.error_message());
}

absl::StatusOr<v1::Case> OfficeClient::OpenCaseInCare(uint64_t salt,
                                                      uint64_t n) {
  v1::OpenCaseRequest open =
      VictimOpenCaseRequest(RequestIdFor(salt, n * 4), "");
  open.clear_identifiers();
  v1::OpenCaseResponse opened;
  absl::Status s = Call([&](grpc::ClientContext* c) {
    return stub_->OpenCase(c, open, &opened);
  });
  if (!s.ok()) return s;
  v1::Case result = opened.case_();
  int step = 1;
  for (v1::Stage stage :
       {v1::STAGE_IMMEDIATE_PROTECTION, v1::STAGE_RESIDENTIAL_CARE}) {
    if (result.stage() >= stage) continue;
    v1::UpdateStageRequest request;
    request.set_request_id(RequestIdFor(salt, n * 4 + step++));
    request.set_case_id(result.case_id());
    request.set_stage(stage);
    v1::UpdateStageResponse response;
    s = Call([&](grpc::ClientContext* c) {
      return stub_->UpdateStage(c, request, &response);
    });
    if (!s.ok()) return s;
    result = response.case_();
  }
  return result;
}

absl::StatusOr<v1::Transfer> OfficeClient::Request(
    const std::string& request_id, const std::string& case_id,
    const std::string& to_region, const std::string& province) {
  v1::RequestTransferRequest request;
  request.set_request_id(request_id);
  request.set_case_id(case_id);
  request.set_to_region(to_region);
  request.set_destination_province(province);
  request.add_requested_services(v1::SERVICE_TYPE_EDUCATION_SUPPORT);
  request.add_requested_services(v1::SERVICE_TYPE_PSYCHOSOCIAL);
  v1::RequestTransferResponse response;
  absl::Status s = Call([&](grpc::ClientContext* c) {
    return stub_->RequestTransfer(c, request, &response);
  });
  if (!s.ok()) return s;
  return response.transfer();
}

#define RUTA_TRANSFER_STEP(Name, Method, Setup)                        \
  absl::StatusOr<v1::Transfer> OfficeClient::Name(                     \
      const std::string& request_id, const std::string& transfer_id) { \
    v1::Method##Request request;                                       \
    request.set_request_id(request_id);                                \
    request.set_transfer_id(transfer_id);                              \
    Setup;                                                             \
    v1::Method##Response response;                                     \
    absl::Status s = Call([&](grpc::ClientContext* c) {                \
      return stub_->Method(c, request, &response);                     \
    });                                                                \
    if (!s.ok()) return s;                                             \
    return response.transfer();                                        \
  }

RUTA_TRANSFER_STEP(Accept, AcceptTransfer, (void)0)
RUTA_TRANSFER_STEP(Depart, DepartTransfer, (void)0)
RUTA_TRANSFER_STEP(Receive, ReceiveTransfer, (void)0)
RUTA_TRANSFER_STEP(Cancel, CancelTransfer,
                   request.set_note("la familia ya no puede recibirla"))
#undef RUTA_TRANSFER_STEP

absl::StatusOr<v1::Transfer> OfficeClient::Reject(
    const std::string& request_id, const std::string& transfer_id,
    v1::RejectReason reason) {
  v1::RejectTransferRequest request;
  request.set_request_id(request_id);
  request.set_transfer_id(transfer_id);
  request.set_reason(reason);
  v1::RejectTransferResponse response;
  absl::Status s = Call([&](grpc::ClientContext* c) {
    return stub_->RejectTransfer(c, request, &response);
  });
  if (!s.ok()) return s;
  return response.transfer();
}

absl::StatusOr<v1::Transfer> OfficeClient::Get(const std::string& id) {
  v1::GetTransferRequest request;
  request.set_transfer_id(id);
  v1::GetTransferResponse response;
  absl::Status s = Call([&](grpc::ClientContext* c) {
    return stub_->GetTransfer(c, request, &response);
  });
  if (!s.ok()) return s;
  return response.transfer();
}

absl::StatusOr<v1::Case> OfficeClient::GetCase(const std::string& id) {
  v1::GetCaseRequest request;
  request.set_case_id(id);
  v1::GetCaseResponse response;
  absl::Status s = Call([&](grpc::ClientContext* c) {
    return stub_->GetCase(c, request, &response);
  });
  if (!s.ok()) return s;
  return response.case_();
}

absl::StatusOr<std::vector<v1::Transfer>> OfficeClient::ListAll() {
  std::vector<v1::Transfer> all;
  std::string token;
  do {
    v1::ListTransfersRequest request;
    request.set_page_size(100);
    request.set_page_token(token);
    v1::ListTransfersResponse response;
    absl::Status s = Call([&](grpc::ClientContext* c) {
      return stub_->ListTransfers(c, request, &response);
    });
    if (!s.ok()) return s;
    for (const v1::Transfer& t : response.transfers()) all.push_back(t);
    token = response.next_page_token();
  } while (!token.empty());
  return all;
}

absl::StatusOr<v1::Transfer> OfficeClient::WaitFor(
    const std::string& transfer_id,
    const std::function<bool(const v1::Transfer&)>& done,
    absl::Duration timeout) {
  const absl::Time until = absl::Now() + timeout;
  absl::StatusOr<v1::Transfer> last;
  while (true) {
    last = Get(transfer_id);
    if (last.ok() && done(*last)) return last;
    if (absl::Now() > until) return last;
    absl::SleepFor(absl::Milliseconds(50));
  }
}

}  // namespace ruta::testing
