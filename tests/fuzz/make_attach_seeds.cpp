// Writes the seeds of fuzz_attach: for every CPython family pyprofd reads, the
// memory of a process (tests/support/fake_cpython.hpp) that a sample reads whole:
// threads with names, frames, a non-ASCII file name, the GIL; 3.13's behind a copy
// of a real _Py_DebugOffsets. Run by hand when the image's shape changes:
//     build/tests/make_attach_seeds tests/fuzz/corpus/attach
// (sampler_unit_tests checks that the committed seeds still reach a full sample).
#include <algorithm>
#include <cstdio>
#include <fstream>
#include <string>

#include "tests/support/fake_cpython.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: make_attach_seeds DIRECTORY\n");
        return 2;
    }
    for (auto [major, minor] : pyprofd::sampler::builtin_layout_versions()) {
        // A line before the function's first (a decorator's) where the table can say so (3.6+).
        const int line_before_first = major == 2 ? 12 : 8;
        const std::vector<pyprofd::tests::FakeThread> threads = {
            {.name = "MainThread",
             .frames = {{"Handler.leaf", "/srv/app/deep.py", 7, 9},
                        {"descend", "/srv/app/deep.py", 12, 14},
                        {"<module>", "/srv/app/deep.py", 1, 40}}},
            {.name = "worker-1",
             .frames = {{"wait_for_stop", "/srv/app/名前.py", 10, line_before_first},
                        {"Thread.run", "/usr/lib/threading.py", 970, 975}}},
        };
        pyprofd::tests::FakeCPython fake(major, minor, threads);
        auto path = std::string(argv[1]) + "/seed-python" + std::to_string(major) + "." + std::to_string(minor);
        std::ofstream out(path, std::ios::binary);
        out.write(reinterpret_cast<const char*>(fake.bytes().data()), static_cast<std::streamsize>(fake.bytes().size()));
        if (!out) {
            std::fprintf(stderr, "cannot write %s\n", path.c_str());
            return 1;
        }
        std::printf("%s: %zu bytes\n", path.c_str(), fake.bytes().size());

        if (major == 3 && minor == 13) {
            // The same, but its _Py_DebugOffsets says every struct is 64 KiB: a table
            // a real CPython could have, where a change of any one offset can place
            // a field past pyprofd's local buffer (with real sizes, the size must change too).
            auto table = fake.debug_offsets();
            for (auto* size : {&table.runtime_state.size, &table.interpreter_state.size, &table.thread_state.size,
                               &table.interpreter_frame.size, &table.code_object.size, &table.pyobject.size,
                               &table.type_object.size, &table.dict_object.size, &table.long_object.size,
                               &table.bytes_object.size, &table.unicode_object.size})
                *size = std::max<std::uint64_t>(*size, 1 << 16);
            fake.set_debug_offsets(table);
            auto large = std::string(argv[1]) + "/seed-python3.13-large-structs";
            std::ofstream(large, std::ios::binary)
                .write(reinterpret_cast<const char*>(fake.bytes().data()), static_cast<std::streamsize>(fake.bytes().size()));
            std::printf("%s: %zu bytes\n", large.c_str(), fake.bytes().size());
        }
    }
    return 0;
}
