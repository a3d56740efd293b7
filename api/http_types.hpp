#pragma once
// The request and response types every handler sees: Beast's with string bodies.
#include <boost/beast/http.hpp>

namespace pyprofd::api {

namespace http = boost::beast::http;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

}  // namespace pyprofd::api
