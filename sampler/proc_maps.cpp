#include "sampler/proc_maps.hpp"

#include <charconv>
#include <fmt/format.h>

#include "sampler/proc_files.hpp"

namespace pyprofd::sampler {
namespace {

bool parse_hex(std::string_view text, std::uint64_t& out) {
    auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), out, 16);
    return ec == std::errc{} && ptr == text.data() + text.size();
}

std::string_view next_field(std::string_view& line) {
    while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
    auto end = line.find(' ');
    auto field = line.substr(0, end);
    line.remove_prefix(end == std::string_view::npos ? line.size() : end);
    return field;
}

}  // namespace

std::vector<MemoryMapping> parse_proc_maps(std::string_view text) {
    std::vector<MemoryMapping> maps;
    constexpr std::string_view deleted_suffix = " (deleted)";
    while (!text.empty()) {
        auto eol = text.find('\n');
        std::string_view line = text.substr(0, eol);
        text.remove_prefix(eol == std::string_view::npos ? text.size() : eol + 1);

        MemoryMapping m;
        auto range = next_field(line);
        auto dash = range.find('-');
        if (dash == std::string_view::npos || !parse_hex(range.substr(0, dash), m.start) ||
            !parse_hex(range.substr(dash + 1), m.end))
            continue;
        m.permissions = std::string(next_field(line));
        if (!parse_hex(next_field(line), m.offset)) continue;
        next_field(line);  // device
        auto inode = next_field(line);
        std::from_chars(inode.data(), inode.data() + inode.size(), m.inode);
        while (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        if (line.ends_with(deleted_suffix)) {
            m.deleted = true;
            line.remove_suffix(deleted_suffix.size());
        }
        m.path = std::string(line);
        maps.push_back(std::move(m));
    }
    return maps;
}

Result<std::vector<MemoryMapping>> read_proc_maps(pid_t pid) {
    auto text = read_proc_file(pid, "maps");
    if (!text) return std::unexpected(text.error());
    return parse_proc_maps(*text);
}

}  // namespace pyprofd::sampler
