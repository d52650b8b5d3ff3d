#include "ruta/core/activities.h"

#include "absl/strings/str_cat.h"
#include "enum_names.h"

namespace ruta::core {
namespace {

constexpr const char* kTrainingLevelNames[] = {"UNSPECIFIED", "COMMUNITY",
                                               "LOCAL", "REGIONAL"};
constexpr const char* kActivityKindNames[] = {"UNSPECIFIED", "AWARENESS",
                                              "TRAINING"};

absl::string_view View(std::string_view s) {
  return absl::string_view(s.data(), s.size());
}

}  // namespace

const char* TrainingLevelName(TrainingLevel level) {
  return internal::NameOf(level, kTrainingLevelNames);
}
const char* ActivityKindName(ActivityKind kind) {
  return internal::NameOf(kind, kActivityKindNames);
}
bool IsSpecified(TrainingLevel level) {
  return internal::InRange(level, kTrainingLevelNames);
}
bool IsSpecified(ActivityKind kind) {
  return internal::InRange(kind, kActivityKindNames);
}

std::string QuarterOfMonth(const YearMonth& month) {
  return absl::StrCat(month.year, "Q", (month.month - 1) / 3 + 1);
}

std::string AwarenessKey(std::string_view region, const YearMonth& month,
                         std::string_view province, std::string_view campaign) {
  return absl::StrCat(View(region), "|", QuarterOfMonth(month), "|",
                      View(province), "|", View(campaign));
}

std::string TrainingKey(std::string_view region, const YearMonth& month,
                        TrainingLevel level, std::string_view province) {
  return absl::StrCat(View(region), "|", QuarterOfMonth(month), "|",
                      TrainingLevelName(level), "|", View(province));
}

std::vector<CounterIncrement> ActivityCounters(const Activity& a) {
  std::vector<CounterIncrement> out;
  switch (a.kind) {
    case ActivityKind::kAwareness: {
      const std::string key =
          AwarenessKey(a.region, a.month, a.province, a.campaign);
      out.push_back(
          {std::string(kAwarenessPeopleReachedTable), key, a.people_reached});
      out.push_back({std::string(kAwarenessActivitiesTable), key, 1});
      break;
    }
    case ActivityKind::kTraining:
      out.push_back({std::string(kAuthorityMembersTrainedTable),
                     TrainingKey(a.region, a.month, a.level, a.province),
                     a.members_trained});
      break;
    case ActivityKind::kUnspecified:
      break;
  }
  return out;
}

}  // namespace ruta::core
