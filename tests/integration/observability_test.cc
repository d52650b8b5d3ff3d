// Observability of a node (docs/observability.md) over real mutual TLS:
// the Prometheus endpoint after known calls (exact counters and histogram
// counts), the outbox backlog and relay lag with a stopped peer and after it
// catches up, certificate expiry, the plaintext health-only port, loopback
// binding of bare ports, and a canary scan of the /metrics bodies and of the
// JSON log lines.
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ruta/observability/logging.h"
#include "ruta/security/tls.h"
#include "ruta/testing/canary_scan.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "spdlog/sinks/base_sink.h"

namespace ruta {
namespace {

using testing::ContextWithDeadline;
using testing::DevPki;
using ::testing::HasSubstr;
using testing::InProcessNode;
using testing::MakeChannel;
using ::testing::Not;

constexpr char kMdd[] = "madre-de-dios";
constexpr char kCusco[] = "cusco";
// Identifiers the test sends; none may appear in /metrics or the log.
constexpr char kDni[] = "73519864";
constexpr char kOtherDni[] = "62840517";  // the canary scan's own case
constexpr char kGivenNames[] = "Yessenia Maribel";
constexpr char kSurnames[] = "Huamantica Quispe";
constexpr char kOpenRequestId[] = "5d0c6f0e-9a1b-4c2d-8e3f-a4b5c6d7e8f9";

// Every formatted line the default logger writes, kept in memory.
class LineSink final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  std::vector<std::string> Lines() {
    std::lock_guard<std::mutex> lock(mutex_);
    return lines_;
  }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    spdlog::memory_buf_t buf;
    formatter_->format(msg, buf);
    lines_.emplace_back(buf.data(), buf.size());
  }
  void flush_() override {}

 private:
  std::vector<std::string> lines_;
};

// JSON log lines for the whole test binary, installed before any node runs.
LineSink& Log() {
  static LineSink* sink = [] {
    auto* s = new LineSink;
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "", std::shared_ptr<LineSink>(s, [](LineSink*) {})));
    observability::LoggingOptions options;
    options.format = observability::LogFormat::kJson;
    options.level = spdlog::level::debug;
    observability::ConfigureLogging(options);
    security::SetGrpcLogForward(&observability::ForwardGrpcLog);
    return s;
  }();
  return *sink;
}

// GET /metrics of `port` on 127.0.0.1.
std::string Scrape(int port) {
  httplib::Client client("127.0.0.1", port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result result = client.Get("/metrics");
  EXPECT_TRUE(result) << "no answer from the metrics endpoint on " << port;
  if (!result) return "";
  EXPECT_EQ(result->status, 200);
  EXPECT_THAT(result->get_header_value("Content-Type"),
              HasSubstr("text/plain"));
  return result->body;
}

// The value of the sample `series` ("name{labels}" exactly as exposed, labels
// in alphabetical order); 0 when absent (counters not yet created).
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, absl::StrCat(series, " "))) {
      double value = 0;
      EXPECT_TRUE(absl::SimpleAtod(line.substr(series.size() + 1), &value))
          << line;
      return value;
    }
  }
  return 0;
}

std::string Requests(const std::string& service, const std::string& method,
                     const std::string& code) {
  return absl::StrFormat(
      R"(ruta_rpc_requests_total{code="%s",method="%s",service="%s"})", code,
      method, service);
}

std::string DurationCount(const std::string& service,
                          const std::string& method) {
  return absl::StrFormat(
      R"(ruta_rpc_duration_seconds_count{method="%s",service="%s"})", method,
      service);
}

// The IPv4 address a TCP socket listening on `port` is bound to, as
// /proc/net/tcp writes it (hex, e.g. "0100007F" for 127.0.0.1, "00000000"
// for any); "" when none. An IPv6 socket (gRPC's) counts by its IPv4-mapped
// address, and "::" as any.
std::string ListeningAddressOf(int port) {
  for (const char* table : {"/proc/net/tcp", "/proc/net/tcp6"}) {
    std::ifstream in(table);
    std::string line;
    std::getline(in, line);  // header
    while (std::getline(in, line)) {
      std::vector<std::string> cols =
          absl::StrSplit(line, ' ', absl::SkipEmpty());
      if (cols.size() < 4 || cols[3] != "0A") continue;  // LISTEN
      std::vector<std::string> local = absl::StrSplit(cols[1], ':');
      if (local.size() != 2 || std::stoi(local[1], nullptr, 16) != port) {
        continue;
      }
      const std::string& address = local[0];
      if (address.size() == 8) return address;
      if (address == std::string(32, '0')) return "00000000";
      if (address.size() == 32 &&
          absl::StartsWith(address, "0000000000000000FFFF0000")) {
        return address.substr(24);
      }
      return absl::StrCat("ipv6:", address);
    }
  }
  return "";
}

// notAfter of the first certificate of `path`, read with OpenSSL directly.
absl::Time NotAfter(const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  EXPECT_NE(f, nullptr) << path;
  if (f == nullptr) return absl::InfinitePast();
  X509* cert = PEM_read_X509(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  EXPECT_NE(cert, nullptr) << path;
  if (cert == nullptr) return absl::InfinitePast();
  int days = 0, seconds = 0;
  ASN1_TIME_diff(&days, &seconds, nullptr, X509_get0_notAfter(cert));
  X509_free(cert);
  return absl::Now() + absl::Hours(24) * days + absl::Seconds(seconds);
}

std::unique_ptr<grpc::health::v1::Health::Stub> PlaintextHealth(int port) {
  return grpc::health::v1::Health::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
}

grpc::health::v1::HealthCheckResponse::ServingStatus HealthOf(int port,
                                                              grpc::Status* s) {
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  *s = PlaintextHealth(port)->Check(ContextWithDeadline(absl::Seconds(5)).get(),
                                    request, &response);
  return response.status();
}

class ObservabilityTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    Log();
    testing::NodeSetup setup;
    setup.region = kMdd;
    setup.metrics_address = "0";
    setup.health_address = "0";
    node_ = InProcessNode::Start(setup).release();
    ASSERT_NE(node_, nullptr);
  }
  static void TearDownTestSuite() {
    delete node_;
    node_ = nullptr;
  }
  static int metrics_port() { return node_->node().metrics_port(); }

  static InProcessNode* node_;
};
InProcessNode* ObservabilityTest::node_ = nullptr;

TEST_F(ObservabilityTest, CountsEachCallByMethodAndCode) {
  ASSERT_GT(metrics_port(), 0);
  const std::string before = Scrape(metrics_port());
  auto office = v1::CaseOffice::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Office(kMdd), kMdd));
  auto partner = v1::CaseOffice::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Partner(kMdd, "tdh"), kMdd));

  v1::OpenCaseRequest open =
      testing::VictimOpenCaseRequest(kOpenRequestId, kDni);
  open.mutable_identifiers()->set_given_names(kGivenNames);
  open.mutable_identifiers()->set_surnames(kSurnames);
  v1::OpenCaseResponse opened;
  grpc::Status s = office->OpenCase(ContextWithDeadline().get(), open, &opened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetCaseRequest get;
  get.set_case_id(opened.case_().case_id());
  v1::GetCaseResponse got;
  for (int i = 0; i < 2; ++i) {
    s = office->GetCase(ContextWithDeadline().get(), get, &got);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::GetCaseRequest bad;
  bad.set_case_id("not a case id");
  s = office->GetCase(ContextWithDeadline().get(), bad, &got);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  s = partner->GetCase(ContextWithDeadline().get(), get, &got);
  ASSERT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A server stream, refused at admission.
  {
    auto ctx = ContextWithDeadline();
    v1::WatchTransfersResponse update;
    auto reader = partner->WatchTransfers(ctx.get(), {});
    while (reader->Read(&update)) {
    }
    ASSERT_EQ(reader->Finish().error_code(),
              grpc::StatusCode::PERMISSION_DENIED);
  }

  const std::string after = Scrape(metrics_port());
  auto delta = [&](const std::string& series) {
    return Sample(after, series) - Sample(before, series);
  };
  EXPECT_EQ(delta(Requests("CaseOffice", "OpenCase", "OK")), 1);
  EXPECT_EQ(delta(Requests("CaseOffice", "GetCase", "OK")), 2);
  EXPECT_EQ(delta(Requests("CaseOffice", "GetCase", "INVALID_ARGUMENT")), 1);
  EXPECT_EQ(delta(Requests("CaseOffice", "GetCase", "PERMISSION_DENIED")), 1);
  EXPECT_EQ(
      delta(Requests("CaseOffice", "WatchTransfers", "PERMISSION_DENIED")), 1);
  EXPECT_EQ(delta(DurationCount("CaseOffice", "GetCase")), 4);
  EXPECT_EQ(delta(DurationCount("CaseOffice", "OpenCase")), 1);
  EXPECT_GT(delta(R"(ruta_rpc_duration_seconds_sum{method="OpenCase",)"
                  R"(service="CaseOffice"})"),
            0);
  EXPECT_EQ(Sample(after, absl::StrFormat(R"(ruta_build_info{region="%s",)"
                                          R"(version="%s"})",
                                          kMdd, "0.1.0")),
            1);

  // Six calls, each audited (read audits are committed within a second),
  // once the gauges' one-second refresh interval has passed.
  absl::SleepFor(absl::Milliseconds(1500));
  EXPECT_GE(Sample(Scrape(metrics_port()), "ruta_audit_chain_length"),
            Sample(before, "ruta_audit_chain_length") + 6);

  // No case data: the ids the node returned and the identifiers sent.
  EXPECT_THAT(after, Not(HasSubstr(opened.case_().case_id())));
  EXPECT_THAT(after, Not(HasSubstr(opened.case_().person_ref())));
  EXPECT_THAT(after, Not(HasSubstr(kDni)));

  // The per-RPC log lines: JSON, the client's request_id or a call id.
  bool saw_open = false;
  int get_lines = 0;
  for (const std::string& line : Log().Lines()) {
    google::protobuf::Struct parsed;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &parsed).ok())
        << line;
    const auto& f = parsed.fields();
    if (!f.count("method") || f.at("message").string_value() != "rpc finished")
      continue;
    if (f.at("method").string_value() == "CaseOffice.OpenCase" &&
        f.at("request_id").string_value() == kOpenRequestId) {
      saw_open = true;
      EXPECT_EQ(f.at("code").string_value(), "OK");
    }
    if (f.at("method").string_value() == "CaseOffice.GetCase") {
      ++get_lines;
      EXPECT_THAT(f.at("request_id").string_value(),
                  ::testing::MatchesRegex("call-[0-9a-f]{16}"));
    }
  }
  EXPECT_TRUE(saw_open);
  EXPECT_GE(get_lines, 4);
}

TEST_F(ObservabilityTest, CertificateExpiryIsTheRealCertificates) {
  const std::string text = Scrape(metrics_port());
  const double node_expiry =
      Sample(text, absl::StrFormat(R"(ruta_certificate_expiry_seconds{)"
                                   R"(certificate="node",region="%s"})",
                                   kMdd));
  const absl::Time not_after = NotAfter(DevPki::Get().Node(kMdd).cert_file);
  EXPECT_NEAR(node_expiry, absl::ToDoubleSeconds(not_after - absl::Now()), 5);
  EXPECT_GT(node_expiry, 86400);
  for (const char* region : {kMdd, kCusco}) {
    const double ca_expiry =
        Sample(text, absl::StrFormat(R"(ruta_certificate_expiry_seconds{)"
                                     R"(certificate="ca",region="%s"})",
                                     region));
    EXPECT_NEAR(ca_expiry,
                absl::ToDoubleSeconds(NotAfter(DevPki::Get().RootCa(region)) -
                                      absl::Now()),
                5)
        << region;
    EXPECT_GT(
        Sample(text, absl::StrFormat(R"(ruta_crl_expiry_seconds{region="%s"})",
                                     region)),
        86400)
        << region;
  }
}

TEST_F(ObservabilityTest, HealthOnlyPortServesHealthWithoutCertificate) {
  const int port = node_->node().health_port();
  ASSERT_GT(port, 0);
  grpc::Status s;
  EXPECT_EQ(HealthOf(port, &s), grpc::health::v1::HealthCheckResponse::SERVING);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // Nothing else is served there, even to a caller that would be allowed.
  auto office = v1::CaseOffice::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  v1::GetCaseRequest get;
  get.set_case_id("cs_abcdefghijklmnopqrst");
  v1::GetCaseResponse got;
  s = office->GetCase(ContextWithDeadline().get(), get, &got);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  // Not reflection either (the main port has it).
  grpc::GenericStub generic(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
  grpc::CompletionQueue cq;
  auto call = generic.PrepareCall(
      &ctx, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
      &cq);
  call->StartCall(reinterpret_cast<void*>(1));
  void* tag = nullptr;
  bool ok = false;
  ASSERT_TRUE(cq.Next(&tag, &ok));
  grpc::Status finished;
  call->Finish(&finished, reinterpret_cast<void*>(2));
  while (cq.Next(&tag, &ok) && tag != reinterpret_cast<void*>(2)) {
  }
  EXPECT_EQ(finished.error_code(), grpc::StatusCode::UNIMPLEMENTED);
  cq.Shutdown();
  while (cq.Next(&tag, &ok)) {
  }
  // The main port still asks for a client certificate: plaintext fails.
  grpc::health::v1::HealthCheckRequest request;
  grpc::health::v1::HealthCheckResponse response;
  s = grpc::health::v1::Health::NewStub(
          grpc::CreateChannel(node_->address(),
                              grpc::InsecureChannelCredentials()))
          ->Check(ContextWithDeadline(absl::Seconds(3)).get(), request,
                  &response);
  EXPECT_FALSE(s.ok());
  // gRPC core logged the failed handshake: a JSON line of logger "grpc".
  bool logged = false;
  for (int i = 0; i < 50 && !logged; ++i) {
    for (const std::string& line : Log().Lines()) {
      google::protobuf::Struct parsed;
      if (google::protobuf::util::JsonStringToMessage(line, &parsed).ok() &&
          parsed.fields().at("logger").string_value() == "grpc" &&
          parsed.fields().at("level").string_value() == "error" &&
          absl::StrContains(parsed.fields().at("message").string_value(),
                            "Handshake failed")) {
        logged = true;
      }
    }
    if (!logged) absl::SleepFor(absl::Milliseconds(100));
  }
  EXPECT_TRUE(logged);
}

TEST_F(ObservabilityTest, BarePortsBindOnlyLoopback) {
  // 0100007F is 127.0.0.1 in /proc/net/tcp's byte order.
  EXPECT_EQ(ListeningAddressOf(metrics_port()), "0100007F");
  EXPECT_EQ(ListeningAddressOf(node_->node().health_port()), "0100007F");
  // A bare non-zero port too, and an explicit host is honoured.
  testing::NodeSetup setup;
  setup.region = kMdd;
  const int metrics = testing::PickFreePort();
  const int health = testing::PickFreePort();
  setup.metrics_address = absl::StrCat(metrics);
  setup.health_address = absl::StrCat("0.0.0.0:", health);
  auto node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  EXPECT_EQ(node->node().metrics_port(), metrics);
  EXPECT_EQ(ListeningAddressOf(metrics), "0100007F");
  EXPECT_EQ(ListeningAddressOf(health), "00000000");
}

TEST_F(ObservabilityTest, HealthOnlyPortSaysNotServingOnceShutdownBegins) {
  testing::NodeSetup setup;
  setup.region = kMdd;
  setup.health_address = "0";
  auto node = InProcessNode::Start(setup);
  ASSERT_NE(node, nullptr);
  const int port = node->node().health_port();
  grpc::Status s;
  ASSERT_EQ(HealthOf(port, &s), grpc::health::v1::HealthCheckResponse::SERVING);
  // A stream left open keeps the main server draining for the grace period.
  auto office = v1::CaseOffice::NewStub(
      MakeChannel(node->address(), DevPki::Get().Office(kMdd), kMdd));
  auto ctx = ContextWithDeadline(absl::Seconds(30));
  auto watch = office->WatchTransfers(ctx.get(), {});
  absl::SleepFor(absl::Milliseconds(200));
  std::thread shutdown([&node] { node->node().Shutdown(absl::Seconds(4)); });
  grpc::health::v1::HealthCheckResponse::ServingStatus status =
      grpc::health::v1::HealthCheckResponse::SERVING;
  const absl::Time give_up = absl::Now() + absl::Seconds(3);
  while (absl::Now() < give_up) {
    status = HealthOf(port, &s);
    if (s.ok() &&
        status == grpc::health::v1::HealthCheckResponse::NOT_SERVING) {
      break;
    }
    absl::SleepFor(absl::Milliseconds(50));
  }
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(status, grpc::health::v1::HealthCheckResponse::NOT_SERVING);
  ctx->TryCancel();
  shutdown.join();
  // Once stopped, nothing listens there any more.
  HealthOf(port, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
}

// The relay's backlog and lag towards a peer that is down, then zero once it
// is up and has caught up; the peer counts what it received and applied.
TEST_F(ObservabilityTest, OutboxBacklogAndRelayLagFollowThePeer) {
  std::map<std::string, int> ports;
  std::map<std::string, std::string> dirs;
  for (const char* region : {kMdd, kCusco}) {
    ports[region] = testing::PickFreePort();
    dirs[region] = testing::MakeTempDir(absl::StrCat("observ-", region));
  }
  auto start = [&](const std::string& region) {
    const std::string other = region == kCusco ? kMdd : kCusco;
    testing::NodeSetup setup;
    setup.region = region;
    setup.data_dir = dirs[region];
    setup.listen_address = absl::StrCat("127.0.0.1:", ports[region]);
    setup.peers = {{other, absl::StrCat("127.0.0.1:", ports[other])}};
    setup.relay_initial_backoff_ms = 50;
    setup.relay_max_backoff_ms = 300;
    setup.relay_ack_timeout_ms = 3000;
    setup.metrics_address = "0";
    return InProcessNode::Start(setup);
  };
  auto mdd = start(kMdd);
  ASSERT_NE(mdd, nullptr);
  const std::string backlog = R"(ruta_federation_outbox_backlog{peer="cusco"})";
  const std::string lag = R"(ruta_federation_relay_lag_seconds{peer="cusco"})";
  EXPECT_EQ(Sample(Scrape(mdd->node().metrics_port()), backlog), 0);

  testing::OfficeClient office(mdd->address(), kMdd);
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  absl::StatusOr<v1::Case> c = office.OpenCaseInCare(salt, 1);
  ASSERT_TRUE(c.ok()) << c.status();
  absl::StatusOr<v1::Transfer> t = office.Request(
      testing::RequestIdFor(salt, 100), c->case_id(), kCusco, "0801");
  ASSERT_TRUE(t.ok()) << t.status();
  absl::SleepFor(absl::Milliseconds(1500));  // > the 1 s refresh interval
  std::string text = Scrape(mdd->node().metrics_port());
  const double pending = Sample(text, backlog);
  EXPECT_GE(pending, 1) << text;
  EXPECT_GE(Sample(text, lag), 1.0) << text;
  EXPECT_THAT(text, Not(HasSubstr(c->case_id())));
  EXPECT_THAT(text, Not(HasSubstr(t->transfer_id())));

  auto cusco = start(kCusco);
  ASSERT_NE(cusco, nullptr);
  const absl::Time give_up = absl::Now() + absl::Seconds(30);
  do {
    absl::SleepFor(absl::Milliseconds(500));
    text = Scrape(mdd->node().metrics_port());
  } while (Sample(text, backlog) != 0 && absl::Now() < give_up);
  EXPECT_EQ(Sample(text, backlog), 0) << text;
  EXPECT_EQ(Sample(text, lag), 0) << text;
  absl::SleepFor(absl::Milliseconds(1100));
  const std::string peer = Scrape(cusco->node().metrics_port());
  const std::string from_mdd = R"({peer="madre-de-dios"})";
  EXPECT_EQ(Sample(peer, absl::StrCat("ruta_federation_events_received_total",
                                      from_mdd)),
            pending)
      << peer;
  EXPECT_EQ(Sample(peer, absl::StrCat("ruta_federation_events_applied_total",
                                      from_mdd)),
            pending);
  EXPECT_EQ(Sample(peer, absl::StrCat("ruta_federation_inbox_applied_sequence",
                                      from_mdd)),
            pending);
}

// Everything written to /metrics and to the JSON log by calls carrying
// identifiers (and naming the case they made), scanned for them. Self-
// contained: ctest runs each test of this file in its own process.
TEST_F(ObservabilityTest, CanaryScanOfMetricsAndJsonLog) {
  auto office = v1::CaseOffice::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Office(kMdd), kMdd));
  v1::OpenCaseRequest open = testing::VictimOpenCaseRequest(
      "7e1d2c3b-4a59-4687-9a0b-1c2d3e4f5061", kOtherDni);
  open.mutable_identifiers()->set_given_names(kGivenNames);
  open.mutable_identifiers()->set_surnames(kSurnames);
  v1::OpenCaseResponse opened;
  grpc::Status s = office->OpenCase(ContextWithDeadline().get(), open, &opened);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::FindPersonRequest find;
  *find.mutable_identifiers() = open.identifiers();
  v1::FindPersonResponse found;
  s = office->FindPerson(ContextWithDeadline().get(), find, &found);
  ASSERT_TRUE(s.ok()) << s.error_message();
  v1::GetCaseRequest get;
  get.set_case_id(opened.case_().case_id());
  v1::GetCaseResponse got;
  ASSERT_TRUE(office->GetCase(ContextWithDeadline().get(), get, &got).ok());
  auto partner = v1::CaseOffice::NewStub(
      MakeChannel(node_->address(), DevPki::Get().Partner(kMdd, "tdh"), kMdd));
  ASSERT_EQ(
      partner->GetCase(ContextWithDeadline().get(), get, &got).error_code(),
      grpc::StatusCode::PERMISSION_DENIED);
  absl::SleepFor(absl::Milliseconds(1100));  // the gauges' refresh interval

  const std::string dir = testing::MakeTempDir("observ-canary");
  std::ofstream(dir + "/metrics.txt") << Scrape(metrics_port());
  {
    std::ofstream log(dir + "/log.jsonl");
    int rpc_lines = 0;
    for (const std::string& line : Log().Lines()) {
      log << line;
      if (absl::StrContains(line, "\"rpc finished\"")) ++rpc_lines;
    }
    EXPECT_GE(rpc_lines, 4);
  }
  testing::CanaryScan scan;
  for (const std::string& canary :
       {std::string(kDni), std::string(kOtherDni), std::string(kGivenNames),
        std::string(kSurnames), std::string("Yessenia"),
        std::string("Huamantica"), opened.case_().case_id(),
        opened.case_().person_ref()}) {
    ASSERT_TRUE(scan.AddCanary(canary).ok()) << canary;
  }
  scan.AddPath(dir);
  const testing::CanaryScanResult result = scan.Run();
  EXPECT_TRUE(result.errors.empty());
  EXPECT_EQ(result.files.size(), 2u);
  EXPECT_GT(result.bytes, 1000u);
  EXPECT_EQ(result.hit_count, 0u) << result.Describe();
  // The scan can fail: a planted case id is found.
  std::ofstream(dir + "/log.jsonl", std::ios::app)
      << "{\"message\":\"" << opened.case_().case_id() << "\"}\n";
  EXPECT_GE(scan.Run().hit_count, 1u);
}

}  // namespace
}  // namespace ruta
