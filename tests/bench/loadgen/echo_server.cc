#include "echo_server.h"

#include <signal.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "echo.grpc.pb.h"
#include "grpcpp/grpcpp.h"
#include "grpcpp/health_check_service_interface.h"
#include "ruta/security/tls.h"

namespace ruta::bench {
namespace {

// Larger than any ruta message the benchmark mirrors; bounds what a client
// can make the server allocate.
constexpr uint32_t kMaxPayload = 1 << 20;

// Writes `count` messages (0: until cancelled), one write in flight at a
// time, as a server-streaming handler of the callback API does.
class StreamWriter final : public grpc::ServerWriteReactor<v1::StreamResponse> {
 public:
  StreamWriter(uint64_t count, uint32_t size) : count_(count) {
    message_.set_payload(std::string(std::min(size, kMaxPayload), 's'));
    Next();
  }

  void OnWriteDone(bool ok) override {
    // Not ok: the client cancelled or went away; the stream is over.
    if (!ok) {
      Finish(grpc::Status::CANCELLED);
      return;
    }
    Next();
  }
  void OnDone() override { delete this; }

 private:
  void Next() {
    if (count_ != 0 && message_.sequence() == count_) {
      Finish(grpc::Status::OK);
      return;
    }
    message_.set_sequence(message_.sequence() + 1);
    StartWrite(&message_);
  }

  const uint64_t count_;
  v1::StreamResponse message_;
};

class EchoService final : public v1::Echo::CallbackService {
  grpc::ServerUnaryReactor* Unary(grpc::CallbackServerContext* context,
                                  const v1::UnaryRequest* request,
                                  v1::UnaryResponse* response) override {
    response->mutable_payload()->assign(
        std::min(request->response_size(), kMaxPayload), 'r');
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

  grpc::ServerWriteReactor<v1::StreamResponse>* Stream(
      grpc::CallbackServerContext* /*context*/,
      const v1::StreamRequest* request) override {
    return new StreamWriter(request->count(), request->message_size());
  }
};

}  // namespace

int ServeEcho(const EchoServerOptions& options) {
  // As ruta-node: shutdown signals are taken by sigwait below, in no other
  // thread.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  security::ServerTlsOptions tls;
  const std::string node =
      absl::StrCat(options.pki_dir, "/", options.region, "/node/node/");
  tls.cert_file = node + "cert.pem";
  tls.key_file = node + "key.pem";
  tls.active_dir = options.dir + "/tls";
  for (const char* region : {"cusco", "madre-de-dios"}) {
    const std::string base = absl::StrCat(options.pki_dir, "/", region);
    tls.regions.push_back(
        {region,
         base + "/ca/root.pem",
         {base + "/crl/root.crl.pem", base + "/crl/intermediate.crl.pem"}});
  }
  absl::StatusOr<std::unique_ptr<security::ServerTls>> server_tls =
      security::ServerTls::Start(tls);
  if (!server_tls.ok()) {
    std::fprintf(stderr, "serve-echo: %s\n",
                 server_tls.status().ToString().c_str());
    return 1;
  }

  EchoService service;
  grpc::EnableDefaultHealthCheckService(true);
  grpc::ServerBuilder builder;
  int port = 0;
  builder.AddListeningPort("127.0.0.1:0", (*server_tls)->credentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  if (server == nullptr || port == 0) {
    std::fprintf(stderr, "serve-echo: cannot listen on 127.0.0.1:0\n");
    return 1;
  }
  server->GetHealthCheckService()->SetServingStatus(true);
  // Written atomically, as ruta-node writes its port file.
  const std::string port_file = options.dir + "/port";
  std::ofstream(port_file + ".tmp") << port << "\n";
  std::rename((port_file + ".tmp").c_str(), port_file.c_str());

  int signal_number = 0;
  sigwait(&signals, &signal_number);
  server->GetHealthCheckService()->SetServingStatus(false);
  server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
  server->Wait();
  (*server_tls)->Stop();
  return 0;
}

}  // namespace ruta::bench
