#include "ruta/core/partner_pseudonym.h"

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/core/pseudonym.h"

namespace ruta::core {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kTdh[] = "spiffe://cusco.ruta.pe/partner/tdh";
constexpr char kCaritas[] = "spiffe://cusco.ruta.pe/partner/caritas";
constexpr char kCase[] = "cs_abcdefghijklmnopqrst";

// 0x00, 0x01, ..., 0x1f, or that shifted by `seed`.
std::string Master(char seed = 0) {
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

PartnerPseudonyms Make(char seed = 0) {
  auto p = PartnerPseudonyms::FromMasterSecret(Master(seed));
  EXPECT_TRUE(p.ok()) << p.status();
  return *std::move(p);
}

// "cs_" + 20 letters, as ids.h makes them: `i` in base 26, distinct for
// distinct `i`.
std::string CaseId(int i) {
  std::string id = "cs_" + std::string(20, 'a');
  for (size_t k = id.size() - 1; i > 0; --k, i /= 26) {
    id[k] = static_cast<char>('a' + i % 26);
  }
  return id;
}

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

TEST(PartnerPseudonymsTest, GoldenValuesPinTheDerivation) {
  // Computed independently (Python hmac) from the documented derivation:
  // key = HMAC(master, "ruta-partner-v1\0" + partner_id),
  // ref = "pc_" + a..p letters of HMAC(key, case_id)[0:16].
  // A change here changes every ref every partner holds.
  const PartnerPseudonyms p = Make();
  EXPECT_EQ(p.CaseRefFor(kTdh, kCase), "pc_bcegmfeefaldmjjldiibcjmjckfmekjc");
  EXPECT_EQ(p.CaseRefFor(kCaritas, kCase),
            "pc_ifpghecnnjnkmokkliicmebkmjjdhmja");
}

TEST(PartnerPseudonymsTest, DeterministicAndOfTheDocumentedFormat) {
  const PartnerPseudonyms a = Make(3);
  const PartnerPseudonyms b = Make(3);  // another node with the same secret
  const std::string ref = a.CaseRefFor(kTdh, kCase);
  EXPECT_EQ(a.CaseRefFor(kTdh, kCase), ref);
  EXPECT_EQ(b.CaseRefFor(kTdh, kCase), ref);
  EXPECT_TRUE(std::regex_match(ref, std::regex("^pc_[a-p]{32}$"))) << ref;
  EXPECT_TRUE(IsValidPartnerCaseRef(ref));
  // Not a person_ref, and another master gives another ref.
  EXPECT_FALSE(IsValidPersonRef(ref));
  EXPECT_NE(Make(4).CaseRefFor(kTdh, kCase), ref);
}

TEST(PartnerPseudonymsTest, PartnersSeeTheSameCaseUnderUnrelatedRefs) {
  const PartnerPseudonyms p = Make(1);
  EXPECT_NE(p.CaseRefFor(kTdh, kCase), p.CaseRefFor(kCaritas, kCase));
  // Near-identical partner ids and case ids are unrelated too (no prefix
  // or concatenation ambiguity).
  EXPECT_NE(p.CaseRefFor(kTdh, kCase),
            p.CaseRefFor(std::string(kTdh) + "x", kCase));
  EXPECT_NE(p.CaseRefFor("", kCase), p.CaseRefFor(kTdh, kCase));
  EXPECT_NE(p.CaseRefFor(kTdh, kCase),
            p.CaseRefFor(kTdh, std::string(kCase) + "a"));

  // Over many cases, the two partners' ref sets are disjoint: no case lets
  // them join their views.
  absl::flat_hash_set<std::string> tdh;
  for (int i = 0; i < 5000; ++i) tdh.insert(p.CaseRefFor(kTdh, CaseId(i)));
  for (int i = 0; i < 5000; ++i) {
    ASSERT_FALSE(tdh.contains(p.CaseRefFor(kCaritas, CaseId(i)))) << i;
  }
}

TEST(PartnerPseudonymsTest, NoCollisionOverOneHundredThousandCases) {
  const PartnerPseudonyms p = Make(7);
  constexpr int kCases = 100000;
  absl::flat_hash_set<std::string> ids;
  absl::flat_hash_set<std::string> refs;
  ids.reserve(kCases);
  refs.reserve(kCases);
  for (int i = 0; i < kCases; ++i) {
    const std::string id = CaseId(i);
    ASSERT_TRUE(ids.insert(id).second) << "test ids repeat: " << id;
    const std::string ref = p.CaseRefFor(kTdh, id);
    ASSERT_TRUE(refs.insert(ref).second) << "collision at case " << i;
  }
  EXPECT_EQ(refs.size(), static_cast<size_t>(kCases));
}

TEST(PartnerPseudonymsTest, ResolveMapsARefBackOverThePartnersCases) {
  const PartnerPseudonyms p = Make(2);
  std::vector<std::string> referred;
  for (int i = 0; i < 50; ++i) referred.push_back(CaseId(i));
  for (int i : {0, 17, 49}) {
    const auto found =
        p.ResolveCaseRef(kTdh, p.CaseRefFor(kTdh, CaseId(i)), referred);
    ASSERT_TRUE(found.ok()) << found.status();
    EXPECT_EQ(*found, CaseId(i));
  }
}

TEST(PartnerPseudonymsTest, ResolveCannotBeUsedToProbe) {
  const PartnerPseudonyms p = Make(2);
  const std::vector<std::string> tdh_cases = {CaseId(1), CaseId(2)};
  const std::string not_referred = p.CaseRefFor(kTdh, CaseId(3));
  // Caritas' ref of a case that is also referred to TDH.
  const std::string other_partners = p.CaseRefFor(kCaritas, CaseId(1));
  const std::string nothing = "pc_" + std::string(32, 'a');

  std::vector<std::string> messages;
  for (const auto& [ref, candidates] :
       std::vector<std::pair<std::string, std::vector<std::string>>>{
           {not_referred, tdh_cases},
           {other_partners, tdh_cases},
           {nothing, tdh_cases},
           {p.CaseRefFor(kTdh, CaseId(1)), {}},
       }) {
    const auto resolved = p.ResolveCaseRef(kTdh, ref, candidates);
    ASSERT_EQ(resolved.status().code(), absl::StatusCode::kNotFound) << ref;
    EXPECT_THAT(std::string(resolved.status().message()), Not(HasSubstr(ref)));
    messages.emplace_back(resolved.status().message());
  }
  // One answer for every way of not being the partner's case.
  for (const std::string& m : messages) EXPECT_EQ(m, messages.front());

  for (const std::string& bad :
       {std::string(""), std::string("pc_"), "pc_" + std::string(31, 'a'),
        "pc_" + std::string(33, 'a'), "pc_" + std::string(31, 'a') + "q",
        "PC_" + std::string(32, 'a'), "pr1_" + std::string(32, 'a'),
        "pc_" + std::string(31, 'a') + "1"}) {
    EXPECT_EQ(p.ResolveCaseRef(kTdh, bad, tdh_cases).status().code(),
              absl::StatusCode::kInvalidArgument)
        << bad;
    EXPECT_FALSE(IsValidPartnerCaseRef(bad)) << bad;
  }
}

TEST(PartnerPseudonymsTest, MasterSecretMustBe32Bytes) {
  EXPECT_EQ(PartnerPseudonyms::FromMasterSecret("").status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PartnerPseudonyms::FromMasterSecret(std::string(31, 'k')).status().code(),
      absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(
      PartnerPseudonyms::FromMasterSecret(std::string(33, 'k')).status().code(),
      absl::StatusCode::kInvalidArgument);
}

TEST(PartnerPseudonymsTest, MoveKeepsTheSecret) {
  PartnerPseudonyms a = Make(5);
  const std::string ref = a.CaseRefFor(kTdh, kCase);
  PartnerPseudonyms b(std::move(a));
  EXPECT_EQ(b.CaseRefFor(kTdh, kCase), ref);
  PartnerPseudonyms c = Make(6);
  c = std::move(b);
  EXPECT_EQ(c.CaseRefFor(kTdh, kCase), ref);
}

TEST(PartnerPseudonymsTest, LoadsTheMasterFromAFile) {
  const std::string master = Master(9);
  const std::string ref = Make(9).CaseRefFor(kTdh, kCase);
  const std::string path =
      WriteFile("partner_ok",
                absl::StrCat("# ruta partner master key\n\n  ", HexOf(master),
                             "  # the only one\r\n"),
                0600);
  auto loaded = PartnerPseudonyms::LoadFromFile(path);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->CaseRefFor(kTdh, kCase), ref);
  // Uppercase hex is the same secret; mode 0400 is fine.
  const std::string upper = WriteFile(
      "partner_upper", absl::AsciiStrToUpper(HexOf(master)) + "\n", 0400);
  loaded = PartnerPseudonyms::LoadFromFile(upper);
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(loaded->CaseRefFor(kTdh, kCase), ref);
}

TEST(PartnerPseudonymsTest, GroupOrWorldAccessibleFileIsRefused) {
  const std::string secret = HexOf(Master(11));
  for (mode_t mode : {0644, 0640, 0604, 0660, 0601, 0610, 0602}) {
    const std::string path = WriteFile("partner_mode", secret + "\n", mode);
    const auto loaded = PartnerPseudonyms::LoadFromFile(path);
    ASSERT_EQ(loaded.status().code(), absl::StatusCode::kPermissionDenied)
        << std::oct << mode;
    const std::string msg(loaded.status().message());
    EXPECT_THAT(msg, HasSubstr(path));
    EXPECT_THAT(msg, HasSubstr("chmod 600"));
    EXPECT_THAT(msg, Not(HasSubstr(secret.substr(0, 8))));
  }
}

TEST(PartnerPseudonymsTest, MissingFileOrDirectoryIsRefused) {
  EXPECT_EQ(PartnerPseudonyms::LoadFromFile(::testing::TempDir() + "/no/such")
                .status()
                .code(),
            absl::StatusCode::kNotFound);
  const std::string dir = ::testing::TempDir() + "/partner_dir";
  ::mkdir(dir.c_str(), 0700);
  EXPECT_EQ(PartnerPseudonyms::LoadFromFile(dir).status().code(),
            absl::StatusCode::kInvalidArgument);
}

TEST(PartnerPseudonymsTest, MalformedFileNamesTheLineNotTheSecret) {
  const std::string good = HexOf(Master(1));
  const std::string secret = HexOf(Master(5));
  struct Bad {
    std::string content;
    int line;
  };
  const std::vector<Bad> bad = {
      {absl::StrCat("# master\n", secret.substr(0, 63), "\n"), 2},
      {absl::StrCat(good, "\n\n", secret, "\n"), 3},  // two secrets
      {absl::StrCat(secret.substr(0, 62), "zz\n"), 1},
      {absl::StrCat("1 ", secret, "\n"), 1},  // the linkage file's format
      {absl::StrCat(secret, "00\n"), 1},
  };
  for (const Bad& b : bad) {
    const std::string path = WriteFile("partner_bad", b.content, 0600);
    const auto loaded = PartnerPseudonyms::LoadFromFile(path);
    ASSERT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument)
        << b.content;
    const std::string msg(loaded.status().message());
    EXPECT_THAT(msg, HasSubstr(absl::StrCat("line ", b.line)));
    for (size_t i = 0; i + 8 <= secret.size(); ++i) {
      ASSERT_THAT(msg, Not(HasSubstr(secret.substr(i, 8))));
      ASSERT_THAT(msg, Not(HasSubstr(good.substr(i, 8))));
    }
  }
  const std::string empty = WriteFile("partner_empty", "# none\n\n", 0600);
  EXPECT_EQ(PartnerPseudonyms::LoadFromFile(empty).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ruta::core
