// CaseOffice: the adapter of the case office's domain operations. Every call
// is audited (AuditedCall): successful mutations by core, in their own
// transaction; everything else here.
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "grpcpp/grpcpp.h"
#include "reactors.h"
#include "ruta/api/conversions.h"
#include "ruta/api/services.h"
#include "ruta/core/activity_service.h"
#include "ruta/core/ids.h"
#include "ruta/v1/case_office.grpc.pb.h"
#include "transfer_watch.h"

namespace ruta::api {
namespace {

using internal::AuditedCall;
using internal::FinishAudited;

class CaseOfficeService final : public v1::CaseOffice::CallbackService {
 public:
  CaseOfficeService(const Authorizer* authorizer, core::CaseService* cases,
                    const TransferServices& transfers, core::AuditLog* audit,
                    core::ActivityService* activities)
      : authorizer_(authorizer),
        cases_(cases),
        transfers_(transfers.transfers),
        changes_(transfers.changes),
        audit_(audit),
        activities_(activities) {}

  grpc::ServerUnaryReactor* OpenCase(grpc::CallbackServerContext* ctx,
                                     const v1::OpenCaseRequest* request,
                                     v1::OpenCaseResponse* response) override {
    // The request's identifiers are never part of the record.
    AuditedCall call(audit_, "CaseOffice.OpenCase");
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
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
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
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
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
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
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
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
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
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
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
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

  // --- Transfers and services -------------------------------------------

  // A mutation of TransferService: admit, convert, call, convert back.
  template <typename Request, typename Command, typename Result,
            typename Response>
  grpc::ServerUnaryReactor* Mutate(
      grpc::CallbackServerContext* ctx, const char* method,
      const Request& request, Response* response,
      void (core::TransferService::*op)(
          const core::Actor&, Command,
          std::function<void(absl::StatusOr<Result>)>),
      void (*to_proto)(const Result&, Response*)) {
    AuditedCall call(audit_, method);
    call.SetSubjectFrom(request);
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor = call.Admit(*authorizer_, *ctx, request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<Command> command = FromProto(request);
    if (!command.ok()) return FinishAudited(ctx, call, command.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    (transfers_->*op)(
        *actor, *std::move(command),
        [reactor, response, call, to_proto](absl::StatusOr<Result> result) {
          if (result.ok()) to_proto(*result, response);
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  template <typename Response>
  static void TransferTo(const core::Transfer& t, Response* response) {
    ToProto(t, response->mutable_transfer());
  }
  template <typename Response>
  static void ServiceTo(const core::ServiceRecord& s, Response* response) {
    ToProto(s, response->mutable_service());
  }

  grpc::ServerUnaryReactor* RequestTransfer(
      grpc::CallbackServerContext* ctx,
      const v1::RequestTransferRequest* request,
      v1::RequestTransferResponse* response) override {
    return Mutate(ctx, "CaseOffice.RequestTransfer", *request, response,
                  &core::TransferService::RequestTransfer,
                  &TransferTo<v1::RequestTransferResponse>);
  }
  grpc::ServerUnaryReactor* AcceptTransfer(
      grpc::CallbackServerContext* ctx,
      const v1::AcceptTransferRequest* request,
      v1::AcceptTransferResponse* response) override {
    return Mutate(ctx, "CaseOffice.AcceptTransfer", *request, response,
                  &core::TransferService::AcceptTransfer,
                  &TransferTo<v1::AcceptTransferResponse>);
  }
  grpc::ServerUnaryReactor* RejectTransfer(
      grpc::CallbackServerContext* ctx,
      const v1::RejectTransferRequest* request,
      v1::RejectTransferResponse* response) override {
    return Mutate(ctx, "CaseOffice.RejectTransfer", *request, response,
                  &core::TransferService::RejectTransfer,
                  &TransferTo<v1::RejectTransferResponse>);
  }
  grpc::ServerUnaryReactor* DepartTransfer(
      grpc::CallbackServerContext* ctx,
      const v1::DepartTransferRequest* request,
      v1::DepartTransferResponse* response) override {
    return Mutate(ctx, "CaseOffice.DepartTransfer", *request, response,
                  &core::TransferService::DepartTransfer,
                  &TransferTo<v1::DepartTransferResponse>);
  }
  grpc::ServerUnaryReactor* ReceiveTransfer(
      grpc::CallbackServerContext* ctx,
      const v1::ReceiveTransferRequest* request,
      v1::ReceiveTransferResponse* response) override {
    return Mutate(ctx, "CaseOffice.ReceiveTransfer", *request, response,
                  &core::TransferService::ReceiveTransfer,
                  &TransferTo<v1::ReceiveTransferResponse>);
  }
  grpc::ServerUnaryReactor* CancelTransfer(
      grpc::CallbackServerContext* ctx,
      const v1::CancelTransferRequest* request,
      v1::CancelTransferResponse* response) override {
    return Mutate(ctx, "CaseOffice.CancelTransfer", *request, response,
                  &core::TransferService::CancelTransfer,
                  &TransferTo<v1::CancelTransferResponse>);
  }
  grpc::ServerUnaryReactor* AddService(
      grpc::CallbackServerContext* ctx, const v1::AddServiceRequest* request,
      v1::AddServiceResponse* response) override {
    return Mutate(ctx, "CaseOffice.AddService", *request, response,
                  &core::TransferService::AddService,
                  &ServiceTo<v1::AddServiceResponse>);
  }
  grpc::ServerUnaryReactor* UpdateService(
      grpc::CallbackServerContext* ctx, const v1::UpdateServiceRequest* request,
      v1::UpdateServiceResponse* response) override {
    return Mutate(ctx, "CaseOffice.UpdateService", *request, response,
                  &core::TransferService::UpdateService,
                  &ServiceTo<v1::UpdateServiceResponse>);
  }

  grpc::ServerUnaryReactor* GetTransfer(
      grpc::CallbackServerContext* ctx, const v1::GetTransferRequest* request,
      v1::GetTransferResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.GetTransfer");
    call.SetSubjectFrom(*request);
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    transfers_->GetTransfer(
        *actor, request->transfer_id(),
        [reactor, response, call](absl::StatusOr<core::Transfer> result) {
          if (result.ok()) ToProto(*result, response->mutable_transfer());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListTransfers(
      grpc::CallbackServerContext* ctx, const v1::ListTransfersRequest* request,
      v1::ListTransfersResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.ListTransfers");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    absl::StatusOr<core::ListTransfersQuery> query = FromProto(*request);
    if (!query.ok()) return FinishAudited(ctx, call, query.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    transfers_->ListTransfers(
        *actor, *std::move(query),
        [reactor, response, call](absl::StatusOr<core::TransferList> result) {
          if (result.ok()) {
            for (const core::Transfer& t : result->transfers) {
              ToProto(t, response->add_transfers());
            }
            response->set_next_page_token(result->next_page_token);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListServices(
      grpc::CallbackServerContext* ctx, const v1::ListServicesRequest* request,
      v1::ListServicesResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.ListServices");
    call.SetSubjectFrom(*request);
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    transfers_->ListServices(
        *actor, request->case_id(), request->page_size(), request->page_token(),
        [reactor, response, call](absl::StatusOr<core::ServiceList> result) {
          if (result.ok()) {
            for (const core::ServiceRecord& s : result->services) {
              ToProto(s, response->add_services());
            }
            response->set_next_page_token(result->next_page_token);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerWriteReactor<v1::WatchTransfersResponse>* WatchTransfers(
      grpc::CallbackServerContext* ctx,
      const v1::WatchTransfersRequest* request) override {
    AuditedCall call(audit_, "CaseOffice.WatchTransfers");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) {
      return new internal::FinishedWriter<v1::WatchTransfersResponse>(
          call.Finish(actor.status()));
    }
    int64_t after = -1;
    if (!request->cursor().empty()) {
      absl::StatusOr<std::string> decoded =
          core::DecodePageToken(request->cursor());
      if (!decoded.ok() || !absl::SimpleAtoi(*decoded, &after) || after < 0) {
        return new internal::FinishedWriter<v1::WatchTransfersResponse>(
            call.Finish(absl::InvalidArgumentError(
                "cursor is not a cursor this node issued; pass the cursor of "
                "the last update received unchanged, or none to start with "
                "the open transfers")));
      }
    }
    // The stream's opening is what is audited.
    (void)call.Finish(absl::OkStatus());
    return new internal::TransferWatch(transfers_, changes_, *actor, after);
  }

  grpc::ServerUnaryReactor* ReferCase(
      grpc::CallbackServerContext* ctx, const v1::ReferCaseRequest* request,
      v1::ReferCaseResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.ReferCase");
    call.SetSubjectFrom(*request);
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    core::ReferCaseCommand command;
    command.request_id = request->request_id();
    command.case_id = request->case_id();
    command.partner_id = request->partner_id();
    command.withdraw = request->withdraw();
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    cases_->ReferCase(
        *actor, std::move(command),
        [reactor, response, call](absl::StatusOr<core::Case> result) {
          if (result.ok()) ToProto(*result, response->mutable_case_());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  // --- Activities (DESIGN.md section 4) ---------------------------------

  grpc::ServerUnaryReactor* RecordActivity(
      grpc::CallbackServerContext* ctx,
      const v1::RecordActivityRequest* request,
      v1::RecordActivityResponse* response) override {
    // The campaign is free text: the firewall (Admit) refuses identifiers.
    AuditedCall call(audit_, "CaseOffice.RecordActivity");
    call.set_success_recorded_by_core();
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (activities_ == nullptr) {
      return FinishAudited(ctx, call, NoActivities("RecordActivity"));
    }
    absl::StatusOr<core::RecordActivityCommand> command = FromProto(*request);
    if (!command.ok()) return FinishAudited(ctx, call, command.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    activities_->RecordActivity(
        *actor, *std::move(command),
        [reactor, response, call](absl::StatusOr<core::Activity> result) {
          if (result.ok()) ToProto(*result, response->mutable_activity());
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

  grpc::ServerUnaryReactor* ListActivities(
      grpc::CallbackServerContext* ctx,
      const v1::ListActivitiesRequest* request,
      v1::ListActivitiesResponse* response) override {
    AuditedCall call(audit_, "CaseOffice.ListActivities");
    absl::StatusOr<core::Actor> actor =
        call.Admit(*authorizer_, *ctx, *request);
    if (!actor.ok()) return FinishAudited(ctx, call, actor.status());
    if (activities_ == nullptr) {
      return FinishAudited(ctx, call, NoActivities("ListActivities"));
    }
    absl::StatusOr<core::ListActivitiesQuery> query = FromProto(*request);
    if (!query.ok()) return FinishAudited(ctx, call, query.status());
    grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
    activities_->ListActivities(
        *actor, *std::move(query),
        [reactor, response, call](absl::StatusOr<core::ActivityList> result) {
          if (result.ok()) {
            for (const core::Activity& a : result->activities) {
              ToProto(a, response->add_activities());
            }
            response->set_next_page_token(result->next_page_token);
          }
          reactor->Finish(call.Finish(result.status()));
        });
    return reactor;
  }

 private:
  static absl::Status NoActivities(const char* method) {
    return absl::UnimplementedError(
        absl::StrCat("CaseOffice.", method,
                     " is not available on this node (no activity service)"));
  }

  const Authorizer* const authorizer_;
  core::CaseService* const cases_;
  core::TransferService* const transfers_;
  core::ChangeNotifier* const changes_;
  core::AuditLog* const audit_;
  core::ActivityService* const activities_;  // null: activities unavailable
};

}  // namespace

std::unique_ptr<grpc::Service> NewCaseOfficeService(
    const Authorizer* authorizer, core::CaseService* cases,
    const TransferServices& transfers, const AuditServices& audit,
    core::ActivityService* activities) {
  return std::make_unique<CaseOfficeService>(authorizer, cases, transfers,
                                             audit.log, activities);
}

}  // namespace ruta::api
