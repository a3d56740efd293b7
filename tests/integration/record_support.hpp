#pragma once
// Helpers of the record tests: running `pyprofd record` and reading back the
// folded profile it wrote.
#include <doctest/doctest.h>
#include <signal.h>

#include <cerrno>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "tests/integration/dump_support.hpp"
#include "tests/support/scratch_dir.hpp"

namespace pyprofd::tests {

// A folded profile: stack (root first, ';'-joined) -> samples.
struct FoldedProfile {
    std::map<std::string, std::uint64_t> stacks;
    std::uint64_t total = 0;
    std::vector<std::string> metadata;  // its header's lines, which start with '#': never stacks

    std::uint64_t samples_where(const std::function<bool(const std::string&)>& pred) const {
        std::uint64_t n = 0;
        for (const auto& [stack, count] : stacks)
            if (pred(stack)) n += count;
        return n;
    }
    std::uint64_t samples_containing(const std::string& text) const {
        return samples_where([&](const std::string& s) { return s.find(text) != std::string::npos; });
    }
};

inline FoldedProfile read_folded_file(const std::string& path) {
    FoldedProfile profile;
    std::ifstream in(path);
    REQUIRE_MESSAGE(in, "no profile written at " << path);
    std::string line;
    while (std::getline(in, line)) {
        if (line.empty()) continue;
        if (line.starts_with('#')) {
            profile.metadata.push_back(line);
            continue;
        }
        auto space = line.rfind(' ');
        REQUIRE_MESSAGE(space != std::string::npos, "bad folded line: " << line);
        auto count = std::stoull(line.substr(space + 1));
        profile.stacks[line.substr(0, space)] += count;
        profile.total += count;
    }
    return profile;
}

inline std::vector<std::string> split_frames(const std::string& stack) {
    std::vector<std::string> frames;
    std::size_t start = 0;
    for (;;) {
        auto semi = stack.find(';', start);
        frames.push_back(stack.substr(start, semi - start));
        if (semi == std::string::npos) return frames;
        start = semi + 1;
    }
}

inline CommandResult run_record(std::vector<std::string> args, std::chrono::milliseconds timeout = std::chrono::seconds(90)) {
    std::vector<std::string> argv = {pyprofd_binary(), "record"};
    argv.insert(argv.end(), args.begin(), args.end());
    return run_command({.argv = argv}, timeout);
}

// The last non-empty line of some output.
inline std::string last_line(const std::string& text) {
    auto end = text.find_last_not_of('\n');
    if (end == std::string::npos) return {};
    auto start = text.rfind('\n', end);
    return text.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

// Samples taken, from the summary line "Wrote X: N samples, E errors, behind schedule
// P%": the last line, but for a note about the sampling thread's scheduling class
// that may follow it on a loaded machine.
inline std::uint64_t samples_taken(const std::string& err) {
    auto at = err.rfind("\nWrote ");
    auto line = at == std::string::npos ? last_line(err) : last_line(err.substr(0, err.find('\n', at + 1)));
    auto colon = line.rfind(": ");
    REQUIRE_MESSAGE(colon != std::string::npos, "no summary line in: " << err);
    return std::stoull(line.substr(colon + 2));
}

inline bool process_exists(pid_t pid) { return ::kill(pid, 0) == 0 || errno != ESRCH; }
inline bool process_group_exists(pid_t pgid) { return ::kill(-pgid, 0) == 0 || errno != ESRCH; }

}  // namespace pyprofd::tests
