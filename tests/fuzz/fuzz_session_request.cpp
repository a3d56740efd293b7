// The body of POST /sessions, as any client may send it.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/session_request.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto spec = pyprofd::api::parse_session_request(std::string_view(reinterpret_cast<const char*>(data), size));
    // A spec accepted has exactly one target; an error names why.
    if (spec && spec->pid.has_value() == !spec->command.empty()) __builtin_trap();
    if (!spec && spec.error().message.empty()) __builtin_trap();
    return 0;
}
