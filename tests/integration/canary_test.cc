// The canary test (DESIGN.md §6): identifiers reach a node only to derive a
// person_ref and are then dropped. Two real node processes, Madre de Dios and
// Cusco, peers of each other, each in its own directory; Madre de Dios'
// office opens hundreds of cases with distinctive made-up identifiers
// (accented names with ñ, DNIs, CNVs, dates of birth), looks the children up
// again under other spellings, walks transfers to Cusco through every state,
// both regions record services, and requests with malformed identifiers are
// refused. Once federation converged, the audit is exported and both nodes
// stop (SIGTERM); then every byte they wrote (databases with their WAL and
// journals, logs, the audit inside the databases and its export, any other
// file in their directories) is searched for the identifiers in clear and
// encoded (ruta/testing/canary_scan.h). Zero hits are expected, and the
// logs hold no standalone 8-digit number at all (any looks like a DNI). A
// control then plants canaries in the scanned files and the same scan must
// report them, so a scan that sees nothing is not mistaken for a clean one.
//
// RUTA_CANARY_CASES (default 240, at least 200) sizes the cases;
// RUTA_CANARY_TRANSFERS (default 30) the transfers walked to RECEIVED;
// RUTA_SEED fixes the identifiers.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "httplib.h"
#include "ruta/testing/canary_scan.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/requests.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "ruta/v1/dashboard.grpc.pb.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta {
namespace {

using testing::BackgroundProcess;
using testing::CanaryScan;
using testing::CanaryScanResult;
using testing::DevPki;
using testing::OfficeClient;
using testing::RequestIdFor;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
constexpr char kCuscoProvince[] = "0801";
constexpr int kWorkers = 6;

void Say(const std::string& line) {
  std::printf("[canary] %s\n", line.c_str());
  std::fflush(stdout);
}

int IntFromEnv(const char* name, int fallback) {
  int value = 0;
  const char* text = std::getenv(name);
  return text != nullptr && absl::SimpleAtoi(text, &value) && value > 0
             ? value
             : fallback;
}

uint64_t SeedFromEnv() {
  uint64_t seed = 0;
  const char* text = std::getenv("RUTA_SEED");
  if (text != nullptr && absl::SimpleAtoi(text, &seed)) return seed;
  return static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
}

// A made-up child. Every identifier is distinctive (no real name holds
// "bcdfqx"-like runs) and unique to the child, so a hit names its origin.
struct Child {
  std::string dni;  // 8 digits, first digit 3..9: not a year, not by chance
  std::string cnv;
  std::string given;  // as the office typed it: accents, ñ
  std::string surnames;
  std::string given_variant;  // the same names, typed differently
  std::string surnames_variant;
  int year = 0, month = 0, day = 0;
  std::string district;

  v1::PersonIdentifiers Identifiers(bool variant) const {
    v1::PersonIdentifiers ids;
    ids.set_dni(dni);
    ids.set_cnv(cnv);
    ids.set_given_names(variant ? given_variant : given);
    ids.set_surnames(variant ? surnames_variant : surnames);
    if (year != 0) {
      ids.mutable_birth_date()->set_year(year);
      ids.mutable_birth_date()->set_month(month);
      ids.mutable_birth_date()->set_day(day);
    }
    ids.set_birth_district(district);
    return ids;
  }
  // Everything searched for: whole names, each word, numbers, dates.
  std::vector<std::string> Canaries() const {
    std::vector<std::string> out;
    if (!given.empty()) {
      out = {given, surnames, absl::StrCat(given, " ", surnames)};
    }
    for (const std::string& names : {given, surnames}) {
      if (names.empty()) continue;
      for (absl::string_view word : absl::StrSplit(names, ' ')) {
        if (word.size() >= testing::kMinCanaryBytes) out.emplace_back(word);
      }
    }
    if (!dni.empty()) out.push_back(dni);
    if (!cnv.empty()) out.push_back(cnv);
    if (year != 0) {
      out.push_back(absl::StrFormat("%04d-%02d-%02d", year, month, day));
      out.push_back(absl::StrFormat("%02d/%02d/%04d", day, month, year));
      out.push_back(absl::StrFormat("%04d%02d%02d", year, month, day));
    }
    return out;
  }
};

// `n` in base 20 over consonants, `width` letters: unique per child.
std::string Code(int n, int width) {
  static constexpr char kLetters[] = "bcdfghjklmnprstvwxyz";
  std::string out(static_cast<size_t>(width), 'b');
  for (int k = width - 1; k >= 0; --k, n /= 20) out[k] = kLetters[n % 20];
  return out;
}

// Children of four kinds (by i % 10): DNI and everything else (0-3), CNV and
// names and birth (4-5), names and birth only (6-8), DNI only (9).
Child MakeChild(int i, uint64_t seed) {
  // Accented heads and their plain spellings.
  static const std::vector<std::pair<std::string, std::string>> kGiven = {
      {"Zoí", "ZOI"}, {"Quíl", "QUIL"}, {"Ñé", "NE"}, {"Wá", "WA"},
      {"Yú", "YU"},   {"Xó", "XO"},     {"Kü", "KU"},
  };
  const std::string code = Code(i, 4);
  const auto& head = kGiven[static_cast<size_t>(i) % kGiven.size()];
  Child c;
  c.given = absl::StrCat(head.first, code, "qx");
  c.given_variant =
      absl::StrCat(head.second, absl::AsciiStrToUpper(code), "QX");
  if (i % 3 == 0) {
    absl::StrAppend(&c.given, " Ñuñ", code, "vq");
    absl::StrAppend(&c.given_variant, "   nun", code, "VQ");
  }
  c.surnames = absl::StrCat("Ña", code, "ézvq Ccá", code, "xwí");
  // Decomposed: N + U+0303 and e + U+0301, then a hyphen for the space.
  c.surnames_variant =
      absl::StrCat("  N\u0303a", code, "e\u0301zvq-cca", code, "xwi ");
  const int kind = i % 10;
  if (kind <= 3 || kind == 9) {
    // Distinct for distinct i (104729 is prime to the range), 3xxxxxxx and up.
    c.dni = absl::StrFormat(
        "%08d",
        31000000 + static_cast<int>(
                       (seed % 1000003 + static_cast<uint64_t>(i) * 104729) %
                       68000000));
  }
  if (kind == 4 || kind == 5) {
    c.cnv = absl::StrFormat(
        "7%09d",
        static_cast<int>((seed % 999983 + static_cast<uint64_t>(i) * 15485863) %
                         1000000000));
  }
  if (kind != 9) {
    c.year = 2008 + i % 6;
    c.month = 1 + i % 12;
    c.day = 1 + (i * 7) % 28;
    // Provinces 0803..0811 of Cusco, districts 11..59.
    c.district = absl::StrFormat("08%02d%02d", 3 + i % 9, 11 + i % 49);
  } else {
    c.given.clear();
    c.given_variant.clear();
    c.surnames.clear();
    c.surnames_variant.clear();
  }
  return c;
}

// Runs fn(i) for i in [0, n) on kWorkers threads.
void ParallelFor(int n, const std::function<void(int)>& fn) {
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < n; i = next.fetch_add(1)) fn(i);
    });
  }
  for (std::thread& worker : workers) worker.join();
}

// Failures seen on worker threads, reported on the test's thread.
class Errors {
 public:
  void Add(const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    errors_.push_back(what);
  }
  void Report() {
    std::lock_guard<std::mutex> lock(mu_);
    for (size_t i = 0; i < errors_.size() && i < 20; ++i) {
      ADD_FAILURE() << errors_[i];
    }
    errors_.clear();
  }
  bool empty() {
    std::lock_guard<std::mutex> lock(mu_);
    return errors_.empty();
  }

 private:
  std::mutex mu_;
  std::vector<std::string> errors_;
};

std::string Describe(const grpc::Status& s) {
  return absl::StrCat(s.error_code(), " ", s.error_message());
}

// One ruta-node process with everything it writes in `data_dir`.
struct NodeProcess {
  std::string region;
  std::string data_dir;
  std::string config;
  int port = 0;
  int metrics_port = 0;  // its Prometheus endpoint (observability)
  std::unique_ptr<BackgroundProcess> process;
  std::unique_ptr<v1::Admin::Stub> admin;

  std::string address() const { return absl::StrCat("127.0.0.1:", port); }
};

// Every place a node writes to. Its data directory holds its database (with
// -wal, -shm, -journal), its logs (stdout and stderr), its port file and its
// temporary files (TMPDIR), and its backups (<data_dir>/backups). A later
// output outside the data directory (metrics) is added here.
// Everything a node wrote is in its directory, and so are what its partner
// was answered (partner-responses.bin: the serialized PartnerStatus
// responses) and printed by the ruta CLI (partner-cli.out), and what the
// dashboard was answered (dashboard-responses.bin: every table of
// Dashboard.GetTable) and `ruta stats` printed (dashboard-cli.out).
std::vector<std::string> OutputsOf(const NodeProcess& node) {
  return {node.data_dir};
}

std::unique_ptr<NodeProcess> StartNode(
    const std::string& region, const std::map<std::string, int>& ports) {
  auto node = std::make_unique<NodeProcess>();
  node->region = region;
  node->port = ports.at(region);
  node->data_dir = testing::MakeTempDir(absl::StrCat("canary-", region));
  const std::string peer = region == kCusco ? kMdd : kCusco;
  testing::NodeSetup setup;
  setup.region = region;
  setup.data_dir = node->data_dir;
  setup.listen_address = node->address();
  setup.peers = {{peer, absl::StrCat("127.0.0.1:", ports.at(peer))}};
  setup.relay_initial_backoff_ms = 50;
  setup.relay_max_backoff_ms = 500;
  setup.checkpoint_interval_seconds = 1;  // checkpoints are outputs too
  // Metrics and the JSON log with one line per RPC are outputs too: the log
  // goes to the node's stdout/stderr files, /metrics is saved by
  // SaveMetrics into the data directory.
  node->metrics_port = testing::PickFreePort();
  setup.metrics_address = absl::StrCat(node->metrics_port);
  setup.log_format = "json";
  setup.log_level = "debug";
  setup.backups = true;  // backups go to <data_dir>/backups: scanned too
  node->config = testing::WriteNodeConfig(DevPki::Get(), setup);
  const std::string tmp = node->data_dir + "/tmp";
  std::filesystem::create_directories(tmp);
  // Through env(1): SQLite's and anyone's temporary files land in the
  // scanned directory (those unlinked while open escape any scan).
  node->process = std::make_unique<BackgroundProcess>(
      std::vector<std::string>{"/usr/bin/env", "TMPDIR=" + tmp,
                               "SQLITE_TMPDIR=" + tmp, testing::NodeBinary(),
                               "--config", node->config},
      node->data_dir + "/node");
  const int served =
      testing::WaitForPortFile(node->data_dir + "/port", absl::Seconds(20));
  EXPECT_EQ(served, node->port) << region << " did not start:\n"
                                << node->process->Stderr();
  node->admin = v1::Admin::NewStub(testing::MakeChannel(
      node->address(), DevPki::Get().Leaf(region, "admin", "operator"),
      region));
  return node;
}

// Saves what the node's /metrics endpoint answers into its data directory
// (scanned with the rest), as a Prometheus server would store it.
void SaveMetrics(const NodeProcess& node) {
  httplib::Client client("127.0.0.1", node.metrics_port);
  client.set_connection_timeout(5);
  client.set_read_timeout(5);
  httplib::Result result = client.Get("/metrics");
  ASSERT_TRUE(result) << node.region << ": no answer on /metrics";
  ASSERT_EQ(result->status, 200);
  EXPECT_THAT(result->body, ::testing::HasSubstr("ruta_rpc_requests_total{"));
  std::ofstream(node.data_dir + "/metrics.txt") << result->body;
}

// Polls both relays until each peer acknowledged everything written for it.
bool WaitConverged(const std::vector<NodeProcess*>& nodes,
                   absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    bool all = true;
    for (NodeProcess* node : nodes) {
      v1::GetRelayStatusResponse response;
      auto context = testing::ContextWithDeadline(absl::Seconds(5));
      const grpc::Status s = node->admin->GetRelayStatus(
          context.get(), v1::GetRelayStatusRequest(), &response);
      all = all && s.ok() && response.peers_size() == 1 &&
            response.peers(0).connected() &&
            response.peers(0).acknowledged_sequence() ==
                response.peers(0).last_sequence();
    }
    if (all) return true;
    absl::SleepFor(absl::Milliseconds(50));
  }
  return false;
}

// Admin.ExportAudit into `path`: each record in text form, then serialized.
int ExportAudit(NodeProcess& node, const std::string& path) {
  auto context = testing::ContextWithDeadline(absl::Seconds(30));
  auto reader = node.admin->ExportAudit(context.get(), {});
  std::ofstream out(path, std::ios::binary);
  v1::ExportAuditResponse record;
  int records = 0;
  while (reader->Read(&record)) {
    out << record.DebugString() << record.SerializeAsString() << "\n";
    ++records;
  }
  const grpc::Status s = reader->Finish();
  EXPECT_TRUE(s.ok()) << node.region << " ExportAudit: " << Describe(s);
  return records;
}

// Standalone runs of exactly 8 ASCII digits in `text` (not part of a longer
// number, a word or a hex string), each with a little context: in a log, any
// such run looks like a DNI, planted or not.
std::vector<std::string> DniShapedRuns(const std::string& text) {
  std::vector<std::string> found;
  const auto alnum = [&](size_t i) {
    return i < text.size() && absl::ascii_isalnum(text[i]);
  };
  for (size_t i = 0; i < text.size();) {
    if (!absl::ascii_isdigit(text[i])) {
      ++i;
      continue;
    }
    size_t end = i;
    while (end < text.size() && absl::ascii_isdigit(text[end])) ++end;
    if (end - i == 8 && (i == 0 || !alnum(i - 1)) && !alnum(end)) {
      const size_t from = i < 30 ? 0 : i - 30;
      found.push_back(text.substr(from, end + 30 - from));
    }
    i = end;
  }
  return found;
}

// Runs `scan`, prints what it covered, and checks that it could read every
// path and found nothing. `when` names the scan in the output.
CanaryScanResult ScanAndReport(const CanaryScan& scan,
                               const std::string& when) {
  const absl::Time start = absl::Now();
  const CanaryScanResult result = scan.Run();
  const absl::Duration took = absl::Now() - start;
  for (const auto& [path, size] : result.files) {
    Say(absl::StrFormat("  %s: %10d bytes  %s", when, size, path));
  }
  Say(absl::StrFormat(
      "%s: scanned %d files, %d bytes, for %d canaries in %d forms in %.2f s: "
      "%d hits",
      when, result.files.size(), result.bytes, scan.canary_count(),
      scan.form_count(), absl::ToDoubleSeconds(took), result.hit_count));
  EXPECT_TRUE(result.errors.empty()) << when << ": " << result.Describe();
  EXPECT_EQ(result.hit_count, 0u) << when << ": " << result.Describe(50);
  return result;
}

// Whether `result` scanned `path`, and it held at least `min_bytes`.
bool Scanned(const CanaryScanResult& result, const std::string& path,
             uint64_t min_bytes = 0) {
  for (const auto& [file, size] : result.files) {
    if (file == path) return size >= min_bytes;
  }
  return false;
}

TEST(CanaryTest, NoIdentifierReachesAnyByteEitherNodeWrites) {
  const absl::Time test_start = absl::Now();
  // 200 at least; at most what Code(i, 4) keeps unique.
  const int cases =
      std::clamp(IntFromEnv("RUTA_CANARY_CASES", 240), 200, 150000);
  const int transfers =
      std::min(cases / 4, IntFromEnv("RUTA_CANARY_TRANSFERS", 30));
  const uint64_t seed = SeedFromEnv();
  Say(
      absl::StrFormat("%d cases, %d transfers walked to RECEIVED, seed %d "
                      "(RUTA_SEED repeats it)",
                      cases, transfers, seed));
  // The children of the cases, then those of the refused requests.
  constexpr int kRefused = 12;
  std::vector<Child> children;
  for (int i = 0; i < cases + kRefused; ++i) {
    children.push_back(MakeChild(i, seed));
  }
  CanaryScan scan;
  for (const Child& child : children) {
    for (const std::string& canary : child.Canaries()) {
      ASSERT_TRUE(scan.AddCanary(canary).ok()) << canary;
    }
  }

  const std::map<std::string, int> ports = {{kCusco, testing::PickFreePort()},
                                            {kMdd, testing::PickFreePort()}};
  ASSERT_NE(ports.at(kCusco), ports.at(kMdd));
  std::unique_ptr<NodeProcess> mdd = StartNode(kMdd, ports);
  std::unique_ptr<NodeProcess> cusco = StartNode(kCusco, ports);
  ASSERT_FALSE(::testing::Test::HasFailure());
  OfficeClient mdd_office(mdd->address(), kMdd);
  OfficeClient cusco_office(cusco->address(), kCusco);
  for (OfficeClient* office : {&mdd_office, &cusco_office}) {
    office->set_attempts(5);
    office->set_wait_for_ready(true);
  }
  const uint64_t salt = seed;
  std::atomic<uint64_t> next_request{1};
  auto rid = [&] { return RequestIdFor(salt, next_request.fetch_add(1)); };
  Errors errors;

  // 1. Madre de Dios opens a case per child and looks the child up again,
  //    under the same identifiers and under another spelling of them.
  std::vector<v1::Case> opened(static_cast<size_t>(cases));
  ParallelFor(cases, [&](int i) {
    const Child& child = children[static_cast<size_t>(i)];
    v1::OpenCaseRequest open = testing::VictimOpenCaseRequest(rid(), "");
    *open.mutable_identifiers() = child.Identifiers(false);
    v1::OpenCaseResponse response;
    auto context = testing::ContextWithDeadline();
    grpc::Status s = mdd_office.stub().OpenCase(context.get(), open, &response);
    if (!s.ok()) {
      errors.Add(absl::StrCat("OpenCase #", i, ": ", Describe(s)));
      return;
    }
    opened[static_cast<size_t>(i)] = response.case_();
    for (bool variant : {false, true}) {
      v1::FindPersonRequest find;
      *find.mutable_identifiers() = child.Identifiers(variant);
      v1::FindPersonResponse found;
      context = testing::ContextWithDeadline();
      s = mdd_office.stub().FindPerson(context.get(), find, &found);
      if (!s.ok() || !found.linked() ||
          found.person_ref() != response.case_().person_ref() ||
          found.cases_size() < 1) {
        errors.Add(absl::StrCat("FindPerson #", i, variant ? " (variant)" : "",
                                ": ", Describe(s), " linked=", found.linked(),
                                " cases=", found.cases_size()));
      }
    }
    // Every tenth child is identified again later: a second case, opened
    // under the other spelling, joins the same person_ref.
    if (i % 10 == 6) {
      open.set_request_id(rid());
      *open.mutable_identifiers() = child.Identifiers(true);
      v1::OpenCaseResponse again;
      context = testing::ContextWithDeadline();
      s = mdd_office.stub().OpenCase(context.get(), open, &again);
      if (!s.ok() ||
          again.case_().person_ref() != response.case_().person_ref()) {
        errors.Add(absl::StrCat("second case #", i, ": ", Describe(s)));
      }
    }
  });
  errors.Report();
  ASSERT_FALSE(::testing::Test::HasFailure());
  Say(absl::StrFormat("opened %d cases and made %d FindPerson calls in %.1f s",
                      cases + cases / 10, 2 * cases,
                      absl::ToDoubleSeconds(absl::Now() - test_start)));

  // 2. Requests whose identifiers are malformed are refused; the refusal
  //    (its log line, its audit record) must not keep them either.
  for (int i = 0; i < kRefused; ++i) {
    const Child& bad = children[static_cast<size_t>(cases + i)];
    v1::PersonIdentifiers ids = bad.Identifiers(false);
    switch (i % 4) {
      case 0:  // nine digits
        ids.set_dni(absl::StrCat(bad.dni.empty() ? "41234567" : bad.dni, "7"));
        break;
      case 1:  // 30 February
        ids.mutable_birth_date()->set_month(2);
        ids.mutable_birth_date()->set_day(30);
        break;
      case 2:  // a letter in the CNV
        ids.set_cnv(
            absl::StrCat("7", bad.dni.empty() ? "2345678" : bad.dni, "k"));
        break;
      case 3:  // a district of no province
        ids.set_birth_district("999901");
        break;
    }
    v1::OpenCaseRequest open = testing::VictimOpenCaseRequest(rid(), "");
    *open.mutable_identifiers() = ids;
    v1::OpenCaseResponse response;
    auto context = testing::ContextWithDeadline();
    const grpc::Status s =
        mdd_office.stub().OpenCase(context.get(), open, &response);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT)
        << "malformed identifiers #" << i << ": " << Describe(s);
    v1::FindPersonRequest find;
    *find.mutable_identifiers() = ids;
    v1::FindPersonResponse found;
    context = testing::ContextWithDeadline();
    EXPECT_EQ(
        mdd_office.stub().FindPerson(context.get(), find, &found).error_code(),
        grpc::StatusCode::INVALID_ARGUMENT);
  }

  // 3. Transfers to Cusco: `transfers` walked to RECEIVED, three rejected by
  //    Cusco, three cancelled by Madre de Dios (one first refused for a
  //    note holding a DNI).
  const int walked = transfers + 6;
  std::vector<std::string> transfer_ids(static_cast<size_t>(walked));
  ParallelFor(walked, [&](int t) {
    const v1::Case& c = opened[static_cast<size_t>(t)];
    for (v1::Stage stage :
         {v1::STAGE_IMMEDIATE_PROTECTION, v1::STAGE_RESIDENTIAL_CARE}) {
      v1::UpdateStageRequest request;
      request.set_request_id(rid());
      request.set_case_id(c.case_id());
      request.set_stage(stage);
      v1::UpdateStageResponse response;
      auto context = testing::ContextWithDeadline();
      const grpc::Status s =
          mdd_office.stub().UpdateStage(context.get(), request, &response);
      if (!s.ok()) errors.Add(absl::StrCat("UpdateStage: ", Describe(s)));
    }
    absl::StatusOr<v1::Transfer> requested =
        mdd_office.Request(rid(), c.case_id(), kCusco, kCuscoProvince);
    if (!requested.ok()) {
      errors.Add(
          absl::StrCat("RequestTransfer: ", requested.status().ToString()));
      return;
    }
    transfer_ids[static_cast<size_t>(t)] = requested->transfer_id();
  });
  errors.Report();
  ASSERT_FALSE(::testing::Test::HasFailure());

  auto in_state = [](v1::TransferState state) {
    return [state](const v1::Transfer& t) { return t.state() == state; };
  };
  // Waits on `office` for `state`, then runs `step` on the transfer.
  auto advance =
      [&](int from, int to, OfficeClient& waiter, v1::TransferState wait_state,
          const std::function<absl::Status(const std::string&)>& step) {
        ParallelFor(to - from, [&](int k) {
          const std::string& id = transfer_ids[static_cast<size_t>(from + k)];
          absl::StatusOr<v1::Transfer> seen =
              waiter.WaitFor(id, in_state(wait_state));
          if (!seen.ok() || seen->state() != wait_state) {
            errors.Add(absl::StrCat(id, " never reached ",
                                    v1::TransferState_Name(wait_state)));
            return;
          }
          if (step) {
            const absl::Status s = step(id);
            if (!s.ok()) errors.Add(absl::StrCat(id, ": ", s.ToString()));
          }
        });
        errors.Report();
      };
  auto status_of = [](const absl::StatusOr<v1::Transfer>& t) {
    return t.status();
  };
  // Cusco accepts the walked ones and rejects three.
  advance(0, transfers, cusco_office, v1::TRANSFER_STATE_REQUESTED,
          [&](const std::string& id) {
            return status_of(cusco_office.Accept(rid(), id));
          });
  advance(transfers, transfers + 3, cusco_office, v1::TRANSFER_STATE_REQUESTED,
          [&](const std::string& id) {
            v1::RejectTransferRequest request;
            request.set_request_id(rid());
            request.set_transfer_id(id);
            request.set_reason(v1::REJECT_REASON_NO_CAPACITY);
            request.set_note("sin cupo en el albergue de la provincia");
            v1::RejectTransferResponse response;
            auto context = testing::ContextWithDeadline();
            const grpc::Status s = cusco_office.stub().RejectTransfer(
                context.get(), request, &response);
            return s.ok() ? absl::OkStatus() : absl::InternalError(Describe(s));
          });
  // Madre de Dios cancels three; a note with a DNI in it is refused first.
  advance(transfers + 3, walked, cusco_office, v1::TRANSFER_STATE_REQUESTED,
          nullptr);
  for (int t = transfers + 3; t < walked; ++t) {
    v1::CancelTransferRequest request;
    request.set_request_id(rid());
    request.set_transfer_id(transfer_ids[static_cast<size_t>(t)]);
    const Child& child = children[0];  // has a DNI
    request.set_note(absl::StrCat("la familia de ", child.given, " (DNI ",
                                  child.dni, ") ya no puede recibirla"));
    v1::CancelTransferResponse response;
    auto context = testing::ContextWithDeadline();
    EXPECT_EQ(mdd_office.stub()
                  .CancelTransfer(context.get(), request, &response)
                  .error_code(),
              grpc::StatusCode::INVALID_ARGUMENT);
    const absl::StatusOr<v1::Transfer> cancelled =
        mdd_office.Cancel(rid(), transfer_ids[static_cast<size_t>(t)]);
    EXPECT_TRUE(cancelled.ok()) << cancelled.status();
  }
  advance(0, transfers, mdd_office, v1::TRANSFER_STATE_ACCEPTED,
          [&](const std::string& id) {
            return status_of(mdd_office.Depart(rid(), id));
          });
  advance(0, transfers, cusco_office, v1::TRANSFER_STATE_IN_TRANSIT,
          [&](const std::string& id) {
            return status_of(cusco_office.Receive(rid(), id));
          });
  advance(0, transfers, mdd_office, v1::TRANSFER_STATE_RECEIVED, nullptr);
  advance(transfers, transfers + 3, mdd_office, v1::TRANSFER_STATE_REJECTED,
          nullptr);
  advance(transfers + 3, walked, cusco_office, v1::TRANSFER_STATE_CANCELLED,
          nullptr);
  ASSERT_FALSE(::testing::Test::HasFailure());

  // 4. Services on both sides: Cusco on the cases it received, Madre de Dios
  //    on cases it kept.
  auto add_service = [&](OfficeClient& office, const std::string& case_id,
                         v1::ServiceType type, const std::string& provider) {
    v1::AddServiceRequest add;
    add.set_request_id(rid());
    add.set_case_id(case_id);
    add.set_type(type);
    add.set_provider(provider);
    add.set_status(v1::SERVICE_STATUS_ONGOING);
    add.mutable_start_month()->set_year(2026);
    add.mutable_start_month()->set_month(11);
    v1::AddServiceResponse added;
    auto context = testing::ContextWithDeadline();
    const grpc::Status s = office.stub().AddService(context.get(), add, &added);
    if (!s.ok()) errors.Add(absl::StrCat("AddService: ", Describe(s)));
  };
  ParallelFor(transfers, [&](int t) {
    const std::string& case_id = opened[static_cast<size_t>(t)].case_id();
    add_service(cusco_office, case_id, v1::SERVICE_TYPE_VOCATIONAL_TRAINING,
                "cusco/tdh");
    add_service(cusco_office, case_id, v1::SERVICE_TYPE_PSYCHOSOCIAL, "");
  });
  ParallelFor(cases - walked, [&](int k) {
    if (k % 4 != 0) return;
    add_service(mdd_office, opened[static_cast<size_t>(walked + k)].case_id(),
                v1::SERVICE_TYPE_HEALTH, "madre-de-dios/huarayo");
  });
  errors.Report();

  // 4b. Privacy operations, whose outputs are scanned too: Cusco erases two
  //     cases it received, Madre de Dios one whose transfer Cusco rejected
  //     (shared, so erased on both nodes) and one it kept; Madre de Dios
  //     joins the refs of two pairs of children.
  auto erase = [&](NodeProcess& node, const std::string& case_id) {
    v1::EraseCaseRequest request;
    request.set_request_id(rid());
    request.set_case_id(case_id);
    v1::EraseCaseResponse response;
    auto context = testing::ContextWithDeadline();
    const grpc::Status s =
        node.admin->EraseCase(context.get(), request, &response);
    if (!s.ok()) errors.Add(absl::StrCat("EraseCase: ", Describe(s)));
  };
  auto case_at = [&](int i) -> const v1::Case& {
    return opened[static_cast<size_t>(i)];
  };
  erase(*cusco, case_at(0).case_id());
  erase(*cusco, case_at(1).case_id());
  erase(*mdd, case_at(transfers).case_id());
  erase(*mdd, case_at(walked + 1).case_id());
  for (int pair : {walked + 2, walked + 4}) {
    v1::MergePersonsRequest merge;
    merge.set_request_id(rid());
    merge.set_kept_ref(case_at(pair).person_ref());
    merge.set_merged_ref(case_at(pair + 1).person_ref());
    v1::MergePersonsResponse merged;
    auto context = testing::ContextWithDeadline();
    const grpc::Status s =
        mdd->admin->MergePersons(context.get(), merge, &merged);
    if (!s.ok()) errors.Add(absl::StrCat("MergePersons: ", Describe(s)));
  }
  errors.Report();

  // 4c. NGO partners: Madre de Dios refers kept cases to its partner Terre
  //     des Hommes, which lists them, reads each and records a service it
  //     delivers, over gRPC and with the ruta CLI; every response and CLI
  //     output lands in Madre de Dios' directory, which is scanned.
  {
    const std::string partner_id = "madre-de-dios/tdh";
    auto partner = v1::PartnerStatus::NewStub(testing::MakeChannel(
        mdd->address(), DevPki::Get().Partner(kMdd, "tdh"), kMdd));
    std::ofstream responses(mdd->data_dir + "/partner-responses.bin",
                            std::ios::binary);
    std::string service_id, service_case;
    for (int k = 8; k < 20 && walked + k < cases; ++k) {
      const std::string case_id = case_at(walked + k).case_id();
      v1::ReferCaseRequest refer;
      refer.set_request_id(rid());
      refer.set_case_id(case_id);
      refer.set_partner_id(partner_id);
      v1::ReferCaseResponse referred;
      auto context = testing::ContextWithDeadline();
      const grpc::Status s =
          mdd_office.stub().ReferCase(context.get(), refer, &referred);
      if (!s.ok()) errors.Add(absl::StrCat("ReferCase: ", Describe(s)));
      if (service_id.empty()) {
        v1::AddServiceRequest add;
        add.set_request_id(rid());
        add.set_case_id(case_id);
        add.set_type(v1::SERVICE_TYPE_PSYCHOSOCIAL);
        add.set_provider(partner_id);
        add.set_status(v1::SERVICE_STATUS_ONGOING);
        add.mutable_start_month()->set_year(2026);
        add.mutable_start_month()->set_month(11);
        v1::AddServiceResponse added;
        auto add_context = testing::ContextWithDeadline();
        const grpc::Status a =
            mdd_office.stub().AddService(add_context.get(), add, &added);
        if (!a.ok()) errors.Add(absl::StrCat("AddService: ", Describe(a)));
        service_id = added.service().service_id();
        service_case = case_id;
      }
    }
    v1::ListReferredCasesRequest list;
    v1::ListReferredCasesResponse listed;
    {
      auto context = testing::ContextWithDeadline();
      const grpc::Status s =
          partner->ListReferredCases(context.get(), list, &listed);
      if (!s.ok()) errors.Add(absl::StrCat("ListReferredCases: ", Describe(s)));
    }
    responses << listed.SerializeAsString();
    if (listed.cases_size() == 0) errors.Add("the partner sees no case");
    std::string ref_with_service;
    for (const v1::ReferredCase& c : listed.cases()) {
      v1::GetCaseStatusRequest get;
      get.set_partner_case_ref(c.partner_case_ref());
      v1::GetCaseStatusResponse got;
      auto context = testing::ContextWithDeadline();
      const grpc::Status s = partner->GetCaseStatus(context.get(), get, &got);
      if (!s.ok()) errors.Add(absl::StrCat("GetCaseStatus: ", Describe(s)));
      responses << got.SerializeAsString();
      if (!c.services().empty()) ref_with_service = c.partner_case_ref();
    }
    if (ref_with_service.empty()) {
      errors.Add("the partner does not see its service");
    } else {
      v1::UpdateServiceStatusRequest update;
      update.set_request_id(rid());
      update.set_partner_case_ref(ref_with_service);
      update.set_service_id(service_id);
      update.set_status(v1::SERVICE_STATUS_COMPLETED);
      update.mutable_end_month()->set_year(2027);
      update.mutable_end_month()->set_month(1);
      v1::UpdateServiceStatusResponse updated;
      auto context = testing::ContextWithDeadline();
      const grpc::Status s =
          partner->UpdateServiceStatus(context.get(), update, &updated);
      if (!s.ok())
        errors.Add(absl::StrCat("UpdateServiceStatus: ", Describe(s)));
      responses << updated.SerializeAsString();
    }
    responses.close();
    // The same through the CLI, as a partner runs it.
    const std::string cli_config = mdd->data_dir + "/partner.json";
    {
      const testing::KeyPair id = DevPki::Get().Partner(kMdd, "tdh");
      std::ofstream(cli_config)
          << "{\"node\": \"" << mdd->address() << "\", \"cert\": \""
          << id.cert_file << "\", \"key\": \"" << id.key_file
          << "\", \"ca\": \"" << DevPki::Get().TrustBundle()
          << "\", \"server_region\": \"" << kMdd << "\"}\n";
    }
    std::vector<std::vector<std::string>> commands = {
        {"partner", "cases"}, {"--output", "json", "partner", "cases"}};
    if (!ref_with_service.empty()) {
      commands.push_back({"partner", "status", ref_with_service});
    }
    std::ofstream cli_out(mdd->data_dir + "/partner-cli.out");
    for (const auto& args : commands) {
      std::vector<std::string> argv = {testing::CliBinary(), "--config",
                                       cli_config, "--retries", "0"};
      argv.insert(argv.end(), args.begin(), args.end());
      const testing::ProcessResult run =
          testing::RunProcess(argv, absl::Seconds(60));
      if (run.exit_code != 0) {
        errors.Add(
            absl::StrCat("ruta ", absl::StrJoin(args, " "), ": ", run.err));
      }
      cli_out << run.out << run.err;
    }
  }
  // 4d. The mayors' dashboard: every table Cusco releases for both regions,
  //     as the RPC answers it and as `ruta stats` prints it.
  {
    const testing::KeyPair id =
        DevPki::Get().Leaf(kCusco, "dashboard", "mayors");
    auto dashboard = v1::Dashboard::NewStub(
        testing::MakeChannel(cusco->address(), id, kCusco));
    std::ofstream responses(cusco->data_dir + "/dashboard-responses.bin",
                            std::ios::binary);
    v1::ListTablesResponse tables;
    {
      auto context = testing::ContextWithDeadline();
      const grpc::Status s = dashboard->ListTables(context.get(), {}, &tables);
      if (!s.ok()) errors.Add(absl::StrCat("ListTables: ", Describe(s)));
    }
    if (tables.tables_size() == 0) errors.Add("the dashboard lists no table");
    const absl::CivilYear year =
        absl::ToCivilYear(absl::Now(), absl::UTCTimeZone());
    for (const v1::TableInfo& info : tables.tables()) {
      v1::GetTableRequest request;
      request.set_table(info.name());
      request.mutable_from_quarter()->set_year(static_cast<int>(year.year()) -
                                               1);
      request.mutable_from_quarter()->set_quarter(1);
      request.mutable_to_quarter()->set_year(static_cast<int>(year.year()) + 1);
      request.mutable_to_quarter()->set_quarter(4);
      v1::GetTableResponse response;
      auto context = testing::ContextWithDeadline();
      const grpc::Status s =
          dashboard->GetTable(context.get(), request, &response);
      if (!s.ok()) {
        errors.Add(absl::StrCat("GetTable ", info.name(), ": ", Describe(s)));
      }
      responses << response.SerializeAsString();
    }
    const std::string cli_config = cusco->data_dir + "/dashboard.json";
    std::ofstream(cli_config)
        << "{\"node\": \"" << cusco->address() << "\", \"cert\": \""
        << id.cert_file << "\", \"key\": \"" << id.key_file << "\", \"ca\": \""
        << DevPki::Get().TrustBundle() << "\", \"server_region\": \"" << kCusco
        << "\"}\n";
    std::ofstream cli_out(cusco->data_dir + "/dashboard-cli.out");
    for (const std::vector<std::string>& args :
         std::vector<std::vector<std::string>>{{"stats"},
                                               {"--output", "json", "stats"}}) {
      std::vector<std::string> argv = {testing::CliBinary(), "--config",
                                       cli_config, "--retries", "0"};
      argv.insert(argv.end(), args.begin(), args.end());
      const testing::ProcessResult run =
          testing::RunProcess(argv, absl::Seconds(60));
      if (run.exit_code != 0) {
        errors.Add(
            absl::StrCat("ruta ", absl::StrJoin(args, " "), ": ", run.err));
      }
      cli_out << run.out << run.err;
    }
  }
  errors.Report();

  // 5. Federation converges: each peer acknowledged everything.
  ASSERT_TRUE(WaitConverged({mdd.get(), cusco.get()}, absl::Seconds(30)))
      << "relays did not drain";
  absl::SleepFor(absl::Milliseconds(1500));  // one more audit checkpoint
  const std::string exports = testing::MakeTempDir("canary-exports");
  const int mdd_audit = ExportAudit(*mdd, exports + "/madre-de-dios.audit");
  const int cusco_audit = ExportAudit(*cusco, exports + "/cusco.audit");
  Say(absl::StrFormat(
      "converged after %.1f s; audit records exported: %d "
      "(Madre de Dios), %d (Cusco)",
      absl::ToDoubleSeconds(absl::Now() - test_start), mdd_audit, cusco_audit));
  EXPECT_GT(mdd_audit, 2 * cases);
  // An online backup of each node: an output of the node (encrypted, so no
  // canary may be found in it).
  std::map<std::string, std::string> backups;
  for (NodeProcess* node : {mdd.get(), cusco.get()}) {
    v1::BackupRequest request;
    request.set_request_id("0b6e1f4a-3c2d-4e5f-8a9b-1c2d3e4f5a6b");
    v1::BackupResponse response;
    auto context = testing::ContextWithDeadline(absl::Seconds(60));
    const grpc::Status s =
        node->admin->Backup(context.get(), request, &response);
    EXPECT_TRUE(s.ok()) << node->region << ": " << Describe(s);
    backups[node->region] =
        absl::StrCat(node->data_dir, "/backups/", response.file_name());
  }

  for (NodeProcess* node : {mdd.get(), cusco.get()}) {
    SaveMetrics(*node);
    for (const std::string& path : OutputsOf(*node)) scan.AddPath(path);
  }
  scan.AddPath(exports);

  // 6. While the nodes run: their WAL and shared-memory files exist now
  //    (SQLite folds and removes them on a clean close).
  const CanaryScanResult live = ScanAndReport(scan, "running");
  for (NodeProcess* node : {mdd.get(), cusco.get()}) {
    const std::string db =
        absl::StrCat(node->data_dir, "/", node->region, ".db");
    EXPECT_TRUE(Scanned(live, db + "-wal")) << db << "-wal was not scanned";
    EXPECT_TRUE(Scanned(live, db + "-shm")) << db << "-shm was not scanned";
  }

  // 7. Both nodes stop as an operator stops them; then every byte they
  //    wrote, and at least each database, log and audit export.
  for (NodeProcess* node : {mdd.get(), cusco.get()}) {
    EXPECT_EQ(node->process->Stop(SIGTERM, absl::Seconds(20)), 0)
        << node->region << ":\n"
        << node->process->Stderr();
  }
  const CanaryScanResult result = ScanAndReport(scan, "stopped");
  for (NodeProcess* node : {mdd.get(), cusco.get()}) {
    EXPECT_TRUE(Scanned(
        result, absl::StrCat(node->data_dir, "/", node->region, ".db"), 4096));
    EXPECT_TRUE(Scanned(result, node->data_dir + "/node.err"));
    EXPECT_TRUE(Scanned(result, node->data_dir + "/node.out", 1));
    EXPECT_TRUE(Scanned(result, exports + "/" + node->region + ".audit", 1));
    EXPECT_TRUE(Scanned(result, backups[node->region], 4096))
        << "the backup of " << node->region << " was not scanned";
    for (const char* log : {"/node.out", "/node.err"}) {
      for (const std::string& run :
           DniShapedRuns(testing::ReadFile(node->data_dir + log))) {
        ADD_FAILURE() << node->region << log << " holds 8 digits: " << run;
      }
    }
  }

  // 8. Control: the same scan reports canaries planted where the nodes
  //    wrote, one at the end of Madre de Dios' database (in clear), one in a
  //    new file deep in Cusco's directory (UTF-16LE of a normalized name).
  const Child& first = children[0];
  const std::string database = mdd->data_dir + "/madre-de-dios.db";
  const uint64_t database_size = std::filesystem::file_size(database);
  std::ofstream(database, std::ios::binary | std::ios::app) << first.dni;
  const std::string planted_dir = cusco->data_dir + "/control/deep";
  std::filesystem::create_directories(planted_dir);
  std::string utf16;
  for (char c : absl::AsciiStrToLower(
           first.surnames_variant.substr(first.surnames_variant.find("cca")))) {
    if (c == ' ') break;
    utf16.push_back(c);
    utf16.push_back('\0');
  }
  std::ofstream(planted_dir + "/planted.bin", std::ios::binary)
      << "header" << utf16;
  const CanaryScanResult control = scan.Run();
  // The log check too: a DNI-shaped number appended to a log is reported;
  // longer numbers, hex and identifiers with digits are not.
  const std::string log = mdd->data_dir + "/node.err";
  std::ofstream(log, std::ios::app)
      << "[info] serial 552BE1A63EFB20261128 seq 123456789 cs_x12345678 "
         "ref=87654321.\n";
  const std::vector<std::string> runs = DniShapedRuns(testing::ReadFile(log));
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_TRUE(absl::StrContains(runs[0], "ref=87654321.")) << runs[0];
  std::map<std::string, std::pair<uint64_t, std::string>> hits;
  for (const testing::CanaryHit& hit : control.hits) {
    hits[hit.path] = {hit.offset, hit.encoding};
  }
  EXPECT_EQ(control.hit_count, 2u) << control.Describe();
  EXPECT_EQ(hits[database], std::make_pair(database_size, std::string("clear")))
      << control.Describe();
  EXPECT_EQ(hits[planted_dir + "/planted.bin"],
            std::make_pair(uint64_t{6}, std::string("utf-16le of normalized")))
      << control.Describe();
  Say(absl::StrFormat(
      "control: %d planted canaries found by the same scan; "
      "whole test %.1f s",
      control.hit_count, absl::ToDoubleSeconds(absl::Now() - test_start)));
}

}  // namespace
}  // namespace ruta
