#include "sampler/version_detection.hpp"

#include <array>
#include <charconv>
#include <fmt/format.h>
#include <vector>

#include "sampler/debug_offsets.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {
namespace {

// Py_GetVersion() writes "X.Y.Z (build info) [compiler]" into a static buffer at start-up.
std::optional<PythonVersion> version_from_buffer(const RemoteMemory& memory, const PythonBinary& binary) {
    for (const auto& name : binary.elf.symbols_with_prefix("version")) {
        if (name != "version" && !name.starts_with("version.")) continue;
        auto address = binary.address_of(name);
        if (!address) continue;
        auto text = memory.read<std::array<char, 64>>(*address);
        if (!text) continue;
        std::string_view s(text->data(), text->size());
        auto v = PythonVersion::parse(s);
        if (v && s.find(" (") != std::string_view::npos) return v;
    }
    return std::nullopt;
}

// Without symbols, the same buffer can still be found in .bss.
std::optional<PythonVersion> version_in_bss(const RemoteMemory& memory, const PythonBinary& binary) {
    auto bss = binary.section_in_memory(".bss");
    if (!bss || bss->size == 0 || bss->size > max_bss_scan_bytes) return std::nullopt;
    std::vector<std::byte> data(bss->size);
    if (!memory.read(bss->address, data)) return std::nullopt;
    std::string_view s(reinterpret_cast<const char*>(data.data()), data.size());
    for (std::size_t i = 0; i + 8 < s.size(); ++i) {
        if ((s[i] != '2' && s[i] != '3') || s[i + 1] != '.' || (i > 0 && s[i - 1] != '\0')) continue;
        auto v = PythonVersion::parse(s.substr(i, 32));
        if (!v) continue;
        auto rest = s.substr(i, 32);
        if (rest.find(" (") != std::string_view::npos) return v;
    }
    return std::nullopt;
}

}  // namespace

std::optional<PythonVersion> version_from_file_name(std::string_view path) {
    auto slash = path.rfind('/');
    std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
    for (std::string_view prefix : {"libpython", "python"}) {
        if (!name.starts_with(prefix)) continue;
        name.remove_prefix(prefix.size());
        PythonVersion v;
        auto [p1, e1] = std::from_chars(name.data(), name.data() + name.size(), v.major);
        if (e1 != std::errc{} || p1 == name.data() + name.size() || *p1 != '.') return std::nullopt;
        auto [p2, e2] = std::from_chars(p1 + 1, name.data() + name.size(), v.minor);
        if (e2 != std::errc{} || p2 == p1 + 1) return std::nullopt;
        if (v.major < 2 || v.major > 3) return std::nullopt;
        return v;
    }
    return std::nullopt;
}

Result<PythonVersion> detect_python_version(const RemoteMemory& memory, const PythonBinary& binary,
                                            std::optional<RemoteAddress> runtime) {
    if (runtime) {
        auto header = read_debug_offsets_header(memory, *runtime);
        if (!header) return std::unexpected(header.error());
        if (*header) return PythonVersion::from_hex((*header)->version);
    }
    if (auto address = binary.address_of("Py_Version")) {
        auto hex = memory.read<std::uint64_t>(*address);
        if (!hex) return std::unexpected(hex.error());
        return PythonVersion::from_hex(*hex);
    }
    if (auto v = version_from_buffer(memory, binary)) return *v;
    if (auto v = version_in_bss(memory, binary)) return *v;
    if (auto v = version_from_file_name(binary.path)) return *v;
    return fail(ErrorKind::unsupported_version,
                fmt::format("cannot tell which Python version {} is: no Py_Version, no version string, "
                            "no version in its name",
                            binary.path));
}

}  // namespace pyprofd::sampler
