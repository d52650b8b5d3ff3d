#include "ruta/cli/activity_requests.h"

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "ruta/cli/case_requests.h"
#include "ruta/cli/enums.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

constexpr long long kMaxCount = 1000000;

absl::Status CheckCount(const char* flag, long long count) {
  if (count < 1 || count > kMaxCount) {
    return absl::InvalidArgumentError(
        absl::StrCat(flag, " must be a number from 1 to ", kMaxCount));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<ruta::v1::RecordActivityRequest> BuildAwarenessRequest(
    const AwarenessFlags& flags) {
  const std::string campaign(absl::StripAsciiWhitespace(flags.campaign));
  if (campaign.empty()) {
    return absl::InvalidArgumentError(
        "--campaign is required: the name of the campaign, e.g. \"No te "
        "dejes engañar\"");
  }
  RUTA_RETURN_IF_ERROR(ValidateProvince("--province", flags.province));
  RUTA_RETURN_IF_ERROR(CheckCount("--people", flags.people));
  ruta::v1::RecordActivityRequest request;
  ruta::v1::AwarenessActivity* a = request.mutable_awareness();
  a->set_campaign(campaign);
  a->set_province(flags.province);
  RUTA_ASSIGN_OR_RETURN(*a->mutable_month(),
                        ParseYearMonth("--month", flags.month));
  a->set_people_reached(flags.people);
  return request;
}

absl::StatusOr<ruta::v1::RecordActivityRequest> BuildTrainingRequest(
    const TrainingFlags& flags) {
  RUTA_ASSIGN_OR_RETURN(
      ruta::v1::TrainingLevel level,
      ParseEnumFlag<ruta::v1::TrainingLevel>("--level", flags.level));
  RUTA_RETURN_IF_ERROR(ValidateProvince("--province", flags.province));
  RUTA_RETURN_IF_ERROR(CheckCount("--members", flags.members));
  ruta::v1::RecordActivityRequest request;
  ruta::v1::Training* t = request.mutable_training();
  t->set_level(level);
  t->set_province(flags.province);
  RUTA_ASSIGN_OR_RETURN(*t->mutable_month(),
                        ParseYearMonth("--month", flags.month));
  t->set_members_trained(flags.members);
  return request;
}

absl::StatusOr<ruta::v1::ListActivitiesRequest> BuildListActivitiesRequest(
    const ListActivitiesFlags& flags) {
  RUTA_RETURN_IF_ERROR(ValidatePageSize(flags.page_size));
  ruta::v1::ListActivitiesRequest request;
  request.set_page_size(flags.page_size);
  request.set_page_token(flags.page_token);
  if (!flags.from_month.empty()) {
    RUTA_ASSIGN_OR_RETURN(*request.mutable_from_month(),
                          ParseYearMonth("--from", flags.from_month));
  }
  if (!flags.to_month.empty()) {
    RUTA_ASSIGN_OR_RETURN(*request.mutable_to_month(),
                          ParseYearMonth("--to", flags.to_month));
  }
  if (request.has_from_month() && request.has_to_month()) {
    const auto index = [](const ruta::v1::YearMonth& m) {
      return m.year() * 12 + m.month();
    };
    if (index(request.from_month()) > index(request.to_month())) {
      return absl::InvalidArgumentError(absl::StrCat(
          "--from ", flags.from_month, " is after --to ", flags.to_month));
    }
  }
  return request;
}

}  // namespace ruta::cli
