#include "ruta/backup/backup.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "ruta/backup/snapshot.h"
#include "ruta/common/status_macros.h"

namespace ruta::backup {
namespace {

absl::Status Errno(const std::string& what, int err) {
  return absl::FailedPreconditionError(
      absl::StrCat(what, ": ", std::strerror(err)));
}

absl::Status CheckDirectory(const std::string& directory) {
  if (directory.empty()) {
    return absl::FailedPreconditionError(
        "backup.directory is not set in the node configuration");
  }
  struct stat st;
  if (::stat(directory.c_str(), &st) != 0) {
    return Errno(absl::StrCat("backup.directory ", directory), errno);
  }
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat("backup.directory ", directory, " is not a directory"));
  }
  if ((st.st_mode & S_IRWXO) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "backup.directory %s is accessible by others (mode %04o): run "
        "`chmod o-rwx %s` (750 or 700)",
        directory, st.st_mode & 07777, directory));
  }
  if (::access(directory.c_str(), W_OK | X_OK) != 0) {
    return Errno(
        absl::StrCat("backup.directory ", directory, " is not writable"),
        errno);
  }
  return absl::OkStatus();
}

absl::Status FsyncPath(const std::string& path, bool directory) {
  const int fd =
      ::open(path.c_str(),
             (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Errno(absl::StrCat("cannot open ", path), errno);
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Errno(absl::StrCat("cannot fsync ", path), err);
  return absl::OkStatus();
}

// The encrypted output: a temporary file in the backup directory, hashed as
// it is written. Removed unless Commit succeeded.
class OutputFile final {
 public:
  static absl::StatusOr<std::unique_ptr<OutputFile>> Create(
      const std::string& directory) {
    std::string path = absl::StrCat(directory, "/.ruta-backup-XXXXXX.partial");
    std::vector<char> buf(path.begin(), path.end());
    buf.push_back('\0');
    const int fd = ::mkstemps(buf.data(), 8);  // ".partial"
    if (fd < 0) {
      return Errno(
          absl::StrCat("cannot create a file in backup.directory ", directory),
          errno);
    }
    ::fchmod(fd, 0600);
    return std::unique_ptr<OutputFile>(
        new OutputFile(fd, std::string(buf.data())));
  }

  ~OutputFile() {
    if (fd_ >= 0) ::close(fd_);
    if (!committed_) ::unlink(path_.c_str());
  }

  absl::Status Write(absl::string_view bytes) {
    crypto_hash_sha256_update(
        &hash_, reinterpret_cast<const unsigned char*>(bytes.data()),
        bytes.size());
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t w = ::write(fd_, bytes.data() + done, bytes.size() - done);
      if (w < 0) {
        if (errno == EINTR) continue;
        return absl::ResourceExhaustedError(
            absl::StrCat("cannot write the backup file ", path_, ": ",
                         std::strerror(errno)));
      }
      done += static_cast<size_t>(w);
    }
    size_ += static_cast<int64_t>(bytes.size());
    return absl::OkStatus();
  }

  // fsync, link to `directory/<name>` (or `<name>-2`, ... when taken), fsync
  // the directory. Returns the final file name.
  absl::StatusOr<std::string> Commit(const std::string& directory,
                                     const std::string& name) {
    if (::fsync(fd_) != 0) {
      return Errno(absl::StrCat("cannot fsync ", path_), errno);
    }
    ::close(fd_);
    fd_ = -1;
    const std::string stem = name.substr(0, name.size() - 4);  // ".rbk"
    for (int attempt = 1; attempt < 100; ++attempt) {
      const std::string candidate =
          attempt == 1 ? name
                       : absl::StrCat(stem, "-", attempt, kBackupFileExtension);
      const std::string target = absl::StrCat(directory, "/", candidate);
      if (::link(path_.c_str(), target.c_str()) == 0) {
        ::unlink(path_.c_str());
        committed_ = true;
        RUTA_RETURN_IF_ERROR(FsyncPath(directory, /*directory=*/true));
        return candidate;
      }
      if (errno != EEXIST) {
        return Errno(absl::StrCat("cannot create ", target), errno);
      }
    }
    return absl::AlreadyExistsError(
        absl::StrCat("too many backups named ", name, " in ", directory));
  }

  std::string Sha256() {
    unsigned char digest[crypto_hash_sha256_BYTES];
    crypto_hash_sha256_final(&hash_, digest);
    return std::string(reinterpret_cast<const char*>(digest), sizeof digest);
  }
  int64_t size() const { return size_; }

 private:
  OutputFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {
    crypto_hash_sha256_init(&hash_);
  }

  int fd_;
  std::string path_;
  crypto_hash_sha256_state hash_;
  int64_t size_ = 0;
  bool committed_ = false;
};

}  // namespace

std::string BackupFileName(const std::string& region, absl::Time now) {
  return absl::StrCat(
      "ruta-", region, "-",
      absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()),
      kBackupFileExtension);
}

absl::StatusOr<BackupResult> CreateBackup(const BackupOptions& options,
                                          const BackupSource& source,
                                          absl::Time now) {
  if (options.region.empty()) {
    return absl::InvalidArgumentError("a backup needs the node's region");
  }
  if (sodium_init() < 0) return absl::InternalError("libsodium failed");
  if (options.key_file.empty()) {
    return absl::FailedPreconditionError(
        "backup.key_file is not set in the node configuration");
  }
  absl::StatusOr<BackupKey> key = BackupKey::LoadFromFile(options.key_file);
  if (!key.ok()) {
    return absl::Status(
        key.status().code(),
        absl::StrCat("backup.key_file: ", key.status().message()));
  }
  RUTA_RETURN_IF_ERROR(CheckDirectory(options.directory));

  BackupHeader header;
  header.region = options.region;
  header.backend = source.backend;
  header.schema_version = options.schema_version;
  header.created_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));

  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<OutputFile> out,
                        OutputFile::Create(options.directory));
  OutputFile* file = out.get();
  RUTA_ASSIGN_OR_RETURN(
      std::unique_ptr<BackupWriter> writer,
      BackupWriter::Create(*key, header, [file](absl::string_view bytes) {
        return file->Write(bytes);
      }));
  BackupWriter* w = writer.get();
  const ByteSink payload = [w](absl::string_view bytes) {
    return w->Write(bytes);
  };
  if (source.backend == BackupBackend::kSqlite) {
    RUTA_RETURN_IF_ERROR(SnapshotSqlite(source.sqlite_path,
                                        source.max_in_memory_bytes,
                                        options.directory, payload));
  } else {
    RUTA_RETURN_IF_ERROR(DumpPostgres(source.pg_dump, source.postgres_conninfo,
                                      source.postgres_password, payload));
  }
  RUTA_RETURN_IF_ERROR(writer->Finish());

  BackupResult result;
  result.payload_bytes = writer->payload_bytes();
  result.size_bytes = out->size();
  result.sha256 = out->Sha256();
  RUTA_ASSIGN_OR_RETURN(
      result.file_name,
      out->Commit(options.directory, BackupFileName(options.region, now)));
  result.path = absl::StrCat(options.directory, "/", result.file_name);
  result.header = header;
  return result;
}

// --- BackupRunner
// -------------------------------------------------------------

BackupRunner::BackupRunner(BackupOptions options, BackupSource source)
    : maker_([options = std::move(options),
              source = std::move(source)](absl::Time now) {
        return CreateBackup(options, source, now);
      }) {}

BackupRunner::BackupRunner(Maker maker) : maker_(std::move(maker)) {}

BackupRunner::~BackupRunner() {
  std::thread last;
  {
    absl::MutexLock lock(&mu_);
    last.swap(thread_);
  }
  if (last.joinable()) last.join();
}

void BackupRunner::Run(const std::string& caller, const std::string& request_id,
                       Done done) {
  const std::string key = absl::StrCat(caller, "\n", request_id);
  absl::ReleasableMutexLock lock(&mu_);
  auto found = done_.find(key);
  if (found != done_.end()) {
    BackupResult result = found->second;
    lock.Release();
    done(std::move(result));
    return;
  }
  if (running_key_ == key) {
    waiters_.push_back(std::move(done));
    return;
  }
  if (!running_key_.empty()) {
    const absl::Time since = running_since_;
    lock.Release();
    done(absl::ResourceExhaustedError(absl::StrCat(
        "a backup is already running (since ",
        absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", since, absl::UTCTimeZone()),
        "); one runs at a time: retry when it has finished")));
    return;
  }
  // The previous worker has finished its backup; let it finish its
  // callbacks before reusing the thread slot.
  if (thread_.joinable()) thread_.join();
  running_key_ = key;
  running_since_ = absl::Now();
  waiters_.push_back(std::move(done));
  thread_ = std::thread([this, key] { Work(key); });
}

void BackupRunner::Work(std::string key) {
  absl::StatusOr<BackupResult> result = maker_(absl::Now());
  std::vector<Done> waiters;
  {
    absl::MutexLock lock(&mu_);
    if (result.ok()) {
      done_[key] = *result;
      done_order_.push_back(key);
      if (done_order_.size() > 256) {
        done_.erase(done_order_.front());
        done_order_.erase(done_order_.begin());
      }
    }
    waiters.swap(waiters_);
    running_key_.clear();
  }
  for (Done& done : waiters) done(result);
}

}  // namespace ruta::backup
