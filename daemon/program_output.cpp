#include "daemon/program_output.hpp"

#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <fmt/format.h>

namespace pyprofd::daemon {

void OutputTail::append(std::string_view bytes) {
    std::lock_guard lock(mutex_);
    total_ += bytes.size();
    if (bytes.size() >= capacity_) {
        bytes_.assign(bytes.substr(bytes.size() - capacity_));
        return;
    }
    bytes_.append(bytes);
    if (bytes_.size() >= 2 * capacity_) bytes_.erase(0, bytes_.size() - capacity_);
}

OutputTail::Kept OutputTail::kept() const {
    std::lock_guard lock(mutex_);
    auto from = bytes_.size() > capacity_ ? bytes_.size() - capacity_ : 0;
    return Kept{bytes_.substr(from), total_};
}

std::string OutputTail::text() const {
    auto kept_now = kept();
    if (kept_now.total == kept_now.text.size()) return std::move(kept_now.text);
    return fmt::format("[pyprofd: the first {} bytes of the output are not kept, only the last {}]\n",
                       kept_now.total - kept_now.text.size(), kept_now.text.size()) +
           kept_now.text;
}

std::string OutputTail::last_lines(std::size_t max_bytes) const {
    auto text = kept().text;
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    if (text.size() <= max_bytes) return text;
    auto from = text.size() - max_bytes;
    auto line_start = text.find('\n', from);
    return line_start != std::string::npos && line_start + 1 < text.size() ? text.substr(line_start + 1) : text.substr(from);
}

OutputReader::OutputReader(int fd, std::shared_ptr<OutputTail> tail) : fd_(fd), tail_(std::move(tail)) {
    wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    thread_ = std::thread([this] { run(); });
}

OutputReader::~OutputReader() {
    finish(std::chrono::milliseconds(0));
    if (wake_fd_ >= 0) ::close(wake_fd_);
}

void OutputReader::run() {
    char buffer[16384];
    for (;;) {
        pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_fd_, POLLIN, 0}};
        int ready = ::poll(fds, wake_fd_ >= 0 ? 2 : 1, wake_fd_ >= 0 ? -1 : 100);
        if (ready < 0 && errno != EINTR) break;
        bool stop = stopping_ || (ready > 0 && wake_fd_ >= 0 && fds[1].revents != 0);
        // What is there now, also when told to stop: the pipe is non-blocking.
        bool end = false;
        for (;;) {
            ssize_t n = ::read(fd_, buffer, sizeof buffer);
            if (n > 0) {
                tail_->append(std::string_view(buffer, static_cast<std::size_t>(n)));
                continue;
            }
            end = n == 0 || (errno != EAGAIN && errno != EINTR);
            break;
        }
        if (end || stop) break;
    }
    std::lock_guard lock(mutex_);
    at_end_ = true;
    ended_.notify_all();
}

void OutputReader::finish(std::chrono::milliseconds limit) {
    if (!thread_.joinable()) return;
    {
        std::unique_lock lock(mutex_);
        ended_.wait_for(lock, limit, [&] { return at_end_; });
    }
    stopping_ = true;
    if (wake_fd_ >= 0) {
        std::uint64_t one = 1;
        [[maybe_unused]] auto n = ::write(wake_fd_, &one, sizeof one);
    }
    thread_.join();
}

}  // namespace pyprofd::daemon
