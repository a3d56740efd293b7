#pragma once
// Bearer tokens: the identity of callers the kernel cannot vouch for (another
// host, a proxy), and of automation. Each configured token has a name and a role
// (admin, or a user it acts as); a request that carries "Authorization: Bearer
// TOKEN" is that token's caller, whatever connection it came on.
#include <expected>
#include <string>
#include <string_view>
#include <vector>

#include "api/http_types.hpp"
#include "config/daemon_config.hpp"

namespace pyprofd::api {

class BearerTokens {
public:
    // Reads every token's file. Each must be a regular file readable by its owner
    // only (root, or the user the daemon runs as) holding at least 16 characters;
    // the error names the token and says how to make one.
    static std::expected<BearerTokens, std::string> load(const std::vector<config::AccessToken>& tokens);
    // For tests: tokens and their secrets as they are.
    explicit BearerTokens(std::vector<std::pair<config::AccessToken, std::string>> tokens) : tokens_(std::move(tokens)) {}

    enum class Verdict { absent, matched, wrong };
    struct Presented {
        Verdict verdict = Verdict::absent;
        const config::AccessToken* token = nullptr;  // when matched
    };
    // Which token the request carries, compared with every configured one in time
    // that does not depend on where they differ.
    Presented check(const Request& request) const;

private:
    std::vector<std::pair<config::AccessToken, std::string>> tokens_;
};

// Compares in time that depends on the lengths only, not on where they differ.
bool equal_in_constant_time(std::string_view a, std::string_view b);

// Whether an address is only reachable from this host: loopback, or a unix socket.
bool is_local_only(const config::ListenAddress& address);

// The refusal to listen beyond this host without a token, or nothing when fine.
std::expected<void, std::string> check_exposure(const config::DaemonConfig& config);

}  // namespace pyprofd::api
