// Process-wide settings that every long-running ruta program (the node, the
// console, the dashboard, the benchmark harness) applies first in main().
#ifndef RUTA_COMMON_PROCESS_SETUP_H_
#define RUTA_COMMON_PROCESS_SETUP_H_

#include "absl/synchronization/mutex.h"

namespace ruta::common {

// Turns off absl::Mutex's deadlock detector for this process. Debian's
// Abseil 20220623 is built without NDEBUG, which leaves the detector on in
// every program that links it: each lock then updates a process-wide lock
// graph under a global lock and records a stack trace. gRPC's own locks are
// absl::Mutex too. Measured on the 2-core development VM: a nested pair of
// locks 93 ns with the detector, 33 ns without (tests/bench/README.md).
// Tests do not call this, so they keep the detector.
inline void DisableMutexDeadlockDetection() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
}

}  // namespace ruta::common

#endif  // RUTA_COMMON_PROCESS_SETUP_H_
