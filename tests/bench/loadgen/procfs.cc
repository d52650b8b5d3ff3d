#include "procfs.h"

#include <sys/utsname.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace ruta::bench {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

// The value after "<key>:" on its line of a /proc file, trimmed.
std::string ProcField(const std::string& text, const std::string& key) {
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    // /proc/cpuinfo pads keys with tabs before the colon.
    if (!absl::ConsumePrefix(&line, key)) continue;
    line = absl::StripLeadingAsciiWhitespace(line);
    if (absl::ConsumePrefix(&line, ":")) {
      return std::string(absl::StripAsciiWhitespace(line));
    }
  }
  return "";
}

}  // namespace

double ProcessCpuSeconds(pid_t pid) {
  const std::string stat = Slurp(absl::StrCat("/proc/", pid, "/stat"));
  // The command name (field 2) may hold spaces and parentheses: fields are
  // counted from the last ')'. utime and stime are fields 14 and 15, i.e.
  // the 12th and 13th after it.
  const size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return -1;
  const std::vector<absl::string_view> fields = absl::StrSplit(
      absl::string_view(stat).substr(paren + 2), ' ', absl::SkipEmpty());
  int64_t utime = 0;
  int64_t stime = 0;
  if (fields.size() < 13 || !absl::SimpleAtoi(fields[11], &utime) ||
      !absl::SimpleAtoi(fields[12], &stime)) {
    return -1;
  }
  return static_cast<double>(utime + stime) /
         static_cast<double>(sysconf(_SC_CLK_TCK));
}

int64_t ProcessStatusKib(pid_t pid, const std::string& field) {
  std::string value =
      ProcField(Slurp(absl::StrCat("/proc/", pid, "/status")), field);
  int64_t kib = -1;
  absl::string_view number = value;
  absl::ConsumeSuffix(&number, " kB");
  if (!absl::SimpleAtoi(number, &kib)) return -1;
  return kib;
}

ProcessIo ProcessIoCounters(pid_t pid) {
  const std::string text = Slurp(absl::StrCat("/proc/", pid, "/io"));
  ProcessIo io;
  int64_t value = 0;
  if (absl::SimpleAtoi(ProcField(text, "rchar"), &value)) io.read_bytes = value;
  if (absl::SimpleAtoi(ProcField(text, "wchar"), &value)) {
    io.written_bytes = value;
  }
  return io;
}

std::string MachineDescription() {
  std::string model = ProcField(Slurp("/proc/cpuinfo"), "model name");
  if (model.empty()) model = "unknown CPU";
  int64_t mem_kib = 0;
  absl::string_view mem = ProcField(Slurp("/proc/meminfo"), "MemTotal");
  absl::ConsumeSuffix(&mem, " kB");
  (void)absl::SimpleAtoi(mem, &mem_kib);
  utsname uts{};
  uname(&uts);
  return absl::StrCat(model, ", ", std::thread::hardware_concurrency(),
                      " logical CPUs, ", (mem_kib + 512 * 1024) / (1024 * 1024),
                      " GiB, Linux ", uts.release);
}

}  // namespace ruta::bench
