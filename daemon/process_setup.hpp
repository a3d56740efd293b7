#pragma once
// What the daemon sets for its whole process once, before it serves: a client
// that goes away mid-response must not end it (SIGPIPE ignored: a write then fails
// with EPIPE instead), and the orphaned children of the programs it launches are
// its to reap (a child subreaper; launched_program.hpp says why).
namespace pyprofd::daemon {

void set_up_daemon_process();

}  // namespace pyprofd::daemon
