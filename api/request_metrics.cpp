#include "api/request_metrics.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace pyprofd::api {

void RequestMetrics::count(const AnsweredRequest& answered) {
    auto bucket = std::ranges::lower_bound(bucket_bounds, answered.seconds) - bucket_bounds.begin();
    std::lock_guard lock(mutex_);
    ++by_status_[answered.status];
    auto& histogram = durations_[{answered.route.empty() ? "unmatched" : std::string(answered.route),
                                  std::string(answered.method)}];
    if (static_cast<std::size_t>(bucket) < bucket_bounds.size()) ++histogram.buckets[bucket];
    ++histogram.count;
    histogram.sum += answered.seconds;
}

std::map<unsigned, std::uint64_t> RequestMetrics::by_status() const {
    std::lock_guard lock(mutex_);
    return by_status_;
}

void RequestMetrics::write(std::ostream& out) const {
    std::lock_guard lock(mutex_);
    out << "# HELP pyprofd_http_responses_total HTTP responses by status code.\n"
        << "# TYPE pyprofd_http_responses_total counter\n";
    for (const auto& [status, n] : by_status_) out << fmt::format("pyprofd_http_responses_total{{code=\"{}\"}} {}\n", status, n);
    out << "# HELP pyprofd_http_request_duration_seconds Time from a request read to its response sent, by route "
           "template and method.\n"
        << "# TYPE pyprofd_http_request_duration_seconds histogram\n";
    // Route templates and method names hold no quote, backslash or newline: no escaping needed.
    for (const auto& [key, histogram] : durations_) {
        const auto& [route, method] = key;
        auto labels = fmt::format("route=\"{}\",method=\"{}\"", route, method);
        std::uint64_t cumulative = 0;
        for (std::size_t i = 0; i < bucket_bounds.size(); ++i) {
            cumulative += histogram.buckets[i];
            out << fmt::format("pyprofd_http_request_duration_seconds_bucket{{{},le=\"{}\"}} {}\n", labels,
                               bucket_bounds[i], cumulative);
        }
        out << fmt::format("pyprofd_http_request_duration_seconds_bucket{{{},le=\"+Inf\"}} {}\n", labels, histogram.count)
            << fmt::format("pyprofd_http_request_duration_seconds_sum{{{}}} {}\n", labels, histogram.sum)
            << fmt::format("pyprofd_http_request_duration_seconds_count{{{}}} {}\n", labels, histogram.count);
    }
}

}  // namespace pyprofd::api
