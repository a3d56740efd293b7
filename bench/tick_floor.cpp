// The kernel's part of a sample, done alone: what a 10 kHz sample of a target costs
// in system calls and wake-ups before the sampler does any work of its own. Run
// against the seed's Flask server under the same load as a session (seed_10khz.py
// runs it in each round), it is the floor under the daemon's CPU per sample on this
// machine: a budget no sampler of this design can go below here.
//
// Each tick, in the sampler's real-time class (SamplingPriority, as a session's
// thread), at RATE_HZ on an absolute schedule:
//   tick:   the wake-up alone (clock_nanosleep to the next deadline);
//   sample: the wake-up, one batched process_vm_readv as a sample's first read (RANGES
//           reads of 136 bytes, a code object's header, and PAGES of 1 KiB, pages'
//           parts, across the target's heap), one more of a whole page (a page the
//           snapshot lacked) and a pread of the target's main thread's stat and of
//           its schedstat (a running thread's state, a parked one's run count).
// The defaults are what pyprofd's sample of the seed's server makes on average
// (strace of a session at 1 kHz: 15.5 ranges per first read, 9.4 of them code
// headers; 2 reads of memory and 2.1 of /proc per sample at 10 kHz).
// Prints CPU per tick (the thread's CPU clock: exact, where getrusage's split into
// user and system is sampled by the kernel's tick and meaningless at this grain);
// asserts nothing.
//
//   bench_tick_floor PID [SECONDS=10] [RATE_HZ=10000] [RANGES=10] [PAGES=6]
#include <fcntl.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "sampler/proc_maps.hpp"
#include "sampler/sampling_priority.hpp"

namespace {

double thread_cpu_us() {
    timespec t{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return static_cast<double>(t.tv_sec) * 1e6 + static_cast<double>(t.tv_nsec) / 1e3;
}

// The target's heap: [heap], else the first anonymous writable mapping of at least 1 MiB.
bool target_heap(pid_t pid, std::uint64_t& start, std::uint64_t& end) {
    auto maps = pyprofd::sampler::read_proc_maps(pid);
    if (!maps) return false;
    const pyprofd::sampler::MemoryMapping* found = nullptr;
    for (const auto& m : *maps) {
        if (!m.readable() || !m.writable()) continue;
        if (m.path == "[heap]") {
            found = &m;
            break;
        }
        if (!found && m.path.empty() && m.end - m.start >= (1u << 20)) found = &m;
    }
    if (!found) return false;
    start = found->start;
    end = found->end;
    return true;
}

void sleep_until(timespec& next, long period_ns) {
    next.tv_nsec += period_ns;
    while (next.tv_nsec >= 1000000000L) {
        next.tv_nsec -= 1000000000L;
        ++next.tv_sec;
    }
    clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, nullptr);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: bench_tick_floor PID [SECONDS] [RATE_HZ] [RANGES] [PAGES]\n");
        return 2;
    }
    const pid_t pid = std::atoi(argv[1]);
    const double seconds = argc > 2 ? std::atof(argv[2]) : 10;
    const double rate = argc > 3 ? std::atof(argv[3]) : 10000;
    const int ranges = argc > 4 ? std::atoi(argv[4]) : 10;
    const int pages = argc > 5 ? std::atoi(argv[5]) : 6;
    std::uint64_t heap = 0, heap_end = 0;
    if (!target_heap(pid, heap, heap_end)) {
        std::fprintf(stderr, "no heap found in /proc/%d/maps\n", pid);
        return 1;
    }
    const std::uint64_t heap_pages = (heap_end - heap) / 4096;

    // Spread over the heap, as code objects and frames are.
    std::vector<iovec> local, remote;
    std::vector<char> buffer(static_cast<std::size_t>(ranges) * 136 + static_cast<std::size_t>(pages) * 1024);
    char* out = buffer.data();
    for (int i = 0; i < ranges + pages; ++i) {
        const std::size_t size = i < ranges ? 136 : 1024;
        const std::uint64_t page = heap + (static_cast<std::uint64_t>(i) * 7919 % heap_pages) * 4096;
        const std::uint64_t at = page + (static_cast<std::uint64_t>(i) * 523 % (4096 - size)) / 8 * 8;
        local.push_back({out, size});
        remote.push_back({reinterpret_cast<void*>(at), size});
        out += size;
    }
    std::vector<char> whole(4096);
    iovec whole_local{whole.data(), whole.size()};
    iovec whole_remote{reinterpret_cast<void*>(heap + (heap_pages / 2) * 4096), whole.size()};
    const auto task = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/";
    const int stat_fd = ::open((task + "stat").c_str(), O_RDONLY | O_CLOEXEC);
    const int schedstat_fd = ::open((task + "schedstat").c_str(), O_RDONLY | O_CLOEXEC);
    if (stat_fd < 0 || schedstat_fd < 0) {
        std::fprintf(stderr, "cannot open %sstat or schedstat\n", task.c_str());
        return 1;
    }

    pyprofd::sampler::SamplingPriority priority(true);
    const long period_ns = static_cast<long>(1e9 / rate);
    const long ticks = static_cast<long>(seconds * rate / 2);
    std::printf("kernel floor, %g Hz against PID %d, %ld ticks each (%s):\n", rate, pid, ticks,
                pyprofd::sampler::to_string(priority.report().state));
    for (int phase = 0; phase < 2; ++phase) {
        long failed = 0;
        timespec next{};
        clock_gettime(CLOCK_MONOTONIC, &next);
        const double before = thread_cpu_us();
        for (long t = 0; t < ticks; ++t) {
            sleep_until(next, period_ns);
            if (phase == 1) {
                char line[512];
                if (::process_vm_readv(pid, local.data(), local.size(), remote.data(), remote.size(), 0) < 0) ++failed;
                if (::process_vm_readv(pid, &whole_local, 1, &whole_remote, 1, 0) < 0) ++failed;
                if (::pread(stat_fd, line, sizeof line, 0) <= 0) ++failed;
                if (::pread(schedstat_fd, line, sizeof line, 0) <= 0) ++failed;
            }
            priority.after_tick(std::chrono::steady_clock::now());
        }
        const double per_tick = (thread_cpu_us() - before) / static_cast<double>(ticks);
        std::printf("  %-8s cpu us/tick %6.1f%s\n", phase == 0 ? "tick" : "sample", per_tick,
                    failed ? " (some reads failed)" : "");
        if (phase == 1)
            std::printf("  (sample: 2 reads of memory, %d ranges of 136 bytes, %d of 1 KiB and a page; 2 reads of /proc)\n",
                        ranges, pages);
    }
    ::close(stat_fd);
    ::close(schedstat_fd);
    return 0;
}
