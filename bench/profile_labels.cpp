// What a new frame label costs a profile as labels accumulate: a thread-per-request
// server gives every request's thread a root label of its own, so an hour's session
// meets hundreds of thousands. The cost per new label must stay flat (it grew with
// the count once, when each new label moved all the others). Prints figures;
// asserts nothing.
//
//   bench_profile_labels
#include <chrono>
#include <cstdio>
#include <string>

#include "render/profile.hpp"

int main() {
    pyprofd::render::Profile profile;  // no limits
    std::printf("new labels interned, per block of 40,000 (thread-like root labels)\n");
    std::printf("%12s %16s\n", "labels held", "us per new label");
    int next = 0;
    for (int block = 0; block < 5; ++block) {
        auto started = std::chrono::steady_clock::now();
        for (int i = 0; i < 40'000; ++i, ++next)
            profile.intern("thread " + std::to_string(100'000 + next) + " Thread-" + std::to_string(next) +
                           " (process_request_thread)");
        auto us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - started).count();
        std::printf("%12d %16.2f\n", next, us / 40'000);
    }
    return 0;
}
