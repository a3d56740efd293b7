#pragma once
// A fresh directory under /tmp for one test, removed with everything in it after.
#include <stdlib.h>

#include <filesystem>
#include <string>
#include <system_error>

namespace pyprofd::tests {

struct ScratchDir {
    ScratchDir() {
        char pattern[] = "/tmp/pyprofd-test-XXXXXX";
        path = ::mkdtemp(pattern);
    }
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    std::string file(const std::string& name) const { return (path / name).string(); }
    std::filesystem::path path;
};

}  // namespace pyprofd::tests
