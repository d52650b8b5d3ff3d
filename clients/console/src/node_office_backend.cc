#include <chrono>

#include "ruta/console/office_backend.h"
#include "ruta/security/tls.h"

namespace ruta::console {
namespace {

// One unary call: deadline, the clerk's id as metadata, gRPC status to
// absl::Status.
template <typename Request, typename Response>
absl::StatusOr<Response> Call(
    v1::CaseOffice::Stub* stub,
    grpc::Status (v1::CaseOffice::Stub::*method)(grpc::ClientContext*,
                                                 const Request&, Response*),
    absl::Duration deadline, const std::string& clerk, const Request& request) {
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(deadline));
  context.AddMetadata("x-ruta-clerk", clerk);
  Response response;
  grpc::Status s = (stub->*method)(&context, request, &response);
  if (!s.ok()) {
    return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                        s.error_message());
  }
  return response;
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeOfficeBackend>> NodeOfficeBackend::Create(
    const Options& options) {
  security::ClientTlsOptions tls;
  tls.cert_file = options.cert_file;
  tls.key_file = options.key_file;
  tls.ca_file = options.ca_file;
  tls.expected_server_region = options.node_region;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      security::MakeNodeChannel(options.address, tls, "ruta-console");
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<NodeOfficeBackend>(new NodeOfficeBackend(
      v1::CaseOffice::NewStub(*channel), options.deadline));
}

#define RUTA_CONSOLE_OFFICE_CALL(Method)                                      \
  absl::StatusOr<v1::Method##Response> NodeOfficeBackend::Method(             \
      const std::string& clerk, const v1::Method##Request& request) {         \
    return Call(stub_.get(), &v1::CaseOffice::Stub::Method, deadline_, clerk, \
                request);                                                     \
  }
RUTA_CONSOLE_OFFICE_METHODS(RUTA_CONSOLE_OFFICE_CALL)
#undef RUTA_CONSOLE_OFFICE_CALL

}  // namespace ruta::console
