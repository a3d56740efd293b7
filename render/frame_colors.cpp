#include "render/frame_colors.hpp"

#include <fmt/format.h>

namespace pyprofd::render {
namespace {

std::uint64_t fnv1a(std::string_view text, std::uint64_t h = 1469598103934665603ULL) {
    for (unsigned char c : text) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

std::uint8_t mix(int low, int high, double t) { return static_cast<std::uint8_t>(low + (high - low) * t); }

}  // namespace

Rgb frame_color(std::string_view label) {
    auto parsed = parse_frame_label(label);
    // The line is left out: every line of a function shares its colour.
    auto h = fnv1a(parsed.file, fnv1a(parsed.function));
    double a = static_cast<double>(h & 0xffff) / 65535.0;
    double b = static_cast<double>((h >> 16) & 0xffff) / 65535.0;
    switch (frame_kind(label)) {
        case FrameKind::own_code:  // warm: red to yellow, where the eye goes first
            return {mix(205, 255, a), mix(80, 200, b), mix(20, 60, a)};
        case FrameKind::standard_library:  // blue
            return {mix(80, 140, a), mix(140, 190, b), mix(210, 250, a)};
        case FrameKind::site_packages:  // green
            return {mix(90, 150, a), mix(185, 225, b), mix(80, 130, a)};
        case FrameKind::native:  // violet
            return {mix(170, 205, a), mix(140, 170, b), mix(205, 235, a)};
        case FrameKind::idle:
            return {215, 215, 215};
        case FrameKind::truncated:  // what the profile's limits kept out: grey, apart from idle
            return {175, 175, 175};
        case FrameKind::thread_root:
            return {mix(160, 180, a), mix(170, 185, a), mix(185, 200, a)};
        case FrameKind::process_root:  // a shade darker than a thread's, which it holds
            return {mix(135, 155, a), mix(145, 160, a), mix(165, 180, a)};
    }
    return {200, 200, 200};
}

std::string css_color(Rgb c) { return fmt::format("rgb({},{},{})", c.r, c.g, c.b); }

}  // namespace pyprofd::render
