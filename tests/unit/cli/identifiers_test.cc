#include "ruta/cli/identifiers.h"

#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::cli {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

TEST(IdentifiersTest, ParsesEveryKey) {
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids = ParseIdentifiersJson(R"({
    "dni": "01234567", "cnv": "1234567890", "given_names": " Rosa  Maria ",
    "surnames": "Quispe Mamani", "birth_date": "2010-02-28",
    "birth_district": "080101"})");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->dni(), "01234567");
  EXPECT_EQ(ids->cnv(), "1234567890");
  EXPECT_EQ(ids->given_names(), "Rosa  Maria");
  EXPECT_EQ(ids->surnames(), "Quispe Mamani");
  EXPECT_EQ(ids->birth_date().year(), 2010);
  EXPECT_EQ(ids->birth_date().month(), 2);
  EXPECT_EQ(ids->birth_date().day(), 28);
  EXPECT_EQ(ids->birth_district(), "080101");
  EXPECT_TRUE(HasIdentifiers(*ids));
}

TEST(IdentifiersTest, EmptyAndNullValuesAreAbsent) {
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
      ParseIdentifiersJson(R"({"dni": null, "cnv": "", "surnames": "  "})");
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_FALSE(HasIdentifiers(*ids));
  ASSERT_TRUE(ParseIdentifiersJson("{}").ok());
}

TEST(IdentifiersTest, BadDatesAreRejected) {
  for (const char* date :
       {"2010-02-30", "2011-02-29", "2010-13-01", "10-02-2010", "2010/02/01",
        "2010-2-1", "1899-12-31", "2999-01-01", "yesterday"}) {
    absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
        ParseIdentifiersJson(std::string(R"({"birth_date": ")") + date + "\"}");
    ASSERT_FALSE(ids.ok()) << date;
    EXPECT_THAT(ids.status().message(), HasSubstr("birth_date"));
    EXPECT_THAT(ids.status().message(), Not(HasSubstr(date)));
  }
  EXPECT_TRUE(
      ParseIdentifiersJson(R"({"birth_date": "2012-02-29"})").ok());  // leap
}

TEST(IdentifiersTest, UnknownKeyIsRejected) {
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
      ParseIdentifiersJson(R"({"dni": "01234567", "phone": "987654321"})");
  ASSERT_FALSE(ids.ok());
  EXPECT_EQ(ids.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(ids.status().message(), HasSubstr("\"phone\""));
  EXPECT_THAT(ids.status().message(), Not(HasSubstr("987654321")));
  EXPECT_THAT(ids.status().message(), Not(HasSubstr("01234567")));
}

TEST(IdentifiersTest, KeyThatLooksLikeAValueIsNotEchoed) {
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
      ParseIdentifiersJson(R"({"Rosa Quispe": "x"})");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(ids.status().message(), Not(HasSubstr("Rosa")));
}

TEST(IdentifiersTest, MalformedValuesAreRejectedWithoutEchoingThem) {
  const struct {
    const char* json;
    const char* field;
    const char* value;
  } cases[] = {
      {R"({"dni": "1234567"})", "dni", "1234567"},
      {R"({"dni": "1234567a"})", "dni", "1234567a"},
      {R"({"dni": 12345678})", "dni", "12345678"},
      {R"({"cnv": "1234567"})", "cnv", "1234567"},
      {R"({"birth_district": "0801"})", "birth_district", "0801"},
  };
  for (const auto& c : cases) {
    absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
        ParseIdentifiersJson(c.json);
    ASSERT_FALSE(ids.ok()) << c.json;
    EXPECT_THAT(ids.status().message(), HasSubstr(c.field));
    EXPECT_THAT(ids.status().message(), Not(HasSubstr(c.value)));
  }
}

TEST(IdentifiersTest, InvalidJsonIsNotEchoed) {
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
      ParseIdentifiersJson(R"({"dni": "01234567", "surnames": "Quispe)");
  ASSERT_FALSE(ids.ok());
  EXPECT_THAT(ids.status().message(), Not(HasSubstr("Quispe")));
  EXPECT_THAT(ids.status().message(), Not(HasSubstr("01234567")));
  EXPECT_FALSE(ParseIdentifiersJson(R"(["01234567"])").ok());
  EXPECT_FALSE(ParseIdentifiersJson("").ok());
}

TEST(IdentifiersTest, ReadsStdin) {
  std::istringstream in(R"({"dni": "01234567"})");
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids =
      ReadIdentifiersFile("-", in);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->dni(), "01234567");
}

TEST(IdentifiersTest, MissingFile) {
  std::istringstream in;
  EXPECT_FALSE(ReadIdentifiersFile("/nonexistent/ids.json", in).ok());
}

TEST(IdentifiersTest, PromptStopsAtTheDni) {
  std::istringstream in("01234567\n");
  std::ostringstream err;
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids = PromptIdentifiers(in, err);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_EQ(ids->dni(), "01234567");
  EXPECT_THAT(err.str(), Not(HasSubstr("01234567")));
  EXPECT_THAT(err.str(), Not(HasSubstr("CNV")));
}

TEST(IdentifiersTest, PromptFallsBackToNamesAndReasksBadAnswers) {
  std::istringstream in("\n\nRosa\nQuispe\n2010-02-30\n2010-02-28\n080101\n");
  std::ostringstream err;
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids = PromptIdentifiers(in, err);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_TRUE(ids->dni().empty());
  EXPECT_EQ(ids->given_names(), "Rosa");
  EXPECT_EQ(ids->surnames(), "Quispe");
  EXPECT_EQ(ids->birth_date().day(), 28);
  EXPECT_EQ(ids->birth_district(), "080101");
  EXPECT_THAT(err.str(), HasSubstr("birth_date"));
}

TEST(IdentifiersTest, PromptWithNothingGivesNoIdentifiers) {
  std::istringstream in("");
  std::ostringstream err;
  absl::StatusOr<ruta::v1::PersonIdentifiers> ids = PromptIdentifiers(in, err);
  ASSERT_TRUE(ids.ok()) << ids.status();
  EXPECT_FALSE(HasIdentifiers(*ids));
}

TEST(IdentifiersTest, Wipe) {
  ruta::v1::PersonIdentifiers ids;
  ids.set_dni("01234567");
  ids.mutable_birth_date()->set_year(2010);
  WipeIdentifiers(&ids);
  EXPECT_FALSE(HasIdentifiers(ids));
}

}  // namespace
}  // namespace ruta::cli
