// Filling a node before a measurement (never measured itself): cases opened
// and moved to a care stage, and transfers requested, through the node's
// CaseOffice API over mutual TLS with many calls in flight (gRPC callback
// API; each call with a deadline, none blocking a gRPC thread).
#ifndef RUTA_BENCH_LOADGEN_FILL_H_
#define RUTA_BENCH_LOADGEN_FILL_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "ruta/v1/case_office.grpc.pb.h"

namespace ruta::bench {

// A fresh canonical UUID per call (process-wide counter), for request_id.
std::string NextRequestId();

// An OpenCase of a new child (VictimOpenCaseRequest with a DNI of its own:
// a new person every call), at stage IDENTIFIED.
ruta::v1::OpenCaseRequest NewOpenCase();

// RequestTransfer of `case_id` to Cusco (province 0801, two services).
ruta::v1::RequestTransferRequest NewTransferRequest(const std::string& case_id);

// Runs items 0..count-1 with at most `in_flight` of them at once:
// `start(item, done)` begins one and calls `done` exactly once, from any
// thread, with its outcome; it must not block. Stops starting items after
// the first error, which it returns once every started item has finished.
// `every_10s` (if set) is called every 10 s meanwhile. If they have not all
// finished within `timeout` (a safety net: every call has its own
// deadline), the process exits with status 1, since the items still running
// reference `start` and the caller's state.
absl::Status RunItems(
    int64_t count, int in_flight,
    const std::function<void(int64_t, std::function<void(absl::Status)>)>&
        start,
    absl::Duration timeout, const std::function<void()>& every_10s = nullptr);

// Opens `count` cases of new children on the node behind `stubs` (calls are
// spread over them: one stub per channel) and moves each to
// RESIDENTIAL_CARE (OpenCase, then UpdateStage to IMMEDIATE_PROTECTION and to
// RESIDENTIAL_CARE: a transfer can be requested from a care stage); with
// `request_transfers`, then also requests each one's transfer to Cusco
// (two federation events per transfer: the case, then the request).
// `in_flight` cases are in progress at once. Returns the case ids in the
// order they completed; `progress` (if set) is called every 10 s with the
// number of cases done. The first failed call's error, if any.
absl::StatusOr<std::vector<std::string>> OpenCasesInCare(
    const std::vector<std::unique_ptr<ruta::v1::CaseOffice::Stub>>& stubs,
    int64_t count, int in_flight, bool request_transfers,
    const std::function<void(int64_t)>& progress = nullptr);

}  // namespace ruta::bench

#endif  // RUTA_BENCH_LOADGEN_FILL_H_
