// person_ref at scale and across spellings: every spelling of one identity
// links to one ref, distinct identities never share one, and a million
// distinct random identities give a million distinct refs.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/numeric/int128.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "gtest/gtest.h"
#include "ruta/core/pseudonym.h"
#include "ruta/core/ubigeo.h"

namespace ruta::core {
namespace {

LinkageKeyring Ring() {
  std::string key(32, '\0');
  for (int i = 0; i < 32; ++i) key[i] = static_cast<char>(0x40 + i);
  auto ring = LinkageKeyring::FromKeys({{1, key}});
  EXPECT_TRUE(ring.ok()) << ring.status();
  return *std::move(ring);
}

IdentityTuple Named(const std::string& given, const std::string& surnames,
                    int year = 2012, int month = 3, int day = 4,
                    const std::string& district = "081201") {
  IdentityTuple t;
  t.given_names = given;
  t.surnames = surnames;
  t.birth_year = year;
  t.birth_month = month;
  t.birth_day = day;
  t.birth_district = district;
  return t;
}

std::string Ref(const LinkageKeyring& ring, const IdentityTuple& t) {
  auto ref = ring.DerivePersonRef(t);
  EXPECT_TRUE(ref.ok()) << ref.status() << " for " << t.given_names << " / "
                        << t.surnames;
  return ref.ok() ? *ref : std::string();
}

// Combining marks, spelled out: the composed and decomposed forms of the
// same letters must link.
constexpr char kAcute[] = "\xCC\x81";  // U+0301
constexpr char kTilde[] = "\xCC\x83";  // U+0303

TEST(PersonRefSpellingTest, EverySpellingOfOneChildLinksToOneRef) {
  const LinkageKeyring ring = Ring();
  struct Spelling {
    std::string given;
    std::string surnames;
    const char* what;
  };
  const std::vector<Spelling> spellings = {
      {"José María", "Ñaupa Quispe", "as registered"},
      {"JOSÉ MARÍA", "ÑAUPA QUISPE", "upper case"},
      {"josé maría", "ñaupa quispe", "lower case"},
      {"jose maria", "naupa quispe", "accents and tilde dropped"},
      {"JOSE MARIA", "NAUPA QUISPE", "upper case, no accents"},
      {"JoSé mArÍa", "ñAuPa QuIsPe", "mixed case"},
      {"  José María", "Ñaupa Quispe  ", "leading and trailing spaces"},
      {"José    María", "Ñaupa \t Quispe", "inner runs of spaces and tabs"},
      {"José\nMaría\r\n", " Ñaupa\u00a0Quispe", "newlines, no-break space"},
      {absl::StrCat("Jose", kAcute, " Mari", kAcute, "a"),
       absl::StrCat("N", kTilde, "aupa Quispe"),
       "decomposed: e + U+0301, N + U+0303"},
      {"José María", absl::StrCat("n", kTilde, "aupa quispe"),
       "decomposed lower-case n + U+0303"},
      {"José-María", "Ñaupa-Quispe", "hyphens"},
      {"José - María", "Ñaupa–Quispe", "spaced hyphen, en dash"},
      {"José María.", "Ñaupa, Quispe", "stray punctuation"},
      {"\xEF\xBC\xAA\xEF\xBC\xAF\xEF\xBC\xB3\xEF\xBC\xA5 MARÍA", "Ñaupa Quispe",
       "full-width JOSE"},
  };
  const std::string ref =
      Ref(ring, Named(spellings[0].given, spellings[0].surnames));
  ASSERT_FALSE(ref.empty());
  for (const Spelling& s : spellings) {
    EXPECT_EQ(Ref(ring, Named(s.given, s.surnames)), ref) << s.what;
  }

  // Apostrophes separate words (NormalizeName), in every form of them.
  const std::vector<Spelling> apostrophes = {
      {"Ana Lucía", "D'Ángelo Huamán", "ASCII apostrophe"},
      {"Ana Lucía", "D\xE2\x80\x99\xC3\x81ngelo Huamán", "U+2019"},
      {"ANA LUCIA", "D ANGELO HUAMAN", "space for the apostrophe"},
      {"ana lucia", "d'angelo-huaman", "apostrophe and hyphen"},
      {"Ana Lucía", "d`Angelo Huaman", "backtick"},
  };
  const std::string ana =
      Ref(ring, Named(apostrophes[0].given, apostrophes[0].surnames));
  for (const Spelling& s : apostrophes) {
    EXPECT_EQ(Ref(ring, Named(s.given, s.surnames)), ana) << s.what;
  }
  EXPECT_NE(ana, ref);
}

TEST(PersonRefSpellingTest, DistinctIdentitiesGetDistinctRefs) {
  const LinkageKeyring ring = Ring();
  IdentityTuple dni;
  dni.dni = "45678912";
  IdentityTuple dni_zero;
  dni_zero.dni = "04567891";
  IdentityTuple dni_next;
  dni_next.dni = "45678913";
  IdentityTuple cnv_same_digits;
  cnv_same_digits.cnv = "45678912";
  IdentityTuple cnv_longer;
  cnv_longer.cnv = "045678912";
  const std::vector<std::pair<IdentityTuple, const char*>> identities = {
      {Named("José María", "Ñaupa Quispe"), "the child"},
      {Named("José Mario", "Ñaupa Quispe"), "one letter"},
      {Named("María José", "Ñaupa Quispe"), "given names swapped"},
      {Named("José", "María Ñaupa Quispe"), "a word moved to the surnames"},
      {Named("José María Ñaupa", "Quispe"), "a word moved to the given names"},
      {Named("José María", "Quispe Ñaupa"), "surnames swapped"},
      {Named("José María", "Ñaupa Quispe Quispe"), "a surname more"},
      {Named("José", "Ñaupa Quispe"), "a given name less"},
      {Named("José María", "Ñaupa Quispe", 2012, 3, 5), "next day"},
      {Named("José María", "Ñaupa Quispe", 2012, 4, 3), "day and month"},
      {Named("José María", "Ñaupa Quispe", 2013, 3, 4), "next year"},
      {Named("José María", "Ñaupa Quispe", 2012, 3, 4, "081202"), "district"},
      {Named("José María", "Ñaupa Quispe", 2012, 3, 4, "170101"), "region"},
      {Named("José Maria", "Naupa Quispes"), "plural"},
      {Named("Josémaría", "Ñaupa Quispe"), "words joined"},
      {dni, "a DNI"},
      {dni_zero, "a DNI with a leading zero"},
      {dni_next, "the next DNI"},
      {cnv_same_digits, "a CNV with the DNI's digits"},
      {cnv_longer, "a CNV with a leading zero more"},
  };
  absl::flat_hash_set<std::string> refs;
  for (const auto& [tuple, what] : identities) {
    const std::string ref = Ref(ring, tuple);
    ASSERT_FALSE(ref.empty()) << what;
    EXPECT_TRUE(refs.insert(ref).second) << what << " shares a ref";
  }
}

// The 128 bits the 32 letters of a ref encode.
absl::uint128 RefBits(const std::string& ref) {
  const std::string letters = ref.substr(ref.find('_') + 1);
  absl::uint128 bits = 0;
  for (char c : letters) bits = (bits << 4) | static_cast<uint64_t>(c - 'a');
  return bits;
}

uint64_t SeedFromEnv() {
  uint64_t seed = 0;
  const char* value = std::getenv("RUTA_SEED");
  if (value != nullptr && absl::SimpleAtoi(value, &seed)) return seed;
  return static_cast<uint64_t>(absl::ToUnixNanos(absl::Now()));
}

// A lower-case word of `min`..`max` letters a..z.
std::string Word(std::mt19937_64& rng, int min, int max) {
  std::uniform_int_distribution<int> length(min, max);
  std::uniform_int_distribution<int> letter(0, 25);
  std::string word(static_cast<size_t>(length(rng)), 'a');
  for (char& c : word) c = static_cast<char>('a' + letter(rng));
  return word;
}

// `plain` (letters a..z and spaces) as an office might type it: some vowels
// with an accent, some n as ñ, some letters in upper case. It normalizes
// back to `plain`.
std::string Decorate(std::mt19937_64& rng, const std::string& plain) {
  std::uniform_int_distribution<int> roll(0, 9);
  std::string out;
  for (char c : plain) {
    const int r = roll(rng);
    switch (c) {
      case 'a':
        if (r == 0) {
          out += "á";
          continue;
        }
        break;
      case 'e':
        if (r == 0) {
          out += "É";
          continue;
        }
        break;
      case 'n':
        if (r == 0) {
          out += "ñ";
          continue;
        }
        if (r == 1) {
          out += absl::StrCat("N", kTilde);
          continue;
        }
        break;
      case 'u':
        if (r == 0) {
          out += "ü";
          continue;
        }
        break;
    }
    out.push_back(r == 9 && c != ' ' ? static_cast<char>(c - 'a' + 'A') : c);
  }
  return out;
}

// 10^6 distinct random identities (DNIs, CNVs, names-and-birth tuples, the
// names typed with random accents and case) give 10^6 distinct refs. A
// collision among 10^6 128-bit values has probability ~1.5e-27: a failure
// means the encoding or the canonical tuple loses information.
TEST(PersonRefCollisionTest, AMillionDistinctIdentitiesGiveAMillionRefs) {
  constexpr int kDnis = 400000;
  constexpr int kCnvs = 200000;
  constexpr int kNamed = 400000;
  constexpr int kTotal = kDnis + kCnvs + kNamed;
  const uint64_t seed = SeedFromEnv();
  std::printf("[person_ref] seed %llu (set RUTA_SEED to repeat)\n",
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);
  const LinkageKeyring ring = Ring();
  absl::flat_hash_set<absl::uint128> refs;
  refs.reserve(kTotal);
  int collisions = 0;
  auto add = [&](const IdentityTuple& t, const std::string& what) {
    auto ref = ring.DerivePersonRef(t);
    ASSERT_TRUE(ref.ok()) << ref.status() << " for " << what;
    if (!refs.insert(RefBits(*ref)).second && ++collisions <= 5) {
      ADD_FAILURE() << what << " collides with an earlier identity: " << *ref;
    }
  };
  const absl::Time start = absl::Now();

  {
    std::uniform_int_distribution<uint32_t> number(0, 99999999);
    absl::flat_hash_set<uint32_t> seen;
    seen.reserve(kDnis);
    IdentityTuple t;
    while (static_cast<int>(seen.size()) < kDnis) {
      const uint32_t n = number(rng);
      if (!seen.insert(n).second) continue;
      t.dni = absl::StrFormat("%08u", n);
      add(t, t.dni);
    }
  }
  {
    std::uniform_int_distribution<int> length(8, 12);
    std::uniform_int_distribution<int> digit(0, 9);
    absl::flat_hash_set<std::string> seen;
    seen.reserve(kCnvs);
    IdentityTuple t;
    while (static_cast<int>(seen.size()) < kCnvs) {
      std::string cnv(static_cast<size_t>(length(rng)), '0');
      for (char& c : cnv) c = static_cast<char>('0' + digit(rng));
      if (!seen.insert(cnv).second) continue;
      t.cnv = cnv;
      add(t, "CNV " + cnv);
    }
  }
  {
    const std::vector<std::string_view> provinces = AllUbigeoProvinces();
    std::uniform_int_distribution<size_t> province(0, provinces.size() - 1);
    std::uniform_int_distribution<int> district(1, 30);
    std::uniform_int_distribution<int> year(1990, 2025);
    std::uniform_int_distribution<int> month(1, 12);
    std::uniform_int_distribution<int> day(1, 28);
    std::uniform_int_distribution<int> words(1, 2);
    absl::flat_hash_set<std::string> seen;
    seen.reserve(kNamed);
    while (static_cast<int>(seen.size()) < kNamed) {
      std::string given = Word(rng, 3, 9);
      if (words(rng) == 2) absl::StrAppend(&given, " ", Word(rng, 3, 9));
      const std::string surnames =
          absl::StrCat(Word(rng, 3, 9), " ", Word(rng, 3, 9));
      IdentityTuple t = Named(
          Decorate(rng, given), Decorate(rng, surnames), year(rng), month(rng),
          day(rng),
          absl::StrFormat("%s%02d", provinces[province(rng)], district(rng)));
      const std::string key =
          absl::StrCat(given, "|", surnames, "|", t.birth_year, "-",
                       t.birth_month, "-", t.birth_day, "|", t.birth_district);
      if (!seen.insert(key).second) continue;
      add(t, key);
    }
  }

  const absl::Duration elapsed = absl::Now() - start;
  std::printf(
      "[person_ref] %d distinct identities (%d DNIs, %d CNVs, %d names and "
      "birth) -> %zu distinct refs in %.2f s (%.2f us per identity)\n",
      kTotal, kDnis, kCnvs, kNamed, refs.size(), absl::ToDoubleSeconds(elapsed),
      absl::ToDoubleMicroseconds(elapsed) / kTotal);
  EXPECT_EQ(collisions, 0);
  EXPECT_EQ(refs.size(), static_cast<size_t>(kTotal));
}

}  // namespace
}  // namespace ruta::core
