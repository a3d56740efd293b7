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
#include <iterator>
#include <random>
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

// A quarter of the mutations change one field of the input's _Py_DebugOffsets (where
// it has one) to a number near the edge of a struct or of one of pyprofd's buffers:
// what a crafted table plays with. Uniform mutations of a 24 KiB image rarely hit
// the table's 584 to 888 bytes, let alone move a field and its struct's size together.
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
    using pyprofd::tests::FakeCPython;
    // The largest shape's (3.15): a smaller table's image holds other fields past it.
    constexpr std::size_t table_size = sizeof(pyprofd::sampler::DebugOffsets315);
    const std::size_t table_at = FakeCPython::runtime_address() - pyprofd::tests::fake_image_base;
    std::minstd_rand random(seed);
    if (size < table_at + table_size || random() % 4 != 0) return LLVMFuzzerMutate(data, size, max_size);
    static constexpr std::uint64_t edges[] = {0,   1,    7,    8,    40,   48,     56,      63,         64,
                                              72,  248,  255,  256,  257,  304,    504,     511,        512,
                                              513, 4096, 8192, 1 << 16, 1 << 20, (1 << 20) + 1, ~0ull - 7, ~0ull};
    std::uint64_t value = random() % 2 ? edges[random() % std::size(edges)] : random() % 1024;
    const std::size_t field = 1 + random() % (table_size / 8 - 1);  // any but the cookie
    std::memcpy(data + table_at + 8 * field, &value, sizeof value);
    return size;
}

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
