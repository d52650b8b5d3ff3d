#include "ruta/backup/backup_file.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "ruta/common/status_macros.h"

namespace ruta::backup {
namespace {

constexpr char kMagic[] = "RUTABKUP";  // 8 bytes, without the NUL
constexpr size_t kMagicSize = 8;
constexpr size_t kPrefixSize = kMagicSize + 4;
// The largest frame a reader accepts: one chunk (or the header) plus the
// authentication overhead; anything larger is damage, not a reason to
// allocate.
constexpr size_t kMaxFrame =
    BackupWriter::kChunkSize + crypto_secretstream_xchacha20poly1305_ABYTES;

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

void PutU32(uint32_t v, unsigned char* out) {
  out[0] = static_cast<unsigned char>(v >> 24);
  out[1] = static_cast<unsigned char>(v >> 16);
  out[2] = static_cast<unsigned char>(v >> 8);
  out[3] = static_cast<unsigned char>(v);
}

uint32_t GetU32(const unsigned char* in) {
  return (static_cast<uint32_t>(in[0]) << 24) |
         (static_cast<uint32_t>(in[1]) << 16) |
         (static_cast<uint32_t>(in[2]) << 8) | static_cast<uint32_t>(in[3]);
}

std::string Prefix(uint32_t version) {
  std::string prefix(kMagic, kMagicSize);
  unsigned char v[4];
  PutU32(version, v);
  prefix.append(reinterpret_cast<const char*>(v), 4);
  return prefix;
}

absl::Status ErrnoStatus(const std::string& what, const std::string& path,
                         int err) {
  const std::string message =
      absl::StrCat("cannot ", what, " ", path, ": ", std::strerror(err));
  if (err == ENOENT) return absl::NotFoundError(message);
  return absl::FailedPreconditionError(message);
}

absl::Time ParseUtc(absl::string_view text, bool* ok) {
  absl::Time t;
  std::string err;
  *ok = absl::ParseTime("%Y-%m-%dT%H:%M:%SZ", std::string(text),
                        absl::UTCTimeZone(), &t, &err);
  return t;
}

// Reads exactly `n` bytes, or fewer only at the end of the file.
absl::StatusOr<size_t> ReadFully(int fd, unsigned char* buf, size_t n,
                                 const std::string& path) {
  size_t got = 0;
  while (got < n) {
    const ssize_t r = ::read(fd, buf + got, n - got);
    if (r < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("read", path, errno);
    }
    if (r == 0) break;
    got += static_cast<size_t>(r);
  }
  return got;
}

class Fd final {
 public:
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }

 private:
  int fd_;
};

// Reads a backup frame by frame. `header_only`: stops after the header.
absl::StatusOr<BackupHeader> ReadImpl(const std::string& path,
                                      const BackupKey& key,
                                      const ByteSink* payload,
                                      bool header_only) {
  if (!SodiumReady()) return absl::InternalError("libsodium failed to start");
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return ErrnoStatus("open the backup", path, errno);
  Fd fd(raw);
  const auto damaged = [&path](const std::string& why) {
    return absl::DataLossError(absl::StrCat(path, ": ", why));
  };

  unsigned char prefix[kPrefixSize];
  RUTA_ASSIGN_OR_RETURN(size_t got,
                        ReadFully(fd.get(), prefix, kPrefixSize, path));
  if (got < kMagicSize || std::memcmp(prefix, kMagic, kMagicSize) != 0) {
    return damaged(
        "not a ruta backup file (it does not start with the RUTABKUP "
        "magic)");
  }
  if (got < kPrefixSize) return damaged("truncated (ends in its prefix)");
  const uint32_t version = GetU32(prefix + kMagicSize);
  if (version != kBackupFormatVersion) {
    return damaged(absl::StrCat("backup format version ", version,
                                " is not one this binary reads (it reads "
                                "version ",
                                kBackupFormatVersion, ")"));
  }
  const std::string ad = Prefix(version);

  unsigned char
      stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  RUTA_ASSIGN_OR_RETURN(
      got, ReadFully(fd.get(), stream_header, sizeof stream_header, path));
  if (got < sizeof stream_header) {
    return damaged("truncated (ends in its stream header)");
  }
  crypto_secretstream_xchacha20poly1305_state state;
  if (crypto_secretstream_xchacha20poly1305_init_pull(&state, stream_header,
                                                      key.data()) != 0) {
    return damaged("invalid stream header");
  }

  std::vector<unsigned char> cipher(kMaxFrame);
  std::vector<unsigned char> plain(kMaxFrame);
  int64_t offset = kPrefixSize + sizeof stream_header;
  std::optional<BackupHeader> header;
  for (int64_t frame = 0;; ++frame) {
    unsigned char len_bytes[4];
    RUTA_ASSIGN_OR_RETURN(got, ReadFully(fd.get(), len_bytes, 4, path));
    if (got == 0) {
      return damaged(absl::StrCat(
          "truncated: the file ends at byte ", offset, " after ", frame,
          " frames, before its final frame (an interrupted copy?)"));
    }
    if (got < 4) {
      return damaged(absl::StrCat("truncated at byte ", offset + got,
                                  " inside a frame length"));
    }
    const uint32_t len = GetU32(len_bytes);
    if (len < crypto_secretstream_xchacha20poly1305_ABYTES || len > kMaxFrame) {
      return damaged(absl::StrCat("damaged at byte ", offset, ": frame ", frame,
                                  " claims ", len, " bytes"));
    }
    RUTA_ASSIGN_OR_RETURN(got, ReadFully(fd.get(), cipher.data(), len, path));
    if (got < len) {
      return damaged(absl::StrCat("truncated at byte ", offset + 4 + got,
                                  " inside frame ", frame));
    }
    unsigned long long plain_len = 0;
    unsigned char tag = 0;
    if (crypto_secretstream_xchacha20poly1305_pull(
            &state, plain.data(), &plain_len, &tag, cipher.data(), len,
            reinterpret_cast<const unsigned char*>(ad.data()),
            ad.size()) != 0) {
      if (frame == 0) {
        return damaged(
            "cannot be decrypted with this key: wrong key (is it the key "
            "file the backup was made with?) or a damaged header");
      }
      return damaged(absl::StrCat("damaged: frame ", frame, " at byte ", offset,
                                  " fails authentication (changed bytes)"));
    }
    offset += 4 + len;
    const bool final = tag == crypto_secretstream_xchacha20poly1305_TAG_FINAL;
    if (frame == 0) {
      if (final) return damaged("damaged: the stream ends at its header");
      absl::StatusOr<BackupHeader> parsed = ParseHeader(absl::string_view(
          reinterpret_cast<const char*>(plain.data()), plain_len));
      if (!parsed.ok()) {
        return damaged(
            absl::StrCat("unreadable header: ", parsed.status().message()));
      }
      header = *std::move(parsed);
      if (header_only) return *header;
      continue;
    }
    if (tag != crypto_secretstream_xchacha20poly1305_TAG_MESSAGE && !final) {
      return damaged(
          absl::StrCat("damaged: frame ", frame, " has an unexpected tag"));
    }
    if (payload != nullptr && *payload && plain_len > 0) {
      RUTA_RETURN_IF_ERROR((*payload)(absl::string_view(
          reinterpret_cast<const char*>(plain.data()), plain_len)));
    }
    if (final) break;
  }
  unsigned char extra;
  RUTA_ASSIGN_OR_RETURN(got, ReadFully(fd.get(), &extra, 1, path));
  if (got != 0) {
    return damaged(
        absl::StrCat("damaged: bytes follow the final frame at "
                     "byte ",
                     offset));
  }
  return *header;
}

}  // namespace

// --- BackupKey
// ----------------------------------------------------------------

absl::StatusOr<BackupKey> BackupKey::LoadFromFile(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return ErrnoStatus("read the backup key file", path, errno);
  }
  if (!S_ISREG(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup key file ", path, " is not a regular file"));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "backup key file %s is accessible by group or others (mode %04o): "
        "run `chmod 600 %s`",
        path, st.st_mode & 07777, path));
  }
  const int raw = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (raw < 0) return ErrnoStatus("read the backup key file", path, errno);
  Fd fd(raw);
  unsigned char text[256];
  RUTA_ASSIGN_OR_RETURN(size_t got,
                        ReadFully(fd.get(), text, sizeof text, path));
  std::string line(reinterpret_cast<const char*>(text), got);
  sodium_memzero(text, sizeof text);
  absl::string_view hex = absl::StripAsciiWhitespace(line);
  BackupKey key;
  size_t bin_len = 0;
  const bool ok = hex.size() == 2 * kSize &&
                  sodium_hex2bin(key.bytes_.data(), kSize, hex.data(),
                                 hex.size(), nullptr, &bin_len, nullptr) == 0 &&
                  bin_len == kSize;
  sodium_memzero(line.data(), line.size());
  if (!ok) {
    return absl::InvalidArgumentError(absl::StrCat(
        "backup key file ", path,
        " must hold one line of 64 hex characters (32 random bytes, e.g. "
        "from `openssl rand -hex 32`)"));
  }
  return key;
}

absl::StatusOr<BackupKey> BackupKey::FromBytes(absl::string_view bytes) {
  if (bytes.size() != kSize) {
    return absl::InvalidArgumentError("a backup key is 32 bytes");
  }
  BackupKey key;
  std::memcpy(key.bytes_.data(), bytes.data(), kSize);
  return key;
}

BackupKey::BackupKey(BackupKey&& other) noexcept : bytes_(other.bytes_) {
  sodium_memzero(other.bytes_.data(), kSize);
}

BackupKey& BackupKey::operator=(BackupKey&& other) noexcept {
  if (this != &other) {
    bytes_ = other.bytes_;
    sodium_memzero(other.bytes_.data(), kSize);
  }
  return *this;
}

BackupKey::~BackupKey() { sodium_memzero(bytes_.data(), kSize); }

// --- Header
// -------------------------------------------------------------------

const char* BackendName(BackupBackend backend) {
  return backend == BackupBackend::kPostgres ? "postgres" : "sqlite";
}

std::string FormatHeader(const BackupHeader& header) {
  return absl::StrCat(
      "ruta-backup\n", "format_version=", header.format_version, "\n",
      "region=", header.region, "\n", "backend=", BackendName(header.backend),
      "\n", "schema_version=", header.schema_version, "\n", "created_at=",
      absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", header.created_at,
                       absl::UTCTimeZone()),
      "\n");
}

absl::StatusOr<BackupHeader> ParseHeader(absl::string_view text) {
  std::vector<absl::string_view> lines =
      absl::StrSplit(text, '\n', absl::SkipEmpty());
  if (lines.empty() || lines[0] != "ruta-backup") {
    return absl::InvalidArgumentError(
        "the header does not start with "
        "\"ruta-backup\"");
  }
  BackupHeader header;
  bool seen[5] = {false, false, false, false, false};
  for (size_t i = 1; i < lines.size(); ++i) {
    const size_t eq = lines[i].find('=');
    if (eq == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat("header line ", i + 1, " has no '='"));
    }
    const absl::string_view name = lines[i].substr(0, eq);
    const absl::string_view value = lines[i].substr(eq + 1);
    bool ok = true;
    if (name == "format_version") {
      ok = absl::SimpleAtoi(value, &header.format_version);
      seen[0] = true;
    } else if (name == "region") {
      header.region = std::string(value);
      ok = !value.empty();
      seen[1] = true;
    } else if (name == "backend") {
      if (value == "sqlite") {
        header.backend = BackupBackend::kSqlite;
      } else if (value == "postgres") {
        header.backend = BackupBackend::kPostgres;
      } else {
        ok = false;
      }
      seen[2] = true;
    } else if (name == "schema_version") {
      ok = absl::SimpleAtoi(value, &header.schema_version) &&
           header.schema_version >= 0;
      seen[3] = true;
    } else if (name == "created_at") {
      header.created_at = ParseUtc(value, &ok);
      seen[4] = true;
    }
    // Unknown names are skipped: a later format may add some.
    if (!ok) {
      return absl::InvalidArgumentError(
          absl::StrCat("header line ", i + 1, " (", name, ") is malformed"));
    }
  }
  for (bool s : seen) {
    if (!s) {
      return absl::InvalidArgumentError(
          "the header lacks one of format_version, region, backend, "
          "schema_version, created_at");
    }
  }
  return header;
}

// --- BackupWriter
// -------------------------------------------------------------

struct BackupWriter::State {
  crypto_secretstream_xchacha20poly1305_state stream;
  std::string ad;
  std::vector<unsigned char> cipher;
};

BackupWriter::BackupWriter(std::unique_ptr<State> state, ByteSink out)
    : state_(std::move(state)), out_(std::move(out)) {}

BackupWriter::~BackupWriter() {
  if (state_ != nullptr) sodium_memzero(&state_->stream, sizeof state_->stream);
}

absl::StatusOr<std::unique_ptr<BackupWriter>> BackupWriter::Create(
    const BackupKey& key, const BackupHeader& header, ByteSink out) {
  if (!SodiumReady()) return absl::InternalError("libsodium failed to start");
  if (header.format_version != kBackupFormatVersion) {
    return absl::InvalidArgumentError("only format version 1 is written");
  }
  if (header.region.empty() ||
      header.region.find_first_of("\n=") != std::string::npos) {
    return absl::InvalidArgumentError("the backup header needs a region slug");
  }
  auto state = std::make_unique<State>();
  state->ad = Prefix(header.format_version);
  state->cipher.resize(kMaxFrame + 4);
  unsigned char
      stream_header[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
  crypto_secretstream_xchacha20poly1305_init_push(&state->stream, stream_header,
                                                  key.data());
  RUTA_RETURN_IF_ERROR(out(state->ad));
  RUTA_RETURN_IF_ERROR(out(absl::string_view(
      reinterpret_cast<const char*>(stream_header), sizeof stream_header)));
  std::unique_ptr<BackupWriter> writer(
      new BackupWriter(std::move(state), std::move(out)));
  RUTA_RETURN_IF_ERROR(writer->EmitFrame(FormatHeader(header), false));
  return writer;
}

absl::Status BackupWriter::EmitFrame(absl::string_view plain, bool final) {
  unsigned long long len = 0;
  unsigned char* cipher = state_->cipher.data() + 4;
  crypto_secretstream_xchacha20poly1305_push(
      &state_->stream, cipher, &len,
      reinterpret_cast<const unsigned char*>(plain.data()), plain.size(),
      reinterpret_cast<const unsigned char*>(state_->ad.data()),
      state_->ad.size(),
      final ? crypto_secretstream_xchacha20poly1305_TAG_FINAL
            : crypto_secretstream_xchacha20poly1305_TAG_MESSAGE);
  PutU32(static_cast<uint32_t>(len), state_->cipher.data());
  return out_(absl::string_view(
      reinterpret_cast<const char*>(state_->cipher.data()), len + 4));
}

absl::Status BackupWriter::Write(absl::string_view payload) {
  if (finished_) {
    return absl::FailedPreconditionError("the backup stream is finished");
  }
  payload_bytes_ += static_cast<int64_t>(payload.size());
  while (!payload.empty()) {
    if (pending_.empty() && payload.size() >= kChunkSize) {
      RUTA_RETURN_IF_ERROR(EmitFrame(payload.substr(0, kChunkSize), false));
      payload.remove_prefix(kChunkSize);
      continue;
    }
    const size_t take = std::min(kChunkSize - pending_.size(), payload.size());
    pending_.append(payload.data(), take);
    payload.remove_prefix(take);
    if (pending_.size() == kChunkSize) {
      RUTA_RETURN_IF_ERROR(EmitFrame(pending_, false));
      sodium_memzero(pending_.data(), pending_.size());
      pending_.clear();
    }
  }
  return absl::OkStatus();
}

absl::Status BackupWriter::Finish() {
  if (finished_) {
    return absl::FailedPreconditionError("the backup stream is finished");
  }
  finished_ = true;
  absl::Status status = EmitFrame(pending_, true);
  sodium_memzero(pending_.data(), pending_.size());
  pending_.clear();
  return status;
}

// --- Reading
// ------------------------------------------------------------------

absl::StatusOr<BackupHeader> ReadBackupFile(const std::string& path,
                                            const BackupKey& key,
                                            const ByteSink& payload) {
  return ReadImpl(path, key, &payload, /*header_only=*/false);
}

absl::StatusOr<BackupHeader> ReadBackupHeader(const std::string& path,
                                              const BackupKey& key) {
  return ReadImpl(path, key, nullptr, /*header_only=*/true);
}

}  // namespace ruta::backup
