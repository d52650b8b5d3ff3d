// The metrics registry: what each recording adds to the exposition, the
// refresher's rate limit, and that no label can carry request content.
#include "ruta/observability/metrics.h"

#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::observability {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

// The value of the sample line starting with `series` ("name{labels}"), or
// -1 when there is none.
double Sample(const std::string& text, const std::string& series) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, series + " ")) {
      double value = 0;
      if (absl::SimpleAtod(line.substr(series.size() + 1), &value)) {
        return value;
      }
    }
  }
  return -1;
}

TEST(NodeMetricsTest, CountsCallsByMethodAndCodeWithLatency) {
  NodeMetricsOptions options;
  options.region = "cusco";
  options.version = "9.9.9";
  NodeMetrics metrics(options);
  metrics.RecordRpc("CaseOffice.GetCase", absl::StatusCode::kOk,
                    absl::Milliseconds(3));
  metrics.RecordRpc("CaseOffice.GetCase", absl::StatusCode::kOk,
                    absl::Milliseconds(30));
  metrics.RecordRpc("CaseOffice.GetCase", absl::StatusCode::kInvalidArgument,
                    absl::Microseconds(100));
  metrics.RecordRpc("Admin.VerifyAudit", absl::StatusCode::kPermissionDenied,
                    absl::Seconds(20));
  const std::string text = metrics.Text();
  EXPECT_EQ(
      Sample(text, R"(ruta_rpc_requests_total{code="OK",method="GetCase",)"
                   R"(service="CaseOffice"})"),
      2);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_requests_total{code="INVALID_ARGUMENT",)"
                         R"(method="GetCase",service="CaseOffice"})"),
            1);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_requests_total{code="PERMISSION_DENIED",)"
                         R"(method="VerifyAudit",service="Admin"})"),
            1);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_duration_seconds_count{method="GetCase",)"
                         R"(service="CaseOffice"})"),
            3);
  EXPECT_NEAR(Sample(text, R"(ruta_rpc_duration_seconds_sum{method="GetCase",)"
                           R"(service="CaseOffice"})"),
              0.0331, 1e-9);
  // Buckets are cumulative: 0.1 ms <= 0.0005; 3 ms <= 0.005; 30 ms <= 0.05.
  EXPECT_EQ(Sample(text, R"(ruta_rpc_duration_seconds_bucket{method="GetCase",)"
                         R"(service="CaseOffice",le="0.0005"})"),
            1);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_duration_seconds_bucket{method="GetCase",)"
                         R"(service="CaseOffice",le="0.005"})"),
            2);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_duration_seconds_bucket{method="GetCase",)"
                         R"(service="CaseOffice",le="0.05"})"),
            3);
  EXPECT_EQ(
      Sample(text, R"(ruta_rpc_duration_seconds_bucket{method="VerifyAudit",)"
                   R"(service="Admin",le="10"})"),
      0);
  EXPECT_EQ(
      Sample(text, R"(ruta_rpc_duration_seconds_bucket{method="VerifyAudit",)"
                   R"(service="Admin",le="+Inf"})"),
      1);
  EXPECT_EQ(Sample(text, R"(ruta_build_info{region="cusco",version="9.9.9"})"),
            1);
  EXPECT_GT(Sample(text, "ruta_process_start_time_seconds"), 1.7e9);
}

TEST(NodeMetricsTest, RefusesMethodsThatAreNotMethodNames) {
  NodeMetrics metrics;
  for (const char* bad :
       {"", "CaseOffice", ".GetCase", "CaseOffice.", "CaseOffice.Get Case",
        "cs_abcdefghijklmnopqrst", "CaseOffice.GetCase\"} 1", "a.b.c"}) {
    metrics.RecordRpc(bad, absl::StatusCode::kOk, absl::Milliseconds(1));
  }
  EXPECT_THAT(metrics.Text(), Not(HasSubstr("ruta_rpc_requests_total{")));
  EXPECT_TRUE(IsMethodName("Federation.Exchange"));
  EXPECT_FALSE(IsMethodName("a.b.c"));
}

TEST(NodeMetricsTest, ConcurrentRecordingCountsEveryCall) {
  NodeMetrics metrics;
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < 1000; ++i) {
        metrics.RecordRpc(
            t % 2 ? "CaseOffice.GetCase" : "Dashboard.GetTable",
            i % 10 == 0 ? absl::StatusCode::kNotFound : absl::StatusCode::kOk,
            absl::Microseconds(i));
      }
    });
  }
  for (auto& thread : threads) thread.join();
  const std::string text = metrics.Text();
  EXPECT_EQ(
      Sample(text, R"(ruta_rpc_requests_total{code="OK",method="GetCase",)"
                   R"(service="CaseOffice"})"),
      3600);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_requests_total{code="NOT_FOUND",)"
                         R"(method="GetTable",service="Dashboard"})"),
            400);
  EXPECT_EQ(Sample(text, R"(ruta_rpc_duration_seconds_count{method="GetTable",)"
                         R"(service="Dashboard"})"),
            4000);
}

TEST(NodeMetricsTest, RefresherRunsBeforeCollectionAtMostOncePerInterval) {
  NodeMetricsOptions options;
  options.refresh_min_interval = absl::Hours(1);
  NodeMetrics metrics(options);
  int runs = 0;
  metrics.SetRefresher([&runs](NodeMetrics& m) {
    ++runs;
    PeerState peer;
    peer.peer = "madre-de-dios";
    peer.outbox_backlog = 7;
    peer.relay_lag = absl::Seconds(42);
    peer.inbox_applied_sequence = 12;
    m.SetPeerState(peer);
    m.SetAuditChainLength(1234);
    const absl::Time now = absl::FromUnixSeconds(1000);
    m.SetCertificateExpiry("node", "cusco", now + absl::Hours(24), now);
    m.SetCrlExpiry("cusco", now - absl::Seconds(5), now);
  });
  std::string text = metrics.Text();
  EXPECT_EQ(runs, 1);
  EXPECT_EQ(
      Sample(text, R"(ruta_federation_outbox_backlog{peer="madre-de-dios"})"),
      7);
  EXPECT_EQ(
      Sample(text,
             R"(ruta_federation_relay_lag_seconds{peer="madre-de-dios"})"),
      42);
  EXPECT_EQ(Sample(text, R"(ruta_federation_inbox_applied_sequence{)"
                         R"(peer="madre-de-dios"})"),
            12);
  EXPECT_EQ(Sample(text, "ruta_audit_chain_length"), 1234);
  EXPECT_EQ(Sample(text, R"(ruta_certificate_expiry_seconds{)"
                         R"(certificate="node",region="cusco"})"),
            86400);
  EXPECT_EQ(Sample(text, R"(ruta_crl_expiry_seconds{region="cusco"})"), -5);
  (void)metrics.Text();
  EXPECT_EQ(runs, 1) << "within refresh_min_interval";
  metrics.SetRefresher(nullptr);
  (void)metrics.Text();
  EXPECT_EQ(runs, 1);
}

TEST(NodeMetricsTest, FederationEventCounters) {
  NodeMetrics metrics;
  metrics.CountEventsReceived("madre-de-dios", 5);
  metrics.CountEventsReceived("madre-de-dios", 3);
  metrics.CountEventsApplied("madre-de-dios", 5);
  metrics.CountEventsApplied("madre-de-dios", 0);
  metrics.CountEventsApplied("madre-de-dios", -2);
  const std::string text = metrics.Text();
  EXPECT_EQ(Sample(text, R"(ruta_federation_events_received_total{)"
                         R"(peer="madre-de-dios"})"),
            8);
  EXPECT_EQ(Sample(text, R"(ruta_federation_events_applied_total{)"
                         R"(peer="madre-de-dios"})"),
            5);
}

}  // namespace
}  // namespace ruta::observability
