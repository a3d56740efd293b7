#pragma once
// The daemon's log: spdlog's default logger, to stderr (journald takes it from
// there under systemd), one line per event, as text or, for log collectors, as
// one JSON object a line ({"time_ms", "level", "message"}).
#include "config/daemon_config.hpp"

namespace pyprofd::daemon {

void set_up_logging(const config::Logging& log);

}  // namespace pyprofd::daemon
