// The whole sampler (attach, threads, frames, code objects, strings, line tables,
// thread names, the GIL) on a CPython built by hand, in every family: the ground
// the hostile-target tests and the attach fuzzer stand on.
#include <doctest/doctest.h>

#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <tuple>

#include "sampler/python_process.hpp"
#include "tests/support/child_process.hpp"
#include "tests/support/fake_cpython.hpp"

using namespace pyprofd;
using tests::FakeCPython;

namespace {

std::vector<tests::FakeThread> two_threads() {
    return {
        {.name = "MainThread",
         .frames = {{"Worker.leaf", "/srv/app/deep.py", 7, 9},
                    {"descend", "/srv/app/deep.py", 12, 14},
                    {"<module>", "/srv/app/deep.py", 1, 40}}},
        {.name = "worker-1",
         .frames = {{"wait_for_stop", "/srv/app/名前.py", 10, 12}, {"Thread.run", "/usr/lib/threading.py", 970, 975}}},
    };
}

}  // namespace

TEST_CASE("a CPython built by hand is read as a live one is, in every family") {
    for (auto [major, minor] : sampler::builtin_layout_versions()) {
        INFO("Python " << major << "." << minor);
        FakeCPython fake(major, minor, two_threads());
        auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(),
                                                                       fake.address_space());
        REQUIRE_MESSAGE(process, process.error().message);
        CHECK(process->version().major == major);
        CHECK(process->version().minor == minor);
        CHECK((process->layout_source() == sampler::LayoutSource::debug_offsets) == (major == 3 && minor >= 13));

        sampler::ThreadName first_worker_name;
        for (int round = 0; round < 3; ++round) {  // the later ones from the caches
            auto sample = process->sample({.thread_names = true, .thread_activity = false});
            REQUIRE_MESSAGE(sample, sample.error().message);
            REQUIRE(sample->threads.size() == 2);
            const auto& main = sample->threads[0];
            const auto& worker = sample->threads[1];
            REQUIRE_MESSAGE(!main.error, main.error->message);
            REQUIRE_MESSAGE(!worker.error, worker.error->message);
            CHECK(main.name == "MainThread");
            CHECK(worker.name == "worker-1");
            // A name is read once and shared by the samples after, not copied into each.
            if (round == 0) first_worker_name = worker.name;
            CHECK(worker.name.same_as(first_worker_name));
            CHECK(main.holds_gil == true);
            CHECK(worker.holds_gil == false);
            REQUIRE(main.frames.size() == 3);
            REQUIRE(worker.frames.size() == 2);
            const bool qualified = major == 3 && minor >= 11;
            CHECK(main.frames[0].function() == "Worker.leaf");
            CHECK(main.frames[0].filename() == "/srv/app/deep.py");
            CHECK(main.frames[0].line == 9);
            CHECK(main.frames[1].function() == "descend");
            CHECK(main.frames[1].line == 14);
            CHECK(main.frames[2].function() == "<module>");
            CHECK(main.frames[2].line == 40);
            CHECK(worker.frames[0].filename() == "/srv/app/名前.py");
            CHECK(worker.frames[0].line == 12);
            CHECK(worker.frames[1].line == 975);
            if (qualified) {
                CHECK(main.native_id == 1000);
                CHECK(worker.native_id == 1001);
            }
        }
    }
}

TEST_CASE("the attach fuzzer's seeds reach a full sample of every thread") {
    // tests/fuzz/make_attach_seeds wrote them; if the images' shape changes, run it again.
    std::vector<std::tuple<int, int, std::string>> images;
    for (auto [major, minor] : sampler::builtin_layout_versions())
        images.emplace_back(major, minor, std::to_string(major) + "." + std::to_string(minor));
    images.emplace_back(3, 13, "3.13-large-structs");
    int seeds = 0;
    for (const auto& [major, minor, name] : images) {
        auto path = tests::source_path("tests/fuzz/corpus/attach/seed-python" + name);
        INFO(path);
        std::ifstream in(path, std::ios::binary);
        REQUIRE(in);
        std::vector<char> raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        std::vector<std::byte> memory(raw.size());
        std::memcpy(memory.data(), raw.data(), raw.size());
        auto space = std::make_shared<sampler::BufferAddressSpace>(tests::fake_image_base, std::move(memory));
        auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(), space);
        REQUIRE_MESSAGE(process, process.error().message);
        CHECK(process->version().minor == minor);
        auto sample = process->sample({.thread_names = true, .thread_activity = false});
        REQUIRE(sample);
        REQUIRE(sample->threads.size() == 2);
        for (const auto& thread : sample->threads) {
            CHECK_MESSAGE(!thread.error, thread.error->message);
            CHECK(!thread.name.empty());
            CHECK(thread.frames.size() >= 2);
            for (const auto& frame : thread.frames) CHECK(frame.line > 0);
        }
        ++seeds;
    }
    CHECK(seeds == 12);
}

namespace {

// The fake's image as it is at each read, so that a test can change it between samples.
class LiveImage final : public sampler::AddressSpace {
public:
    explicit LiveImage(const FakeCPython& fake) : fake_(fake) {}
    ssize_t read(std::span<const iovec> local, std::span<const iovec> remote) const override {
        return sampler::BufferAddressSpace(tests::fake_image_base, fake_.bytes()).read(local, remote);
    }

private:
    const FakeCPython& fake_;
};

}  // namespace

TEST_CASE("3.14+: cached code objects are trusted without a read while the count of code objects freed stays") {
    // A code object replaced at its address (here: another's names written into it)
    // is caught by a header check, or, where the interpreter counts the code objects
    // it frees, by that count moving: a new code object where an old one was means
    // the old one was freed. Before 3.14 there is no count and every sample checks.
    for (auto [major, minor] : sampler::builtin_layout_versions()) {
        if (major < 3 || (major == 3 && minor < 11)) continue;
        INFO("Python " << major << "." << minor);
        FakeCPython fake(major, minor, two_threads());
        const bool counted = fake.layout().interpreter.code_object_generation != sampler::absent;
        CHECK(counted == (minor >= 14));
        auto process = sampler::PythonProcess::attach_to_address_space(::getpid(), FakeCPython::binary(),
                                                                       std::make_shared<LiveImage>(fake));
        REQUIRE_MESSAGE(process, process.error().message);
        auto leaf = [&] {
            auto sample = process->sample({.thread_names = false, .thread_activity = false});
            REQUIRE_MESSAGE(sample, sample.error().message);
            REQUIRE(!sample->threads.empty());
            REQUIRE(sample->threads[0].frames.size() == 3);
            return std::string(sample->threads[0].frames[0].function());
        };
        for (int round = 0; round < 4; ++round) CHECK(leaf() == "Worker.leaf");
        auto header_checks = process->cost().code_header_checks;
        CHECK(leaf() == "Worker.leaf");
        CHECK(leaf() == "Worker.leaf");
        if (counted) {
            CHECK(process->cost().code_header_checks == header_checks);  // none read
            CHECK(process->cost().code_epoch_checks >= 2 * 5);
        } else {
            CHECK(process->cost().code_header_checks >= header_checks + 2 * 5);
            CHECK(process->cost().code_epoch_checks == 0);
        }

        // The leaf's code object becomes another (the caller's names, at the leaf's address).
        const auto& c = fake.layout().code;
        const auto leaf_code = fake.code_object(0, 0);
        const auto caller_code = fake.code_object(0, 1);
        for (auto field : {c.name, c.qualname})
            fake.write(leaf_code + static_cast<std::uint64_t>(field),
                       fake.read<std::uint64_t>(caller_code + static_cast<std::uint64_t>(field)));
        if (counted) {
            const auto count_at = fake.interpreter() + static_cast<std::uint64_t>(fake.layout().interpreter.code_object_generation);
            fake.write(count_at, fake.read<std::uint64_t>(count_at) + 1);
        }
        CHECK(leaf() == "descend");
        CHECK(process->cost().code_stale == 1);
        CHECK(leaf() == "descend");
    }
}
