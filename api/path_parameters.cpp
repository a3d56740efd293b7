#include "api/path_parameters.hpp"

#include <climits>
#include <fmt/format.h>

#include "api/query_string.hpp"
#include "daemon/session_store.hpp"

namespace pyprofd::api {

daemon::Result<PathParameters> path_parameters(const std::map<std::string, std::string>& texts) {
    PathParameters parameters;
    for (const auto& [name, text] : texts) {
        if (name == "id" || name == "other") {
            if (!daemon::is_session_id(text))
                return std::unexpected(daemon::Error{daemon::Error::Kind::not_found,
                                                     fmt::format("no session '{}' (ids are 16 hex digits)", text)});
            (name == "id" ? parameters.id : parameters.other) = text;
        } else if (name == "pid") {
            auto pid = whole_number(text);
            if (!pid || *pid < 1 || *pid > INT_MAX)
                return std::unexpected(
                    daemon::Error{daemon::Error::Kind::invalid, fmt::format("'{}' is not a process id", text), "pid"});
            parameters.pid = static_cast<pid_t>(*pid);
        }
    }
    return parameters;
}

}  // namespace pyprofd::api
