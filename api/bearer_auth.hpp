#pragma once
// Access control: pyprofd can read the memory of every process on the host, so
// whoever reaches its API can read every secret in them. With a token configured,
// every request but GET /healthz must carry "Authorization: Bearer TOKEN".
#include <expected>
#include <string>
#include <string_view>

#include "api/http_types.hpp"
#include "config/daemon_config.hpp"

namespace pyprofd::api {

class BearerAuth {
public:
    // The token file must be a regular file readable by its owner only (root, or the
    // user the daemon runs as) holding at least 16 characters; the error says how
    // to make one.
    static std::expected<BearerAuth, std::string> from_file(const std::string& path);
    explicit BearerAuth(std::string token) : token_(std::move(token)) {}

    bool allows(const Request& request) const;

private:
    std::string token_;
};

// Compares in time that depends on the lengths only, not on where they differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);

// Whether an address is only reachable from this host: loopback, or a unix socket.
bool is_local_only(const config::ListenAddress& address);

// The refusal to listen beyond this host without a token, or nothing when fine.
std::expected<void, std::string> check_exposure(const config::DaemonConfig& config);

}  // namespace pyprofd::api
