#include "ruta/store/store.h"

#include <functional>
#include <memory>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"

namespace ruta::store {
namespace {

// The result of one asynchronous call, shared by the waiting caller and the
// `done` callback so that neither outlives the other's use of it.
class Completion {
 public:
  void Set(absl::Status status) {
    absl::MutexLock lock(&mu_);
    status_ = std::move(status);
    done_ = true;
  }

  absl::Status Wait() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(&done_));
    return status_;
  }

 private:
  absl::Mutex mu_;
  bool done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status status_ ABSL_GUARDED_BY(mu_);
};

}  // namespace

absl::Status Store::ReadSync(std::function<absl::Status(ReadTxn&)> fn) {
  auto completion = std::make_shared<Completion>();
  Read(std::move(fn), [completion](absl::Status status) {
    completion->Set(std::move(status));
  });
  return completion->Wait();
}

absl::Status Store::WriteSync(std::function<absl::Status(WriteTxn&)> fn) {
  auto completion = std::make_shared<Completion>();
  Write(std::move(fn), [completion](absl::Status status) {
    completion->Set(std::move(status));
  });
  return completion->Wait();
}

}  // namespace ruta::store
