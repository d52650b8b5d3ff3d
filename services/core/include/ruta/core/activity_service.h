// ruta::core::ActivityService — awareness activities and trainings of
// authority members (DESIGN.md §4 "Activities"; activities.h for the record
// and the dashboard counters it feeds).
//
// Every method is asynchronous, as CaseService's: `done` is called exactly
// once, on a store thread (after the durable commit for writes), or on the
// calling thread when the request is refused before it reaches the store.
// `done` must not block.
//
// Who: the offices of this node's region (the api layer authorizes the
// CaseOffice role); an actor of another region gets PERMISSION_DENIED.
// RecordActivity writes the activity, its dashboard counters
// (ActivityCounters), its idempotency record and its audit record in one
// transaction. Activities stay in their region: no federation event.
//
// Validation (INVALID_ARGUMENT, the message names the field and what to fix):
//   request_id       a canonical UUID;
//   kind             awareness or training;
//   province         a UBIGEO province of the catalogue AND of this region's
//                    department (options.department), by decision: a region
//                    records the activities that took place in its territory,
//                    so that its counters describe its own provinces;
//   month            a valid month from 2000-01 on, not after the current
//                    month in Peru (UTC-5);
//   awareness:       campaign 1..120 characters once trimmed of surrounding
//                    white space (stored trimmed), no '|' (the separator of
//                    the counter keys), no identifier (free_text.h);
//                    people_reached 1..1,000,000;
//   training:        level COMMUNITY, LOCAL or REGIONAL;
//                    members_trained 1..1,000,000;
//   the other kind's fields must be empty / zero.
// Idempotent per (actor.principal, request_id): a retry returns the activity
// the first execution recorded (same id) and counts nothing twice; the same
// request_id with different content is INVALID_ARGUMENT.
//
// Other errors: PERMISSION_DENIED (actor of another region),
// UNAVAILABLE/INTERNAL (storage; nothing was recorded).
#ifndef RUTA_CORE_ACTIVITY_SERVICE_H_
#define RUTA_CORE_ACTIVITY_SERVICE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/core/activities.h"
#include "ruta/core/domain.h"
#include "ruta/store/store.h"

namespace ruta::core {

// The bounds of people_reached and members_trained.
inline constexpr int64_t kMaxActivityCount = 1000000;
// The longest campaign name, in characters.
inline constexpr size_t kMaxCampaignChars = 120;

struct ActivityServiceOptions {
  // Slug of the region this node serves. Required.
  std::string region;
  // UBIGEO department (2 digits) of the region: an activity's province must
  // lie in it. Empty: any province of the catalogue (tests, a node whose
  // configuration names no department).
  std::string department;
  // Largest page ListActivities returns. Default 100.
  int max_page_size = 100;
  // Page size when the query gives none. Default 50.
  int default_page_size = 50;
  // The clock that decides which months are in the future. Default (null):
  // absl::Now.
  std::function<absl::Time()> now;
};

struct RecordActivityCommand {
  std::string request_id;
  ActivityKind kind = ActivityKind::kUnspecified;
  std::string province;
  YearMonth month;
  std::string campaign;                               // awareness
  int64_t people_reached = 0;                         // awareness
  TrainingLevel level = TrainingLevel::kUnspecified;  // training
  int64_t members_trained = 0;                        // training
};

struct ListActivitiesQuery {
  int page_size = 0;  // 0: the default; else 1..max (larger is capped)
  std::string page_token;
  // Only activities of months in [from_month, to_month]; an unset bound
  // (year 0) does not filter. INVALID_ARGUMENT when a set bound is not a
  // valid month, or from_month is after to_month.
  YearMonth from_month;
  YearMonth to_month;
};

struct ActivityList {
  std::vector<Activity> activities;  // in activity_id order
  std::string next_page_token;       // empty on the last page
};

class ActivityService final {
 public:
  // `store` must outlive the service.
  ActivityService(ActivityServiceOptions options, store::Store* store);
  ActivityService(const ActivityService&) = delete;
  ActivityService& operator=(const ActivityService&) = delete;

  void RecordActivity(const Actor& actor, RecordActivityCommand command,
                      std::function<void(absl::StatusOr<Activity>)> done);
  // The activities this region recorded, paged by activity_id.
  void ListActivities(const Actor& actor, ListActivitiesQuery query,
                      std::function<void(absl::StatusOr<ActivityList>)> done);

 private:
  absl::Status Validate(RecordActivityCommand& command) const;

  const ActivityServiceOptions options_;
  store::Store* const store_;
};

}  // namespace ruta::core

#endif  // RUTA_CORE_ACTIVITY_SERVICE_H_
