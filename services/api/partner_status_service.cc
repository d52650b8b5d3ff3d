// PartnerStatus: the adapter of what an NGO partner sees and does
// (core/partner_service.h). Every call is audited (AuditedCall): the
// service-status mutation by core, in its own transaction; everything else
// here. The audit subject is never a case id: a partner names cases by its
// pseudonym only, which is not recorded.
#include "grpcpp/grpcpp.h"
#include "partner_watch.h"
#include "reactors.h"
#include "ruta/api/conversions.h"
#include "ruta/api/services.h"
#include "ruta/v1/partner_status.grpc.pb.h"

namespace ruta::api {
namespace internal {

namespace {
void MonthTo(const core::YearMonth& in, v1::YearMonth* out) {
  out->set_year(in.year);
  out->set_month(in.month);
}

void ServiceTo(const core::ServiceRecord& s, v1::PartnerService* out) {
  out->set_service_id(s.service_id);
  out->set_type(static_cast<v1::ServiceType>(s.type));
  out->set_status(static_cast<v1::ServiceStatus>(s.status));
  if (s.start_month.year != 0)
    MonthTo(s.start_month, out->mutable_start_month());
  if (s.end_month.year != 0) MonthTo(s.end_month, out->mutable_end_month());
}
}  // namespace

void PartnerCaseToProto(const core::PartnerCaseView& view,
                        v1::ReferredCase* out) {
  out->set_partner_case_ref(view.partner_case_ref);
  out->set_stage(static_cast<v1::Stage>(view.stage));
  if (view.referred_month.year != 0) {
    MonthTo(view.referred_month, out->mutable_referred_month());
  }
  for (const core::PartnerStageChange& change : view.timeline) {
    v1::StageChange* entry = out->add_timeline();
    entry->set_stage(static_cast<v1::Stage>(change.stage));
    MonthTo(change.month, entry->mutable_month());
  }
  for (const core::ServiceRecord& s : view.services) {
    ServiceTo(s, out->add_services());
  }
}

}  // namespace internal

namespace {

using internal::AuditedCall;
using internal::FinishAudited;

class PartnerStatusService final : public v1::PartnerStatus::CallbackService {
 public:
  PartnerStatusService(const Authorizer* authorizer,
                       core::PartnerService* partners,
                       core::ChangeNotifier* changes, core::AuditLog* audit)
      : authorizer_(authorizer),
        partners_(partners),
        changes_(changes),
        audit_(audit) {}

  grpc::ServerUnaryReactor* ListReferredCases(
      grpc::CallbackServerContext* ctx,
      const v1::ListReferredCasesRequest* request,
      v1::ListReferredCasesResponse* response) override {
    AuditedCall call(audit_, "PartnerStatus.ListReferredCases");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (partners_ == nullptr) return NotAvailable(ctx, call);
    if (!v1::Stage_IsValid(request->stage())) {
      return FinishAudited(ctx, call,
                           absl::InvalidArgumentError(absl::StrCat(
                               "stage: unknown value ", request->stage())));
    }
    core::PartnerCaseQuery query;
    query.stage = static_cast<core::Stage>(request->stage());
    query.page_size = request->page_size();
    query.page_token = request->page_token();
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    partners_->ListReferredCases(
        *actor, std::move(query),
        [reactor, response,
         call](absl::StatusOr<core::PartnerCaseList> result) {
          if (result.ok()) {
            for (const core::PartnerCaseView& view : result->cases) {
              internal::PartnerCaseToProto(view, response->add_cases());
            }
            response->set_next_page_token(result->next_page_token);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetCaseStatus(
      grpc::CallbackServerContext* ctx, const v1::GetCaseStatusRequest* request,
      v1::GetCaseStatusResponse* response) override {
    AuditedCall call(audit_, "PartnerStatus.GetCaseStatus");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (partners_ == nullptr) return NotAvailable(ctx, call);
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    partners_->GetCaseStatus(
        *actor, request->partner_case_ref(),
        [reactor, response,
         call](absl::StatusOr<core::PartnerCaseView> result) {
          if (result.ok()) {
            internal::PartnerCaseToProto(*result, response->mutable_case_());
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerWriteReactor<v1::WatchReferredCasesResponse>* WatchReferredCases(
      grpc::CallbackServerContext* ctx,
      const v1::WatchReferredCasesRequest* request) override {
    AuditedCall call(audit_, "PartnerStatus.WatchReferredCases");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    absl::Status refused = actor.status();
    if (refused.ok() && partners_ == nullptr) {
      refused = internal::NotYetAvailable(call.method());
    }
    if (refused.ok()) {
      // Refuses a cursor this node did not issue, an unregistered partner,
      // before the stream opens.
      if (absl::StatusOr<std::string> partner =
              partners_->RegisteredPartner(*actor);
          !partner.ok()) {
        refused = partner.status();
      } else if (!request->cursor().empty()) {
        refused = core::DecodeLetterToken(request->cursor(), "cursor").status();
      }
    }
    if (!refused.ok()) {
      return new internal::FinishedWriter<v1::WatchReferredCasesResponse>(
          call.Finish(refused));
    }
    // The stream's opening is what is audited.
    (void)call.Finish(absl::OkStatus());
    return new internal::PartnerWatch(partners_, changes_, *actor,
                                      request->cursor());
  }

  grpc::ServerUnaryReactor* UpdateServiceStatus(
      grpc::CallbackServerContext* ctx,
      const v1::UpdateServiceStatusRequest* request,
      v1::UpdateServiceStatusResponse* response) override {
    AuditedCall call(audit_, "PartnerStatus.UpdateServiceStatus");
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (partners_ == nullptr) return NotAvailable(ctx, call);
    if (!v1::ServiceStatus_IsValid(request->status())) {
      return FinishAudited(ctx, call,
                           absl::InvalidArgumentError(absl::StrCat(
                               "status: unknown value ", request->status())));
    }
    core::PartnerServiceStatusCommand command;
    command.request_id = request->request_id();
    command.partner_case_ref = request->partner_case_ref();
    command.service_id = request->service_id();
    command.status = static_cast<core::ServiceStatus>(request->status());
    command.end_month = core::YearMonth{request->end_month().year(),
                                        request->end_month().month()};
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    partners_->UpdateServiceStatus(
        *actor, std::move(command),
        [reactor, response, call](absl::StatusOr<core::ServiceRecord> result) {
          if (result.ok()) {
            internal::ServiceTo(*result, response->mutable_service());
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

 private:
  static grpc::ServerUnaryReactor* NotAvailable(
      grpc::CallbackServerContext* ctx, const AuditedCall& call) {
    return FinishAudited(ctx, call, internal::NotYetAvailable(call.method()));
  }

  const Authorizer* const authorizer_;
  core::PartnerService* const partners_;
  core::ChangeNotifier* const changes_;
  core::AuditLog* const audit_;  // every call is recorded (reactors.h)
};

}  // namespace

std::unique_ptr<grpc::Service> NewPartnerStatusService(
    const Authorizer* authorizer, core::PartnerService* partners,
    core::ChangeNotifier* changes, const AuditServices& audit) {
  return std::make_unique<PartnerStatusService>(authorizer, partners, changes,
                                                audit.log);
}

}  // namespace ruta::api
