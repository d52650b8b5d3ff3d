#include "ruta/federation/codec.h"

#include <openssl/sha.h>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/time_util.h"
#include "ruta/api/conversions.h"
#include "ruta/api/firewall.h"
#include "ruta/common/status_macros.h"
#include "ruta/core/ids.h"
#include "ruta/core/pseudonym.h"
#include "ruta/v1/federation.pb.h"

namespace ruta::federation {
namespace {

using google::protobuf::util::TimeUtil;

bool IsRegionSlug(const std::string& s) {
  if (s.empty() || s.size() > 40) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || c == '-')) return false;
  }
  return true;
}

absl::Status Bad(absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat("malformed event: ", what));
}

}  // namespace

absl::StatusOr<std::string> ProtoEventEncoder::Encode(
    const core::FederationEvent& event) const {
  v1::Event out;
  out.set_event_id(event.event_id);
  out.set_origin_region(event.origin_region);
  out.set_destination_region(event.destination_region);
  out.set_sequence(event.sequence);
  out.set_case_id(event.case_id);
  *out.mutable_committed_at() =
      TimeUtil::MicrosecondsToTimestamp(absl::ToUnixMicros(event.committed_at));
  if (const auto* c = std::get_if<core::Case>(&event.payload)) {
    api::ToProto(*c, out.mutable_case_shared());
    // Partner referrals stay in their region.
    out.mutable_case_shared()->clear_referrals();
  } else if (const auto* t = std::get_if<core::Transfer>(&event.payload)) {
    api::ToProto(*t, out.mutable_transfer_changed());
  } else if (const auto* s = std::get_if<core::StageChange>(&event.payload)) {
    v1::StageChanged* change = out.mutable_stage_changed();
    change->set_stage(static_cast<v1::Stage>(s->stage));
    change->set_closed_reason(static_cast<v1::ClosedReason>(s->closed_reason));
    change->set_version(s->version);
  } else if (const auto* r = std::get_if<core::ServiceRecord>(&event.payload)) {
    api::ToProto(*r, out.mutable_service_changed());
  } else if (const auto* m = std::get_if<core::PersonsMerged>(&event.payload)) {
    out.mutable_persons_merged()->set_kept_ref(m->kept_ref);
    out.mutable_persons_merged()->set_merged_ref(m->merged_ref);
  } else {
    out.mutable_case_erased();
  }
  std::string bytes;
  if (!out.SerializeToString(&bytes)) {
    return absl::InternalError("could not serialize an event");
  }
  return bytes;
}

absl::StatusOr<std::string> StampEvent(absl::string_view payload,
                                       int64_t sequence) {
  v1::Event event;
  if (!event.ParseFromArray(payload.data(), static_cast<int>(payload.size()))) {
    return absl::InvalidArgumentError("outbox payload is not an event");
  }
  event.set_sequence(sequence);
  std::string bytes;
  if (!event.SerializeToString(&bytes)) {
    return absl::InternalError("could not serialize an event");
  }
  return bytes;
}

absl::StatusOr<core::FederationEvent> DecodeEvent(absl::string_view bytes) {
  v1::Event in;
  if (!in.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return Bad("not a ruta.v1.Event");
  }
  if (absl::Status s = api::CheckMessage(in); !s.ok()) return Bad(s.message());
  core::FederationEvent out;
  out.event_id = in.event_id();
  out.origin_region = in.origin_region();
  out.destination_region = in.destination_region();
  out.sequence = in.sequence();
  out.case_id = in.case_id();
  if (out.event_id.size() != 23 || out.event_id.rfind("ev_", 0) != 0) {
    return Bad("event_id");
  }
  if (!IsRegionSlug(out.origin_region) ||
      !IsRegionSlug(out.destination_region)) {
    return Bad("origin or destination region");
  }
  if (out.sequence < 1) return Bad("sequence must be 1 or more");
  if (!core::IsValidCaseId(out.case_id)) return Bad("case_id");
  out.committed_at = absl::FromUnixMicros(
      TimeUtil::TimestampToMicroseconds(in.committed_at()));
  switch (in.payload_case()) {
    case v1::Event::kCaseShared: {
      RUTA_ASSIGN_OR_RETURN(core::Case c, api::CaseFromProto(in.case_shared()));
      if (c.case_id != out.case_id) return Bad("case_shared.case_id");
      out.payload = std::move(c);
      break;
    }
    case v1::Event::kTransferChanged: {
      RUTA_ASSIGN_OR_RETURN(core::Transfer t,
                            api::FromProto(in.transfer_changed()));
      if (t.case_id != out.case_id || !core::IsValidTransferId(t.transfer_id) ||
          !IsRegionSlug(t.from_region) || !IsRegionSlug(t.to_region)) {
        return Bad("transfer_changed");
      }
      out.payload = std::move(t);
      break;
    }
    case v1::Event::kStageChanged: {
      const v1::StageChanged& s = in.stage_changed();
      if (!v1::Stage_IsValid(s.stage()) || s.stage() == 0 ||
          !v1::ClosedReason_IsValid(s.closed_reason())) {
        return Bad("stage_changed");
      }
      out.payload = core::StageChange{
          static_cast<core::Stage>(s.stage()),
          static_cast<core::ClosedReason>(s.closed_reason()), s.version()};
      break;
    }
    case v1::Event::kServiceChanged: {
      RUTA_ASSIGN_OR_RETURN(core::ServiceRecord s,
                            api::FromProto(in.service_changed()));
      if (s.case_id != out.case_id || !core::IsValidServiceId(s.service_id) ||
          s.version < 1) {
        return Bad("service_changed");
      }
      s.author_region = out.origin_region;
      out.payload = std::move(s);
      break;
    }
    case v1::Event::kPersonsMerged: {
      const v1::PersonsMerged& m = in.persons_merged();
      if (!core::IsValidPersonRef(m.kept_ref()) ||
          !core::IsValidPersonRef(m.merged_ref()) ||
          m.kept_ref() == m.merged_ref()) {
        return Bad("persons_merged");
      }
      out.payload = core::PersonsMerged{m.kept_ref(), m.merged_ref()};
      break;
    }
    case v1::Event::kCaseErased:
      out.payload = core::CaseErased{};
      break;
    default:
      return Bad(absl::StrCat("payload ", in.payload_case(),
                              " is not one this node applies"));
  }
  return out;
}

std::string BatchSigningInput(const std::vector<std::string>& events) {
  std::string input;
  input.reserve(events.size() * SHA256_DIGEST_LENGTH);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  for (const std::string& e : events) {
    SHA256(reinterpret_cast<const unsigned char*>(e.data()), e.size(), digest);
    input.append(reinterpret_cast<const char*>(digest), sizeof(digest));
  }
  return input;
}

}  // namespace ruta::federation
