#include "ruta/web/accounts.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"

namespace ruta::web {
namespace {

bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

absl::Status CheckMode(const std::string& path, const struct stat& st) {
  if ((st.st_mode & 077) != 0) {
    return absl::FailedPreconditionError(absl::StrFormat(
        "accounts file %s has mode %04o: it must not be readable or writable "
        "by group or others (run: chmod 600 %s)",
        path, st.st_mode & 07777, path));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Account>> Parse(const std::string& path,
                                           const std::string& text) {
  std::vector<Account> out;
  int line_no = 0;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    ++line_no;
    if (line.empty() || line[0] == '#') continue;
    std::vector<std::string> parts = absl::StrSplit(line, '\t');
    if (parts.size() != 3 || !IsValidUserName(parts[0]) ||
        parts[1].rfind("$argon2id$", 0) != 0 ||
        (parts[2] != "enabled" && parts[2] != "disabled")) {
      return absl::InvalidArgumentError(absl::StrCat(
          "accounts file ", path, " line ", line_no,
          ": expected <user> TAB <argon2id hash> TAB enabled|disabled "
          "(manage it with `ruta-dashboard account add|disable`)"));
    }
    out.push_back(Account{parts[0], parts[1], parts[2] == "disabled"});
  }
  return out;
}

std::string Serialize(const std::vector<Account>& accounts) {
  std::string out =
      "# ruta-dashboard accounts: <user> TAB <argon2id hash> TAB "
      "enabled|disabled\n";
  for (const Account& a : accounts) {
    absl::StrAppend(&out, a.user, "\t", a.hash, "\t",
                    a.disabled ? "disabled" : "enabled", "\n");
  }
  return out;
}

// Writes `text` to a 0600 temporary file next to `path`, then renames it.
absl::Status WriteAtomically(const std::string& path, const std::string& text) {
  const std::string tmp = absl::StrCat(path, ".tmp");
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create ", tmp, ": ", std::strerror(errno)));
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      ::unlink(tmp.c_str());
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write ", tmp, ": ", std::strerror(errno)));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0 ||
      ::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return absl::FailedPreconditionError(
        absl::StrCat("cannot replace ", path, ": ", std::strerror(errno)));
  }
  return absl::OkStatus();
}

// The accounts of `path`, or none when the file does not exist yet.
absl::StatusOr<std::vector<Account>> ReadOrEmpty(const std::string& path) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0 && errno == ENOENT) {
    return std::vector<Account>{};
  }
  return ReadAccountsFile(path);
}

}  // namespace

bool IsValidUserName(const std::string& user) {
  if (user.empty() || user.size() > 64) return false;
  for (size_t i = 0; i < user.size(); ++i) {
    const char c = user[i];
    const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) return false;
  }
  return true;
}

absl::StatusOr<std::vector<Account>> ReadAccountsFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) {
      return absl::NotFoundError(absl::StrCat(
          "accounts file ", path,
          " does not exist (create it with `ruta-dashboard account add`)"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read accounts file ", path, ": ", std::strerror(errno)));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot stat accounts file ", path));
  }
  if (absl::Status s = CheckMode(path, st); !s.ok()) {
    ::close(fd);
    return s;
  }
  std::string text;
  char buffer[4096];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0) {
    text.append(buffer, static_cast<size_t>(n));
  }
  ::close(fd);
  return Parse(path, text);
}

absl::StatusOr<std::string> HashPassword(const std::string& password) {
  if (!SodiumReady()) return absl::InternalError("libsodium failed to start");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(),
                        crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    return absl::ResourceExhaustedError(
        "not enough memory to hash the password (Argon2id needs 64 MiB)");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, const std::string& password) {
  if (!SodiumReady()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(),
                                  password.size()) == 0;
}

absl::Status AddAccount(const std::string& path, const std::string& user,
                        const std::string& password) {
  if (!IsValidUserName(user)) {
    return absl::InvalidArgumentError(absl::StrCat(
        "invalid user name '", user,
        "': use 1 to 64 of a-z 0-9 . _ - starting with a letter or digit"));
  }
  if (password.size() < kMinPasswordLength) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the password must have at least ", kMinPasswordLength, " characters"));
  }
  absl::StatusOr<std::vector<Account>> accounts = ReadOrEmpty(path);
  if (!accounts.ok()) return accounts.status();
  for (const Account& a : *accounts) {
    if (a.user == user) {
      return absl::AlreadyExistsError(
          absl::StrCat("account '", user, "' already exists"));
    }
  }
  absl::StatusOr<std::string> hash = HashPassword(password);
  if (!hash.ok()) return hash.status();
  accounts->push_back(Account{user, *hash, false});
  return WriteAtomically(path, Serialize(*accounts));
}

absl::Status DisableAccount(const std::string& path, const std::string& user) {
  absl::StatusOr<std::vector<Account>> accounts = ReadAccountsFile(path);
  if (!accounts.ok()) return accounts.status();
  for (Account& a : *accounts) {
    if (a.user == user) {
      a.disabled = true;
      return WriteAtomically(path, Serialize(*accounts));
    }
  }
  return absl::NotFoundError(absl::StrCat("no account '", user, "'"));
}

absl::StatusOr<std::unique_ptr<AccountStore>> AccountStore::Open(
    const std::string& path, Options options) {
  if (!SodiumReady()) return absl::InternalError("libsodium failed to start");
  std::unique_ptr<AccountStore> store(
      new AccountStore(path, std::move(options)));
  absl::StatusOr<std::string> dummy = HashPassword(NewDummyPassword());
  if (!dummy.ok()) return dummy.status();
  store->dummy_hash_ = *dummy;
  absl::MutexLock lock(&store->mu_);
  if (absl::Status s = store->Refresh(); !s.ok()) return s;
  return store;
}

std::string AccountStore::NewDummyPassword() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[sizeof bytes * 2 + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

absl::Time AccountStore::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

absl::Status AccountStore::Refresh() {
  struct stat st;
  if (::stat(path_.c_str(), &st) != 0) {
    return absl::NotFoundError(absl::StrCat("cannot stat accounts file ", path_,
                                            ": ", std::strerror(errno)));
  }
  if (st.st_mtim.tv_sec == mtime_.tv_sec &&
      st.st_mtim.tv_nsec == mtime_.tv_nsec && st.st_size == size_) {
    return absl::OkStatus();
  }
  absl::StatusOr<std::vector<Account>> accounts = ReadAccountsFile(path_);
  if (!accounts.ok()) return accounts.status();
  accounts_.clear();
  for (Account& a : *accounts) accounts_[a.user] = std::move(a);
  mtime_ = st.st_mtim;
  size_ = st.st_size;
  return absl::OkStatus();
}

AccountStore::LoginResult AccountStore::Login(const std::string& user,
                                              const std::string& password) {
  std::string hash;
  {
    absl::MutexLock lock(&mu_);
    // A file that became unreadable or group-readable keeps the last good
    // accounts; the server logs nothing about it here (no secrets to leak,
    // but no user to tell either).
    Refresh().IgnoreError();
    auto it = accounts_.find(user);
    // Unknown, disabled and locked accounts cost the same verification as
    // a real one, so that timing tells nothing either.
    auto failures = failures_.find(user);
    if (it == accounts_.end() || it->second.disabled ||
        (failures != failures_.end() &&
         failures->second.locked_until > Now())) {
      hash = dummy_hash_;
    } else {
      hash = it->second.hash;
    }
  }
  // Verified outside the lock: Argon2id takes tens of milliseconds.
  const bool ok = VerifyPassword(hash, password);
  absl::MutexLock lock(&mu_);
  auto it = accounts_.find(user);
  if (it == accounts_.end() || it->second.disabled)
    return LoginResult::kRefused;
  Failures& f = failures_[user];
  if (f.locked_until > Now()) return LoginResult::kRefused;
  if (ok) {
    f = Failures{};
    return LoginResult::kOk;
  }
  if (f.locked_until != absl::InfinitePast()) f = Failures{};  // lock expired
  if (++f.count >= options_.max_failures) {
    f.locked_until = Now() + options_.lockout;
  }
  return LoginResult::kRefused;
}

bool AccountStore::IsActive(const std::string& user) {
  absl::MutexLock lock(&mu_);
  Refresh().IgnoreError();
  auto it = accounts_.find(user);
  return it != accounts_.end() && !it->second.disabled;
}

bool AccountStore::IsLocked(const std::string& user) {
  absl::MutexLock lock(&mu_);
  auto it = failures_.find(user);
  return it != failures_.end() && it->second.locked_until > Now();
}

}  // namespace ruta::web
