// pprof's Function messages as go tool pprof reads them: a function's name is what
// pprof shows, as written. pprof simplifies a name it takes for C++ (it cuts
// "<...>" and "(...)" out) when the function's system_name is empty-or-equal to its
// name, so a Python `<module>` frame written with system_name == name showed as
// <unknown>. Decoded here with a reader of the few wire types pyprofd writes.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "render/pprof.hpp"
#include "render/profile.hpp"

using namespace pyprofd::render;

namespace {

// One message's fields: varints by number, and length-delimited parts by number.
struct Fields {
    std::multimap<std::uint32_t, std::uint64_t> numbers;
    std::multimap<std::uint32_t, std::string_view> parts;
};

std::uint64_t read_varint(std::string_view bytes, std::size_t& at) {
    std::uint64_t value = 0;
    for (int shift = 0; at < bytes.size(); shift += 7) {
        auto byte = static_cast<unsigned char>(bytes[at++]);
        value |= static_cast<std::uint64_t>(byte & 0x7f) << shift;
        if (!(byte & 0x80)) return value;
    }
    FAIL("a varint runs past the message's end");
    return 0;
}

Fields read_fields(std::string_view bytes) {
    Fields fields;
    for (std::size_t at = 0; at < bytes.size();) {
        auto key = read_varint(bytes, at);
        auto number = static_cast<std::uint32_t>(key >> 3);
        switch (key & 7) {
            case 0: fields.numbers.emplace(number, read_varint(bytes, at)); break;
            case 2: {
                auto size = read_varint(bytes, at);
                REQUIRE(at + size <= bytes.size());
                fields.parts.emplace(number, bytes.substr(at, size));
                at += size;
                break;
            }
            default: FAIL("a wire type pyprofd does not write: " << (key & 7)); return fields;
        }
    }
    return fields;
}

struct Function {
    std::string name, system_name, file;
};

// Every Function of a profile message, its strings looked up in the table.
std::vector<Function> functions_of(const std::string& message) {
    auto profile = read_fields(message);
    std::vector<std::string_view> strings;
    for (auto [it, end] = profile.parts.equal_range(6); it != end; ++it) strings.push_back(it->second);
    auto text = [&](const Fields& f, std::uint32_t number) {
        auto it = f.numbers.find(number);
        if (it == f.numbers.end()) return std::string();  // absent: index 0, ""
        REQUIRE(it->second < strings.size());
        return std::string(strings[it->second]);
    };
    std::vector<Function> functions;
    for (auto [it, end] = profile.parts.equal_range(5); it != end; ++it) {
        auto f = read_fields(it->second);
        functions.push_back({text(f, 2), text(f, 3), text(f, 4)});
    }
    return functions;
}

}  // namespace

TEST_CASE("pprof: a <module> frame's function is named <module>, with no system name for pprof to simplify") {
    Profile profile;
    profile.add_labels(std::vector<std::string>{"thread \"MainThread\" (1)", "<module> (app.py:3)", "main (app.py:10)",
                                                "<lambda> (app.py:12)", "render<T> (tmpl.py:7)"},
                       5);
    auto functions = functions_of(pprof_message(profile, {}));
    REQUIRE(functions.size() == 4);
    std::map<std::string, Function> by_name;
    for (const auto& f : functions) by_name[f.name] = f;
    for (const char* name : {"<module>", "main", "<lambda>", "render<T>"}) {
        CAPTURE(name);
        REQUIRE(by_name.contains(name));
        CHECK(by_name[name].system_name.empty());
        CHECK(by_name[name].file == (std::string_view(name) == "render<T>" ? "tmpl.py" : "app.py"));
    }
}
