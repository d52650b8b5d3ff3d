#include "ruta/backup/snapshot.h"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "ruta/common/status_macros.h"

extern char** environ;

namespace ruta::backup {
namespace {

constexpr size_t kReadChunk = 1 << 20;

absl::Status SqliteError(const std::string& what, sqlite3* db, int rc) {
  return absl::InternalError(absl::StrCat(
      what, ": ", db != nullptr ? sqlite3_errmsg(db) : sqlite3_errstr(rc)));
}

// Closes a connection when it goes out of scope.
struct DbCloser {
  sqlite3* db = nullptr;
  ~DbCloser() {
    if (db != nullptr) sqlite3_close_v2(db);
  }
};

// A fresh 0700 directory, emptied and removed when it goes out of scope.
class PrivateDir final {
 public:
  static absl::StatusOr<std::unique_ptr<PrivateDir>> Create(
      const std::string& parent) {
    std::string pattern = absl::StrCat(parent, "/.ruta-snapshot-XXXXXX");
    std::vector<char> buf(pattern.begin(), pattern.end());
    buf.push_back('\0');
    if (::mkdtemp(buf.data()) == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot create a private directory in ", parent, ": ",
                       std::strerror(errno)));
    }
    ::chmod(buf.data(), 0700);
    return std::unique_ptr<PrivateDir>(new PrivateDir(buf.data()));
  }
  ~PrivateDir() {
    if (DIR* dir = ::opendir(path_.c_str())) {
      while (dirent* entry = ::readdir(dir)) {
        const std::string name = entry->d_name;
        if (name == "." || name == "..") continue;
        ::unlink(absl::StrCat(path_, "/", name).c_str());
      }
      ::closedir(dir);
    }
    ::rmdir(path_.c_str());
  }
  const std::string& path() const { return path_; }

 private:
  explicit PrivateDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

int64_t FileSize(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 ? static_cast<int64_t>(st.st_size) : 0;
}

// Copies `src` into `dest` in one step (one read transaction: a consistent
// snapshot). Retries while the source is momentarily locked.
absl::Status CopyDatabase(sqlite3* src, sqlite3* dest,
                          const std::string& path) {
  for (int attempt = 0;; ++attempt) {
    sqlite3_backup* backup = sqlite3_backup_init(dest, "main", src, "main");
    if (backup == nullptr) {
      return SqliteError(absl::StrCat("cannot start the backup of ", path),
                         dest, SQLITE_ERROR);
    }
    const int step = sqlite3_backup_step(backup, -1);
    const int finish = sqlite3_backup_finish(backup);
    if (step == SQLITE_DONE && finish == SQLITE_OK) return absl::OkStatus();
    if ((step == SQLITE_BUSY || step == SQLITE_LOCKED) && attempt < 100) {
      absl::SleepFor(absl::Milliseconds(50));
      continue;
    }
    return absl::InternalError(absl::StrCat(
        "the SQLite backup of ", path,
        " failed: ", sqlite3_errstr(step == SQLITE_DONE ? finish : step)));
  }
}

absl::Status StreamFile(const std::string& path, const ByteSink& sink) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::InternalError(
        absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
  }
  std::vector<char> buf(kReadChunk);
  absl::Status status;
  for (;;) {
    const ssize_t r = ::read(fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      status = absl::InternalError(
          absl::StrCat("cannot read ", path, ": ", std::strerror(errno)));
      break;
    }
    if (r == 0) break;
    status = sink(absl::string_view(buf.data(), static_cast<size_t>(r)));
    if (!status.ok()) break;
  }
  ::close(fd);
  return status;
}

// The environment of a PostgreSQL tool: ours without PGPASSWORD, plus
// PGPASSWORD=`password` when not empty.
std::vector<std::string> ChildEnvironment(const std::string& password) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    if (absl::StartsWith(*e, "PGPASSWORD=")) continue;
    env.emplace_back(*e);
  }
  if (!password.empty()) env.push_back(absl::StrCat("PGPASSWORD=", password));
  return env;
}

std::vector<char*> Pointers(std::vector<std::string>& strings) {
  std::vector<char*> out;
  for (std::string& s : strings) out.push_back(s.data());
  out.push_back(nullptr);
  return out;
}

// An anonymous file for a child's stderr.
// An unnamed file in $TMPDIR (else /tmp), like the node's other temporary
// files: a sandbox may leave only TMPDIR writable.
int AnonymousFile() {
  const char* env = std::getenv("TMPDIR");
  const std::string dir = env != nullptr && env[0] != '\0' ? env : "/tmp";
  int fd = ::open(dir.c_str(), O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
  if (fd >= 0) return fd;
  std::string name = dir + "/ruta-pgtool-XXXXXX";
  fd = ::mkstemp(name.data());
  if (fd >= 0) ::unlink(name.c_str());
  return fd;
}

std::string TailOf(int fd) {
  const off_t end = ::lseek(fd, 0, SEEK_END);
  const off_t from = end > 2000 ? end - 2000 : 0;
  std::string text(static_cast<size_t>(end - from), '\0');
  if (::pread(fd, text.data(), text.size(), from) < 0) return "";
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

// A PostgreSQL tool running with one of its standard streams on a pipe.
struct Child {
  pid_t pid = -1;
  int pipe_fd = -1;    // our end: its stdout (read) or its stdin (write)
  int stderr_fd = -1;  // its stderr, an anonymous file

  // Waits for it; INTERNAL with its stderr unless it exited with 0.
  absl::Status Wait(const std::string& tool) {
    if (pipe_fd >= 0) ::close(pipe_fd);
    pipe_fd = -1;
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) {
    }
    const std::string err = TailOf(stderr_fd);
    ::close(stderr_fd);
    if (WIFEXITED(wstatus) && WEXITSTATUS(wstatus) == 0) {
      return absl::OkStatus();
    }
    return absl::InternalError(absl::StrCat(
        tool,
        WIFEXITED(wstatus)
            ? absl::StrCat(" exited with status ", WEXITSTATUS(wstatus))
            : absl::StrCat(" was killed by signal ", WTERMSIG(wstatus)),
        err.empty() ? "" : ": ", err));
  }
  void Kill() { ::kill(pid, SIGTERM); }
};

// Starts `argv` (argv[0] looked up in PATH) with `password` in its
// environment; `child_reads`: we write its stdin, else we read its stdout.
absl::StatusOr<Child> Spawn(std::vector<std::string> argv,
                            const std::string& password, bool child_reads) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) {
    return absl::InternalError(absl::StrCat("pipe: ", std::strerror(errno)));
  }
  Child child;
  child.stderr_fd = AnonymousFile();
  if (child.stderr_fd < 0) {
    ::close(fds[0]);
    ::close(fds[1]);
    return absl::InternalError("cannot create a file for the tool's stderr");
  }
  const int child_end = child_reads ? fds[0] : fds[1];
  child.pipe_fd = child_reads ? fds[1] : fds[0];
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, child_end,
                                   child_reads ? STDIN_FILENO : STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&actions, child.stderr_fd, STDERR_FILENO);
  if (child_reads) {
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, "/dev/null",
                                     O_WRONLY, 0);
  } else {
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null",
                                     O_RDONLY, 0);
  }
  std::vector<std::string> env = ChildEnvironment(password);
  std::vector<char*> argv_ptrs = Pointers(argv);
  std::vector<char*> env_ptrs = Pointers(env);
  const int rc = ::posix_spawnp(&child.pid, argv[0].c_str(), &actions, nullptr,
                                argv_ptrs.data(), env_ptrs.data());
  posix_spawn_file_actions_destroy(&actions);
  for (std::string& e : env) std::fill(e.begin(), e.end(), '\0');
  ::close(child_end);
  if (rc != 0) {
    ::close(child.pipe_fd);
    ::close(child.stderr_fd);
    return absl::FailedPreconditionError(
        absl::StrCat("cannot run ", argv[0], ": ", std::strerror(rc),
                     " (is the PostgreSQL client installed, e.g. Debian's "
                     "postgresql-client?)"));
  }
  return child;
}

}  // namespace

absl::Status SnapshotSqlite(const std::string& path,
                            int64_t max_in_memory_bytes,
                            const std::string& spill_dir,
                            const ByteSink& sink) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    return absl::NotFoundError(
        absl::StrCat("the database ", path, " does not exist"));
  }
  const int64_t size =
      static_cast<int64_t>(st.st_size) + FileSize(absl::StrCat(path, "-wal"));
  DbCloser src;
  int rc =
      sqlite3_open_v2(path.c_str(), &src.db, SQLITE_OPEN_READWRITE, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteError(absl::StrCat("cannot open ", path), src.db, rc);
  }
  sqlite3_busy_timeout(src.db, 5000);

  if (size <= max_in_memory_bytes) {
    DbCloser dest;
    rc = sqlite3_open_v2(
        "file:ruta-backup-snapshot?vfs=memdb", &dest.db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError("cannot open an in-memory database", dest.db, rc);
    }
    // Room for the database and what it grows by during the copy.
    sqlite3_int64 limit = std::max<sqlite3_int64>(2 * max_in_memory_bytes,
                                                  sqlite3_int64{1} << 30);
    sqlite3_file_control(dest.db, "main", SQLITE_FCNTL_SIZE_LIMIT, &limit);
    RUTA_RETURN_IF_ERROR(CopyDatabase(src.db, dest.db, path));
    sqlite3_close_v2(src.db);
    src.db = nullptr;
    sqlite3_int64 image_size = 0;
    unsigned char* image = sqlite3_serialize(dest.db, "main", &image_size,
                                             SQLITE_SERIALIZE_NOCOPY);
    bool owned = false;
    if (image == nullptr) {
      image = sqlite3_serialize(dest.db, "main", &image_size, 0);
      owned = true;
    }
    if (image == nullptr) {
      return absl::ResourceExhaustedError(
          "not enough memory for the database image");
    }
    absl::Status status = sink(absl::string_view(
        reinterpret_cast<const char*>(image), static_cast<size_t>(image_size)));
    std::memset(image, 0, static_cast<size_t>(image_size));
    if (owned) sqlite3_free(image);
    return status;
  }

  // Too large for memory: through a private directory, removed on return.
  RUTA_ASSIGN_OR_RETURN(std::unique_ptr<PrivateDir> dir,
                        PrivateDir::Create(spill_dir));
  const std::string copy = absl::StrCat(dir->path(), "/snapshot.db");
  {
    DbCloser dest;
    rc = sqlite3_open_v2(copy.c_str(), &dest.db,
                         SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
    if (rc != SQLITE_OK) {
      return SqliteError(absl::StrCat("cannot create ", copy), dest.db, rc);
    }
    RUTA_RETURN_IF_ERROR(CopyDatabase(src.db, dest.db, path));
  }
  sqlite3_close_v2(src.db);
  src.db = nullptr;
  return StreamFile(copy, sink);
}

absl::Status DumpPostgres(const std::string& pg_dump,
                          const std::string& conninfo,
                          const std::string& password, const ByteSink& sink) {
  RUTA_ASSIGN_OR_RETURN(Child child,
                        Spawn({pg_dump, "--format=custom", "--no-password",
                               absl::StrCat("--dbname=", conninfo)},
                              password, /*child_reads=*/false));
  std::vector<char> buf(kReadChunk);
  absl::Status status;
  for (;;) {
    const ssize_t r = ::read(child.pipe_fd, buf.data(), buf.size());
    if (r < 0 && errno == EINTR) continue;
    if (r < 0) {
      status = absl::InternalError(
          absl::StrCat("reading pg_dump's output: ", std::strerror(errno)));
      break;
    }
    if (r == 0) break;
    status = sink(absl::string_view(buf.data(), static_cast<size_t>(r)));
    if (!status.ok()) break;
  }
  if (!status.ok()) child.Kill();
  absl::Status exited = child.Wait("pg_dump");
  return status.ok() ? exited : status;
}

absl::Status RestorePostgres(
    const std::string& pg_restore, const std::string& conninfo,
    const std::string& password,
    const std::function<absl::Status(const ByteSink&)>& produce) {
  // pg_restore may exit early (an error): its closed stdin must fail our
  // write with EPIPE, not kill this process.
  struct sigaction ignore {
  }, previous{};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  RUTA_ASSIGN_OR_RETURN(
      Child child,
      Spawn({pg_restore, "--clean", "--if-exists", "--single-transaction",
             "--no-owner", "--exit-on-error", "--no-password",
             absl::StrCat("--dbname=", conninfo)},
            password, /*child_reads=*/true));
  bool broken_pipe = false;
  absl::Status status = produce([&](absl::string_view bytes) -> absl::Status {
    size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t w =
          ::write(child.pipe_fd, bytes.data() + done, bytes.size() - done);
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        broken_pipe = errno == EPIPE;
        return absl::InternalError(
            absl::StrCat("writing to pg_restore: ", std::strerror(errno)));
      }
      done += static_cast<size_t>(w);
    }
    return absl::OkStatus();
  });
  if (!status.ok() && !broken_pipe) child.Kill();
  absl::Status exited = child.Wait("pg_restore");
  ::sigaction(SIGPIPE, &previous, nullptr);
  // pg_restore's own report says more than our EPIPE.
  if (broken_pipe && !exited.ok()) return exited;
  return status.ok() ? exited : status;
}

}  // namespace ruta::backup
