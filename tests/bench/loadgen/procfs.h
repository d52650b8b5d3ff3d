// What ruta-bench reads about the server processes from /proc: CPU time (to
// attribute CPU per operation to the server alone, not to the load
// generator sharing the machine) and memory.
#ifndef RUTA_BENCH_LOADGEN_PROCFS_H_
#define RUTA_BENCH_LOADGEN_PROCFS_H_

#include <sys/types.h>

#include <cstdint>
#include <string>

namespace ruta::bench {

// utime + stime of every thread of `pid` in seconds (/proc/<pid>/stat);
// -1 when the process is gone.
double ProcessCpuSeconds(pid_t pid);

// A "Vm*:" line of /proc/<pid>/status in KiB ("VmRSS", "VmHWM"); -1 when
// unreadable.
int64_t ProcessStatusKib(pid_t pid, const std::string& field);

// rchar / wchar of /proc/<pid>/io: bytes the process read and wrote through
// read/write-family system calls (files, pipes, eventfds; gRPC's sockets use
// recvmsg/sendmsg and are not counted), i.e. mostly the store's file I/O.
// -1 when unreadable.
struct ProcessIo {
  int64_t read_bytes = -1;
  int64_t written_bytes = -1;
};
ProcessIo ProcessIoCounters(pid_t pid);

// One line describing the machine: CPU model, logical CPUs, memory, kernel.
std::string MachineDescription();

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_PROCFS_H_
