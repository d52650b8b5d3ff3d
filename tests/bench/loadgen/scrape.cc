#include "scrape.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "httplib.h"

namespace ruta::bench {

MetricsScraper::MetricsScraper(int port)
    : client_(std::make_unique<httplib::Client>("127.0.0.1", port)) {
  client_->set_keep_alive(true);
  client_->set_connection_timeout(2, 0);
  client_->set_read_timeout(2, 0);
  client_->set_write_timeout(2, 0);
}

MetricsScraper::~MetricsScraper() = default;

absl::StatusOr<double> MetricsScraper::Read(const std::string& series) {
  httplib::Result result = client_->Get("/metrics");
  if (!result) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics: ", httplib::to_string(result.error())));
  }
  if (result->status != 200) {
    return absl::UnavailableError(
        absl::StrCat("GET /metrics: HTTP ", result->status));
  }
  for (absl::string_view line : absl::StrSplit(result->body, '\n')) {
    if (!absl::ConsumePrefix(&line, series) ||
        !absl::ConsumePrefix(&line, " ")) {
      continue;
    }
    // "<value>" or "<value> <timestamp>".
    const absl::string_view value = line.substr(0, line.find(' '));
    double v = 0;
    if (!absl::SimpleAtod(value, &v)) {
      return absl::InternalError(
          absl::StrCat("GET /metrics: bad value on the line of ", series));
    }
    return v;
  }
  return 0.0;
}

}  // namespace ruta::bench
