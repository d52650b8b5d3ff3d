// Certificate and CRL rotation without restart, under load (issue 3,
// "Identity"): an in-process Cusco node on a private copy of the dev PKI,
// refreshing every second, while clients keep calling it -- over one
// long-lived connection and over a new connection (a new handshake) per call.
// The operator's procedure is certs/pki.sh itself (issue = symlink swap,
// publish-crl, revoke).
#include <atomic>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/testing/log_capture.h"
#include "ruta/testing/node.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using security::HandshakeRefusalCount;
using security::RefusalReason;
using security::ReloadCounters;
using security::TlsReloadCounters;
using testing::ContextWithDeadline;
using testing::DevPki;
using testing::InProcessNode;
using testing::KeyPair;
using testing::LogCapture;
using testing::MakeChannel;
using testing::ReadFile;

// One client calling ListCases in a loop until stopped, recording failures.
class Caller final {
 public:
  // `fresh`: a new channel (connection, handshake) for every call.
  Caller(std::string address, KeyPair identity, bool fresh)
      : address_(std::move(address)),
        identity_(std::move(identity)),
        fresh_(fresh),
        thread_([this] { Run(); }) {}
  ~Caller() { Stop(); }
  Caller(const Caller&) = delete;
  Caller& operator=(const Caller&) = delete;

  void Stop() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  struct Result {
    absl::Time at;
    grpc::StatusCode code;
    std::string message;
  };
  std::vector<Result> Failures() const {
    absl::MutexLock lock(&mu_);
    return failures_;
  }
  std::vector<Result> Calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }

 private:
  void Run() {
    std::shared_ptr<grpc::Channel> channel;
    while (!stop_) {
      if (channel == nullptr || fresh_) {
        channel = MakeChannel(address_, identity_, "cusco");
      }
      auto stub = v1::CaseOffice::NewStub(channel);
      v1::ListCasesResponse response;
      const absl::Time at = absl::Now();
      const grpc::Status status =
          stub->ListCases(ContextWithDeadline(absl::Seconds(5)).get(),
                          v1::ListCasesRequest(), &response);
      {
        absl::MutexLock lock(&mu_);
        Result result{at, status.error_code(), status.error_message()};
        calls_.push_back(result);
        if (!status.ok()) failures_.push_back(result);
      }
      absl::SleepFor(absl::Milliseconds(fresh_ ? 20 : 5));
    }
  }

  const std::string address_;
  const KeyPair identity_;
  const bool fresh_;
  std::atomic<bool> stop_{false};
  mutable absl::Mutex mu_;
  std::vector<Result> calls_ ABSL_GUARDED_BY(mu_);
  std::vector<Result> failures_ ABSL_GUARDED_BY(mu_);
  std::thread thread_;  // last: starts once the members above exist
};

std::string Describe(const std::vector<Caller::Result>& results) {
  std::string out;
  for (const Caller::Result& r : results) {
    absl::StrAppend(&out, absl::FormatTime(r.at), " code ", r.code, ": ",
                    r.message, "\n");
  }
  return out;
}

// Polls `done` for up to `timeout`.
template <typename Predicate>
bool WaitUntil(Predicate done, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (!done()) {
    if (absl::Now() > deadline) return false;
    absl::SleepFor(absl::Milliseconds(20));
  }
  return true;
}

// The serial number of the certificate the node presents (openssl s_client).
std::string ServedSerial(const InProcessNode& node, const DevPki& pki) {
  const KeyPair office = pki.Office("cusco");
  const testing::ProcessResult result = testing::RunProcess(
      {"/bin/bash", "-c",
       absl::StrCat("openssl s_client -connect ", node.address(),
                    " -alpn h2 -cert ", office.cert_file, " -cert_chain ",
                    office.cert_file, " -key ", office.key_file,
                    " </dev/null 2>/dev/null | openssl x509 -noout -serial")},
      absl::Seconds(20));
  return result.out;
}

std::string FileSerial(const std::string& cert_file) {
  return testing::RunProcess({"/usr/bin/openssl", "x509", "-noout", "-serial",
                              "-in", cert_file},
                             absl::Seconds(20))
      .out;
}

std::unique_ptr<InProcessNode> StartNode(const DevPki& pki) {
  LogCapture::Get();  // before the node logs
  testing::NodeSetup setup;
  setup.region = "cusco";
  setup.pki = &pki;
  setup.refresh_interval_seconds = 1;
  return InProcessNode::Start(setup);
}

TEST(RotationTest, CertificateAndCrlReplacedTwentyTimesUnderLoad) {
  std::unique_ptr<DevPki> pki = DevPki::Get().Copy();
  std::unique_ptr<InProcessNode> node = StartNode(*pki);
  ASSERT_NE(node, nullptr);
  const int64_t revoked_before = HandshakeRefusalCount(RefusalReason::kRevoked);

  Caller steady(node->address(), pki->Office("cusco"), /*fresh=*/false);
  Caller fresh(node->address(), pki->Office("cusco"), /*fresh=*/true);
  // Revoked half-way: from then on, and only then, its calls may fail.
  Caller victim(node->address(), pki->Leaf("cusco", "office", "second-office"),
                /*fresh=*/true);

  constexpr int kRotations = 20;
  constexpr int kRevokeAt = 10;
  absl::Time revoked_at = absl::InfiniteFuture();
  for (int i = 1; i <= kRotations; ++i) {
    SCOPED_TRACE(absl::StrCat("rotation ", i));
    const TlsReloadCounters before = ReloadCounters();
    ASSERT_EQ(
        pki->RunPkiScript({"issue", "--region", "cusco", "--role", "node",
                           "--name", "node", "--hosts", "localhost,127.0.0.1"}),
        0);
    if (i == kRevokeAt) {
      revoked_at = absl::Now();
      ASSERT_EQ(pki->RunPkiScript({"revoke", "--region", "cusco", "--role",
                                   "office", "--name", "second-office"}),
                0);
    } else {
      ASSERT_EQ(pki->RunPkiScript({"publish-crl", "--region", "cusco"}), 0);
    }
    // Both replacements took effect before the next one.
    ASSERT_TRUE(WaitUntil(
        [&] {
          const TlsReloadCounters now = ReloadCounters();
          return now.identity_installs > before.identity_installs &&
                 now.trust_loads > before.trust_loads;
        },
        absl::Seconds(10)));
  }
  // Let gRPC pick up the last pair (its own 1-s watcher), then check it is
  // the one served.
  absl::SleepFor(absl::Seconds(2));
  steady.Stop();
  fresh.Stop();
  victim.Stop();

  EXPECT_EQ(ServedSerial(*node, *pki),
            FileSerial(pki->Node("cusco").cert_file));
  EXPECT_TRUE(LogCapture::Get().Contains(
      {"TLS identity installed (v", std::to_string(kRotations + 1) + ")"}));

  EXPECT_TRUE(steady.Failures().empty()) << Describe(steady.Failures());
  EXPECT_TRUE(fresh.Failures().empty()) << Describe(fresh.Failures());
  EXPECT_GT(steady.Calls().size(), 100u);
  EXPECT_GT(fresh.Calls().size(), 50u);

  // The revoked client: nothing failed before its revocation; once the node
  // had time to reload the CRL (refresh 1 s), every call fails.
  int before_revocation = 0;
  int refused_after = 0;
  for (const Caller::Result& call : victim.Calls()) {
    if (call.at < revoked_at) {
      ++before_revocation;
      EXPECT_EQ(call.code, grpc::StatusCode::OK) << call.message;
    } else if (call.at > revoked_at + absl::Seconds(3)) {
      EXPECT_EQ(call.code, grpc::StatusCode::UNAVAILABLE) << call.message;
      ++refused_after;
    }
  }
  EXPECT_GT(before_revocation, 10);
  EXPECT_GT(refused_after, 10);
  EXPECT_GT(HandshakeRefusalCount(RefusalReason::kRevoked), revoked_before);
  EXPECT_TRUE(LogCapture::Get().Contains(
      {"refused TLS client: reason=revoked", "CN=office/second-office"}));
}

TEST(RotationTest, MismatchedOperatorPairIsRefusedWhileTheNodeKeepsServing) {
  std::unique_ptr<DevPki> pki = DevPki::Get().Copy();
  std::unique_ptr<InProcessNode> node = StartNode(*pki);
  ASSERT_NE(node, nullptr);
  const std::string served_before = ServedSerial(*node, *pki);
  ASSERT_FALSE(served_before.empty());

  // The operator's mistake: a new certificate installed with the old key.
  const KeyPair files = pki->Node("cusco");
  const std::string old_key = ReadFile(files.key_file);
  ASSERT_EQ(
      pki->RunPkiScript({"issue", "--region", "cusco", "--role", "node",
                         "--name", "node", "--hosts", "localhost,127.0.0.1"}),
      0);
  const std::string new_key = ReadFile(files.key_file);
  const TlsReloadCounters before = ReloadCounters();
  std::ofstream(files.key_file, std::ios::trunc) << old_key;

  ASSERT_TRUE(WaitUntil(
      [&] {
        return ReloadCounters().identity_refusals > before.identity_refusals;
      },
      absl::Seconds(10)));
  EXPECT_TRUE(LogCapture::Get().Contains(
      {"TLS identity not replaced", "does not belong to certificate"}));
  // Through several refresh intervals of gRPC's watcher: every new
  // connection still works, with the previous certificate.
  for (int i = 0; i < 10; ++i) {
    auto office = v1::CaseOffice::NewStub(
        MakeChannel(node->address(), pki->Office("cusco"), "cusco"));
    v1::ListCasesResponse response;
    const grpc::Status status = office->ListCases(
        ContextWithDeadline().get(), v1::ListCasesRequest(), &response);
    EXPECT_TRUE(status.ok()) << i << ": " << status.error_message();
    absl::SleepFor(absl::Milliseconds(250));
  }
  EXPECT_EQ(ServedSerial(*node, *pki), served_before);
  EXPECT_EQ(ReloadCounters().identity_installs, before.identity_installs);
  EXPECT_EQ(ReloadCounters().identity_refusals, before.identity_refusals + 1)
      << "a refusal is counted once, not every refresh";

  // The operator completes the installation: the new pair is taken.
  std::ofstream(files.key_file, std::ios::trunc) << new_key;
  ASSERT_TRUE(WaitUntil(
      [&] {
        return ReloadCounters().identity_installs > before.identity_installs;
      },
      absl::Seconds(10)));
  ASSERT_TRUE(WaitUntil(
      [&] { return ServedSerial(*node, *pki) == FileSerial(files.cert_file); },
      absl::Seconds(10)));
  auto office = v1::CaseOffice::NewStub(
      MakeChannel(node->address(), pki->Office("cusco"), "cusco"));
  v1::ListCasesResponse response;
  EXPECT_TRUE(office
                  ->ListCases(ContextWithDeadline().get(),
                              v1::ListCasesRequest(), &response)
                  .ok());
}

}  // namespace
}  // namespace ruta
