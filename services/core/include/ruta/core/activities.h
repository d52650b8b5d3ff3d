// Activities (DESIGN.md §4 "Activities"): the non-personal records of the
// prevention axis (awareness activities: a campaign, a province, a month,
// people reached) and of the coordination axis (trainings of authority
// members: a level, a province, a month, members trained); and the dashboard
// counters they feed.
//
// An activity holds no identifier of anyone: its one free-text field, the
// campaign name, passes the free-text rule (free_text.h). Activities stay in
// the region that recorded them: they are never sent to a peer (no
// federation event), and each node counts only its own.
//
// Dashboard counters (store::WriteTxn::AddToAggregate), written in the same
// transaction as the activity (ActivityService). Keys are "|"-joined and,
// like every aggregate key (aggregates.h), start with "<region>|<YYYY>Q<q>|":
// the region that recorded the activity and the quarter of its month.
// Campaign names never contain '|' (refused at validation); region slugs,
// quarters, level names and UBIGEO codes never do.
//   kAwarenessPeopleReachedTable  "<region>|<YYYY>Q<q>|<province>|<campaign>"
//                                 += people_reached
//   kAwarenessActivitiesTable     the same key, += 1 per activity
//   kAuthorityMembersTrainedTable "<region>|<YYYY>Q<q>|<LEVEL>|<province>"
//                                 += members_trained
// e.g. "cusco|2026Q3|0812|No te dejes engañar" and
// "madre-de-dios|2026Q4|LOCAL|1701". The campaign is kept as recorded
// (trimmed of surrounding white space; case and accents kept): two spellings
// of one campaign are two keys.
#ifndef RUTA_CORE_ACTIVITIES_H_
#define RUTA_CORE_ACTIVITIES_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/time/time.h"
#include "ruta/core/domain.h"

namespace ruta::core {

// Numeric values equal the proto enum values (ruta.v1.TrainingLevel).
enum class TrainingLevel {
  kUnspecified = 0,
  kCommunity = 1,
  kLocal = 2,
  kRegional = 3,
};

enum class ActivityKind {
  kUnspecified = 0,
  kAwareness = 1,  // an awareness activity (ruta.v1.AwarenessActivity)
  kTraining = 2,   // a training of authority members (ruta.v1.Training)
};

// One recorded activity. The fields of the other kind stay empty / zero.
struct Activity {
  std::string activity_id;  // "ac_" + 20 lowercase letters; random.
  std::string region;       // slug of the region that recorded it
  ActivityKind kind = ActivityKind::kUnspecified;
  std::string province;  // UBIGEO province, 4 digits
  YearMonth month;       // when it took place
  // Awareness: the campaign (1..120 characters, trimmed, no '|', no
  // identifier) and the people reached (1..1,000,000).
  std::string campaign;
  int64_t people_reached = 0;
  // Training: the level of the members trained and their number
  // (1..1,000,000).
  TrainingLevel level = TrainingLevel::kUnspecified;
  int64_t members_trained = 0;
  // When it was recorded (microsecond precision).
  absl::Time recorded_at = absl::InfinitePast();

  friend bool operator==(const Activity& a, const Activity& b) {
    return a.activity_id == b.activity_id && a.region == b.region &&
           a.kind == b.kind && a.province == b.province && a.month == b.month &&
           a.campaign == b.campaign && a.people_reached == b.people_reached &&
           a.level == b.level && a.members_trained == b.members_trained &&
           a.recorded_at == b.recorded_at;
  }
};

// "COMMUNITY", "LOCAL", "REGIONAL" (the proto value names without their
// prefix); "UNSPECIFIED" / "UNKNOWN" as the other *Name functions (domain.h).
const char* TrainingLevelName(TrainingLevel level);
// "AWARENESS", "TRAINING".
const char* ActivityKindName(ActivityKind kind);
bool IsSpecified(TrainingLevel level);
bool IsSpecified(ActivityKind kind);

// --- Dashboard counters (see the file comment).
inline constexpr std::string_view kAwarenessPeopleReachedTable =
    "awareness_people_reached";
inline constexpr std::string_view kAwarenessActivitiesTable =
    "awareness_activities";
inline constexpr std::string_view kAuthorityMembersTrainedTable =
    "authority_members_trained";

// "2026Q3" for a month of 2026-07..09 (4-digit years).
std::string QuarterOfMonth(const YearMonth& month);

// The key of an awareness activity in kAwarenessPeopleReachedTable and
// kAwarenessActivitiesTable: "<region>|<YYYY>Q<q>|<province>|<campaign>".
std::string AwarenessKey(std::string_view region, const YearMonth& month,
                         std::string_view province, std::string_view campaign);
// The key of a training in kAuthorityMembersTrainedTable:
// "<region>|<YYYY>Q<q>|<LEVEL>|<province>".
std::string TrainingKey(std::string_view region, const YearMonth& month,
                        TrainingLevel level, std::string_view province);

// One counter increment: table, key, delta.
struct CounterIncrement {
  std::string table;
  std::string key;
  int64_t delta = 0;
};

// What `activity` adds to the counters above, under its own region: two
// increments for an awareness activity, one for a training, none for an
// unspecified kind. A recount from the stored activities is the sum of these
// over ReadTxn::ListActivities.
std::vector<CounterIncrement> ActivityCounters(const Activity& activity);

}  // namespace ruta::core

#endif  // RUTA_CORE_ACTIVITIES_H_
