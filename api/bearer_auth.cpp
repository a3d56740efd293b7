#include "api/bearer_auth.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <fstream>

namespace pyprofd::api {

namespace {

constexpr std::string_view how_to_make_a_token =
    "make one with: head -c 32 /dev/urandom | base64 > /etc/pyprofd/token && chmod 600 /etc/pyprofd/token";

}  // namespace

bool equal_in_constant_time(std::string_view a, std::string_view b) {
    // Every byte of the longer is looked at whatever the contents; the length
    // difference is folded into the result, not returned early.
    std::size_t n = std::max(a.size(), b.size());
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    for (std::size_t i = 0; i < n; ++i) {
        unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
        unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
        diff |= static_cast<unsigned char>(x ^ y);
    }
    return diff == 0;
}

std::expected<BearerAuth, std::string> BearerAuth::from_file(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        return std::unexpected(fmt::format("cannot read the token file {}: {}; {}", path, std::strerror(errno),
                                           how_to_make_a_token));
    if (!S_ISREG(st.st_mode)) return std::unexpected(fmt::format("the token file {} is not a regular file", path));
    if ((st.st_mode & 077) != 0)
        return std::unexpected(fmt::format("the token file {} may be read by others (mode {:o}): chmod 600 {}", path,
                                           st.st_mode & 0777, path));
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return std::unexpected(fmt::format("the token file {} belongs to uid {}, neither root nor this daemon's user",
                                           path, st.st_uid));
    std::ifstream in(path);
    std::string token;
    std::getline(in, token);
    while (!token.empty() && (token.back() == '\r' || token.back() == ' ' || token.back() == '\t')) token.pop_back();
    if (token.size() < 16)
        return std::unexpected(fmt::format("the token in {} is shorter than 16 characters; {}", path, how_to_make_a_token));
    return BearerAuth(std::move(token));
}

bool BearerAuth::allows(const Request& request) const {
    auto header = request[http::field::authorization];
    constexpr std::string_view scheme = "Bearer ";
    if (header.size() < scheme.size()) return false;
    // The scheme is case-insensitive (RFC 9110).
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(header[i])) != std::tolower(static_cast<unsigned char>(scheme[i])))
            return false;
    auto presented = std::string_view(header.data(), header.size()).substr(scheme.size());
    return equal_in_constant_time(presented, token_);
}

bool is_local_only(const config::ListenAddress& address) {
    if (address.kind == config::ListenAddress::Kind::unix_socket) return true;
    if (address.host == "localhost") return true;
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(address.host, ec);
    return !ec && ip.is_loopback();
}

std::expected<void, std::string> check_exposure(const config::DaemonConfig& config) {
    if (config.auth_token_file) return {};
    for (const auto& address : config.listen)
        if (!is_local_only(address))
            return std::unexpected(fmt::format(
                "refusing to listen on {} without a token: whoever reaches it could read the memory of every "
                "process on this host. Set auth_token_file in the configuration ({}), or listen on loopback "
                "(127.0.0.1) or a unix socket",
                address.to_string(), how_to_make_a_token));
    return {};
}

}  // namespace pyprofd::api
