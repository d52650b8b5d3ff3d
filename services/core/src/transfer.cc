#include "ruta/core/transfer.h"

#include <cstddef>
#include <cstdio>

#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "enum_names.h"

namespace ruta::core {
namespace {

using internal::InRange;
using internal::NameOf;

constexpr const char* kTransferStateNames[] = {
    "UNSPECIFIED", "REQUESTED", "ACCEPTED",  "REJECTED",
    "IN_TRANSIT",  "RECEIVED",  "CANCELLED",
};
constexpr const char* kRejectReasonNames[] = {
    "UNSPECIFIED",  "NO_CAPACITY",         "INCOMPLETE_REQUEST",
    "WRONG_REGION", "RISK_AT_DESTINATION", "OTHER",
};
constexpr const char* kServiceTypeNames[] = {
    "UNSPECIFIED",  "EDUCATION_SUPPORT",       "VOCATIONAL_TRAINING",
    "PSYCHOSOCIAL", "FAMILY_ECONOMIC_SUPPORT", "HEALTH",
    "LEGAL",        "IDENTITY_DOCUMENTS",      "RESIDENTIAL_CARE",
};
constexpr const char* kServiceStatusNames[] = {
    "UNSPECIFIED", "PLANNED", "ONGOING", "COMPLETED", "DROPPED",
};

bool IsLeapYear(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

// Peru has kept UTC-5 without daylight saving time since 1994.
const absl::TimeZone& PeruTime() {
  static const absl::TimeZone zone = absl::FixedTimeZone(-5 * 60 * 60);
  return zone;
}

}  // namespace

bool IsValidDate(const Date& d) {
  if (d.year < 2000 || d.year > 2199 || d.month < 1 || d.month > 12 ||
      d.day < 1) {
    return false;
  }
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  int days = kDays[d.month - 1];
  if (d.month == 2 && IsLeapYear(d.year)) days = 29;
  return d.day <= days;
}

std::string FormatDate(const Date& d) {
  if (!d.is_set()) return "";
  return absl::StrFormat("%04d-%02d-%02d", d.year, d.month, d.day);
}

bool ParseDate(const std::string& text, Date* out) {
  if (text.empty()) {
    *out = Date{};
    return true;
  }
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9}) {
    if (text[i] < '0' || text[i] > '9') return false;
  }
  Date d;
  d.year = std::stoi(text.substr(0, 4));
  d.month = std::stoi(text.substr(5, 2));
  d.day = std::stoi(text.substr(8, 2));
  if (!IsValidDate(d)) return false;
  *out = d;
  return true;
}

Date Today() {
  const absl::CivilDay day = absl::ToCivilDay(absl::Now(), PeruTime());
  return Date{static_cast<int>(day.year()), day.month(), day.day()};
}

TransferState TransferStateOf(const Transfer& t) {
  if (t.received_on.is_set()) return TransferState::kReceived;
  if (t.departed_on.is_set()) return TransferState::kInTransit;
  if (t.cancelled) return TransferState::kCancelled;
  if (t.rejected) return TransferState::kRejected;
  if (t.accepted_on.is_set()) return TransferState::kAccepted;
  if (t.requested_on.is_set()) return TransferState::kRequested;
  return TransferState::kUnspecified;
}

int64_t TransferVersionOf(const Transfer& t) {
  return int64_t{t.requested_on.is_set()} + int64_t{t.accepted_on.is_set()} +
         int64_t{t.rejected} + int64_t{t.cancelled} +
         int64_t{t.departed_on.is_set()} + int64_t{t.received_on.is_set()};
}

bool IsFinalTransferState(TransferState state) {
  return state == TransferState::kRejected ||
         state == TransferState::kReceived ||
         state == TransferState::kCancelled;
}

TransferRole RoleOf(const Transfer& t, const std::string& region) {
  if (region == t.from_region) return TransferRole::kSender;
  if (region == t.to_region) return TransferRole::kReceiver;
  return TransferRole::kNone;
}

bool MayAuthor(TransferRole role, TransferState resulting_state) {
  switch (resulting_state) {
    case TransferState::kRequested:
    case TransferState::kCancelled:
    case TransferState::kInTransit:
      return role == TransferRole::kSender;
    case TransferState::kAccepted:
    case TransferState::kRejected:
    case TransferState::kReceived:
      return role == TransferRole::kReceiver;
    default:
      return false;
  }
}

bool MergeTransferFacts(const Transfer& incoming, TransferRole author,
                        Transfer* local, bool* consistent) {
  *consistent = incoming.transfer_id == local->transfer_id &&
                incoming.case_id == local->case_id &&
                incoming.from_region == local->from_region &&
                incoming.to_region == local->to_region;
  if (!*consistent) return false;
  bool added = false;
  auto take_date = [&](const Date& in, Date& mine) {
    if (in.is_set() && !mine.is_set()) {
      mine = in;
      added = true;
    }
  };
  if (author == TransferRole::kSender) {
    take_date(incoming.requested_on, local->requested_on);
    take_date(incoming.departed_on, local->departed_on);
    if (incoming.cancelled && !local->cancelled) {
      local->cancelled = true;
      local->cancel_note = incoming.cancel_note;
      added = true;
    }
  } else if (author == TransferRole::kReceiver) {
    take_date(incoming.accepted_on, local->accepted_on);
    take_date(incoming.received_on, local->received_on);
    if (incoming.rejected && !local->rejected) {
      local->rejected = true;
      local->reject_reason = incoming.reject_reason;
      local->reject_note = incoming.reject_note;
      added = true;
    }
  }
  return added;
}

Stage CaseStageFor(TransferState state, Stage care_stage) {
  switch (state) {
    case TransferState::kRequested:
    case TransferState::kAccepted:
      return Stage::kTransferRequested;
    case TransferState::kInTransit:
      return Stage::kInTransit;
    case TransferState::kReceived:
      return Stage::kReceived;
    default:
      return care_stage;
  }
}

bool ServiceSupersedes(const ServiceRecord& incoming,
                       const ServiceRecord& local) {
  if (incoming.version != local.version) {
    return incoming.version > local.version;
  }
  return incoming.author_region > local.author_region;
}

const char* TransferStateName(TransferState state) {
  return NameOf(state, kTransferStateNames);
}
const char* RejectReasonName(RejectReason reason) {
  return NameOf(reason, kRejectReasonNames);
}
const char* ServiceTypeName(ServiceType type) {
  return NameOf(type, kServiceTypeNames);
}
const char* ServiceStatusName(ServiceStatus status) {
  return NameOf(status, kServiceStatusNames);
}
bool IsSpecified(TransferState state) {
  return InRange(state, kTransferStateNames);
}
bool IsSpecified(RejectReason reason) {
  return InRange(reason, kRejectReasonNames);
}
bool IsSpecified(ServiceType type) { return InRange(type, kServiceTypeNames); }
bool IsSpecified(ServiceStatus status) {
  return InRange(status, kServiceStatusNames);
}

}  // namespace ruta::core
