// An in-memory OfficeBackend for the console's tests: records every call
// (method, clerk, request), answers each method with a test-supplied handler
// (default: an empty response), and fails a method, or every method, with a
// chosen status. Thread-safe: the web server calls it from its worker
// threads while the test thread reads the calls.
#ifndef RUTA_TESTS_UNIT_CONSOLE_FAKE_OFFICE_BACKEND_H_
#define RUTA_TESTS_UNIT_CONSOLE_FAKE_OFFICE_BACKEND_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/message.h"
#include "ruta/console/office_backend.h"

namespace ruta::console {

class FakeOfficeBackend final : public OfficeBackend {
 public:
  struct Call {
    std::string method;  // "OpenCase", "ListTransfers"...
    std::string clerk;
    std::shared_ptr<google::protobuf::Message> request;  // a copy
  };

  FakeOfficeBackend() = default;
  FakeOfficeBackend(const FakeOfficeBackend&) = delete;
  FakeOfficeBackend& operator=(const FakeOfficeBackend&) = delete;

  // Every call made so far, in order.
  std::vector<Call> Calls() const {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  // The calls of one method, in order.
  std::vector<Call> CallsOf(const std::string& method) const {
    std::vector<Call> out;
    for (const Call& c : Calls()) {
      if (c.method == method) out.push_back(c);
    }
    return out;
  }
  // The method names called, in order.
  std::vector<std::string> Methods() const {
    std::vector<std::string> out;
    for (const Call& c : Calls()) out.push_back(c.method);
    return out;
  }
  // The request of the last call of `method` (an empty one when none).
  template <typename Request>
  Request LastRequest(const std::string& method) const {
    Request out;
    std::vector<Call> calls = CallsOf(method);
    if (!calls.empty()) out.CopyFrom(*calls.back().request);
    return out;
  }
  void ClearCalls() {
    absl::MutexLock lock(&mu_);
    calls_.clear();
  }

  // Fails every method with `status` (OK: stop failing).
  void FailAll(absl::Status status) {
    absl::MutexLock lock(&mu_);
    fail_all_ = std::move(status);
  }
  // Fails `method` with `status` (OK: stop failing).
  void Fail(const std::string& method, absl::Status status) {
    absl::MutexLock lock(&mu_);
    if (status.ok()) {
      fail_.erase(method);
    } else {
      fail_[method] = std::move(status);
    }
  }

  // Handlers: set before the server calls the method.
#define RUTA_FAKE_OFFICE_CALL(Method)                                          \
  std::function<absl::StatusOr<v1::Method##Response>(                          \
      const v1::Method##Request&)>                                             \
      on_##Method;                                                             \
  absl::StatusOr<v1::Method##Response> Method(                                 \
      const std::string& clerk, const v1::Method##Request& request) override { \
    if (absl::Status s = Record(#Method, clerk, request); !s.ok()) return s;   \
    if (on_##Method) return on_##Method(request);                              \
    return v1::Method##Response();                                             \
  }
  RUTA_CONSOLE_OFFICE_METHODS(RUTA_FAKE_OFFICE_CALL)
#undef RUTA_FAKE_OFFICE_CALL

 private:
  // Records the call; returns the status it must fail with (OK: answer).
  absl::Status Record(const std::string& method, const std::string& clerk,
                      const google::protobuf::Message& request) {
    std::shared_ptr<google::protobuf::Message> copy(request.New());
    copy->CopyFrom(request);
    absl::MutexLock lock(&mu_);
    calls_.push_back(Call{method, clerk, std::move(copy)});
    if (!fail_all_.ok()) return fail_all_;
    auto it = fail_.find(method);
    return it == fail_.end() ? absl::OkStatus() : it->second;
  }

  mutable absl::Mutex mu_;
  std::vector<Call> calls_ ABSL_GUARDED_BY(mu_);
  absl::Status fail_all_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Status> fail_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ruta::console

#endif  // RUTA_TESTS_UNIT_CONSOLE_FAKE_OFFICE_BACKEND_H_
