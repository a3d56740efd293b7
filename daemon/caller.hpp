#pragma once
// Who is asking: the program on the other end of a request, as the kernel names it
// (a unix socket's peer credentials, the owner of a loopback TCP client's socket)
// or as a configured token does. Every decision about what a request may see and do
// starts from here; the daemon runs as root, so its own rights never stand in for
// the caller's.
#include <sys/types.h>

#include <optional>
#include <string>

namespace pyprofd::daemon {

struct Caller {
    uid_t uid = 0;               // acts with this user's rights
    std::optional<gid_t> gid;    // its group, where the kernel said (unix sockets)
    std::optional<pid_t> pid;    // the calling process, where the kernel said
    std::string user;            // uid's name, or the number where it has none
    std::string token;           // the token's name, when a token identified it
    bool admin = false;          // root, a member of access.admin_group, or an admin token

    // For logs and refusals: "uid 1000 (alice)", "token ci (admin)".
    std::string describe() const;
    // Whose sessions these are: the same string for the same rights, however the
    // caller came (alice by unix socket, by loopback and by her token own the same).
    std::string owner() const;
};

}  // namespace pyprofd::daemon
