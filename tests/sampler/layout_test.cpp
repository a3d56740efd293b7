// Every offset of our built-in layout tables against offsetof() compiled from each
// installed interpreter's own headers.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>


#include "sampler/layout.hpp"
#include "tests/sampler/layout_header_fields.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/interpreters.hpp"
#include "tests/support/scratch_dir.hpp"

using namespace pyprofd;

namespace {

std::map<std::string, long> parse_probe_output(const std::string& out) {
    std::map<std::string, long> values;
    std::istringstream in(out);
    std::string name;
    long value = 0;
    while (in >> name >> value) values[name] = value;
    return values;
}

}  // namespace

TEST_CASE("built-in layouts match offsetof() in every installed version's headers") {
    int compared_versions = 0;
    for (const auto& py : tests::interpreters()) {
        if (py.include_dir.empty()) {
            if (tests::interpreters_required())
                FAIL_CHECK("layout: " << py.label << ": its headers are not installed, and CI requires them");
            else
                std::cout << "layout: SKIPPED " << py.label << ": its headers are not installed\n";
            continue;
        }
        auto layout = sampler::builtin_layout(py.major, py.minor);
        REQUIRE_MESSAGE(layout, "no built-in layout for " << py.label);
        const tests::HeaderFields* fields = nullptr;
        for (const auto& h : tests::header_fields())
            if (h.major == py.major && h.minor == py.minor) fields = &h;
        REQUIRE_MESSAGE(fields, "no header field list for " << py.label);

        tests::ScratchDir dir;  // a fresh one of its own, removed even when a check fails
        auto source = dir.path / ("probe" + std::to_string(py.major) + std::to_string(py.minor) + ".c");
        auto binary = dir.path / ("probe" + std::to_string(py.major) + std::to_string(py.minor));
        std::ofstream(source) << tests::probe_source(*fields);
        auto compiled = tests::run_command({.argv = {"cc", "-I" + py.include_dir, "-I" + py.include_dir + "/internal",
                                             "-o", binary.string(), source.string()}});
        REQUIRE_MESSAGE(compiled.exit_code == 0, "cannot compile the probe for " << py.label << ":\n" << compiled.err);
        auto ran = tests::run_command({.argv = {binary.string()}});
        REQUIRE(ran.exit_code == 0);
        auto measured = parse_probe_output(ran.out);

        std::vector<std::string> unchecked;
        layout->for_each_offset([&](std::string_view name, sampler::Offset ours) {
            auto it = measured.find(std::string(name));
            if (it == measured.end()) {
                if (ours != sampler::absent) unchecked.emplace_back(name);
                return;
            }
            INFO(py.label << " " << name);
            CHECK(ours == it->second);
        });
        CHECK(measured.size() == fields->fields.size());
        std::cout << "layout: " << py.label << ": " << measured.size() << " offsets match the headers";
        if (!unchecked.empty()) {
            std::cout << "; not in its headers (checked by reading real processes):";
            for (const auto& u : unchecked) std::cout << " " << u;
        }
        std::cout << "\n";
        ++compared_versions;
    }
    if (compared_versions == 0) {
        if (tests::interpreters_required()) FAIL("layout: no interpreter with headers found, and CI requires one");
        std::cout << "layout: SKIPPED: no interpreter with headers found\n";
    }
}

TEST_CASE("every built-in family has a header field list") {
    for (auto [major, minor] : sampler::builtin_layout_versions()) {
        bool listed = false;
        for (const auto& h : tests::header_fields()) listed |= h.major == major && h.minor == minor;
        INFO(major << "." << minor);
        CHECK(listed);
    }
}
