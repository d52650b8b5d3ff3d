// A region office's CaseOffice client for tests and drivers: opens cases and
// walks transfers through their lifecycle over real mutual TLS, retrying
// UNAVAILABLE and DEADLINE_EXCEEDED with the same request_id (so a retry
// never has a second effect), each attempt under a deadline.
#ifndef RUTA_TESTING_OFFICE_CLIENT_H_
#define RUTA_TESTING_OFFICE_CLIENT_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/testing/pki.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta::testing {

// A canonical UUID made from `n` and a `salt` (distinct per driver run).
std::string RequestIdFor(uint64_t salt, uint64_t n);

class OfficeClient final {
 public:
  // The office of `region` (DevPki::Office) talking to the node at
  // `address`, which must present a node identity of `region`.
  OfficeClient(const std::string& address, const std::string& region,
               const DevPki& pki = DevPki::Get());
  // The same with an explicit client identity.
  OfficeClient(const std::string& address, const std::string& region,
               const KeyPair& identity);
  OfficeClient(const OfficeClient&) = delete;
  OfficeClient& operator=(const OfficeClient&) = delete;

  // Attempts of each call (UNAVAILABLE, DEADLINE_EXCEEDED retried after a
  // short pause) and the deadline of each attempt. Defaults 1 and 10 s.
  void set_attempts(int attempts) { attempts_ = attempts; }
  void set_deadline(absl::Duration deadline) { deadline_ = deadline; }
  // Whether each attempt waits (up to its deadline) for the node to be
  // reachable instead of failing at once while the channel reconnects.
  // Default false. A driver that retries against nodes being restarted
  // wants true: with gRPC's synchronous API, a connection attempt only
  // progresses while some call polls for it, so fail-fast attempts that
  // sleep between retries leave it to gRPC's 5 s backup poller.
  void set_wait_for_ready(bool wait) { wait_for_ready_ = wait; }

  // Opens a victim case (VictimOpenCaseRequest, no identifiers) and moves it
  // to RESIDENTIAL_CARE, the stage a transfer starts from. Request ids are
  // RequestIdFor(salt, n*4 + 0..2).
  absl::StatusOr<v1::Case> OpenCaseInCare(uint64_t salt, uint64_t n);

  absl::StatusOr<v1::Transfer> Request(const std::string& request_id,
                                       const std::string& case_id,
                                       const std::string& to_region,
                                       const std::string& province);
  absl::StatusOr<v1::Transfer> Accept(const std::string& request_id,
                                      const std::string& transfer_id);
  absl::StatusOr<v1::Transfer> Reject(const std::string& request_id,
                                      const std::string& transfer_id,
                                      v1::RejectReason reason);
  absl::StatusOr<v1::Transfer> Depart(const std::string& request_id,
                                      const std::string& transfer_id);
  absl::StatusOr<v1::Transfer> Receive(const std::string& request_id,
                                       const std::string& transfer_id);
  absl::StatusOr<v1::Transfer> Cancel(const std::string& request_id,
                                      const std::string& transfer_id);
  absl::StatusOr<v1::Transfer> Get(const std::string& transfer_id);
  absl::StatusOr<v1::Case> GetCase(const std::string& case_id);
  // Every transfer involving the region (all pages).
  absl::StatusOr<std::vector<v1::Transfer>> ListAll();

  // Polls Get until `done(transfer)` holds or `timeout` passes; returns the
  // last transfer read (or the last error).
  absl::StatusOr<v1::Transfer> WaitFor(
      const std::string& transfer_id,
      const std::function<bool(const v1::Transfer&)>& done,
      absl::Duration timeout = absl::Seconds(20));

  v1::CaseOffice::Stub& stub() { return *stub_; }

 private:
  // Runs `call` until it succeeds, fails otherwise, or attempts run out.
  absl::Status Call(
      const std::function<grpc::Status(grpc::ClientContext*)>& call);

  std::unique_ptr<v1::CaseOffice::Stub> stub_;
  int attempts_ = 1;
  absl::Duration deadline_ = absl::Seconds(10);
  bool wait_for_ready_ = false;
};

}  // namespace ruta::testing

#endif  // RUTA_TESTING_OFFICE_CLIENT_H_
