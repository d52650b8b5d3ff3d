// The stage transition table of DESIGN.md §4.
#ifndef RUTA_CORE_STAGE_MACHINE_H_
#define RUTA_CORE_STAGE_MACHINE_H_

#include <vector>

#include "absl/status/status.h"
#include "ruta/core/domain.h"

namespace ruta::core {

// Who causes a transition. Transfer stages (TRANSFER_REQUESTED, IN_TRANSIT,
// RECEIVED) are set only by the transfer lifecycle, never by UpdateStage.
enum class TransitionSource { kOffice, kTransferLifecycle };

// Stages an office may move a case of `kind` to from `from` with UpdateStage
// (CLOSED excluded: that is CloseCase). Empty for closed cases.
std::vector<Stage> AllowedNextStages(CaseKind kind, Stage from);

// OK when `from -> to` is allowed for `kind` and `source`. Otherwise
// FAILED_PRECONDITION whose message names the current stage and the allowed
// next stages, e.g. "cannot move case from DETECTED to FOLLOW_UP; allowed
// next stages: IDENTIFIED, CLOSED". INVALID_ARGUMENT for kUnspecified.
// An office may close a case from any open stage but IN_TRANSIT: custody may
// move to the receiving region at any moment then, and a closure authored by
// the sender would reach a region where the sender no longer owns the case
// (its federation stream would refuse it and stop).
absl::Status CheckTransition(CaseKind kind, Stage from, Stage to,
                             TransitionSource source);

// Whether a case in `stage` is still open (any stage but CLOSED).
bool IsOpenStage(Stage stage);

// Stages the transfer lifecycle may move a case of `kind` to from `from`:
// a care stage -> TRANSFER_REQUESTED -> IN_TRANSIT -> RECEIVED, and
// TRANSFER_REQUESTED -> a care stage (rejected or cancelled transfer). Empty
// for prevention cases, which never leave their region.
std::vector<Stage> AllowedLifecycleStages(CaseKind kind, Stage from);

// TRANSFER_REQUESTED, IN_TRANSIT, RECEIVED.
bool IsTransferStage(Stage stage);
// RESIDENTIAL_CARE, FAMILY_CARE: the stages a transfer starts from.
bool IsCareStage(Stage stage);
// Whether a case of `kind` can ever be in `stage` (PREVENTION cases: only
// IDENTIFIED, PREVENTION_SUPPORT, FOLLOW_UP, CLOSED; VICTIM cases: every
// stage but PREVENTION_SUPPORT).
bool IsStageOfKind(CaseKind kind, Stage stage);

}  // namespace ruta::core

#endif  // RUTA_CORE_STAGE_MACHINE_H_
