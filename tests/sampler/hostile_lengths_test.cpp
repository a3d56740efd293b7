// Sizes the target states (a string's length, a table's size, a dict's entries, a
// chain's depth, its thread count) are held to fixed limits (remote_limits.hpp):
// past one, the read fails with an error that says so, or the work is left undone;
// nothing is allocated or walked to the target's measure. Each case changes one
// length in a good image.
#include <doctest/doctest.h>

#include <unistd.h>

#include <climits>
#include <string>

#include "sampler/line_table.hpp"
#include "sampler/python_process.hpp"
#include "sampler/remote_dict.hpp"
#include "sampler/remote_limits.hpp"
#include "tests/support/fake_cpython.hpp"

using namespace pyprofd;
using tests::FakeCPython;

namespace {

std::vector<tests::FakeThread> one_thread() {
    return {{.name = "MainThread", .frames = {{"leaf", "/srv/app/deep.py", 7, 9}, {"<module>", "/srv/app/deep.py", 1, 40}}}};
}

sampler::PythonProcess attach(const FakeCPython& fake) {
    auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(), fake.address_space());
    REQUIRE_MESSAGE(process, process.error().message);
    return std::move(*process);
}

// The one thread's error, after a sample that as a whole succeeded.
std::string thread_error(const FakeCPython& fake) {
    auto process = attach(fake);
    auto sample = process.sample({.thread_names = true, .thread_activity = false});
    REQUIRE_MESSAGE(sample, sample.error().message);
    REQUIRE(sample->threads.size() == 1);
    REQUIRE(sample->threads[0].error);
    return sample->threads[0].error->message;
}

std::uint64_t field(std::uint64_t object, sampler::Offset offset) {
    return object + static_cast<std::uint64_t>(offset);
}

bool holds(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("a name longer than pyprofd believes is an error, not a shortened name") {
    for (std::int64_t length : {std::int64_t{sampler::max_name_chars} + 1, std::int64_t{1} << 62}) {
        FakeCPython fake(3, 13, one_thread());
        const auto& l = fake.layout();
        auto filename = fake.read<std::uint64_t>(field(fake.code_object(0, 0), l.code.filename));
        fake.write(field(filename, l.unicode.length), length);
        auto error = thread_error(fake);
        INFO(error);
        CHECK(holds(error, "says it has " + std::to_string(length) + " characters, more than the 4096 believed"));
    }
}

TEST_CASE("a line table larger than pyprofd believes is an error") {
    for (auto [major, minor] : {std::pair{2, 7}, std::pair{3, 10}, std::pair{3, 13}}) {
        INFO("Python " << major << "." << minor);
        FakeCPython fake(major, minor, one_thread());
        const auto& l = fake.layout();
        auto table = fake.read<std::uint64_t>(field(fake.code_object(0, 0), l.code.linetable));
        fake.write(field(table, l.bytes.ob_size), std::int64_t{sampler::max_line_table_bytes} + 1);
        auto error = thread_error(fake);
        INFO(error);
        CHECK(holds(error, "says it holds 1048577 bytes, more than the 1048576 believed"));
    }
}

TEST_CASE("a frame chain that loops ends at the deepest stack pyprofd reads") {
    for (auto [major, minor] : {std::pair{2, 7}, std::pair{3, 11}, std::pair{3, 13}}) {
        INFO("Python " << major << "." << minor);
        FakeCPython fake(major, minor, one_thread());
        const auto& l = fake.layout();
        auto previous = l.frames == sampler::FrameModel::frame_objects ? l.frame_object.back : l.interpreter_frame.previous;
        fake.write(field(fake.frame(0, 1), previous), fake.frame(0, 0));  // <module>'s caller: leaf
        auto error = thread_error(fake);
        INFO(error);
        CHECK(holds(error, "more than 4096 frames"));
    }
}

TEST_CASE("a thread list that loops fails the sample, not the daemon") {
    FakeCPython fake(3, 12, one_thread());
    fake.write(field(fake.thread_state(0), fake.layout().thread.next), fake.thread_state(0));
    auto process = attach(fake);
    auto sample = process.sample({.thread_names = false, .thread_activity = false});
    REQUIRE_FALSE(sample);
    CHECK(holds(sample.error().message, "more thread states than any process has"));
}

TEST_CASE("a sample reads at most max_frames_per_sample frames, however many threads say they have more") {
    // One chain of 4000 frames that 67 threads all claim: after 66 of them, 264,000
    // frames, past 262,144.
    constexpr std::size_t depth = 4000, threads = 67;
    static_assert(depth * (threads - 2) < sampler::max_frames_per_sample &&
                  depth * (threads - 1) >= sampler::max_frames_per_sample && depth < sampler::max_frames_per_thread);
    std::vector<tests::FakeThread> spec(threads);
    for (std::size_t i = 0; i < depth; ++i) spec[0].frames.push_back({"f", "/srv/app/deep.py", 1, 2});
    FakeCPython fake(3, 13, spec);
    const auto frame_field = field(fake.thread_state(0), fake.layout().thread.frame);
    for (std::size_t t = 1; t < threads; ++t)
        fake.write(field(fake.thread_state(t), fake.layout().thread.frame), fake.read<std::uint64_t>(frame_field));
    auto process = attach(fake);
    auto sample = process.sample({.thread_names = false, .thread_activity = false});
    REQUIRE(sample);
    REQUIRE(sample->threads.size() == threads);
    std::size_t frames = 0, refused = 0;
    for (const auto& t : sample->threads) {
        frames += t.frames.size();
        if (t.error) {
            ++refused;
            CHECK(holds(t.error->message, "the most pyprofd reads in one sample"));
        }
    }
    CHECK(frames == (threads - 1) * depth);  // the 66th thread takes it past the limit; the 67th is not read
    CHECK(refused == 1);
}

TEST_CASE("a sample reads the thread list again for at most max_stack_rereads_per_sample broken stacks") {
    constexpr std::size_t threads = 300;
    std::vector<tests::FakeThread> spec(threads, tests::FakeThread{.frames = {{"f", "/srv/app/a.py", 1, 2}}});
    FakeCPython fake(3, 13, spec);
    for (std::size_t t = 0; t < threads; ++t)
        fake.write(field(fake.code_object(t, 0), fake.layout().object.ob_type), std::uint64_t{0});
    auto process = attach(fake);
    auto reads_before = process.memory_reads();
    auto sample = process.sample({.thread_names = false, .thread_activity = false});
    REQUIRE(sample);
    for (const auto& t : sample->threads) CHECK(t.error);
    // Each re-read of the list loads its ~70 pages again: 64 re-reads make ~4,400
    // reads; without the limit, 2 for each of the 300 threads made ~40,000.
    auto reads = process.memory_reads() - reads_before;
    INFO("memory reads: " << reads);
    CHECK(reads < 10'000);
}

TEST_CASE("a dict that says it has more entries than pyprofd believes is refused") {
    FakeCPython fake(3, 13, {{.name = "MainThread", .frames = {{"leaf", "/srv/app/deep.py", 7, 9}}}});
    const auto& l = fake.layout();
    auto keys = fake.read<std::uint64_t>(field(fake.active_dict(), l.dict.keys));
    fake.write(field(keys, l.dict_keys.nentries), std::int64_t{1} << 20);
    fake.write(field(keys, l.dict_keys.size), std::uint8_t{30});  // a table that could hold them
    sampler::RemoteMemory memory(::getpid(), fake.address_space());
    auto types = fake.types();
    sampler::ObjectReader reader(memory, l, types);
    auto entries = sampler::read_dict(reader, fake.active_dict());
    REQUIRE_FALSE(entries);
    CHECK(holds(entries.error().message, "say they have 1048576 entries, more than the 65536 believed"));
    // The thread is still read; it has no name.
    auto process = attach(fake);
    auto sample = process.sample({.thread_names = true, .thread_activity = false});
    REQUIRE(sample);
    CHECK(sample->threads.at(0).frames.size() == 1);
    CHECK(sample->threads.at(0).name.empty());
}

TEST_CASE("an int of more digits than a thread ident has, or of the most negative size, is refused") {
    for (auto [major, minor] : {std::pair{3, 10}, std::pair{3, 13}}) {
        FakeCPython fake(major, minor, one_thread());
        const auto& l = fake.layout();
        sampler::RemoteMemory memory(::getpid(), fake.address_space());
        auto types = fake.types();
        sampler::ObjectReader reader(memory, l, types);
        // threading._active's only key: the thread's ident.
        auto entries = sampler::read_dict(reader, fake.active_dict());
        REQUIRE(entries);
        REQUIRE(entries->size() == 1);
        auto ident = entries->front().key;
        CHECK(reader.read_int(ident));
        for (std::uint64_t size : {std::uint64_t{4} << (l.ints == sampler::IntModel::long_lv_tag ? 3 : 0),
                                   std::uint64_t{1} << 63}) {
            fake.write(field(ident, l.integer.size), size);
            sampler::RemoteMemory changed(::getpid(), fake.address_space());
            sampler::ObjectReader changed_reader(changed, l, types);
            auto value = changed_reader.read_int(ident);
            REQUIRE_FALSE(value);
            CHECK(holds(value.error().message, "is too large"));
        }
    }
}

TEST_CASE("a line past what an int holds is no line") {
    using sampler::LineTable;
    using sampler::LineTableFormat;
    std::vector<std::byte> up = {std::byte{0}, std::byte{127}};
    CHECK(LineTable(LineTableFormat::lnotab_signed, up, INT_MAX).line_at(0) == -1);
    CHECK(LineTable(LineTableFormat::lnotab_signed, up, INT_MAX - 127).line_at(0) == INT_MAX);
    std::vector<std::byte> ten = {std::byte{4}, std::byte{10}};
    CHECK(LineTable(LineTableFormat::linetable_310, ten, INT_MAX - 5).line_at(0) == -1);
    // 3.11: one "no column" entry whose line delta is +2^30, twice.
    std::vector<std::byte> huge = {std::byte{0xef}, std::byte{0x40}, std::byte{0x40}, std::byte{0x40},
                                   std::byte{0x40}, std::byte{0x40}, std::byte{0x02},
                                   std::byte{0xef}, std::byte{0x40}, std::byte{0x40}, std::byte{0x40},
                                   std::byte{0x40}, std::byte{0x40}, std::byte{0x02}};
    LineTable t(LineTableFormat::locations_311, huge, 0);
    CHECK(t.line_at(0) == 1 << 30);
    CHECK(t.line_at(16) == -1);
}

TEST_CASE("an empty str of two-byte characters reads as empty") {
    FakeCPython fake(3, 12, one_thread());
    const auto& l = fake.layout();
    auto filename = fake.read<std::uint64_t>(field(fake.code_object(0, 0), l.code.filename));
    fake.write(field(filename, l.unicode.length), std::int64_t{0});
    fake.write(field(filename, l.unicode.state), std::uint32_t{2 << 2 | 1 << 5});  // kind 2, compact, not ASCII
    sampler::RemoteMemory memory(::getpid(), fake.address_space());
    auto types = fake.types();
    sampler::ObjectReader reader(memory, l, types);
    auto text = reader.read_str(filename);
    REQUIRE_MESSAGE(text, text.error().message);
    CHECK(text->empty());
}
