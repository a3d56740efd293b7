// The snapshot a sample reads through: every page it needs in as few system calls
// as the pages allow, whatever the number of threads, and the right bytes from each.
#include <doctest/doctest.h>

#include <cstring>
#include <memory>
#include <vector>

#include "sampler/page_index.hpp"
#include "sampler/remote_memory.hpp"
#include "sampler/thread_activity.hpp"

using namespace pyprofd::sampler;

namespace {

constexpr std::uint64_t base = 0x7f0000000000;
constexpr std::size_t page = RemoteMemory::page_size;

// Memory of `pages` pages in which the 8 bytes at each offset hold the address.
std::shared_ptr<BufferAddressSpace> addressed_memory(std::size_t pages) {
    std::vector<std::byte> bytes(pages * page);
    for (std::size_t at = 0; at < bytes.size(); at += 8) {
        std::uint64_t address = base + at;
        std::memcpy(bytes.data() + at, &address, 8);
    }
    return std::make_shared<BufferAddressSpace>(base, std::move(bytes));
}

// What a sample of many threads does: a few reads on each thread's own pages.
void read_every_page(const RemoteMemory& memory, std::size_t pages) {
    for (std::size_t p = 0; p < pages; ++p)
        for (std::size_t at : {8u, 512u, 4000u}) {
            auto value = memory.read<std::uint64_t>(base + p * page + at);
            REQUIRE(value);
            CHECK(*value == base + p * page + at);
        }
}

}  // namespace

TEST_CASE("a sample touching 1,500 pages (hundreds of threads) reads them again in one system call") {
    const std::size_t pages = 1500;
    RemoteMemory memory(1, addressed_memory(pages));
    memory.begin_snapshot();
    read_every_page(memory, pages);
    memory.end_snapshot();
    CHECK(memory.snapshot_pages() == pages);

    auto before = memory.syscalls();
    memory.begin_snapshot();
    read_every_page(memory, pages);
    memory.end_snapshot();
    // IOV_MAX (1024) ranges a call: 1,500 pages are two.
    CHECK(memory.syscalls() - before == 2);
    CHECK(memory.page_misses() == pages);  // the first sample's, one miss per page; none since
}

TEST_CASE("a read across any two pages is whole, as the snapshot grows and when it is read again") {
    // 300 pages: the snapshot's slots grow several times, in chunks that are not one
    // buffer, so neighbouring pages can sit in different chunks.
    const std::size_t pages = 300;
    RemoteMemory memory(1, addressed_memory(pages));
    for (int snapshot = 0; snapshot < 2; ++snapshot) {
        memory.begin_snapshot();
        for (std::size_t p = 1; p < pages; ++p) {
            std::uint64_t words[2] = {};
            const RemoteAddress at = base + p * page - 8;
            REQUIRE(memory.read(at, std::as_writable_bytes(std::span(words))));
            CHECK(words[0] == at);
            CHECK(words[1] == at + 8);
        }
        memory.end_snapshot();
    }
}

TEST_CASE("pages handed to begin_snapshot come in its first read, and a read that spans pages is whole") {
    RemoteMemory memory(1, addressed_memory(64));
    std::vector<RemoteAddress> expected{base + 10 * page, base + 11 * page, base + 40 * page, base + 10 * page};
    memory.begin_snapshot({}, expected);
    auto before = memory.syscalls();
    std::vector<std::uint64_t> words(page / 8 + 2);
    REQUIRE(memory.read(base + 11 * page - 8, std::as_writable_bytes(std::span(words))));
    CHECK(words.front() == base + 11 * page - 8);
    CHECK(words.back() == base + 12 * page);
    CHECK(memory.syscalls() - before == 1);  // page 12 only: 10 and 11 came with the first read
    memory.end_snapshot();
    CHECK(memory.snapshot_pages() == 3);  // 10, 11 and 12 were used; 40 was not
}

TEST_CASE("an expected page that is not mapped any more is left out; the others are read") {
    RemoteMemory memory(1, addressed_memory(8));
    std::vector<RemoteAddress> expected{base + page, base + 100 * page, base + 3 * page};
    memory.begin_snapshot({}, expected);
    auto before = memory.syscalls();
    CHECK(memory.read<std::uint64_t>(base + page + 16).value_or(0) == base + page + 16);
    CHECK(memory.read<std::uint64_t>(base + 3 * page + 16).value_or(0) == base + 3 * page + 16);
    CHECK(memory.syscalls() == before);
    CHECK(!memory.read<std::uint64_t>(base + 100 * page));
    memory.end_snapshot();
}

TEST_CASE("a read of a page that is not mapped fails in one system call, saying what a direct read says") {
    RemoteMemory memory(1, addressed_memory(8));
    const RemoteAddress unmapped = base + 100 * page + 16;
    auto direct = memory.read<std::uint64_t>(unmapped);  // no snapshot: read straight
    REQUIRE(!direct);
    memory.begin_snapshot();
    auto before = memory.syscalls();
    auto through = memory.read<std::uint64_t>(unmapped);
    REQUIRE(!through);
    CHECK(memory.syscalls() - before == 1);  // the page's own read: it is not read again
    CHECK(through.error().kind == direct.error().kind);
    CHECK(through.error().message == direct.error().message);
    memory.end_snapshot();
}

TEST_CASE("the touch log names each page a walk touched, once") {
    RemoteMemory memory(1, addressed_memory(16));
    memory.begin_snapshot();
    REQUIRE(memory.read<std::uint64_t>(base + 2 * page));
    memory.start_touch_log();
    REQUIRE(memory.read<std::uint64_t>(base + 5 * page));
    REQUIRE(memory.read<std::uint64_t>(base + 5 * page + 64));
    REQUIRE(memory.read<std::uint64_t>(base + 2 * page + 8));
    CHECK(memory.touch_log() == std::vector<RemoteAddress>{base + 5 * page, base + 2 * page});
    memory.start_touch_log();
    REQUIRE(memory.read<std::uint64_t>(base + 2 * page + 16));
    CHECK(memory.touch_log() == std::vector<RemoteAddress>{base + 2 * page});
    memory.end_snapshot();
}

TEST_CASE("a page read again is read only in the part the last sample touched, and whole once a read goes past it") {
    RemoteMemory memory(1, addressed_memory(4));
    auto sample = [&](std::initializer_list<std::size_t> offsets) {
        memory.begin_snapshot();
        for (auto at : offsets) {
            auto value = memory.read<std::uint64_t>(base + page + at);
            REQUIRE(value);
            CHECK(*value == base + page + at);
        }
        memory.end_snapshot();
    };
    sample({1024, 1096});  // the first sample reads the page whole
    auto bytes = memory.bytes_read();
    auto misses = memory.page_misses();
    sample({1024, 1096});
    // Lines 1024-1151, with the margin each side: 768-1408.
    CHECK(memory.bytes_read() - bytes == 1408 - 768);
    CHECK(memory.page_misses() == misses);

    // Past the part held: the page is read whole, right bytes and all.
    bytes = memory.bytes_read();
    sample({1024, 3000});
    CHECK(memory.page_misses() == misses + 1);
    CHECK(memory.bytes_read() - bytes == (1408 - 768) + page);
    // And read whole for a while after, with no more misses.
    for (int i = 0; i < 3; ++i) {
        bytes = memory.bytes_read();
        sample({1024, 3000, 4088, 8});
        CHECK(memory.bytes_read() - bytes == page);
    }
    CHECK(memory.page_misses() == misses + 1);
    // Until it is narrowed to what the samples touch again.
    for (int i = 0; i < RemoteMemory::whole_after_miss; ++i) sample({1024});
    bytes = memory.bytes_read();
    sample({1024});
    CHECK(memory.bytes_read() - bytes == 1088 + RemoteMemory::part_margin - (1024 - RemoteMemory::part_margin));
    CHECK(memory.page_misses() == misses + 1);
}

TEST_CASE("a read whose range would wrap past the end of the address space fails, in a snapshot or not") {
    RemoteMemory memory(1, addressed_memory(4));
    std::vector<std::byte> out(72);
    CHECK(!memory.read(~RemoteAddress{0} - 8, out));
    memory.begin_snapshot();
    CHECK(!memory.read(~RemoteAddress{0} - 8, out));
    CHECK(!memory.read(~RemoteAddress{0} - 71, out));  // the last 72 bytes there are: unmapped
    CHECK(memory.read<std::uint64_t>(base + 8).value_or(0) == base + 8);
    memory.end_snapshot();
}

TEST_CASE("a read where no process has memory fails without asking the kernel, in a snapshot or not") {
    RemoteMemory memory(1, addressed_memory(4));
    std::vector<std::byte> out(64);
    // What a walk meets when it follows a pointer read as the stack changed: a small
    // number, a word of text, a pointer with tag bits.
    const RemoteAddress nowhere[] = {8, 0x18, 0xff8, 0xff030fffff06ffff, 0x04740023106e0000,
                                     RemoteMemory::highest_user_address - 8};
    for (bool in_snapshot : {false, true}) {
        CAPTURE(in_snapshot);
        if (in_snapshot) memory.begin_snapshot();
        const auto syscalls = memory.syscalls();
        for (auto address : nowhere) {
            CAPTURE(address);
            auto read = memory.read(address, out);
            REQUIRE_FALSE(read);
            CHECK(read.error().kind == ErrorKind::read_failed);
        }
        CHECK(memory.syscalls() == syscalls);
        CHECK(memory.read<std::uint64_t>(base + 8).value_or(0) == base + 8);
        if (in_snapshot) memory.end_snapshot();
    }
}

TEST_CASE("the pages the kernel is asked to copy from are counted per request that spans them") {
    RemoteMemory memory(1, addressed_memory(4));
    std::vector<std::byte> small(8), straddling(16), two(2 * page);
    CHECK(memory.read(base + 8, small));
    CHECK(memory.pages_asked() == 1);
    CHECK(memory.read(base + page - 8, straddling));
    CHECK(memory.pages_asked() == 3);
    // Two requests on one page are two lookups of it; a request of two pages, two.
    const RemoteMemory::ReadRequest requests[] = {{base + 16, small}, {base + 64, small}, {base + page, two}};
    CHECK(memory.read_many(requests) == 3);
    CHECK(memory.pages_asked() == 3 + 1 + 1 + 2);
    // A read refused before the kernel is asked counts nothing.
    CHECK_FALSE(memory.read(8, small));
    CHECK(memory.pages_asked() == 7);
}

TEST_CASE("the page index finds every page it holds and no other, across growth") {
    PageIndex index;
    for (std::uint32_t i = 0; i < 3000; ++i) index.insert(base + std::uint64_t(i) * 2 * page, i);
    CHECK(index.size() == 3000);
    for (std::uint32_t i = 0; i < 3000; ++i) {
        CHECK(index.find(base + std::uint64_t(i) * 2 * page) == i);
        CHECK(index.find(base + (std::uint64_t(i) * 2 + 1) * page) == PageIndex::none);
    }
    index.clear();
    CHECK(index.find(base) == PageIndex::none);
    // Used again for a few pages at a time, as most samples use it, then for many.
    for (int round = 0; round < 3; ++round) {
        for (std::uint32_t i = 0; i < 10; ++i) index.insert(base + (std::uint64_t(i) * 7 + round) * page, i);
        CHECK(index.size() == 10);
        for (std::uint32_t i = 0; i < 10; ++i) CHECK(index.find(base + (std::uint64_t(i) * 7 + round) * page) == i);
        index.clear();
        CHECK(index.size() == 0);
        for (std::uint32_t i = 0; i < 3000; ++i) CHECK(index.find(base + std::uint64_t(i) * page) == PageIndex::none);
    }
    for (std::uint32_t i = 0; i < 3000; ++i) index.insert(base + std::uint64_t(i) * page, i);
    CHECK(index.find(base + 2999 * page) == 2999);
    index.clear();
    for (std::uint32_t i = 0; i < 3000; ++i) CHECK(index.find(base + std::uint64_t(i) * page) == PageIndex::none);
}

TEST_CASE("a schedstat line gives the three counts; anything else gives none") {
    auto count = parse_schedstat("123456789 4242 17\n");
    REQUIRE(count);
    CHECK(count->cpu_ns == 123456789);
    CHECK(count->wait_ns == 4242);
    CHECK(count->times_run == 17);
    CHECK(!parse_schedstat(""));
    CHECK(!parse_schedstat("12 34"));
    CHECK(!parse_schedstat("x 1 2"));
}
