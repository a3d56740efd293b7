#include "sampler/remote_dict.hpp"

#include <array>
#include <fmt/format.h>

#include "sampler/byte_reads.hpp"

namespace pyprofd::sampler {
namespace {

constexpr unsigned long tpflags_inline_values = 1ul << 2;  // 3.13+
constexpr unsigned long tpflags_managed_dict = 1ul << 4;   // 3.11+
constexpr int dict_kind_general = 0;                        // 3.11+: (hash, key, value) entries

// The entries of a keys object; values come from `values` for split (shared-key) tables.
Result<std::vector<DictEntry>> read_keys(const ObjectReader& reader, RemoteAddress keys,
                                         RemoteAddress values, std::size_t max_entries) {
    const auto& layout = reader.layout();
    const auto& memory = reader.memory();
    std::uint64_t nentries = 0;
    std::uint64_t entries_offset = 0;
    std::size_t entry_size = 24;  // (hash, key, value)
    std::size_t key_in_entry = 8;

    if (layout.dicts == DictModel::compact_py36) {
        auto size = memory.read<std::int64_t>(field_address(keys, layout.dict_keys.size));
        auto n = memory.read<std::int64_t>(field_address(keys, layout.dict_keys.nentries));
        if (!size) return std::unexpected(size.error());
        if (!n) return std::unexpected(n.error());
        if (*size <= 0 || *size > (1ll << 30) || (*size & (*size - 1)) != 0 || *n < 0 || *n > *size)
            return fail(ErrorKind::bad_data, fmt::format("dict keys at {:#x} look corrupt", keys));
        std::uint64_t index_bytes = *size <= 0xff ? 1 : *size <= 0xffff ? 2 : *size <= 0xffffffffll ? 4 : 8;
        entries_offset = static_cast<std::uint64_t>(layout.dict_keys.indices) + index_bytes * static_cast<std::uint64_t>(*size);
        nentries = static_cast<std::uint64_t>(*n);
    } else {
        struct {
            std::uint8_t log2_size, log2_index_bytes, kind;
        } head{};
        auto h = memory.read<std::array<std::uint8_t, 3>>(field_address(keys, layout.dict_keys.size));
        auto n = memory.read<std::int64_t>(field_address(keys, layout.dict_keys.nentries));
        if (!h) return std::unexpected(h.error());
        if (!n) return std::unexpected(n.error());
        head = {(*h)[0], (*h)[1], (*h)[2]};
        if (head.log2_size > 30 || head.log2_index_bytes > 33 || head.kind > 2 || *n < 0 ||
            *n > (1ll << head.log2_size))
            return fail(ErrorKind::bad_data, fmt::format("dict keys at {:#x} look corrupt", keys));
        entries_offset = static_cast<std::uint64_t>(layout.dict_keys.indices) + (1ull << head.log2_index_bytes);
        nentries = static_cast<std::uint64_t>(*n);
        if (head.kind != dict_kind_general) {
            entry_size = 16;  // (key, value)
            key_in_entry = 0;
        }
    }
    if (nentries > max_entries)
        return fail(ErrorKind::bad_data, fmt::format("dict keys at {:#x} say they have {} entries, more than the {} "
                                                     "believed",
                                                     keys, nentries, max_entries));

    std::vector<std::byte> raw(nentries * entry_size);
    if (auto ok = memory.read(keys + entries_offset, raw); !ok) return std::unexpected(ok.error());
    std::vector<RemoteAddress> split_values;
    if (values != 0 && nentries > 0) {
        split_values.resize(nentries);
        auto bytes = std::as_writable_bytes(std::span(split_values));
        if (auto ok = memory.read(field_address(values, layout.dict_values.values), bytes); !ok)
            return std::unexpected(ok.error());
    }
    std::vector<DictEntry> out;
    for (std::size_t i = 0; i < nentries; ++i) {
        DictEntry e;
        e.key = load<RemoteAddress>(raw, i * entry_size + key_in_entry);
        e.value = values != 0 ? split_values[i] : load<RemoteAddress>(raw, i * entry_size + key_in_entry + 8);
        if (e.key != 0 && e.value != 0) out.push_back(e);
    }
    return out;
}

Result<std::vector<DictEntry>> read_dict_py27(const ObjectReader& reader, RemoteAddress dict,
                                              std::size_t max_entries) {
    const auto& layout = reader.layout();
    auto mask = reader.memory().read<std::int64_t>(field_address(dict, layout.dict.mask));
    auto table = reader.read_pointer(field_address(dict, layout.dict.table));
    if (!mask) return std::unexpected(mask.error());
    if (!table) return std::unexpected(table.error());
    // A table at most 2/3 full: 4 slots an entry is more than any real one has.
    if (*mask < 0 || static_cast<std::uint64_t>(*mask) >= 4 * max_entries)
        return fail(ErrorKind::bad_data, fmt::format("dict at {:#x} says it has {} slots, more than the {} believed",
                                                     dict, *mask + 1, 4 * max_entries));
    std::vector<std::byte> raw(static_cast<std::size_t>(*mask + 1) * 24);
    if (auto ok = reader.memory().read(*table, raw); !ok) return std::unexpected(ok.error());
    std::vector<DictEntry> out;
    for (std::size_t i = 0; i <= static_cast<std::size_t>(*mask); ++i) {
        DictEntry e{load<RemoteAddress>(raw, i * 24 + 8), load<RemoteAddress>(raw, i * 24 + 16)};
        if (e.key != 0 && e.value != 0) out.push_back(e);  // a dummy key has no value
    }
    return out;
}

Result<std::optional<RemoteAddress>> find_str_key(const ObjectReader& reader,
                                                  const std::vector<DictEntry>& entries,
                                                  std::string_view key) {
    for (const auto& e : entries) {
        auto equal = reader.str_equals(e.key, key);
        if (!equal) return std::unexpected(equal.error());
        if (*equal) return e.value;
    }
    return std::nullopt;
}

}  // namespace

Result<std::vector<DictEntry>> read_dict(const ObjectReader& reader, RemoteAddress dict,
                                         std::size_t max_entries) {
    auto type = reader.type_of(dict);
    if (!type) return std::unexpected(type.error());
    if (*type != reader.types().dict)
        return fail(ErrorKind::bad_data, fmt::format("object at {:#x} is not a dict", dict));
    const auto& layout = reader.layout();
    if (layout.dicts == DictModel::open_addressing_py27) return read_dict_py27(reader, dict, max_entries);
    auto keys = reader.read_pointer(field_address(dict, layout.dict.keys));
    auto values = reader.read_pointer(field_address(dict, layout.dict.values));
    if (!keys) return std::unexpected(keys.error());
    if (!values) return std::unexpected(values.error());
    return read_keys(reader, *keys, *values, max_entries);
}

Result<std::optional<RemoteAddress>> dict_get(const ObjectReader& reader, RemoteAddress dict,
                                              std::string_view key) {
    auto entries = read_dict(reader, dict);
    if (!entries) return std::unexpected(entries.error());
    return find_str_key(reader, *entries, key);
}

Result<std::optional<RemoteAddress>> instance_attribute(const ObjectReader& reader, RemoteAddress object,
                                                        std::string_view name) {
    const auto& layout = reader.layout();
    auto type = reader.type_of(object);
    if (!type) return std::unexpected(type.error());
    auto flags = reader.memory().read<unsigned long>(field_address(*type, layout.type.tp_flags));
    if (!flags) return std::unexpected(flags.error());

    // Values that live outside a dict object share the keys cached on the type.
    auto from_shared_keys = [&](RemoteAddress values) -> Result<std::optional<RemoteAddress>> {
        auto keys = reader.read_pointer(field_address(*type, layout.type.ht_cached_keys));
        if (!keys) return std::unexpected(keys.error());
        if (*keys == 0) return std::nullopt;
        auto entries = read_keys(reader, *keys, values, max_shared_keys_entries);
        if (!entries) return std::unexpected(entries.error());
        return find_str_key(reader, *entries, name);
    };
    auto from_dict = [&](RemoteAddress dict) -> Result<std::optional<RemoteAddress>> {
        if (dict == 0) return std::nullopt;
        return dict_get(reader, dict, name);
    };
    constexpr RemoteAddress word = sizeof(RemoteAddress);

    bool managed = (*flags & tpflags_managed_dict) != 0;
    switch (layout.instance_dicts) {
        case InstanceDictModel::managed_py311:
            if (managed) {
                auto dict = reader.read_pointer(object - 3 * word);
                if (!dict) return std::unexpected(dict.error());
                if (*dict != 0) return from_dict(*dict);
                auto values = reader.read_pointer(object - 4 * word);
                if (!values) return std::unexpected(values.error());
                if (*values == 0) return std::nullopt;
                return from_shared_keys(*values);
            }
            break;
        case InstanceDictModel::managed_tagged_py312:
            if (managed) {
                auto dict_or_values = reader.read_pointer(object - 3 * word);
                if (!dict_or_values) return std::unexpected(dict_or_values.error());
                // Stored as (values - 1): an odd pointer says "values, not a dict".
                if (*dict_or_values & 1) return from_shared_keys(*dict_or_values + 1);
                return from_dict(*dict_or_values);
            }
            break;
        case InstanceDictModel::inline_values_py313:
        case InstanceDictModel::inline_values_py314:
            if (*flags & tpflags_inline_values) {
                // struct _dictvalues {capacity, size, embedded, valid, values[]}: after the
                // object's header (3.13, where such types have no other fields), or after
                // its basic size (3.14+, _PyObject_InlineValues).
                RemoteAddress values = object + 2 * word;
                if (layout.instance_dicts == InstanceDictModel::inline_values_py314) {
                    auto basic_size = reader.memory().read<std::int64_t>(field_address(*type, layout.type.tp_basicsize));
                    if (!basic_size) return std::unexpected(basic_size.error());
                    if (*basic_size < static_cast<std::int64_t>(2 * word) || *basic_size > (1 << 20) ||
                        *basic_size % static_cast<std::int64_t>(word) != 0)
                        return fail(ErrorKind::bad_data,
                                    fmt::format("type at {:#x} says its objects are {} bytes", *type, *basic_size));
                    values = object + static_cast<RemoteAddress>(*basic_size);
                }
                auto valid = reader.memory().read<std::uint8_t>(values + 3);
                if (!valid) return std::unexpected(valid.error());
                if (*valid) return from_shared_keys(values);
            }
            if (managed) {
                auto dict = reader.read_pointer(object - 3 * word);
                if (!dict) return std::unexpected(dict.error());
                return from_dict(*dict);
            }
            break;
        case InstanceDictModel::dict_offset:
            break;
    }
    auto dictoffset = reader.memory().read<std::int64_t>(field_address(*type, layout.type.tp_dictoffset));
    if (!dictoffset) return std::unexpected(dictoffset.error());
    if (*dictoffset <= 0) return std::nullopt;
    auto dict = reader.read_pointer(object + static_cast<RemoteAddress>(*dictoffset));  // a 64-bit size, not an Offset
    if (!dict) return std::unexpected(dict.error());
    return from_dict(*dict);
}

}  // namespace pyprofd::sampler
