#include "sampler/thread_names.hpp"

#include "sampler/byte_reads.hpp"
#include "sampler/remote_dict.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {

Result<RemoteAddress> ThreadNames::find_active_dict(const ObjectReader& reader, RemoteAddress interpreter) {
    const auto& layout = reader.layout();
    auto modules = reader.read_pointer(field_address(interpreter, layout.interpreter.modules));
    if (!modules) return std::unexpected(modules.error());
    if (*modules == 0) return 0;
    auto threading = dict_get(reader, *modules, "threading");
    if (!threading) return std::unexpected(threading.error());
    if (!*threading) return 0;
    auto module_dict = reader.read_pointer(field_address(**threading, layout.module.md_dict));
    if (!module_dict) return std::unexpected(module_dict.error());
    auto active = dict_get(reader, *module_dict, "_active");
    if (!active) return std::unexpected(active.error());
    return active->value_or(0);
}

Result<void> ThreadNames::refresh(const ObjectReader& reader, RemoteAddress interpreter) {
    auto entries = active_dict_ != 0 ? read_dict(reader, active_dict_) : Result<std::vector<DictEntry>>{};
    if (active_dict_ == 0 || !entries) {
        auto active = find_active_dict(reader, interpreter);
        if (!active) return std::unexpected(active.error());
        active_dict_ = *active;
        if (active_dict_ == 0) return {};
        entries = read_dict(reader, active_dict_);
        if (!entries) return std::unexpected(entries.error());
    }
    std::unordered_map<std::uint64_t, ThreadName> names;
    std::size_t name_bytes = 0;
    for (const auto& entry : *entries) {
        auto ident = reader.read_int(entry.key);
        if (!ident) continue;  // a thread that just ended: skip it, keep the others
        auto name_object = instance_attribute(reader, entry.value, reader.layout().thread_name_attribute);
        if (!name_object || !*name_object) continue;
        auto name = reader.read_str(**name_object, max_thread_name_chars);
        if (!name) continue;
        // Past the budget, threads go without a name rather than pyprofd without memory.
        if (name_bytes + name->size() > max_thread_name_bytes) break;
        name_bytes += name->size();
        // A renamed thread gets a new name; the others keep theirs, shared with the
        // samples that hold it (a cheap comparison downstream).
        auto key = static_cast<std::uint64_t>(*ident);
        if (auto old = names_.find(key); old != names_.end() && old->second == *name)
            names.emplace(key, old->second);
        else
            names.emplace(key, std::move(*name));
    }
    names_ = std::move(names);
    return {};
}

void ThreadNames::refresh_if_stale(const ObjectReader& reader, RemoteAddress interpreter,
                                   const std::vector<NamedThread>& threads,
                                   std::chrono::steady_clock::duration max_age) {
    auto now = std::chrono::steady_clock::now();
    bool new_ident = false;
    for (const auto& t : threads) {
        auto it = seen_.find(t.ident);
        if (it == seen_.end()) {
            new_ident = true;
        } else if (t.tid != 0 && it->second != t.tid) {  // (0: its OS thread not found)
            if (it->second != 0) {
                names_.erase(t.ident);  // not this thread's name
                unnamed_since_refresh_ = true;
            }
            it->second = t.tid;
        }
    }
    const auto age = now - refreshed_;
    if (!new_ident && age < max_age && !(unnamed_since_refresh_ && age >= reused_ident_refresh)) return;
    // A failed refresh keeps the names we had: the next new thread or max_age tries again.
    (void)refresh(reader, interpreter);
    // Ended threads' idents are kept (within a bound): one that comes back is a reused
    // ident, not a new one, and waits for the next timely refresh rather than making
    // one at once (forgotten at each refresh, they made one about every other sample).
    if (seen_.size() > 2 * threads.size() + 1024) seen_.clear();
    for (const auto& t : threads) seen_[t.ident] = t.tid;
    refreshed_ = now;
    unnamed_since_refresh_ = false;
}

const ThreadName* ThreadNames::name_of(std::uint64_t ident) const {
    auto it = names_.find(ident);
    return it != names_.end() ? &it->second : nullptr;
}

}  // namespace pyprofd::sampler
