// The ELF reader on a file that a target's owner wrote: the input is the whole file.
// The seeds are the interpreters of the test machine, cut down to what the reader
// reads (tests/fuzz/make_elf_seeds.py). Each input is parsed twice: keeping the
// symbols the sampler looks up, and keeping any (up to the reader's cap), which
// reaches every name. Beyond no crash and no sanitizer report (the input is
// libFuzzer's own buffer of exactly its size, so a read past it is reported): an
// error says something; no more symbols are kept than the selection allows; every
// one has a name that is not empty, within the bound, and is found again by name.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <random>
#include <span>

#include "sampler/elf_file.hpp"
#include "sampler/interpreter_symbols.hpp"

namespace {

void check(bool invariant) {
    if (!invariant) __builtin_trap();
}

// Where the numbers of the ELF header, the section headers and the program headers
// lie, as {offset within the struct, width}.
struct Field {
    std::size_t at;
    std::size_t width;
};
constexpr Field header_fields[] = {{32, 8}, {40, 8}, {54, 2}, {56, 2}, {58, 2}, {60, 2}, {62, 2}};
constexpr Field section_fields[] = {{0, 4}, {4, 4}, {16, 8}, {24, 8}, {32, 8}, {40, 4}, {56, 8}};
constexpr Field segment_fields[] = {{8, 8}, {16, 8}, {32, 8}, {40, 8}};

template <class T>
T load(const std::uint8_t* data, std::size_t at) {
    T v;
    std::memcpy(&v, data + at, sizeof v);
    return v;
}

}  // namespace

// A quarter of the mutations are this fuzzer's own: mostly, one number of the headers
// (the file header's, or one section's or segment's, found where the input's own
// header says) set to a number near an edge: of a struct, of the input, of 2^16,
// 2^32 or 2^64. Uniform mutations of a 25 KB seed seldom hit the 3 KB of headers,
// let alone with such numbers.
extern "C" std::size_t LLVMFuzzerMutate(std::uint8_t* data, std::size_t size, std::size_t max_size);

extern "C" std::size_t LLVMFuzzerCustomMutator(std::uint8_t* data, std::size_t size, std::size_t max_size,
                                               unsigned int seed) {
    std::minstd_rand random(seed);
    if (size < 64 || random() % 4 != 0) return LLVMFuzzerMutate(data, size, max_size);
    if (random() % 4 == 0) {
        // A run of bytes without a NUL, as in a string table whose names run together:
        // byte mutations seldom make one longer than a name may be.
        const std::size_t at = random() % size;
        const std::size_t length = std::min<std::size_t>(size - at, random() % 1100);
        std::memset(data + at, 'a' + static_cast<int>(random() % 26), length);
        return size;
    }
    const std::uint64_t edges[] = {0,          1,          2,           23,          24,          25,
                                   55,         56,         57,          63,          64,          65,
                                   size - 1,   size,       size + 1,    size / 2,    0xffff,      0x10000,
                                   0xffffffff, 1ull << 32, 1ull << 63,  ~0ull - 63,  ~0ull - 23,  ~0ull};
    std::uint64_t value = random() % 2 ? edges[random() % std::size(edges)] : random() % 4096;

    std::size_t base = 0;
    Field field = header_fields[random() % std::size(header_fields)];
    const auto phoff = load<std::uint64_t>(data, 32);
    const auto shoff = load<std::uint64_t>(data, 40);
    const auto phnum = load<std::uint16_t>(data, 56);
    const auto shnum = load<std::uint16_t>(data, 60);
    switch (random() % 3) {
        case 0: break;
        case 1:
            if (shnum == 0 || shoff > size) break;
            base = shoff + 64 * (random() % shnum);
            field = section_fields[random() % std::size(section_fields)];
            break;
        default:
            if (phnum == 0 || phoff > size) break;
            base = phoff + 56 * (random() % phnum);
            field = segment_fields[random() % std::size(segment_fields)];
            break;
    }
    if (base > size || size - base < field.at + field.width) return LLVMFuzzerMutate(data, size, max_size);
    std::memcpy(data + base + field.at, &value, field.width);  // little-endian: the low bytes
    return size;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace pyprofd::sampler;
    static const SymbolSelection any{.prefixes = {""}};
    const auto file = std::as_bytes(std::span(data, size));
    for (const SymbolSelection* keep : {&interpreter_symbols(), &any}) {
        auto elf = ElfFile::parse(file, "fuzz.elf", *keep);
        if (!elf) {
            check(!elf.error().message.empty());
            continue;
        }
        auto names = elf->symbols_with_prefix("");
        check(names.size() <= keep->names.size() + ElfFile::max_symbols_kept_by_prefix);
        for (const auto& name : names) {
            check(!name.empty() && name.size() <= ElfFile::max_symbol_name_length);
            check(elf->symbol(name).has_value());
        }
        // Sections and segments: any numbers, as the file says; the sampler checks
        // what it reads at them against the target's memory. Looked up as it does.
        for (const char* section : {".PyRuntime", ".bss"}) static_cast<void>(elf->section(section));
    }
    return 0;
}
