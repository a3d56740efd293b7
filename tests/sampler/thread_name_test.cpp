// ThreadName: a thread's name whose text the samples share.
#include <doctest/doctest.h>

#include <string>

#include "sampler/stack_trace.hpp"

using pyprofd::sampler::ThreadName;

TEST_CASE("a thread name compares by its text, shared or not") {
    ThreadName none;
    CHECK(none.empty());
    CHECK(none.str().empty());
    CHECK(none == "");
    CHECK(ThreadName("") == none);  // no text is no name

    ThreadName a("ThreadPoolExecutor-0_3");
    ThreadName b(std::string("ThreadPoolExecutor-0_3"));
    CHECK_FALSE(a.empty());
    CHECK(a == b);  // equal texts, each its own
    CHECK_FALSE(a.same_as(b));
    CHECK(a == std::string("ThreadPoolExecutor-0_3"));
    CHECK_FALSE(a == "ThreadPoolExecutor-0_4");
    CHECK(a.starts_with("ThreadPool"));
    CHECK(std::string_view(a) == "ThreadPoolExecutor-0_3");

    ThreadName copy = a;  // a sample's copy: the same text, not a new one
    CHECK(copy.same_as(a));
    CHECK(copy == a);
    CHECK_FALSE(copy == ThreadName("worker-1"));
}
