#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace pyprofd::sampler {

struct PythonVersion {
    int major = 0;
    int minor = 0;
    int micro = -1;  // -1 where only major.minor could be found
    std::string suffix;  // "a1", "rc2", "+" ...

    // From PY_VERSION_HEX (0xMMmmuuLS).
    static PythonVersion from_hex(std::uint64_t hex);
    // From the start of sys.version / Py_GetVersion(): "3.9.18 (main, ...".
    static std::optional<PythonVersion> parse(std::string_view text);

    bool at_least(int maj, int min) const { return major > maj || (major == maj && minor >= min); }
    std::string to_string() const;        // "3.11.7", or "3.11" where micro is unknown
    std::string family() const;           // "3.11"
};

}  // namespace pyprofd::sampler
