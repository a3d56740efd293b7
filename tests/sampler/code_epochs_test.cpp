// Epochs in which no code object was freed: what lets the code cache skip its checks
// on 3.14+. An epoch continues only while every interpreter's count reads the same.
#include <doctest/doctest.h>

#include <cstring>
#include <vector>

#include "sampler/code_epochs.hpp"

using namespace pyprofd::sampler;

namespace {

// Fills what requests() asks for from `counts`, by interpreter, as the first read would.
void read_counts(std::span<const RemoteMemory::ReadRequest> requests, const std::vector<RemoteAddress>& interpreters,
                 const std::vector<std::uint64_t>& counts, Offset field) {
    REQUIRE(requests.size() == interpreters.size());
    for (std::size_t i = 0; i < requests.size(); ++i) {
        CHECK(requests[i].address == interpreters[i] + static_cast<RemoteAddress>(field));
        REQUIRE(requests[i].out.size() == sizeof(std::uint64_t));
        std::memcpy(requests[i].out.data(), &counts[i], sizeof(std::uint64_t));
    }
}

}  // namespace

TEST_CASE("an epoch lasts while every interpreter's count of code objects freed stays the same") {
    const Offset field = 800;
    CodeEpochs epochs(field);
    std::vector<RemoteAddress> interpreters = {0x5000, 0x9000};

    // Nothing known yet (the first sample has walked no interpreter): no epoch.
    CHECK(epochs.requests({}).empty());
    CHECK(!epochs.epoch_after_read(true));
    CHECK(!epochs.holding());

    read_counts(epochs.requests(interpreters), interpreters, {3, 0}, field);
    auto first = epochs.epoch_after_read(true);
    REQUIRE(first);
    CHECK(!epochs.holding());  // a new epoch: it did not continue one
    CHECK(epochs.covers(interpreters));
    CHECK(!epochs.covers(std::vector<RemoteAddress>{0x5000}));

    read_counts(epochs.requests(interpreters), interpreters, {3, 0}, field);
    CHECK(epochs.epoch_after_read(true) == first);
    CHECK(epochs.holding());

    SUBCASE("a count that moves starts a new epoch, which then lasts") {
        read_counts(epochs.requests(interpreters), interpreters, {3, 1}, field);
        auto second = epochs.epoch_after_read(true);
        REQUIRE(second);
        CHECK(*second != *first);
        CHECK(!epochs.holding());
        read_counts(epochs.requests(interpreters), interpreters, {3, 1}, field);
        CHECK(epochs.epoch_after_read(true) == second);
    }
    SUBCASE("an interpreter gone starts a new epoch, even if the others' counts stay") {
        std::vector<RemoteAddress> one = {0x5000};
        read_counts(epochs.requests(one), one, {3}, field);
        auto second = epochs.epoch_after_read(true);
        REQUIRE(second);
        CHECK(*second != *first);
    }
    SUBCASE("a count that could not be read gives no epoch, and the next reading starts a new one") {
        (void)epochs.requests(interpreters);
        CHECK(!epochs.epoch_after_read(false));
        CHECK(!epochs.holding());
        read_counts(epochs.requests(interpreters), interpreters, {3, 0}, field);
        auto again = epochs.epoch_after_read(true);
        REQUIRE(again);
        CHECK(*again != *first);  // the same counts, but not read in between: no proof carried over
    }
}

TEST_CASE("without the interpreter's count (3.13 and older) there are no epochs") {
    CodeEpochs epochs(absent);
    std::vector<RemoteAddress> interpreters = {0x5000};
    CHECK(epochs.requests(interpreters).empty());
    CHECK(!epochs.epoch_after_read(true));
    CHECK(!epochs.holding());
}
