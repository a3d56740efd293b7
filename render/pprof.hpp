#pragma once
// pprof's profile.proto, gzip'd (profile.pb.gz): what `go tool pprof`, Grafana
// Pyroscope, Parca and Google Cloud Profiler read. Python frames become functions
// (name, file, first seen line) and locations with their line; a thread root frame
// becomes the sample labels "thread_id" and "thread_name", so pprof can focus on
// a thread (-tagfocus) or merge them.
#include <cstdint>
#include <expected>
#include <optional>
#include <ostream>
#include <string>

#include "render/profile.hpp"

namespace pyprofd::render {

struct PprofOptions {
    std::optional<double> rate_hz;          // known: a time value per sample and the period
    bool wall_clock = false;                // idle threads counted: "wall" time, else "cpu"
    std::optional<std::int64_t> start_unix_ns;
    std::optional<std::int64_t> duration_ns;
    std::string comment;                    // e.g. the target and Python version
};

// The uncompressed protocol buffer, and the gzip'd file pprof reads (or why gzip
// could not make it).
std::string pprof_message(const Profile& profile, const PprofOptions& options);
std::expected<void, std::string> write_pprof(const Profile& profile, const PprofOptions& options, std::ostream& out);

}  // namespace pyprofd::render
