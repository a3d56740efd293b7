#pragma once
// For each CPython ABI family, the C expression that computes each field of our
// built-in Layout from that version's own headers. layout_test compiles these
// against every installed version and compares with the table in sampler/.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace pyprofd::tests {

struct HeaderFields {
    int major;
    int minor;
    std::string_view includes;  // C code placed before main()
    std::vector<std::pair<std::string_view, std::string_view>> fields;  // layout name -> C expression
};

const std::vector<HeaderFields>& header_fields();

// A C program that prints "name value" for every field of h.
std::string probe_source(const HeaderFields& h);

}  // namespace pyprofd::tests
