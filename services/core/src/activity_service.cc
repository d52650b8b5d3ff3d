#include "ruta/core/activity_service.h"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "mutations.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/free_text.h"
#include "ruta/core/ids.h"
#include "ruta/core/ubigeo.h"

namespace ruta::core {
namespace {

using internal::AuditMutation;
using internal::CheckRegion;
using internal::CheckRequestId;
using internal::Fingerprinter;
using internal::NowMicros;

constexpr char kRecordMethod[] = "CaseOffice.RecordActivity";

int64_t MonthIndex(const YearMonth& m) {
  return int64_t{m.year} * 12 + m.month - 1;
}

bool IsValidMonth(const YearMonth& m) {
  return m.year >= 2000 && m.year <= 2199 && m.month >= 1 && m.month <= 12;
}

// The current month in Peru (UTC-5, no daylight saving).
YearMonth CurrentMonth(absl::Time now) {
  const absl::CivilSecond civil =
      absl::ToCivilSecond(now, absl::FixedTimeZone(-5 * 60 * 60));
  return YearMonth{static_cast<int>(civil.year()), civil.month()};
}

absl::Status CheckCount(const char* field, int64_t count) {
  if (count < 1 || count > kMaxActivityCount) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, " must be between 1 and ", kMaxActivityCount,
                     " (got ", count, ")"));
  }
  return absl::OkStatus();
}

// RecordActivity inside its write transaction; fills `out`.
absl::Status Record(store::WriteTxn& txn, const Actor& actor,
                    const std::string& region,
                    const RecordActivityCommand& command,
                    const std::string& fingerprint, Activity* out) {
  RUTA_ASSIGN_OR_RETURN(std::optional<store::RequestRecord> replay,
                        internal::FindReplay(txn, actor.principal,
                                             command.request_id, fingerprint));
  if (replay.has_value()) {
    RUTA_ASSIGN_OR_RETURN(std::optional<Activity> found,
                          txn.FindActivity(replay->case_id));
    if (!found.has_value()) {
      return absl::InternalError(
          absl::StrCat("request_id ", command.request_id, " recorded activity ",
                       replay->case_id, ", which the store does not have"));
    }
    *out = *std::move(found);
    return AuditMutation(txn, actor, kRecordMethod, "");
  }
  Activity a;
  RUTA_ASSIGN_OR_RETURN(
      a.activity_id, internal::DrawFreshId(
                         "activity id", &NewActivityId,
                         [&txn](const std::string& id) -> absl::StatusOr<bool> {
                           RUTA_ASSIGN_OR_RETURN(std::optional<Activity> found,
                                                 txn.FindActivity(id));
                           return found.has_value();
                         }));
  a.region = region;
  a.kind = command.kind;
  a.province = command.province;
  a.month = command.month;
  if (a.kind == ActivityKind::kAwareness) {
    a.campaign = command.campaign;
    a.people_reached = command.people_reached;
  } else {
    a.level = command.level;
    a.members_trained = command.members_trained;
  }
  a.recorded_at = NowMicros();
  RUTA_RETURN_IF_ERROR(txn.PutActivity(a));
  for (const CounterIncrement& c : ActivityCounters(a)) {
    RUTA_RETURN_IF_ERROR(txn.AddToAggregate(c.table, c.key, c.delta));
  }
  RUTA_RETURN_IF_ERROR(txn.PutRequest(internal::MakeRequestRecord(
      actor, command.request_id, kRecordMethod, fingerprint, a.activity_id,
      /*version=*/1, a.recorded_at)));
  RUTA_RETURN_IF_ERROR(AuditMutation(txn, actor, kRecordMethod, ""));
  *out = std::move(a);
  return absl::OkStatus();
}

}  // namespace

ActivityService::ActivityService(ActivityServiceOptions options,
                                 store::Store* store)
    : options_(std::move(options)), store_(store) {}

absl::Status ActivityService::Validate(RecordActivityCommand& c) const {
  RUTA_RETURN_IF_ERROR(CheckRequestId(c.request_id));
  if (!IsSpecified(c.kind)) {
    return absl::InvalidArgumentError(
        "the activity must be an awareness activity or a training");
  }
  if (!IsKnownProvince(c.province)) {
    return absl::InvalidArgumentError(
        "province must be a UBIGEO province of the catalogue (4 digits, e.g. "
        "\"0812\")");
  }
  if (!options_.department.empty() &&
      !absl::StartsWith(c.province, options_.department)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "province ", c.province, " is not in the department of region ",
        options_.region, " (UBIGEO ", options_.department,
        "..): a region records the activities held in its own provinces"));
  }
  if (!IsValidMonth(c.month)) {
    return absl::InvalidArgumentError(
        "month must be a month between 2000-01 and 2199-12");
  }
  const YearMonth current =
      CurrentMonth(options_.now ? options_.now() : absl::Now());
  if (MonthIndex(c.month) > MonthIndex(current)) {
    return absl::InvalidArgumentError(absl::StrFormat(
        "month %04d-%02d is in the future (the current month is %04d-%02d): "
        "record an activity once it has taken place",
        c.month.year, c.month.month, current.year, current.month));
  }
  if (c.kind == ActivityKind::kAwareness) {
    c.campaign = std::string(absl::StripAsciiWhitespace(c.campaign));
    if (c.campaign.empty()) {
      return absl::InvalidArgumentError(
          "awareness.campaign is required: the name of the campaign, e.g. "
          "\"No te dejes engañar\"");
    }
    if (absl::StrContains(c.campaign, '|')) {
      return absl::InvalidArgumentError(
          "awareness.campaign must not contain '|'");
    }
    RUTA_RETURN_IF_ERROR(
        CheckFreeText("awareness.campaign", c.campaign, kMaxCampaignChars));
    RUTA_RETURN_IF_ERROR(
        CheckCount("awareness.people_reached", c.people_reached));
    if (c.level != TrainingLevel::kUnspecified || c.members_trained != 0) {
      return absl::InvalidArgumentError(
          "an awareness activity has no training level or members trained");
    }
  } else {
    if (!IsSpecified(c.level)) {
      return absl::InvalidArgumentError(
          "training.level must be COMMUNITY, LOCAL or REGIONAL");
    }
    RUTA_RETURN_IF_ERROR(
        CheckCount("training.members_trained", c.members_trained));
    if (!c.campaign.empty() || c.people_reached != 0) {
      return absl::InvalidArgumentError(
          "a training has no campaign or people reached");
    }
  }
  return absl::OkStatus();
}

void ActivityService::RecordActivity(
    const Actor& actor, RecordActivityCommand command,
    std::function<void(absl::StatusOr<Activity>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (absl::Status s = Validate(command); !s.ok()) return done(s);
  Fingerprinter fp(kRecordMethod);
  fp.Add(ActivityKindName(command.kind))
      .Add(command.province)
      .Add(command.month.year)
      .Add(command.month.month)
      .Add(command.campaign)
      .Add(command.people_reached)
      .Add(TrainingLevelName(command.level))
      .Add(command.members_trained);
  auto result = std::make_shared<Activity>();
  store_->Write(
      [result, actor, region = options_.region, command = std::move(command),
       fingerprint = fp.Finish()](store::WriteTxn& txn) {
        return Record(txn, actor, region, command, fingerprint, result.get());
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

void ActivityService::ListActivities(
    const Actor& actor, ListActivitiesQuery query,
    std::function<void(absl::StatusOr<ActivityList>)> done) {
  if (absl::Status s = CheckRegion(options_.region, actor); !s.ok()) {
    return done(s);
  }
  if (query.page_size < 0) {
    return done(absl::InvalidArgumentError(
        "page_size must be 0 (the default) or more"));
  }
  const bool from = query.from_month.year != 0 || query.from_month.month != 0;
  const bool to = query.to_month.year != 0 || query.to_month.month != 0;
  if (from && !IsValidMonth(query.from_month)) {
    return done(absl::InvalidArgumentError(
        "from_month must be a month between 2000-01 and 2199-12, or unset"));
  }
  if (to && !IsValidMonth(query.to_month)) {
    return done(absl::InvalidArgumentError(
        "to_month must be a month between 2000-01 and 2199-12, or unset"));
  }
  if (from && to && MonthIndex(query.from_month) > MonthIndex(query.to_month)) {
    return done(
        absl::InvalidArgumentError("from_month is after to_month: no month "
                                   "lies in that range"));
  }
  absl::StatusOr<std::string> after = DecodePageToken(query.page_token);
  if (!after.ok()) return done(after.status());
  if (!after->empty() && !IsValidActivityId(*after)) {
    return done(absl::InvalidArgumentError(
        "page_token is not a token of ListActivities; pass the "
        "next_page_token of the previous page unchanged"));
  }
  int limit =
      query.page_size == 0 ? options_.default_page_size : query.page_size;
  limit = std::max(1, std::min(limit, std::max(1, options_.max_page_size)));
  store::ActivityFilter filter;
  filter.region = options_.region;
  filter.from_month = query.from_month;
  filter.to_month = query.to_month;
  auto result = std::make_shared<ActivityList>();
  store_->Read(
      [result, filter, after = *std::move(after),
       limit](store::ReadTxn& txn) -> absl::Status {
        RUTA_ASSIGN_OR_RETURN(store::ActivityPage page,
                              txn.ListActivities(filter, after, limit));
        result->activities = std::move(page.activities);
        result->next_page_token = page.next_after.empty()
                                      ? std::string()
                                      : EncodePageToken(page.next_after);
        return absl::OkStatus();
      },
      [result, done = std::move(done)](absl::Status status) {
        if (!status.ok()) return done(std::move(status));
        done(std::move(*result));
      });
}

}  // namespace ruta::core
