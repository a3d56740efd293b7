#include "daemon/launch_environment.hpp"

#include <algorithm>
#include <fmt/format.h>

namespace pyprofd::daemon {

std::vector<std::string> launch_environment(const RunAs& as, const std::map<std::string, std::string>& requested) {
    auto given = [&](const char* name, std::string fallback) {
        auto it = requested.find(name);
        return std::string(name) + "=" + (it != requested.end() ? it->second : std::move(fallback));
    };
    // As login(1) sets them on Debian (ENV_SUPATH, ENV_PATH).
    std::vector<std::string> environment{
        given("PATH", as.uid == 0 ? "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" : "/usr/local/bin:/usr/bin:/bin"),
        given("LANG", "C.UTF-8"),
        "HOME=" + as.home,
        "USER=" + as.name,
        "LOGNAME=" + as.name,
    };
    for (const auto& [name, value] : requested)
        if (name != "PATH" && name != "LANG") environment.push_back(name + "=" + value);
    return environment;
}

std::expected<void, std::string> check_requested_environment(const std::map<std::string, std::string>& requested,
                                                             std::size_t max_variables, std::size_t max_bytes) {
    if (requested.size() > max_variables)
        return std::unexpected(fmt::format("env: {} variables, more than the {} allowed (limits.max_command_env_vars)",
                                           requested.size(), max_variables));
    std::size_t bytes = 0;
    for (const auto& [name, value] : requested) {
        bool valid = !name.empty() && name.size() <= 256 && !(name[0] >= '0' && name[0] <= '9') &&
                     std::all_of(name.begin(), name.end(), [](char c) {
                         return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                     });
        if (!valid)
            return std::unexpected(fmt::format("env: '{}' is not a variable name (letters, digits and '_', not first a "
                                               "digit, at most 256)",
                                               name));
        if (name == "HOME" || name == "USER" || name == "LOGNAME")
            return std::unexpected(fmt::format("env: {} is set by pyprofd, for the user the program runs as", name));
        if (name.starts_with("LD_"))
            return std::unexpected(fmt::format(
                "env: {} is the dynamic loader's: it would load other code into the program before it starts, and "
                "pyprofd launches only what targets.allowed_executables allows; set it in the program instead",
                name));
        if (value.find('\0') != std::string::npos)
            return std::unexpected(fmt::format("env: the value of {} holds a NUL byte", name));
        bytes += name.size() + value.size() + 2;
    }
    if (bytes > max_bytes)
        return std::unexpected(fmt::format("env: {} bytes of variables, more than the {} allowed "
                                           "(limits.max_command_env_bytes)",
                                           bytes, max_bytes));
    return {};
}

std::string_view environment_value(const std::vector<std::string>& environment, std::string_view name) {
    for (std::string_view entry : environment)
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    return {};
}

}  // namespace pyprofd::daemon
