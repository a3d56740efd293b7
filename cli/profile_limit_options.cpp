#include "cli/profile_limit_options.hpp"

#include <fmt/format.h>

#include "cli/option_values.hpp"
#include "config/daemon_config.hpp"
#include "daemon/session_manager.hpp"

namespace pyprofd::cli {

render::ProfileLimits default_profile_limits() { return daemon::profile_limits_of(config::Limits{}); }

void add_profile_limit_options(CLI::App& command, render::ProfileLimits& limits) {
    const auto defaults = default_profile_limits();
    // The same ranges as the daemon's configuration.
    add_value_option(
        command, "--max-stacks", "N",
        [&limits](const std::string& text) -> std::expected<void, std::string> {
            auto n = whole_number_in("--max-stacks", text, 100'000'000);
            if (!n) return std::unexpected(n.error());
            limits.max_stacks = *n;
            return {};
        },
        fmt::format("distinct stacks the profile may hold (default {}, as the daemon's limits.max_profile_stacks); "
                    "past a limit, new stacks count under [truncated]",
                    defaults.max_stacks));
    add_value_option(
        command, "--max-frames", "N",
        [&limits](const std::string& text) -> std::expected<void, std::string> {
            auto n = whole_number_in("--max-frames", text, 1'000'000'000);
            if (!n) return std::unexpected(n.error());
            limits.max_frames = *n;
            return {};
        },
        fmt::format("frames the profile may hold (default {})", defaults.max_frames));
    add_value_option(
        command, "--max-label-mb", "N",
        [&limits](const std::string& text) -> std::expected<void, std::string> {
            auto n = whole_number_in("--max-label-mb", text, 1 << 20);
            if (!n) return std::unexpected(n.error());
            limits.max_label_bytes = *n << 20;
            return {};
        },
        fmt::format("MiB of frame and thread names the profile may hold (default {})", defaults.max_label_bytes >> 20));
}

std::string truncation_note(const render::Profile& profile) {
    if (profile.truncated_samples() == 0) return {};
    const char* option = "--max-stacks, --max-frames or --max-label-mb";
    std::string reached;
    switch (profile.cap_reached()) {
        case render::ProfileCap::stacks: option = "--max-stacks"; reached = "distinct stacks"; break;
        case render::ProfileCap::frames: option = "--max-frames"; reached = "frames"; break;
        case render::ProfileCap::label_bytes: option = "--max-label-mb"; reached = "text"; break;
        case render::ProfileCap::none: break;
    }
    return fmt::format("pyprofd: {} of {} samples are counted under [truncated]: the profile reached its limit{}{} "
                       "({} raises it)",
                       profile.truncated_samples(), profile.total_samples(), reached.empty() ? "" : " of ", reached,
                       option);
}

}  // namespace pyprofd::cli
