// Dashboard: the mayors' network tables (DESIGN.md §6), for callers with a
// dashboard certificate. Every call is audited (reactors.h).
//
// GetTable reads this node's own counters (store reader thread) and the
// peers' (PeerCounts: asynchronous calls with a deadline, cached), merges
// them, and releases the table under disclosure control with the configured
// threshold (core/dashboard.h); the reactor is finished from whichever of
// the two completes last, never blocked.
#include <algorithm>
#include <memory>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/util/time_util.h"
#include "reactors.h"
#include "ruta/api/services.h"
#include "ruta/core/dashboard.h"
#include "ruta/v1/dashboard.grpc.pb.h"

namespace ruta::api {
namespace {

using google::protobuf::util::TimeUtil;
using internal::AuditedCall;
using internal::FinishAudited;

void ToProto(const core::DashboardTable& table, v1::GetTableResponse* out) {
  out->set_table(table.table);
  for (const std::string& d : table.dimensions) out->add_dimensions(d);
  out->set_column_dimension(table.column_dimension);
  for (const std::string& c : table.columns) out->add_columns(c);
  for (const core::DashboardRow& row : table.rows) {
    v1::Row* r = out->add_rows();
    for (const std::string& label : row.labels) r->add_labels(label);
    for (const core::DashboardCell& cell : row.cells) {
      v1::Cell* c = r->add_cells();
      switch (cell.kind) {
        case core::DashboardCell::Kind::kCount:
          c->set_count(cell.count);
          break;
        case core::DashboardCell::Kind::kSuppressed:
          c->set_suppressed(true);
          break;
        case core::DashboardCell::Kind::kStatistic:
          c->set_statistic(cell.statistic);
          break;
      }
    }
  }
  out->set_threshold(static_cast<int32_t>(table.threshold));
}

// One GetTable in flight: the own read and the peers' fetch both report
// here; the last one builds the response.
struct TableRequest {
  const core::DashboardTableSpec* spec = nullptr;
  core::QuarterRange range;
  int64_t threshold = 10;
  std::vector<std::string> regions;  // requested, in config order
  std::string own_region;
  bool own_requested = false;
  grpc::ServerUnaryReactor* reactor = nullptr;
  v1::GetTableResponse* response = nullptr;
  AuditedCall call;

  absl::Mutex mu;
  int pending ABSL_GUARDED_BY(mu) = 2;
  absl::Status own_status ABSL_GUARDED_BY(mu);
  core::RegionCounters own ABSL_GUARDED_BY(mu);
  std::vector<PeerPart> peers ABSL_GUARDED_BY(mu);

  explicit TableRequest(AuditedCall c) : call(std::move(c)) {}

  void Done() {
    {
      absl::MutexLock lock(&mu);
      if (--pending > 0) return;
    }
    absl::MutexLock lock(&mu);
    if (!own_status.ok()) {
      reactor->Finish(call.Finish(own_status));
      return;
    }
    std::vector<const core::RegionCounters*> included;
    std::vector<std::string> included_regions;
    for (const std::string& region : regions) {
      if (region == own_region && own_requested) {
        included.push_back(&own);
        included_regions.push_back(region);
        continue;
      }
      for (const PeerPart& part : peers) {
        if (part.region == region && part.counters != nullptr) {
          included.push_back(part.counters.get());
          included_regions.push_back(region);
        }
      }
    }
    absl::StatusOr<core::DashboardTable> table =
        core::BuildDashboardTable(*spec, included, range, threshold);
    if (!table.ok()) {
      reactor->Finish(call.Finish(table.status()));
      return;
    }
    ToProto(*table, response);
    for (const std::string& region : included_regions) {
      response->add_regions(region);
    }
    for (const PeerPart& part : peers) {
      v1::PeerFreshness* f = response->add_peers();
      f->set_region(part.region);
      if (part.fetched_at != absl::InfinitePast()) {
        *f->mutable_fetched_at() = TimeUtil::MicrosecondsToTimestamp(
            absl::ToUnixMicros(part.fetched_at));
      }
      f->set_stale(part.stale);
      f->set_missing(part.missing);
    }
    reactor->Finish(call.Finish(absl::OkStatus()));
  }
};

class DashboardService final : public v1::Dashboard::CallbackService {
 public:
  DashboardService(const Authorizer* authorizer, const AuditServices& audit,
                   const DashboardServices& dashboard)
      : authorizer_(authorizer),
        audit_(audit.log),
        store_(audit.store),
        region_(audit.region),
        dashboard_(dashboard) {}

  grpc::ServerUnaryReactor* GetTable(grpc::CallbackServerContext* ctx,
                                     const v1::GetTableRequest* request,
                                     v1::GetTableResponse* response) override {
    AuditedCall call(audit_, "Dashboard.GetTable");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    const core::DashboardTableSpec* spec =
        core::FindDashboardTable(request->table());
    if (spec == nullptr) {
      return FinishAudited(
          ctx, call,
          absl::InvalidArgumentError(absl::StrCat(
              "unknown table \"", request->table(),
              "\"; the tables are: ", core::DashboardTableNames())));
    }
    std::set<std::string> wanted(request->regions().begin(),
                                 request->regions().end());
    for (const std::string& region : wanted) {
      if (std::find(dashboard_.regions.begin(), dashboard_.regions.end(),
                    region) == dashboard_.regions.end()) {
        return FinishAudited(
            ctx, call,
            absl::InvalidArgumentError(absl::StrCat(
                "unknown region \"", region, "\"; the configured regions are: ",
                absl::StrJoin(dashboard_.regions, ", "))));
      }
    }
    if (!request->has_from_quarter() || !request->has_to_quarter()) {
      return FinishAudited(
          ctx, call,
          absl::InvalidArgumentError(
              "from_quarter and to_quarter are required (e.g. 2026Q1 to "
              "2026Q4)"));
    }
    core::QuarterRange range{
        request->from_quarter().year(), request->from_quarter().quarter(),
        request->to_quarter().year(), request->to_quarter().quarter()};
    if (absl::Status s =
            core::ValidateQuarterRange(range, dashboard_.max_quarters);
        !s.ok()) {
      return FinishAudited(ctx, call, s);
    }

    auto state = std::make_shared<TableRequest>(call);
    state->spec = spec;
    state->range = range;
    state->threshold = dashboard_.threshold;
    state->own_region = region_;
    state->reactor = ctx->DefaultReactor();
    state->response = response;
    std::vector<std::string> peer_regions;
    for (const std::string& region : dashboard_.regions) {
      if (!wanted.empty() && wanted.count(region) == 0) continue;
      state->regions.push_back(region);
      if (region == region_) {
        state->own_requested = true;
      } else {
        peer_regions.push_back(region);
      }
    }

    // This node's own counters.
    if (state->own_requested) {
      const absl::Time now = absl::Now();
      store_->Read(
          [state, now,
           stalled = dashboard_.stalled](store::ReadTxn& txn) -> absl::Status {
            absl::StatusOr<core::RegionCounters> read =
                core::ReadRegionCounters(txn, state->own_region,
                                         state->spec->sources, state->range,
                                         now, stalled);
            if (!read.ok()) return read.status();
            absl::MutexLock lock(&state->mu);
            state->own = *std::move(read);
            return absl::OkStatus();
          },
          [state](absl::Status status) {
            {
              absl::MutexLock lock(&state->mu);
              state->own_status = status;
            }
            state->Done();
          });
    } else {
      state->Done();
    }
    // The peers' counters.
    if (dashboard_.peer_counts != nullptr && !peer_regions.empty()) {
      dashboard_.peer_counts->Get(peer_regions, range,
                                  [state](std::vector<PeerPart> parts) {
                                    {
                                      absl::MutexLock lock(&state->mu);
                                      state->peers = std::move(parts);
                                    }
                                    state->Done();
                                  });
    } else {
      {
        absl::MutexLock lock(&state->mu);
        for (const std::string& region : peer_regions) {
          PeerPart part;
          part.region = region;
          part.missing = true;
          state->peers.push_back(std::move(part));
        }
      }
      state->Done();
    }
    return state->reactor;
  }

  grpc::ServerUnaryReactor* ListTables(
      grpc::CallbackServerContext* ctx, const v1::ListTablesRequest* request,
      v1::ListTablesResponse* response) override {
    AuditedCall call(audit_, "Dashboard.ListTables");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    for (const core::DashboardTableSpec& spec : core::DashboardTables()) {
      v1::TableInfo* info = response->add_tables();
      info->set_name(spec.name);
      info->set_title(spec.title);
      for (const std::string& d : spec.dimensions) info->add_dimensions(d);
      if (!spec.column_dimension.empty()) {
        info->add_dimensions(spec.column_dimension);
      }
    }
    return FinishAudited(ctx, call, absl::OkStatus());
  }

 private:
  const Authorizer* const authorizer_;
  core::AuditLog* const audit_;  // every call is recorded (reactors.h)
  store::Store* const store_;
  const std::string region_;
  const DashboardServices dashboard_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewDashboardService(
    const Authorizer* authorizer, const AuditServices& audit,
    const DashboardServices& dashboard) {
  return std::make_unique<DashboardService>(authorizer, audit, dashboard);
}

}  // namespace ruta::api
