#include "ruta/web/sessions.h"

#include <sodium.h>

#include <string>

namespace ruta::web {
namespace {

// The map key of a token: BLAKE2b of it, so a memory dump holds no usable
// token.
std::string Key(const std::string& token) {
  unsigned char out[crypto_generichash_BYTES];
  crypto_generichash(out, sizeof out,
                     reinterpret_cast<const unsigned char*>(token.data()),
                     token.size(), nullptr, 0);
  return std::string(reinterpret_cast<const char*>(out), sizeof out);
}

}  // namespace

std::string NewToken() {
  static const bool ready = sodium_init() >= 0;
  (void)ready;
  unsigned char bytes[32];
  randombytes_buf(bytes, sizeof bytes);
  char out[sodium_base64_ENCODED_LEN(sizeof bytes,
                                     sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
  sodium_bin2base64(out, sizeof out, bytes, sizeof bytes,
                    sodium_base64_VARIANT_URLSAFE_NO_PADDING);
  sodium_memzero(bytes, sizeof bytes);
  return out;
}

bool TokensEqual(const std::string& a, const std::string& b) {
  if (a.size() != b.size() || a.empty()) return false;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

absl::Time SessionStore::Now() const {
  return options_.clock ? options_.clock() : absl::Now();
}

SessionStore::Created SessionStore::Create(const std::string& user) {
  Created created{NewToken(), NewToken()};
  const absl::Time now = Now();
  absl::MutexLock lock(&mu_);
  while (sessions_.size() >= options_.max_sessions && !sessions_.empty()) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    sessions_.erase(oldest);
  }
  sessions_[Key(created.token)] =
      Entry{Session{user, created.csrf_token}, now, now};
  return created;
}

std::optional<SessionStore::Session> SessionStore::Find(
    const std::string& token) {
  if (token.empty()) return std::nullopt;
  const absl::Time now = Now();
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(Key(token));
  if (it == sessions_.end()) return std::nullopt;
  if (now - it->second.last_used >= options_.idle_timeout ||
      now - it->second.created >= options_.max_lifetime) {
    sessions_.erase(it);
    return std::nullopt;
  }
  it->second.last_used = now;
  return it->second.session;
}

void SessionStore::End(const std::string& token) {
  absl::MutexLock lock(&mu_);
  sessions_.erase(Key(token));
}

void SessionStore::EndAllOf(const std::string& user) {
  absl::MutexLock lock(&mu_);
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.session.user == user ? sessions_.erase(it) : std::next(it);
  }
}

size_t SessionStore::size() {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace ruta::web
