// The server's figures for /metrics: responses by status, and request durations
// as a Prometheus histogram by route template and method, counted from several
// threads at once (the io threads).
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "api/request_metrics.hpp"

using namespace pyprofd::api;

namespace {

std::string written(const RequestMetrics& metrics) {
    std::ostringstream out;
    metrics.write(out);
    return out.str();
}

bool has_line(const std::string& text, const std::string& line) {
    return text.find("\n" + line + "\n") != std::string::npos || text.starts_with(line + "\n");
}

}  // namespace

TEST_CASE("request metrics: buckets are cumulative, +Inf, sum and count follow, by route template and method") {
    RequestMetrics metrics;
    metrics.count({.status = 200, .method = "GET", .route = "/sessions/{id}/flame.svg", .seconds = 0.0004});
    metrics.count({.status = 200, .method = "GET", .route = "/sessions/{id}/flame.svg", .seconds = 0.02});
    metrics.count({.status = 404, .method = "GET", .route = "/sessions/{id}/flame.svg", .seconds = 1000});
    metrics.count({.status = 404, .method = "GET", .route = "", .seconds = 0.001});
    auto text = written(metrics);
    CAPTURE(text);
    const std::string series = "pyprofd_http_request_duration_seconds";
    const std::string labels = "route=\"/sessions/{id}/flame.svg\",method=\"GET\"";
    CHECK(has_line(text, "# TYPE " + series + " histogram"));
    CHECK(has_line(text, series + "_bucket{" + labels + ",le=\"0.001\"} 1"));
    CHECK(has_line(text, series + "_bucket{" + labels + ",le=\"0.01\"} 1"));
    CHECK(has_line(text, series + "_bucket{" + labels + ",le=\"0.025\"} 2"));
    CHECK(has_line(text, series + "_bucket{" + labels + ",le=\"300\"} 2"));
    CHECK(has_line(text, series + "_bucket{" + labels + ",le=\"+Inf\"} 3"));
    CHECK(has_line(text, series + "_count{" + labels + "} 3"));
    CHECK(text.find(series + "_sum{" + labels + "} 1000.02") != std::string::npos);
    // A request no route took is one series, whatever its path was.
    CHECK(has_line(text, series + "_count{route=\"unmatched\",method=\"GET\"} 1"));
    // The bound itself falls in its bucket (le: less or equal).
    CHECK(has_line(text, series + "_bucket{route=\"unmatched\",method=\"GET\",le=\"0.001\"} 1"));
    CHECK(has_line(text, "pyprofd_http_responses_total{code=\"200\"} 2"));
    CHECK(has_line(text, "pyprofd_http_responses_total{code=\"404\"} 2"));
}

TEST_CASE("request metrics: counts from several threads at once are all kept") {
    RequestMetrics metrics;
    {
        std::vector<std::jthread> threads;
        for (int t = 0; t < 4; ++t)
            threads.emplace_back([&] {
                for (int i = 0; i < 5000; ++i)
                    metrics.count({.status = 200, .method = "GET", .route = "/healthz", .seconds = 0.002});
            });
    }
    CHECK(metrics.by_status().at(200) == 20000);
    CHECK(has_line(written(metrics), "pyprofd_http_request_duration_seconds_count{route=\"/healthz\",method=\"GET\"} 20000"));
}
