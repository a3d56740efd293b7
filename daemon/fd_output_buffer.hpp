#pragma once
// A std::streambuf that writes to a file descriptor through a 64 KiB buffer: a
// large profile streams to its file (or stdout) as it is rendered, instead of
// being held whole in memory first, and a failed write keeps its errno to report.
#include <unistd.h>

#include <array>
#include <cerrno>
#include <functional>
#include <ostream>
#include <streambuf>

namespace pyprofd::daemon {

class FdOutputBuffer : public std::streambuf {
public:
    explicit FdOutputBuffer(int fd) : fd_(fd) { setp(buffer_.data(), buffer_.data() + buffer_.size()); }
    FdOutputBuffer(const FdOutputBuffer&) = delete;
    FdOutputBuffer& operator=(const FdOutputBuffer&) = delete;
    ~FdOutputBuffer() override { flush(); }

    // Writes what is buffered; false (and error() set) when the descriptor refused it.
    bool flush() { return sync() == 0; }
    int error() const { return error_; }  // errno of the first failed write, else 0

protected:
    int_type overflow(int_type c) override {
        if (sync() != 0) return traits_type::eof();
        if (!traits_type::eq_int_type(c, traits_type::eof())) {
            *pptr() = traits_type::to_char_type(c);
            pbump(1);
        }
        return traits_type::not_eof(c);
    }

    std::streamsize xsputn(const char* s, std::streamsize n) override {
        // Large pieces go straight through; small ones fill the buffer.
        if (n > static_cast<std::streamsize>(buffer_.size()) / 2) {
            if (sync() != 0 || !write_all(s, static_cast<std::size_t>(n))) return 0;
            return n;
        }
        return std::streambuf::xsputn(s, n);
    }

    int sync() override {
        auto pending = static_cast<std::size_t>(pptr() - pbase());
        bool ok = error_ == 0 && write_all(pbase(), pending);
        setp(buffer_.data(), buffer_.data() + buffer_.size());
        return ok ? 0 : -1;
    }

private:
    bool write_all(const char* data, std::size_t size) {
        if (error_ != 0) return false;
        while (size > 0) {
            auto n = ::write(fd_, data, size);
            if (n < 0) {
                if (errno == EINTR) continue;
                error_ = errno;
                return false;
            }
            data += n;
            size -= static_cast<std::size_t>(n);
        }
        return true;
    }

    int fd_;
    int error_ = 0;
    std::array<char, 65536> buffer_;
};

// Streams what write() writes to fd (which stays open): 0, or the errno of the
// write that failed.
inline int stream_to_descriptor(int fd, const std::function<void(std::ostream&)>& write) {
    FdOutputBuffer buffer(fd);
    std::ostream out(&buffer);
    write(out);
    out.flush();
    if (!buffer.flush() || !out) return buffer.error() ? buffer.error() : EIO;
    return 0;
}

}  // namespace pyprofd::daemon
