// A request line's target: the path and query string of any request.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "api/query_string.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto target = pyprofd::api::parse_target(std::string_view(reinterpret_cast<const char*>(data), size));
    if (target && (target->path.empty() || target->path.front() != '/')) __builtin_trap();
    return 0;
}
