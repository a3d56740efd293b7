#include "daemon/profile_output.hpp"

#include <fmt/format.h>

namespace pyprofd::daemon {

std::string command_text(const std::vector<std::string>& words) {
    std::string out;
    for (const auto& w : words) {
        if (!out.empty()) out += ' ';
        out += w;
    }
    return out;
}

std::string graph_title(std::string_view target) {
    auto title = fmt::format("pyprofd: {}", target);
    if (title.size() > 120) title = title.substr(0, 117) + "...";
    return title;
}

}  // namespace pyprofd::daemon
