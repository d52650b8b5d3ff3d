// The results of `ruta-bench run`: one row per figure, each with its value
// in every run, printed as a Markdown table and written as JSON.
#ifndef RUTA_BENCH_LOADGEN_REPORT_H_
#define RUTA_BENCH_LOADGEN_REPORT_H_

#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"

namespace ruta::bench {

enum class BudgetKind {
  kNone,          // a figure for context: no verdict
  kRatioAtLeast,  // ruta / baseline (same run) >= value
  kBelow,         // ruta (absolute, in the row's unit) < value
};

struct Row {
  std::string workload;  // what was measured, with its unit
  std::string unit;      // "calls/s", "ms", "µs", "MiB", "msgs/s"
  // One value per run (empty: not measured, e.g. pending).
  std::vector<double> ruta;
  std::vector<double> baseline;
  std::string baseline_name;  // e.g. "bare mTLS unary echo"
  BudgetKind budget_kind = BudgetKind::kNone;
  double budget_value = 0;
  std::string budget;  // as printed, e.g. "≥ 60 %"
  // Non-empty: the ruta side cannot be measured yet ("<capability> not
  // built"); the verdict is "pending".
  std::string pending;
  // Non-empty: not measured in this invocation on purpose (e.g. "skipped
  // (--skip-catch-up)"); the verdict is "skipped".
  std::string skipped;
  // Non-empty: the measurement failed (calls failed); the verdict says so.
  std::string error;
  // The ratio is printed as a percentage (throughput) rather than a factor.
  bool ratio_as_percent = false;
};

struct Report {
  std::string date;     // UTC, RFC 3339
  std::string command;  // as invoked
  std::string machine;
  int runs = 0;
  double duration_seconds = 0;
  double warmup_seconds = 0;
  int in_flight = 0;
  int channels = 0;
  // Serialized sizes of the mirrored messages, for the reader.
  std::string payload_note;
  std::vector<Row> rows;
  // Figures behind the rows (e.g. each dashboard table's latencies), one
  // value per run: in the JSON only, under "details".
  std::vector<std::pair<std::string, std::vector<double>>> details;
};

// median, min, max of `values` (all 0 when empty).
struct Spread {
  double median = 0;
  double min = 0;
  double max = 0;
};
Spread SpreadOf(std::vector<double> values);

// Per-run ratios ruta[i] / baseline[i] (runs where both exist).
std::vector<double> Ratios(const Row& row);

// "met", "missed by ...", "pending", "skipped", "failed: ..." or "—" (no
// budget).
std::string Verdict(const Row& row);

// The report as a Markdown table (with a short header).
std::string FormatTable(const Report& report);

// The report as JSON (google.protobuf.Struct printing).
std::string FormatJson(const Report& report);

// Checks that `json` is a well-formed report: parses as JSON, has the
// meta fields and a non-empty rows list whose rows each have a workload, a
// verdict, and numeric figures where a verdict needs them. With
// `require_measured`, also that the measured workloads produced non-zero
// figures (what the smoke test asserts).
absl::Status CheckJson(const std::string& json, bool require_measured);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_REPORT_H_
