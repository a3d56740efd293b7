#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "sampler/text_encoding.hpp"

using namespace pyprofd::sampler;

namespace {
template <class T>
std::vector<std::byte> units(std::initializer_list<T> values) {
    std::vector<std::byte> out(values.size() * sizeof(T));
    std::size_t i = 0;
    for (T v : values) std::memcpy(out.data() + sizeof(T) * i++, &v, sizeof v);
    return out;
}
std::vector<std::byte> bytes(std::string_view s) {
    auto p = reinterpret_cast<const std::byte*>(s.data());
    return {p, p + s.size()};
}
}  // namespace

TEST_CASE("PEP 393 code units of each kind become UTF-8") {
    CHECK(utf8_from_code_units(units<std::uint8_t>({'a', 0xe9}), 1) == "a\xc3\xa9");                 // aé
    CHECK(utf8_from_code_units(units<std::uint16_t>({0x8a08, 0x7b97}), 2) == "\xe8\xa8\x88\xe7\xae\x97");  // 計算
    CHECK(utf8_from_code_units(units<std::uint32_t>({0x1f40d}), 4) == "\xf0\x9f\x90\x8d");             // 🐍
}

TEST_CASE("garbage code points become U+FFFD, never invalid UTF-8") {
    CHECK(utf8_from_code_units(units<std::uint16_t>({0xd800}), 2) == "\xef\xbf\xbd");
    CHECK(utf8_from_code_units(units<std::uint32_t>({0x110000}), 4) == "\xef\xbf\xbd");
}

TEST_CASE("byte strings are kept where valid UTF-8 and repaired where not") {
    CHECK(sanitize_utf8(bytes("unicode_\xe5\x90\x8d\xe5\x89\x8d.py")) == "unicode_\xe5\x90\x8d\xe5\x89\x8d.py");
    CHECK(sanitize_utf8(bytes("a\xffz")) == "a\xef\xbf\xbdz");
    CHECK(sanitize_utf8(bytes("\xe5\x90")) == "\xef\xbf\xbd\xef\xbf\xbd");  // truncated sequence
    CHECK(sanitize_utf8(bytes("\xc0\xaf")) == "\xef\xbf\xbd\xef\xbf\xbd");  // overlong '/'
}
