// Login sessions of a web client: a 256-bit random token (libsodium
// randombytes) carried in a cookie, with a CSRF token per session, idle
// expiry and a maximum lifetime. Only a hash of each token is kept in memory;
// tokens are never logged.
#ifndef RUTA_WEB_SESSIONS_H_
#define RUTA_WEB_SESSIONS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace ruta::web {

// A fresh random token: 32 bytes from randombytes_buf, base64url without
// padding (43 characters).
std::string NewToken();

// Constant-time comparison of two tokens (false when lengths differ).
bool TokensEqual(const std::string& a, const std::string& b);

class SessionStore final {
 public:
  struct Options {
    // A session unused for this long ends.
    absl::Duration idle_timeout = absl::Minutes(30);
    // A session ends this long after login whatever its use.
    absl::Duration max_lifetime = absl::Hours(12);
    // Sessions kept at most; the oldest is dropped beyond.
    size_t max_sessions = 1000;
    // The clock (tests inject one); default absl::Now.
    std::function<absl::Time()> clock;
  };
  struct Session {
    std::string user;
    std::string csrf_token;
  };
  struct Created {
    std::string token;  // for the cookie
    std::string csrf_token;
  };

  explicit SessionStore(Options options) : options_(std::move(options)) {}
  SessionStore(const SessionStore&) = delete;
  SessionStore& operator=(const SessionStore&) = delete;

  Created Create(const std::string& user);
  // The live session of `token` (and marks it used); nullopt when unknown
  // or expired (an expired one is removed).
  std::optional<Session> Find(const std::string& token);
  // Ends the session of `token` (no-op when unknown).
  void End(const std::string& token);
  // Ends every session of `user` (e.g. a disabled account).
  void EndAllOf(const std::string& user);
  size_t size();

 private:
  struct Entry {
    Session session;
    absl::Time created;
    absl::Time last_used;
  };
  absl::Time Now() const;
  const Options options_;
  absl::Mutex mu_;
  // Keyed by a hash of the token.
  std::map<std::string, Entry> sessions_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ruta::web

#endif  // RUTA_WEB_SESSIONS_H_
