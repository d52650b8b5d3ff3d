#include "ruta/web/accounts.h"

#include <sys/stat.h>

#include <fstream>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/testing/pki.h"

namespace ruta::web {
namespace {

using ::testing::HasSubstr;

constexpr char kPassword[] = "correct horse battery";

std::string FreshFile() {
  return testing::MakeTempDir("dashboard-accounts") + "/accounts";
}

TEST(AccountsTest, AddCreatesA0600FileWithAnArgon2idHashNotThePassword) {
  const std::string file = FreshFile();
  ASSERT_TRUE(AddAccount(file, "ana.quispe", kPassword).ok());
  struct stat st;
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600);
  std::ifstream in(file);
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_THAT(text, HasSubstr("ana.quispe\t$argon2id$"));
  EXPECT_FALSE(absl::StrContains(text, kPassword));
  auto accounts = ReadAccountsFile(file);
  ASSERT_TRUE(accounts.ok()) << accounts.status();
  ASSERT_EQ(accounts->size(), 1u);
  EXPECT_FALSE((*accounts)[0].disabled);
  EXPECT_TRUE(VerifyPassword((*accounts)[0].hash, kPassword));
  EXPECT_FALSE(VerifyPassword((*accounts)[0].hash, "correct horse batterY"));
}

TEST(AccountsTest, AddRefusesShortPasswordsBadNamesAndDuplicates) {
  const std::string file = FreshFile();
  EXPECT_EQ(AddAccount(file, "ana", "elevenchars").code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddAccount(file, "Ana Q", kPassword).code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(AddAccount(file, "-ana", kPassword).code(),
            absl::StatusCode::kInvalidArgument);
  ASSERT_TRUE(AddAccount(file, "ana", "twelve chars").ok());
  EXPECT_EQ(AddAccount(file, "ana", kPassword).code(),
            absl::StatusCode::kAlreadyExists);
}

TEST(AccountsTest, GroupOrWorldAccessibleFileIsRefused) {
  const std::string file = FreshFile();
  ASSERT_TRUE(AddAccount(file, "ana", kPassword).ok());
  for (mode_t mode : {0640, 0604, 0620, 0644}) {
    ASSERT_EQ(chmod(file.c_str(), mode), 0);
    auto accounts = ReadAccountsFile(file);
    EXPECT_EQ(accounts.status().code(), absl::StatusCode::kFailedPrecondition)
        << std::oct << mode;
    EXPECT_THAT(accounts.status().message(), HasSubstr("chmod 600"));
    EXPECT_FALSE(AccountStore::Open(file, {}).ok());
    EXPECT_FALSE(AddAccount(file, "bea", kPassword).ok());
  }
  ASSERT_EQ(chmod(file.c_str(), 0400), 0);
  EXPECT_TRUE(ReadAccountsFile(file).ok());
}

TEST(AccountsTest, MalformedLineIsRefusedWithItsNumber) {
  const std::string file = FreshFile();
  {
    std::ofstream out(file);
    out << "# comment\nana\tnot-a-hash\tenabled\n";
  }
  ASSERT_EQ(chmod(file.c_str(), 0600), 0);
  auto accounts = ReadAccountsFile(file);
  EXPECT_EQ(accounts.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(accounts.status().message(), HasSubstr("line 2"));
}

struct FakeClock {
  absl::Time now = absl::FromUnixSeconds(1795000000);
  std::function<absl::Time()> fn() {
    return [this] { return now; };
  }
};

TEST(AccountStoreTest, LoginAcceptsOnlyTheRightPasswordOfAnEnabledAccount) {
  const std::string file = FreshFile();
  ASSERT_TRUE(AddAccount(file, "ana", kPassword).ok());
  ASSERT_TRUE(AddAccount(file, "bea", kPassword).ok());
  auto store = AccountStore::Open(file, {});
  ASSERT_TRUE(store.ok()) << store.status();
  using R = AccountStore::LoginResult;
  EXPECT_EQ((*store)->Login("ana", kPassword), R::kOk);
  EXPECT_EQ((*store)->Login("ana", "wrong password!!"), R::kRefused);
  EXPECT_EQ((*store)->Login("nobody", kPassword), R::kRefused);
  EXPECT_EQ((*store)->Login("", ""), R::kRefused);
  EXPECT_TRUE((*store)->IsActive("bea"));
  // Disabling in the file takes effect without reopening the store.
  ASSERT_TRUE(DisableAccount(file, "bea").ok());
  EXPECT_EQ((*store)->Login("bea", kPassword), R::kRefused);
  EXPECT_FALSE((*store)->IsActive("bea"));
  EXPECT_TRUE((*store)->IsActive("ana"));
  EXPECT_EQ(DisableAccount(file, "nobody").code(), absl::StatusCode::kNotFound);
  auto accounts = ReadAccountsFile(file);
  ASSERT_TRUE(accounts.ok());
  EXPECT_TRUE((*accounts)[1].disabled);
}

TEST(AccountStoreTest, FiveFailuresLockTheAccountForFifteenMinutes) {
  const std::string file = FreshFile();
  ASSERT_TRUE(AddAccount(file, "ana", kPassword).ok());
  ASSERT_TRUE(AddAccount(file, "bea", kPassword).ok());
  FakeClock clock;
  AccountStore::Options options;
  options.clock = clock.fn();
  auto store = AccountStore::Open(file, options);
  ASSERT_TRUE(store.ok()) << store.status();
  using R = AccountStore::LoginResult;
  // Four failures, then a success, reset the count.
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*store)->Login("ana", "wrong password!!"), R::kRefused);
  }
  EXPECT_EQ((*store)->Login("ana", kPassword), R::kOk);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ((*store)->Login("ana", "wrong password!!"), R::kRefused);
  }
  EXPECT_FALSE((*store)->IsLocked("ana"));
  EXPECT_EQ((*store)->Login("ana", "wrong password!!"), R::kRefused);
  EXPECT_TRUE((*store)->IsLocked("ana"));
  // Locked: even the right password is refused; other accounts are not.
  EXPECT_EQ((*store)->Login("ana", kPassword), R::kRefused);
  EXPECT_EQ((*store)->Login("bea", kPassword), R::kOk);
  clock.now += absl::Minutes(14) + absl::Seconds(59);
  EXPECT_EQ((*store)->Login("ana", kPassword), R::kRefused);
  clock.now += absl::Seconds(1);
  EXPECT_FALSE((*store)->IsLocked("ana"));
  EXPECT_EQ((*store)->Login("ana", kPassword), R::kOk);
}

}  // namespace
}  // namespace ruta::web
