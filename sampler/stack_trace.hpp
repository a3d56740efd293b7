#pragma once
// The stack of each Python thread at one instant, as the sampler returns it.
#include <sys/types.h>

#include <concepts>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "sampler/code_cache.hpp"
#include "sampler/error.hpp"

namespace pyprofd::sampler {

struct Frame {
    std::shared_ptr<const CodeInfo> code;
    int line = -1;  // -1 where the instruction has no line

    const std::string& function() const { return code->function; }
    const std::string& filename() const { return code->filename; }
};

// A thread's frames, innermost first, read-only once made. Shared, not copied: a
// parked thread's stack is reused sample after sample (unchanged_stacks.hpp), and
// copying it each time (a vector, and a reference count per frame) was most of what
// a reuse cost. same_as() tells a reuse from a stack read afresh.
class FrameList {
public:
    FrameList() = default;
    explicit FrameList(std::vector<Frame> frames)
        : frames_(frames.empty() ? nullptr : std::make_shared<const std::vector<Frame>>(std::move(frames))) {}

    using const_iterator = std::vector<Frame>::const_iterator;
    using const_reverse_iterator = std::vector<Frame>::const_reverse_iterator;
    const_iterator begin() const { return all().begin(); }
    const_iterator end() const { return all().end(); }
    const_reverse_iterator rbegin() const { return all().rbegin(); }
    const_reverse_iterator rend() const { return all().rend(); }
    std::size_t size() const { return all().size(); }
    bool empty() const { return all().empty(); }
    const Frame& operator[](std::size_t i) const { return all()[i]; }
    const Frame& front() const { return all().front(); }
    const Frame& back() const { return all().back(); }
    // The very same frames (one read, shared), not merely equal ones; every empty
    // list is the same as every other.
    bool same_as(const FrameList& other) const { return frames_ == other.frames_; }

private:
    const std::vector<Frame>& all() const { return frames_ ? *frames_ : no_frames(); }
    static const std::vector<Frame>& no_frames() {
        static const std::vector<Frame> none;
        return none;
    }
    std::shared_ptr<const std::vector<Frame>> frames_;
};

// A thread's name, shared by the samples that name the thread rather than copied
// into each: a sample names every thread of the process, and a name longer than 15
// bytes (most are: "ThreadPoolExecutor-0_3", "Thread-12 (worker)") cost an
// allocation per thread per sample as a std::string.
class ThreadName {
public:
    ThreadName() = default;
    ThreadName(std::string text)  // NOLINT: a name is made from its text
        : text_(text.empty() ? nullptr : std::make_shared<const std::string>(std::move(text))) {}
    ThreadName(const char* text) : ThreadName(std::string(text)) {}  // NOLINT

    const std::string& str() const { return text_ ? *text_ : no_text(); }
    operator std::string_view() const { return str(); }  // NOLINT
    bool empty() const { return !text_; }
    bool starts_with(std::string_view prefix) const { return std::string_view(str()).starts_with(prefix); }
    // The same text, compared only where it is not the very same shared one. (A
    // template, so that a string is compared as text, not made a ThreadName first.)
    template <std::same_as<ThreadName> Other>
    friend bool operator==(const ThreadName& a, const Other& b) {
        return a.same_as(b) || a.str() == b.str();
    }
    friend bool operator==(const ThreadName& a, std::string_view b) { return a.str() == b; }
    // The very same text (one read, shared), not merely an equal one.
    bool same_as(const ThreadName& other) const { return text_ == other.text_; }

private:
    static const std::string& no_text() {
        static const std::string none;
        return none;
    }
    std::shared_ptr<const std::string> text_;
};

enum class ThreadActivity { running, idle, unknown };

struct ThreadStack {
    pid_t native_id = 0;          // the OS thread id (the host's), 0 where it could not be found
    pid_t namespace_tid = 0;      // its id in the process's own PID namespace, where that differs; else 0
    std::uint64_t ident = 0;      // threading.get_ident(): the pthread_t
    ThreadName name;              // threading's name, empty where there is none
    std::optional<bool> holds_gil;  // nullopt where the version does not tell
    ThreadActivity activity = ThreadActivity::unknown;
    FrameList frames;             // innermost first
    std::optional<Error> error;   // set when this thread's stack could not be read
};

// Blocking mode: how many threads a sample stopped.
struct PauseReport {
    std::size_t threads_stopped = 0;
    // Every thread was stopped, because stopping the GILs' holders alone could not be
    // proven enough (sampler/pause_proof.hpp); else only the holders were.
    bool all_threads = true;
};

struct StackSample {
    std::vector<ThreadStack> threads;
    std::optional<PauseReport> pause;  // in blocking mode
};

const char* to_string(ThreadActivity activity);

}  // namespace pyprofd::sampler
