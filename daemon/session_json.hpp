#pragma once
// A session as JSON: what the API returns and what the state directory keeps.
#include <expected>
#include <nlohmann/json.hpp>
#include <string>

#include "daemon/session_info.hpp"

namespace pyprofd::daemon {

nlohmann::json session_to_json(const SessionInfo& info);
// Reads back what session_to_json wrote; the error says what is missing or wrong.
std::expected<SessionInfo, std::string> session_from_json(const nlohmann::json& json);

std::string iso8601(WallClock::time_point t);

}  // namespace pyprofd::daemon
