#pragma once
// What `pyprofd record` shows while it samples: a bar redrawn in place on a
// terminal; on anything else (a log, a pipe) a plain line every few seconds.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>

namespace pyprofd::cli {

class ProgressDisplay {
public:
    ProgressDisplay(std::FILE* out, std::optional<std::chrono::nanoseconds> total);

    void update(std::chrono::nanoseconds elapsed, std::uint64_t samples, std::uint64_t errors);
    // A line of its own, without breaking the bar.
    void message(const std::string& text);
    // Removes the bar: the lines after it start clean.
    void finish();

    static std::string bar_text(std::chrono::nanoseconds elapsed, std::optional<std::chrono::nanoseconds> total,
                                std::uint64_t samples, std::uint64_t errors, int width);

private:
    std::FILE* out_;
    bool terminal_;
    std::optional<std::chrono::nanoseconds> total_;
    std::chrono::nanoseconds last_plain_line_{0};
    bool bar_shown_ = false;
    std::mutex mutex_;
};

}  // namespace pyprofd::cli
