#pragma once
// Who is on the other end of a connection, as the kernel tells it: a unix socket's
// peer credentials (SO_PEERCRED: uid, gid, pid), or, for TCP from a loopback
// address, the owner of the client's own socket, found by its address pair
// (sock_diag's INET_DIAG lookup; /proc/net/tcp{,6} where netlink is not allowed).
// A TCP client from any other address is not on this host: the kernel cannot vouch
// for it, and only a token can identify it.
#include <sys/socket.h>
#include <sys/types.h>

#include <optional>
#include <string>

namespace pyprofd::api {

struct PeerIdentity {
    enum class Transport { unix_socket, tcp } transport = Transport::tcp;
    std::string address;         // "127.0.0.1:50312", "[::1]:50312" or "unix"
    std::string server_address;  // TCP: the address it connected to, without the port
    bool loopback = false;       // a unix socket, or TCP from a loopback address
    std::optional<uid_t> uid;    // what the kernel said, if it could
    std::optional<gid_t> gid;
    std::optional<pid_t> pid;
    std::string why_unknown;     // when uid is empty and the peer is local: why not
};

// Asked once per connection, when it is accepted.
PeerIdentity identify_unix_peer(int fd);
PeerIdentity identify_tcp_peer(int fd);

}  // namespace pyprofd::api
