// What the console asks of its region's node: the CaseOffice calls it makes,
// each on behalf of one clerk. NodeOfficeBackend is the real one (gRPC over
// mutual TLS with the office's certificate); tests use fakes.
#ifndef RUTA_CONSOLE_OFFICE_BACKEND_H_
#define RUTA_CONSOLE_OFFICE_BACKEND_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/v1/case_office.grpc.pb.h"

// The CaseOffice calls the console makes, as an X-macro: X(Method) for each.
#define RUTA_CONSOLE_OFFICE_METHODS(X) \
  X(OpenCase)                          \
  X(FindPerson)                        \
  X(GetCase)                           \
  X(ListCases)                         \
  X(UpdateStage)                       \
  X(CloseCase)                         \
  X(ReferCase)                         \
  X(RequestTransfer)                   \
  X(AcceptTransfer)                    \
  X(RejectTransfer)                    \
  X(DepartTransfer)                    \
  X(ReceiveTransfer)                   \
  X(CancelTransfer)                    \
  X(ListTransfers)                     \
  X(AddService)                        \
  X(UpdateService)                     \
  X(ListServices)                      \
  X(RecordActivity)                    \
  X(ListActivities)

namespace ruta::console {

// Every method is one CaseOffice call made for `clerk` (an account name of
// the console, sent as the x-ruta-clerk metadata so that the node's audit
// records "office X on behalf of clerk Y"). The status carries the gRPC code
// (same numbering as absl::StatusCode) and the node's message. Implementations
// are called from the web server's worker threads, concurrently, and each
// call ends within a deadline.
class OfficeBackend {
 public:
  virtual ~OfficeBackend() = default;

#define RUTA_CONSOLE_OFFICE_CALL(Method)               \
  virtual absl::StatusOr<v1::Method##Response> Method( \
      const std::string& clerk, const v1::Method##Request& request) = 0;
  RUTA_CONSOLE_OFFICE_METHODS(RUTA_CONSOLE_OFFICE_CALL)
#undef RUTA_CONSOLE_OFFICE_CALL
};

// The node's CaseOffice service over mutual TLS with the office's client
// certificate. One channel, reused by every call; each call has a deadline
// and does not wait for a connection (an unreachable node fails fast with
// UNAVAILABLE, which the console shows plainly).
class NodeOfficeBackend final : public OfficeBackend {
 public:
  struct Options {
    // host:port of the node. Required.
    std::string address;
    // The region whose node identity the node must present. Required.
    std::string node_region;
    // PEM roots the node's certificate must chain to. Required.
    std::string ca_file;
    // The office's client certificate chain and key
    // (spiffe://<region>.ruta.pe/office/<name>). Required.
    std::string cert_file;
    std::string key_file;
    // Deadline of each call.
    absl::Duration deadline = absl::Seconds(5);
  };
  // FAILED_PRECONDITION naming a TLS file that is missing or unreadable.
  static absl::StatusOr<std::unique_ptr<NodeOfficeBackend>> Create(
      const Options& options);
  NodeOfficeBackend(const NodeOfficeBackend&) = delete;
  NodeOfficeBackend& operator=(const NodeOfficeBackend&) = delete;

#define RUTA_CONSOLE_OFFICE_CALL(Method)       \
  absl::StatusOr<v1::Method##Response> Method( \
      const std::string& clerk, const v1::Method##Request& request) override;
  RUTA_CONSOLE_OFFICE_METHODS(RUTA_CONSOLE_OFFICE_CALL)
#undef RUTA_CONSOLE_OFFICE_CALL

 private:
  NodeOfficeBackend(std::unique_ptr<v1::CaseOffice::Stub> stub,
                    absl::Duration deadline)
      : stub_(std::move(stub)), deadline_(deadline) {}
  std::unique_ptr<v1::CaseOffice::Stub> stub_;
  const absl::Duration deadline_;
};

}  // namespace ruta::console

#endif  // RUTA_CONSOLE_OFFICE_BACKEND_H_
