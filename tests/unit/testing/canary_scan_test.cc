#include "ruta/testing/canary_scan.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/pki.h"

namespace ruta::testing {
namespace {

using ::testing::HasSubstr;

constexpr char kName[] = "Zoilaqx Ñuñezvq";
constexpr char kDni[] = "73914862";

std::string RandomBytes(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::string out(n, '\0');
  for (size_t i = 0; i < n; i += 8) {
    const uint64_t v = rng();
    for (size_t b = 0; b < 8 && i + b < n; ++b) {
      out[i + b] = static_cast<char>(v >> (8 * b));
    }
  }
  return out;
}

void WriteBytes(const std::string& path, const std::string& data) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(data.data(), static_cast<std::streamsize>(data.size()));
  ASSERT_TRUE(out.good()) << path;
}

std::string FormBytes(const std::vector<CanaryForm>& forms,
                      const std::string& encoding) {
  for (const CanaryForm& form : forms) {
    if (form.encoding == encoding) return form.bytes;
  }
  ADD_FAILURE() << "no form \"" << encoding << "\"";
  return "";
}

CanaryScan ScanOf(const std::vector<std::string>& canaries,
                  const std::vector<std::string>& paths) {
  CanaryScan scan;
  for (const std::string& canary : canaries) {
    const absl::Status added = scan.AddCanary(canary);
    EXPECT_TRUE(added.ok()) << added;
  }
  for (const std::string& path : paths) scan.AddPath(path);
  return scan;
}

// The forms, checked against values computed independently (Python's
// unicodedata and base64 modules).
TEST(CanaryFormsTest, EveryEncodingOfTheBriefIsSearched) {
  const std::vector<CanaryForm> forms = CanaryForms(kName);
  ASSERT_FALSE(forms.empty());
  EXPECT_EQ(forms.front().encoding, "clear");
  EXPECT_EQ(forms.front().bytes, kName);
  EXPECT_EQ(FormBytes(forms, "lower"), "zoilaqx ñuñezvq");
  EXPECT_EQ(FormBytes(forms, "upper"), "ZOILAQX ÑUÑEZVQ");
  EXPECT_EQ(FormBytes(forms, "normalized"), "zoilaqx nunezvq");
  EXPECT_EQ(FormBytes(forms, "normalized upper"), "ZOILAQX NUNEZVQ");
  EXPECT_EQ(FormBytes(forms, "nfd"),
            "Zoilaqx N\xCC\x83"
            "un\xCC\x83"
            "ezvq");
  EXPECT_EQ(FormBytes(forms, "hex of clear"),
            "5a6f696c61717820c39175c3b1657a7671");
  EXPECT_EQ(FormBytes(forms, "HEX of clear"),
            "5A6F696C61717820C39175C3B1657A7671");
  EXPECT_EQ(FormBytes(forms, "base64+0 of clear"), "Wm9pbGFxeCDDkXXDsWV6dn");
  EXPECT_EQ(FormBytes(forms, "base64+1 of clear"), "pvaWxhcXggw5F1w7FlenZx");
  EXPECT_EQ(FormBytes(forms, "base64+2 of clear"), "ab2lsYXF4IMORdcOxZXp2c");
  EXPECT_EQ(absl::BytesToHexString(FormBytes(forms, "utf-16le of clear")),
            "5a006f0069006c006100710078002000d1007500f10065007a0076007100");

  // Web-safe base64 differs where '+' and '/' appear.
  const std::vector<CanaryForm> punct = CanaryForms("Ñuñoz?>~Quíspe");
  EXPECT_EQ(FormBytes(punct, "base64+0 of clear"), "w5F1w7Fvej8+flF1w61zcG");
  EXPECT_EQ(FormBytes(punct, "base64url+0 of clear"), "w5F1w7Fvej8-flF1w61zcG");
  EXPECT_EQ(FormBytes(punct, "base64+1 of clear"), "ORdcOxb3o/Pn5RdcOtc3Bl");
  EXPECT_EQ(FormBytes(punct, "base64url+1 of clear"), "ORdcOxb3o_Pn5RdcOtc3Bl");
  EXPECT_EQ(FormBytes(punct, "base64+2 of clear"), "DkXXDsW96Pz5+UXXDrXNwZ");
  EXPECT_EQ(FormBytes(punct, "base64url+2 of clear"), "DkXXDsW96Pz5-UXXDrXNwZ");

  // Forms are unique: a DNI is its own lower, upper and normalized form.
  const std::vector<CanaryForm> dni = CanaryForms(kDni);
  std::set<std::string> bytes;
  for (const CanaryForm& form : dni) {
    EXPECT_TRUE(bytes.insert(form.bytes).second) << form.encoding;
  }
  EXPECT_EQ(FormBytes(dni, "hex of clear"), "3733393134383632");
  EXPECT_EQ(absl::BytesToHexString(FormBytes(dni, "utf-16le of clear")),
            "37003300390031003400380036003200");
}

TEST(CanaryScanTest, RefusesShortOrInvalidCanaries) {
  CanaryScan scan;
  EXPECT_EQ(scan.AddCanary("12345").code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(scan.AddCanary("Zoila\xC3").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(scan.AddCanary(kDni).ok());
  EXPECT_TRUE(scan.AddCanary(kDni).ok());
  EXPECT_EQ(scan.canary_count(), 1u);
}

// Every form of two canaries, each planted across a chunk boundary of a file
// of random bytes, is found once, at its offset, under its encoding.
TEST(CanaryScanTest, EveryFormAcrossAChunkBoundaryIsFound) {
  constexpr size_t kChunk = 4096;
  const std::string dir = MakeTempDir("canary-boundary");
  std::vector<std::pair<std::string, CanaryForm>> planted;
  for (const char* canary : {kName, kDni}) {
    for (const CanaryForm& form : CanaryForms(canary)) {
      planted.emplace_back(canary, form);
    }
  }
  std::string data = RandomBytes((planted.size() + 1) * kChunk, 42);
  std::map<uint64_t, std::pair<std::string, std::string>> expected;
  for (size_t i = 0; i < planted.size(); ++i) {
    const std::string& bytes = planted[i].second.bytes;
    // Straddles the boundary at (i + 1) * kChunk, by a varying amount.
    const size_t offset = (i + 1) * kChunk - 1 - (i % (bytes.size() - 1));
    data.replace(offset, bytes.size(), bytes);
    expected[offset] = {planted[i].first, planted[i].second.encoding};
  }
  const std::string path = dir + "/planted.bin";
  WriteBytes(path, data);

  CanaryScan scan = ScanOf({kName, kDni}, {dir});
  scan.set_chunk_bytes(kChunk);
  const CanaryScanResult result = scan.Run();
  EXPECT_TRUE(result.errors.empty()) << result.Describe();
  EXPECT_EQ(result.bytes, data.size());
  std::map<uint64_t, std::pair<std::string, std::string>> found;
  for (const CanaryHit& hit : result.hits) {
    EXPECT_EQ(hit.path, path);
    found[hit.offset] = {hit.canary, hit.encoding};
  }
  EXPECT_EQ(found, expected) << result.Describe(100);
  EXPECT_EQ(result.hit_count, planted.size()) << result.Describe(100);
  std::printf(
      "[canary_scan] %zu forms of 2 canaries planted across %zu-byte "
      "chunk boundaries: %llu found\n",
      planted.size(), kChunk,
      static_cast<unsigned long long>(result.hit_count));
}

// A canary inside a larger value that is then hex-, base64- or
// UTF-16-encoded as a whole, at every alignment, is found: the encodings here
// come from whole buffers, not from the scanner's own forms.
TEST(CanaryScanTest, CanaryInsideAnEncodedValueIsFoundAtEveryAlignment) {
  constexpr size_t kChunk = 64;
  const std::string dir = MakeTempDir("canary-aligned");
  const std::string canary = "Ñuñoz?>~Quíspe";
  uint64_t seed = 7;
  int cases = 0;
  for (size_t before = 0; before < 6; ++before) {
    for (size_t after = 0; after < 3; ++after) {
      const std::string head = RandomBytes(before, ++seed);
      const std::string value = head + canary + RandomBytes(after, ++seed);
      const std::string text = std::string(before, 'x') + canary + "yz";
      std::string utf16;  // text is Latin-1 range: one unit per code point
      for (size_t i = 0; i < text.size(); ++i) {
        unsigned char c = static_cast<unsigned char>(text[i]);
        uint32_t cp = c;
        if (c >= 0xC0) cp = ((c & 0x1F) << 6) | (text[++i] & 0x3F);
        utf16.push_back(static_cast<char>(cp & 0xff));
        utf16.push_back(static_cast<char>(cp >> 8));
      }
      const std::vector<std::pair<std::string, std::string>> encoded = {
          {absl::Base64Escape(value), "base64"},
          {absl::WebSafeBase64Escape(value), "base64"},
          {absl::BytesToHexString(value), "hex of "},
          {absl::AsciiStrToUpper(absl::BytesToHexString(value)), "HEX of "},
          {utf16, "utf-16le of "},
      };
      for (const auto& [bytes, family] : encoded) {
        ++cases;
        std::string data = RandomBytes(3 * kChunk + bytes.size(), ++seed);
        const size_t offset = kChunk + kChunk / 2 + before;
        data.replace(offset, bytes.size(), bytes);
        const std::string path = dir + "/value.bin";
        WriteBytes(path, data);
        CanaryScan scan = ScanOf({canary}, {path});
        scan.set_chunk_bytes(kChunk);
        const CanaryScanResult result = scan.Run();
        bool seen = false;
        for (const CanaryHit& hit : result.hits) {
          seen |= absl::StartsWith(hit.encoding, family) &&
                  hit.offset >= offset && hit.offset < offset + bytes.size();
        }
        EXPECT_TRUE(seen) << family << " with " << before << " bytes before, "
                          << after << " after: " << result.Describe();
      }
    }
  }
  EXPECT_EQ(cases, 90);
}

TEST(CanaryScanTest, CleanFilesGiveNoHitsAndEveryByteIsCounted) {
  const std::string dir = MakeTempDir("canary-clean");
  std::filesystem::create_directories(dir + "/a/b/c");
  // Near misses of the canaries, and text around them.
  const std::vector<std::pair<std::string, std::string>> files = {
      {"/log.txt", "Zoilaqx Ñuñezv\nZoilaq Ñuñezvq\n73914863 7391486 2\n"},
      {"/a/b/c/db", RandomBytes(70000, 3)},
      {"/a/empty", ""},
      {"/a/b/hex", "3733393134383633 5a6f696c61717820c39175c3b1657a7670"},
  };
  uint64_t total = 0;
  for (const auto& [name, content] : files) {
    WriteBytes(dir + name, content);
    total += content.size();
  }
  CanaryScan scan = ScanOf({kName, kDni, "2009-03-14"}, {dir});
  scan.set_chunk_bytes(1000);
  const CanaryScanResult result = scan.Run();
  EXPECT_TRUE(result.errors.empty()) << result.Describe();
  EXPECT_EQ(result.hit_count, 0u) << result.Describe();
  EXPECT_EQ(result.files.size(), files.size());
  EXPECT_EQ(result.bytes, total);
  EXPECT_THAT(result.Describe(), HasSubstr("0 canary hits in 4 files"));
}

// Random data does not hit distinctive canaries by chance.
TEST(CanaryScanTest, RandomMebibyteHasNoHits) {
  const std::string path = MakeTempDir("canary-random") + "/random.bin";
  WriteBytes(path, RandomBytes(size_t{1} << 20, 20261128));
  CanaryScan scan = ScanOf({kName, kDni, "Ñuñoz?>~Quíspe", "2009-03-14",
                            "14/03/2009", "Wilfredoxq Ccahuanavq"},
                           {path});
  const CanaryScanResult result = scan.Run();
  EXPECT_TRUE(result.errors.empty()) << result.Describe();
  EXPECT_EQ(result.bytes, size_t{1} << 20);
  EXPECT_EQ(result.hit_count, 0u) << result.Describe();
  std::printf("[canary_scan] 1 MiB of random bytes, %zu forms: %llu hits\n",
              scan.form_count(),
              static_cast<unsigned long long>(result.hit_count));
}

// Files larger than many chunks are read to the end.
TEST(CanaryScanTest, LargeFileIsScannedToItsLastByte) {
  const std::string path = MakeTempDir("canary-large") + "/large.bin";
  std::string data(9 * (size_t{1} << 20) + 123, '\0');
  data.replace(0, 8, kDni);
  const std::string upper = "ZOILAQX ÑUÑEZVQ";
  data.replace(data.size() - upper.size(), upper.size(), upper);
  WriteBytes(path, data);
  const CanaryScanResult result = ScanOf({kName, kDni}, {path}).Run();
  ASSERT_EQ(result.hit_count, 2u) << result.Describe();
  EXPECT_EQ(result.hits[0].offset, 0u);
  EXPECT_EQ(result.hits[0].canary, kDni);
  EXPECT_EQ(result.hits[1].offset, data.size() - upper.size());
  EXPECT_EQ(result.hits[1].encoding, "upper");
  EXPECT_EQ(result.bytes, data.size());
}

TEST(CanaryScanTest, MissingPathsAreErrorsAndLinksAreNotFollowed) {
  const std::string dir = MakeTempDir("canary-walk");
  const std::string outside = MakeTempDir("canary-outside");
  WriteBytes(outside + "/leak", kDni);
  ASSERT_EQ(::symlink((outside + "/leak").c_str(), (dir + "/link").c_str()), 0);
  ASSERT_EQ(::symlink(outside.c_str(), (dir + "/dirlink").c_str()), 0);
  WriteBytes(dir + "/node.err", std::string("starting\n") + kDni + "\n");

  // The directory and a file in it: the file is scanned once.
  const CanaryScanResult result =
      ScanOf({kDni}, {dir, dir + "/node.err", dir + "/no-such-backup"}).Run();
  ASSERT_EQ(result.errors.size(), 1u) << result.Describe();
  EXPECT_THAT(result.errors[0], HasSubstr("no-such-backup"));
  EXPECT_EQ(result.files.size(), 1u) << result.Describe();
  ASSERT_EQ(result.hit_count, 1u) << result.Describe();
  EXPECT_EQ(result.hits[0].path, dir + "/node.err");
  EXPECT_EQ(result.hits[0].offset, 9u);
  EXPECT_EQ(result.hits[0].encoding, "clear");
  EXPECT_THAT(result.Describe(), HasSubstr(dir + "/node.err @9"));
}

}  // namespace
}  // namespace ruta::testing
