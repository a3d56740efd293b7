// Every offset of our built-in layout tables against offsetof() compiled from each
// installed interpreter's own headers.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <sstream>


#include "sampler/debug_offsets.hpp"
#include "sampler/layout.hpp"
#include "tests/sampler/debug_offsets_mirror_fields.hpp"
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

// Compiles a C probe against the interpreter's headers and runs it: its output.
std::string run_probe(const tests::Interpreter& py, const std::string& source_text, const std::string& name) {
    tests::ScratchDir dir;  // a fresh one of its own, removed even when a check fails
    auto source = dir.path / (name + ".c");
    auto binary = dir.path / name;
    std::ofstream(source) << source_text;
    std::vector<std::string> argv = {"cc", "-I" + py.include_dir, "-I" + py.include_dir + "/internal"};
    if (!py.arch_include_dir.empty()) argv.insert(argv.end(), {"-idirafter", py.arch_include_dir});
    argv.insert(argv.end(), {"-o", binary.string(), source.string()});
    auto compiled = tests::run_command({.argv = argv});
    REQUIRE_MESSAGE(compiled.exit_code == 0, "cannot compile the probe for " << py.label << ":\n" << compiled.err);
    auto ran = tests::run_command({.argv = {binary.string()}});
    REQUIRE(ran.exit_code == 0);
    return ran.out;
}

const tests::DebugOffsetsMirror* mirror_of(int major, int minor) {
    for (const auto& m : tests::debug_offsets_mirrors())
        if (m.major == major && m.minor == minor) return &m;
    return nullptr;
}

// The interpreter's _Py_DebugOffsets as its headers initialise it (3.14+), as bytes.
std::vector<std::byte> table_from_headers(const tests::Interpreter& py, const tests::DebugOffsetsMirror& mirror) {
    std::string src(mirror.includes);
    src += "#include <stdio.h>\nint main(void) {\n    _Py_DebugOffsets d = " + std::string(mirror.initializer) +
           ";\n    const unsigned char* p = (const unsigned char*)&d;\n"
           "    for (size_t i = 0; i < sizeof d; ++i) printf(\"%u \", p[i]);\n    return 0;\n}\n";
    std::istringstream in(run_probe(py, src, "table"));
    std::vector<std::byte> bytes;
    for (unsigned value = 0; in >> value;) bytes.push_back(static_cast<std::byte>(value));
    return bytes;
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
        // 3.14+: the row holds what the table lacks; the table, as the headers
        // initialise it, the rest. The two together, as pyprofd joins them, must match.
        if (auto mirror = mirror_of(py.major, py.minor); mirror && !mirror->initializer.empty()) {
            auto joined = sampler::layout_from_debug_offsets(table_from_headers(py, *mirror), *layout);
            REQUIRE_MESSAGE(joined, py.label << ": " << joined.error().message);
            layout = *joined;
        }

        auto measured = parse_probe_output(run_probe(py, tests::probe_source(*fields), "probe"));

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

TEST_CASE("each _Py_DebugOffsets mirror matches its version's header, field by field") {
    int compared = 0;
    for (const auto& py : tests::interpreters()) {
        if (py.include_dir.empty() || !sampler::debug_offsets_shape(py.major, py.minor, false)) continue;
        auto mirror = mirror_of(py.major, py.minor);
        REQUIRE_MESSAGE(mirror, "no mirror field list for " << py.label);
        // The list covers the whole mirror: one word a field (the cookie's 8 bytes too),
        // each at its own place, in order.
        CHECK(mirror->fields.size() * 8 == mirror->size);
        for (std::size_t i = 0; i < mirror->fields.size(); ++i) CHECK(mirror->fields[i].offset == 8 * i);
        std::string src(mirror->includes);
        src += "#include <stddef.h>\n#include <stdio.h>\nint main(void) {\n";
        src += "    printf(\"sizeof %zu\\n\", sizeof(_Py_DebugOffsets));\n";
        for (const auto& f : mirror->fields)
            src += "    printf(\"%s %zu\\n\", \"" + std::string(f.name) + "\", offsetof(_Py_DebugOffsets, " +
                   std::string(f.name) + "));\n";
        src += "    return 0;\n}\n";
        auto measured = parse_probe_output(run_probe(py, src, "mirror"));
        INFO(py.label);
        CHECK(measured["sizeof"] == static_cast<long>(mirror->size));
        for (const auto& f : mirror->fields) {
            INFO(f.name);
            CHECK(measured[std::string(f.name)] == static_cast<long>(f.offset));
        }
        std::cout << "layout: " << py.label << ": _Py_DebugOffsets mirror of " << mirror->fields.size()
                  << " fields matches the header\n";
        ++compared;
    }
    if (compared == 0) {
        if (tests::interpreters_required()) FAIL("layout: no 3.13+ interpreter with headers found, and CI requires one");
        std::cout << "layout: SKIPPED: no 3.13+ interpreter with headers found\n";
    }
}

TEST_CASE("every version with a table shape has a mirror field list, and every 3.13+ row a shape") {
    for (const auto& shape : sampler::debug_offsets_shapes()) {
        INFO(shape.major << "." << shape.minor);
        auto mirror = mirror_of(shape.major, shape.minor);
        REQUIRE(mirror);
        CHECK(mirror->size == shape.size);
    }
    for (auto [major, minor] : sampler::builtin_layout_versions())
        if (major == 3 && minor >= 13) CHECK(sampler::debug_offsets_shape(major, minor, false));
}
