#include "report.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"

namespace ruta::bench {
namespace {

using google::protobuf::ListValue;
using google::protobuf::Struct;
using google::protobuf::Value;

// Three significant digits, thousands as "k", no exponent.
std::string Human(double v) {
  const double a = std::fabs(v);
  if (a >= 1e6) return absl::StrFormat("%.2f M", v / 1e6);
  if (a >= 1e4) return absl::StrFormat("%.1f k", v / 1e3);
  if (a >= 1e3) return absl::StrFormat("%.2f k", v / 1e3);
  if (a >= 100) return absl::StrFormat("%.0f", v);
  if (a >= 10) return absl::StrFormat("%.1f", v);
  return absl::StrFormat("%.2f", v);
}

std::string Percent(double ratio) {
  return absl::StrFormat("%.0f %%", ratio * 100);
}

std::string Factor(double ratio) { return absl::StrFormat("%.2f×", ratio); }

// "median (min–max)", or just the value for a single run.
std::string Cell(const std::vector<double>& values,
                 std::string (*format)(double)) {
  if (values.empty()) return "";
  const Spread s = SpreadOf(values);
  if (values.size() == 1) return format(s.median);
  return absl::StrCat(format(s.median), " (", format(s.min), "–", format(s.max),
                      ")");
}

Value Number(double v) {
  Value value;
  value.set_number_value(std::isfinite(v) ? v : 0);
  return value;
}
Value Text(const std::string& s) {
  Value value;
  value.set_string_value(s);
  return value;
}
Value Null() {
  Value value;
  value.set_null_value(google::protobuf::NULL_VALUE);
  return value;
}

Value SpreadValue(const std::vector<double>& values) {
  if (values.empty()) return Null();
  const Spread s = SpreadOf(values);
  Value value;
  Struct* fields = value.mutable_struct_value();
  (*fields->mutable_fields())["median"] = Number(s.median);
  (*fields->mutable_fields())["min"] = Number(s.min);
  (*fields->mutable_fields())["max"] = Number(s.max);
  ListValue* runs = (*fields->mutable_fields())["runs"].mutable_list_value();
  for (double v : values) *runs->add_values() = Number(v);
  return value;
}

const Value* Field(const Struct& s, const std::string& name) {
  auto it = s.fields().find(name);
  return it == s.fields().end() ? nullptr : &it->second;
}

bool IsText(const Value* v) {
  return v != nullptr && v->kind_case() == Value::kStringValue &&
         !v->string_value().empty();
}

// The "median" of a spread value; NaN when absent.
double Median(const Value* v) {
  if (v == nullptr || v->kind_case() != Value::kStructValue) return NAN;
  const Value* m = Field(v->struct_value(), "median");
  if (m == nullptr || m->kind_case() != Value::kNumberValue) return NAN;
  return m->number_value();
}

}  // namespace

Spread SpreadOf(std::vector<double> values) {
  Spread s;
  if (values.empty()) return s;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  s.median =
      n % 2 == 1 ? values[n / 2] : (values[n / 2 - 1] + values[n / 2]) / 2;
  s.min = values.front();
  s.max = values.back();
  return s;
}

std::vector<double> Ratios(const Row& row) {
  std::vector<double> ratios;
  for (size_t i = 0; i < row.ruta.size() && i < row.baseline.size(); ++i) {
    if (row.baseline[i] > 0) ratios.push_back(row.ruta[i] / row.baseline[i]);
  }
  return ratios;
}

std::string Verdict(const Row& row) {
  if (!row.error.empty()) return absl::StrCat("failed: ", row.error);
  if (!row.pending.empty()) return "pending";
  if (!row.skipped.empty()) return "skipped";
  switch (row.budget_kind) {
    case BudgetKind::kNone:
      return "—";
    case BudgetKind::kRatioAtLeast: {
      const std::vector<double> ratios = Ratios(row);
      if (ratios.empty()) return "failed: no figure";
      const double r = SpreadOf(ratios).median;
      if (r >= row.budget_value) return "met";
      return absl::StrFormat("missed by %.0f pts (%.0f %% < %.0f %%)",
                             (row.budget_value - r) * 100, r * 100,
                             row.budget_value * 100);
    }
    case BudgetKind::kBelow: {
      if (row.ruta.empty()) return "failed: no figure";
      const double v = SpreadOf(row.ruta).median;
      if (v < row.budget_value) return "met";
      return absl::StrCat("missed by ", Human(v - row.budget_value), " ",
                          row.unit, " (", Human(v), " ≥ ",
                          Human(row.budget_value), ")");
    }
  }
  return "—";
}

std::string FormatTable(const Report& report) {
  std::string out = absl::StrCat(
      "ruta-bench: ", report.date, "\n", "machine: ", report.machine, "\n",
      "command: ", report.command, "\n",
      absl::StrFormat("%d run(s) of %.3g s per workload after %.3g s warm-up; "
                      "%d calls in flight over %d channels; each figure is "
                      "the median of the runs (min–max); ratios are taken "
                      "within each run\n",
                      report.runs, report.duration_seconds,
                      report.warmup_seconds, report.in_flight, report.channels),
      report.payload_note, "\n\n",
      "| workload | ruta | baseline | ratio | budget | verdict |\n",
      "|---|---|---|---|---|---|\n");
  for (const Row& row : report.rows) {
    std::string ruta = !row.pending.empty()   ? row.pending
                       : !row.skipped.empty() ? row.skipped
                                              : Cell(row.ruta, Human);
    std::string baseline = Cell(row.baseline, Human);
    if (!baseline.empty() && !row.baseline_name.empty()) {
      baseline = absl::StrCat(baseline, " ", row.baseline_name);
    }
    const std::vector<double> ratios = Ratios(row);
    const std::string ratio =
        Cell(ratios, row.ratio_as_percent ? Percent : Factor);
    absl::StrAppend(&out, "| ", row.workload, " | ", ruta.empty() ? "—" : ruta,
                    " | ", baseline.empty() ? "—" : baseline, " | ",
                    ratio.empty() ? "—" : ratio, " | ",
                    row.budget.empty() ? "—" : row.budget, " | ", Verdict(row),
                    " |\n");
  }
  return out;
}

std::string FormatJson(const Report& report) {
  Struct root;
  Struct* meta = (*root.mutable_fields())["meta"].mutable_struct_value();
  (*meta->mutable_fields())["date"] = Text(report.date);
  (*meta->mutable_fields())["command"] = Text(report.command);
  (*meta->mutable_fields())["machine"] = Text(report.machine);
  (*meta->mutable_fields())["runs"] = Number(report.runs);
  (*meta->mutable_fields())["duration_seconds"] =
      Number(report.duration_seconds);
  (*meta->mutable_fields())["warmup_seconds"] = Number(report.warmup_seconds);
  (*meta->mutable_fields())["in_flight"] = Number(report.in_flight);
  (*meta->mutable_fields())["channels"] = Number(report.channels);
  (*meta->mutable_fields())["payloads"] = Text(report.payload_note);
  ListValue* rows = (*root.mutable_fields())["rows"].mutable_list_value();
  for (const Row& row : report.rows) {
    Struct* r = rows->add_values()->mutable_struct_value();
    auto& f = *r->mutable_fields();
    f["workload"] = Text(row.workload);
    f["unit"] = Text(row.unit);
    f["ruta"] = row.pending.empty() && row.skipped.empty()
                    ? SpreadValue(row.ruta)
                    : Null();
    f["baseline"] = SpreadValue(row.baseline);
    f["baseline_name"] = Text(row.baseline_name);
    f["ratio"] = SpreadValue(Ratios(row));
    f["budget"] = Text(row.budget);
    f["verdict"] = Text(Verdict(row));
    if (!row.pending.empty()) f["pending"] = Text(row.pending);
    if (!row.skipped.empty()) f["skipped"] = Text(row.skipped);
    if (!row.error.empty()) f["error"] = Text(row.error);
  }
  Struct* details = (*root.mutable_fields())["details"].mutable_struct_value();
  for (const auto& [name, values] : report.details) {
    (*details->mutable_fields())[name] = SpreadValue(values);
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  (void)google::protobuf::util::MessageToJsonString(root, &json, options);
  return json;
}

absl::Status CheckJson(const std::string& json, bool require_measured) {
  Struct root;
  const auto parsed = google::protobuf::util::JsonStringToMessage(json, &root);
  if (!parsed.ok()) {
    return absl::InvalidArgumentError(
        absl::StrCat("not JSON: ", parsed.ToString()));
  }
  const Value* meta = Field(root, "meta");
  if (meta == nullptr || meta->kind_case() != Value::kStructValue) {
    return absl::InvalidArgumentError("no \"meta\" object");
  }
  for (const char* name : {"date", "command", "machine"}) {
    if (!IsText(Field(meta->struct_value(), name))) {
      return absl::InvalidArgumentError(
          absl::StrCat("meta.", name, " missing"));
    }
  }
  const Value* runs = Field(meta->struct_value(), "runs");
  if (runs == nullptr || runs->kind_case() != Value::kNumberValue ||
      runs->number_value() < 1) {
    return absl::InvalidArgumentError("meta.runs is not a positive number");
  }
  const Value* rows = Field(root, "rows");
  if (rows == nullptr || rows->kind_case() != Value::kListValue ||
      rows->list_value().values_size() == 0) {
    return absl::InvalidArgumentError("no \"rows\" list");
  }
  int measured = 0;
  for (int i = 0; i < rows->list_value().values_size(); ++i) {
    const Value& v = rows->list_value().values(i);
    if (v.kind_case() != Value::kStructValue) {
      return absl::InvalidArgumentError(
          absl::StrCat("rows[", i, "] not an object"));
    }
    const Struct& row = v.struct_value();
    if (!IsText(Field(row, "workload")) || !IsText(Field(row, "verdict"))) {
      return absl::InvalidArgumentError(
          absl::StrCat("rows[", i, "] lacks workload or verdict"));
    }
    const std::string& workload = Field(row, "workload")->string_value();
    const std::string& verdict = Field(row, "verdict")->string_value();
    const bool judged =
        verdict == "met" || absl::StartsWith(verdict, "missed by ");
    if (verdict == "pending" || verdict == "skipped") {
      if (!IsText(Field(row, verdict))) {
        return absl::InvalidArgumentError(
            absl::StrCat(workload, ": ", verdict, " without a reason"));
      }
      continue;
    }
    if (absl::StartsWith(verdict, "failed")) {
      if (require_measured) {
        return absl::InvalidArgumentError(
            absl::StrCat(workload, ": ", verdict));
      }
      continue;
    }
    if (!judged && verdict != "—") {
      return absl::InvalidArgumentError(
          absl::StrCat(workload, ": unknown verdict \"", verdict, "\""));
    }
    const double ruta = Median(Field(row, "ruta"));
    if (std::isnan(ruta)) {
      return absl::InvalidArgumentError(
          absl::StrCat(workload, ": no ruta figure"));
    }
    if (judged) {
      ++measured;
      if (require_measured && !(ruta > 0)) {
        return absl::InvalidArgumentError(
            absl::StrCat(workload, ": ruta figure is ", ruta));
      }
    }
  }
  if (require_measured && measured == 0) {
    return absl::InvalidArgumentError("no row has a verdict");
  }
  return absl::OkStatus();
}

}  // namespace ruta::bench
