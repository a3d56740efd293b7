#include "api/console_assets.hpp"

#include "api/response_body.hpp"

namespace pyprofd::api {
namespace {

constexpr std::string_view script =
#include "console_js.inc"
    ;
constexpr std::string_view style =
#include "console_css.inc"
    ;

}  // namespace

Response get_console_script(const Call&) {
    return with_body(http::status::ok, "text/javascript; charset=utf-8", std::string(script));
}

Response get_console_style(const Call&) { return with_body(http::status::ok, "text/css; charset=utf-8", std::string(style)); }

bool is_console_asset(std::string_view target) { return target == "/console.js" || target == "/console.css"; }

}  // namespace pyprofd::api
