#pragma once
// What a launched program (and all it starts) writes to stdout and stderr, as it
// came, interleaved: the daemon keeps the last of it for the session (a bounded
// tail) instead of letting it into its own log. A thread of its own reads the
// pipe, so the program never blocks on a full pipe and sampling never waits for it.
#include <chrono>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

namespace pyprofd::daemon {

class OutputTail {
public:
    static constexpr std::size_t default_capacity = 64 * 1024;
    explicit OutputTail(std::size_t capacity = default_capacity) : capacity_(capacity) {}

    void append(std::string_view bytes);
    // The last `capacity` bytes, and how many came in all.
    struct Kept {
        std::string text;
        std::uint64_t total = 0;
    };
    Kept kept() const;
    // What is kept, as served: after a line that says how much is not, when some is not.
    std::string text() const;
    // The last whole lines that fit in max_bytes (or the end of a longer last line),
    // for quoting in a message.
    std::string last_lines(std::size_t max_bytes) const;

private:
    const std::size_t capacity_;
    mutable std::mutex mutex_;
    std::string bytes_;  // up to twice the capacity, trimmed to it now and then
    std::uint64_t total_ = 0;
};

// Reads a pipe into a tail until every writer has closed it, or until finish().
class OutputReader {
public:
    // Takes no ownership of fd, which must outlive the reader.
    OutputReader(int fd, std::shared_ptr<OutputTail> tail);
    OutputReader(const OutputReader&) = delete;
    OutputReader& operator=(const OutputReader&) = delete;
    ~OutputReader();  // finish(0)

    // Waits up to limit for the end of the output (each writer gone: after the
    // program and all it started have ended, at once), reads what is left, and stops.
    void finish(std::chrono::milliseconds limit);

private:
    void run();

    int fd_;
    int wake_fd_ = -1;  // an eventfd: stop reading
    std::shared_ptr<OutputTail> tail_;
    std::mutex mutex_;
    std::condition_variable ended_;
    bool at_end_ = false;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

}  // namespace pyprofd::daemon
