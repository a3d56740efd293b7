#include "daemon/process_setup.hpp"

#include <signal.h>

#include "daemon/launched_program.hpp"

namespace pyprofd::daemon {

void set_up_daemon_process() {
    ::signal(SIGPIPE, SIG_IGN);
    become_child_subreaper();
}

}  // namespace pyprofd::daemon
