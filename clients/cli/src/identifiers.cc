#include "ruta/cli/identifiers.h"

#include <algorithm>
#include <istream>
#include <iterator>
#include <optional>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "json.h"
#include "ruta/common/status_macros.h"

namespace ruta::cli {
namespace {

constexpr size_t kMaxNameLength = 200;

bool AllDigits(absl::string_view text) {
  return !text.empty() && std::all_of(text.begin(), text.end(), [](char c) {
    return c >= '0' && c <= '9';
  });
}

// A key is named in an error only when it looks like a key (so that a
// misplaced identifier is never echoed).
std::string DescribeKey(const std::string& key) {
  const bool key_like = !key.empty() && key.size() <= 32 &&
                        std::all_of(key.begin(), key.end(), [](char c) {
                          return absl::ascii_islower(c) || c == '_';
                        });
  return key_like ? absl::StrCat("unknown key \"", key, "\"")
                  : std::string("an unknown key");
}

absl::Status CheckName(absl::string_view field, absl::string_view value) {
  if (value.size() > kMaxNameLength) {
    return absl::InvalidArgumentError(
        absl::StrCat("identifiers: ", field, " is longer than ", kMaxNameLength,
                     " characters"));
  }
  return absl::OkStatus();
}

bool IsLeapYear(int year) {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

int DaysInMonth(int year, int month) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30,
                                  31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeapYear(year) ? 29 : kDays[month - 1];
}

}  // namespace

absl::Status ValidateDni(absl::string_view dni) {
  if (dni.size() != 8 || !AllDigits(dni)) {
    return absl::InvalidArgumentError(
        "identifiers: dni must be exactly 8 digits (keep leading zeros)");
  }
  return absl::OkStatus();
}

absl::Status ValidateCnv(absl::string_view cnv) {
  if (cnv.size() < 8 || cnv.size() > 12 || !AllDigits(cnv)) {
    return absl::InvalidArgumentError(
        "identifiers: cnv must be 8 to 12 digits");
  }
  return absl::OkStatus();
}

absl::Status ValidateDistrict(absl::string_view district) {
  if (district.size() != 6 || !AllDigits(district)) {
    return absl::InvalidArgumentError(
        "identifiers: birth_district must be a UBIGEO district code of 6 "
        "digits");
  }
  return absl::OkStatus();
}

absl::StatusOr<ruta::v1::Date> ParseBirthDate(absl::string_view text) {
  const absl::Status bad = absl::InvalidArgumentError(
      "identifiers: birth_date must be a calendar date YYYY-MM-DD");
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return bad;
  const absl::string_view year_text = text.substr(0, 4);
  const absl::string_view month_text = text.substr(5, 2);
  const absl::string_view day_text = text.substr(8, 2);
  if (!AllDigits(year_text) || !AllDigits(month_text) || !AllDigits(day_text)) {
    return bad;
  }
  int year = 0, month = 0, day = 0;
  if (!absl::SimpleAtoi(year_text, &year) ||
      !absl::SimpleAtoi(month_text, &month) ||
      !absl::SimpleAtoi(day_text, &day)) {
    return bad;
  }
  if (month < 1 || month > 12 || day < 1 || day > DaysInMonth(year, month)) {
    return bad;
  }
  if (year < 1900) {
    return absl::InvalidArgumentError("identifiers: birth_date is before 1900");
  }
  const absl::CivilDay today =
      absl::ToCivilDay(absl::Now(), absl::LocalTimeZone());
  if (absl::CivilDay(year, month, day) > today) {
    return absl::InvalidArgumentError(
        "identifiers: birth_date is in the future");
  }
  ruta::v1::Date date;
  date.set_year(year);
  date.set_month(month);
  date.set_day(day);
  return date;
}

absl::StatusOr<ruta::v1::PersonIdentifiers> ParseIdentifiersJson(
    absl::string_view json) {
  absl::StatusOr<google::protobuf::Struct> object =
      ParseJsonObject(json, /*with_details=*/false);
  if (!object.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("identifiers: ", object.status().message()));
  }
  ruta::v1::PersonIdentifiers identifiers;
  absl::Status result = absl::OkStatus();
  for (const auto& [key, value] : object->fields()) {
    const bool known = key == "dni" || key == "cnv" || key == "given_names" ||
                       key == "surnames" || key == "birth_date" ||
                       key == "birth_district";
    if (!known) {
      result = absl::InvalidArgumentError(absl::StrCat(
          "identifiers: ", DescribeKey(key),
          "; the keys are dni, cnv, given_names, surnames, birth_date, "
          "birth_district"));
      break;
    }
    if (value.kind_case() == google::protobuf::Value::kNullValue) continue;
    if (value.kind_case() != google::protobuf::Value::kStringValue) {
      result = absl::InvalidArgumentError(
          absl::StrCat("identifiers: ", key,
                       " must be a string (in quotes, so that leading "
                       "zeros are kept)"));
      break;
    }
    const absl::string_view text =
        absl::StripAsciiWhitespace(value.string_value());
    if (text.empty()) continue;
    if (key == "dni") {
      result = ValidateDni(text);
      if (result.ok()) identifiers.set_dni(std::string(text));
    } else if (key == "cnv") {
      result = ValidateCnv(text);
      if (result.ok()) identifiers.set_cnv(std::string(text));
    } else if (key == "given_names") {
      result = CheckName(key, text);
      if (result.ok()) identifiers.set_given_names(std::string(text));
    } else if (key == "surnames") {
      result = CheckName(key, text);
      if (result.ok()) identifiers.set_surnames(std::string(text));
    } else if (key == "birth_date") {
      absl::StatusOr<ruta::v1::Date> date = ParseBirthDate(text);
      result = date.status();
      if (date.ok()) *identifiers.mutable_birth_date() = *date;
    } else {
      result = ValidateDistrict(text);
      if (result.ok()) identifiers.set_birth_district(std::string(text));
    }
    if (!result.ok()) break;
  }
  // The parsed document held identifiers too.
  for (auto& [key, value] : *object->mutable_fields()) {
    if (value.kind_case() == google::protobuf::Value::kStringValue) {
      WipeString(value.mutable_string_value());
    }
  }
  if (!result.ok()) {
    WipeIdentifiers(&identifiers);
    return result;
  }
  return identifiers;
}

absl::StatusOr<ruta::v1::PersonIdentifiers> ReadIdentifiersFile(
    const std::string& path, std::istream& in) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(in),
                std::istreambuf_iterator<char>());
    if (in.bad()) {
      return absl::FailedPreconditionError(
          "cannot read the identifiers from stdin");
    }
  } else {
    absl::StatusOr<std::string> contents = ReadFile(path);
    if (!contents.ok()) {
      return absl::Status(contents.status().code(),
                          absl::StrCat("cannot read the identifiers file ",
                                       contents.status().message()));
    }
    text = std::move(*contents);
  }
  absl::StatusOr<ruta::v1::PersonIdentifiers> identifiers =
      ParseIdentifiersJson(text);
  WipeString(&text);
  return identifiers;
}

bool HasIdentifiers(const ruta::v1::PersonIdentifiers& identifiers) {
  return !identifiers.dni().empty() || !identifiers.cnv().empty() ||
         !identifiers.given_names().empty() ||
         !identifiers.surnames().empty() || identifiers.has_birth_date() ||
         !identifiers.birth_district().empty();
}

void WipeString(std::string* text) {
  // volatile so that the stores are not elided.
  volatile char* data = text->data();
  for (size_t i = 0; i < text->size(); ++i) data[i] = '\0';
  text->clear();
}

void WipeIdentifiers(ruta::v1::PersonIdentifiers* identifiers) {
  WipeString(identifiers->mutable_dni());
  WipeString(identifiers->mutable_cnv());
  WipeString(identifiers->mutable_given_names());
  WipeString(identifiers->mutable_surnames());
  WipeString(identifiers->mutable_birth_district());
  identifiers->Clear();
}

}  // namespace ruta::cli
