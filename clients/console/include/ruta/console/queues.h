// The home page's work queues, read from the node for one clerk.
#ifndef RUTA_CONSOLE_QUEUES_H_
#define RUTA_CONSOLE_QUEUES_H_

#include <string>

#include "absl/time/time.h"
#include "ruta/console/office_backend.h"
#include "ruta/console/pages.h"

namespace ruta::console {

struct QueueOptions {
  // The office's region: incoming means to_region == region.
  std::string region;
  // REQUESTED longer than this is "waiting too long".
  int waiting_days = 7;
  // FOLLOW_UP not updated for longer than this is overdue.
  int follow_up_days = 90;
  // Pages of 100 read per list at most; beyond, the queue says it is cut.
  int max_pages = 10;
};

// Lists the transfers (by state and direction) and the follow-up cases the
// queues need. A list that fails or is cut adds a sentence to `problems`
// (one per distinct sentence) and marks the queues it feeds as not read
// (WorkQueues::*_read) instead of looking empty; the other queues are still
// filled. `now` and `today` (in Peru) date the waiting and overdue items.
WorkQueues ComputeWorkQueues(OfficeBackend& backend, const std::string& clerk,
                             const QueueOptions& options, absl::Time now,
                             absl::CivilDay today);

}  // namespace ruta::console

#endif  // RUTA_CONSOLE_QUEUES_H_
