#pragma once
// threading's thread names, read from the target's threading._active, a dict
// from thread ident to Thread object, whose name attribute we read.
#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>

#include "sampler/object_reader.hpp"

namespace pyprofd::sampler {

class ThreadNames {
public:
    // Reads every name now. `interpreter` is the PyInterpreterState whose sys.modules
    // holds threading. A program that never imported threading has no names.
    Result<void> refresh(const ObjectReader& reader, RemoteAddress interpreter);

    std::optional<std::string> name_of(std::uint64_t ident) const;
    bool knows(std::uint64_t ident) const { return names_.contains(ident); }

private:
    Result<RemoteAddress> find_active_dict(const ObjectReader& reader, RemoteAddress interpreter);

    RemoteAddress active_dict_ = 0;  // threading._active, kept between refreshes
    std::unordered_map<std::uint64_t, std::string> names_;
};

}  // namespace pyprofd::sampler
