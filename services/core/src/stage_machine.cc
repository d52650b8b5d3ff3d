#include "ruta/core/stage_machine.h"

#include <algorithm>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace ruta::core {
namespace {

constexpr char kCloseHint[] = "CLOSED (with a reason, via CloseCase)";

bool Contains(const std::vector<Stage>& stages, Stage stage) {
  return std::find(stages.begin(), stages.end(), stage) != stages.end();
}

std::string JoinStages(const std::vector<Stage>& stages) {
  return absl::StrJoin(stages, ", ", [](std::string* out, Stage s) {
    out->append(StageName(s));
  });
}

// The allowed next stages an office can act on, CLOSED included, as text.
std::string OfficeAllowedText(CaseKind kind, Stage from) {
  if (!IsOpenStage(from)) return "none (the case is closed)";
  if (from == Stage::kInTransit) {
    return "none while the child is in transit (the receiving region moves "
           "or closes the case once it is received)";
  }
  std::string text = JoinStages(AllowedNextStages(kind, from));
  if (!text.empty()) text += ", ";
  text += kCloseHint;
  return text;
}

std::string LifecycleAllowedText(CaseKind kind, Stage from) {
  std::vector<Stage> next = AllowedLifecycleStages(kind, from);
  if (next.empty()) return "none";
  return JoinStages(next);
}

}  // namespace

bool IsOpenStage(Stage stage) {
  return IsSpecified(stage) && stage != Stage::kClosed;
}

bool IsTransferStage(Stage stage) {
  return stage == Stage::kTransferRequested || stage == Stage::kInTransit ||
         stage == Stage::kReceived;
}

bool IsCareStage(Stage stage) {
  return stage == Stage::kResidentialCare || stage == Stage::kFamilyCare;
}

bool IsStageOfKind(CaseKind kind, Stage stage) {
  if (!IsSpecified(stage)) return false;
  switch (kind) {
    case CaseKind::kVictim:
      return stage != Stage::kPreventionSupport;
    case CaseKind::kPrevention:
      return stage == Stage::kIdentified ||
             stage == Stage::kPreventionSupport || stage == Stage::kFollowUp ||
             stage == Stage::kClosed;
    case CaseKind::kUnspecified:
      break;
  }
  return false;
}

std::vector<Stage> AllowedNextStages(CaseKind kind, Stage from) {
  if (!IsStageOfKind(kind, from)) return {};
  if (kind == CaseKind::kPrevention) {
    switch (from) {
      case Stage::kIdentified:
        return {Stage::kPreventionSupport};
      case Stage::kPreventionSupport:
        return {Stage::kFollowUp};
      default:
        return {};
    }
  }
  switch (from) {
    case Stage::kDetected:
      return {Stage::kIdentified};
    case Stage::kIdentified:
      return {Stage::kImmediateProtection};
    case Stage::kImmediateProtection:
      return {Stage::kResidentialCare, Stage::kFamilyCare};
    case Stage::kResidentialCare:
      return {Stage::kFamilyCare, Stage::kReintegrationPlan};
    case Stage::kFamilyCare:
      return {Stage::kResidentialCare, Stage::kReintegrationPlan};
    case Stage::kReceived:
      return {Stage::kReintegrationPlan};
    case Stage::kReintegrationPlan:
      return {Stage::kFollowUp};
    default:
      // TRANSFER_REQUESTED and IN_TRANSIT move on by the transfer lifecycle;
      // FOLLOW_UP only closes; CLOSED is final.
      return {};
  }
}

std::vector<Stage> AllowedLifecycleStages(CaseKind kind, Stage from) {
  if (kind != CaseKind::kVictim || !IsStageOfKind(kind, from)) return {};
  switch (from) {
    case Stage::kResidentialCare:
    case Stage::kFamilyCare:
      return {Stage::kTransferRequested};
    case Stage::kTransferRequested:
      // Departure, or back to care when rejected or cancelled.
      return {Stage::kInTransit, Stage::kResidentialCare, Stage::kFamilyCare};
    case Stage::kInTransit:
      return {Stage::kReceived};
    default:
      return {};
  }
}

absl::Status CheckTransition(CaseKind kind, Stage from, Stage to,
                             TransitionSource source) {
  if (!IsSpecified(kind)) {
    return absl::InvalidArgumentError("case kind must be VICTIM or PREVENTION");
  }
  if (!IsSpecified(from)) {
    return absl::InvalidArgumentError(
        "the current stage of the case is unspecified");
  }
  if (!IsSpecified(to)) {
    return absl::InvalidArgumentError(
        "the target stage must be specified (not STAGE_UNSPECIFIED)");
  }
  if (!IsStageOfKind(kind, from)) {
    return absl::FailedPreconditionError(
        absl::StrCat("a ", CaseKindName(kind), " case cannot be in stage ",
                     StageName(from), "; allowed next stages: none"));
  }
  const std::string move =
      absl::StrCat("from ", StageName(from), " to ", StageName(to));

  if (source == TransitionSource::kTransferLifecycle) {
    if (Contains(AllowedLifecycleStages(kind, from), to)) {
      return absl::OkStatus();
    }
    std::string why;
    if (kind == CaseKind::kPrevention) {
      why = ": PREVENTION cases never leave their region";
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the transfer lifecycle cannot move case ", move, why,
                     "; allowed next stages by the transfer lifecycle: ",
                     LifecycleAllowedText(kind, from)));
  }

  // An office (UpdateStage / CloseCase). Not while IN_TRANSIT: custody may
  // move to the receiver at any moment, and a change the sender authored
  // then would reach a region where the sender no longer owns the case.
  if (to == Stage::kClosed && IsOpenStage(from) && from != Stage::kInTransit) {
    return absl::OkStatus();
  }
  if (Contains(AllowedNextStages(kind, from), to)) return absl::OkStatus();

  std::string why;
  if (!IsOpenStage(from)) {
    why = ": the case is closed";
  } else if (IsTransferStage(to)) {
    why =
        ": TRANSFER_REQUESTED, IN_TRANSIT and RECEIVED are set by the "
        "transfer lifecycle (RequestTransfer, DepartTransfer, "
        "ReceiveTransfer), never by UpdateStage";
  } else if (from == Stage::kTransferRequested || from == Stage::kInTransit) {
    why =
        ": a case in transfer moves on by the transfer lifecycle "
        "(AcceptTransfer, RejectTransfer, CancelTransfer, DepartTransfer, "
        "ReceiveTransfer)";
  } else if (from == to) {
    why = ": the case is already in that stage";
  } else if (kind == CaseKind::kPrevention &&
             !IsStageOfKind(CaseKind::kPrevention, to)) {
    why =
        ": PREVENTION cases go IDENTIFIED -> PREVENTION_SUPPORT -> "
        "FOLLOW_UP -> CLOSED";
  }
  return absl::FailedPreconditionError(
      absl::StrCat("cannot move case ", move, why,
                   "; allowed next stages: ", OfficeAllowedText(kind, from)));
}

}  // namespace ruta::core
