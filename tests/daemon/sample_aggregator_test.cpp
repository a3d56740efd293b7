// The aggregator's thread roots: one label per thread and name, kept right as threads
// are renamed and their ids reused, and the same label for the same thread each time.
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <string>

#include "daemon/sample_aggregator.hpp"
#include "render/profile.hpp"

using namespace pyprofd;

namespace {

sampler::ThreadStack thread(pid_t tid, std::string name) {
    auto code = std::make_shared<sampler::CodeInfo>();
    code->function = "work";
    code->filename = "/srv/app/job.py";
    sampler::ThreadStack stack;
    stack.native_id = tid;
    stack.name = std::move(name);
    stack.activity = sampler::ThreadActivity::running;
    stack.frames = sampler::FrameList({sampler::Frame{code, 10}});
    return stack;
}

// Samples under each root label (the thread's frame).
std::map<std::string, std::uint64_t> by_root(const render::Profile& profile) {
    std::map<std::string, std::uint64_t> out;
    for (auto child : profile.children(render::Profile::root))
        out[profile.label(profile.node(child).frame)] += profile.node(child).total;
    return out;
}

}  // namespace

TEST_CASE("a thread's root label follows its name: renamed, renamed back, and another thread of the same id") {
    render::Profile profile;
    daemon::SampleAggregator aggregator(profile, {.per_thread = true});
    auto add = [&](pid_t tid, const std::string& name) {
        sampler::StackSample sample;
        sample.threads.push_back(thread(tid, name));
        CHECK(aggregator.add(sample) == 1);
    };
    add(101, "worker-1");
    add(101, "worker-1");
    add(101, "worker-1 (busy)");  // renamed
    add(101, "worker-1");         // and back: the first label again
    add(102, "");
    add(102, "Thread-7");  // named once threading knows it
    for (int i = 0; i < 2; ++i) {  // two threads whose OS threads were not found
        add(0, "pool-a");
        add(0, "pool-b");
    }
    const auto roots = by_root(profile);
    CHECK(roots.size() == 6);
    CHECK(roots.at("thread \"pool-a\" (0)") == 2);
    CHECK(roots.at("thread \"pool-b\" (0)") == 2);
    CHECK(roots.at("thread \"worker-1\" (101)") == 3);
    CHECK(roots.at("thread \"worker-1 (busy)\" (101)") == 1);
    CHECK(roots.at("thread (102)") == 1);
    CHECK(roots.at("thread \"Thread-7\" (102)") == 1);
    CHECK(aggregator.threads_seen().at(101).samples == 4);
    CHECK(aggregator.threads_seen().at(101).name == "worker-1");
}
