#include "dashboard_data.h"

#include <random>
#include <string_view>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ruta/core/aggregates.h"
#include "ruta/core/domain.h"
#include "ruta/core/transfer.h"

namespace ruta::bench {
namespace {

std::vector<std::string> Provinces(const std::string& department) {
  std::vector<std::string> out;
  for (int p = 1; p <= 13; ++p) {
    out.push_back(absl::StrCat(department, p < 10 ? "0" : "", p));
  }
  return out;
}

}  // namespace

absl::Status AddDashboardCounters(store::WriteTxn& txn,
                                  const std::string& region, int64_t cases,
                                  uint64_t seed, int64_t* keys) {
  std::mt19937_64 random(seed);
  auto add = [&](std::string_view table, const std::string& key, int64_t v) {
    if (keys != nullptr) ++*keys;
    return txn.AddToAggregate(std::string(table), key, v);
  };
  const std::vector<std::string> provinces =
      Provinces(region == "cusco" ? "08" : "17");
  const int64_t per_cell_base = cases / kDashboardQuarters;  // per quarter
  for (int q = 0; q < kDashboardQuarters; ++q) {
    const std::string head = absl::StrCat(
        region, "|", kDashboardFirstYear + q / 4, "Q", q % 4 + 1, "|");
    auto share = [&](int n) {
      return static_cast<int64_t>(per_cell_base / n +
                                  random() % 7);  // some below k
    };
    for (int v = 1; v <= 12; ++v) {
      absl::Status st = add(core::kCasesByStageTable,
                            absl::StrCat(head, core::StageName(core::Stage(v))),
                            v % 5 == 0 ? 3 : share(12));
      if (!st.ok()) return st;
    }
    for (int a = 1; a <= 5; ++a) {
      for (int x = 1; x <= 3; ++x) {
        absl::Status st =
            add(core::kCasesByAgeSexTable,
                absl::StrCat(head, core::AgeBandName(core::AgeBand(a)), "|",
                             core::SexName(core::Sex(x))),
                x == 3 ? 4 : share(10));
        if (!st.ok()) return st;
      }
    }
    for (int f = 1; f <= 5; ++f) {
      absl::Status st =
          add(core::kCasesByExploitationFormTable,
              absl::StrCat(
                  head, core::ExploitationFormName(core::ExploitationForm(f))),
              share(4));
      if (!st.ok()) return st;
    }
    for (const std::string& p : provinces) {
      absl::Status st = add(core::kCasesByOriginProvinceTable,
                            absl::StrCat(head, p), share(13));
      if (!st.ok()) return st;
    }
    for (int t = 1; t <= 6; ++t) {
      absl::Status st = add(
          core::kTransfersByStateTable,
          absl::StrCat(head, core::TransferStateName(core::TransferState(t))),
          share(60));
      if (!st.ok()) return st;
    }
    for (const char* measure : {"ACCEPTANCE", "ARRIVAL"}) {
      for (int d = 0; d <= 365; ++d) {
        absl::Status st =
            add(core::kTransferTimesTable, absl::StrCat(head, measure, "|", d),
                1 + random() % 20);
        if (!st.ok()) return st;
      }
    }
    for (int t = 1; t <= 8; ++t) {
      for (int x = 1; x <= 4; ++x) {
        absl::Status st = add(
            core::kServicesByTypeStatusTable,
            absl::StrCat(head, core::ServiceTypeName(core::ServiceType(t)), "|",
                         core::ServiceStatusName(core::ServiceStatus(x))),
            share(16));
        if (!st.ok()) return st;
      }
      absl::Status st =
          add(core::kAlternativeMeasuresTable,
              absl::StrCat(head, core::ServiceTypeName(core::ServiceType(t))),
              share(40));
      if (!st.ok()) return st;
    }
    for (int r = 1; r <= 6; ++r) {
      absl::Status st =
          add(core::kClosuresByReasonTable,
              absl::StrCat(head, core::ClosedReasonName(core::ClosedReason(r))),
              share(8));
      if (!st.ok()) return st;
    }
    for (int a = 1; a <= 5; ++a) {
      absl::Status st = add(
          core::kRevictimizationsTable,
          absl::StrCat(head, core::AgeBandName(core::AgeBand(a))), share(50));
      if (!st.ok()) return st;
    }
    for (const std::string& p : provinces) {
      for (int c = 0; c < 5; ++c) {
        const std::string key = absl::StrCat(
            head, p, "|campana-", std::string(1, static_cast<char>('a' + c)));
        absl::Status st =
            add("awareness_people_reached", key, 100 + random() % 900);
        if (!st.ok()) return st;
        st = add("awareness_activities", key, 1 + random() % 9);
        if (!st.ok()) return st;
      }
      for (const char* level : {"COMMUNITY", "LOCAL", "REGIONAL"}) {
        absl::Status st =
            add("authority_members_trained", absl::StrCat(head, level, "|", p),
                5 + random() % 40);
        if (!st.ok()) return st;
      }
    }
  }
  return absl::OkStatus();
}

}  // namespace ruta::bench
