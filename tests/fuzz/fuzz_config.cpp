// The daemon's YAML configuration.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "config/daemon_config.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto config = pyprofd::config::parse_config(std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.yaml");
    if (config && config->listen.empty()) __builtin_trap();
    if (!config && !config.error().starts_with("fuzz.yaml")) __builtin_trap();
    return 0;
}
