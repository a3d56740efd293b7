// The target's _Py_DebugOffsets is input: a table that puts a field past the local
// buffer pyprofd reads its struct into, or outside its own struct, is refused at
// attach, naming the field. Each case starts from a good 3.13 image (a copy of a
// real table) and changes one thing.
#include <doctest/doctest.h>

#include <unistd.h>

#include <functional>

#include "sampler/local_buffers.hpp"
#include "sampler/python_process.hpp"
#include "tests/support/fake_cpython.hpp"

using namespace pyprofd;
using sampler::DebugOffsets313;
using tests::FakeCPython;

namespace {

std::vector<tests::FakeThread> one_thread() {
    return {{.name = "MainThread", .frames = {{"leaf", "/srv/app/deep.py", 7, 9}, {"<module>", "/srv/app/deep.py", 1, 40}}}};
}

sampler::Result<sampler::PythonProcess> attach_with(const std::function<void(DebugOffsets313&)>& change) {
    FakeCPython fake(3, 13, one_thread());
    auto table = fake.debug_offsets();
    change(table);
    fake.set_debug_offsets(table);
    return sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(), fake.address_space());
}

struct Case {
    const char* what;
    std::function<void(DebugOffsets313&)> change;
    std::vector<std::string> message_holds;
};

}  // namespace

TEST_CASE("every built-in layout fits the buffers pyprofd reads into") {
    for (auto [major, minor] : sampler::builtin_layout_versions()) {
        INFO("Python " << major << "." << minor);
        // 3.14+: with the offsets a real table of that version adds to the row.
        auto fault = sampler::find_layout_fault(FakeCPython::layout_of(major, minor));
        CHECK_MESSAGE(!fault, (fault ? describe_layout_fault(*fault, "built-in").message : ""));
    }
}

TEST_CASE("an unchanged copy of a real 3.13 table is trusted") {
    auto process = attach_with([](DebugOffsets313&) {});
    REQUIRE_MESSAGE(process, process.error().message);
    CHECK(process->layout_source() == sampler::LayoutSource::debug_offsets);
    auto sample = process->sample({.thread_names = true, .thread_activity = false});
    REQUIRE(sample);
    REQUIRE(sample->threads.size() == 1);
    CHECK(sample->threads[0].frames.size() == 2);
}

TEST_CASE("a _Py_DebugOffsets field past the buffer it is read into refuses the attach, naming the field") {
    // Each struct made large enough that the field is inside it: only the buffer is too small.
    const std::vector<Case> cases = {
        {"a frame's owner",
         [](DebugOffsets313& d) { d.interpreter_frame.size = 8192, d.interpreter_frame.owner = 4096; },
         {"interpreter_frame.owner at 4096", "past the 256 bytes pyprofd reads of a frame"}},
        {"a frame's code",
         [](DebugOffsets313& d) { d.interpreter_frame.size = 8192, d.interpreter_frame.executable = 256; },
         {"interpreter_frame.executable at 256", "256 bytes pyprofd reads of a frame"}},
        {"a frame's owner, one byte past the buffer",
         [](DebugOffsets313& d) { d.interpreter_frame.size = 8192, d.interpreter_frame.owner = 256; },
         {"interpreter_frame.owner at 256"}},
        {"a thread state's next",
         [](DebugOffsets313& d) { d.thread_state.size = 4096, d.thread_state.next = 512; },
         {"thread_state.next at 512", "past the 512 bytes pyprofd reads of a thread state"}},
        {"a thread state's native id",
         [](DebugOffsets313& d) { d.thread_state.size = 1u << 20, d.thread_state.native_thread_id = 1u << 19; },
         {"thread_state.native_thread_id at 524288", "512 bytes"}},
        {"a code object's line table",
         [](DebugOffsets313& d) { d.code_object.size = 8192, d.code_object.linetable = 4096; },
         {"code_object.linetable at 4096", "past the 256 bytes pyprofd reads of a code object"}},
        {"a code object's first line",
         [](DebugOffsets313& d) { d.code_object.size = 8192, d.code_object.firstlineno = 256; },
         {"code_object.firstlineno at 256"}},
        {"a str's length",
         [](DebugOffsets313& d) { d.unicode_object.size = 4096, d.unicode_object.length = 1024; },
         {"unicode_object.length at 1024", "past the 256 bytes pyprofd reads of a str"}},
        {"where an ASCII str's characters start",
         [](DebugOffsets313& d) { d.unicode_object.size = 4096, d.unicode_object.asciiobject_size = 257; },
         {"unicode_object.asciiobject_size at 257", "a str"}},
        {"a bytes object's size",
         [](DebugOffsets313& d) { d.bytes_object.size = 4096, d.bytes_object.ob_size = 64; },
         {"bytes_object.ob_size at 64", "past the 64 bytes pyprofd reads of the header of a bytes object"}},
        {"where a bytes object's data starts",
         [](DebugOffsets313& d) { d.bytes_object.size = 4096, d.bytes_object.ob_sval = 100; },
         {"bytes_object.ob_sval at 100"}},
        {"an int's digits",
         [](DebugOffsets313& d) { d.long_object.size = 4096, d.long_object.ob_digit = 40; },
         {"long_object.ob_digit at 40", "past the 48 bytes pyprofd reads of an int"}},
        {"an object's type",
         [](DebugOffsets313& d) { d.pyobject.size = 4096, d.pyobject.ob_type = 2048; },
         {"pyobject.ob_type at 2048"}},
    };
    for (const auto& c : cases) {
        INFO(std::string(c.what));
        auto process = attach_with(c.change);
        REQUIRE_FALSE(process);
        INFO(process.error().message);
        CHECK(process.error().kind == sampler::ErrorKind::bad_data);
        CHECK(process.error().message.starts_with("the target's _Py_DebugOffsets puts "));
        CHECK(process.error().message.ends_with(": not a CPython pyprofd can trust"));
        for (const auto& part : c.message_holds) CHECK(process.error().message.find(part) != std::string::npos);
    }
}

TEST_CASE("a _Py_DebugOffsets that contradicts itself refuses the attach") {
    const std::vector<Case> cases = {
        {"a field outside its own struct",
         [](DebugOffsets313& d) { d.interpreter_frame.owner = 4096; },
         {"interpreter_frame.owner (1 bytes) at 4096, outside its own struct of 80 bytes"}},
        {"a field whose end is outside its struct",
         [](DebugOffsets313& d) { d.thread_state.native_thread_id = 304 - 4; },
         {"thread_state.native_thread_id (8 bytes) at 300, outside its own struct of 304 bytes"}},
        {"an offset so large that offset + width wraps around",
         [](DebugOffsets313& d) { d.code_object.filename = ~std::uint64_t{0} - 3; },
         {"code_object.filename (8 bytes) at 18446744073709551612"}},
        {"a struct of no size", [](DebugOffsets313& d) { d.interpreter_frame.size = 0; },
         {"says interpreter_frame is 0 bytes long"}},
        {"a struct larger than any CPython's", [](DebugOffsets313& d) { d.runtime_state.size = 1ull << 40; },
         {"says runtime_state is 1099511627776 bytes long"}},
        {"a pointer not aligned as one", [](DebugOffsets313& d) { d.thread_state.next = 9; },
         {"thread_state.next at 9, not aligned"}},
        {"the GIL's fields before the GIL", [](DebugOffsets313& d) { d.interpreter_state.gil_runtime_state_locked = 8; },
         {"puts the GIL's fields at 8 and 7760, before the GIL itself at 7752"}},
    };
    for (const auto& c : cases) {
        INFO(std::string(c.what));
        auto process = attach_with(c.change);
        REQUIRE_FALSE(process);
        INFO(process.error().message);
        CHECK(process.error().message.starts_with("the target's _Py_DebugOffsets "));
        for (const auto& part : c.message_holds) CHECK(process.error().message.find(part) != std::string::npos);
    }
}

TEST_CASE("a built-in layout with a field past its buffer is reported as pyprofd's bug") {
    auto layout = *sampler::builtin_layout(3, 12);
    layout.interpreter_frame.instr_ptr = 300;
    auto fault = sampler::find_layout_fault(layout);
    REQUIRE(fault);
    auto error = describe_layout_fault(*fault, "pyprofd's built-in layout of Python 3.12");
    CHECK(error.message ==
          "pyprofd's built-in layout of Python 3.12 puts interpreter_frame.instr_ptr (8 bytes) at 300, past the 256 "
          "bytes pyprofd reads of a frame: a bug in pyprofd");
    layout = *sampler::builtin_layout(3, 12);
    layout.thread.interp = sampler::absent;
    fault = sampler::find_layout_fault(layout);
    REQUIRE(fault);
    CHECK(fault->missing);
    CHECK(fault->field == "thread.interp");
}

namespace {

// A good 3.14 or 3.15 image (a copy of a real table), its table changed by `change`.
template <class Table>
sampler::Result<sampler::PythonProcess> attach_changed(int minor, const std::function<void(Table&)>& change) {
    FakeCPython fake(3, minor, one_thread());
    auto table = fake.read<Table>(FakeCPython::runtime_address());
    change(table);
    fake.write(FakeCPython::runtime_address(), table);
    return sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(), fake.address_space());
}

}  // namespace

TEST_CASE("3.14 and 3.15 images are read through their own table shapes") {
    for (int minor : {14, 15}) {
        INFO("3." << minor);
        FakeCPython fake(3, minor, one_thread());
        auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(),
                                                                       fake.address_space());
        REQUIRE_MESSAGE(process, process.error().message);
        CHECK(process->layout_source() == sampler::LayoutSource::debug_offsets);
        // Each offset the 3.15 table moved comes from it.
        CHECK(process->layout().thread.native_thread_id == (minor == 15 ? 184 : 160));
        CHECK(process->layout().type.ht_cached_keys == (minor == 15 ? 888 : 880));
        auto sample = process->sample({.thread_names = true, .thread_activity = false});
        REQUIRE(sample);
        REQUIRE(sample->threads.size() == 1);
        CHECK(sample->threads[0].name == "MainThread");
        // Both frames, past the shim between them (and 3.15's base frame under them),
        // their code found behind the stack reference's tag.
        REQUIRE(sample->threads[0].frames.size() == 2);
        CHECK(sample->threads[0].frames[0].function() == "leaf");
        CHECK(sample->threads[0].frames[0].line == 9);
        CHECK(sample->threads[0].frames[1].function() == "<module>");
    }
}

TEST_CASE("a 3.15 table's own fields are checked as every other: a heap type's cached keys outside its struct") {
    auto process = attach_changed<sampler::DebugOffsets315>(
        15, [](sampler::DebugOffsets315& d) { d.heap_type_object.ht_cached_keys = d.heap_type_object.size; });
    REQUIRE_FALSE(process);
    CHECK(process.error().message.find("heap_type_object.ht_cached_keys (8 bytes) at 944, outside its own struct of "
                                       "944 bytes") != std::string::npos);
    auto str = attach_changed<sampler::DebugOffsets315>(
        15, [](sampler::DebugOffsets315& d) { d.unicode_object.compactunicodeobject_size = 512; });
    REQUIRE_FALSE(str);
    CHECK(str.error().message.find("unicode_object.compactunicodeobject_size") != std::string::npos);
}

TEST_CASE("a free-threaded build is refused, saying why; a minor version pyprofd does not know is named") {
    auto free_threaded = attach_changed<sampler::DebugOffsets314>(
        14, [](sampler::DebugOffsets314& d) { d.free_threaded = 1; });
    REQUIRE_FALSE(free_threaded);
    CHECK(free_threaded.error().kind == sampler::ErrorKind::unsupported_version);
    CHECK(free_threaded.error().message.find("runs a free-threaded Python 3.14.10 (no GIL), which pyprofd does not "
                                             "read yet") != std::string::npos);
    // A 3.16 table with 3.15's shape would be read wrong without a word: it is refused.
    auto future = attach_changed<sampler::DebugOffsets315>(
        15, [](sampler::DebugOffsets315& d) { d.version = 0x031000a1; });
    REQUIRE_FALSE(future);
    CHECK(future.error().kind == sampler::ErrorKind::unsupported_version);
    CHECK(future.error().message.find("runs Python 3.16.0a1, which pyprofd cannot read: 3.16 is newer than this "
                                      "pyprofd knows") != std::string::npos);
}
