#include "daemon/profile_limit_options.hpp"

#include <cmath>
#include <fmt/format.h>

#include "config/daemon_config.hpp"

namespace pyprofd::daemon {

render::ProfileLimits default_profile_limits() {
    config::Limits defaults;
    return {.max_stacks = defaults.max_profile_stacks,
            .max_frames = defaults.max_profile_frames,
            .max_label_bytes = static_cast<std::size_t>(defaults.max_profile_label_bytes)};
}

std::optional<std::expected<void, std::string>> read_profile_limit_option(ArgumentReader& reader,
                                                                          render::ProfileLimits& limits) {
    auto name = reader.name();
    // The same ranges as the daemon's configuration.
    auto whole = [&](double high) -> std::expected<std::size_t, std::string> {
        auto n = reader.number(1, high);
        if (!n) return std::unexpected(n.error());
        if (*n != std::floor(*n)) return std::unexpected(fmt::format("{} takes a whole number, not {}", name, *n));
        return static_cast<std::size_t>(*n);
    };
    std::expected<std::size_t, std::string> n;
    if (name == "--max-stacks") {
        n = whole(100'000'000);
        if (n) limits.max_stacks = *n;
    } else if (name == "--max-frames") {
        n = whole(1'000'000'000);
        if (n) limits.max_frames = *n;
    } else if (name == "--max-label-mb") {
        n = whole(1 << 20);
        if (n) limits.max_label_bytes = *n << 20;
    } else {
        return std::nullopt;
    }
    if (!n) return std::unexpected(n.error());
    return std::expected<void, std::string>{};
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

}  // namespace pyprofd::daemon
