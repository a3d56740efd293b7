// What a sample's reads cost: process_vm_readv per system call, per request and per
// page, and a pread of each /proc file a sample reads of a thread. A sample's reads
// are planned around these (one batched read, pages read in part, a thread's state
// from its wait channel), so the figures that decide the plan are measured here
// rather than assumed.
//
// A child process holding 1,024 touched pages is read in several shapes: one small
// request; many small requests on one page and on many pages; whole pages; a range of
// many pages in one request. Then the stat line, schedstat and wait channel of a
// sleeping child and of a spinning one, each from a file kept open. Each is timed over
// 20,000 calls, best of three. Prints microseconds; asserts nothing.
#include <fcntl.h>
#include <signal.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

constexpr std::size_t page = 4096;
constexpr std::size_t pages_held = 1024;

struct Shape {
    const char* name;
    std::size_t requests;
    std::size_t bytes;   // per request
    std::size_t stride;  // between requests' starts
    std::size_t offset;  // of the first request in its page
};

template <class Call>
double best_microseconds(Call call) {
    constexpr int calls = 20000;
    double best = 1e18;
    for (int round = 0; round < 3; ++round) {
        const auto start = std::chrono::steady_clock::now();
        for (int c = 0; c < calls; ++c)
            if (!call()) return -1;
        const auto took = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - start);
        best = std::min(best, took.count() / calls);
    }
    return best;
}

double microseconds_per_call(pid_t child, const char* memory, std::vector<char>& into, const Shape& shape) {
    std::vector<iovec> local(shape.requests), remote(shape.requests);
    for (std::size_t i = 0; i < shape.requests; ++i) {
        local[i] = {into.data() + i * shape.bytes, shape.bytes};
        remote[i] = {const_cast<char*>(memory) + shape.offset + i * shape.stride, shape.bytes};
    }
    const auto expected = static_cast<ssize_t>(shape.requests * shape.bytes);
    return best_microseconds([&] {
        if (::process_vm_readv(child, local.data(), local.size(), remote.data(), remote.size(), 0) == expected)
            return true;
        std::perror("process_vm_readv");
        return false;
    });
}

std::size_t pages_asked(const Shape& shape) {
    std::size_t pages = 0;
    for (std::size_t i = 0; i < shape.requests; ++i) {
        const std::size_t first = shape.offset + i * shape.stride;
        pages += (first + shape.bytes - 1) / page - first / page + 1;
    }
    return pages;
}

void time_proc_files() {
    const pid_t sleeping = ::fork();
    if (sleeping == 0) {
        ::pause();
        ::_exit(0);
    }
    const pid_t spinning = ::fork();
    if (spinning == 0)
        for (;;) asm volatile("");
    ::usleep(100000);
    std::printf("\n/proc/PID/task/TID files, a pread from a file kept open\n");
    std::printf("%-10s %-10s %12s  %s\n", "thread", "file", "us a read", "what it said");
    for (pid_t pid : {sleeping, spinning})
        for (const char* file : {"stat", "schedstat", "wchan"}) {
            const auto path = "/proc/" + std::to_string(pid) + "/task/" + std::to_string(pid) + "/" + file;
            const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) continue;
            char text[1024];
            const double us = best_microseconds([&] { return ::pread(fd, text, sizeof text, 0) > 0; });
            const auto n = ::pread(fd, text, sizeof text, 0);
            std::string said(text, n > 0 ? static_cast<std::size_t>(n) : 0);
            said = said.substr(0, std::min<std::size_t>(said.find('\n'), 40));
            std::printf("%-10s %-10s %12.2f  %s\n", pid == sleeping ? "sleeping" : "spinning", file, us, said.c_str());
            ::close(fd);
        }
    ::kill(sleeping, SIGKILL);
    ::kill(spinning, SIGKILL);
    ::waitpid(sleeping, nullptr, 0);
    ::waitpid(spinning, nullptr, 0);
}

}  // namespace

int main() {
    // The child gets a copy of these pages at fork; writing them first makes them its
    // own (copy-on-write would otherwise leave them shared, and mapped all the same).
    auto* memory = static_cast<char*>(std::aligned_alloc(page, pages_held * page));
    for (std::size_t i = 0; i < pages_held * page; ++i) memory[i] = static_cast<char>(i);
    const pid_t child = ::fork();
    if (child < 0) return 1;
    if (child == 0) {
        std::memset(memory, 1, pages_held * page);
        ::pause();
        ::_exit(0);
    }
    ::usleep(100000);
    std::vector<char> into(pages_held * page);
    const Shape shapes[] = {
        {"1 request of 48 bytes", 1, 48, 0, 128},
        {"2 requests of 48 bytes, 2 pages", 2, 48, 2 * page, 128},
        {"8 requests of 48 bytes, 8 pages", 8, 48, 2 * page, 128},
        {"40 requests of 48 bytes, 40 pages", 40, 48, 2 * page, 128},
        {"40 requests of 48 bytes, 1 page", 40, 48, 64, 128},
        {"40 requests of 512 bytes, 40 pages", 40, 512, 2 * page, 128},
        {"40 whole pages, 40 requests", 40, page, 2 * page, 0},
        {"40 pages in 1 request", 1, 40 * page, 0, 0},
        {"200 requests of 48 bytes, 200 pages", 200, 48, 2 * page, 128},
    };
    std::printf("process_vm_readv on a child of %zu pages, best of 3 x 20000 calls\n", pages_held);
    std::printf("%-40s %12s %10s %14s\n", "shape", "us a call", "pages", "us a page");
    for (const auto& shape : shapes) {
        const double us = microseconds_per_call(child, memory, into, shape);
        const auto pages = pages_asked(shape);
        std::printf("%-40s %12.2f %10zu %14.3f\n", shape.name, us, pages, us / static_cast<double>(pages));
    }
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    std::free(memory);
    time_proc_files();
    return 0;
}
