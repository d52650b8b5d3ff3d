// Command-line spelling of the contract's enums: the value name without the
// enum's prefix, lowercase, '_' as '-' (STAGE_IMMEDIATE_PROTECTION is
// "immediate-protection"), and "+" for "_PLUS" (AGE_BAND_18_PLUS is "18+").
// Input is case-insensitive and accepts '_' for '-'. *_UNSPECIFIED is never
// accepted.
#ifndef RUTA_CLI_ENUMS_H_
#define RUTA_CLI_ENUMS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/generated_enum_reflection.h"

namespace ruta::cli {

// Spelling of value `number` of `descriptor`; "-" for 0 (unspecified), and
// "unknown(N)" for a number the descriptor does not know.
std::string EnumValueFlagName(
    const google::protobuf::EnumDescriptor* descriptor, int number);

// Spellings of the accepted values: `allowed`, or every non-zero value when
// `allowed` is empty, in declaration order.
std::vector<std::string> EnumFlagNames(
    const google::protobuf::EnumDescriptor* descriptor,
    const std::vector<int>& allowed = {});

// Parses `text` given for `option` (e.g. "--stage"). INVALID_ARGUMENT listing
// the valid values when it is not one of them.
absl::StatusOr<int> ParseEnumValue(
    const google::protobuf::EnumDescriptor* descriptor,
    absl::string_view option, absl::string_view text,
    const std::vector<int>& allowed = {});

template <typename E>
std::string EnumFlagName(E value) {
  return EnumValueFlagName(google::protobuf::GetEnumDescriptor<E>(),
                           static_cast<int>(value));
}

template <typename E>
std::vector<std::string> EnumFlagNames(const std::vector<E>& allowed = {}) {
  return EnumFlagNames(google::protobuf::GetEnumDescriptor<E>(),
                       std::vector<int>(allowed.begin(), allowed.end()));
}

template <typename E>
absl::StatusOr<E> ParseEnumFlag(absl::string_view option,
                                absl::string_view text,
                                const std::vector<E>& allowed = {}) {
  absl::StatusOr<int> number =
      ParseEnumValue(google::protobuf::GetEnumDescriptor<E>(), option, text,
                     std::vector<int>(allowed.begin(), allowed.end()));
  if (!number.ok()) return number.status();
  return static_cast<E>(*number);
}

// Parses a list given as repeated and/or comma-separated values (each item
// as ParseEnumValue; empty items are ignored, duplicates dropped, order
// kept). INVALID_ARGUMENT when an item is invalid or the list is empty.
absl::StatusOr<std::vector<int>> ParseEnumValueList(
    const google::protobuf::EnumDescriptor* descriptor,
    absl::string_view option, const std::vector<std::string>& items);

template <typename E>
absl::StatusOr<std::vector<E>> ParseEnumListFlag(
    absl::string_view option, const std::vector<std::string>& items) {
  absl::StatusOr<std::vector<int>> numbers = ParseEnumValueList(
      google::protobuf::GetEnumDescriptor<E>(), option, items);
  if (!numbers.ok()) return numbers.status();
  std::vector<E> values;
  for (int number : *numbers) values.push_back(static_cast<E>(number));
  return values;
}

// Normalizes a region slug: case-insensitive, spaces and '_' as '-', and the
// CLI-only alias "cuzco" for "cusco". INVALID_ARGUMENT naming `option` when
// the result is not a slug (2 to 32 lowercase letters and hyphens).
absl::StatusOr<std::string> NormalizeRegion(absl::string_view option,
                                            absl::string_view text);

}  // namespace ruta::cli

#endif  // RUTA_CLI_ENUMS_H_
