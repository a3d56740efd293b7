#pragma once
// Reading dicts and instance attributes of the target, for every dict layout
// CPython has had (2.7's open addressing, 3.6's compact dicts, 3.11's key kinds,
// split/shared keys, and the managed and inline instance dicts of 3.11 - 3.13).
#include <optional>
#include <string_view>
#include <vector>

#include "sampler/object_reader.hpp"
#include "sampler/remote_limits.hpp"

namespace pyprofd::sampler {

struct DictEntry {
    RemoteAddress key = 0;
    RemoteAddress value = 0;
};

// The live entries of a dict (at most max_entries; more is bad data).
Result<std::vector<DictEntry>> read_dict(const ObjectReader& reader, RemoteAddress dict,
                                         std::size_t max_entries = max_dict_entries);

// dict[key] for a str key, or nullopt where the key is absent.
Result<std::optional<RemoteAddress>> dict_get(const ObjectReader& reader, RemoteAddress dict,
                                              std::string_view key);

// obj.name from the object's instance __dict__ (managed, inline or at tp_dictoffset).
Result<std::optional<RemoteAddress>> instance_attribute(const ObjectReader& reader, RemoteAddress object,
                                                        std::string_view name);

}  // namespace pyprofd::sampler
