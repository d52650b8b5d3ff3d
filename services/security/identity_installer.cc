#include "ruta/security/identity_installer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "openssl_util.h"
#include "ruta/common/status_macros.h"
#include "ruta/security/handshake_metrics.h"
#include "ruta/security/pem.h"
#include "spdlog/spdlog.h"

namespace ruta::security {
namespace {

namespace fs = std::filesystem;

constexpr char kCurrent[] = "current";
constexpr int kReadAttempts = 3;

absl::Status ErrnoError(absl::string_view what, const std::string& path) {
  return absl::InternalError(
      absl::StrCat(what, " ", path, ": ", std::strerror(errno)));
}

// Writes `data` to a new file `path` (mode 0600), durably, with the given
// modification time.
absl::Status WriteFile(const std::string& path, const std::string& data,
                       time_t mtime) {
  const int fd =
      ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return ErrnoError("cannot create", path);
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd, data.data() + written, data.size() - written);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return ErrnoError("cannot write", path);
    }
    written += static_cast<size_t>(n);
  }
  const struct timespec times[2] = {{mtime, 0}, {mtime, 0}};
  if (::fsync(fd) != 0 || ::futimens(fd, times) != 0) {
    ::close(fd);
    return ErrnoError("cannot sync", path);
  }
  if (::close(fd) != 0) return ErrnoError("cannot close", path);
  return absl::OkStatus();
}

absl::Status SyncDirectory(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return ErrnoError("cannot open", path);
  const int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : ErrnoError("cannot sync", path);
}

// Reads the operator's pair so that it is consistent with itself: the
// certificate is read again after the key, and a change in between (an
// operator's swap) makes it read again.
absl::Status ReadPair(const IdentityInstallerOptions& options,
                      std::string* cert, std::string* key) {
  for (int attempt = 0; attempt < kReadAttempts; ++attempt) {
    RUTA_ASSIGN_OR_RETURN(*cert, ReadPemFile(options.cert_file, "certificate"));
    RUTA_ASSIGN_OR_RETURN(*key, ReadPemFile(options.key_file, "private key"));
    RUTA_ASSIGN_OR_RETURN(std::string again,
                          ReadPemFile(options.cert_file, "certificate"));
    if (again == *cert) return absl::OkStatus();
  }
  return absl::FailedPreconditionError(
      absl::StrCat("certificate file ", options.cert_file,
                   " keeps changing while it is read"));
}

std::string Describe(const std::string& cert_pem) {
  std::vector<internal::X509Ptr> certs = internal::ParseCertificates(cert_pem);
  if (certs.empty()) return "?";
  const X509* leaf = certs.front().get();
  bool malformed = false;
  std::vector<std::string> uris = internal::UriSans(leaf, &malformed);
  return absl::StrCat(
      uris.empty() ? internal::NameText(X509_get_subject_name(leaf))
                   : uris.front(),
      " serial ", internal::SerialHex(leaf), " valid until ",
      absl::FormatTime(internal::AsnTime(X509_get0_notAfter(leaf)),
                       absl::UTCTimeZone()));
}

}  // namespace

IdentityInstaller::IdentityInstaller(IdentityInstallerOptions options)
    : options_(std::move(options)) {}

absl::StatusOr<std::unique_ptr<IdentityInstaller>> IdentityInstaller::Create(
    const IdentityInstallerOptions& options) {
  if (options.active_dir.empty()) {
    return absl::FailedPreconditionError(
        "no directory to install the TLS identity into");
  }
  std::string cert;
  std::string key;
  RUTA_RETURN_IF_ERROR(ReadPair(options, &cert, &key));
  RUTA_RETURN_IF_ERROR(
      CheckKeyPair(cert, key, options.cert_file, options.key_file));

  // Start from an empty directory: versions of an earlier run are stale, and
  // nothing watches them yet.
  std::error_code ec;
  fs::create_directories(options.active_dir, ec);
  if (ec || ::chmod(options.active_dir.c_str(), 0700) != 0) {
    return absl::InternalError(
        absl::StrCat("cannot create the TLS directory ", options.active_dir,
                     ": ", ec ? ec.message() : std::strerror(errno)));
  }
  for (const fs::directory_entry& entry :
       fs::directory_iterator(options.active_dir, ec)) {
    fs::remove_all(entry.path(), ec);
    if (ec) {
      return absl::InternalError(absl::StrCat(
          "cannot clean ", entry.path().string(), ": ", ec.message()));
    }
  }
  std::unique_ptr<IdentityInstaller> installer(new IdentityInstaller(options));
  absl::MutexLock lock(&installer->mu_);
  RUTA_RETURN_IF_ERROR(installer->InstallLocked(cert, key));
  return installer;
}

std::string IdentityInstaller::cert_file() const {
  return (fs::path(options_.active_dir) / kCurrent / "cert.pem").string();
}

std::string IdentityInstaller::key_file() const {
  return (fs::path(options_.active_dir) / kCurrent / "key.pem").string();
}

int64_t IdentityInstaller::installs() const {
  absl::MutexLock lock(&mu_);
  return version_;
}

absl::Status IdentityInstaller::Refresh() {
  std::string cert;
  std::string key;
  absl::Status status = ReadPair(options_, &cert, &key);
  absl::MutexLock lock(&mu_);
  if (status.ok()) {
    if (cert == installed_cert_ && key == installed_key_) {
      refused_error_.clear();
      return absl::OkStatus();
    }
    status = CheckKeyPair(cert, key, options_.cert_file, options_.key_file);
  }
  if (status.ok()) {
    status = InstallLocked(cert, key);
    if (status.ok()) return status;
  }
  // Refused (or not installable): keep serving with the installed pair. Say
  // so once per distinct content, not every refresh.
  const std::string error(status.message());
  if (cert != refused_cert_ || key != refused_key_ || error != refused_error_) {
    refused_cert_ = cert;
    refused_key_ = key;
    refused_error_ = error;
    spdlog::warn(
        "TLS identity not replaced, still serving with the previous "
        "certificate: {}",
        error);
    CountIdentityRefusal();
  }
  return status;
}

absl::Status IdentityInstaller::InstallLocked(const std::string& cert,
                                              const std::string& key) {
  const fs::path dir(options_.active_dir);
  const std::string name = absl::StrCat("v", version_ + 1);
  const std::string staging = (dir / (name + ".tmp")).string();
  const std::string final_dir = (dir / name).string();
  std::error_code ec;
  fs::remove_all(staging, ec);
  if (::mkdir(staging.c_str(), 0700) != 0) {
    return ErrnoError("cannot create", staging);
  }
  // Strictly increasing modification times (see the header).
  const time_t mtime = std::max(::time(nullptr), last_mtime_ + 1);
  RUTA_RETURN_IF_ERROR(WriteFile(staging + "/cert.pem", cert, mtime));
  RUTA_RETURN_IF_ERROR(WriteFile(staging + "/key.pem", key, mtime));
  RUTA_RETURN_IF_ERROR(SyncDirectory(staging));
  if (::rename(staging.c_str(), final_dir.c_str()) != 0) {
    return ErrnoError("cannot rename", staging);
  }
  const std::string link = (dir / kCurrent).string();
  const std::string link_tmp = link + ".tmp";
  ::unlink(link_tmp.c_str());
  if (::symlink(name.c_str(), link_tmp.c_str()) != 0) {
    return ErrnoError("cannot create", link_tmp);
  }
  if (::rename(link_tmp.c_str(), link.c_str()) != 0) {
    return ErrnoError("cannot swap", link);
  }
  RUTA_RETURN_IF_ERROR(SyncDirectory(dir.string()));

  // Keep this version and the previous one; drop the rest.
  for (const fs::directory_entry& entry : fs::directory_iterator(dir, ec)) {
    const std::string entry_name = entry.path().filename().string();
    if (entry_name == name || entry_name == installed_dir_ ||
        entry_name == kCurrent || !absl::StartsWith(entry_name, "v")) {
      continue;
    }
    fs::remove_all(entry.path(), ec);
  }
  installed_dir_ = name;
  ++version_;
  last_mtime_ = mtime;
  installed_cert_ = cert;
  installed_key_ = key;
  refused_cert_.clear();
  refused_key_.clear();
  refused_error_.clear();
  spdlog::info("TLS identity installed ({}): {}", name, Describe(cert));
  CountIdentityInstall();
  return absl::OkStatus();
}

}  // namespace ruta::security
