#include "daemon/launch_environment.hpp"

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

std::string_view environment_value(const std::vector<std::string>& environment, std::string_view name) {
    for (std::string_view entry : environment)
        if (entry.size() > name.size() && entry.starts_with(name) && entry[name.size()] == '=')
            return entry.substr(name.size() + 1);
    return {};
}

}  // namespace pyprofd::daemon
