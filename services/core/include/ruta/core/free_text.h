// The free-text rule of the identifier firewall (DESIGN.md §6).
//
// Free text (a transfer note, a campaign name) is the one place where a clerk
// could type an identifier by habit: "llamar a la tía al 987 654 321". Such
// text travels to the other region and is shown to its offices, so it must
// hold no identifier. Names cannot be told from ordinary words and are not
// caught; what is caught is everything identifier-*shaped*.
//
// Caught (the value is refused):
//   * a long number: 8 or more digits in one group, where a group is digits
//     joined by single separators (space, no-break or thin space, '.', '-',
//     '/', parentheses; a separator may have a space on each side, except
//     '.', which joins only directly between digits: ". " ends a sentence):
//     "12345678", "12.345.678", "DNI12345678", a CNV, a landline with its
//     area code "(084) 234567";
//   * a phone number: '+' directly followed by a group of 7 or more digits
//     ("+51 987 654 321", "+591 71234567"), a 9-digit group starting with 9
//     (a Peruvian mobile, "987 654 321", "987-654-321"), or 51 + such a
//     mobile ("51987654321");
//   * an e-mail address: '@' followed by a domain with a dot
//     ("ana@example.org"), and a social-media handle: '@' at the start of a
//     word followed by 3 or more letters, digits, '_' or '.' ("@ana_quispe");
//   * a date with a day: numeric d/m/y, d-m-y, d.m.y (2- or 4-digit year)
//     and y-m-d, y/m/d, y.m.d (4-digit year) with a valid day and month
//     ("12/03/2014", "3-3-14", "2014-03-12"); written Spanish dates with a
//     day, a month name or abbreviation and a year: "3 de marzo de 2014",
//     "3 marzo 2014", "1º de setiembre del 2010", "03-mar-2014".
//   Digits count whether ASCII or full-width ("１２３４５６７８").
//
// Not caught (the value passes), by decision:
//   * a bare year, a month with its year, a day with its month:
//     "año 2014", "marzo de 2014", "03/2014", "llega el 3 de marzo". The
//     design keeps a child's dates at month precision, and transfers'
//     operational days are shown to the two offices anyway; what identifies
//     is the full date of birth;
//   * a list or range of years, even of 8 digits or more: "2013-2014",
//     "2013 2014 2015" (every part a 4-digit year from 1900 to 2099);
//   * numbers of 7 digits or fewer that are not phone-shaped: "120 km",
//     "2 hermanos", "S/ 1.500.000", a landline without area code ("234567");
//   * names, addresses, URLs, obfuscated e-mails ("ana [at] example.org",
//     "ana @ example.org") and the inclusive '@' inside words ("niñ@s").
//
// Refused as malformed text rather than as an identifier: invalid UTF-8
// (including overlong forms and surrogates), control characters other than
// newline and tab (C0, DEL, C1; a CR is accepted only in a CRLF, which is
// what HTML forms send), and invisible formatting characters
// (zero-width spaces and joiners, bidirectional controls, the BOM), which
// could hide a digit run from a reader.
#ifndef RUTA_CORE_FREE_TEXT_H_
#define RUTA_CORE_FREE_TEXT_H_

#include <cstddef>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ruta::core {

// What CheckFreeText found; kNone when the text is clean.
enum class FreeTextFinding {
  kNone,
  kInvalidUtf8,
  kTooLong,
  kControlCharacter,
  kInvisibleCharacter,
  kLongNumber,
  kPhoneNumber,
  kEmailAddress,
  kSocialHandle,
  kDate,
};

// What is wrong with `value`, checked in this order: UTF-8, length in Unicode
// characters (code points) against `max_chars`, control and invisible
// characters, then identifier shapes. A digit group that is a date or a phone
// number is reported as such, not as a long number.
FreeTextFinding ScanFreeText(absl::string_view value, size_t max_chars);

// OK when `value` is acceptable free text of at most `max_chars` characters.
// Otherwise INVALID_ARGUMENT naming `field_path` and what was found, e.g.
//   "transfer.note looks like it holds a phone number; free text must not
//    carry identifiers (DNI, phone, e-mail, dates)"
//   "note has 281 characters; at most 280 are allowed"
// The message never contains any part of `value`.
absl::Status CheckFreeText(absl::string_view field_path,
                           absl::string_view value, size_t max_chars);

}  // namespace ruta::core

#endif  // RUTA_CORE_FREE_TEXT_H_
