// The encrypted backup file (`.rbk`) of a ruta node: its key, its
// authenticated header, and streaming encryption and decryption.
//
// Format (version 1), all integers big-endian:
//
//   "RUTABKUP" (8 bytes) | format version (uint32, 1)          -- the prefix
//   libsodium crypto_secretstream_xchacha20poly1305 header (24 bytes)
//   frames: ciphertext length (uint32) | ciphertext
//
// The first frame is the backup header (BackupHeader, as "key=value" lines),
// every following frame a chunk of the payload (a SQLite database image or a
// pg_dump custom-format archive); the last frame carries the stream's FINAL
// tag. Every frame is authenticated with the prefix as associated data, so
// the magic, the version, the header, the order of the chunks and the end of
// the stream are all covered by the key: a wrong key, a changed byte anywhere,
// a reordered, removed or added frame, a truncated file and trailing bytes are
// all detected (DATA_LOSS), never silently accepted.
//
// The key is 32 random bytes, kept as one line of 64 hex characters in a file
// of mode 0600 (or stricter).
#ifndef RUTA_BACKUP_BACKUP_FILE_H_
#define RUTA_BACKUP_BACKUP_FILE_H_

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"

namespace ruta::backup {

inline constexpr uint32_t kBackupFormatVersion = 1;
inline constexpr char kBackupFileExtension[] = ".rbk";

// The backup encryption key. Not copyable; wiped when destroyed.
class BackupKey final {
 public:
  static constexpr size_t kSize = 32;

  // Reads `path`: one line of 64 hex characters (surrounding whitespace
  // ignored). NOT_FOUND when the file is missing; FAILED_PRECONDITION when
  // it is readable or writable by group or others (the message says
  // `chmod 600 <path>`) or unreadable; INVALID_ARGUMENT when it does not hold
  // 64 hex characters. Messages name the file, never its content.
  static absl::StatusOr<BackupKey> LoadFromFile(const std::string& path);
  // From raw bytes (tests, tools): INVALID_ARGUMENT unless 32 bytes.
  static absl::StatusOr<BackupKey> FromBytes(absl::string_view bytes);

  BackupKey(BackupKey&& other) noexcept;
  BackupKey& operator=(BackupKey&& other) noexcept;
  BackupKey(const BackupKey&) = delete;
  BackupKey& operator=(const BackupKey&) = delete;
  ~BackupKey();

  const unsigned char* data() const { return bytes_.data(); }

 private:
  BackupKey() = default;
  std::array<unsigned char, kSize> bytes_{};
};

// Which database the payload is a copy of.
enum class BackupBackend {
  kSqlite,    // a SQLite database image (the backup API's copy)
  kPostgres,  // a pg_dump --format=custom archive
};

// "sqlite" / "postgres".
const char* BackendName(BackupBackend backend);

// What a backup says about itself; authenticated with the payload.
struct BackupHeader {
  uint32_t format_version = kBackupFormatVersion;
  std::string region;  // the node's region slug
  BackupBackend backend = BackupBackend::kSqlite;
  // The store's schema version (number of its last migration).
  int64_t schema_version = 0;
  absl::Time created_at = absl::InfinitePast();  // whole seconds, UTC
};

// Receives plaintext (or bytes to write). Returning an error stops the
// stream, which fails with that error.
using ByteSink = std::function<absl::Status(absl::string_view bytes)>;

// Encrypts a payload into a `.rbk` byte stream, frame by frame, without
// holding more than one chunk. Usage: Create (writes prefix, stream header
// and backup header to `out`), Write any number of times, Finish once.
// After an error the writer must not be used further.
class BackupWriter final {
 public:
  // Payload bytes per frame (the last may be shorter).
  static constexpr size_t kChunkSize = 256 * 1024;

  static absl::StatusOr<std::unique_ptr<BackupWriter>> Create(
      const BackupKey& key, const BackupHeader& header, ByteSink out);
  ~BackupWriter();
  BackupWriter(const BackupWriter&) = delete;
  BackupWriter& operator=(const BackupWriter&) = delete;

  absl::Status Write(absl::string_view payload);
  // Writes the last frame (FINAL tag). Nothing may be written after it.
  absl::Status Finish();
  // Payload bytes written so far.
  int64_t payload_bytes() const { return payload_bytes_; }

 private:
  struct State;
  BackupWriter(std::unique_ptr<State> state, ByteSink out);
  absl::Status EmitFrame(absl::string_view plain, bool final);

  std::unique_ptr<State> state_;
  ByteSink out_;
  std::string pending_;
  int64_t payload_bytes_ = 0;
  bool finished_ = false;
};

// Reads the `.rbk` file at `path` with `key`: checks the prefix and the
// header, then (when `payload` is not null) passes every payload chunk to it
// in order, each chunk only after it was authenticated. Returns the header
// once the FINAL frame was read and the file has nothing after it.
//
// DATA_LOSS naming `path` when the file is not a ruta backup (bad magic),
// of an unknown format version, cannot be decrypted with `key` (wrong key or
// damaged), is damaged at some frame, is truncated, or has bytes after its
// end. NOT_FOUND / FAILED_PRECONDITION when it cannot be opened; `payload`'s
// own error as it returned it. Chunks given to `payload` before a DATA_LOSS
// in a later frame were authentic, but the whole is not: a caller that
// writes them somewhere must discard what it wrote on error.
absl::StatusOr<BackupHeader> ReadBackupFile(const std::string& path,
                                            const BackupKey& key,
                                            const ByteSink& payload);

// Only the header (the first frame): a quick check of key, region and
// version before a long read. Same errors as ReadBackupFile for the part it
// reads; says nothing about the rest of the file.
absl::StatusOr<BackupHeader> ReadBackupHeader(const std::string& path,
                                              const BackupKey& key);

// The header's text form (tests and diagnostics) and its parser
// (INVALID_ARGUMENT naming the bad line).
std::string FormatHeader(const BackupHeader& header);
absl::StatusOr<BackupHeader> ParseHeader(absl::string_view text);

}  // namespace ruta::backup

#endif  // RUTA_BACKUP_BACKUP_FILE_H_
