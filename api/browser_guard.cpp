#include "api/browser_guard.hpp"

#include <boost/asio/ip/address.hpp>
#include <fmt/format.h>
#include <fmt/ranges.h>

#include "api/problem.hpp"
#include "render/flame_graph.hpp"

namespace pyprofd::api {
namespace {

std::string lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
}

// "name:port", "[v6]:port", "name": the host part, lower case, without a trailing dot.
std::string host_part(std::string_view host) {
    std::string_view name = host;
    if (host.starts_with('[')) {
        auto close = host.find(']');
        name = host.substr(1, close == std::string_view::npos ? std::string_view::npos : close - 1);
    } else if (auto colon = host.rfind(':'); colon != std::string_view::npos && host.find(':') == colon) {
        name = host.substr(0, colon);
    }
    auto out = lower(name);
    if (out.ends_with('.')) out.pop_back();
    return out;
}

bool is_loopback_name(const std::string& name) {
    if (name == "localhost" || name.ends_with(".localhost")) return true;  // RFC 6761: always loopback
    boost::system::error_code ec;
    auto address = boost::asio::ip::make_address(name, ec);
    return !ec && address.is_loopback();
}

bool changes_state(http::verb method) { return method != http::verb::get && method != http::verb::head; }

// The console (the daemon's only HTML) runs its own script and style, from the daemon,
// and talks to the daemon alone. It shows flame graphs it fetched (with the caller's
// token, which a frame's own request could not carry) from blob: URLs, and a
// document from a blob: URL runs under the policy of the page that made it: so the
// graph's script and inline styles are allowed here too, each by its hash, and
// nothing else inline.
const std::string& console_policy() {
    static const std::string policy = fmt::format(
        "default-src 'none'; script-src 'self' {}; style-src 'self' {}; img-src 'self'; connect-src 'self'; "
        "frame-src blob:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        render::flame_graph_script_source(), fmt::join(render::flame_graph_style_sources({}), " "));
    return policy;
}

}  // namespace

BrowserGuard::BrowserGuard(std::vector<std::string> server_names) {
    for (const auto& name : server_names) server_names_.push_back(host_part(name));
}

bool BrowserGuard::is_own_name(std::string_view host, const PeerIdentity& peer) const {
    auto name = host_part(host);
    if (is_loopback_name(name)) return true;
    if (!peer.server_address.empty() && name == lower(peer.server_address)) return true;  // an address is not rebound
    return std::find(server_names_.begin(), server_names_.end(), name) != server_names_.end();
}

std::optional<Response> BrowserGuard::refuse(const Request& request, const PeerIdentity& peer) const {
    auto host = request[http::field::host];
    // A unix socket is out of a browser's reach; a client without a Host is no browser.
    if (peer.transport == PeerIdentity::Transport::tcp && !host.empty() && !is_own_name(host, peer))
        return problem(http::status::misdirected_request, "Misdirected request",
                       fmt::format("this daemon is not '{}': call it by a loopback name or address (localhost, "
                                   "127.0.0.1, [::1]), or add the name to access.server_names",
                                   std::string_view(host.data(), host.size())));
    if (!changes_state(request.method())) return std::nullopt;
    auto origin = request[http::field::origin];
    auto fetch_site = lower(request["Sec-Fetch-Site"]);
    bool same_origin = origin.empty() || lower(origin) == "http://" + lower(host);
    bool site_allows = fetch_site.empty() || fetch_site == "same-origin" || fetch_site == "none";
    if (!same_origin || !site_allows)
        return problem(http::status::forbidden, "Cross-origin request refused",
                       fmt::format("a page from {} may not {} here: pyprofd takes changes only from its own pages and "
                                   "from clients that are not browsers",
                                   origin.empty() ? "another site (Sec-Fetch-Site: " + fetch_site + ")"
                                                  : std::string(origin.data(), origin.size()),
                                   std::string(request.method_string())));
    return std::nullopt;
}

void add_document_headers(Response& response) {
    auto type = response[http::field::content_type];
    response.set("X-Content-Type-Options", "nosniff");
    if (type.starts_with("text/html"))
        response.set("Content-Security-Policy", console_policy());
    else if (type.starts_with("image/svg+xml"))
        response.set("Content-Security-Policy",
                     fmt::format("default-src 'none'; script-src {}; style-src 'unsafe-inline'; frame-ancestors 'self'",
                                 render::flame_graph_script_source()));
}

}  // namespace pyprofd::api
