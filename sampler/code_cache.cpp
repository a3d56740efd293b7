#include "sampler/code_cache.hpp"

#include <algorithm>
#include <cstring>
#include <fmt/format.h>
#include <vector>

namespace pyprofd::sampler {

Result<std::shared_ptr<const CodeInfo>> CodeCache::get(RemoteAddress code) {
    if (auto it = codes_.find(code); it != codes_.end()) return it->second;
    ++misses_;
    auto info = load(code);
    if (!info) return info;
    // A bound on memory for programs that create code without end (exec, eval):
    // start over rather than grow.
    if (codes_.size() >= max_entries_) {
        codes_.clear();
        strings_.clear();
    }
    codes_.emplace(code, *info);
    return info;
}

Result<std::shared_ptr<const std::string>> CodeCache::string_at(RemoteAddress str) {
    if (auto it = strings_.find(str); it != strings_.end()) return it->second;
    auto text = reader_.read_str(str);
    if (!text) return std::unexpected(text.error());
    auto shared = std::make_shared<const std::string>(std::move(*text));
    strings_.emplace(str, shared);
    return shared;
}

Result<std::shared_ptr<const CodeInfo>> CodeCache::load(RemoteAddress code) {
    const auto& layout = reader_.layout();
    const auto& c = layout.code;
    auto span = std::max({c.filename, c.name, c.qualname, c.firstlineno, c.linetable}) + 8;
    std::vector<std::byte> block(static_cast<std::size_t>(span));
    if (auto ok = reader_.memory().read(code, block); !ok) return std::unexpected(ok.error());
    auto pointer_at = [&](Offset offset) {
        RemoteAddress v = 0;
        std::memcpy(&v, block.data() + offset, sizeof v);
        return v;
    };
    if (pointer_at(layout.object.ob_type) != reader_.types().code)
        return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not a code object", code));

    int first_line = 0;
    std::memcpy(&first_line, block.data() + c.firstlineno, sizeof first_line);
    if (first_line < 0) return fail(ErrorKind::bad_data, fmt::format("code at {:#x} has line {}", code, first_line));

    auto filename = string_at(pointer_at(c.filename));
    if (!filename) return std::unexpected(filename.error());
    auto name = string_at(pointer_at(c.qualname != absent ? c.qualname : c.name));
    if (!name) return std::unexpected(name.error());
    auto table = reader_.read_bytes(pointer_at(c.linetable));
    if (!table) return std::unexpected(table.error());

    auto info = std::make_shared<CodeInfo>();
    info->function = **name;
    info->filename = **filename;
    info->first_line = first_line;
    info->lines = LineTable(layout.line_table, *table, first_line);
    return info;
}

}  // namespace pyprofd::sampler
