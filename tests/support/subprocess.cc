#include "ruta/testing/subprocess.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "ruta/testing/pki.h"

extern char** environ;

namespace ruta::testing {
namespace {

// fork+exec with stdin/stdout/stderr redirected to the given files.
pid_t Spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env,
            const std::string& in_path, const std::string& out_path,
            const std::string& err_path) {
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  for (const auto& [key, value] : env) {
    env_strings.push_back(absl::StrCat(key, "=", value));
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> args = argv;
  std::vector<char*> argp;
  for (auto& s : args) argp.push_back(s.data());
  argp.push_back(nullptr);

  const pid_t pid = fork();
  if (pid == 0) {
    // Only async-signal-safe calls from here on.
    const int in = open(in_path.c_str(), O_RDONLY);
    const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in < 0 || out < 0 || err < 0) _exit(126);
    dup2(in, 0);
    dup2(out, 1);
    dup2(err, 2);
    setpgid(0, 0);
    execve(argp[0], argp.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// Waits for `pid` up to `timeout`; true and the exit code when it exited.
bool WaitPid(pid_t pid, absl::Duration timeout, int* exit_code) {
  const absl::Time deadline = absl::Now() + timeout;
  for (;;) {
    int status = 0;
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) {
      *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
      return true;
    }
    if (r < 0 && errno != EINTR) {
      *exit_code = -1;
      return true;
    }
    if (absl::Now() >= deadline) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
}

}  // namespace

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         absl::Duration timeout,
                         const std::map<std::string, std::string>& env,
                         const std::string* input) {
  const std::string dir = MakeTempDir("proc");
  std::string in_path = "/dev/null";
  if (input != nullptr) {
    in_path = dir + "/stdin";
    std::ofstream(in_path, std::ios::binary) << *input;
  }
  ProcessResult result;
  const pid_t pid = Spawn(argv, env, in_path, dir + "/stdout", dir + "/stderr");
  if (!WaitPid(pid, timeout, &result.exit_code)) {
    kill(-pid, SIGKILL);
    int ignored = 0;
    WaitPid(pid, absl::Seconds(5), &ignored);
    result.timed_out = true;
    result.exit_code = -1;
  }
  result.out = ReadFile(dir + "/stdout");
  result.err = ReadFile(dir + "/stderr");
  return result;
}

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::string& log_prefix)
    : out_file_(log_prefix + ".out"), err_file_(log_prefix + ".err") {
  pid_ = Spawn(argv, {}, "/dev/null", out_file_, err_file_);
}

BackgroundProcess::~BackgroundProcess() {
  if (!exited_ && pid_ > 0) {
    kill(-pid_, SIGKILL);
    Wait(absl::Seconds(5));
  }
}

int BackgroundProcess::Wait(absl::Duration timeout) {
  if (!exited_ && WaitPid(pid_, timeout, &exit_code_)) exited_ = true;
  return exited_ ? exit_code_ : -1;
}

bool BackgroundProcess::Running() {
  Wait(absl::ZeroDuration());
  return !exited_;
}

int BackgroundProcess::Stop(int signal, absl::Duration timeout) {
  if (!exited_) kill(pid_, signal);
  return Wait(timeout);
}

std::string BackgroundProcess::Stdout() const { return ReadFile(out_file_); }
std::string BackgroundProcess::Stderr() const { return ReadFile(err_file_); }

int WaitForPortFile(const std::string& path, absl::Duration timeout) {
  const absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    int port = 0;
    std::string content = ReadFile(path);
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(content), &port) &&
        port > 0) {
      return port;
    }
    absl::SleepFor(absl::Milliseconds(20));
  }
  return 0;
}

}  // namespace ruta::testing
