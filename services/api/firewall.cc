// The identifier firewall (firewall.h): one table of string formats by field
// name, and a reflective walk that applies it.
#include "ruta/api/firewall.h"

#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/unknown_field_set.h"
#include "ruta/core/free_text.h"
#include "ruta/core/ids.h"
#include "ruta/core/partner_pseudonym.h"
#include "ruta/core/pseudonym.h"
#include "ruta/core/ubigeo.h"

namespace ruta::api {
namespace {

using google::protobuf::Descriptor;
using google::protobuf::EnumDescriptor;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

constexpr char kExemptMessage[] = "ruta.v1.PersonIdentifiers";
constexpr size_t kMaxNameChars = 63;
constexpr size_t kMaxTokenChars = 256;
constexpr size_t kDefaultMaxBytes = 64 * 1024;

enum class Format {
  kFreeText,
  kRequestId,
  kCaseId,
  kTransferId,
  kServiceId,
  kEventId,
  kActivityId,
  kPersonRef,
  kPartnerCaseRef,
  kToken,
  kRegion,
  kName,
  kPartnerId,
  kKeyName,
  kProvince,
};

struct FormatByName {
  absl::string_view field_name;
  Format format;
};

// The one table of formats. A string field whose name is not here is free
// text: add a field here only when its values are not written by people.
constexpr FormatByName kFormats[] = {
    {"request_id", Format::kRequestId},
    {"case_id", Format::kCaseId},
    {"transfer_id", Format::kTransferId},
    {"service_id", Format::kServiceId},
    {"event_id", Format::kEventId},
    {"activity_id", Format::kActivityId},
    {"person_ref", Format::kPersonRef},
    {"kept_ref", Format::kPersonRef},
    {"merged_ref", Format::kPersonRef},
    {"partner_case_ref", Format::kPartnerCaseRef},
    {"page_token", Format::kToken},
    {"next_page_token", Format::kToken},
    {"cursor", Format::kToken},
    {"region", Format::kRegion},
    {"regions", Format::kRegion},
    {"to_region", Format::kRegion},
    {"from_region", Format::kRegion},
    {"origin_region", Format::kRegion},
    {"destination_region", Format::kRegion},
    {"owner_region", Format::kRegion},
    {"peer_region", Format::kRegion},
    {"table", Format::kName},
    {"tables", Format::kName},
    {"dimensions", Format::kName},
    {"partner_id", Format::kPartnerId},
    {"provider", Format::kPartnerId},
    {"referrals", Format::kPartnerId},
    {"signing_key_id", Format::kKeyName},
    {"holder", Format::kKeyName},
    {"province", Format::kProvince},
    {"origin_province", Format::kProvince},
    {"destination_province", Format::kProvince},
};

struct LimitByField {
  absl::string_view full_name;
  size_t limit;
};

// Free-text fields with a limit other than kDefaultFreeTextChars.
constexpr LimitByField kFreeTextLimits[] = {
    {"ruta.v1.AwarenessActivity.campaign", 120},
};

// Bytes fields with a cap other than kDefaultMaxBytes (per element).
constexpr LimitByField kBytesLimits[] = {
    {"ruta.v1.PutCrlRequest.crls_der", 1024 * 1024},
};

Format FormatOf(const FieldDescriptor& field) {
  for (const FormatByName& entry : kFormats) {
    if (field.name() == entry.field_name) return entry.format;
  }
  return Format::kFreeText;
}

size_t LimitOf(const FieldDescriptor& field, const LimitByField* begin,
               const LimitByField* end, size_t default_limit) {
  for (const LimitByField* entry = begin; entry != end; ++entry) {
    if (field.full_name() == entry->full_name) return entry->limit;
  }
  return default_limit;
}

bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// `prefix` followed by exactly `letters` lowercase letters.
bool IsLetterId(absl::string_view value, absl::string_view prefix,
                size_t letters) {
  if (value.size() != prefix.size() + letters ||
      value.substr(0, prefix.size()) != prefix) {
    return false;
  }
  for (char c : value.substr(prefix.size())) {
    if (!IsLower(c)) return false;
  }
  return true;
}

bool IsRegionSlug(absl::string_view value) {
  if (value.empty() || value.size() > kMaxNameChars || !IsLower(value[0])) {
    return false;
  }
  for (char c : value) {
    if (!IsLower(c) && c != '-') return false;
  }
  return true;
}

// Charset of a name; whether its digits are identifier-shaped is checked
// apart (CheckName).
bool IsNameCharset(absl::string_view value, bool underscore) {
  if (value.empty() || value.size() > kMaxNameChars || !IsLower(value[0])) {
    return false;
  }
  for (char c : value) {
    if (!IsLower(c) && !IsDigit(c) && c != '-' && !(underscore && c == '_')) {
      return false;
    }
  }
  return true;
}

bool IsToken(absl::string_view value) {
  if (value.size() > kMaxTokenChars) return false;
  size_t end = value.size();
  // At most two '=' of padding, at the end only.
  for (int pad = 0; pad < 2 && end > 0 && value[end - 1] == '='; ++pad) --end;
  if (end == 0) return false;
  for (char c : value.substr(0, end)) {
    if (!IsLower(c) && !(c >= 'A' && c <= 'Z') && !IsDigit(c) && c != '-' &&
        c != '_') {
      return false;
    }
  }
  return true;
}

absl::Status Malformed(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, " must be ", what));
}

// A name may hold digits ("ed25519"), so it could hold a DNI: it is also
// scanned as free text.
absl::Status CheckName(absl::string_view path, absl::string_view value,
                       bool underscore, absl::string_view what) {
  if (!IsNameCharset(value, underscore)) return Malformed(path, what);
  return core::CheckFreeText(path, value, kMaxNameChars);
}

// "<region>/<name>", or only "<region>" when `name_optional`.
absl::Status CheckRegionAndName(absl::string_view path, absl::string_view value,
                                bool name_optional, absl::string_view what) {
  const size_t slash = value.find('/');
  if (slash == absl::string_view::npos) {
    if (name_optional && IsRegionSlug(value)) return absl::OkStatus();
    return Malformed(path, what);
  }
  if (!IsRegionSlug(value.substr(0, slash))) return Malformed(path, what);
  return CheckName(path, value.substr(slash + 1), /*underscore=*/false, what);
}

absl::Status CheckString(const FieldDescriptor& field, absl::string_view path,
                         const std::string& value) {
  switch (FormatOf(field)) {
    case Format::kFreeText:
      return core::CheckFreeText(
          path, value,
          LimitOf(field, std::begin(kFreeTextLimits), std::end(kFreeTextLimits),
                  kDefaultFreeTextChars));
    case Format::kRequestId:
      if (core::IsValidRequestId(value)) return absl::OkStatus();
      return Malformed(path,
                       "a UUID in canonical form (8-4-4-4-12 hexadecimal "
                       "digits)");
    case Format::kCaseId:
      if (core::IsValidCaseId(value)) return absl::OkStatus();
      return Malformed(path, "\"cs_\" followed by 20 lowercase letters");
    case Format::kTransferId:
      if (core::IsValidTransferId(value)) return absl::OkStatus();
      return Malformed(path, "\"tr_\" followed by 20 lowercase letters");
    case Format::kServiceId:
      if (core::IsValidServiceId(value)) return absl::OkStatus();
      return Malformed(path, "\"sv_\" followed by 20 lowercase letters");
    case Format::kEventId:
      if (IsLetterId(value, "ev_", 20)) return absl::OkStatus();
      return Malformed(path, "\"ev_\" followed by 20 lowercase letters");
    case Format::kActivityId:
      if (IsLetterId(value, "ac_", 20)) return absl::OkStatus();
      return Malformed(path, "\"ac_\" followed by 20 lowercase letters");
    case Format::kPersonRef:
      if (core::IsValidPersonRef(value)) return absl::OkStatus();
      return Malformed(path,
                       "a person_ref (\"pr\", a key version, \"_\", 32 "
                       "letters a to p)");
    case Format::kPartnerCaseRef:
      if (core::IsValidPartnerCaseRef(value)) return absl::OkStatus();
      return Malformed(path, "\"pc_\" followed by 32 letters a to p");
    case Format::kToken:
      if (IsToken(value)) return absl::OkStatus();
      return Malformed(path,
                       "a token this node issued, passed unchanged (letters, "
                       "digits, '-' and '_', at most 256)");
    case Format::kRegion:
      if (IsRegionSlug(value)) return absl::OkStatus();
      return Malformed(path,
                       "a region slug (lowercase letters and hyphens, e.g. "
                       "\"madre-de-dios\")");
    case Format::kName:
      return CheckName(path, value, /*underscore=*/true,
                       "a name (lowercase letters, digits, '_' and '-', "
                       "starting with a letter, at most 63)");
    case Format::kPartnerId:
      return CheckRegionAndName(path, value, /*name_optional=*/false,
                                "a partner id \"<region>/<name>\", e.g. "
                                "\"cusco/tdh\"");
    case Format::kKeyName:
      return CheckRegionAndName(path, value, /*name_optional=*/true,
                                "a region slug, optionally followed by "
                                "\"/<name>\"");
    case Format::kProvince:
      if (core::IsKnownProvince(value)) return absl::OkStatus();
      return Malformed(path,
                       "a UBIGEO province of the catalogue (4 digits, e.g. "
                       "\"0812\")");
  }
  return absl::InternalError("unhandled string format");
}

absl::Status CheckBytes(const FieldDescriptor& field, absl::string_view path,
                        const std::string& value) {
  const size_t limit = LimitOf(field, std::begin(kBytesLimits),
                               std::end(kBytesLimits), kDefaultMaxBytes);
  if (value.size() <= limit) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      path, " has ", value.size(), " bytes; at most ", limit, " are allowed"));
}

absl::Status CheckEnum(const FieldDescriptor& field, absl::string_view path,
                       int number) {
  const EnumDescriptor* type = field.enum_type();
  if (type->FindValueByNumber(number) != nullptr) return absl::OkStatus();
  // The number itself is not echoed: it is whatever the sender put there.
  return absl::InvalidArgumentError(absl::StrCat(
      path, " holds a number that is not a ", type->full_name(), " value"));
}

std::string PathOf(absl::string_view prefix, const FieldDescriptor& field) {
  return prefix.empty() ? field.name()
                        : absl::StrCat(prefix, ".", field.name());
}

absl::Status CheckFields(const Message& message, absl::string_view prefix,
                         bool exempt_strings);

// One value of `field`: element `index` of a repeated field, or the value of
// a singular one (index -1).
absl::Status CheckValue(const Message& message, const FieldDescriptor& field,
                        int index, absl::string_view path,
                        bool exempt_strings) {
  const Reflection& r = *message.GetReflection();
  const bool repeated = index >= 0;
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_STRING: {
      std::string scratch;
      const std::string& value =
          repeated
              ? r.GetRepeatedStringReference(message, &field, index, &scratch)
              : r.GetStringReference(message, &field, &scratch);
      if (field.type() == FieldDescriptor::TYPE_BYTES) {
        return CheckBytes(field, path, value);
      }
      // Only present values are checked: whether an id may be left empty is
      // the handler's to say. An element of a list is never optional.
      if (exempt_strings || (!repeated && value.empty())) {
        return absl::OkStatus();
      }
      return CheckString(field, path, value);
    }
    case FieldDescriptor::CPPTYPE_ENUM:
      return CheckEnum(field, path,
                       repeated ? r.GetRepeatedEnumValue(message, &field, index)
                                : r.GetEnumValue(message, &field));
    case FieldDescriptor::CPPTYPE_MESSAGE: {
      const Message& sub = repeated
                               ? r.GetRepeatedMessage(message, &field, index)
                               : r.GetMessage(message, &field);
      return CheckFields(
          sub, path,
          exempt_strings || sub.GetDescriptor()->full_name() == kExemptMessage);
    }
    default:
      return absl::OkStatus();  // numbers and booleans carry no text
  }
}

absl::Status CheckFields(const Message& message, absl::string_view prefix,
                         bool exempt_strings) {
  const Reflection& r = *message.GetReflection();
  const google::protobuf::UnknownFieldSet& unknown =
      r.GetUnknownFields(message);
  if (!unknown.empty()) {
    const std::string where =
        prefix.empty() ? std::string() : absl::StrCat(" (", prefix, ")");
    return absl::InvalidArgumentError(absl::StrCat(
        "unknown field number ", unknown.field(0).number(), " in ",
        message.GetDescriptor()->full_name(), where,
        ": this node does not know it; upgrade the client or drop the field"));
  }
  std::vector<const FieldDescriptor*> fields;
  r.ListFields(message, &fields);  // set fields, in field-number order
  for (const FieldDescriptor* field : fields) {
    const std::string path = PathOf(prefix, *field);
    if (!field->is_repeated()) {
      if (absl::Status s =
              CheckValue(message, *field, -1, path, exempt_strings);
          !s.ok()) {
        return s;
      }
      continue;
    }
    const int size = r.FieldSize(message, field);
    for (int i = 0; i < size; ++i) {
      if (absl::Status s =
              CheckValue(message, *field, i, absl::StrCat(path, "[", i, "]"),
                         exempt_strings);
          !s.ok()) {
        return s;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status CheckMessage(const Message& message) {
  return CheckFields(message, "",
                     message.GetDescriptor()->full_name() == kExemptMessage);
}

}  // namespace ruta::api
