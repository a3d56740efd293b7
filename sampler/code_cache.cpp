#include "sampler/code_cache.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <vector>

#include "sampler/byte_reads.hpp"
#include "sampler/local_buffers.hpp"

namespace pyprofd::sampler {
namespace {

}  // namespace

CodeCache::CodeCache(const ObjectReader& reader, std::size_t max_entries, std::size_t max_bytes)
    : reader_(reader), max_entries_(max_entries), max_bytes_(max_bytes) {
    // The fields fit code_header_buffer_size from the first on: checked at attach.
    auto view = code_header_view(reader_.layout());
    header_start_ = view.first_byte();
    header_size_ = view.span() - static_cast<std::size_t>(header_start_);
}

CodeCache::Fingerprint CodeCache::fingerprint_of(std::span<const std::byte> header) const {
    const auto& layout = reader_.layout();
    const auto& c = layout.code;
    auto at = [&](Offset offset, std::size_t size = 8) {
        return offset == absent ? 0 : load_unsigned(header, static_cast<std::size_t>(offset - header_start_), size);
    };
    return {at(layout.object.ob_type), at(c.filename), at(c.name), at(c.qualname), at(c.linetable),
            at(c.firstlineno, sizeof(int))};
}

Result<std::shared_ptr<const CodeInfo>> CodeCache::get(RemoteAddress code) {
    if (auto it = codes_.find(code); it != codes_.end()) return it->second.info;
    ++misses_;
    auto entry = load(code);
    if (!entry) return std::unexpected(entry.error());
    // A bound on memory for programs that create code without end (exec, eval), and
    // for a target that makes each code object as large as it may: start over rather
    // than grow.
    if (codes_.size() >= max_entries_ || bytes_ + entry->bytes > max_bytes_) {
        codes_.clear();
        bytes_ = 0;
        ++generation_;
    }
    auto info = entry->info;
    bytes_ += entry->bytes;
    entry->checked_in = sample_;  // just read
    entry->epoch = epoch_;
    auto [it, inserted] = codes_.insert_or_assign(code, std::move(*entry));
    note_used(code, it->second);
    return info;
}

void CodeCache::note_used(RemoteAddress code, Entry& entry) {
    if (entry.used_in == sample_) return;
    entry.used_in = sample_;
    used_this_sample_.push_back(code);
}

void CodeCache::header_requests(std::span<const RemoteAddress> codes, std::vector<std::byte>& buffer,
                                std::vector<RemoteMemory::ReadRequest>& requests) const {
    buffer.resize(codes.size() * header_size_);
    requests.clear();
    for (std::size_t i = 0; i < codes.size(); ++i)
        requests.push_back({field_address(codes[i], header_start_),
                            std::span(buffer).subspan(i * header_size_, header_size_)});
}

void CodeCache::check(RemoteAddress code, Entry& entry, std::span<const std::byte> header, bool read_ok) {
    // Unreadable now, or another object: read afresh (and fail properly) when next used.
    if (!read_ok || fingerprint_of(header) != entry.fingerprint) {
        bytes_ -= entry.bytes;
        codes_.erase(code);
        ++stale_;
        ++generation_;  // what callers hold pointers by learns of it here
        return;
    }
    entry.checked_in = sample_;
    entry.epoch = epoch_;
    ++header_checks_;
}

Result<void> CodeCache::lookup(std::span<const RemoteAddress> codes, std::vector<std::shared_ptr<const CodeInfo>>& out) {
    // Linear in the stack: a target may make every one of thousands of frames name
    // another code object.
    found_.clear();
    unchecked_.clear();
    unchecked_entries_.clear();
    for (auto code : codes) {
        auto it = codes_.find(code);
        Entry* entry = it == codes_.end() ? nullptr : &it->second;
        found_.push_back(entry);
        if (!entry) continue;  // read (and noted) when got
        note_used(code, *entry);
        if (entry->checked_in != sample_) {
            entry->checked_in = sample_;  // once, however often the stack names it
            if (epoch_ != 0 && entry->epoch == epoch_) {
                ++epoch_checks_;  // no code object freed since it was read: still it
                continue;
            }
            unchecked_.push_back(code);
            unchecked_entries_.push_back(entry);
        }
    }
    const auto generation = generation_;
    if (!unchecked_.empty()) {
        header_requests(unchecked_, unchecked_headers_, unchecked_requests_);
        auto read = reader_.memory().read_many(unchecked_requests_);
        for (std::size_t i = 0; i < unchecked_.size(); ++i)
            check(unchecked_[i], *unchecked_entries_[i], unchecked_requests_[i].out, i < read);
    }
    out.clear();
    for (std::size_t i = 0; i < codes.size(); ++i) {
        // Entries forgotten meanwhile (stale, or the cache started over) are looked up again.
        if (generation_ != generation) {
            auto it = codes_.find(codes[i]);
            found_[i] = it == codes_.end() ? nullptr : &it->second;
        }
        if (found_[i]) {
            out.push_back(found_[i]->info);
            continue;
        }
        auto info = get(codes[i]);
        if (!info) return std::unexpected(info.error());
        out.push_back(std::move(*info));
    }
    return {};
}

std::span<const RemoteMemory::ReadRequest> CodeCache::begin_sample(bool check_headers) {
    ++sample_;
    prefetching_.clear();
    prefetching_entries_.clear();
    epoch_ = 0;  // until the caller names this sample's
    if (check_headers)
        for (auto code : used_this_sample_)
            if (auto it = codes_.find(code); it != codes_.end()) {
                prefetching_.push_back(code);
                prefetching_entries_.push_back(&it->second);
            }
    used_this_sample_.clear();
    header_requests(prefetching_, prefetch_buffer_, prefetch_requests_);
    return prefetch_requests_;
}

void CodeCache::prefetched(std::size_t done) {
    // Those not read are checked when used, by lookup(). An address can be listed
    // twice (a stale entry forgotten and read again in the same sample), so once a
    // check forgets one, the rest are looked up again rather than trusted.
    const auto generation = generation_;
    for (std::size_t i = 0; i < done && i < prefetching_.size(); ++i) {
        Entry* entry = prefetching_entries_[i];
        if (generation_ != generation) {
            auto it = codes_.find(prefetching_[i]);
            if (it == codes_.end()) continue;
            entry = &it->second;
        }
        check(prefetching_[i], *entry, prefetch_requests_[i].out, true);
    }
}

Result<CodeCache::Entry> CodeCache::load(RemoteAddress code) {
    const auto& layout = reader_.layout();
    const auto& c = layout.code;
    std::array<std::byte, code_header_buffer_size> buffer{};
    auto header = std::span(buffer).first(header_size_);
    if (auto ok = reader_.memory().read(field_address(code, header_start_), header); !ok)
        return std::unexpected(ok.error());
    auto fingerprint = fingerprint_of(header);
    auto field = [&](Offset offset) { return load_unsigned(header, static_cast<std::size_t>(offset - header_start_), 8); };
    if (field(layout.object.ob_type) != reader_.types().code)
        return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not a code object", code));

    auto first_line = sampler::load<int>(header.data(), c.firstlineno - header_start_);
    if (first_line < 0) return fail(ErrorKind::bad_data, fmt::format("code at {:#x} has line {}", code, first_line));

    auto filename = reader_.read_str(field(c.filename));
    if (!filename) return std::unexpected(filename.error());
    auto name = reader_.read_str(field(c.qualname != absent ? c.qualname : c.name));
    if (!name) return std::unexpected(name.error());
    auto table = reader_.read_bytes(field(c.linetable));
    if (!table) return std::unexpected(table.error());

    auto info = std::make_shared<CodeInfo>();
    info->function = std::move(*name);
    info->filename = std::move(*filename);
    info->first_line = first_line;
    info->lines = LineTable(layout.line_table, *table, first_line);
    const std::size_t bytes = sizeof(CodeInfo) + sizeof(Entry) + info->function.capacity() +
                              info->filename.capacity() + info->lines.ranges().capacity() * sizeof(LineRange);
    return Entry{std::move(info), fingerprint, 0, 0, bytes};
}

}  // namespace pyprofd::sampler
