#include "ruta/web/sessions.h"

#include <set>

#include "gtest/gtest.h"

namespace ruta::web {
namespace {

TEST(TokenTest, TokensAre256BitRandomBase64Url) {
  std::set<std::string> seen;
  for (int i = 0; i < 100; ++i) {
    const std::string token = NewToken();
    EXPECT_EQ(token.size(), 43u);  // 32 bytes, base64url, no padding
    EXPECT_EQ(token.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijkl"
                                      "mnopqrstuvwxyz0123456789-_"),
              std::string::npos);
    seen.insert(token);
  }
  EXPECT_EQ(seen.size(), 100u);
}

TEST(TokenTest, TokensEqualIsExact) {
  const std::string a = NewToken();
  EXPECT_TRUE(TokensEqual(a, a));
  EXPECT_FALSE(TokensEqual(a, NewToken()));
  EXPECT_FALSE(TokensEqual(a, a.substr(1)));
  EXPECT_FALSE(TokensEqual("", ""));
}

struct Clock {
  absl::Time now = absl::FromUnixSeconds(1795000000);
};

TEST(SessionStoreTest, FindsLiveSessionsWithTheirCsrfToken) {
  SessionStore sessions({});
  SessionStore::Created a = sessions.Create("ana");
  SessionStore::Created b = sessions.Create("bea");
  EXPECT_NE(a.token, a.csrf_token);
  auto found = sessions.Find(a.token);
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->user, "ana");
  EXPECT_EQ(found->csrf_token, a.csrf_token);
  EXPECT_FALSE(sessions.Find(a.csrf_token).has_value());
  EXPECT_FALSE(sessions.Find("").has_value());
  sessions.End(a.token);
  EXPECT_FALSE(sessions.Find(a.token).has_value());
  EXPECT_TRUE(sessions.Find(b.token).has_value());
  sessions.EndAllOf("bea");
  EXPECT_FALSE(sessions.Find(b.token).has_value());
}

TEST(SessionStoreTest, IdleSessionsExpireAndUseKeepsThemAlive) {
  Clock clock;
  SessionStore::Options options;
  options.idle_timeout = absl::Minutes(30);
  options.max_lifetime = absl::Hours(2);
  options.clock = [&clock] { return clock.now; };
  SessionStore sessions(options);
  SessionStore::Created a = sessions.Create("ana");
  SessionStore::Created b = sessions.Create("bea");
  // a is used every 20 minutes; b is left idle.
  for (int i = 0; i < 3; ++i) {
    clock.now += absl::Minutes(20);
    EXPECT_TRUE(sessions.Find(a.token).has_value()) << i;
  }
  EXPECT_FALSE(sessions.Find(b.token).has_value());
  // The maximum lifetime ends even a used session.
  for (int i = 0; i < 3; ++i) {
    clock.now += absl::Minutes(20);
    sessions.Find(a.token);
  }
  EXPECT_FALSE(sessions.Find(a.token).has_value());
  EXPECT_EQ(sessions.size(), 0u);
}

TEST(SessionStoreTest, OldestSessionIsDroppedBeyondTheMaximum) {
  Clock clock;
  SessionStore::Options options;
  options.max_sessions = 2;
  options.clock = [&clock] { return clock.now; };
  SessionStore sessions(options);
  SessionStore::Created a = sessions.Create("ana");
  clock.now += absl::Seconds(1);
  SessionStore::Created b = sessions.Create("bea");
  clock.now += absl::Seconds(1);
  SessionStore::Created c = sessions.Create("cal");
  EXPECT_FALSE(sessions.Find(a.token).has_value());
  EXPECT_TRUE(sessions.Find(b.token).has_value());
  EXPECT_TRUE(sessions.Find(c.token).has_value());
}

}  // namespace
}  // namespace ruta::web
