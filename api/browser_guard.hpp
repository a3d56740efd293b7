#pragma once
// Browsers are untrusted callers: any page open on this host can make its browser
// send requests to the daemon, and the daemon would take them as the browser's
// user's own. So:
//  - a request must name the daemon by a name a page cannot point elsewhere: a
//    loopback name or address, the address it connected to, or a configured
//    access.server_names entry (else 421: this stops DNS rebinding);
//  - a request that changes anything (anything but GET and HEAD) and comes from
//    another origin (Origin, or Sec-Fetch-Site) is refused (403): a page cannot
//    start a session or launch a program by posting a form or calling fetch();
//  - no response carries a CORS header, and the documents a browser renders
//    (HTML, SVG) carry a Content-Security-Policy and nosniff.
// Plain clients (curl, scripts) send no Origin and keep working.
#include <optional>
#include <string>
#include <vector>

#include "api/http_types.hpp"
#include "api/peer_identity.hpp"

namespace pyprofd::api {

class BrowserGuard {
public:
    explicit BrowserGuard(std::vector<std::string> server_names);

    // The refusal of a request a browser must not make, or nothing.
    std::optional<Response> refuse(const Request& request, const PeerIdentity& peer) const;

private:
    bool is_own_name(std::string_view host, const PeerIdentity& peer) const;
    std::vector<std::string> server_names_;  // lower case
};

// Content-Security-Policy and X-Content-Type-Options for what the response holds:
// the console (HTML) runs its own script and style, from the daemon, and the flame
// graphs it shows; a flame graph runs its own script alone.
void add_document_headers(Response& response);

}  // namespace pyprofd::api
