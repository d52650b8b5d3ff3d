// Accounts of the people who log in to a web client (the mayors' network
// staff on ruta-dashboard, the clerks on ruta-console).
//
// The accounts file holds one account per line: "<user>\t<hash>\t<state>"
// where <hash> is a libsodium Argon2id string (crypto_pwhash_str with
// OPSLIMIT/MEMLIMIT_INTERACTIVE) and <state> is "enabled" or "disabled";
// lines starting with '#' are comments. The file must have mode 0600 (or
// stricter): a file readable or writable by group or others is refused.
// Passwords are never stored, logged or returned.
#ifndef RUTA_WEB_ACCOUNTS_H_
#define RUTA_WEB_ACCOUNTS_H_

#include <sys/types.h>

#include <ctime>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ruta::web {

// Minimum length of a password, in bytes.
inline constexpr size_t kMinPasswordLength = 12;

struct Account {
  std::string user;
  std::string hash;  // Argon2id string, never shown
  bool disabled = false;
};

// Whether `user` is a valid account name: 1 to 64 of [a-z0-9._-], starting
// with a letter or digit.
bool IsValidUserName(const std::string& user);

// Reads the accounts file. FAILED_PRECONDITION naming the file and the fix
// when it is group/world accessible; NOT_FOUND when missing;
// INVALID_ARGUMENT naming the line when a line is malformed.
absl::StatusOr<std::vector<Account>> ReadAccountsFile(const std::string& path);

// Adds an enabled account (creating the file with mode 0600 when missing).
// INVALID_ARGUMENT for a bad user name or a password shorter than
// kMinPasswordLength; ALREADY_EXISTS when the user exists. The file is
// rewritten atomically (temporary file + rename).
absl::Status AddAccount(const std::string& path, const std::string& user,
                        const std::string& password);

// Marks an account disabled (it can no longer log in; its sessions end).
// NOT_FOUND when the user does not exist.
absl::Status DisableAccount(const std::string& path, const std::string& user);

// Hashes and verifies with libsodium (Argon2id, interactive limits).
absl::StatusOr<std::string> HashPassword(const std::string& password);
bool VerifyPassword(const std::string& hash, const std::string& password);

// The accounts of a running server, with lock-out of repeated failures.
// Thread-safe. The file is re-read when its modification time or size
// changes, so `account disable` takes effect without a restart.
class AccountStore final {
 public:
  struct Options {
    // Failed logins in a row that lock an account.
    int max_failures = 5;
    // How long a locked account stays locked.
    absl::Duration lockout = absl::Minutes(15);
    // The clock (tests inject one); default absl::Now.
    std::function<absl::Time()> clock;
  };

  // Reads the file once (errors of ReadAccountsFile).
  static absl::StatusOr<std::unique_ptr<AccountStore>> Open(
      const std::string& path, Options options);
  AccountStore(const AccountStore&) = delete;
  AccountStore& operator=(const AccountStore&) = delete;

  enum class LoginResult {
    kOk,
    // Unknown user, wrong password, disabled or locked account: the caller
    // shows the same message for all, so that user names cannot be probed.
    kRefused,
  };
  // Verifies a login and counts failures. A locked or disabled account is
  // refused without looking at the password; an unknown user costs the same
  // hash verification as a known one.
  LoginResult Login(const std::string& user, const std::string& password);

  // Whether `user` exists and is enabled (re-reads a changed file).
  bool IsActive(const std::string& user);
  // Whether `user` is locked out now (for tests and logs).
  bool IsLocked(const std::string& user);

 private:
  AccountStore(std::string path, Options options)
      : path_(std::move(path)), options_(std::move(options)) {}
  // Re-reads the file when it changed; on a read error keeps the last good
  // accounts and returns the error.
  absl::Status Refresh() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Time Now() const;
  static std::string NewDummyPassword();

  struct Failures {
    int count = 0;
    absl::Time locked_until = absl::InfinitePast();
  };
  const std::string path_;
  const Options options_;
  absl::Mutex mu_;
  std::map<std::string, Account> accounts_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Failures> failures_ ABSL_GUARDED_BY(mu_);
  struct timespec mtime_ ABSL_GUARDED_BY(mu_) = {0, 0};
  off_t size_ ABSL_GUARDED_BY(mu_) = -1;
  std::string dummy_hash_;  // verified for unknown users
};

}  // namespace ruta::web

#endif  // RUTA_WEB_ACCOUNTS_H_
