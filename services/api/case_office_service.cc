// CaseOffice: the adapter of the case office's domain operations. Every call
// is audited (AuditedCall): successful mutations by core, in their own
// transaction; everything else here.
#include "grpcpp/grpcpp.h"
#include "reactors.h"
#include "ruta/api/conversions.h"
#include "ruta/api/services.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta::api {
namespace {

using internal::AuditedCall;
using internal::FinishAudited;

class CaseOfficeService final : public v1::CaseOffice::CallbackService {
 public:
  CaseOfficeService(const Authorizer* authorizer, core::CaseService* cases,
                    core::AuditLog* audit)
      : authorizer_(authorizer), cases_(cases), audit_(audit) {}

  grpc::ServerUnaryReactor* OpenCase(grpc::CallbackServerContext* ctx,
                                     const v1::OpenCaseRequest* request,
                                     v1::OpenCaseResponse* response) override {
    // The request's identifiers are never part of the record.
    AuditedCall call(audit_, "CaseOffice.OpenCase");
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<core::OpenCaseCommand> command = FromProto(*request);
    if (!command.ok()) return FinishAudited(ctx, call, command.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->OpenCase(
        *actor, *std::move(command),
        [reactor, response, call](absl::StatusOr<core::Case> result) {
          if (result.ok()) ToProto(*result, response->mutable_case_());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* FindPerson(
      grpc::CallbackServerContext* ctx, const v1::FindPersonRequest* request,
      v1::FindPersonResponse* response) override {
    // A read: no subject, and never the identifiers.
    AuditedCall call(audit_, "CaseOffice.FindPerson");
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<core::IdentityTuple> identity =
        FromProto(request->identifiers());
    if (!identity.ok()) return FinishAudited(ctx, call, identity.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->FindPerson(*actor, *std::move(identity),
                       [reactor, response,
                        call](absl::StatusOr<core::FindPersonResult> result) {
                         if (result.ok()) {
                           response->set_person_ref(result->person_ref);
                           response->set_linked(result->linked);
                           for (const core::Case& c : result->cases) {
                             ToProto(c, response->add_cases());
                           }
                         }
                         reactor->Finish(call.Finish(result.status()));
                       });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetCase(grpc::CallbackServerContext* ctx,
                                    const v1::GetCaseRequest* request,
                                    v1::GetCaseResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.GetCase");
    call.SetSubjectFrom(*request);
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->GetCase(
        *actor, request->case_id(),
        [reactor, response, call](absl::StatusOr<core::Case> result) {
          if (result.ok()) ToProto(*result, response->mutable_case_());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListCases(
      grpc::CallbackServerContext* ctx, const v1::ListCasesRequest* request,
      v1::ListCasesResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.ListCases");
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<core::ListCasesQuery> query = FromProto(*request);
    if (!query.ok()) return FinishAudited(ctx, call, query.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->ListCases(
        *actor, *std::move(query),
        [reactor, response, call](absl::StatusOr<core::CaseList> result) {
          if (result.ok()) {
            for (const core::Case& c : result->cases) {
              ToProto(c, response->add_cases());
            }
            response->set_next_page_token(result->next_page_token);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* UpdateStage(
      grpc::CallbackServerContext* ctx, const v1::UpdateStageRequest* request,
      v1::UpdateStageResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.UpdateStage");
    call.SetSubjectFrom(*request);
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<core::UpdateStageCommand> command = FromProto(*request);
    if (!command.ok()) return FinishAudited(ctx, call, command.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->UpdateStage(
        *actor, *std::move(command),
        [reactor, response, call](absl::StatusOr<core::Case> result) {
          if (result.ok()) ToProto(*result, response->mutable_case_());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* CloseCase(
      grpc::CallbackServerContext* ctx, const v1::CloseCaseRequest* request,
      v1::CloseCaseResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.CloseCase");
    call.SetSubjectFrom(*request);
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor = call.Authorize(*authorizer_, *ctx);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<core::CloseCaseCommand> command = FromProto(*request);
    if (!command.ok()) return FinishAudited(ctx, call, command.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->CloseCase(
        *actor, *std::move(command),
        [reactor, response, call](absl::StatusOr<core::Case> result) {
          if (result.ok()) ToProto(*result, response->mutable_case_());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  // Later capabilities (referrals, transfers, services, activities).
  RUTA_UNARY_NOT_YET(CaseOffice, ReferCase)
  RUTA_UNARY_NOT_YET(CaseOffice, RequestTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, AcceptTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, RejectTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, DepartTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, ReceiveTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, CancelTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, GetTransfer)
  RUTA_UNARY_NOT_YET(CaseOffice, ListTransfers)
  RUTA_STREAM_NOT_YET(CaseOffice, WatchTransfers)
  RUTA_UNARY_NOT_YET(CaseOffice, AddService)
  RUTA_UNARY_NOT_YET(CaseOffice, UpdateService)
  RUTA_UNARY_NOT_YET(CaseOffice, ListServices)
  RUTA_UNARY_NOT_YET(CaseOffice, RecordActivity)
  RUTA_UNARY_NOT_YET(CaseOffice, ListActivities)

 private:
  const Authorizer* const authorizer_;
  core::CaseService* const cases_;
  core::AuditLog* const audit_;
};

}  // namespace

std::unique_ptr<grpc::Service> NewCaseOfficeService(
    const Authorizer* authorizer, core::CaseService* cases,
    const AuditServices& audit) {
  return std::make_unique<CaseOfficeService>(authorizer, cases, audit.log);
}

}  // namespace ruta::api
