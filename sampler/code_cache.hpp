#pragma once
// What a frame needs of its code object (names, file, line table), read once per
// code object and kept: a steady program's samples then cost about one read per frame.
#include <cstddef>
#include <memory>
#include <string>
#include <unordered_map>

#include "sampler/line_table.hpp"
#include "sampler/object_reader.hpp"

namespace pyprofd::sampler {

struct CodeInfo {
    std::string function;  // the qualified name where the version has one, else co_name
    std::string filename;
    int first_line = 0;
    LineTable lines;
};

class CodeCache {
public:
    explicit CodeCache(const ObjectReader& reader, std::size_t max_entries = 1 << 16)
        : reader_(reader), max_entries_(max_entries) {}

    // The code object at `code`, read and checked on first use.
    Result<std::shared_ptr<const CodeInfo>> get(RemoteAddress code);

    std::size_t size() const { return codes_.size(); }
    std::uint64_t misses() const { return misses_; }

private:
    Result<std::shared_ptr<const std::string>> string_at(RemoteAddress str);
    Result<std::shared_ptr<const CodeInfo>> load(RemoteAddress code);

    const ObjectReader& reader_;
    std::size_t max_entries_;
    std::unordered_map<RemoteAddress, std::shared_ptr<const CodeInfo>> codes_;
    // Strings are shared between code objects (file names above all).
    std::unordered_map<RemoteAddress, std::shared_ptr<const std::string>> strings_;
    std::uint64_t misses_ = 0;
};

}  // namespace pyprofd::sampler
