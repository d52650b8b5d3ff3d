#include "servers.h"

#include <signal.h>

#include <cstdio>
#include <filesystem>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "ruta/testing/node.h"
#include "ruta/v1/admin.grpc.pb.h"

namespace ruta::bench {
namespace {

std::string SelfPath() {
  std::error_code ec;
  return std::filesystem::read_symlink("/proc/self/exe", ec).string();
}

// Polls `dir`/port every millisecond (the start-up figure depends on it)
// until it holds a port; fails when the process exits first.
absl::StatusOr<int> WaitPort(const std::string& dir,
                             testing::BackgroundProcess& process,
                             absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int port = 0;
    const std::string text = testing::ReadFile(dir + "/port");
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port) && port > 0) {
      return port;
    }
    if (!process.Running()) {
      return absl::UnavailableError(
          absl::StrCat("server exited before serving: ", process.Stderr()));
    }
    absl::SleepFor(absl::Milliseconds(1));
  }
  return absl::DeadlineExceededError("server did not write its port file");
}

// The echo server presents Madre de Dios' node identity and accepts its
// office.
absl::Status CheckServing(const std::string& address,
                          const std::string& region) {
  std::shared_ptr<grpc::Channel> channel = OfficeChannel(address, region);
  if (channel == nullptr) return absl::InternalError("no client credentials");
  auto health = grpc::health::v1::Health::NewStub(channel);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = health->Check(
      testing::ContextWithDeadline(kCallDeadline).get(), {}, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("health check: ", status.error_message()));
  }
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError("health is not SERVING");
  }
  return absl::OkStatus();
}

absl::StatusOr<Server> Launch(Server server, std::vector<std::string> argv,
                              const std::string& health_region,
                              absl::Duration* startup) {
  const absl::Time start = absl::Now();
  server.process =
      std::make_unique<testing::BackgroundProcess>(argv, server.dir + "/log");
  absl::StatusOr<int> port =
      WaitPort(server.dir, *server.process, absl::Seconds(60));
  if (!port.ok()) return port.status();
  server.address = absl::StrCat("127.0.0.1:", *port);
  const absl::Status serving = CheckServing(server.address, health_region);
  if (!serving.ok()) return serving;
  if (startup != nullptr) *startup = absl::Now() - start;
  return server;
}

}  // namespace

absl::StatusOr<Server> StartNode(const NodeOptions& options,
                                 absl::Duration* startup) {
  const testing::DevPki& pki = testing::DevPki::Get();
  Server server;
  server.region = options.region;
  server.dir =
      options.dir.empty() ? testing::MakeTempDir(options.region) : options.dir;
  std::error_code ec;
  std::filesystem::create_directories(server.dir, ec);
  std::remove((server.dir + "/port").c_str());
  testing::NodeSetup setup;
  setup.region = options.region;
  setup.data_dir = server.dir;
  if (options.port > 0) {
    setup.listen_address = absl::StrCat("127.0.0.1:", options.port);
  }
  if (!options.peer_region.empty()) {
    setup.peers = {{options.peer_region, options.peer_address}};
    setup.relay_initial_backoff_ms = 50;
    setup.relay_max_backoff_ms = 250;
  }
  if (options.metrics) {
    server.metrics_port = testing::PickFreePort();
    if (server.metrics_port == 0) {
      return absl::UnavailableError("no free port for the metrics endpoint");
    }
    setup.metrics_address = absl::StrCat(server.metrics_port);
  }
  std::vector<std::string> argv = {testing::NodeBinary(), "--config",
                                   testing::WriteNodeConfig(pki, setup)};
  return Launch(std::move(server), std::move(argv), options.region, startup);
}

absl::StatusOr<Server> StartEcho(absl::Duration* startup) {
  const testing::DevPki& pki = testing::DevPki::Get();
  Server server;
  server.dir = testing::MakeTempDir("echo");
  std::vector<std::string> argv = {SelfPath(), "serve-echo", "--pki",
                                   pki.dir(),  "--dir",      server.dir};
  return Launch(std::move(server), std::move(argv), kMdd, startup);
}

void StopServer(Server& server) {
  if (server.process != nullptr &&
      server.process->Stop(SIGTERM, absl::Seconds(15)) != 0) {
    std::fprintf(stderr, "ruta-bench: %s did not exit cleanly:\n%s\n",
                 server.dir.c_str(), server.process->Stderr().c_str());
  }
}

void StopServers(const std::vector<Server*>& servers) {
  std::vector<std::thread> stopping;
  for (Server* server : servers) {
    stopping.emplace_back([server] { StopServer(*server); });
  }
  for (std::thread& t : stopping) t.join();
}

Teardown::~Teardown() { Join(); }

void Teardown::Stop(std::vector<Server> servers, bool remove_dirs) {
  auto stop = [remove_dirs](std::vector<Server> stopping) {
    std::vector<Server*> pointers;
    for (Server& server : stopping) pointers.push_back(&server);
    StopServers(pointers);
    if (!remove_dirs) return;
    for (const Server& server : stopping) {
      std::error_code ec;
      if (!server.dir.empty()) std::filesystem::remove_all(server.dir, ec);
    }
  };
  if (!background_) return stop(std::move(servers));
  threads_.emplace_back(stop, std::move(servers));
}

void Teardown::Join() {
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

std::shared_ptr<grpc::Channel> ChannelAs(const std::string& address,
                                         const testing::KeyPair& identity,
                                         const std::string& server_region) {
  return testing::MakeChannel(address, identity, server_region);
}

std::shared_ptr<grpc::Channel> OfficeChannel(const std::string& address,
                                             const std::string& region) {
  return ChannelAs(address, testing::DevPki::Get().Office(region), region);
}

absl::StatusOr<ruta::v1::RelayStatus> RelayStatus(const Server& node) {
  auto admin = ruta::v1::Admin::NewStub(
      ChannelAs(node.address,
                testing::DevPki::Get().Leaf(node.region, "admin", "operator"),
                node.region));
  ruta::v1::GetRelayStatusResponse response;
  const grpc::Status status =
      admin->GetRelayStatus(testing::ContextWithDeadline(kCallDeadline).get(),
                            ruta::v1::GetRelayStatusRequest(), &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat("Admin.GetRelayStatus: ", status.error_message()));
  }
  if (response.peers_size() != 1) {
    return absl::InternalError(absl::StrCat(
        node.region, " reports ", response.peers_size(), " peers, not 1"));
  }
  return response.peers(0);
}

absl::Status CopyDatabase(const std::string& region, const std::string& from,
                          const std::string& to) {
  std::error_code ec;
  std::filesystem::create_directories(to, ec);
  if (ec) return absl::InternalError(absl::StrCat(to, ": ", ec.message()));
  for (const char* suffix : {".db", ".db-wal"}) {
    const std::string source = absl::StrCat(from, "/", region, suffix);
    if (!std::filesystem::exists(source)) {
      if (std::string(suffix) == ".db") {
        return absl::NotFoundError(absl::StrCat(source, " does not exist"));
      }
      continue;
    }
    std::filesystem::copy_file(
        source, absl::StrCat(to, "/", region, suffix),
        std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      return absl::InternalError(
          absl::StrCat("copy ", source, ": ", ec.message()));
    }
  }
  return absl::OkStatus();
}

}  // namespace ruta::bench
