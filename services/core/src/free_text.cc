#include "ruta/core/free_text.h"

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"

namespace ruta::core {
namespace {

// Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing above
// U+10FFFF.
bool DecodeUtf8(absl::string_view s, std::u32string* out) {
  out->clear();
  out->reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    if (b0 < 0x80) {
      out->push_back(b0);
      ++i;
      continue;
    }
    int length;
    char32_t cp;
    char32_t min;
    if ((b0 & 0xE0) == 0xC0) {
      length = 2;
      cp = b0 & 0x1F;
      min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      length = 3;
      cp = b0 & 0x0F;
      min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      length = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    } else {
      return false;
    }
    if (s.size() - i < static_cast<size_t>(length)) return false;
    for (int k = 1; k < length; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    out->push_back(cp);
    i += length;
  }
  return true;
}

// ASCII and full-width digits: a clerk's keyboard may produce either.
bool IsDigit(char32_t c) {
  return (c >= '0' && c <= '9') || (c >= 0xFF10 && c <= 0xFF19);
}
char AsciiDigit(char32_t c) {
  return c <= '9' ? static_cast<char>(c) : static_cast<char>('0' + c - 0xFF10);
}

bool IsSpaceSeparator(char32_t c) {
  return c == ' ' || c == '\t' || c == 0x00A0 || c == 0x2009 || c == 0x202F;
}
// What people put between the digits of a number they write in groups.
bool IsSeparator(char32_t c) {
  return IsSpaceSeparator(c) || c == '.' || c == '-' || c == '/' || c == '(' ||
         c == ')' || (c >= 0x2010 && c <= 0x2013);
}

bool IsControl(char32_t c) {
  return (c < 0x20 && c != '\t' && c != '\n') || (c >= 0x7F && c <= 0x9F);
}

// Format characters that render as nothing and could split a digit run
// invisibly.
bool IsInvisible(char32_t c) {
  return c == 0x00AD || c == 0x061C || c == 0x180E ||
         (c >= 0x200B && c <= 0x200F) || (c >= 0x202A && c <= 0x202E) ||
         (c >= 0x2060 && c <= 0x206F) || c == 0xFEFF ||
         (c >= 0xFFF9 && c <= 0xFFFB);
}

bool IsAsciiLetter(char32_t c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool IsAsciiAlnum(char32_t c) {
  return IsAsciiLetter(c) || (c >= '0' && c <= '9');
}
// Part of a word for the handle rule: an '@' inside a word ("niñ@s") is
// not a handle.
bool IsWordChar(char32_t c) {
  return IsAsciiAlnum(c) || c == '_' || c == '.' ||
         (c >= 0xC0 && c != 0xD7 && c != 0xF7 && !IsSeparator(c));
}

int Number(const std::string& digits) {
  int value = 0;
  for (char d : digits) value = value * 10 + (d - '0');
  return value;
}

// Digits joined by separators: "12.345.678", "+51 (84) 234567".
struct DigitGroup {
  std::vector<std::string> chunks;  // ASCII digits
  // The one non-space character of the gap before chunks[i + 1], or 0 when
  // the gap is only spaces.
  std::vector<char32_t> joiners;
  bool after_plus = false;
};

// Where the gap at `from` ends if it joins two digit chunks: 1 to 3
// separators holding at most one that is not a space, and the next
// character a digit. A '.' joins only when alone: ". " ends a sentence.
// Returns `from` when it does not join.
size_t JoiningGapEnd(const std::u32string& t, size_t from, char32_t* joiner) {
  size_t k = from;
  int others = 0;
  *joiner = 0;
  while (k < t.size() && k - from < 3 && IsSeparator(t[k])) {
    if (!IsSpaceSeparator(t[k])) {
      ++others;
      *joiner = t[k];
    }
    ++k;
  }
  if (k == from || k >= t.size() || !IsDigit(t[k]) || others > 1) return from;
  if (*joiner == '.' && k - from != 1) return from;
  return k;
}

bool IsDayMonth(const std::string& day, const std::string& month) {
  if (day.size() > 2 || month.size() > 2) return false;
  const int d = Number(day);
  const int m = Number(month);
  return d >= 1 && d <= 31 && m >= 1 && m <= 12;
}

bool IsDate(const std::string& a, const std::string& b, const std::string& c) {
  // d/m/y with a 2- or 4-digit year; y-m-d with a 4-digit year.
  if ((c.size() == 2 || c.size() == 4) && IsDayMonth(a, b)) return true;
  return a.size() == 4 && IsDayMonth(c, b);
}

bool IsYear(const std::string& chunk) {
  if (chunk.size() != 4) return false;
  const int y = Number(chunk);
  return y >= 1900 && y <= 2099;
}

FreeTextFinding Classify(const DigitGroup& g) {
  for (size_t k = 0; k + 2 < g.chunks.size(); ++k) {
    const char32_t j = g.joiners[k];
    if ((j == '/' || j == '-' || j == '.') && g.joiners[k + 1] == j &&
        IsDate(g.chunks[k], g.chunks[k + 1], g.chunks[k + 2])) {
      return FreeTextFinding::kDate;
    }
  }
  std::string digits;
  bool all_years = g.chunks.size() >= 2;
  for (const std::string& chunk : g.chunks) {
    digits += chunk;
    all_years = all_years && IsYear(chunk);
  }
  if ((g.after_plus && digits.size() >= 7) ||
      (digits.size() == 9 && digits[0] == '9') ||
      (digits.size() == 11 && digits.compare(0, 3, "519") == 0)) {
    return FreeTextFinding::kPhoneNumber;
  }
  // "2013-2014", "2013 2014 2015": years, not a number.
  if (all_years) return FreeTextFinding::kNone;
  if (digits.size() >= 8) return FreeTextFinding::kLongNumber;
  return FreeTextFinding::kNone;
}

FreeTextFinding ScanDigitGroups(const std::u32string& t) {
  size_t i = 0;
  while (i < t.size()) {
    if (!IsDigit(t[i])) {
      ++i;
      continue;
    }
    DigitGroup g;
    g.after_plus = i > 0 && (t[i - 1] == '+' || t[i - 1] == 0xFF0B);
    for (;;) {
      std::string chunk;
      while (i < t.size() && IsDigit(t[i])) chunk.push_back(AsciiDigit(t[i++]));
      g.chunks.push_back(std::move(chunk));
      char32_t joiner;
      const size_t next = JoiningGapEnd(t, i, &joiner);
      if (next == i) break;
      g.joiners.push_back(joiner);
      i = next;
    }
    if (FreeTextFinding f = Classify(g); f != FreeTextFinding::kNone) return f;
  }
  return FreeTextFinding::kNone;
}

// Written dates: tokens of letters (ASCII-lowercased), digits, or one
// punctuation character; spaces separate tokens.
struct Token {
  enum Kind { kWord, kNumber, kPunct } kind;
  std::u32string text;
};

std::vector<Token> Tokenize(const std::u32string& t) {
  std::vector<Token> tokens;
  size_t i = 0;
  while (i < t.size()) {
    const char32_t c = t[i];
    if (IsSpaceSeparator(c) || c == '\n' || c == '\r') {
      ++i;
    } else if (IsDigit(c)) {
      Token token{Token::kNumber, {}};
      while (i < t.size() && IsDigit(t[i]))
        token.text.push_back(AsciiDigit(t[i++]));
      tokens.push_back(std::move(token));
    } else if (IsAsciiLetter(c) || (c >= 0xC0 && !IsSeparator(c))) {
      Token token{Token::kWord, {}};
      while (i < t.size() &&
             (IsAsciiLetter(t[i]) || (t[i] >= 0xC0 && !IsSeparator(t[i])))) {
        char32_t l = t[i++];
        if (l >= 'A' && l <= 'Z') l += 'a' - 'A';
        token.text.push_back(l);
      }
      tokens.push_back(std::move(token));
    } else {
      tokens.push_back(Token{Token::kPunct, std::u32string(1, c)});
      ++i;
    }
  }
  return tokens;
}

bool IsMonthName(const std::u32string& word) {
  // Full names (Peru writes "setiembre") and the usual abbreviations.
  static const char32_t* const kMonths[] = {
      U"enero",   U"febrero",   U"marzo",     U"abril",      U"mayo",
      U"junio",   U"julio",     U"agosto",    U"septiembre", U"setiembre",
      U"octubre", U"noviembre", U"diciembre", U"ene",        U"feb",
      U"mar",     U"abr",       U"may",       U"jun",        U"jul",
      U"ago",     U"sep",       U"set",       U"oct",        U"nov",
      U"dic"};
  for (const char32_t* month : kMonths) {
    if (word == month) return true;
  }
  return false;
}

bool Is(const Token& token, const char32_t* text) { return token.text == text; }

bool IsPunctJoiner(const Token& token) {
  return token.kind == Token::kPunct &&
         (Is(token, U"-") || Is(token, U"/") || Is(token, U"."));
}

// "3 de marzo de 2014", "3 marzo 2014", "1º de setiembre del 2010",
// "03-mar-2014", "3/mar./14".
bool HasWrittenDate(const std::vector<Token>& tokens) {
  for (size_t i = 0; i < tokens.size(); ++i) {
    const Token& day = tokens[i];
    if (day.kind != Token::kNumber || day.text.size() > 2) continue;
    const int d = (day.text.size() == 2 ? (day.text[0] - '0') * 10 : 0) +
                  (day.text.back() - '0');
    if (d < 1 || d > 31) continue;
    size_t k = i + 1;
    // Ordinal: "1º", "1°", "1ro", "1er".
    if (k < tokens.size() && (Is(tokens[k], U"º") || Is(tokens[k], U"°") ||
                              Is(tokens[k], U"ro") || Is(tokens[k], U"er"))) {
      ++k;
    }
    for (int filler = 0; filler < 2 && k < tokens.size() &&
                         (Is(tokens[k], U"de") || IsPunctJoiner(tokens[k]));
         ++filler) {
      ++k;
    }
    if (k >= tokens.size() || tokens[k].kind != Token::kWord ||
        !IsMonthName(tokens[k].text)) {
      continue;
    }
    ++k;
    bool punct_before_year = false;
    for (int filler = 0; filler < 2 && k < tokens.size() &&
                         (Is(tokens[k], U"de") || Is(tokens[k], U"del") ||
                          Is(tokens[k], U",") || IsPunctJoiner(tokens[k]));
         ++filler) {
      punct_before_year = punct_before_year || IsPunctJoiner(tokens[k]);
      ++k;
    }
    if (k >= tokens.size() || tokens[k].kind != Token::kNumber) continue;
    const std::u32string& year = tokens[k].text;
    // A 2-digit year only in the compact forms ("03-mar-14"): after a word
    // ("3 de mayo 12 niños") it is a count.
    if (year.size() == 4 || (year.size() == 2 && punct_before_year)) {
      return true;
    }
  }
  return false;
}

// '@' followed by a domain with a dot ("ana@example.org"), or starting a
// word followed by a handle ("@ana_quispe").
FreeTextFinding ScanAt(const std::u32string& t) {
  for (size_t i = 0; i < t.size(); ++i) {
    if (t[i] != '@' && t[i] != 0xFF20) continue;
    size_t j = i + 1;
    while (j < t.size() &&
           (IsAsciiAlnum(t[j]) || t[j] == '-' || t[j] == '.' || t[j] == '_')) {
      ++j;
    }
    std::u32string domain = t.substr(i + 1, j - i - 1);
    while (!domain.empty() && domain.back() == '.') domain.pop_back();
    // Labels separated by dots, the last one of 2 letters or more.
    const size_t last_dot = domain.rfind('.');
    if (last_dot != std::u32string::npos && last_dot > 0 &&
        domain.find(U"..") == std::u32string::npos && domain[0] != '.') {
      const std::u32string tld = domain.substr(last_dot + 1);
      bool letters = tld.size() >= 2;
      for (char32_t c : tld) letters = letters && IsAsciiLetter(c);
      if (letters) return FreeTextFinding::kEmailAddress;
    }
    const bool word_start = i == 0 || !IsWordChar(t[i - 1]);
    if (word_start && j - i - 1 >= 3) return FreeTextFinding::kSocialHandle;
  }
  return FreeTextFinding::kNone;
}

const char* KindName(FreeTextFinding finding) {
  switch (finding) {
    case FreeTextFinding::kLongNumber:
      return "a long number such as a DNI or CNV";
    case FreeTextFinding::kPhoneNumber:
      return "a phone number";
    case FreeTextFinding::kEmailAddress:
      return "an e-mail address";
    case FreeTextFinding::kSocialHandle:
      return "a social-media handle";
    case FreeTextFinding::kDate:
      return "a date";
    default:
      return "an identifier";
  }
}

FreeTextFinding Scan(absl::string_view value, size_t max_chars,
                     size_t* characters) {
  std::u32string text;
  if (!DecodeUtf8(value, &text)) return FreeTextFinding::kInvalidUtf8;
  *characters = text.size();
  if (text.size() > max_chars) return FreeTextFinding::kTooLong;
  for (size_t i = 0; i < text.size(); ++i) {
    // CR counts as part of a newline only in CRLF (what HTML forms send).
    if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      continue;
    }
    if (IsControl(text[i])) return FreeTextFinding::kControlCharacter;
    if (IsInvisible(text[i])) return FreeTextFinding::kInvisibleCharacter;
  }
  if (FreeTextFinding f = ScanDigitGroups(text); f != FreeTextFinding::kNone) {
    return f;
  }
  if (HasWrittenDate(Tokenize(text))) return FreeTextFinding::kDate;
  return ScanAt(text);
}

}  // namespace

FreeTextFinding ScanFreeText(absl::string_view value, size_t max_chars) {
  size_t characters = 0;
  return Scan(value, max_chars, &characters);
}

absl::Status CheckFreeText(absl::string_view field_path,
                           absl::string_view value, size_t max_chars) {
  size_t characters = 0;
  const FreeTextFinding finding = Scan(value, max_chars, &characters);
  switch (finding) {
    case FreeTextFinding::kNone:
      return absl::OkStatus();
    case FreeTextFinding::kInvalidUtf8:
      return absl::InvalidArgumentError(
          absl::StrCat(field_path, " is not valid UTF-8 text"));
    case FreeTextFinding::kTooLong:
      return absl::InvalidArgumentError(
          absl::StrCat(field_path, " has ", characters, " characters; at most ",
                       max_chars, " are allowed"));
    case FreeTextFinding::kControlCharacter:
      return absl::InvalidArgumentError(absl::StrCat(
          field_path,
          " contains a control character; free text may hold printable "
          "characters, newlines and tabs only"));
    case FreeTextFinding::kInvisibleCharacter:
      return absl::InvalidArgumentError(absl::StrCat(
          field_path,
          " contains an invisible formatting character (zero-width or "
          "bidirectional control); free text must be plain visible text"));
    default:
      return absl::InvalidArgumentError(absl::StrCat(
          field_path, " looks like it holds ", KindName(finding),
          "; free text must not carry identifiers (DNI, phone, e-mail, "
          "dates)"));
  }
}

}  // namespace ruta::core
