#include "api/bearer_auth.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>

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

namespace {

std::expected<std::string, std::string> read_token_file(const config::AccessToken& token) {
    const auto& path = token.file;
    auto fail = [&](std::string why) {
        return std::unexpected(fmt::format("access.tokens: token '{}': {}", token.name, why));
    };
    // Opened once, without following a link, and checked through that descriptor:
    // what is checked is what is read.
    int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ELOOP) return fail(fmt::format("the token file {} is a symbolic link; name the file itself", path));
        return fail(fmt::format("cannot read the token file {}: {}; {}", path, std::strerror(errno), how_to_make_a_token));
    }
    struct Closer {
        int fd;
        ~Closer() { ::close(fd); }
    } closer{fd};
    struct stat st {};
    if (::fstat(fd, &st) != 0) return fail(fmt::format("cannot read the token file {}: {}", path, std::strerror(errno)));
    if (!S_ISREG(st.st_mode)) return fail(fmt::format("the token file {} is not a regular file", path));
    if ((st.st_mode & 077) != 0)
        return fail(fmt::format("the token file {} may be read by others (mode {:o}): chmod 600 {}", path,
                                st.st_mode & 0777, path));
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        return fail(fmt::format("the token file {} belongs to uid {}, neither root nor this daemon's user", path, st.st_uid));
    char buffer[4096];
    auto n = ::read(fd, buffer, sizeof buffer);
    if (n < 0) return fail(fmt::format("cannot read the token file {}: {}", path, std::strerror(errno)));
    std::string secret(buffer, static_cast<std::size_t>(n));
    secret = secret.substr(0, secret.find('\n'));
    while (!secret.empty() && (secret.back() == '\r' || secret.back() == ' ' || secret.back() == '\t')) secret.pop_back();
    if (secret.size() < 16)
        return fail(fmt::format("the token in {} is shorter than 16 characters; {}", path, how_to_make_a_token));
    return secret;
}

}  // namespace

std::expected<BearerTokens, std::string> BearerTokens::load(const std::vector<config::AccessToken>& tokens) {
    std::vector<std::pair<config::AccessToken, std::string>> loaded;
    for (const auto& token : tokens) {
        auto secret = read_token_file(token);
        if (!secret) return std::unexpected(secret.error());
        for (const auto& [other, other_secret] : loaded)
            if (other_secret == *secret)
                return std::unexpected(fmt::format("access.tokens: tokens '{}' and '{}' are the same token; each "
                                                   "caller needs its own",
                                                   other.name, token.name));
        loaded.emplace_back(token, std::move(*secret));
    }
    return BearerTokens(std::move(loaded));
}

BearerTokens::Presented BearerTokens::check(const Request& request) const {
    auto header = request[http::field::authorization];
    if (header.empty()) return {};
    constexpr std::string_view scheme = "Bearer ";
    bool bearer = header.size() >= scheme.size();
    // The scheme is case-insensitive (RFC 9110).
    for (std::size_t i = 0; bearer && i < scheme.size(); ++i)
        bearer = std::tolower(static_cast<unsigned char>(header[i])) == std::tolower(static_cast<unsigned char>(scheme[i]));
    if (!bearer) return {Verdict::wrong, nullptr};
    auto presented = std::string_view(header.data(), header.size()).substr(scheme.size());
    // Every token is compared, the match or not: how long it takes says nothing of which.
    const config::AccessToken* match = nullptr;
    for (const auto& [token, secret] : tokens_)
        if (equal_in_constant_time(presented, secret)) match = &token;
    return match ? Presented{Verdict::matched, match} : Presented{Verdict::wrong, nullptr};
}

bool is_local_only(const config::ListenAddress& address) {
    if (address.kind == config::ListenAddress::Kind::unix_socket) return true;
    if (address.host == "localhost") return true;
    boost::system::error_code ec;
    auto ip = boost::asio::ip::make_address(address.host, ec);
    return !ec && ip.is_loopback();
}

std::expected<void, std::string> check_exposure(const config::DaemonConfig& config) {
    if (!config.access.tokens.empty()) return {};
    for (const auto& address : config.listen)
        if (!is_local_only(address))
            return std::unexpected(fmt::format(
                "refusing to listen on {} without a token: whoever reaches it could read the memory of every "
                "process on this host. Configure a token (access.tokens: [{{name: NAME, file: PATH, role: admin}}]; {}), "
                "or listen on loopback (127.0.0.1) or a unix socket",
                address.to_string(), how_to_make_a_token));
    return {};
}

}  // namespace pyprofd::api
