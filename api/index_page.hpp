#pragma once
// GET /: a small HTML page listing the sessions, newest first, with links to
// their graphs and other formats.
#include <string>
#include <vector>

#include "daemon/session_info.hpp"

namespace pyprofd::api {

std::string index_page(const std::vector<daemon::SessionInfo>& sessions);

}  // namespace pyprofd::api
