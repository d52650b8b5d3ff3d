// Tells waiting readers (WatchTransfers streams) that something they watch
// may have changed. Thread-safe; callbacks run on the notifying thread and
// must not block.
#ifndef RUTA_CORE_CHANGE_NOTIFIER_H_
#define RUTA_CORE_CHANGE_NOTIFIER_H_

#include <cstdint>
#include <functional>
#include <map>

#include "absl/synchronization/mutex.h"

namespace ruta::core {

class ChangeNotifier final {
 public:
  using Id = uint64_t;
  ChangeNotifier() = default;
  ChangeNotifier(const ChangeNotifier&) = delete;
  ChangeNotifier& operator=(const ChangeNotifier&) = delete;

  // `fn` is called on every Notify until Unsubscribe(id) returns.
  Id Subscribe(std::function<void()> fn) {
    absl::MutexLock lock(&mu_);
    subscribers_[++last_id_] = std::move(fn);
    return last_id_;
  }
  // After it returns, the callback is not running and is never called again.
  void Unsubscribe(Id id) {
    absl::MutexLock lock(&mu_);
    subscribers_.erase(id);
  }
  void Notify() {
    absl::MutexLock lock(&mu_);
    for (auto& [id, fn] : subscribers_) fn();
  }

 private:
  absl::Mutex mu_;
  Id last_id_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<Id, std::function<void()>> subscribers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ruta::core

#endif  // RUTA_CORE_CHANGE_NOTIFIER_H_
