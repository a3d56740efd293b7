// The whole sampler on a process that is not one: the input is the memory of a
// CPython, at the fixed address and with the fixed symbols of the images that
// tests/support/fake_cpython.hpp builds (the seeds, one per version, reach a full
// sample). Mutations reach the version, the _Py_DebugOffsets, every pointer,
// offset, length and character. Attach, then a few samples, as a session would.
// Beyond no crash and no sanitizer report: every error says something, and every
// name that comes out is valid UTF-8 (it goes to terminals, files and browsers).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string_view>

#include "sampler/python_process.hpp"
#include "tests/support/fake_cpython.hpp"

namespace {

bool valid_utf8(std::string_view s) {
    for (std::size_t i = 0; i < s.size();) {
        auto b = static_cast<unsigned char>(s[i]);
        std::size_t n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (std::size_t k = 1; k < n; ++k)
            if ((static_cast<unsigned char>(s[i + k]) & 0xc0) != 0x80) return false;
        i += n;
    }
    return true;
}

void check(bool invariant) {
    if (!invariant) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pyprofd;
    // Memory comes in whole pages; what the input does not cover reads as zeros.
    std::vector<std::byte> memory((size + 4095) & ~std::size_t{4095});
    if (size > 0) std::memcpy(memory.data(), data, size);
    auto space = std::make_shared<sampler::BufferAddressSpace>(tests::fake_image_base, std::move(memory));
    static const auto binary = tests::FakeCPython::binary();

    auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), binary, space);
    if (!process) {
        check(!process.error().message.empty());
        return 0;
    }
    for (int i = 0; i < 3; ++i) {
        // Never pause_threads: the "process" is this one.
        auto sample = process->sample({.thread_names = true, .thread_activity = false, .pause_threads = false});
        if (!sample) {
            check(!sample.error().message.empty());
            continue;
        }
        for (const auto& thread : sample->threads) {
            check(valid_utf8(thread.name));
            if (thread.error) check(!thread.error->message.empty());
            for (const auto& frame : thread.frames) {
                check(valid_utf8(frame.function()) && valid_utf8(frame.filename()));
                check(frame.line >= -1);
            }
        }
    }
    return 0;
}
