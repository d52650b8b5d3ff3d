#include "ruta/testing/canary_scan.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/unistr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ruta/core/pseudonym.h"

namespace ruta::testing {
namespace {

namespace fs = std::filesystem;

// Every form is indexed by its first 4 bytes.
constexpr size_t kPrefixBytes = 4;
// A 2^20-bit filter over the prefixes skips most positions with one probe.
constexpr int kFilterBits = 20;

uint32_t Load32(const char* p) {
  uint32_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

uint32_t FilterSlot(uint32_t prefix) {
  return (prefix * 0x9E3779B1u) >> (32 - kFilterBits);
}

std::string ToUtf8(const icu::UnicodeString& s) {
  std::string out;
  s.toUTF8String(out);
  return out;
}

std::string Utf16Le(const icu::UnicodeString& s) {
  std::string out;
  out.reserve(2 * static_cast<size_t>(s.length()));
  for (int32_t i = 0; i < s.length(); ++i) {
    const char16_t unit = s.charAt(i);
    out.push_back(static_cast<char>(unit & 0xff));
    out.push_back(static_cast<char>(unit >> 8));
  }
  return out;
}

// The characters of base64(<k bytes> + text) that depend on `text` alone:
// the first ceil(8k/6) depend on the k bytes before it, and the last, when
// (k + n) is not a multiple of 3, on the byte after it.
std::string StableBase64(const std::string& text, size_t k, bool web_safe) {
  const std::string data = std::string(k, '\0') + text;
  const std::string encoded =
      web_safe ? absl::WebSafeBase64Escape(data) : absl::Base64Escape(data);
  const size_t first = (8 * k + 5) / 6;
  const size_t end = 8 * data.size() / 6;
  return end > first ? encoded.substr(first, end - first) : std::string();
}

}  // namespace

struct CanaryScan::Index {
  std::vector<uint64_t> filter;
  absl::flat_hash_map<uint32_t, std::vector<uint32_t>> by_prefix;
  size_t max_length = 0;
};

std::vector<CanaryForm> CanaryForms(const std::string& canary) {
  std::vector<CanaryForm> forms;
  const absl::StatusOr<std::string> normalized =
      ruta::core::NormalizeName(canary);
  if (!normalized.ok()) return forms;  // not UTF-8 (AddCanary refuses it)

  UErrorCode error = U_ZERO_ERROR;
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(error);
  const icu::Normalizer2* nfd = icu::Normalizer2::getNFDInstance(error);
  const icu::UnicodeString text = icu::UnicodeString::fromUTF8(canary);
  const icu::UnicodeString normal = icu::UnicodeString::fromUTF8(*normalized);
  std::vector<std::pair<std::string, icu::UnicodeString>> texts = {
      {"clear", text},
      {"nfc", U_SUCCESS(error) ? nfc->normalize(text, error) : text},
      {"nfd", U_SUCCESS(error) ? nfd->normalize(text, error) : text},
      {"lower", icu::UnicodeString(text).toLower(icu::Locale::getRoot())},
      {"upper", icu::UnicodeString(text).toUpper(icu::Locale::getRoot())},
      {"normalized", normal},
      {"normalized upper",
       icu::UnicodeString(normal).toUpper(icu::Locale::getRoot())},
  };

  absl::flat_hash_set<std::string> seen;
  auto add = [&](std::string bytes, std::string encoding) {
    if (bytes.size() < kPrefixBytes || !seen.insert(bytes).second) return;
    forms.push_back({std::move(bytes), std::move(encoding)});
  };
  for (const auto& [name, value] : texts) {
    add(name == "clear" ? canary : ToUtf8(value), name);
  }
  for (const auto& [name, value] : texts) {
    const std::string utf8 = name == "clear" ? canary : ToUtf8(value);
    const std::string hex = absl::BytesToHexString(utf8);
    add(hex, absl::StrCat("hex of ", name));
    add(absl::AsciiStrToUpper(hex), absl::StrCat("HEX of ", name));
    for (size_t k = 0; k < 3; ++k) {
      add(StableBase64(utf8, k, false),
          absl::StrCat("base64+", k, " of ", name));
      add(StableBase64(utf8, k, true),
          absl::StrCat("base64url+", k, " of ", name));
    }
    add(Utf16Le(value), absl::StrCat("utf-16le of ", name));
  }
  return forms;
}

std::string CanaryScanResult::Describe(size_t max_hits) const {
  std::string out = absl::StrCat(hit_count, " canary hits in ", files.size(),
                                 " files (", bytes, " bytes scanned)");
  for (const std::string& error : errors) {
    absl::StrAppend(&out, "\n  not scanned: ", error);
  }
  for (size_t i = 0; i < hits.size() && i < max_hits; ++i) {
    const CanaryHit& hit = hits[i];
    absl::StrAppend(&out, "\n  ", hit.path, " @", hit.offset, ": \"",
                    hit.canary, "\" as ", hit.encoding);
  }
  if (hit_count > max_hits) {
    absl::StrAppend(&out, "\n  ... and ", hit_count - max_hits, " more");
  }
  return out;
}

absl::Status CanaryScan::AddCanary(const std::string& canary) {
  if (canary.size() < kMinCanaryBytes) {
    return absl::InvalidArgumentError(
        absl::StrCat("a canary needs at least ", kMinCanaryBytes,
                     " bytes (a short one hits by chance): \"", canary, "\""));
  }
  if (!ruta::core::NormalizeName(canary).ok()) {
    return absl::InvalidArgumentError(
        "a canary must be valid UTF-8 of at most 512 bytes");
  }
  if (!canary_set_.insert(canary).second) return absl::OkStatus();
  const size_t index = canaries_.size();
  canaries_.push_back(canary);
  // A form two canaries share is reported under the first.
  for (CanaryForm& form : CanaryForms(canary)) {
    if (!form_bytes_.insert(form.bytes).second) continue;
    forms_.push_back({std::move(form.bytes), index, std::move(form.encoding)});
  }
  return absl::OkStatus();
}

void CanaryScan::AddPath(const std::string& path) { paths_.push_back(path); }

CanaryScanResult CanaryScan::Run() const {
  Index index;
  index.filter.assign((size_t{1} << kFilterBits) / 64, 0);
  for (size_t i = 0; i < forms_.size(); ++i) {
    const uint32_t prefix = Load32(forms_[i].bytes.data());
    const uint32_t slot = FilterSlot(prefix);
    index.filter[slot / 64] |= uint64_t{1} << (slot % 64);
    index.by_prefix[prefix].push_back(static_cast<uint32_t>(i));
    index.max_length = std::max(index.max_length, forms_[i].bytes.size());
  }

  CanaryScanResult result;
  absl::flat_hash_set<std::string> scanned;
  auto scan_once = [&](const fs::path& file) {
    std::error_code ec;
    const fs::path canonical = fs::canonical(file, ec);
    if (!scanned.insert(ec ? file.string() : canonical.string()).second) {
      return;
    }
    ScanFile(file.string(), index, result);
  };
  for (const std::string& path : paths_) {
    std::error_code ec;
    const fs::file_status status = fs::symlink_status(path, ec);
    if (ec || !fs::exists(status)) {
      result.errors.push_back(absl::StrCat(
          path, ": ", ec ? ec.message() : std::string("does not exist")));
      continue;
    }
    if (fs::is_regular_file(status)) {
      scan_once(path);
      continue;
    }
    if (!fs::is_directory(status)) {
      result.errors.push_back(
          absl::StrCat(path, ": neither a regular file nor a directory"));
      continue;
    }
    fs::recursive_directory_iterator it(path, ec);
    if (ec) {
      result.errors.push_back(absl::StrCat(path, ": ", ec.message()));
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      const fs::file_status entry = it->symlink_status(ec);
      if (ec) {
        result.errors.push_back(
            absl::StrCat(it->path().string(), ": ", ec.message()));
        ec.clear();
        continue;
      }
      // Directories are descended into by the iterator; symbolic links,
      // sockets and FIFOs hold no bytes of their own.
      if (fs::is_regular_file(entry)) scan_once(it->path());
    }
    if (ec) {
      result.errors.push_back(
          absl::StrCat(path, ": walk stopped: ", ec.message()));
    }
  }
  return result;
}

void CanaryScan::ScanFile(const std::string& path, const Index& index,
                          CanaryScanResult& result) const {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) {
    result.errors.push_back(absl::StrCat(path, ": ", std::strerror(errno)));
    return;
  }
  // The last max_length - 1 bytes of a chunk are kept before the next one:
  // a form that starts there and ends in the next chunk is found there.
  const size_t keep_max = index.max_length > 0 ? index.max_length - 1 : 0;
  std::string buffer(keep_max + chunk_bytes_, '\0');
  size_t kept = 0;
  uint64_t base = 0;  // file offset of buffer[0]
  uint64_t total = 0;
  for (;;) {
    size_t got = 0;
    while (got < chunk_bytes_) {
      const ssize_t n =
          ::read(fd, buffer.data() + kept + got, chunk_bytes_ - got);
      if (n < 0) {
        if (errno == EINTR) continue;
        result.errors.push_back(absl::StrCat(path, ": read at ", total + got,
                                             ": ", std::strerror(errno)));
        ::close(fd);
        return;
      }
      if (n == 0) break;
      got += static_cast<size_t>(n);
    }
    if (got == 0) break;
    total += got;
    const size_t size = kept + got;
    const char* data = buffer.data();
    for (size_t p = 0; p + kPrefixBytes <= size; ++p) {
      const uint32_t prefix = Load32(data + p);
      const uint32_t slot = FilterSlot(prefix);
      if ((index.filter[slot / 64] >> (slot % 64) & 1) == 0) continue;
      const auto candidates = index.by_prefix.find(prefix);
      if (candidates == index.by_prefix.end()) continue;
      for (uint32_t i : candidates->second) {
        const Form& form = forms_[i];
        const size_t end = p + form.bytes.size();
        // Ending inside the kept bytes: found with the previous chunk.
        if (end > size || end <= kept) continue;
        if (std::memcmp(data + p, form.bytes.data(), form.bytes.size()) != 0) {
          continue;
        }
        if (result.hits.size() < CanaryScanResult::kMaxReportedHits) {
          result.hits.push_back(
              {path, base + p, canaries_[form.canary], form.encoding});
        }
        ++result.hit_count;
      }
    }
    if (got < chunk_bytes_) break;  // end of file
    const size_t keep = std::min(size, keep_max);
    std::memmove(buffer.data(), buffer.data() + size - keep, keep);
    base += size - keep;
    kept = keep;
  }
  ::close(fd);
  result.files.emplace_back(path, total);
  result.bytes += total;
}

}  // namespace ruta::testing
