#include "ruta/cli/enums.h"

#include <algorithm>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ruta::cli {
namespace {

using google::protobuf::EnumDescriptor;
using google::protobuf::EnumValueDescriptor;

// "STAGE_" for Stage: the name of value 0 without "UNSPECIFIED".
std::string ValuePrefix(const EnumDescriptor* descriptor) {
  const EnumValueDescriptor* zero = descriptor->FindValueByNumber(0);
  if (zero == nullptr) return "";
  std::string name = zero->name();
  absl::string_view view = name;
  if (absl::ConsumeSuffix(&view, "UNSPECIFIED")) return std::string(view);
  return "";
}

// Lowercase, '-' between words; input side also folds '_' and spaces.
std::string Fold(absl::string_view text) {
  std::string folded = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
  std::replace(folded.begin(), folded.end(), '_', '-');
  std::replace(folded.begin(), folded.end(), ' ', '-');
  return folded;
}

// The raw spelling ("18-plus") of a value.
std::string RawName(const EnumDescriptor* descriptor,
                    const EnumValueDescriptor* value) {
  absl::string_view name = value->name();
  absl::ConsumePrefix(&name, ValuePrefix(descriptor));
  return Fold(name);
}

std::string Spelling(const std::string& raw) {
  absl::string_view view = raw;
  if (absl::ConsumeSuffix(&view, "-plus")) return absl::StrCat(view, "+");
  return raw;
}

std::vector<const EnumValueDescriptor*> Accepted(
    const EnumDescriptor* descriptor, const std::vector<int>& allowed) {
  std::vector<const EnumValueDescriptor*> values;
  for (int i = 0; i < descriptor->value_count(); ++i) {
    const EnumValueDescriptor* value = descriptor->value(i);
    if (value->number() == 0) continue;
    if (!allowed.empty() && std::find(allowed.begin(), allowed.end(),
                                      value->number()) == allowed.end()) {
      continue;
    }
    values.push_back(value);
  }
  return values;
}

}  // namespace

std::string EnumValueFlagName(const EnumDescriptor* descriptor, int number) {
  if (number == 0) return "-";
  const EnumValueDescriptor* value = descriptor->FindValueByNumber(number);
  if (value == nullptr) return absl::StrCat("unknown(", number, ")");
  return Spelling(RawName(descriptor, value));
}

std::vector<std::string> EnumFlagNames(const EnumDescriptor* descriptor,
                                       const std::vector<int>& allowed) {
  std::vector<std::string> names;
  for (const EnumValueDescriptor* value : Accepted(descriptor, allowed)) {
    names.push_back(Spelling(RawName(descriptor, value)));
  }
  return names;
}

absl::StatusOr<int> ParseEnumValue(const EnumDescriptor* descriptor,
                                   absl::string_view option,
                                   absl::string_view text,
                                   const std::vector<int>& allowed) {
  const std::string folded = Fold(text);
  for (const EnumValueDescriptor* value : Accepted(descriptor, allowed)) {
    const std::string raw = RawName(descriptor, value);
    if (folded == raw || folded == Spelling(raw)) return value->number();
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "invalid value \"", text, "\" for ", option, "; valid values: ",
      absl::StrJoin(EnumFlagNames(descriptor, allowed), ", ")));
}

absl::StatusOr<std::vector<int>> ParseEnumValueList(
    const EnumDescriptor* descriptor, absl::string_view option,
    const std::vector<std::string>& items) {
  std::vector<int> numbers;
  for (const std::string& item : items) {
    for (absl::string_view part : absl::StrSplit(item, ',')) {
      if (absl::StripAsciiWhitespace(part).empty()) continue;
      absl::StatusOr<int> number = ParseEnumValue(descriptor, option, part, {});
      if (!number.ok()) return number.status();
      if (std::find(numbers.begin(), numbers.end(), *number) == numbers.end()) {
        numbers.push_back(*number);
      }
    }
  }
  if (numbers.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(option, " needs at least one value; valid values: ",
                     absl::StrJoin(EnumFlagNames(descriptor, {}), ", ")));
  }
  return numbers;
}

absl::StatusOr<std::string> NormalizeRegion(absl::string_view option,
                                            absl::string_view text) {
  std::string slug = Fold(text);
  if (slug == "cuzco") slug = "cusco";
  bool valid = slug.size() >= 2 && slug.size() <= 32 && slug.front() != '-' &&
               slug.back() != '-';
  for (char c : slug) {
    if (!(absl::ascii_islower(c) || c == '-')) valid = false;
  }
  if (!valid) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid region \"", text, "\" for ", option,
        ": a region is a slug of lowercase letters and hyphens, e.g. cusco "
        "or madre-de-dios"));
  }
  return slug;
}

}  // namespace ruta::cli
