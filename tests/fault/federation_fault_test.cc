// Transfers between two real ruta-node processes (Cusco and Madre de Dios)
// while a seeded schedule of faults hits them and the links between them:
// SIGKILL and restart of either node, connections cut, black-holed,
// half-open, delayed or refused. Every federation byte crosses a FaultProxy
// (one per direction). At the end, with the faults healed and both relays
// drained, the two SQLite databases are compared record by record: no
// transfer lost, none duplicated, none divergent (DESIGN.md section 7).
//
// Flags (see tests/fault/README.md): --schedules N, --transfers N, and the
// environment variables RUTA_FAULT_SEED, RUTA_FAULT_SCHEDULES,
// RUTA_FAULT_TRANSFERS, RUTA_FAULT_CONCURRENCY.
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "fault_support.h"
#include "gtest/gtest.h"
#include "ruta/testing/fault_proxy.h"
#include "ruta/testing/node.h"
#include "ruta/testing/office_client.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta::fault {
namespace {

using testing::FaultProxy;
using testing::OfficeClient;
using testing::RequestIdFor;

// Set by main from argv or the environment.
int g_schedules = 1;
int g_transfers = 1000;

// What the driver does with one transfer.
enum class Plan {
  kComplete,         // request, accept, depart, receive
  kReject,           // request, reject
  kCancelRequested,  // request, cancel
  kCancelAccepted,   // request, accept, cancel
  kCancelRace,       // request, then accept and cancel at the same time
};

const char* PlanName(Plan plan) {
  switch (plan) {
    case Plan::kComplete:
      return "complete";
    case Plan::kReject:
      return "reject";
    case Plan::kCancelRequested:
      return "cancel-requested";
    case Plan::kCancelAccepted:
      return "cancel-accepted";
    case Plan::kCancelRace:
      return "cancel-race";
  }
  return "?";
}

v1::TransferState FinalStateOf(Plan plan) {
  switch (plan) {
    case Plan::kComplete:
      return v1::TRANSFER_STATE_RECEIVED;
    case Plan::kReject:
      return v1::TRANSFER_STATE_REJECTED;
    default:
      return v1::TRANSFER_STATE_CANCELLED;
  }
}

// The stage a transferred case is in when its transfer is in `state` (it
// was in RESIDENTIAL_CARE when the transfer was requested).
v1::Stage CaseStageFor(int state) {
  switch (state) {
    case v1::TRANSFER_STATE_REQUESTED:
    case v1::TRANSFER_STATE_ACCEPTED:
      return v1::STAGE_TRANSFER_REQUESTED;
    case v1::TRANSFER_STATE_IN_TRANSIT:
      return v1::STAGE_IN_TRANSIT;
    case v1::TRANSFER_STATE_RECEIVED:
      return v1::STAGE_RECEIVED;
    default:
      return v1::STAGE_RESIDENTIAL_CARE;
  }
}

// One transfer of the driver and what it learned about it.
struct Drive {
  int index = 0;
  Plan plan = Plan::kComplete;
  std::string sender;
  std::string receiver;
  // kCancelRequested: cancel before the receiver is known to have the
  // request (its events then arrive in one go).
  bool early_cancel = false;
  std::string case_id;
  std::string transfer_id;
  bool acknowledged = false;  // the request returned OK
  bool finished = false;      // every step returned what was expected
  bool race_accept_ok = false;
  std::string error;  // the first unexpected outcome
};

std::string Province(const std::string& region) {
  return region == kCusco ? kCuscoProvince : kMddProvince;
}

std::string StatusText(const absl::Status& status) {
  return absl::StrCat(absl::StatusCodeToString(status.code()), ": ",
                      status.message());
}

// Fact columns of a transfer: everything but updated_at_us.
constexpr char kTransferColumns[] =
    "transfer_id, case_id, from_region, to_region, destination_province, "
    "requested_services, state, requested_on, accepted_on, departed_on, "
    "received_on, rejected, reject_reason, reject_note, cancelled, "
    "cancel_note, version";

using Rows = std::map<std::string, std::vector<std::string>>;

// Rows of `sql` keyed by their first column.
absl::StatusOr<Rows> Keyed(Database& db, const std::string& sql) {
  absl::StatusOr<std::vector<std::vector<std::string>>> rows = db.Query(sql);
  if (!rows.ok()) return rows.status();
  Rows keyed;
  for (std::vector<std::string>& row : *rows) {
    std::string key = row.front();
    keyed[key] = std::move(row);
  }
  return keyed;
}

class FaultRun {
 public:
  FaultRun(uint64_t seed, int transfers, int concurrency)
      : seed_(seed), transfers_(transfers), concurrency_(concurrency) {}

  void Run() {
    start_ = absl::Now();
    StartEverything();
    if (::testing::Test::HasFatalFailure()) return;
    PlanDrives();

    absl::Notification faults_stop;
    std::thread faults([&] { FaultLoop(&faults_stop); });
    DriveAll();
    faults_stop.Notify();
    faults.join();
    const absl::Duration drive_time = absl::Now() - start_;

    Settle();
    if (::testing::Test::HasFatalFailure()) return;
    Compare();
    Log(absl::StrFormat(
        "schedule seed=%llu transfers=%d: driven in %.1f s, total %.1f s, "
        "%d faults, node starts cusco=%d madre-de-dios=%d",
        static_cast<unsigned long long>(seed_), transfers_,
        absl::ToDoubleSeconds(drive_time),
        absl::ToDoubleSeconds(absl::Now() - start_), faults_injected_,
        cusco_->starts(), mdd_->starts()));
    if (!::testing::Test::HasFailure() &&
        std::getenv("RUTA_FAULT_KEEP") == nullptr) {
      std::error_code ignored;
      std::filesystem::remove_all(cusco_->data_dir(), ignored);
      std::filesystem::remove_all(mdd_->data_dir(), ignored);
    } else {
      Log(absl::StrFormat("data and logs kept in %s and %s",
                          cusco_->data_dir().c_str(),
                          mdd_->data_dir().c_str()));
    }
  }

 private:
  void Log(const std::string& message) {
    std::printf("[fault +%.1fs] %s\n",
                absl::ToDoubleSeconds(absl::Now() - start_), message.c_str());
    std::fflush(stdout);
  }

  void StartEverything() {
    const int cusco_port = testing::PickFreePort();
    const int mdd_port = testing::PickFreePort();
    ASSERT_GT(cusco_port, 0);
    ASSERT_GT(mdd_port, 0);
    ASSERT_NE(cusco_port, mdd_port);
    for (auto [proxy, port] :
         {std::pair{&to_cusco_, cusco_port}, std::pair{&to_mdd_, mdd_port}}) {
      testing::FaultProxyOptions options;
      options.upstream = absl::StrCat("127.0.0.1:", port);
      absl::StatusOr<std::unique_ptr<FaultProxy>> started =
          FaultProxy::Start(options);
      ASSERT_TRUE(started.ok()) << started.status();
      *proxy = *std::move(started);
    }
    RelayTimings timings;
    cusco_ = std::make_unique<NodeProcess>(kCusco, cusco_port, kMdd,
                                           to_mdd_->address(), timings);
    mdd_ = std::make_unique<NodeProcess>(kMdd, mdd_port, kCusco,
                                         to_cusco_->address(), timings);
    for (NodeProcess* node : {cusco_.get(), mdd_.get()}) {
      absl::Status started = node->Start();
      ASSERT_TRUE(started.ok()) << started;
    }
    for (const auto& [region, node] :
         {std::pair{kCusco, cusco_.get()}, std::pair{kMdd, mdd_.get()}}) {
      auto office = std::make_unique<OfficeClient>(node->address(), region);
      office->set_attempts(200);
      office->set_deadline(absl::Seconds(5));
      office->set_wait_for_ready(true);
      offices_[region] = std::move(office);
    }
    salt_ = static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
  }

  void PlanDrives() {
    std::mt19937_64 random(seed_);
    std::uniform_int_distribution<int> percent(0, 99);
    drives_.resize(static_cast<size_t>(transfers_));
    for (int i = 0; i < transfers_; ++i) {
      Drive& d = drives_[static_cast<size_t>(i)];
      d.index = i;
      // A quarter of the transfers go from Cusco to Madre de Dios, so that
      // both relays carry requests and answers.
      const bool reverse = percent(random) < 25;
      d.sender = reverse ? kCusco : kMdd;
      d.receiver = reverse ? kMdd : kCusco;
      const int p = percent(random);
      d.plan = p < 70   ? Plan::kComplete
               : p < 85 ? Plan::kReject
               : p < 90 ? Plan::kCancelRequested
               : p < 95 ? Plan::kCancelAccepted
                        : Plan::kCancelRace;
      d.early_cancel = percent(random) < 50;
    }
  }

  void DriveAll() {
    std::atomic<int> next{0};
    std::atomic<int> done{0};
    std::vector<std::thread> workers;
    for (int w = 0; w < concurrency_; ++w) {
      workers.emplace_back([&] {
        while (true) {
          const int i = next.fetch_add(1);
          if (i >= transfers_) return;
          DriveOne(drives_[static_cast<size_t>(i)]);
          done.fetch_add(1);
        }
      });
    }
    absl::Time last_report = absl::Now();
    while (done.load() < transfers_) {
      absl::SleepFor(absl::Milliseconds(100));
      if (absl::Now() - last_report > absl::Seconds(5)) {
        last_report = absl::Now();
        Log(absl::StrFormat("driver: %d of %d transfers done", done.load(),
                            transfers_));
      }
    }
    for (std::thread& worker : workers) worker.join();
    int failed = 0;
    for (const Drive& d : drives_) {
      if (d.finished) continue;
      if (++failed <= 20) {
        ADD_FAILURE() << "transfer #" << d.index << " (" << PlanName(d.plan)
                      << ", " << d.sender << " -> " << d.receiver << ", "
                      << d.transfer_id << "): " << d.error;
      }
    }
    Log(absl::StrFormat("driver: %d transfers, %d failed", transfers_, failed));
  }

  // Records the first unexpected outcome of `d`; returns false.
  bool Fail(Drive& d, const std::string& what) {
    if (d.error.empty()) d.error = what;
    return false;
  }

  // A step's result: OK, in `state`.
  bool Check(Drive& d, const char* step,
             const absl::StatusOr<v1::Transfer>& result,
             v1::TransferState state) {
    if (!result.ok()) {
      return Fail(d, absl::StrCat(step, ": ", StatusText(result.status())));
    }
    if (result->state() != state) {
      return Fail(d,
                  absl::StrCat(step, ": state ",
                               v1::TransferState_Name(result->state()),
                               ", expected ", v1::TransferState_Name(state)));
    }
    return true;
  }

  // Waits until `region`'s node knows the transfer in `state` (any state
  // when unspecified).
  bool Await(Drive& d, const std::string& region, v1::TransferState state) {
    absl::StatusOr<v1::Transfer> t = offices_[region]->WaitFor(
        d.transfer_id,
        [state](const v1::Transfer& x) {
          return state == v1::TRANSFER_STATE_UNSPECIFIED || x.state() == state;
        },
        absl::Seconds(90));
    if (t.ok() &&
        (state == v1::TRANSFER_STATE_UNSPECIFIED || t->state() == state)) {
      return true;
    }
    return Fail(d, absl::StrCat("waited 90 s for ", region, " to know it as ",
                                v1::TransferState_Name(state), "; last read: ",
                                t.ok() ? v1::TransferState_Name(t->state())
                                       : StatusText(t.status())));
  }

  std::string Rid(const Drive& d, int step) {
    return RequestIdFor(salt_ + 1, static_cast<uint64_t>(d.index) * 8 + step);
  }

  void DriveOne(Drive& d) {
    OfficeClient& sender = *offices_[d.sender];
    OfficeClient& receiver = *offices_[d.receiver];
    absl::StatusOr<v1::Case> opened =
        sender.OpenCaseInCare(salt_, static_cast<uint64_t>(d.index));
    if (!opened.ok()) {
      Fail(d, absl::StrCat("open case: ", StatusText(opened.status())));
      return;
    }
    d.case_id = opened->case_id();
    absl::StatusOr<v1::Transfer> requested = sender.Request(
        RequestIdFor(salt_, static_cast<uint64_t>(d.index) * 4 + 3), d.case_id,
        d.receiver, Province(d.receiver));
    if (requested.ok()) {
      d.transfer_id = requested->transfer_id();
      d.acknowledged = true;
    }
    if (!Check(d, "request", requested, v1::TRANSFER_STATE_REQUESTED)) return;

    const v1::TransferState any = v1::TRANSFER_STATE_UNSPECIFIED;
    switch (d.plan) {
      case Plan::kComplete:
        if (!Await(d, d.receiver, any) ||
            !Check(d, "accept", receiver.Accept(Rid(d, 0), d.transfer_id),
                   v1::TRANSFER_STATE_ACCEPTED) ||
            !Await(d, d.sender, v1::TRANSFER_STATE_ACCEPTED) ||
            !Check(d, "depart", sender.Depart(Rid(d, 1), d.transfer_id),
                   v1::TRANSFER_STATE_IN_TRANSIT) ||
            !Await(d, d.receiver, v1::TRANSFER_STATE_IN_TRANSIT) ||
            !Check(d, "receive", receiver.Receive(Rid(d, 2), d.transfer_id),
                   v1::TRANSFER_STATE_RECEIVED) ||
            !Await(d, d.sender, v1::TRANSFER_STATE_RECEIVED)) {
          return;
        }
        break;
      case Plan::kReject:
        if (!Await(d, d.receiver, any) ||
            !Check(d, "reject",
                   receiver.Reject(Rid(d, 3), d.transfer_id,
                                   v1::REJECT_REASON_NO_CAPACITY),
                   v1::TRANSFER_STATE_REJECTED) ||
            !Await(d, d.sender, v1::TRANSFER_STATE_REJECTED)) {
          return;
        }
        break;
      case Plan::kCancelRequested:
        if ((!d.early_cancel && !Await(d, d.receiver, any)) ||
            !Check(d, "cancel", sender.Cancel(Rid(d, 4), d.transfer_id),
                   v1::TRANSFER_STATE_CANCELLED) ||
            !Await(d, d.receiver, v1::TRANSFER_STATE_CANCELLED)) {
          return;
        }
        break;
      case Plan::kCancelAccepted:
        if (!Await(d, d.receiver, any) ||
            !Check(d, "accept", receiver.Accept(Rid(d, 0), d.transfer_id),
                   v1::TRANSFER_STATE_ACCEPTED) ||
            !Await(d, d.sender, v1::TRANSFER_STATE_ACCEPTED) ||
            !Check(d, "cancel", sender.Cancel(Rid(d, 4), d.transfer_id),
                   v1::TRANSFER_STATE_CANCELLED) ||
            !Await(d, d.receiver, v1::TRANSFER_STATE_CANCELLED)) {
          return;
        }
        break;
      case Plan::kCancelRace: {
        if (!Await(d, d.receiver, any)) return;
        // The receiver accepts while the sender cancels: the receiver may
        // accept (it has not heard of the cancellation) or be refused
        // (it has); the cancellation always succeeds, and wins.
        absl::StatusOr<v1::Transfer> accepted;
        std::thread accept(
            [&] { accepted = receiver.Accept(Rid(d, 0), d.transfer_id); });
        absl::StatusOr<v1::Transfer> cancelled =
            sender.Cancel(Rid(d, 4), d.transfer_id);
        accept.join();
        if (accepted.ok()) {
          d.race_accept_ok = true;
          if (accepted->state() != v1::TRANSFER_STATE_ACCEPTED &&
              accepted->state() != v1::TRANSFER_STATE_CANCELLED) {
            Fail(d, absl::StrCat("racing accept: state ",
                                 v1::TransferState_Name(accepted->state())));
            return;
          }
        } else if (accepted.status().code() !=
                   absl::StatusCode::kFailedPrecondition) {
          Fail(d,
               absl::StrCat("racing accept: ", StatusText(accepted.status())));
          return;
        }
        if (!Check(d, "racing cancel", cancelled,
                   v1::TRANSFER_STATE_CANCELLED) ||
            !Await(d, d.receiver, v1::TRANSFER_STATE_CANCELLED)) {
          return;
        }
        break;
      }
    }
    d.finished = true;
  }

  // Waits up to `wait` unless `stop` is notified; false when stopping.
  static bool Pause(absl::Notification* stop, absl::Duration wait) {
    return !stop->WaitForNotificationWithTimeout(wait);
  }

  void FaultLoop(absl::Notification* stop) {
    std::mt19937_64 random(seed_ ^ 0x5deece66dULL);
    auto uniform_ms = [&random](int lo, int hi) {
      return absl::Milliseconds(
          std::uniform_int_distribution<int>(lo, hi)(random));
    };
    // The faults are dealt from a shuffled deck of every kind on either
    // side, so that a short run still sees different kinds; each deck
    // starts with a kill.
    std::vector<std::pair<int, bool>> deck;
    int only = -1;
    if (const char* text = std::getenv("RUTA_FAULT_ONLY")) {
      (void)absl::SimpleAtoi(text, &only);
    }
    while (Pause(stop, uniform_ms(1000, 3000))) {
      if (deck.empty()) {
        for (int k = 0; k < 6; ++k) {
          for (bool side : {false, true}) {
            if (only < 0 || k == only) deck.emplace_back(k, side);
          }
        }
        std::shuffle(deck.begin(), deck.end(), random);
        // Dealt from the back: a kill last.
        auto kill = std::find_if(deck.begin(), deck.end(),
                                 [](const auto& f) { return f.first == 0; });
        if (kill != deck.end()) std::iter_swap(kill, deck.end() - 1);
      }
      const auto [kind, cusco_side] = deck.back();
      deck.pop_back();
      NodeProcess& node = cusco_side ? *cusco_ : *mdd_;
      // The proxy that carries the node's stream to its peer.
      FaultProxy& proxy = cusco_side ? *to_mdd_ : *to_cusco_;
      const std::string link =
          cusco_side ? "cusco -> madre-de-dios" : "madre-de-dios -> cusco";
      ++faults_injected_;
      switch (kind) {
        case 0: {
          const absl::Duration down = uniform_ms(0, 1000);
          Log(absl::StrFormat(
              "kill -9 %s, restart after %lld ms", node.region().c_str(),
              static_cast<long long>(absl::ToInt64Milliseconds(down))));
          if (!node.Running()) {
            ADD_FAILURE() << node.region()
                          << " was not running when it was to be killed: it "
                             "died by itself\n"
                          << node.LogTail();
          }
          node.Kill();
          absl::SleepFor(down);
          absl::Status started = node.Start();
          if (!started.ok()) {
            ADD_FAILURE() << "restart: " << started;
            return;
          }
          break;
        }
        case 1:
          Log(absl::StrFormat("cut every connection of %s", link.c_str()));
          proxy.CutAll();
          break;
        case 2: {
          Log(absl::StrFormat("black hole on %s for 2 s", link.c_str()));
          proxy.SetBlackHole(true);
          Pause(stop, absl::Seconds(2));
          proxy.SetBlackHole(false);
          break;
        }
        case 3: {
          Log(absl::StrFormat("half-open %s for 2 s", link.c_str()));
          proxy.SetHalfOpen(true);
          Pause(stop, absl::Seconds(2));
          proxy.SetHalfOpen(false);
          break;
        }
        case 4: {
          const absl::Duration length = uniform_ms(2000, 4000);
          Log(absl::StrFormat(
              "300 ms delay on %s for %lld ms", link.c_str(),
              static_cast<long long>(absl::ToInt64Milliseconds(length))));
          proxy.SetDelay(absl::Milliseconds(300));
          Pause(stop, length);
          proxy.SetDelay(absl::ZeroDuration());
          break;
        }
        default: {
          Log(absl::StrFormat("cut %s and refuse new connections for 1 s",
                              link.c_str()));
          proxy.SetRefuseNew(true);
          proxy.CutAll();
          Pause(stop, absl::Seconds(1));
          proxy.SetRefuseNew(false);
          break;
        }
      }
    }
  }

  // Heals the links, checks both nodes are up, waits until both relays are
  // drained, and stops both nodes.
  void Settle() {
    to_cusco_->Heal();
    to_mdd_->Heal();
    for (NodeProcess* node : {cusco_.get(), mdd_.get()}) {
      if (!node->Running()) {
        ADD_FAILURE() << node->region() << " is not running: it died\n"
                      << node->LogTail();
        absl::Status started = node->Start();
        ASSERT_TRUE(started.ok()) << started;
      }
    }
    const absl::Time drain_start = absl::Now();
    for (NodeProcess* node : {cusco_.get(), mdd_.get()}) {
      absl::StatusOr<v1::RelayStatus> status =
          WaitDrained(*node, absl::Seconds(60));
      ASSERT_TRUE(status.ok()) << node->region() << ": " << status.status();
      Log(absl::StrFormat(
          "relay %s -> %s: last_sequence=%lld acknowledged=%lld connected=%d",
          node->region().c_str(), status->peer_region().c_str(),
          static_cast<long long>(status->last_sequence()),
          static_cast<long long>(status->acknowledged_sequence()),
          status->connected() ? 1 : 0));
      ASSERT_EQ(status->acknowledged_sequence(), status->last_sequence())
          << node->region() << "'s relay is stuck\n"
          << node->LogTail();
      ASSERT_TRUE(status->connected()) << node->region() << "\n"
                                       << node->LogTail();
    }
    Log(absl::StrFormat("both relays drained in %.1f s",
                        absl::ToDoubleSeconds(absl::Now() - drain_start)));
    // Both at once (each drains for up to its shutdown grace).
    int cusco_code = -1;
    std::thread stop_cusco([&] { cusco_code = cusco_->Terminate(); });
    const int mdd_code = mdd_->Terminate();
    stop_cusco.join();
    EXPECT_EQ(cusco_code, 0) << "cusco did not stop cleanly\n"
                             << cusco_->LogTail();
    EXPECT_EQ(mdd_code, 0) << "madre-de-dios did not stop cleanly\n"
                           << mdd_->LogTail();
    // An inbox refuses a batch only when an event breaks the authorship
    // rules or is malformed: never expected here, even if the relay's retry
    // got past it.
    for (NodeProcess* node : {cusco_.get(), mdd_.get()}) {
      const std::vector<std::string> refused = node->LogLines("was refused");
      const std::vector<std::string> errors = node->LogLines("[error]");
      Log(absl::StrFormat("%s: %d batches refused, %d error lines in %d runs",
                          node->region(), refused.size(), errors.size(),
                          node->starts()));
      for (size_t i = 0; i < errors.size() && i < 10; ++i) Log(errors[i]);
      EXPECT_TRUE(refused.empty()) << node->region() << " refused batches";
    }
  }

  void Compare() {
    std::map<std::string, std::unique_ptr<Database>> dbs;
    for (NodeProcess* node : {cusco_.get(), mdd_.get()}) {
      absl::StatusOr<std::unique_ptr<Database>> db =
          Database::Open(node->database());
      ASSERT_TRUE(db.ok()) << db.status();
      dbs[node->region()] = *std::move(db);
    }
    std::map<std::string, Rows> transfers;
    std::map<std::string, Rows> cases;
    for (auto& [region, db] : dbs) {
      absl::StatusOr<Rows> t = Keyed(
          *db, absl::StrCat("SELECT ", kTransferColumns, " FROM transfers"));
      ASSERT_TRUE(t.ok()) << t.status();
      transfers[region] = *std::move(t);
      absl::StatusOr<Rows> c =
          Keyed(*db, "SELECT case_id, owner_region, stage FROM cases");
      ASSERT_TRUE(c.ok()) << c.status();
      cases[region] = *std::move(c);
    }

    int lost = 0;
    int duplicated = 0;
    int divergent = 0;
    std::vector<std::string> problems;
    auto problem = [&problems](std::string text) {
      problems.push_back(std::move(text));
    };
    std::set<std::string> created;
    std::set<std::string> driven_cases;
    std::map<std::string, int> races_by_outcome;
    for (const Drive& d : drives_) {
      if (!d.case_id.empty()) driven_cases.insert(d.case_id);
      if (!d.acknowledged) continue;
      created.insert(d.transfer_id);
      const auto at_cusco = transfers[kCusco].find(d.transfer_id);
      const auto at_mdd = transfers[kMdd].find(d.transfer_id);
      if (at_cusco == transfers[kCusco].end() ||
          at_mdd == transfers[kMdd].end()) {
        ++lost;
        problem(absl::StrCat(
            "lost: ", d.transfer_id, " (", PlanName(d.plan), ") missing on ",
            at_cusco == transfers[kCusco].end() ? "cusco " : "",
            at_mdd == transfers[kMdd].end() ? "madre-de-dios" : ""));
        continue;
      }
      const std::vector<std::string>& row = at_cusco->second;
      int state = 0;
      (void)absl::SimpleAtoi(row[6], &state);
      bool diverges = false;
      if (row != at_mdd->second) {
        diverges = true;
        problem(absl::StrCat("divergent: ", d.transfer_id, " cusco [",
                             absl::StrJoin(row, "|"), "] madre-de-dios [",
                             absl::StrJoin(at_mdd->second, "|"), "]"));
      }
      if (d.finished && state != FinalStateOf(d.plan)) {
        diverges = true;
        problem(absl::StrCat("wrong final state: ", d.transfer_id, " (",
                             PlanName(d.plan), ") is ",
                             v1::TransferState_Name(state), ", expected ",
                             v1::TransferState_Name(FinalStateOf(d.plan))));
      }
      if (d.plan == Plan::kCancelRace) {
        ++races_by_outcome[absl::StrCat(
            d.race_accept_ok ? "accept ok" : "accept refused", ", ",
            v1::TransferState_Name(state))];
      }
      // The case: same custody and stage on both nodes; custody moved to
      // the receiver iff the transfer was received.
      const auto case_cusco = cases[kCusco].find(d.case_id);
      const auto case_mdd = cases[kMdd].find(d.case_id);
      if (case_cusco == cases[kCusco].end() || case_mdd == cases[kMdd].end()) {
        diverges = true;
        problem(absl::StrCat("case ", d.case_id, " of ", d.transfer_id,
                             " is missing on a node"));
      } else {
        const bool received = state == v1::TRANSFER_STATE_RECEIVED;
        const std::string owner = received ? d.receiver : d.sender;
        const std::string stage = absl::StrCat(CaseStageFor(state));
        for (const auto& [region, found] :
             {std::pair{kCusco, case_cusco}, std::pair{kMdd, case_mdd}}) {
          if (found->second[1] != owner || found->second[2] != stage) {
            diverges = true;
            problem(absl::StrCat("case ", d.case_id, " of ", d.transfer_id,
                                 " (", v1::TransferState_Name(state), ") on ",
                                 region, ": owner ", found->second[1],
                                 " stage ", found->second[2],
                                 ", expected owner ", owner, " stage ", stage));
          }
        }
      }
      if (diverges) ++divergent;
    }
    // Transfers nobody asked for, or a second transfer of one case.
    for (auto& [region, rows] : transfers) {
      std::map<std::string, int> per_case;
      for (const auto& [id, row] : rows) {
        ++per_case[row[1]];
        if (created.count(id) == 0) {
          ++duplicated;
          problem(absl::StrCat("not created by the driver: ", id, " on ",
                               region, " (case ", row[1], ")"));
        }
      }
      for (const auto& [case_id, count] : per_case) {
        if (count > 1) {
          ++duplicated;
          problem(absl::StrCat("case ", case_id, " has ", count,
                               " transfers on ", region));
        }
      }
    }

    // The streams: each inbox applied exactly what the peer's outbox holds.
    for (const auto& [origin, destination] :
         {std::pair{kCusco, kMdd}, std::pair{kMdd, kCusco}}) {
      absl::StatusOr<int64_t> last = dbs[origin]->Int(absl::StrCat(
          "SELECT coalesce(max(sequence), 0) FROM outbox WHERE destination = '",
          destination, "'"));
      absl::StatusOr<int64_t> unstamped = dbs[origin]->Int(
          absl::StrCat("SELECT count(*) FROM outbox WHERE sequence IS NULL AND "
                       "destination = '",
                       destination, "'"));
      absl::StatusOr<int64_t> position = dbs[destination]->Int(absl::StrCat(
          "SELECT applied_through FROM inbox_positions WHERE origin = '",
          origin, "'"));
      absl::StatusOr<int64_t> events = dbs[destination]->Int(absl::StrCat(
          "SELECT count(*) FROM inbox_events WHERE origin = '", origin, "'"));
      ASSERT_TRUE(last.ok() && unstamped.ok() && position.ok() && events.ok());
      Log(absl::StrFormat(
          "stream %s -> %s: %lld events sent, %lld applied (%lld kept), %lld "
          "unstamped",
          origin, destination, static_cast<long long>(*last),
          static_cast<long long>(*position), static_cast<long long>(*events),
          static_cast<long long>(*unstamped)));
      EXPECT_EQ(*unstamped, 0);
      EXPECT_EQ(*position, *last) << origin << " -> " << destination;
      EXPECT_EQ(*events, *last) << origin << " -> " << destination;
    }

    for (const auto& [outcome, count] : races_by_outcome) {
      Log(absl::StrFormat("cancel races: %d with %s", count, outcome.c_str()));
    }
    for (size_t i = 0; i < problems.size() && i < 30; ++i) {
      Log(problems[i]);
    }
    std::printf("lost=%d duplicated=%d divergent=%d\n", lost, duplicated,
                divergent);
    std::fflush(stdout);
    EXPECT_EQ(lost, 0);
    EXPECT_EQ(duplicated, 0);
    EXPECT_EQ(divergent, 0);
    EXPECT_EQ(created.size(), static_cast<size_t>(transfers_))
        << "transfers the driver could not create";
  }

  const uint64_t seed_;
  const int transfers_;
  const int concurrency_;
  absl::Time start_;
  uint64_t salt_ = 0;
  std::unique_ptr<FaultProxy> to_cusco_;  // Madre de Dios' relay to Cusco
  std::unique_ptr<FaultProxy> to_mdd_;    // Cusco's relay to Madre de Dios
  std::unique_ptr<NodeProcess> cusco_;
  std::unique_ptr<NodeProcess> mdd_;
  std::map<std::string, std::unique_ptr<OfficeClient>> offices_;
  std::vector<Drive> drives_;
  int faults_injected_ = 0;
};

TEST(FederationFaultTest, TransfersSurviveKillsAndLinkFaults) {
  const uint64_t first_seed = SeedFrom("RUTA_FAULT_SEED");
  const int concurrency = IntFromEnv("RUTA_FAULT_CONCURRENCY", 24);
  for (int s = 0; s < g_schedules; ++s) {
    const uint64_t seed = first_seed + static_cast<uint64_t>(s);
    std::printf(
        "fault seed: %llu (schedule %d of %d, %d transfers, %d in "
        "flight; RUTA_FAULT_SEED=%llu replays it)\n",
        static_cast<unsigned long long>(seed), s + 1, g_schedules, g_transfers,
        concurrency, static_cast<unsigned long long>(seed));
    std::fflush(stdout);
    SCOPED_TRACE(absl::StrCat("fault seed: ", seed));
    FaultRun(seed, g_transfers, concurrency).Run();
    if (::testing::Test::HasFailure()) break;
  }
}

}  // namespace
}  // namespace ruta::fault

// Takes --schedules N and --transfers N (also --name=N) out of argv before
// GoogleTest sees it.
int main(int argc, char** argv) {
  ruta::fault::g_schedules = ruta::fault::IntFromEnv("RUTA_FAULT_SCHEDULES", 1);
  ruta::fault::g_transfers =
      ruta::fault::IntFromEnv("RUTA_FAULT_TRANSFERS", 1000);
  std::vector<char*> rest;
  for (int i = 0; i < argc; ++i) {
    const std::string arg = argv[i];
    int* target = nullptr;
    std::string value;
    for (const auto& [name, flag] :
         {std::pair{std::string("--schedules"), &ruta::fault::g_schedules},
          std::pair{std::string("--transfers"), &ruta::fault::g_transfers}}) {
      if (arg == name && i + 1 < argc) {
        target = flag;
        value = argv[++i];
      } else if (arg.rfind(name + "=", 0) == 0) {
        target = flag;
        value = arg.substr(name.size() + 1);
      }
    }
    if (target == nullptr) {
      rest.push_back(argv[i]);
      continue;
    }
    if (!absl::SimpleAtoi(value, target) || *target < 1) {
      std::fprintf(stderr, "%s: expects a positive number, got \"%s\"\n",
                   arg.c_str(), value.c_str());
      return 2;
    }
  }
  int rest_count = static_cast<int>(rest.size());
  rest.push_back(nullptr);
  ::testing::InitGoogleTest(&rest_count, rest.data());
  return RUN_ALL_TESTS();
}
