#pragma once
// The server's figures for /metrics: every response counted by status, and how
// long requests took, as a Prometheus histogram by route template and method.
// Every response counts, also those that never reached a handler (a malformed
// request, a refused browser). Any io thread counts; /metrics reads.
//
// Routes are their templates ("/sessions/{id}/flame.svg"), never the raw path, and
// a request no route took is "unmatched": the label's values are bounded by the
// route table, whatever clients send. The status is not a label of the histogram
// (pyprofd_http_responses_total counts by it): route × method × status × buckets
// would multiply the series for little use.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <ostream>
#include <string>
#include <string_view>

namespace pyprofd::api {

// One response sent: its status, its request's method and route template ("" when
// no route took it), and the time from the request read to the response handed to
// the socket (a deferred response's wait included).
struct AnsweredRequest {
    unsigned status = 0;
    std::string_view method;
    std::string_view route;
    double seconds = 0;
};

class RequestMetrics {
public:
    // Upper bounds in seconds: from /healthz's fraction of a millisecond to a pull of
    // /debug/pprof/profile, which takes its N seconds (30 by default); +Inf after.
    static constexpr std::array<double, 16> bucket_bounds{0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                                          0.5,   1,      2.5,   5,    10,    30,   60,  300};

    void count(const AnsweredRequest& answered);
    // pyprofd_http_responses_total and pyprofd_http_request_duration_seconds, in
    // Prometheus's text format with their HELP and TYPE.
    void write(std::ostream& out) const;
    std::map<unsigned, std::uint64_t> by_status() const;

private:
    struct Histogram {
        std::array<std::uint64_t, bucket_bounds.size()> buckets{};  // each bound's own, not cumulative
        std::uint64_t count = 0;
        double sum = 0;
    };
    mutable std::mutex mutex_;  // a leaf: nothing is locked under it
    std::map<unsigned, std::uint64_t> by_status_;
    std::map<std::pair<std::string, std::string>, Histogram> durations_;  // by (route, method)
};

}  // namespace pyprofd::api
