// Unit tests of ruta_backup: the key file, the encrypted format (round trip,
// wrong key, tampering, truncation), the SQLite snapshot under concurrent
// writers, the backup directory's checks, pg_dump/pg_restore invocation and
// the one-at-a-time, idempotent runner.
#include "ruta/backup/backup.h"

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "ruta/backup/backup_file.h"
#include "ruta/backup/snapshot.h"

namespace ruta::backup {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kKeyHex[] =
    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
constexpr char kOtherKeyHex[] =
    "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100";

std::string TempDir() {
  const char* base = std::getenv("TEST_TMPDIR");
  std::string pattern =
      absl::StrCat(base != nullptr ? base : "/tmp", "/ruta-backup-XXXXXX");
  std::vector<char> buf(pattern.begin(), pattern.end());
  buf.push_back('\0');
  EXPECT_NE(::mkdtemp(buf.data()), nullptr);
  ::chmod(buf.data(), 0700);
  return buf.data();
}

void WriteFile(const std::string& path, const std::string& text,
               mode_t mode = 0600) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << text;
  ::chmod(path.c_str(), mode);
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> ListDir(const std::string& dir) {
  std::vector<std::string> names;
  FILE* ls = ::popen(absl::StrCat("ls -A '", dir, "'").c_str(), "r");
  char line[512];
  while (ls != nullptr && std::fgets(line, sizeof line, ls) != nullptr) {
    std::string name(line);
    if (!name.empty() && name.back() == '\n') name.pop_back();
    names.push_back(name);
  }
  if (ls != nullptr) ::pclose(ls);
  return names;
}

mode_t ModeOf(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

void Exec(sqlite3* db, const std::string& sql) {
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err), SQLITE_OK)
      << (err != nullptr ? err : "");
}

int64_t Count(sqlite3* db, const std::string& sql) {
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK);
  int64_t n = -1;
  if (sqlite3_step(stmt) == SQLITE_ROW) n = sqlite3_column_int64(stmt, 0);
  sqlite3_finalize(stmt);
  return n;
}

// A WAL database with `rows` rows in `cases` and as many in `audit`.
std::string MakeDatabase(const std::string& dir, int rows) {
  const std::string path = dir + "/node.db";
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  Exec(db, "PRAGMA journal_mode=WAL");
  Exec(db,
       "CREATE TABLE cases(id INTEGER PRIMARY KEY, body TEXT);"
       "CREATE TABLE audit(id INTEGER PRIMARY KEY, case_id INTEGER)");
  Exec(db, "BEGIN");
  for (int i = 0; i < rows; ++i) {
    Exec(db, absl::StrCat("INSERT INTO cases(body) VALUES(printf('%.500c', ",
                          "'x')); INSERT INTO audit(case_id) VALUES(",
                          "last_insert_rowid())"));
  }
  Exec(db, "COMMIT");
  sqlite3_close(db);
  return path;
}

// Opens a decrypted SQLite image.
sqlite3* OpenImage(const std::string& image) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open(":memory:", &db), SQLITE_OK);
  auto* copy = static_cast<unsigned char*>(sqlite3_malloc64(image.size()));
  std::memcpy(copy, image.data(), image.size());
  // The image is of a WAL database (bytes 18 and 19 are 2), which an
  // in-memory database cannot open: mark it a rollback-journal one.
  if (image.size() > 19) copy[18] = copy[19] = 1;
  EXPECT_EQ(sqlite3_deserialize(
                db, "main", copy, image.size(), image.size(),
                SQLITE_DESERIALIZE_FREEONCLOSE | SQLITE_DESERIALIZE_RESIZEABLE),
            SQLITE_OK);
  return db;
}

class BackupTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    backups_ = dir_ + "/backups";
    ASSERT_EQ(::mkdir(backups_.c_str(), 0700), 0);
    key_file_ = dir_ + "/backup.key";
    WriteFile(key_file_, absl::StrCat(kKeyHex, "\n"));
    options_.directory = backups_;
    options_.key_file = key_file_;
    options_.region = "cusco";
    options_.schema_version = 7;
  }

  BackupKey Key(const char* hex = kKeyHex) {
    const std::string path = dir_ + "/k" + std::to_string(++keys_);
    WriteFile(path, hex);
    absl::StatusOr<BackupKey> key = BackupKey::LoadFromFile(path);
    EXPECT_TRUE(key.ok()) << key.status();
    return *std::move(key);
  }

  // A backup of a fresh database of `rows` rows.
  BackupResult MakeBackup(int rows = 50) {
    source_.sqlite_path = MakeDatabase(dir_, rows);
    absl::StatusOr<BackupResult> result =
        CreateBackup(options_, source_, absl::FromUnixSeconds(1795000000));
    EXPECT_TRUE(result.ok()) << result.status();
    return *result;
  }

  absl::StatusOr<std::string> Decrypt(const std::string& path,
                                      const BackupKey& key) {
    std::string plain;
    absl::StatusOr<BackupHeader> header =
        ReadBackupFile(path, key, [&plain](absl::string_view bytes) {
          plain.append(bytes.data(), bytes.size());
          return absl::OkStatus();
        });
    if (!header.ok()) return header.status();
    return plain;
  }

  std::string dir_, backups_, key_file_;
  BackupOptions options_;
  BackupSource source_;
  int keys_ = 0;
};

TEST_F(BackupTest, KeyFileMustBePrivateAndHex) {
  EXPECT_TRUE(BackupKey::LoadFromFile(key_file_).ok());
  WriteFile(key_file_, kKeyHex, 0400);
  EXPECT_TRUE(BackupKey::LoadFromFile(key_file_).ok());

  WriteFile(key_file_, kKeyHex, 0640);
  absl::StatusOr<BackupKey> key = BackupKey::LoadFromFile(key_file_);
  ASSERT_EQ(key.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(key.status().message(), HasSubstr("mode 0640"));
  EXPECT_THAT(key.status().message(),
              HasSubstr(absl::StrCat("chmod 600 ", key_file_)));

  WriteFile(key_file_, "abcd", 0600);
  key = BackupKey::LoadFromFile(key_file_);
  ASSERT_EQ(key.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(key.status().message(), HasSubstr("64 hex characters"));
  EXPECT_THAT(key.status().message(), Not(HasSubstr("abcd")));

  WriteFile(key_file_, std::string(64, 'g'), 0600);
  EXPECT_EQ(BackupKey::LoadFromFile(key_file_).status().code(),
            absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(BackupKey::LoadFromFile(dir_ + "/missing").status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BackupTest, RoundTripSqlite) {
  const BackupResult result = MakeBackup(200);
  EXPECT_EQ(result.file_name, "ruta-cusco-20261118T110640Z.rbk");
  EXPECT_EQ(result.path, backups_ + "/" + result.file_name);
  EXPECT_EQ(ModeOf(result.path), 0600u);
  const std::string bytes = ReadAll(result.path);
  EXPECT_EQ(result.size_bytes, static_cast<int64_t>(bytes.size()));
  EXPECT_EQ(result.sha256.size(), 32u);
  // Nothing but the backup is left in the directory.
  EXPECT_THAT(ListDir(backups_), ::testing::ElementsAre(result.file_name));
  // The plaintext is not in the file: no SQLite magic, no row content.
  EXPECT_FALSE(absl::StrContains(bytes, "SQLite format 3"));
  EXPECT_FALSE(absl::StrContains(bytes, std::string(100, 'x')));

  BackupKey key = Key();
  absl::StatusOr<BackupHeader> header = ReadBackupHeader(result.path, key);
  ASSERT_TRUE(header.ok()) << header.status();
  EXPECT_EQ(header->region, "cusco");
  EXPECT_EQ(header->backend, BackupBackend::kSqlite);
  EXPECT_EQ(header->schema_version, 7);
  EXPECT_EQ(header->created_at, absl::FromUnixSeconds(1795000000));
  EXPECT_EQ(header->format_version, 1u);

  absl::StatusOr<std::string> image = Decrypt(result.path, key);
  ASSERT_TRUE(image.ok()) << image.status();
  EXPECT_EQ(static_cast<int64_t>(image->size()), result.payload_bytes);
  ASSERT_TRUE(absl::StartsWith(*image, "SQLite format 3"));
  sqlite3* db = OpenImage(*image);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM cases"), 200);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM audit"), 200);
  sqlite3_close(db);
}

TEST_F(BackupTest, LargeDatabaseGoesThroughAPrivateDirectoryThatIsRemoved) {
  source_.max_in_memory_bytes = 0;
  const BackupResult result = MakeBackup(300);
  EXPECT_THAT(ListDir(backups_), ::testing::ElementsAre(result.file_name));
  BackupKey key = Key();
  absl::StatusOr<std::string> image = Decrypt(result.path, key);
  ASSERT_TRUE(image.ok()) << image.status();
  sqlite3* db = OpenImage(*image);
  EXPECT_EQ(Count(db, "SELECT count(*) FROM cases"), 300);
  sqlite3_close(db);
}

TEST_F(BackupTest, TwoBackupsInOneSecondGetTwoNames) {
  source_.sqlite_path = MakeDatabase(dir_, 3);
  const absl::Time now = absl::FromUnixSeconds(1795000000);
  absl::StatusOr<BackupResult> a = CreateBackup(options_, source_, now);
  absl::StatusOr<BackupResult> b = CreateBackup(options_, source_, now);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->file_name, "ruta-cusco-20261118T110640Z.rbk");
  EXPECT_EQ(b->file_name, "ruta-cusco-20261118T110640Z-2.rbk");
  EXPECT_NE(a->sha256, b->sha256);  // fresh stream key each time
}

TEST_F(BackupTest, WrongKeyIsDataLossNamingTheFile) {
  const BackupResult result = MakeBackup();
  BackupKey other = Key(kOtherKeyHex);
  absl::StatusOr<std::string> image = Decrypt(result.path, other);
  ASSERT_EQ(image.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(image.status().message(), HasSubstr(result.path));
  EXPECT_THAT(image.status().message(), HasSubstr("wrong key"));
  EXPECT_EQ(ReadBackupHeader(result.path, other).status().code(),
            absl::StatusCode::kDataLoss);
}

TEST_F(BackupTest, AnyFlippedByteIsDetected) {
  const BackupResult result = MakeBackup(1500);
  const std::string original = ReadAll(result.path);
  ASSERT_GT(original.size(), 2 * BackupWriter::kChunkSize);
  BackupKey key = Key();
  const std::vector<size_t> offsets = {
      0,                                // magic
      9,                                // format version
      14,                               // stream header
      40,                               // header frame length
      60,                               // header frame
      BackupWriter::kChunkSize / 2,     // first chunk
      BackupWriter::kChunkSize + 1000,  // second chunk
      original.size() - 20,             // final frame
      original.size() - 1};             // last byte (its MAC)
  for (size_t offset : offsets) {
    std::string tampered = original;
    tampered[offset] = static_cast<char>(tampered[offset] ^ 0x20);
    const std::string path = dir_ + "/tampered.rbk";
    WriteFile(path, tampered);
    absl::StatusOr<std::string> image = Decrypt(path, key);
    EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss)
        << "offset " << offset;
    EXPECT_THAT(image.status().message(), HasSubstr(path));
  }
}

TEST_F(BackupTest, TruncationAndTrailingBytesAreDetected) {
  const BackupResult result = MakeBackup(300);
  const std::string original = ReadAll(result.path);
  BackupKey key = Key();
  for (size_t length :
       {size_t{0}, size_t{5}, size_t{12}, size_t{30}, size_t{200},
        original.size() / 2, original.size() - 17, original.size() - 1}) {
    const std::string path = dir_ + "/truncated.rbk";
    WriteFile(path, original.substr(0, length));
    absl::StatusOr<std::string> image = Decrypt(path, key);
    EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss)
        << "length " << length;
    EXPECT_THAT(image.status().message(), HasSubstr(path));
    if (length >= 200) {
      EXPECT_THAT(image.status().message(), HasSubstr("truncated"))
          << "length " << length;
    }
  }
  const std::string path = dir_ + "/longer.rbk";
  WriteFile(path, original + "x");
  absl::StatusOr<std::string> image = Decrypt(path, key);
  EXPECT_EQ(image.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(image.status().message(), HasSubstr("follow the final frame"));
}

TEST_F(BackupTest, FramesCannotBeReorderedOrDropped) {
  // Three full chunks and a short one: frames of equal length can be
  // swapped byte-wise in the file.
  BackupKey key = Key();
  std::string payload(3 * BackupWriter::kChunkSize + 10, '\0');
  std::mt19937 rng(7);
  for (char& c : payload) c = static_cast<char>(rng());
  std::string file;
  BackupHeader header;
  header.region = "madre-de-dios";
  header.backend = BackupBackend::kPostgres;
  header.schema_version = 3;
  header.created_at = absl::FromUnixSeconds(1700000000);
  absl::StatusOr<std::unique_ptr<BackupWriter>> writer =
      BackupWriter::Create(key, header, [&file](absl::string_view b) {
        file.append(b.data(), b.size());
        return absl::OkStatus();
      });
  ASSERT_TRUE(writer.ok());
  ASSERT_TRUE((*writer)->Write(payload.substr(0, 1000)).ok());
  ASSERT_TRUE((*writer)->Write(payload.substr(1000)).ok());
  ASSERT_TRUE((*writer)->Finish().ok());
  EXPECT_FALSE((*writer)->Write("more").ok());

  const std::string path = dir_ + "/frames.rbk";
  WriteFile(path, file);
  absl::StatusOr<std::string> plain = Decrypt(path, key);
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(*plain, payload);
  absl::StatusOr<BackupHeader> read = ReadBackupHeader(path, key);
  ASSERT_TRUE(read.ok());
  EXPECT_EQ(read->region, "madre-de-dios");
  EXPECT_EQ(read->backend, BackupBackend::kPostgres);

  // Locate the three full data frames after the header frame.
  const size_t frame = 4 + BackupWriter::kChunkSize + 17;
  const size_t header_len = (static_cast<unsigned char>(file[36]) << 24 |
                             static_cast<unsigned char>(file[37]) << 16 |
                             static_cast<unsigned char>(file[38]) << 8 |
                             static_cast<unsigned char>(file[39]));
  const size_t first = 36 + 4 + header_len;
  std::string swapped = file;
  swapped.replace(first, frame, file.substr(first + frame, frame));
  swapped.replace(first + frame, frame, file.substr(first, frame));
  WriteFile(path, swapped);
  EXPECT_EQ(Decrypt(path, key).status().code(), absl::StatusCode::kDataLoss);
  std::string dropped = file;
  dropped.erase(first + frame, frame);
  WriteFile(path, dropped);
  EXPECT_EQ(Decrypt(path, key).status().code(), absl::StatusCode::kDataLoss);
}

TEST_F(BackupTest, NotABackupIsDataLoss) {
  const std::string path = dir_ + "/plain.db";
  WriteFile(path, "SQLite format 3\0 and more");
  BackupKey key = Key();
  absl::StatusOr<std::string> image = Decrypt(path, key);
  ASSERT_EQ(image.status().code(), absl::StatusCode::kDataLoss);
  EXPECT_THAT(image.status().message(), HasSubstr("not a ruta backup"));
  EXPECT_EQ(Decrypt(dir_ + "/missing.rbk", key).status().code(),
            absl::StatusCode::kNotFound);
}

TEST_F(BackupTest, DirectoryMustExistAndBeClosedToOthers) {
  source_.sqlite_path = MakeDatabase(dir_, 3);
  ASSERT_EQ(::chmod(backups_.c_str(), 0755), 0);
  absl::StatusOr<BackupResult> result =
      CreateBackup(options_, source_, absl::Now());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("backup.directory"));
  EXPECT_THAT(result.status().message(), HasSubstr("chmod o-rwx"));
  EXPECT_TRUE(ListDir(backups_).empty());

  ASSERT_EQ(::chmod(backups_.c_str(), 0750), 0);
  EXPECT_TRUE(CreateBackup(options_, source_, absl::Now()).ok());

  options_.directory = dir_ + "/nowhere";
  result = CreateBackup(options_, source_, absl::Now());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("nowhere"));
  options_.directory = "";
  EXPECT_THAT(CreateBackup(options_, source_, absl::Now()).status().message(),
              HasSubstr("backup.directory is not set"));
}

TEST_F(BackupTest, KeyFileProblemsWriteNothing) {
  source_.sqlite_path = MakeDatabase(dir_, 3);
  ::chmod(key_file_.c_str(), 0644);
  absl::StatusOr<BackupResult> result =
      CreateBackup(options_, source_, absl::Now());
  ASSERT_EQ(result.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(result.status().message(), HasSubstr("backup.key_file"));
  EXPECT_THAT(result.status().message(), HasSubstr("chmod 600"));
  options_.key_file = dir_ + "/no.key";
  EXPECT_EQ(CreateBackup(options_, source_, absl::Now()).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(backups_).empty());
}

TEST_F(BackupTest, MissingDatabaseLeavesNoTemporaryFile) {
  source_.sqlite_path = dir_ + "/missing.db";
  absl::StatusOr<BackupResult> result =
      CreateBackup(options_, source_, absl::Now());
  EXPECT_EQ(result.status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(ListDir(backups_).empty());
}

// Writers commit pairs (a case row and its audit row) in one transaction
// while the snapshot is taken: the copy holds whole pairs only.
TEST_F(BackupTest, SnapshotUnderConcurrentWritersIsConsistent) {
  const std::string path = MakeDatabase(dir_, 2000);
  std::atomic<bool> stop{false};
  std::atomic<int> commits{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < 2; ++w) {
    writers.emplace_back([&] {
      sqlite3* db = nullptr;
      sqlite3_open(path.c_str(), &db);
      sqlite3_busy_timeout(db, 5000);
      while (!stop.load()) {
        if (sqlite3_exec(db,
                         "BEGIN IMMEDIATE; INSERT INTO cases(body) "
                         "VALUES('y'); INSERT INTO audit(case_id) VALUES "
                         "(last_insert_rowid()); COMMIT",
                         nullptr, nullptr, nullptr) == SQLITE_OK) {
          ++commits;
        } else {
          sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
        }
      }
      sqlite3_close(db);
    });
  }
  while (commits.load() < 50) absl::SleepFor(absl::Milliseconds(1));
  source_.sqlite_path = path;
  std::vector<BackupResult> results;
  for (int i = 0; i < 3; ++i) {
    absl::StatusOr<BackupResult> result =
        CreateBackup(options_, source_, absl::Now());
    ASSERT_TRUE(result.ok()) << result.status();
    results.push_back(*result);
  }
  stop = true;
  for (std::thread& t : writers) t.join();
  BackupKey key = Key();
  for (const BackupResult& result : results) {
    absl::StatusOr<std::string> image = Decrypt(result.path, key);
    ASSERT_TRUE(image.ok()) << image.status();
    sqlite3* db = OpenImage(*image);
    const int64_t cases = Count(db, "SELECT count(*) FROM cases");
    EXPECT_GE(cases, 2050);
    EXPECT_EQ(Count(db, "SELECT count(*) FROM audit"), cases);
    EXPECT_EQ(Count(db,
                    "SELECT count(*) FROM cases WHERE id NOT IN "
                    "(SELECT case_id FROM audit)"),
              0);
    sqlite3_stmt* stmt = nullptr;
    sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &stmt, nullptr);
    ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
                 "ok");
    sqlite3_finalize(stmt);
    sqlite3_close(db);
  }
}

// pg_dump is run without a shell, with the password only in its environment.
TEST_F(BackupTest, PgDumpGetsThePasswordInItsEnvironmentOnly) {
  const std::string tool = dir_ + "/fake_pg_dump";
  WriteFile(tool,
            "#!/bin/sh\n"
            "printf 'args:%s|' \"$@\"\n"
            "printf 'pw:%s' \"$PGPASSWORD\"\n",
            0700);
  std::string out;
  absl::Status status =
      DumpPostgres(tool, "host=/run/postgresql dbname=ruta_cusco",
                   "s3cret; rm -rf /", [&out](absl::string_view b) {
                     out.append(b.data(), b.size());
                     return absl::OkStatus();
                   });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(out,
            "args:--format=custom|args:--no-password|args:--dbname=host=/run/"
            "postgresql dbname=ruta_cusco|pw:s3cret; rm -rf /");
  EXPECT_EQ(std::getenv("PGPASSWORD"), nullptr);

  WriteFile(tool,
            "#!/bin/sh\necho 'pg_dump: error: connection refused' >&2\n"
            "exit 1\n",
            0700);
  status = DumpPostgres(tool, "dbname=x", "",
                        [](absl::string_view) { return absl::OkStatus(); });
  ASSERT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("exited with status 1"));
  EXPECT_THAT(status.message(), HasSubstr("connection refused"));

  status = DumpPostgres(dir_ + "/no_such_tool", "dbname=x", "",
                        [](absl::string_view) { return absl::OkStatus(); });
  EXPECT_EQ(status.code(), absl::StatusCode::kFailedPrecondition);
}

TEST_F(BackupTest, PgRestoreIsFedTheArchiveOnItsStdin) {
  const std::string tool = dir_ + "/fake_pg_restore";
  const std::string seen = dir_ + "/seen";
  WriteFile(tool,
            absl::StrCat("#!/bin/sh\nprintf '%s|' \"$@\" > '", seen,
                         "'\nprintf 'pw:%s|' \"$PGPASSWORD\" >> '", seen,
                         "'\ncat >> '", seen, "'\n"),
            0700);
  absl::Status status =
      RestorePostgres(tool, "dbname=ruta", "pw", [](const ByteSink& sink) {
        absl::Status s = sink("archive-");
        if (!s.ok()) return s;
        return sink("bytes");
      });
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_EQ(ReadAll(seen),
            "--clean|--if-exists|--single-transaction|--no-owner|"
            "--exit-on-error|--no-password|--dbname=dbname=ruta|pw:pw|"
            "archive-bytes");

  // pg_restore failing early: its report, not a SIGPIPE.
  WriteFile(tool,
            "#!/bin/sh\necho 'pg_restore: error: bad archive' >&2\n"
            "exit 1\n",
            0700);
  std::string big(4 << 20, 'z');
  status = RestorePostgres(tool, "dbname=ruta", "",
                           [&big](const ByteSink& sink) { return sink(big); });
  ASSERT_EQ(status.code(), absl::StatusCode::kInternal);
  EXPECT_THAT(status.message(), HasSubstr("bad archive"));
}

TEST(BackupRunnerTest, OneAtATimeAndIdempotent) {
  absl::Notification release;
  std::atomic<int> made{0};
  BackupRunner runner([&](absl::Time) -> absl::StatusOr<BackupResult> {
    release.WaitForNotification();
    BackupResult result;
    result.file_name = absl::StrCat("b", ++made, ".rbk");
    return result;
  });
  absl::Notification first_done, joined_done;
  std::string first, joined;
  runner.Run("admin", "r1", [&](absl::StatusOr<BackupResult> r) {
    first = r.ok() ? r->file_name : r.status().ToString();
    first_done.Notify();
  });
  // The same request while it runs waits for it.
  runner.Run("admin", "r1", [&](absl::StatusOr<BackupResult> r) {
    joined = r.ok() ? r->file_name : r.status().ToString();
    joined_done.Notify();
  });
  // Another request while it runs is refused at once.
  absl::Status other;
  runner.Run("admin", "r2",
             [&](absl::StatusOr<BackupResult> r) { other = r.status(); });
  EXPECT_EQ(other.code(), absl::StatusCode::kResourceExhausted);
  EXPECT_THAT(other.message(), HasSubstr("already running"));
  // The same request id from another caller is another request.
  runner.Run("other-admin", "r1",
             [&](absl::StatusOr<BackupResult> r) { other = r.status(); });
  EXPECT_EQ(other.code(), absl::StatusCode::kResourceExhausted);

  release.Notify();
  first_done.WaitForNotification();
  joined_done.WaitForNotification();
  EXPECT_EQ(first, "b1.rbk");
  EXPECT_EQ(joined, "b1.rbk");

  // A retry after it finished: the same file, no second backup.
  std::string again;
  runner.Run("admin", "r1", [&](absl::StatusOr<BackupResult> r) {
    again = r.ok() ? r->file_name : "";
  });
  EXPECT_EQ(again, "b1.rbk");
  // A new request makes a new backup.
  absl::Notification second_done;
  std::string second;
  runner.Run("admin", "r2", [&](absl::StatusOr<BackupResult> r) {
    second = r.ok() ? r->file_name : "";
    second_done.Notify();
  });
  second_done.WaitForNotification();
  EXPECT_EQ(second, "b2.rbk");
  EXPECT_EQ(made.load(), 2);
}

TEST(BackupRunnerTest, FailuresAreNotRemembered) {
  std::atomic<int> calls{0};
  BackupRunner runner([&](absl::Time) -> absl::StatusOr<BackupResult> {
    if (++calls == 1) return absl::InternalError("disk full");
    BackupResult result;
    result.file_name = "ok.rbk";
    return result;
  });
  for (int i = 0; i < 2; ++i) {
    absl::Notification done;
    absl::StatusOr<BackupResult> got = absl::UnknownError("");
    runner.Run("admin", "r1", [&](absl::StatusOr<BackupResult> r) {
      got = std::move(r);
      done.Notify();
    });
    done.WaitForNotification();
    if (i == 0) {
      EXPECT_EQ(got.status().code(), absl::StatusCode::kInternal);
    } else {
      ASSERT_TRUE(got.ok());
      EXPECT_EQ(got->file_name, "ok.rbk");
    }
  }
  EXPECT_EQ(calls.load(), 2);
}

}  // namespace
}  // namespace ruta::backup
