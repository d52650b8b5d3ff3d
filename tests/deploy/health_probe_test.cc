// ruta-health-probe against a real plaintext gRPC health server (the kind a
// node serves on observability.health_address): exit 0 while SERVING, 1 when
// NOT_SERVING, for an unknown service and when nothing listens, 2 on usage
// errors.
#include <sys/wait.h>

#include <cstdlib>
#include <memory>
#include <string>

#include "grpcpp/generic/async_generic_service.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "gtest/gtest.h"

#ifndef RUTA_HEALTH_PROBE_BINARY
#error "RUTA_HEALTH_PROBE_BINARY must be defined"
#endif

namespace {

// Runs the probe with `args` (stdout/stderr to the test log); its exit code.
int Probe(const std::string& args) {
  const std::string command =
      std::string(RUTA_HEALTH_PROBE_BINARY) + " " + args + " 2>&1";
  const int status = std::system(command.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

class HealthProbeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    grpc::EnableDefaultHealthCheckService(true);
    grpc::ServerBuilder builder;
    builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(),
                             &port_);
    // Like the node, a server of callback services (the default health
    // service needs one to run on).
    builder.RegisterCallbackGenericService(&generic_);
    server_ = builder.BuildAndStart();
    ASSERT_NE(server_, nullptr);
    ASSERT_GT(port_, 0);
    address_ = "127.0.0.1:" + std::to_string(port_);
  }
  void TearDown() override {
    if (server_) server_->Shutdown();
  }

  grpc::CallbackGenericService generic_;
  int port_ = 0;
  std::string address_;
  std::unique_ptr<grpc::Server> server_;
};

TEST_F(HealthProbeTest, ServingIsZeroNotServingIsOne) {
  server_->GetHealthCheckService()->SetServingStatus(true);
  EXPECT_EQ(Probe(address_), 0);
  server_->GetHealthCheckService()->SetServingStatus(false);
  EXPECT_EQ(Probe("--timeout 2 " + address_), 1);
  server_->GetHealthCheckService()->SetServingStatus(true);
  EXPECT_EQ(Probe(address_), 0);
}

TEST_F(HealthProbeTest, UnknownServiceIsOne) {
  server_->GetHealthCheckService()->SetServingStatus(true);
  EXPECT_EQ(Probe("--service ruta.v1.NoSuchService " + address_), 1);
}

TEST_F(HealthProbeTest, NothingListeningIsOne) {
  server_->Shutdown();
  server_.reset();
  EXPECT_EQ(Probe("--timeout 1 " + address_), 1);
}

TEST(HealthProbeUsageTest, BadArgumentsAreTwo) {
  EXPECT_EQ(Probe(""), 2);
  EXPECT_EQ(Probe("no-port"), 2);
  EXPECT_EQ(Probe("--timeout 0 127.0.0.1:1"), 2);
  EXPECT_EQ(Probe("--bogus 127.0.0.1:1"), 2);
  EXPECT_EQ(Probe("127.0.0.1:1 127.0.0.1:2"), 2);
}

}  // namespace
