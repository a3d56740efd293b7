#include "sampler/python_version.hpp"

#include <charconv>
#include <fmt/format.h>

namespace pyprofd::sampler {

PythonVersion PythonVersion::from_hex(std::uint64_t hex) {
    PythonVersion v;
    v.major = static_cast<int>((hex >> 24) & 0xff);
    v.minor = static_cast<int>((hex >> 16) & 0xff);
    v.micro = static_cast<int>((hex >> 8) & 0xff);
    unsigned level = (hex >> 4) & 0xf;
    unsigned serial = hex & 0xf;
    switch (level) {
        case 0xa: v.suffix = fmt::format("a{}", serial); break;
        case 0xb: v.suffix = fmt::format("b{}", serial); break;
        case 0xc: v.suffix = fmt::format("rc{}", serial); break;
        default: break;
    }
    return v;
}

std::optional<PythonVersion> PythonVersion::parse(std::string_view text) {
    auto number = [&](int& out) {
        auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
        if (ec != std::errc{} || ptr == text.data()) return false;
        text.remove_prefix(static_cast<std::size_t>(ptr - text.data()));
        return true;
    };
    auto dot = [&] {
        if (text.empty() || text.front() != '.') return false;
        text.remove_prefix(1);
        return true;
    };
    PythonVersion v;
    if (!number(v.major) || !dot() || !number(v.minor) || !dot() || !number(v.micro)) return std::nullopt;
    if (v.major < 2 || v.major > 3 || v.minor > 99 || v.micro > 99) return std::nullopt;
    std::size_t end = 0;
    while (end < text.size() && end < 8 && text[end] != ' ' && text[end] != '\0') ++end;
    v.suffix = std::string(text.substr(0, end));
    return v;
}

std::string PythonVersion::to_string() const {
    if (micro < 0) return family();
    return fmt::format("{}.{}.{}{}", major, minor, micro, suffix);
}

std::string PythonVersion::family() const { return fmt::format("{}.{}", major, minor); }

}  // namespace pyprofd::sampler
