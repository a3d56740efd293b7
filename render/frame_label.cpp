#include "render/frame_label.hpp"

#include <charconv>

#include "render/label_text.hpp"
#include "render/profile.hpp"

namespace pyprofd::render {

FrameLabel parse_frame_label(std::string_view label) {
    FrameLabel parsed{label, {}, -1};
    // A process root's parenthesis holds its command line, not a file.
    if (parse_process_label(label)) return parsed;
    // "function (file:line)": the location is the parenthesis that closes the label,
    // matched back to its opening (file names may hold parentheses of their own).
    if (!label.ends_with(')')) return parsed;
    std::size_t open = std::string_view::npos;
    int depth = 0;
    for (std::size_t i = label.size(); i-- > 0;) {
        if (label[i] == ')') ++depth;
        if (label[i] == '(' && --depth == 0) {
            open = i;
            break;
        }
    }
    if (open == std::string_view::npos || open < 2 || label[open - 1] != ' ') return parsed;
    --open;  // at the space before it
    auto location = label.substr(open + 2, label.size() - open - 3);
    if (location.empty()) return parsed;
    parsed.function = label.substr(0, open);
    parsed.file = location;
    auto colon = location.rfind(':');
    if (colon != std::string_view::npos && colon + 1 < location.size()) {
        int line = 0;
        auto digits = location.substr(colon + 1);
        auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), line);
        if (ec == std::errc{} && end == digits.data() + digits.size()) {
            parsed.file = location.substr(0, colon);
            parsed.line = line;
        }
    }
    return parsed;
}

std::optional<ThreadLabel> parse_thread_label(std::string_view label) {
    if (!label.starts_with("thread ") || !label.ends_with(')')) return std::nullopt;
    auto open = label.rfind(" (");
    if (open == std::string_view::npos || open < 6) return std::nullopt;
    auto digits = label.substr(open + 2, label.size() - open - 3);
    long tid = 0;
    auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), tid);
    if (ec != std::errc{} || end != digits.data() + digits.size() || digits.empty()) return std::nullopt;
    if (open == 6) return ThreadLabel{{}, tid};  // thread (tid)
    // thread "name" (tid): the name is everything between the outer quotes.
    auto quoted = label.substr(7, open - 7);
    if (quoted.size() < 2 || quoted.front() != '"' || quoted.back() != '"') return std::nullopt;
    return ThreadLabel{quoted.substr(1, quoted.size() - 2), tid};
}

std::optional<ProcessLabel> parse_process_label(std::string_view label) {
    constexpr std::string_view prefix = "process ";
    if (!label.starts_with(prefix) || !label.ends_with(')')) return std::nullopt;
    auto rest = label.substr(prefix.size());
    long pid = 0;
    auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
    if (ec != std::errc{} || end == rest.data() || pid <= 0) return std::nullopt;
    // The command line may hold parentheses of its own: it is all between the first
    // " (" after the number and the last ')'.
    rest = rest.substr(static_cast<std::size_t>(end - rest.data()));
    if (!rest.starts_with(" (")) return std::nullopt;
    return ProcessLabel{pid, rest.substr(2, rest.size() - 3)};
}

std::string process_label(long pid, std::string_view command) {
    auto safe = safe_label_text(command);
    if (safe.size() > max_process_label_command_bytes) {
        // Cut at a character's start, never inside one, and say it was cut.
        std::size_t cut = max_process_label_command_bytes;
        while (cut > 0 && (static_cast<unsigned char>(safe[cut]) & 0xC0) == 0x80) --cut;
        safe.resize(cut);
        safe += "\u2026";
    }
    return "process " + std::to_string(pid) + " (" + safe + ")";
}

FrameKind frame_kind(std::string_view label) {
    if (label == idle_frame_label) return FrameKind::idle;
    if (label == truncated_frame_label) return FrameKind::truncated;
    if (parse_thread_label(label)) return FrameKind::thread_root;
    if (parse_process_label(label)) return FrameKind::process_root;
    auto parsed = parse_frame_label(label);
    auto file = parsed.file;
    if (file.empty()) return FrameKind::native;
    if (file.find("/site-packages/") != std::string_view::npos || file.find("/dist-packages/") != std::string_view::npos)
        return FrameKind::site_packages;
    if (file.starts_with("<frozen ") || file.find("/lib/python") != std::string_view::npos ||
        file.find("/lib64/python") != std::string_view::npos)
        return FrameKind::standard_library;
    return FrameKind::own_code;
}

const char* to_string(FrameKind kind) {
    switch (kind) {
        case FrameKind::own_code: return "own";
        case FrameKind::standard_library: return "stdlib";
        case FrameKind::site_packages: return "package";
        case FrameKind::native: return "native";
        case FrameKind::idle: return "idle";
        case FrameKind::truncated: return "truncated";
        case FrameKind::thread_root: return "thread";
        case FrameKind::process_root: return "process";
    }
    return "own";
}

}  // namespace pyprofd::render
