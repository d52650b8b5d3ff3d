// Federation over the realistic Madre de Dios link: two ruta-node processes,
// each in a network namespace of its own, joined by a veth pair with tc netem
// on both ends (300 ms delay and 5 % loss each way, so 600 ms round trips)
// that is taken down for a few seconds several times while 100 transfers run
// end to end (request -> accept -> depart -> receive), 20 at a time. Both
// nodes must then agree on every transfer: RECEIVED, the case owned by Cusco,
// same version, and both relays drained.
//
// Skipped, with the reason, when network namespaces, veth pairs or netem are
// unavailable (not root, or no sch_netem in the kernel).
//
// Topology. Every namespace is anonymous, so nothing outlives the test: the
// test process moves itself into a private network namespace first (its
// interfaces and addresses collide with nothing, not even a parallel run),
// and each node runs in a new one (`unshare --net`) that dies with it; the
// node also gets SIGKILL if the test process dies (setpriv --pdeathsig).
//
//   test process (driver)            madre-de-dios node       cusco node
//   drv-mdd-h   10.77.1.1/30  <--->  drv-mdd   10.77.1.2/30
//   drv-cusco-h 10.77.2.1/30  <----------------------------> drv-cusco
//                                                             10.77.2.2/30
//                                    wan-mdd   10.77.0.1/30 <-netem-> wan-cusco
//                                                             10.77.0.2/30
//
// Both nodes listen on 0.0.0.0:7443. The driver reaches them over the
// unimpaired drv-* links; the relays talk over wan-* only (each node's peer
// address is the other's wan address). Host names are never checked: clients
// verify the server's chain and its SPIFFE node identity of the expected
// region (security::MakeChannelCredentials), the server verifies the client's,
// so full mutual TLS holds over plain IP addresses.
//
// RUTA_NETEM_TEST_FALLBACK_PROXY=1 (a development aid for machines without
// sch_netem, never set in CI): instead of skipping, the 300 ms delay is
// added by a FaultProxy inside each node's namespace on its relay connection
// (no loss); the link flaps are the same. The output says so loudly.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "gtest/gtest.h"
#include "ruta/testing/fault_proxy.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/testing/pki.h"
#include "ruta/testing/subprocess.h"
#include "ruta/v1/admin.grpc.pb.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta {
namespace {

using testing::BackgroundProcess;
using testing::DevPki;
using testing::FaultProxy;
using testing::OfficeClient;
using testing::ProcessResult;

constexpr char kCusco[] = "cusco";
constexpr char kMdd[] = "madre-de-dios";
constexpr char kCuscoProvince[] = "0801";

constexpr int kTransfers = 100;
constexpr int kConcurrency = 20;
constexpr int kNodePort = 7443;
constexpr int kProxyPort = 7444;  // fallback mode only
// The link: tc netem on both ends of the nodes' veth pair.
constexpr char kNetemDelay[] = "300ms";
constexpr char kNetemLoss[] = "5%";
// Flaps: the link goes down kFlapDown after kFlapUp of service, at most
// kFlaps times, while transfers are running.
constexpr int kFlaps = 3;
constexpr absl::Duration kFlapUp = absl::Seconds(5);
constexpr absl::Duration kFlapDown = absl::Seconds(4);
// Budgets: one step's wait for the other node, the whole transfer phase
// (the test stays within about 3 minutes even when something is stuck).
constexpr absl::Duration kStepTimeout = absl::Seconds(90);
constexpr absl::Duration kTransfersBudget = absl::Seconds(150);
constexpr absl::Duration kDrainTimeout = absl::Seconds(60);

struct Tools {
  std::string ip, tc, unshare, nsenter, setpriv;
};

// The absolute path of `name` in the usual system directories ("" if none).
std::string FindTool(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/sbin", "/usr/bin", "/bin"}) {
    const std::string path = absl::StrCat(dir, "/", name);
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return "";
}

int ThreadCount() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry :
       std::filesystem::directory_iterator("/proc/self/task")) {
    ++n;
  }
  return n;
}

std::string Describe(const std::vector<std::string>& argv,
                     const ProcessResult& r) {
  return absl::StrCat("`", absl::StrJoin(argv, " "), "` exited ", r.exit_code,
                      r.timed_out ? " (timed out)" : "", ": ",
                      absl::StripTrailingAsciiWhitespace(r.err + r.out));
}

// Runs argv (argv[0] an absolute path); OK, or the command and its output.
absl::Status Run(const std::vector<std::string>& argv) {
  const ProcessResult r = testing::RunProcess(argv, absl::Seconds(20));
  if (r.exit_code == 0) return absl::OkStatus();
  return absl::InternalError(Describe(argv, r));
}

// Probes what the test needs and moves the test process into a private
// network namespace. Returns why the test cannot run here ("" if it can);
// `netem` tells whether tc netem works (false only when the fallback was
// asked for, otherwise its absence is a reason).
std::string ProbeAndIsolate(const Tools& tools, bool fallback_allowed,
                            bool* netem) {
  for (const auto& [name, path] :
       {std::pair<const char*, const std::string*>{"ip", &tools.ip},
        {"tc", &tools.tc},
        {"unshare", &tools.unshare},
        {"nsenter", &tools.nsenter},
        {"setpriv", &tools.setpriv}}) {
    if (path->empty()) return absl::StrCat("the `", name, "` tool is missing");
  }
  if (::unshare(CLONE_NEWNET) != 0) {
    return absl::StrCat("cannot create a network namespace: unshare(",
                        "CLONE_NEWNET): ", std::strerror(errno),
                        " (needs root / CAP_SYS_ADMIN; euid ", ::geteuid(),
                        ")");
  }
  if (absl::Status s = Run({tools.ip, "link", "set", "lo", "up"}); !s.ok()) {
    return absl::StrCat("cannot configure a network namespace: ", s.message());
  }
  if (absl::Status s = Run({tools.ip, "link", "add", "probe0", "type", "veth",
                            "peer", "name", "probe1"});
      !s.ok()) {
    return absl::StrCat("veth pairs are unavailable: ", s.message());
  }
  absl::Status s = Run({tools.tc, "qdisc", "add", "dev", "probe0", "root",
                        "netem", "delay", kNetemDelay, "loss", kNetemLoss});
  *netem = s.ok();
  (void)Run({tools.ip, "link", "del", "probe0"});
  if (!*netem && !fallback_allowed) {
    return absl::StrCat(
        "tc netem is unavailable (no sch_netem qdisc in this kernel?): ",
        s.message());
  }
  if (absl::Status u = Run({tools.unshare, "--net", "--", "/bin/true"});
      !u.ok()) {
    return absl::StrCat("cannot start a process in a new network namespace: ",
                        u.message());
  }
  return "";
}

// One node: a ruta-node process in a network namespace of its own.
struct NodeNs {
  std::string region;
  std::string wan_if, drv_if, drv_host_if;  // interface names
  std::string wan_ip, drv_ip, drv_host_ip;  // addresses (no prefix length)
  std::string dir;
  std::string config;
  std::unique_ptr<BackgroundProcess> process;

  std::string address() const { return absl::StrCat(drv_ip, ":", kNodePort); }
};

#define RETURN_IF(expr)                                \
  do {                                                 \
    if (absl::Status _s = (expr); !_s.ok()) return _s; \
  } while (0)

// The test's network: deletes the links it created in the test's namespace
// (which deletes their peers) and stops the nodes, whose namespaces and links
// then vanish with them, even when the test fails half way.
class Network final {
 public:
  explicit Network(Tools tools) : tools_(std::move(tools)) {}
  ~Network() {
    proxies_.clear();
    for (NodeNs* node : {&mdd_, &cusco_}) node->process.reset();
    for (const std::string& link : host_links_) {
      (void)Run({tools_.ip, "link", "del", link});
    }
  }
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  NodeNs& mdd() { return mdd_; }
  NodeNs& cusco() { return cusco_; }

  // Starts both nodes and wires them; with `netem` the wan link is impaired
  // by netem, otherwise by a delaying proxy on each relay connection.
  absl::Status Start(bool netem) {
    Name(mdd_, kMdd, "mdd", 1);
    Name(cusco_, kCusco, "cusco", 2);
    for (NodeNs* node : {&mdd_, &cusco_}) {
      const NodeNs& other = node == &mdd_ ? cusco_ : mdd_;
      node->dir = testing::MakeTempDir(absl::StrCat("netem-", node->region));
      testing::NodeSetup setup;
      setup.region = node->region;
      setup.data_dir = node->dir;
      setup.listen_address = absl::StrCat("0.0.0.0:", kNodePort);
      setup.peers = {
          {other.region, netem ? absl::StrCat(other.wan_ip, ":", kNodePort)
                               : absl::StrCat("127.0.0.1:", kProxyPort)}};
      // Reconnect quickly after a flap; declare the link dead well after a
      // lossy round trip (600 ms plus retransmissions).
      setup.relay_initial_backoff_ms = 200;
      setup.relay_max_backoff_ms = 2000;
      setup.relay_ack_timeout_ms = 6000;
      node->config = testing::WriteNodeConfig(DevPki::Get(), setup);
      node->process = std::make_unique<BackgroundProcess>(
          std::vector<std::string>{
              tools_.unshare, "--net", "--", tools_.setpriv, "--pdeathsig",
              "KILL", "--", testing::NodeBinary(), "--config", node->config},
          node->dir + "/node");
    }
    for (NodeNs* node : {&mdd_, &cusco_}) {
      const int port =
          testing::WaitForPortFile(node->dir + "/port", absl::Seconds(30));
      if (port != kNodePort) {
        return absl::InternalError(
            absl::StrCat(node->region, " did not start (port ", port, "):\n",
                         node->process->Stderr()));
      }
    }

    // The nodes' link, and one driver link per node.
    RETURN_IF(Link(mdd_.wan_if, cusco_.wan_if, mdd_.wan_if));
    RETURN_IF(Ip(0, {"link", "set", mdd_.wan_if, "netns", Pid(mdd_)}));
    RETURN_IF(Ip(0, {"link", "set", cusco_.wan_if, "netns", Pid(cusco_)}));
    for (NodeNs* node : {&mdd_, &cusco_}) {
      RETURN_IF(Link(node->drv_host_if, node->drv_if, node->drv_host_if));
      RETURN_IF(Ip(0, {"link", "set", node->drv_if, "netns", Pid(*node)}));
      RETURN_IF(Ip(0, {"addr", "add", node->drv_host_ip + "/30", "dev",
                       node->drv_host_if}));
      RETURN_IF(Ip(0, {"link", "set", node->drv_host_if, "up"}));
      const pid_t pid = node->process->pid();
      RETURN_IF(Ip(pid, {"link", "set", "lo", "up"}));
      RETURN_IF(
          Ip(pid, {"addr", "add", node->drv_ip + "/30", "dev", node->drv_if}));
      RETURN_IF(Ip(pid, {"link", "set", node->drv_if, "up"}));
      RETURN_IF(
          Ip(pid, {"addr", "add", node->wan_ip + "/30", "dev", node->wan_if}));
      RETURN_IF(Ip(pid, {"link", "set", node->wan_if, "up"}));
      if (netem) {
        RETURN_IF(
            InNs(pid, {tools_.tc, "qdisc", "add", "dev", node->wan_if, "root",
                       "netem", "delay", kNetemDelay, "loss", kNetemLoss}));
      } else {
        const NodeNs& other = node == &mdd_ ? cusco_ : mdd_;
        absl::StatusOr<std::unique_ptr<FaultProxy>> proxy =
            StartProxyIn(pid, absl::StrCat(other.wan_ip, ":", kNodePort));
        if (!proxy.ok()) return proxy.status();
        (*proxy)->SetDelay(absl::Milliseconds(300));
        proxies_.push_back(*std::move(proxy));
      }
    }
    return absl::OkStatus();
  }

  // Takes the nodes' link down (on the Madre de Dios side; the Cusco end
  // loses its carrier) or brings it back up.
  absl::Status SetLink(bool up) {
    return Ip(mdd_.process->pid(),
              {"link", "set", mdd_.wan_if, up ? "up" : "down"});
  }

  // `tc -s qdisc show` of both ends of the nodes' link.
  std::string QdiscStats() {
    std::string out;
    for (NodeNs* node : {&mdd_, &cusco_}) {
      const std::vector<std::string> argv = {
          tools_.nsenter, "-t",    Pid(*node), "-n",  tools_.tc,
          "-s",           "qdisc", "show",     "dev", node->wan_if};
      const ProcessResult r = testing::RunProcess(argv, absl::Seconds(20));
      absl::StrAppend(&out, node->region, " ", node->wan_if, ": ", r.out,
                      r.err);
    }
    return out;
  }

  // Stops both nodes with SIGTERM; their exit codes.
  std::vector<int> Stop() {
    proxies_.clear();
    std::vector<int> codes;
    for (NodeNs* node : {&mdd_, &cusco_}) {
      codes.push_back(node->process->Stop(SIGTERM, absl::Seconds(20)));
    }
    return codes;
  }

 private:
  // Interfaces <kind>-<tag>, wan address 10.77.0.<n>, driver link
  // 10.77.<n>.0/30 (host .1, node .2).
  static void Name(NodeNs& node, const std::string& region,
                   const std::string& tag, int n) {
    node.region = region;
    node.wan_if = "wan-" + tag;
    node.drv_if = "drv-" + tag;
    node.drv_host_if = "drv-" + tag + "-h";
    node.wan_ip = absl::StrCat("10.77.0.", n);
    node.drv_ip = absl::StrCat("10.77.", n, ".2");
    node.drv_host_ip = absl::StrCat("10.77.", n, ".1");
  }

  static std::string Pid(const NodeNs& node) {
    return std::to_string(node.process->pid());
  }

  // A veth pair in the test's namespace; `remember` is deleted by the
  // destructor (a no-op once it moved to a node's namespace).
  absl::Status Link(const std::string& a, const std::string& b,
                    const std::string& remember) {
    RETURN_IF(Ip(0, {"link", "add", a, "type", "veth", "peer", "name", b}));
    host_links_.push_back(remember);
    return absl::OkStatus();
  }

  // `ip args` in the network namespace of process `pid` (0: the test's).
  absl::Status Ip(pid_t pid, std::vector<std::string> args) {
    args.insert(args.begin(), tools_.ip);
    return pid == 0 ? Run(args) : InNs(pid, std::move(args));
  }
  absl::Status InNs(pid_t pid, std::vector<std::string> argv) {
    const std::vector<std::string> prefix = {tools_.nsenter, "-t",
                                             std::to_string(pid), "-n"};
    argv.insert(argv.begin(), prefix.begin(), prefix.end());
    return Run(argv);
  }

  // A FaultProxy listening on 127.0.0.1:kProxyPort inside the network
  // namespace of `pid`: it is started by a thread that joined that namespace,
  // and its own threads (created by that one) stay in it.
  static absl::StatusOr<std::unique_ptr<FaultProxy>> StartProxyIn(
      pid_t pid, const std::string& upstream) {
    absl::StatusOr<std::unique_ptr<FaultProxy>> proxy =
        absl::InternalError("not started");
    std::thread([&] {
      const std::string path = absl::StrCat("/proc/", pid, "/ns/net");
      const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
      if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
        proxy = absl::InternalError(
            absl::StrCat("setns ", path, ": ", std::strerror(errno)));
      } else {
        testing::FaultProxyOptions options;
        options.upstream = upstream;
        options.listen_port = kProxyPort;
        proxy = FaultProxy::Start(options);
      }
      if (fd >= 0) ::close(fd);
    }).join();
    return proxy;
  }

  const Tools tools_;
  NodeNs mdd_;
  NodeNs cusco_;
  std::vector<std::string> host_links_;
  std::vector<std::unique_ptr<FaultProxy>> proxies_;
};
#undef RETURN_IF

int Occurrences(const std::string& text, const std::string& word) {
  int n = 0;
  for (size_t at = text.find(word); at != std::string::npos;
       at = text.find(word, at + word.size())) {
    ++n;
  }
  return n;
}

std::string StateName(v1::TransferState state) {
  return v1::TransferState_Name(state);
}

// Polls `office` until the transfer is in `state` (any state when
// UNSPECIFIED), every 250 ms, until `deadline`.
absl::StatusOr<v1::Transfer> Await(OfficeClient& office,
                                   const std::string& transfer_id,
                                   v1::TransferState state,
                                   absl::Time deadline) {
  absl::StatusOr<v1::Transfer> last;
  for (;;) {
    last = office.Get(transfer_id);
    if (last.ok() &&
        (state == v1::TRANSFER_STATE_UNSPECIFIED || last->state() == state)) {
      return last;
    }
    if (absl::Now() >= deadline) {
      return absl::DeadlineExceededError(absl::StrCat(
          "waiting for ", StateName(state), ": last seen ",
          last.ok() ? StateName(last->state()) : last.status().ToString()));
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
}

struct Outcome {
  std::string transfer_id;
  std::string case_id;
  std::string error;  // "" when the lifecycle completed
  absl::Duration took;
};

// The relay of `region`'s node has delivered everything to its peer.
absl::Status WaitDrained(const NodeNs& node, absl::Duration timeout) {
  auto admin = v1::Admin::NewStub(testing::MakeChannel(
      node.address(), DevPki::Get().Leaf(node.region, "admin", "operator"),
      node.region));
  const absl::Time until = absl::Now() + timeout;
  std::string last;
  for (;;) {
    v1::GetRelayStatusResponse status;
    auto ctx = testing::ContextWithDeadline();
    grpc::Status s =
        admin->GetRelayStatus(ctx.get(), v1::GetRelayStatusRequest(), &status);
    if (s.ok() && status.peers_size() == 1) {
      const v1::RelayStatus& peer = status.peers(0);
      last = absl::StrCat("last_sequence ", peer.last_sequence(),
                          ", acknowledged ", peer.acknowledged_sequence(),
                          peer.connected() ? ", connected" : ", disconnected");
      if (peer.last_sequence() > 0 &&
          peer.acknowledged_sequence() == peer.last_sequence() &&
          !peer.has_oldest_unacknowledged_at()) {
        return absl::OkStatus();
      }
    } else {
      last = s.ok() ? absl::StrCat(status.peers_size(), " peers")
                    : s.error_message();
    }
    if (absl::Now() >= until) {
      return absl::DeadlineExceededError(
          absl::StrCat(node.region, "'s relay not drained: ", last));
    }
    absl::SleepFor(absl::Milliseconds(250));
  }
}

TEST(NetemTest, HundredTransfersOverASlowLossyFlappingLinkConverge) {
  const absl::Time test_start = absl::Now();
  Tools tools{FindTool("ip"), FindTool("tc"), FindTool("unshare"),
              FindTool("nsenter"), FindTool("setpriv")};
  const char* fallback_env = std::getenv("RUTA_NETEM_TEST_FALLBACK_PROXY");
  const bool fallback_allowed =
      fallback_env != nullptr && std::string(fallback_env) == "1";
  // unshare(CLONE_NEWNET) moves the calling thread only: there must be no
  // other one yet (every later thread, gRPC's included, descends from it).
  ASSERT_EQ(ThreadCount(), 1) << "threads before unshare(CLONE_NEWNET)";
  bool netem = false;
  const std::string reason = ProbeAndIsolate(tools, fallback_allowed, &netem);
  if (!reason.empty()) GTEST_SKIP() << reason;
  const std::string impairment =
      netem ? absl::StrCat("tc netem delay ", kNetemDelay, " loss ", kNetemLoss,
                           " on both ends")
            : "FALLBACK (RUTA_NETEM_TEST_FALLBACK_PROXY=1, no netem here): "
              "300 ms proxy delay each way, NO loss";
  std::printf("netem_test: link impairment: %s\n", impairment.c_str());
  RecordProperty("impairment", impairment);

  (void)DevPki::Get();
  Network net(tools);
  absl::Status started = net.Start(netem);
  ASSERT_TRUE(started.ok()) << started;
  const absl::Time setup_done = absl::Now();

  OfficeClient mdd(net.mdd().address(), kMdd);
  OfficeClient cusco(net.cusco().address(), kCusco);
  for (OfficeClient* office : {&mdd, &cusco}) {
    office->set_attempts(3);
    office->set_deadline(absl::Seconds(15));
  }
  const uint64_t salt = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  // Case ids use RequestIdFor(salt, i*4 + 0..2) (OpenCaseInCare); the steps
  // of transfer i use kStepIds + i*4 + 0..3.
  constexpr uint64_t kStepIds = 1'000'000;

  // The flapper: the link goes down for kFlapDown after every kFlapUp while
  // transfers run, at most kFlaps times.
  absl::Notification transfers_done;
  std::atomic<int> flaps{0};
  std::string flap_error;
  std::thread flapper([&] {
    while (flaps.load() < kFlaps &&
           !transfers_done.WaitForNotificationWithTimeout(kFlapUp)) {
      const absl::Time down_at = absl::Now();
      absl::Status s = net.SetLink(false);
      absl::SleepFor(kFlapDown);
      absl::Status up = net.SetLink(true);
      if (!s.ok() || !up.ok()) {
        flap_error = !s.ok() ? s.ToString() : up.ToString();
        return;
      }
      ++flaps;
      std::printf("netem_test: link down for %s at +%s\n",
                  absl::FormatDuration(kFlapDown).c_str(),
                  absl::FormatDuration(absl::Trunc(down_at - setup_done,
                                                   absl::Milliseconds(100)))
                      .c_str());
    }
  });

  // The driver: kConcurrency workers walk kTransfers transfers.
  const absl::Time budget_end = absl::Now() + kTransfersBudget;
  std::vector<Outcome> outcomes(kTransfers);
  std::atomic<int> next{0};
  auto run_one = [&](int i) {
    Outcome& o = outcomes[i];
    const absl::Time start = absl::Now();
    auto step_deadline = [&] {
      return std::min(absl::Now() + kStepTimeout, budget_end);
    };
    auto rid = [&](int k) {
      return testing::RequestIdFor(salt, kStepIds + i * 4 + k);
    };
    auto fail = [&](const std::string& step, const absl::Status& s) {
      o.error = absl::StrCat(step, ": ", s.ToString());
    };
    absl::StatusOr<v1::Case> c = mdd.OpenCaseInCare(salt, i);
    if (!c.ok()) return fail("open case", c.status());
    o.case_id = c->case_id();
    absl::StatusOr<v1::Transfer> t =
        mdd.Request(rid(0), o.case_id, kCusco, kCuscoProvince);
    if (!t.ok()) return fail("request", t.status());
    o.transfer_id = t->transfer_id();
    t = Await(cusco, o.transfer_id, v1::TRANSFER_STATE_UNSPECIFIED,
              step_deadline());
    if (!t.ok()) return fail("cusco learns the request", t.status());
    t = cusco.Accept(rid(1), o.transfer_id);
    if (!t.ok()) return fail("accept", t.status());
    t = Await(mdd, o.transfer_id, v1::TRANSFER_STATE_ACCEPTED, step_deadline());
    if (!t.ok()) return fail("madre-de-dios learns the acceptance", t.status());
    t = mdd.Depart(rid(2), o.transfer_id);
    if (!t.ok()) return fail("depart", t.status());
    t = Await(cusco, o.transfer_id, v1::TRANSFER_STATE_IN_TRANSIT,
              step_deadline());
    if (!t.ok()) return fail("cusco learns the departure", t.status());
    t = cusco.Receive(rid(3), o.transfer_id);
    if (!t.ok()) return fail("receive", t.status());
    if (t->state() != v1::TRANSFER_STATE_RECEIVED) {
      return fail("receive", absl::InternalError(StateName(t->state())));
    }
    o.took = absl::Now() - start;
  };
  std::vector<std::thread> workers;
  for (int w = 0; w < kConcurrency; ++w) {
    workers.emplace_back([&] {
      for (int i = next++; i < kTransfers; i = next++) {
        if (absl::Now() >= budget_end) {
          outcomes[i].error = "not started: transfer budget exhausted";
          continue;
        }
        run_one(i);
      }
    });
  }
  for (std::thread& worker : workers) worker.join();
  const absl::Time transfers_end = absl::Now();
  const int flaps_during_transfers = flaps.load();
  transfers_done.Notify();
  flapper.join();
  ASSERT_TRUE(flap_error.empty()) << "flapping the link: " << flap_error;

  std::vector<std::string> errors;
  std::vector<absl::Duration> took;
  for (int i = 0; i < kTransfers; ++i) {
    if (!outcomes[i].error.empty()) {
      errors.push_back(absl::StrCat("#", i, " ", outcomes[i].transfer_id, " ",
                                    outcomes[i].error));
    } else {
      took.push_back(outcomes[i].took);
    }
  }
  std::sort(took.begin(), took.end());
  const absl::Duration transfers_phase = transfers_end - setup_done;
  std::printf(
      "netem_test: %d/%d transfers completed in %s (%d at a time), %d link "
      "flaps meanwhile; per transfer median %s, max %s\n",
      static_cast<int>(took.size()), kTransfers,
      absl::FormatDuration(absl::Trunc(transfers_phase, absl::Seconds(1)))
          .c_str(),
      kConcurrency, flaps_during_transfers,
      took.empty() ? "-"
                   : absl::FormatDuration(absl::Trunc(took[took.size() / 2],
                                                      absl::Milliseconds(100)))
                         .c_str(),
      took.empty() ? "-"
                   : absl::FormatDuration(
                         absl::Trunc(took.back(), absl::Milliseconds(100)))
                         .c_str());
  ASSERT_TRUE(errors.empty())
      << errors.size() << " transfers failed, e.g.:\n"
      << absl::StrJoin(errors.begin(),
                       errors.begin() + std::min<size_t>(errors.size(), 10),
                       "\n");
  // The link did flap under the transfers, not only around them.
  EXPECT_GE(flaps_during_transfers, 2);

  // Both relays deliver everything (the last events, e.g. RECEIVED to Madre
  // de Dios, may still be in flight).
  for (NodeNs* node : {&net.mdd(), &net.cusco()}) {
    absl::Status drained = WaitDrained(*node, kDrainTimeout);
    EXPECT_TRUE(drained.ok()) << drained;
  }

  // Both nodes agree on every transfer and on the custody of every case.
  int checked = 0;
  for (const Outcome& o : outcomes) {
    absl::StatusOr<v1::Transfer> at_mdd = mdd.Get(o.transfer_id);
    absl::StatusOr<v1::Transfer> at_cusco = cusco.Get(o.transfer_id);
    ASSERT_TRUE(at_mdd.ok()) << o.transfer_id << ": " << at_mdd.status();
    ASSERT_TRUE(at_cusco.ok()) << o.transfer_id << ": " << at_cusco.status();
    for (const v1::Transfer* t : {&*at_mdd, &*at_cusco}) {
      EXPECT_EQ(t->state(), v1::TRANSFER_STATE_RECEIVED) << o.transfer_id;
      EXPECT_EQ(t->version(), 4) << o.transfer_id;
      EXPECT_EQ(t->case_id(), o.case_id);
      EXPECT_EQ(t->from_region(), kMdd);
      EXPECT_EQ(t->to_region(), kCusco);
      EXPECT_EQ(t->destination_province(), kCuscoProvince);
    }
    EXPECT_EQ(at_mdd->received_on().day(), at_cusco->received_on().day());
    EXPECT_EQ(at_mdd->departed_on().day(), at_cusco->departed_on().day());
    for (OfficeClient* office : {&mdd, &cusco}) {
      absl::StatusOr<v1::Case> c = office->GetCase(o.case_id);
      ASSERT_TRUE(c.ok()) << o.case_id << ": " << c.status();
      EXPECT_EQ(c->owner_region(), kCusco) << o.case_id;
      EXPECT_EQ(c->stage(), v1::STAGE_RECEIVED) << o.case_id;
    }
    ++checked;
  }
  EXPECT_EQ(checked, kTransfers);
  // And neither knows of any other transfer.
  for (OfficeClient* office : {&mdd, &cusco}) {
    absl::StatusOr<std::vector<v1::Transfer>> all = office->ListAll();
    ASSERT_TRUE(all.ok()) << all.status();
    EXPECT_EQ(all->size(), static_cast<size_t>(kTransfers));
    for (const v1::Transfer& t : *all) {
      EXPECT_EQ(t.state(), v1::TRANSFER_STATE_RECEIVED) << t.transfer_id();
    }
  }

  const std::string stats = net.QdiscStats();
  std::printf("netem_test: qdisc after the run:\n%s", stats.c_str());
  if (netem) {
    // The impairment survived the flaps on both ends.
    EXPECT_EQ(Occurrences(stats, "qdisc netem"), 2) << stats;
  }

  const std::vector<int> codes = net.Stop();
  EXPECT_EQ(codes, (std::vector<int>{0, 0}))
      << "both nodes exit cleanly on SIGTERM";
  std::printf(
      "netem_test: total %s (setup %s, transfers %s, checks and shutdown "
      "%s)\n",
      absl::FormatDuration(
          absl::Trunc(absl::Now() - test_start, absl::Seconds(1)))
          .c_str(),
      absl::FormatDuration(
          absl::Trunc(setup_done - test_start, absl::Milliseconds(100)))
          .c_str(),
      absl::FormatDuration(absl::Trunc(transfers_phase, absl::Seconds(1)))
          .c_str(),
      absl::FormatDuration(
          absl::Trunc(absl::Now() - transfers_end, absl::Seconds(1)))
          .c_str());
}

}  // namespace
}  // namespace ruta
