// ruta-health-probe: asks a node's plaintext health-only port
// (observability.health_address) whether it is serving, for supervisors that
// cannot present a client certificate (Docker HEALTHCHECK, scripts). It
// speaks only grpc.health.v1.Health/Check, carries no case data, and is never
// pointed at the mutual-TLS port (which would refuse it).
//
// Usage: ruta-health-probe [--timeout SECONDS] [--service NAME] HOST:PORT
// Exit status: 0 the node answers SERVING; 1 it answers anything else or
// cannot be reached in time (the reason on stderr); 2 usage error.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace {

int Usage(const char* message) {
  std::fprintf(stderr,
               "ruta-health-probe: %s\n"
               "Usage: ruta-health-probe [--timeout SECONDS] [--service NAME] "
               "HOST:PORT\n"
               "Asks the node's plaintext health-only port "
               "(observability.health_address) for\n"
               "grpc.health.v1 status. Exit 0 when SERVING, 1 otherwise, 2 on "
               "usage errors.\n",
               message);
  return 2;
}

}  // namespace

int main(int argc, char** argv) {
  std::string address;
  std::string service;
  long timeout_seconds = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      Usage("help");
      return 0;
    }
    if ((arg == "--timeout" || arg == "--service") && i + 1 < argc) {
      const std::string value = argv[++i];
      if (arg == "--service") {
        service = value;
        continue;
      }
      char* end = nullptr;
      timeout_seconds = std::strtol(value.c_str(), &end, 10);
      if (end == value.c_str() || *end != '\0' || timeout_seconds < 1 ||
          timeout_seconds > 300) {
        return Usage("--timeout must be a number of seconds from 1 to 300");
      }
      continue;
    }
    if (!arg.empty() && arg[0] == '-') {
      return Usage(("unknown option " + arg).c_str());
    }
    if (!address.empty()) return Usage("exactly one HOST:PORT is expected");
    address = arg;
  }
  if (address.empty() || address.find(':') == std::string::npos) {
    return Usage("HOST:PORT of the health-only port is required");
  }

  auto channel =
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
  auto stub = grpc::health::v1::Health::NewStub(channel);
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() +
                       std::chrono::seconds(timeout_seconds));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, request, &response);
  if (!status.ok()) {
    std::fprintf(stderr, "ruta-health-probe: %s: %s (gRPC code %d)\n",
                 address.c_str(), status.error_message().c_str(),
                 static_cast<int>(status.error_code()));
    return 1;
  }
  const std::string name =
      grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
          response.status());
  std::printf("%s\n", name.c_str());
  return response.status() == grpc::health::v1::HealthCheckResponse::SERVING
             ? 0
             : 1;
}
