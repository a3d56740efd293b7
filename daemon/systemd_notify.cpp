#include "daemon/systemd_notify.hpp"

#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>
#include <cstring>
#include <string>

namespace pyprofd::daemon {
namespace {

std::optional<unsigned long long> env_number(const char* name) {
    const char* text = std::getenv(name);
    if (!text || !*text) return std::nullopt;
    unsigned long long value = 0;
    auto [end, ec] = std::from_chars(text, text + std::strlen(text), value);
    if (ec != std::errc{} || *end != '\0') return std::nullopt;
    return value;
}

}  // namespace

bool notify_systemd(std::string_view message) {
    const char* path = std::getenv("NOTIFY_SOCKET");
    if (!path || !*path) return false;
    std::string_view socket_path(path);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    if (socket_path.size() >= sizeof address.sun_path) return false;
    std::memcpy(address.sun_path, socket_path.data(), socket_path.size());
    if (address.sun_path[0] == '@') address.sun_path[0] = '\0';  // the abstract namespace
    auto length = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + socket_path.size());
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    auto sent = ::sendto(fd, message.data(), message.size(), MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&address), length);
    ::close(fd);
    return sent == static_cast<ssize_t>(message.size());
}

std::optional<std::chrono::microseconds> watchdog_interval() {
    auto usec = env_number("WATCHDOG_USEC");
    if (!usec || *usec == 0) return std::nullopt;
    if (auto pid = env_number("WATCHDOG_PID"); pid && *pid != static_cast<unsigned long long>(::getpid())) return std::nullopt;
    return std::chrono::microseconds(*usec / 2);
}

}  // namespace pyprofd::daemon
