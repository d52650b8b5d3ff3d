#include "ruta/dashboard/node_table_source.h"

#include "ruta/security/tls.h"

namespace ruta::dashboard {
namespace {

absl::Status FromGrpc(const grpc::Status& s) {
  return absl::Status(static_cast<absl::StatusCode>(s.error_code()),
                      s.error_message());
}

void SetDeadline(grpc::ClientContext& context, absl::Duration deadline) {
  context.set_deadline(std::chrono::system_clock::now() +
                       absl::ToChronoMilliseconds(deadline));
}

}  // namespace

absl::StatusOr<std::unique_ptr<NodeTableSource>> NodeTableSource::Create(
    const Options& options) {
  security::ClientTlsOptions tls;
  tls.cert_file = options.cert_file;
  tls.key_file = options.key_file;
  tls.ca_file = options.ca_file;
  tls.expected_server_region = options.node_region;
  absl::StatusOr<std::shared_ptr<grpc::Channel>> channel =
      security::MakeNodeChannel(options.address, tls, "ruta-dashboard");
  if (!channel.ok()) return channel.status();
  return std::unique_ptr<NodeTableSource>(
      new NodeTableSource(v1::Dashboard::NewStub(*channel), options.deadline));
}

absl::StatusOr<v1::ListTablesResponse> NodeTableSource::ListTables() {
  grpc::ClientContext context;
  SetDeadline(context, deadline_);
  v1::ListTablesResponse response;
  grpc::Status s = stub_->ListTables(&context, {}, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

absl::StatusOr<v1::GetTableResponse> NodeTableSource::GetTable(
    const v1::GetTableRequest& request) {
  grpc::ClientContext context;
  SetDeadline(context, deadline_);
  v1::GetTableResponse response;
  grpc::Status s = stub_->GetTable(&context, request, &response);
  if (!s.ok()) return FromGrpc(s);
  return response;
}

}  // namespace ruta::dashboard
