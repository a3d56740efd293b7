#include "api/peer_identity.hpp"

#include <arpa/inet.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>
#include <string_view>

namespace pyprofd::api {
namespace {

// An IPv4 client of a dual-stack socket shows as ::ffff:a.b.c.d; its own socket is
// an IPv4 one.
sockaddr_storage unmapped(const sockaddr_storage& address) {
    if (address.ss_family != AF_INET6) return address;
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    if (!IN6_IS_ADDR_V4MAPPED(&v6.sin6_addr)) return address;
    sockaddr_storage out{};
    auto& v4 = reinterpret_cast<sockaddr_in&>(out);
    v4.sin_family = AF_INET;
    v4.sin_port = v6.sin6_port;
    std::memcpy(&v4.sin_addr, v6.sin6_addr.s6_addr + 12, 4);
    return out;
}

bool is_loopback(const sockaddr_storage& address) {
    if (address.ss_family == AF_INET)
        return (ntohl(reinterpret_cast<const sockaddr_in&>(address).sin_addr.s_addr) >> 24) == 127;
    if (address.ss_family == AF_INET6) return IN6_IS_ADDR_LOOPBACK(&reinterpret_cast<const sockaddr_in6&>(address).sin6_addr);
    return false;
}

std::string describe(const sockaddr_storage& address) {
    char text[INET6_ADDRSTRLEN] = "?";
    if (address.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(address);
        ::inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
        return fmt::format("{}:{}", text, ntohs(v4.sin_port));
    }
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(address);
    ::inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
    return fmt::format("[{}]:{}", text, ntohs(v6.sin6_port));
}

void fill_id(inet_diag_sockid& id, const sockaddr_storage& source, const sockaddr_storage& destination) {
    if (source.ss_family == AF_INET) {
        const auto& s = reinterpret_cast<const sockaddr_in&>(source);
        const auto& d = reinterpret_cast<const sockaddr_in&>(destination);
        id.idiag_sport = s.sin_port;
        id.idiag_dport = d.sin_port;
        std::memcpy(id.idiag_src, &s.sin_addr, 4);
        std::memcpy(id.idiag_dst, &d.sin_addr, 4);
    } else {
        const auto& s = reinterpret_cast<const sockaddr_in6&>(source);
        const auto& d = reinterpret_cast<const sockaddr_in6&>(destination);
        id.idiag_sport = s.sin6_port;
        id.idiag_dport = d.sin6_port;
        std::memcpy(id.idiag_src, &s.sin6_addr, 16);
        std::memcpy(id.idiag_dst, &d.sin6_addr, 16);
    }
    id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
}

// The owner of the TCP socket whose local end is `client` and remote end `server`:
// one exact lookup in the kernel's tables, whatever the number of sockets.
std::optional<uid_t> owner_by_sock_diag(const sockaddr_storage& client, const sockaddr_storage& server, std::string& why) {
    int fd = ::socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
    if (fd < 0) {
        why = fmt::format("netlink sock_diag: {}", std::strerror(errno));
        return std::nullopt;
    }
    struct {
        nlmsghdr header;
        inet_diag_req_v2 request;
    } message{};
    message.header.nlmsg_len = sizeof message;
    message.header.nlmsg_type = SOCK_DIAG_BY_FAMILY;
    message.header.nlmsg_flags = NLM_F_REQUEST;
    message.request.sdiag_family = static_cast<std::uint8_t>(client.ss_family);
    message.request.sdiag_protocol = IPPROTO_TCP;
    message.request.idiag_states = ~0U;
    fill_id(message.request.id, client, server);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    std::optional<uid_t> owner;
    if (::sendto(fd, &message, sizeof message, 0, reinterpret_cast<sockaddr*>(&kernel), sizeof kernel) < 0) {
        why = fmt::format("netlink sock_diag: {}", std::strerror(errno));
    } else {
        alignas(nlmsghdr) char reply[8192];
        ssize_t n;
        do n = ::recv(fd, reply, sizeof reply, 0);
        while (n < 0 && errno == EINTR);
        auto* h = reinterpret_cast<nlmsghdr*>(reply);
        if (n < 0) {
            why = fmt::format("netlink sock_diag: {}", std::strerror(errno));
        } else if (NLMSG_OK(h, static_cast<unsigned>(n)) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY &&
                   h->nlmsg_len >= NLMSG_LENGTH(sizeof(inet_diag_msg))) {
            inet_diag_msg found;
            std::memcpy(&found, reply + NLMSG_HDRLEN, sizeof found);
            owner = found.idiag_uid;
        } else if (NLMSG_OK(h, static_cast<unsigned>(n)) && h->nlmsg_type == NLMSG_ERROR &&
                   h->nlmsg_len >= NLMSG_LENGTH(sizeof(nlmsgerr))) {
            nlmsgerr error;
            std::memcpy(&error, reply + NLMSG_HDRLEN, sizeof error);
            why = fmt::format("the client's socket was not found ({})", std::strerror(-error.error));
        } else {
            why = "netlink sock_diag: an answer pyprofd does not understand";
        }
    }
    ::close(fd);
    return owner;
}

// The same from /proc/net/tcp{,6}, for where netlink is not allowed: the line whose
// local and remote ends are the pair, in the kernel's hex (addresses as stored, in
// network order read as host-order 32-bit words; ports in host order).
std::optional<uid_t> owner_by_proc_net(const sockaddr_storage& client, const sockaddr_storage& server) {
    auto hex_end = [](const sockaddr_storage& a) {
        std::string out;
        std::uint16_t port;
        if (a.ss_family == AF_INET) {
            const auto& v4 = reinterpret_cast<const sockaddr_in&>(a);
            std::uint32_t word;
            std::memcpy(&word, &v4.sin_addr, 4);
            out = fmt::format("{:08X}", word);
            port = ntohs(v4.sin_port);
        } else {
            const auto& v6 = reinterpret_cast<const sockaddr_in6&>(a);
            for (int i = 0; i < 4; ++i) {
                std::uint32_t word;
                std::memcpy(&word, v6.sin6_addr.s6_addr + 4 * i, 4);
                out += fmt::format("{:08X}", word);
            }
            port = ntohs(v6.sin6_port);
        }
        return fmt::format("{}:{:04X}", out, port);
    };
    std::ifstream table(client.ss_family == AF_INET ? "/proc/net/tcp" : "/proc/net/tcp6");
    auto local = hex_end(client), remote = hex_end(server);
    std::string line;
    std::getline(table, line);  // the heading
    while (std::getline(table, line)) {
        // sl local rem st tx:rx tr:when retrnsmt uid ...
        char local_text[64], remote_text[64];
        unsigned uid = 0;
        if (std::sscanf(line.c_str(), " %*s %63s %63s %*s %*s %*s %*s %u", local_text, remote_text, &uid) != 3) continue;
        if (local == local_text && remote == remote_text) return static_cast<uid_t>(uid);
    }
    return std::nullopt;
}

}  // namespace

PeerIdentity identify_unix_peer(int fd) {
    PeerIdentity peer{.transport = PeerIdentity::Transport::unix_socket, .address = "unix", .loopback = true};
    ucred credentials{};
    socklen_t size = sizeof credentials;
    if (::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &size) == 0) {
        peer.uid = credentials.uid;
        peer.gid = credentials.gid;
        peer.pid = credentials.pid;
    } else {
        peer.why_unknown = fmt::format("SO_PEERCRED: {}", std::strerror(errno));
    }
    return peer;
}

PeerIdentity identify_tcp_peer(int fd) {
    PeerIdentity peer;
    sockaddr_storage client{}, server{};
    socklen_t client_size = sizeof client, server_size = sizeof server;
    if (::getpeername(fd, reinterpret_cast<sockaddr*>(&client), &client_size) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&server), &server_size) != 0) {
        peer.address = "?";
        peer.why_unknown = fmt::format("the connection's addresses: {}", std::strerror(errno));
        return peer;
    }
    client = unmapped(client);
    server = unmapped(server);
    peer.address = describe(client);
    auto server_text = describe(server);  // "a.b.c.d:port" or "[v6]:port"
    server_text.resize(server_text.rfind(':'));
    if (server_text.starts_with('[')) server_text = server_text.substr(1, server_text.size() - 2);
    peer.server_address = server_text;
    peer.loopback = is_loopback(client);
    if (!peer.loopback) return peer;
    std::string why;
    peer.uid = owner_by_sock_diag(client, server, why);
    if (!peer.uid) peer.uid = owner_by_proc_net(client, server);
    if (!peer.uid) peer.why_unknown = why;
    return peer;
}

}  // namespace pyprofd::api
