// The free-text rule of the identifier firewall (core/free_text.h):
// identifier-shaped text is refused, named by kind and never echoed; ordinary
// Spanish text passes.
#include "ruta/core/free_text.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr size_t kLimit = 280;

struct Refused {
  std::string value;
  FreeTextFinding finding;
  std::string kind;  // what the message must name
};

// Neither the value nor any of its words holding a digit or '@' may appear in
// the message: a partial echo ("654 321") leaks as much as a full one.
void ExpectNoEcho(const std::string& message, const std::string& value) {
  EXPECT_THAT(message, Not(HasSubstr(value)));
  std::string word;
  bool identifying = false;
  for (char c : value + " ") {
    if (c == ' ') {
      if (identifying) {
        EXPECT_THAT(message, Not(HasSubstr(word)));
      }
      word.clear();
      identifying = false;
    } else {
      word.push_back(c);
      identifying = identifying || (c >= '0' && c <= '9') || c == '@';
    }
  }
}

TEST(FreeTextTest, IdentifierShapedTextIsRefusedByKindWithoutEcho) {
  const std::vector<Refused> cases = {
      // DNI, CNV, long numbers, grouped or not, anywhere in the text.
      {"12345678", FreeTextFinding::kLongNumber, "DNI"},
      {"DNI 12.345.678 de la madre", FreeTextFinding::kLongNumber, "DNI"},
      {"dni12345678", FreeTextFinding::kLongNumber, "DNI"},
      {"CNV 1234-5678-90", FreeTextFinding::kLongNumber, "DNI"},
      {"12 345 678", FreeTextFinding::kLongNumber, "DNI"},
      {"12/345/678", FreeTextFinding::kLongNumber, "DNI"},
      {"fijo (084) 234567", FreeTextFinding::kLongNumber, "DNI"},
      {"01 234 5678", FreeTextFinding::kLongNumber, "DNI"},
      {"\xEF\xBC\x91\xEF\xBC\x92\xEF\xBC\x93\xEF\xBC\x94\xEF\xBC\x95\xEF\xBC"
       "\x96\xEF\xBC\x97\xEF\xBC\x98",  // full-width 12345678
       FreeTextFinding::kLongNumber, "DNI"},
      // Phones.
      {"+51 987 654 321", FreeTextFinding::kPhoneNumber, "phone"},
      {"llamar al +51987654321", FreeTextFinding::kPhoneNumber, "phone"},
      {"+51 (84) 234567", FreeTextFinding::kPhoneNumber, "phone"},
      {"+591 7123456", FreeTextFinding::kPhoneNumber, "phone"},
      {"987654321", FreeTextFinding::kPhoneNumber, "phone"},
      {"cel. 987 654 321", FreeTextFinding::kPhoneNumber, "phone"},
      {"987-654-321", FreeTextFinding::kPhoneNumber, "phone"},
      {"987 - 654 - 321", FreeTextFinding::kPhoneNumber, "phone"},
      {"51 987654321", FreeTextFinding::kPhoneNumber, "phone"},
      // E-mail and handles.
      {"ana@example.org", FreeTextFinding::kEmailAddress, "e-mail"},
      {"escribir a ana.quispe@gob.pe.", FreeTextFinding::kEmailAddress,
       "e-mail"},
      {"josé@correo.com", FreeTextFinding::kEmailAddress, "e-mail"},
      {"contactada por @ana_quispe", FreeTextFinding::kSocialHandle, "handle"},
      // Numeric dates.
      {"12/03/2014", FreeTextFinding::kDate, "date"},
      {"nació el 3/3/14", FreeTextFinding::kDate, "date"},
      {"12-03-2014", FreeTextFinding::kDate, "date"},
      {"12.03.2014", FreeTextFinding::kDate, "date"},
      {"2014-03-12", FreeTextFinding::kDate, "date"},
      {"2014/3/12", FreeTextFinding::kDate, "date"},
      {"12 / 03 / 2014", FreeTextFinding::kDate, "date"},
      // Written dates.
      {"3 de marzo de 2014", FreeTextFinding::kDate, "date"},
      {"3 marzo 2014", FreeTextFinding::kDate, "date"},
      {"nacida el 1º de Setiembre del 2010", FreeTextFinding::kDate, "date"},
      {"03-mar-2014", FreeTextFinding::kDate, "date"},
      {"3/mar./14", FreeTextFinding::kDate, "date"},
      {"3 DE MARZO DE 2014", FreeTextFinding::kDate, "date"},
  };
  for (const Refused& c : cases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(ScanFreeText(c.value, kLimit), c.finding);
    const absl::Status s = CheckFreeText("transfer.note", c.value, kLimit);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("transfer.note looks like it holds"));
    EXPECT_THAT(s.message(), HasSubstr(c.kind));
    EXPECT_THAT(s.message(), HasSubstr("must not carry identifiers"));
    ExpectNoEcho(std::string(s.message()), c.value);
  }
}

TEST(FreeTextTest, OrdinarySpanishTextPasses) {
  const std::vector<std::string> cases = {
      "",
      "falta de cupo en el albergue",
      "120 km",
      "2 hermanos",
      "año 2014",
      "marzo de 2014",
      "llega el 3 de marzo",
      "03/2014",
      "escolaridad 2013-2014",
      "años 2013 2014 2015",
      "de 10 a 12 años, 3 de ellos en Quispicanchi",
      "a los 3 de mayo 12 niños",
      "presupuesto S/ 1.500.000",
      "de 8.30 a 12.45",
      "la niña y el niño, ñandú, acentos: áéíóú ÁÉÍÓÚ ü",
      "l@s niñ@s del albergue",
      "niñ@s. Luego",
      "línea uno\nlínea dos\ttabulada\r\nlínea tres",
      "puntos 1. 2. 3. 4. 5. 6. 7. 8.",
      "código 0812 y 1701",
      "teléfono pendiente",
  };
  for (const std::string& value : cases) {
    SCOPED_TRACE(value);
    EXPECT_EQ(ScanFreeText(value, kLimit), FreeTextFinding::kNone);
    EXPECT_TRUE(CheckFreeText("note", value, kLimit).ok());
  }
}

TEST(FreeTextTest, LengthCountsCharactersNotBytes) {
  std::string note;
  for (int i = 0; i < 140; ++i) note += "ña";  // 280 characters, 420 bytes
  EXPECT_TRUE(CheckFreeText("note", note, 280).ok());
  const absl::Status s = CheckFreeText("note", note + "x", 280);
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(s.message(), "note has 281 characters; at most 280 are allowed");
  EXPECT_EQ(ScanFreeText("abcd", 3), FreeTextFinding::kTooLong);
}

TEST(FreeTextTest, MalformedTextIsRefused) {
  struct Malformed {
    std::string value;
    FreeTextFinding finding;
    std::string message;
  };
  const std::vector<Malformed> cases = {
      {"ni\xF1o", FreeTextFinding::kInvalidUtf8, "not valid UTF-8"},  // Latin-1
      {"\xC3", FreeTextFinding::kInvalidUtf8, "not valid UTF-8"},  // truncated
      {"\xC0\xAF", FreeTextFinding::kInvalidUtf8,
       "not valid UTF-8"},  // overlong
      {"\xED\xA0\x80", FreeTextFinding::kInvalidUtf8,
       "not valid UTF-8"},  // surrogate
      {"\xF4\x90\x80\x80", FreeTextFinding::kInvalidUtf8,
       "not valid UTF-8"},  // above U+10FFFF
      {std::string("a\0b", 3), FreeTextFinding::kControlCharacter,
       "control character"},
      {"a\x1b[31mb", FreeTextFinding::kControlCharacter, "control character"},
      {"a\rb", FreeTextFinding::kControlCharacter, "control character"},
      {"a\x7f", FreeTextFinding::kControlCharacter, "control character"},
      {"a\xC2\x85", FreeTextFinding::kControlCharacter,
       "control character"},  // U+0085, C1
      {"1234\xE2\x80\x8B"
       "5678",
       FreeTextFinding::kInvisibleCharacter, "invisible"},  // zero-width space
      {"abc\xE2\x80\xAE", FreeTextFinding::kInvisibleCharacter,
       "invisible"},  // right-to-left override
  };
  for (const Malformed& c : cases) {
    SCOPED_TRACE(c.message);
    EXPECT_EQ(ScanFreeText(c.value, kLimit), c.finding);
    const absl::Status s = CheckFreeText("campaign", c.value, kLimit);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(s.message(), HasSubstr("campaign "));
    EXPECT_THAT(s.message(), HasSubstr(c.message));
  }
}

}  // namespace
}  // namespace ruta::core
