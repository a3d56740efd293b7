#pragma once
// Responses counted by status, for /metrics: every response the server sends,
// also those that never reached a handler. Any io thread counts; /metrics reads.
#include <cstdint>
#include <map>
#include <mutex>

namespace pyprofd::api {

class ResponseCounts {
public:
    void count(unsigned status) {
        std::lock_guard lock(mutex_);
        ++by_status_[status];
    }
    std::map<unsigned, std::uint64_t> by_status() const {
        std::lock_guard lock(mutex_);
        return by_status_;
    }

private:
    mutable std::mutex mutex_;
    std::map<unsigned, std::uint64_t> by_status_;
};

}  // namespace pyprofd::api
