// Well-formed requests shared by tests and benchmarks.
#ifndef RUTA_TESTING_REQUESTS_H_
#define RUTA_TESTING_REQUESTS_H_

#include <string>

#include "ruta/v1/case_office.pb.h"

namespace ruta::testing {

// OpenCase for a victim identified in October 2026: 15-17, female, from
// Quispicanchi (0812), sexual exploitation in a bar, recruited by a false job
// offer, under a UPE protective measure; identified by `dni`.
v1::OpenCaseRequest VictimOpenCaseRequest(const std::string& request_id,
                                          const std::string& dni);

}  // namespace ruta::testing

#endif  // RUTA_TESTING_REQUESTS_H_
