#include "ruta/core/pseudonym.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <regex>
#include <set>
#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

std::string Key(char seed) {
  std::string key(32, '\0');
  for (int i = 0; i < 32; ++i) key[i] = static_cast<char>(seed + i);
  return key;
}

std::string HexOf(const std::string& bytes) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 15]);
  }
  return out;
}

LinkageKeyring Ring(std::map<uint32_t, std::string> keys) {
  auto ring = LinkageKeyring::FromKeys(std::move(keys));
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *std::move(ring);
}

IdentityTuple Names(std::string given, std::string surnames) {
  IdentityTuple t;
  t.given_names = std::move(given);
  t.surnames = std::move(surnames);
  t.birth_year = 2012;
  t.birth_month = 3;
  t.birth_day = 4;
  t.birth_district = "081201";
  return t;
}

IdentityTuple Dni(std::string dni) {
  IdentityTuple t;
  t.dni = std::move(dni);
  return t;
}

std::string Ref(const LinkageKeyring& ring, const IdentityTuple& t) {
  auto ref = ring.DerivePersonRef(t);
  EXPECT_TRUE(ref.ok()) << ref.status();
  return ref.ok() ? *ref : std::string();
}

// A fresh file in the test's temp dir with `content` and `mode`.
std::string WriteFile(const std::string& name, const std::string& content,
                      mode_t mode) {
  const std::string path = ::testing::TempDir() + "/" + name;
  ::unlink(path.c_str());
  {
    std::ofstream out(path);
    out << content;
  }
  EXPECT_EQ(::chmod(path.c_str(), mode), 0);
  return path;
}

TEST(NormalizeNameTest, FoldsAccentsCaseSpacingAndPunctuation) {
  EXPECT_EQ(*NormalizeName("  JOSÉ  Ñaupa-Quispe"), "jose naupa quispe");
  EXPECT_EQ(*NormalizeName("jose naupa quispe"), "jose naupa quispe");
  EXPECT_EQ(*NormalizeName("José María"), "jose maria");
  EXPECT_EQ(*NormalizeName("JOSE  MARIA"), "jose maria");
  EXPECT_EQ(*NormalizeName("jose maría"), "jose maria");
  EXPECT_EQ(*NormalizeName("Ma. Fernanda, O'Brien"), "ma fernanda o brien");
  EXPECT_EQ(*NormalizeName("Huamán\t\nQuispe"), "huaman quispe");
  // Decomposed input (e + U+0301) equals precomposed input.
  EXPECT_EQ(*NormalizeName("Jose\xCC\x81"), "jose");
  // Compatibility forms: full-width letters, ligatures.
  EXPECT_EQ(*NormalizeName("\xEF\xBC\xAA\xEF\xBD\x8F\xEF\xBD\x93\xEF\xBD\x85"),
            "jose");  // ＪＯＳＥ in full width, mixed case
  EXPECT_EQ(*NormalizeName("\xEF\xAC\x81na"), "fina");  // "ﬁna"
  EXPECT_EQ(*NormalizeName("STRASSE"), *NormalizeName("straße"));
  EXPECT_EQ(*NormalizeName(""), "");
  EXPECT_EQ(*NormalizeName(" - . , "), "");
}

TEST(NormalizeNameTest, RejectsInvalidUtf8) {
  for (const std::string& bad :
       {std::string("Jos\xC3"), std::string("\xFF\xFE"),
        std::string("a\xED\xA0\x80z"),  // encoded surrogate
        std::string("\xC0\xAF")}) {     // overlong
    const auto n = NormalizeName(bad);
    EXPECT_EQ(n.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_THAT(std::string(n.status().message()), HasSubstr("UTF-8"));
  }
  EXPECT_EQ(NormalizeName(std::string(600, 'a')).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PersonRefTest, TwoNodesSharingTheLinkageKeyAgree) {
  // Two keyrings built separately from the same key: the Cusco and the
  // Madre de Dios node.
  const LinkageKeyring cusco = Ring({{1, Key(7)}});
  const LinkageKeyring mdd = Ring({{1, Key(7)}});
  const std::string ref = Ref(cusco, Names("José María", "Ñaupa Quispe"));
  EXPECT_EQ(Ref(mdd, Names("JOSE  MARIA", "NAUPA  QUISPE")), ref);
  EXPECT_EQ(Ref(mdd, Names("jose maría", "ñaupa-quispe")), ref);
  EXPECT_EQ(Ref(cusco, Names(" José\tMaría ", "Ñaupa Quispe")), ref);
  // A different child.
  EXPECT_NE(Ref(mdd, Names("José Mario", "Ñaupa Quispe")), ref);
  IdentityTuple other_day = Names("José María", "Ñaupa Quispe");
  other_day.birth_day = 5;
  EXPECT_NE(Ref(mdd, other_day), ref);
  IdentityTuple other_district = Names("José María", "Ñaupa Quispe");
  other_district.birth_district = "081202";
  EXPECT_NE(Ref(mdd, other_district), ref);
  // Given names and surnames are separate fields.
  EXPECT_NE(Ref(mdd, Names("José María Ñaupa", "Quispe")), ref);
}

TEST(PersonRefTest, GoldenValuesPinTheCanonicalEncoding) {
  // Computed independently (Python hmac) from the documented encoding:
  // "ruta-person-v1\0" "k1\0" "dni\0" "8:01234567", first 16 bytes -> a..p.
  // A change here changes every ref of every node: never change it silently.
  std::string key;
  for (int i = 0; i < 32; ++i) key.push_back(static_cast<char>(i));
  const LinkageKeyring ring = Ring({{1, key}});
  EXPECT_EQ(Ref(ring, Dni("01234567")), "pr1_hdlbdlkhhokdfjpmkaabkdncgpmmcmaa");
  EXPECT_EQ(Ref(ring, Names("José María", "Ñaupa Quispe")),
            "pr1_pnfcghpmiieegfkgmonjmfjojimbbafk");
}

TEST(PersonRefTest, DniTakesPrecedence) {
  const LinkageKeyring ring = Ring({{1, Key(1)}});
  IdentityTuple full = Names("José", "Quispe");
  full.dni = "45678912";
  full.cnv = "1234567890";
  EXPECT_EQ(*ChooseLinkageBasis(full), LinkageBasis::kDni);
  EXPECT_EQ(Ref(ring, full), Ref(ring, Dni("45678912")));
  EXPECT_NE(Ref(ring, full), Ref(ring, Names("José", "Quispe")));

  IdentityTuple cnv_and_names = Names("José", "Quispe");
  cnv_and_names.cnv = "1234567890";
  EXPECT_EQ(*ChooseLinkageBasis(cnv_and_names), LinkageBasis::kCnv);
  IdentityTuple cnv_only;
  cnv_only.cnv = "1234567890";
  EXPECT_EQ(Ref(ring, cnv_and_names), Ref(ring, cnv_only));
  EXPECT_EQ(*ChooseLinkageBasis(Names("a", "b")), LinkageBasis::kNamesAndBirth);
  EXPECT_EQ(*ChooseLinkageBasis(IdentityTuple()), LinkageBasis::kNone);
}

TEST(PersonRefTest, LeadingZerosAreKeptAndBasesAreSeparated) {
  const LinkageKeyring ring = Ring({{1, Key(1)}});
  const std::string a = Ref(ring, Dni("01234567"));
  EXPECT_NE(a, Ref(ring, Dni("12345670")));
  EXPECT_NE(a, Ref(ring, Dni("00123456")));
  // Dropping the zero is not silently accepted.
  EXPECT_EQ(ring.DerivePersonRef(Dni("1234567")).status().code(),
            absl::StatusCode::kInvalidArgument);
  // The same digits as a CNV give another ref (domain separation).
  IdentityTuple cnv;
  cnv.cnv = "01234567";
  EXPECT_NE(a, Ref(ring, cnv));
}

TEST(PersonRefTest, KeyVersionAndKeyChangeTheRef) {
  const IdentityTuple t = Dni("45678912");
  const std::string v1 = Ref(Ring({{1, Key(1)}}), t);
  const LinkageKeyring same_key_v2 = Ring({{2, Key(1)}});
  const std::string v2 = Ref(same_key_v2, t);
  EXPECT_NE(v1, v2);
  EXPECT_EQ(v1.substr(0, 4), "pr1_");
  EXPECT_EQ(v2.substr(0, 4), "pr2_");
  EXPECT_NE(v1.substr(4), v2.substr(4));  // the letters differ too
  EXPECT_NE(Ref(Ring({{1, Key(2)}}), t), v1);

  // A ring with both versions: current is the highest; the old one still
  // derives the old ref (rotation).
  const LinkageKeyring both = Ring({{1, Key(1)}, {2, Key(1)}});
  EXPECT_EQ(both.current_version(), 2u);
  EXPECT_TRUE(both.has_version(1));
  EXPECT_FALSE(both.has_version(3));
  EXPECT_EQ(Ref(both, t), v2);
  EXPECT_EQ(*both.DerivePersonRef(t, 1), v1);
  EXPECT_EQ(both.DerivePersonRef(t, 3).status().code(),
            absl::StatusCode::kNotFound);
}

TEST(PersonRefTest, FormatHasNoDigitRuns) {
  const std::regex format("^pr[0-9]+_[a-p]{32}$");
  const std::regex digit_run("[0-9]{2,}");
  const LinkageKeyring ring = Ring({{7, Key(3)}});
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    char dni[9];
    std::snprintf(dni, sizeof(dni), "%08d", i * 49999);
    const std::string ref = Ref(ring, Dni(dni));
    ASSERT_TRUE(std::regex_match(ref, format)) << ref;
    EXPECT_FALSE(std::regex_search(ref.substr(4), digit_run)) << ref;
    EXPECT_TRUE(IsValidPersonRef(ref)) << ref;
    seen.insert(ref);
  }
  EXPECT_EQ(seen.size(), 2000u);
  const std::string random = RandomPersonRef();
  EXPECT_TRUE(std::regex_match(random, format)) << random;
  EXPECT_EQ(random.substr(0, 4), "pr0_");
  EXPECT_TRUE(IsValidPersonRef(random));
  EXPECT_NE(RandomPersonRef(), random);
}

TEST(PersonRefTest, IsValidPersonRef) {
  const std::string letters(32, 'a');
  EXPECT_TRUE(IsValidPersonRef("pr1_" + letters));
  EXPECT_TRUE(IsValidPersonRef("pr999_" + letters));
  EXPECT_FALSE(IsValidPersonRef("pr1000_" + letters));
  EXPECT_FALSE(IsValidPersonRef("pr01_" + letters));
  EXPECT_FALSE(IsValidPersonRef("pr_" + letters));
  EXPECT_FALSE(IsValidPersonRef("pr1_" + std::string(31, 'a')));
  EXPECT_FALSE(IsValidPersonRef("pr1_" + std::string(31, 'a') + "q"));
  EXPECT_FALSE(IsValidPersonRef("px1_" + letters));
  EXPECT_FALSE(IsValidPersonRef(""));
}

TEST(ChooseLinkageBasisTest, RejectsMalformedFieldsWithoutEchoingThem) {
  struct Case {
    IdentityTuple tuple;
    std::string field;
  };
  IdentityTuple no_surnames = Names("José", "");
  IdentityTuple no_date = Names("José", "Quispe");
  no_date.birth_year = no_date.birth_month = no_date.birth_day = 0;
  IdentityTuple partial_date = Names("José", "Quispe");
  partial_date.birth_day = 0;
  IdentityTuple feb30 = Names("José", "Quispe");
  feb30.birth_month = 2;
  feb30.birth_day = 30;
  IdentityTuple too_old = Names("José", "Quispe");
  too_old.birth_year = 1989;
  IdentityTuple future = Names("José", "Quispe");
  future.birth_year = 2100;
  IdentityTuple bad_district = Names("José", "Quispe");
  bad_district.birth_district = "081401";  // province 0814 does not exist
  IdentityTuple short_district = Names("José", "Quispe");
  short_district.birth_district = "0812";
  IdentityTuple bad_utf8 = Names("Jos\xC3", "Quispe");
  IdentityTuple dni_and_bad_cnv = Dni("45678912");
  dni_and_bad_cnv.cnv = "12ab5678";
  IdentityTuple short_cnv;
  short_cnv.cnv = "1234567";
  IdentityTuple long_cnv;
  long_cnv.cnv = "1234567890123";
  IdentityTuple district_only;
  district_only.birth_district = "081201";

  const std::vector<Case> cases = {
      {Dni("4567891"), "identifiers.dni"},
      {Dni("4567891a"), "identifiers.dni"},
      {Dni("456789123"), "identifiers.dni"},
      {Dni(" 45678912"), "identifiers.dni"},
      {Dni("４５６７８９１２"), "identifiers.dni"},  // full-width digits
      {no_surnames, "identifiers.surnames"},
      {no_date, "identifiers.birth_date"},
      {partial_date, "identifiers.birth_date"},
      {feb30, "identifiers.birth_date"},
      {too_old, "identifiers.birth_date"},
      {future, "identifiers.birth_date"},
      {bad_district, "identifiers.birth_district"},
      {short_district, "identifiers.birth_district"},
      {bad_utf8, "identifiers.given_names"},
      {dni_and_bad_cnv, "identifiers.cnv"},
      {short_cnv, "identifiers.cnv"},
      {long_cnv, "identifiers.cnv"},
      {district_only, "identifiers.given_names"},
  };
  const LinkageKeyring ring = Ring({{1, Key(1)}});
  for (const Case& c : cases) {
    const auto basis = ChooseLinkageBasis(c.tuple);
    ASSERT_EQ(basis.status().code(), absl::StatusCode::kInvalidArgument)
        << c.field;
    const std::string msg(basis.status().message());
    EXPECT_THAT(msg, HasSubstr(c.field));
    for (const std::string& value :
         {c.tuple.dni, c.tuple.cnv, c.tuple.birth_district}) {
      if (value.size() >= 4) {
        EXPECT_THAT(msg, Not(HasSubstr(value)));
      }
    }
    EXPECT_THAT(msg, Not(HasSubstr("Quispe")));
    EXPECT_EQ(ring.DerivePersonRef(c.tuple).status().code(),
              absl::StatusCode::kInvalidArgument);
  }
  // A leap day is a real date.
  IdentityTuple leap = Names("José", "Quispe");
  leap.birth_year = 2012;
  leap.birth_month = 2;
  leap.birth_day = 29;
  EXPECT_TRUE(ChooseLinkageBasis(leap).ok());
  // A name of punctuation only is "not known".
  IdentityTuple punctuation;
  punctuation.given_names = " - ";
  punctuation.surnames = "...";
  EXPECT_EQ(*ChooseLinkageBasis(punctuation), LinkageBasis::kNone);
}

TEST(ChooseLinkageBasisTest, EmptyTupleCannotBeDerived) {
  const LinkageKeyring ring = Ring({{1, Key(1)}});
  EXPECT_EQ(ring.DerivePersonRef(IdentityTuple()).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LinkageKeyringTest, FromKeysValidates) {
  EXPECT_EQ(LinkageKeyring::FromKeys({}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinkageKeyring::FromKeys({{1, "short"}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinkageKeyring::FromKeys({{0, Key(1)}}).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(LinkageKeyring::FromKeys({{1000, Key(1)}}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(LinkageKeyringTest, MoveKeepsKeysAndEmptiesTheSource) {
  LinkageKeyring a = Ring({{3, Key(1)}});
  const std::string ref = Ref(a, Dni("45678912"));
  LinkageKeyring b(std::move(a));
  EXPECT_EQ(Ref(b, Dni("45678912")), ref);
  EXPECT_EQ(a.current_version(), 0u);  // NOLINT(bugprone-use-after-move)
  LinkageKeyring c = Ring({{1, Key(9)}});
  c = std::move(b);
  EXPECT_EQ(Ref(c, Dni("45678912")), ref);
}

TEST(LinkageKeyringTest, LoadsAKeyFile) {
  const std::string key1 = Key(1);
  const std::string key2 = Key(2);
  const std::string path =
      WriteFile("keys_ok",
                absl::StrCat("# ruta linkage keys\n\n1 ", HexOf(key1),
                             "   # first key\n", "  2\t", HexOf(key2), "\r\n"),
                0600);
  auto ring = LinkageKeyring::LoadFromFile(path);
  ASSERT_TRUE(ring.ok()) << ring.status();
  EXPECT_EQ(ring->current_version(), 2u);
  const LinkageKeyring direct = Ring({{1, key1}, {2, key2}});
  EXPECT_EQ(Ref(*ring, Dni("45678912")), Ref(direct, Dni("45678912")));
  EXPECT_EQ(*ring->DerivePersonRef(Dni("45678912"), 1),
            *direct.DerivePersonRef(Dni("45678912"), 1));
  // Uppercase hex is the same key; mode 0400 is fine.
  const std::string upper =
      WriteFile("keys_upper",
                absl::StrCat("2 ", absl::AsciiStrToUpper(HexOf(key2))), 0400);
  auto ring2 = LinkageKeyring::LoadFromFile(upper);
  ASSERT_TRUE(ring2.ok()) << ring2.status();
  EXPECT_EQ(Ref(*ring2, Dni("45678912")), Ref(direct, Dni("45678912")));
}

TEST(LinkageKeyringTest, GroupOrWorldReadableFileIsRefused) {
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601, 0610}) {
    const std::string path =
        WriteFile("keys_mode", absl::StrCat("1 ", HexOf(Key(1)), "\n"), mode);
    const auto ring = LinkageKeyring::LoadFromFile(path);
    EXPECT_EQ(ring.status().code(), absl::StatusCode::kPermissionDenied)
        << std::oct << mode;
    EXPECT_THAT(std::string(ring.status().message()), HasSubstr(path));
    EXPECT_THAT(std::string(ring.status().message()), HasSubstr("chmod 600"));
  }
}

TEST(LinkageKeyringTest, MissingFileIsNotFound) {
  EXPECT_EQ(LinkageKeyring::LoadFromFile(::testing::TempDir() + "/no/such")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
}

TEST(LinkageKeyringTest, MalformedFileNamesTheLineNotTheKey) {
  const std::string good = HexOf(Key(1));
  const std::string secret = HexOf(Key(5));
  struct Bad {
    std::string content;
    int line;
  };
  const std::vector<Bad> bad = {
      {absl::StrCat("# keys\n1 ", good, "\n", "2 ", secret.substr(0, 63), "\n"),
       3},
      {absl::StrCat("1 ", good, "\n1 ", secret, "\n"), 2},  // duplicate
      {absl::StrCat("\n\n\nx ", secret, "\n"), 4},          // bad version
      {absl::StrCat("0 ", secret, "\n"), 1},                // version 0
      {absl::StrCat("1 ", secret, " extra\n"), 1},
      {absl::StrCat("1 ", secret.substr(0, 62), "zz\n"), 1},  // not hex
      {absl::StrCat("1", secret, "\n"), 1},                   // no space
  };
  for (const Bad& b : bad) {
    const std::string path = WriteFile("keys_bad", b.content, 0600);
    const auto ring = LinkageKeyring::LoadFromFile(path);
    ASSERT_EQ(ring.status().code(), absl::StatusCode::kInvalidArgument)
        << b.content;
    const std::string msg(ring.status().message());
    EXPECT_THAT(msg, HasSubstr(absl::StrCat("line ", b.line)));
    // No key material, not even a fragment.
    for (size_t i = 0; i + 8 <= secret.size(); ++i) {
      ASSERT_THAT(msg, Not(HasSubstr(secret.substr(i, 8))));
      ASSERT_THAT(msg, Not(HasSubstr(good.substr(i, 8))));
    }
  }
  const std::string empty = WriteFile("keys_empty", "# nothing\n\n", 0600);
  EXPECT_EQ(LinkageKeyring::LoadFromFile(empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::core
